"""Parity with lifetimes, the reference implementation (a test dependency, never a run-time one)."""

from datetime import date

import lifetimes
import numpy as np
import pandas as pd
import pytest
from lifetimes.datasets import load_cdnow_summary_data_with_monetary_value  # noqa: E402

from segmentation_pipeline.core.value import bgnbd, gamma_gamma
from segmentation_pipeline.core.value.model import fit_value_model
from segmentation_pipeline.core.value.settings import ValueSettings
from segmentation_pipeline.core.value.summaries import AGE, RECENCY, REPEATS, SPEND, Triplets
from segmentation_pipeline_tests.value.builders import EVE, features, order_days

PARITY = 1e-3
"""Relative difference allowed between our figures and lifetimes'."""


def cdnow() -> pd.DataFrame:
    """lifetimes' CDNOW sample (2,357 customers, weekly periods) in the summary columns."""
    frame = load_cdnow_summary_data_with_monetary_value()
    columns = {"frequency": REPEATS, "recency": RECENCY, "T": AGE, "monetary_value": SPEND}
    return frame.rename(columns=columns).reset_index(drop=True)


def daily() -> pd.DataFrame:
    """The simulated daily summaries of the value tests' buyers."""
    frame = features()
    return frame[frame[AGE].notna()].reset_index(drop=True)


def columns_of(frame: pd.DataFrame) -> tuple[np.ndarray, ...]:
    return tuple(frame[column].to_numpy(dtype="float64") for column in (REPEATS, RECENCY, AGE, SPEND))


def lifetimes_fits(frame: pd.DataFrame):
    """lifetimes' fits on the same summary: BG/NBD on the distinct triplets (weights), Gamma-Gamma on repeat buyers."""
    triplets = frame.groupby([REPEATS, RECENCY, AGE]).size().reset_index(name="weight")
    purchases = lifetimes.BetaGeoFitter().fit(
        triplets[REPEATS], triplets[RECENCY], triplets[AGE], weights=triplets["weight"]
    )
    repeaters = frame[frame[REPEATS] > 0]
    spend = lifetimes.GammaGammaFitter().fit(repeaters[REPEATS], repeaters[SPEND])
    return purchases, spend


@pytest.mark.parametrize("log_params", [[0.0, 0.0, 0.0, 0.0], [-1.2, 3.0, -0.3, 1.1], [2.0, 6.0, 1.5, 4.0]])
def test_bgnbd_likelihood_is_lifetimes(log_params):
    x, t_x, T, _ = columns_of(daily())
    ours, _ = bgnbd.log_likelihood(np.array(log_params), Triplets.of(x, t_x, T))
    theirs = -lifetimes.BetaGeoFitter._negative_log_likelihood(np.array(log_params), x, t_x, T, np.ones_like(x), 0.0)
    assert ours == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize("log_params", [[0.0, 0.0, 0.0], [1.4, 1.6, 4.8], [-0.5, 3.0, 2.0]])
def test_gamma_gamma_likelihood_is_lifetimes(log_params):
    x, _, _, m = columns_of(daily())
    repeaters = (x > 0) & (m > 0)
    ours, _ = gamma_gamma.log_likelihood(np.array(log_params), gamma_gamma.RepeatSpend.of(x[repeaters], m[repeaters]))
    theirs = -lifetimes.GammaGammaFitter._negative_log_likelihood(
        np.array(log_params), x[repeaters], m[repeaters], np.ones(repeaters.sum()), 0.0
    )
    assert ours == pytest.approx(theirs, rel=1e-12)


@pytest.mark.parametrize("summary", [cdnow, daily], ids=["cdnow", "daily"])
def test_fitted_parameters_and_predictions_equal_lifetimes(summary):
    frame = summary()
    x, t_x, T, m = columns_of(frame)
    theirs_purchases, theirs_spend = lifetimes_fits(frame)
    ours_purchases = bgnbd.fit(Triplets.of(x, t_x, T))
    repeaters = x > 0
    ours_spend = gamma_gamma.fit(gamma_gamma.RepeatSpend.of(x[repeaters], m[repeaters]))
    assert ours_purchases.params == pytest.approx(theirs_purchases.params_.to_dict(), rel=PARITY)
    assert ours_spend.params == pytest.approx(theirs_spend.params_.to_dict(), rel=PARITY)

    purchases = bgnbd.BgNbdParams(**ours_purchases.params)
    np.testing.assert_allclose(
        bgnbd.p_alive(purchases, x, t_x, T), theirs_purchases.conditional_probability_alive(x, t_x, T), rtol=PARITY
    )
    for days in (1, 90, 365):
        np.testing.assert_allclose(
            bgnbd.expected_purchases(purchases, days, x, t_x, T),
            theirs_purchases.conditional_expected_number_of_purchases_up_to_time(days, x, t_x, T),
            rtol=PARITY,
        )
    np.testing.assert_allclose(
        gamma_gamma.expected_spend(gamma_gamma.GammaGammaParams(**ours_spend.params), x, m),
        theirs_spend.conditional_expected_average_profit(pd.Series(x), pd.Series(m)),
        rtol=PARITY,
    )


def test_scores_equal_lifetimes_predictions_and_clv():
    # a 360-day horizon is lifetimes' 12 months of 30 days; its monthly discount rate is our annual one per 30 days
    settings = ValueSettings(horizon_days=360, annual_discount_rate=0.10)
    model = fit_value_model(features(), order_days(), EVE, settings)
    frame = daily()
    scores = model.score(frame, EVE)
    x, t_x, T, m = (pd.Series(values) for values in columns_of(frame))
    theirs_purchases, theirs_spend = lifetimes_fits(frame)
    np.testing.assert_allclose(
        scores["p_alive"], theirs_purchases.conditional_probability_alive(x, t_x, T), rtol=PARITY
    )
    for days in (90, 365):
        np.testing.assert_allclose(
            scores[f"expected_orders_{days}d"],
            theirs_purchases.conditional_expected_number_of_purchases_up_to_time(days, x, t_x, T),
            rtol=PARITY,
        )
    clv = theirs_spend.customer_lifetime_value(
        theirs_purchases, x, t_x, T, m, time=12, discount_rate=1.10 ** (30 / 365) - 1, freq="D"
    )
    np.testing.assert_allclose(scores["predicted_clv"], clv, rtol=PARITY)
    assert date.fromisoformat(model.card()["fitted_on"]) == EVE
