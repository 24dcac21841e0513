import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.tiers import rank_tiers
from segmentation_pipeline.core.value import bgnbd, fitting, gamma_gamma, labels
from segmentation_pipeline.core.value.fitting import maximise
from segmentation_pipeline.core.value.model import SCORE_DTYPES, NoValueModel, ValueModel, fit_value_model
from segmentation_pipeline.core.value.settings import ValueSettings
from segmentation_pipeline.core.value.summaries import AGE, RECENCY, REPEATS, SPEND
from segmentation_pipeline_tests.value.builders import EVE, features, order_days

SNAPSHOT = date(2026, 10, 31)


@pytest.fixture(scope="module")
def model() -> ValueModel:
    fitted = fit_value_model(features(), order_days(), EVE)
    assert isinstance(fitted, ValueModel), fitted
    return fitted


@pytest.fixture(scope="module")
def scores(model) -> pd.DataFrame:
    return model.score(features(), SNAPSHOT)


def test_card_holds_the_fit_and_its_holdout_check_as_json(model):
    card = json.loads(json.dumps(model.card(), allow_nan=False))
    assert card["fitted"] and card["fitted_on"] == "2026-09-30" and card["time_unit"] == "day"
    assert card["customers"] == 20_000 and 0 < card["repeat_buyers"] < 20_000
    assert set(card["bgnbd"]["params"]) == {"r", "alpha", "a", "b"} and card["bgnbd"]["converged"]
    assert set(card["gamma_gamma"]["params"]) == {"p", "q", "v"} and card["gamma_gamma"]["converged"]
    assert card["bgnbd"]["log_likelihood"] < 0
    assert card["holdout"]["cutoff"] == "2026-04-03" and "exceeds_threshold" in card["holdout"]
    assert card["settings"]["min_buyers"] == 500


def test_scores_keep_the_input_rows_and_give_non_buyers_nulls(scores):
    assert scores["customer_id"].tolist() == features()["customer_id"].tolist()
    assert scores.dtypes.astype(str).to_dict() == {"customer_id": "str", **SCORE_DTYPES}
    never_bought = scores["customer_id"].str.startswith("N")
    assert never_bought.sum() == 1_000
    assert scores[never_bought].drop(columns="customer_id").isna().all().all()
    buyers = scores[~never_bought]
    assert buyers.drop(columns=["customer_id", "expected_next_order_date"]).notna().all().all()
    assert ((buyers["p_alive"] > 0) & (buyers["p_alive"] <= 1)).all()
    assert (buyers["expected_orders_365d"] > buyers["expected_orders_90d"]).all()


def test_scores_follow_the_bgnbd_and_gamma_gamma_formulas(model, scores):
    frame = features()
    bought = frame[AGE].notna()
    x, t_x, T, m = (frame.loc[bought, column].to_numpy() for column in (REPEATS, RECENCY, AGE, SPEND))
    buyers = scores[bought.to_numpy()]
    np.testing.assert_allclose(buyers["p_alive"], bgnbd.p_alive(model.purchases, x, t_x, T), rtol=1e-12)
    np.testing.assert_allclose(
        buyers["expected_orders_90d"], bgnbd.expected_purchases(model.purchases, 90, x, t_x, T), rtol=1e-12
    )
    # CLV: 30-day steps up to 360 days, then 5 more, each discounted from its end at 10% a year
    ends = [*range(30, 361, 30), 365]
    cumulative = [np.zeros(len(x))] + [bgnbd.expected_purchases(model.purchases, end, x, t_x, T) for end in ends]
    discounted = sum((cumulative[k + 1] - cumulative[k]) / 1.1 ** (end / 365) for k, end in enumerate(ends))
    spend = gamma_gamma.expected_spend(model.spend, x, m)
    np.testing.assert_allclose(buyers["predicted_clv"], discounted * spend, rtol=1e-10)


def test_expected_next_order_date_is_the_snapshot_plus_the_expected_wait(model, scores):
    frame = features()
    r, alpha = model.purchases.r, model.purchases.alpha
    assert r < 1  # so one-time buyers' wait has no finite mean
    for row in frame.index[:300]:
        x, T = frame.at[row, REPEATS], frame.at[row, AGE]
        date_given = scores.at[row, "expected_next_order_date"]
        if pd.isna(x) or x == 0 or scores.at[row, "p_alive"] < 0.5:
            assert pd.isna(date_given)
        else:
            wait = (alpha + T) / (r + x - 1)
            assert date_given == pd.Timestamp(SNAPSHOT) + pd.Timedelta(days=int(np.ceil(wait)))
    assert scores["expected_next_order_date"].notna().sum() > 1_000


