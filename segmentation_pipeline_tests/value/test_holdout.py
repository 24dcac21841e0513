from datetime import date

import numpy as np
import pytest

from segmentation_pipeline.core.value import holdout
from segmentation_pipeline.core.value.model import check_holdout
from segmentation_pipeline.core.value.settings import ValueSettings
from segmentation_pipeline_tests.value.builders import EVE, order_days

CUTOFF, END = date(2026, 4, 3), date(2026, 9, 30)


def hand_case(threshold: float) -> holdout.HoldoutCheck:
    # three customers with 0, 1 and 9 calibration repeat purchases (9 falls in "7+")
    return holdout.compare(
        calibration_repeats=np.array([0, 1, 9]),
        predicted=np.array([0.5, 1.5, 2.0]),
        actual=np.array([1, 1, 3]),
        cutoff=CUTOFF,
        end=END,
        frequency_cap=7,
        error_threshold=threshold,
    )


def test_holdout_figures_of_a_hand_checked_case():
    check = hand_case(0.2)
    assert (check.customers, check.predicted_purchases, check.actual_purchases) == (3, 4.0, 5)
    assert check.relative_error == pytest.approx(-0.2)
    assert check.mean_absolute_error == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert check.by_frequency == [
        {"repeat_purchases": "0", "customers": 1, "predicted_mean": 0.5, "actual_mean": 1.0},
        {"repeat_purchases": "1", "customers": 1, "predicted_mean": 1.5, "actual_mean": 1.0},
        {"repeat_purchases": "7+", "customers": 1, "predicted_mean": 2.0, "actual_mean": 3.0},
    ]
    assert not check.exceeds_threshold  # 20% off is at the threshold, not beyond it
    assert hand_case(0.19).exceeds_threshold
    card = check.card()
    assert (card["holdout_days"], card["relative_error"], card["exceeds_threshold"]) == (
        180,
        check.relative_error,
        False,
    )
    assert "predicted 4 purchase days, actual 5 (-20.0%, within the 20% threshold)" in check.summary()


def test_predicting_purchases_where_none_were_made_exceeds_any_threshold():
    check = holdout.compare(np.array([0, 2]), np.array([0.3, 0.1]), np.array([0, 0]), CUTOFF, END, 7, 0.2)
    assert check.relative_error is None and check.exceeds_threshold


def test_a_prediction_that_is_not_a_number_exceeds_any_threshold():
    check = holdout.compare(np.array([0, 2]), np.array([np.nan, 0.1]), np.array([1, 0]), CUTOFF, END, 7, 0.2)
    assert check.exceeds_threshold


def test_a_model_of_the_true_process_predicts_its_holdout_period():
    # 60,000 simulated customers (about 45,000 bought by the cut-off): the aggregate within 3%, and each calibration
    # frequency group (over a thousand customers each) within 10%
    check = check_holdout(order_days(60_000), EVE, ValueSettings())
    assert isinstance(check, holdout.HoldoutCheck)
    assert (check.cutoff, check.end) == (CUTOFF, END)
    assert abs(check.relative_error) < 0.03 and not check.exceeds_threshold
    assert [group["repeat_purchases"] for group in check.by_frequency] == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    for group in check.by_frequency:
        assert group["predicted_mean"] == pytest.approx(group["actual_mean"], rel=0.10), group


def test_too_little_calibration_history_skips_the_check_and_says_why():
    # a 725-day holdout leaves only the customers who bought in the first 5 of the 730 days
    check = check_holdout(order_days(), EVE, ValueSettings(holdout_days=725))
    assert isinstance(check, str)
    assert check.startswith("no model on the history up to 2024-10-05: too little data: ")
