"""PSI drift and the drift and fit-quality problems, checked against values worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.publish.drift import (
    categorical_psi,
    changed_segment_share,
    drift_problems,
    edges_from_order_statistics,
    fit_quality_problems,
    population_stability_index,
    psi_bin_edges,
    quantile_positions,
    snapshot_drift,
)
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline_tests.publish.snapshots import (
    CURRENT,
    DESKTOP,
    OWLS,
    PREVIOUS,
)


def test_changed_segment_share_among_customers_in_both_snapshots():
    # c2..c5 are in both: RFM changed for c3 and c5, the behavioural id for c4 only
    assert changed_segment_share(PREVIOUS, CURRENT, "rfm_segment") == 0.5
    assert changed_segment_share(PREVIOUS, CURRENT, "segment_id") == 0.25
    assert changed_segment_share(None, CURRENT, "rfm_segment") is None
    assert changed_segment_share(PREVIOUS.iloc[:1], CURRENT, "rfm_segment") is None  # c1 only: no overlap


def test_identical_distributions_have_a_psi_of_exactly_zero():
    values = pd.Series([3, 1, None, 2, 2, 7, 7, 7], dtype="Int64")
    assert population_stability_index(values, values) == 0.0
    assert population_stability_index(values, pd.concat([values, values.iloc[::-1]])) == 0.0  # same shares
    stages = pd.Series(["active", "lapsed", None, "active"])
    assert categorical_psi(stages, stages.iloc[::-1]) == 0.0


def test_psi_of_two_bins():
    # median of 1, 2, 3, 4 is 2.5: bins (-inf, 2.5] and (2.5, inf) hold 1/2 and 1/2 expected, 1/4 and 3/4 actual
    # PSI = (1/4 - 1/2) ln(1/2) + (3/4 - 1/2) ln(3/2) = 1/4 ln 2 + 1/4 ln 3/2 = 1/4 ln 3 = 0.274653...
    expected, actual = pd.Series([1.0, 2.0, 3.0, 4.0]), pd.Series([1.0, 3.0, 4.0, 5.0])
    assert population_stability_index(expected, actual, bins=2) == pytest.approx(0.25 * math.log(3), abs=1e-12)


def test_psi_counts_nulls_as_a_bin_and_empty_bins_as_epsilon():
    # actual: 1/2 in (-inf, 2.5], none in (2.5, inf), 1/2 null; expected has no nulls. Empty shares count as 1e-4:
    # (1e-4 - 1/2) ln(1e-4 / (1/2)) + (1/2 - 1e-4) ln((1/2) / 1e-4) = 2 * 0.4999 * ln 5000 = 8.515490...
    expected, actual = pd.Series([1.0, 2.0, 3.0, 4.0]), pd.Series([1.0, 2.0, None, None])
    assert population_stability_index(expected, actual, bins=2) == pytest.approx(0.9998 * math.log(5000), abs=1e-12)


def test_tied_expected_values_give_fewer_bins():
    # eight zeros, then 1 and 5: the 10%..70% quantiles are all 0, the 80% is 0.2, the 90% is 1.4 -> 4 bins
    expected = pd.Series([0] * 8 + [1, 5])
    assert psi_bin_edges(expected, bins=10) == pytest.approx(np.array([0.0, 0.2, 1.4]), abs=1e-12)
    # bins (-inf, 0], (0, 0.2], (0.2, 1.4], (1.4, inf): expected 0.8, 0, 0.1, 0.1; actual 0.5, 0, 0.5, 0 -> 1e-4
    # PSI = (0.5 - 0.8) ln(0.5 / 0.8) + 0 + (0.5 - 0.1) ln 5 + (1e-4 - 0.1) ln(1e-4 / 0.1)
    #     = 0.3 ln 1.6 + 0.4 ln 5 + 0.0999 ln 1000 = 1.474861...
    actual = pd.Series([0] * 5 + [1] * 5)
    by_hand = 0.3 * math.log(1.6) + 0.4 * math.log(5) + 0.0999 * math.log(1000)
    assert population_stability_index(expected, actual, bins=10) == pytest.approx(by_hand, abs=1e-12)


def test_categorical_psi():
    # levels a, b, c and null: expected 1/2, 1/4, 0 -> 1e-4, 1/4; actual 1/4, 1/2, 1/4, 0 -> 1e-4
    # PSI = 1/4 ln 2 + 1/4 ln 2 + (1/4 - 1e-4) ln 2500 + (1/4 - 1e-4) ln 2500 = 0.5 ln 2 + 0.4998 ln 2500 = 4.257032...
    expected, actual = pd.Series(["a", "a", "b", None]), pd.Series(["a", "b", "b", "c"])
    by_hand = 0.5 * math.log(2) + 0.4998 * math.log(2500)
    assert categorical_psi(expected, actual) == pytest.approx(by_hand, abs=1e-12)


def test_snapshot_drift():
    drift = snapshot_drift(PREVIOUS, CURRENT, numeric_columns=("frequency",), categorical_columns=("rfm_segment",))
    # frequency is 1..5 in both; RFM: at risk 1/5 -> 1e-4 and new customers 1e-4 -> 1/5, the rest unchanged
    assert drift["psi"] == {"frequency": 0.0, "rfm_segment": pytest.approx(2 * 0.1999 * math.log(2000), abs=1e-12)}
    assert drift["segment_share_change_pp"] == {
        "rfm": {
            "at risk": pytest.approx(-20.0),
            "champions": 0.0,
            "hibernating": 0.0,
            "new customers": pytest.approx(20.0),
        },
        "behavioural": {OWLS: pytest.approx(-20.0), DESKTOP: pytest.approx(20.0)},
    }
    assert list(drift["segment_share_change_pp"]["rfm"]) == ["at risk", "champions", "hibernating", "new customers"]
    assert drift["changed_segment_share"] == {"rfm_segment": 0.5, "segment_id": 0.25}


def test_snapshot_drift_without_a_previous_snapshot_has_nothing_to_compare():
    drift = snapshot_drift(None, CURRENT, numeric_columns=("frequency",), categorical_columns=("rfm_segment",))
    assert drift == {
        "psi": {"frequency": None, "rfm_segment": None},
        "segment_share_change_pp": {"rfm": None, "behavioural": None},
        "changed_segment_share": {"rfm_segment": None, "segment_id": None},
    }


def test_drift_problems_name_only_the_figures_beyond_their_limits():
    drift = {
        "psi": {"frequency": 0.31, "monetary": 0.05, "recency_days": None},
        "segment_share_change_pp": {"behavioural": {OWLS: 7.5, DESKTOP: -4.0}, "rfm": None},
        "changed_segment_share": {"segment_name": 0.30, "rfm_segment": 0.10},
    }
    assert drift_problems(drift, PublishSettings()) == {
        "distribution_drift": ["frequency PSI 0.310"],
        "segment_size_change": [f"behavioural '{OWLS}' +7.5 pp"],
        "segment_churn": ["segment_name changed for 30.0% of returning customers"],
    }
    assert drift_problems(
        drift, PublishSettings(max_psi=0.5, max_segment_share_change_pp=8, max_changed_segment_share=0.5)
    ) == {
        "distribution_drift": [],
        "segment_size_change": [],
        "segment_churn": [],
    }


def test_fit_quality_problems_judge_only_the_figures_the_model_card_has():
    limits = PublishSettings(min_silhouette=0.1, min_bootstrap_ari=0.6)
    assert fit_quality_problems({"silhouette": 0.25, "bootstrap_ari_mean": 0.456}, limits) == [
        "bootstrap_ari_mean 0.456 below 0.6"
    ]
    assert fit_quality_problems({"silhouette": 0.05}, limits) == ["silhouette 0.05 below 0.1"]
    assert fit_quality_problems({}, limits) == []


@pytest.mark.parametrize("seed", range(6))
def test_the_bin_edges_from_order_statistics_are_numpys_quantiles_bit_for_bit(seed):
    """What Spark's path computes (the values at `quantile_positions` interpolated) against `np.quantile`."""
    rng = np.random.default_rng(seed)
    for rows in (1, 2, 3, 9, 10, 11, 57, 1_000, 12_345):
        values = rng.gamma(2.0, 30.0, rows) * 10.0 ** rng.integers(-3, 4)
        if seed % 2:
            values = np.round(values, 0)  # ties: fewer distinct edges
        ordered = np.sort(values)
        lower, upper, gamma = quantile_positions(rows)
        edges = edges_from_order_statistics(ordered[lower], ordered[upper], gamma)
        assert np.array_equal(edges, psi_bin_edges(pd.Series(values))), (seed, rows)