def test_churn_risk_and_value_tiers_of_the_buyers(scores):
    buyers = scores.dropna(subset=["p_alive"])
    expected_risk = np.where(buyers["p_alive"] < 0.3, "high", np.where(buyers["p_alive"] < 0.7, "medium", "low"))
    assert (buyers["churn_risk"].to_numpy() == expected_risk).all()
    shares = buyers["predicted_value_tier"].value_counts(normalize=True)
    assert shares.to_dict() == pytest.approx({"high": 0.2, "medium": 0.3, "low": 0.5}, abs=0.001)
    lowest_high = buyers.loc[buyers["predicted_value_tier"] == "high", "predicted_clv"].min()
    assert (buyers.loc[buyers["predicted_value_tier"] != "high", "predicted_clv"] < lowest_high).all()


def test_churn_cut_points_belong_to_the_safer_side():
    p_alive = np.array([0.0, 0.2999, 0.3, 0.6999, 0.7, 1.0])
    assert labels.churn_risk(p_alive, ValueSettings()).tolist() == ["high", "high", "medium", "medium", "low", "low"]


def test_value_tiers_give_ties_the_same_better_tier():
    assert rank_tiers(np.arange(10.0, 0, -1)).tolist() == ["high"] * 2 + ["medium"] * 3 + ["low"] * 5
    # the 2nd and 5th highest are both 8: every 8 is high, so no buyer is medium
    tied = np.array([9.0, 8, 8, 8, 8, 3, 3, 2, 1, 1])
    assert rank_tiers(tied).tolist() == ["high"] * 5 + ["low"] * 5
    assert rank_tiers(np.full(4, 7.0)).tolist() == ["high"] * 4
    assert rank_tiers(np.array([])).tolist() == []


def test_too_few_buyers_give_no_model_with_one_line_why():
    few = features().head(400)
    result = fit_value_model(few, order_days(), EVE)
    assert result == NoValueModel("too little data: 400 customers with a purchase, at least 500 needed")
    assert result.card() == {"fitted": False, "reason": result.reason}
    scores = result.score(features(), SNAPSHOT)
    assert scores.dtypes.astype(str).to_dict() == {"customer_id": "str", **SCORE_DTYPES}
    assert len(scores) == len(features()) and scores.drop(columns="customer_id").isna().all().all()


def test_too_few_repeat_buyers_give_no_model():
    result = fit_value_model(features(), order_days(), EVE, ValueSettings(min_repeat_buyers=1_000_000))
    assert isinstance(result, NoValueModel)
    assert result.reason.startswith("too little data: ") and result.reason.endswith(
        " repeat buyers, at least 1,000,000 needed"
    )


def test_spend_without_a_finite_mean_gives_no_model():
    # log-normal spend with a huge spread: the Gamma-Gamma fit puts q below 1, an infinite mean spend
    frame = features().copy()
    spread = np.exp(np.random.default_rng(1).normal(3, 3, len(frame)))
    frame[SPEND] = np.where(frame[REPEATS] > 0, spread, frame[SPEND])
    result = fit_value_model(frame, order_days(), EVE)
    assert isinstance(result, NoValueModel) and result.reason.startswith("the Gamma-Gamma fit has q = ")


def test_a_fit_that_does_not_converge_gives_no_model(monkeypatch):
    unconverged = fitting.Fit({}, np.nan, False, "the likelihood is not finite at the optimiser's last point", 3)
    monkeypatch.setattr(bgnbd, "fit", lambda triplets: unconverged)
    result = fit_value_model(features(), order_days(), EVE)
    assert result == NoValueModel(
        "the BG/NBD fit did not converge: the likelihood is not finite at the optimiser's last point"
    )


def test_maximise_reports_a_likelihood_without_maximum_or_with_holes():
    unbounded = maximise(lambda point: (point[0], np.array([1.0])), np.zeros(1), ("k",), 10)
    assert not unbounded.converged and unbounded.message.startswith("k ran to the edge of the search range")
    broken = maximise(lambda point: (np.nan, np.array([np.nan])), np.zeros(1), ("k",), 10)
    assert not broken.converged and broken.message == "the likelihood is not finite at the optimiser's last point"
    peaked = maximise(lambda point: (-((point[0] - 2) ** 2), np.array([-2 * (point[0] - 2)])), np.zeros(1), ("k",), 10)
    assert peaked.converged and peaked.params["k"] == pytest.approx(np.exp(2))


def test_settings_reject_cut_points_out_of_order():
    with pytest.raises(ValueError, match="churn cut points"):
        ValueSettings(churn_high_below=0.8, churn_medium_below=0.5)


def test_scoring_only_non_buyers_or_nobody_gives_null_rows(model):
    never_bought = features()[features()[AGE].isna()].head(3)
    scores = model.score(never_bought, SNAPSHOT)
    assert scores["customer_id"].tolist() == ["N0000", "N0001", "N0002"]
    assert scores.drop(columns="customer_id").isna().all().all()
    assert model.score(features().head(0), SNAPSHOT).columns.tolist() == ["customer_id", *SCORE_DTYPES]
