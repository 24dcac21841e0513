"""The value model: BG/NBD for purchases and Gamma-Gamma for spend per purchase, fitted on the summaries of one day
(the quarter's eve) and used to score every later snapshot with that snapshot's own summaries, without refitting.

Scores, per customer with a purchase (customers without one get nulls, never made-up numbers):

* `p_alive`: P(still active at the snapshot), BG/NBD.
* `expected_orders_90d`, `expected_orders_365d`: expected purchase days in the next 90 / 365 days.
* `predicted_clv`: expected discounted spend over the next `horizon_days`. The horizon is cut into 30-day steps (the
  last one shorter when the horizon is not a multiple of 30); each step's expected purchases (the growth of expected
  purchases over the step) are valued at the customer's Gamma-Gamma expected spend per purchase and discounted to
  the snapshot from the step's end t (days) by (1 + annual_discount_rate)^(-t / 365). With a horizon of 30 k days this
  equals lifetimes' `customer_lifetime_value(..., time=k, discount_rate=(1 + annual rate)^(30 / 365) - 1, freq="D")`.
* `churn_risk`: "high" / "medium" / "low" by p_alive (`churn_high_below`, `churn_medium_below`).
* `expected_next_order_date`: the snapshot date plus ceil(E[days to the next purchase | alive]) days, where that
  expectation is (alpha + T) / (r + x - 1) (the next purchase of a live customer comes after an exponential wait of
  mean 1 / lambda). Null when p_alive is below `next_order_min_p_alive`, when the expectation is infinite
  (r + x <= 1) or when it is more than `next_order_max_days`.
* `predicted_value_tier`: "high" / "medium" / "low", the top 20% / next 30% / rest of buyers by predicted CLV, ties
  sharing a tier.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

import numpy as np
import pandas as pd

from segmentation_pipeline.core.tiers import Thresholds, rank_tiers
from segmentation_pipeline.core.value import bgnbd, gamma_gamma, holdout, labels
from segmentation_pipeline.core.value.fitting import Fit
from segmentation_pipeline.core.value.holdout import HoldoutCheck
from segmentation_pipeline.core.value.settings import ValueSettings
from segmentation_pipeline.core.value.summaries import (
    AGE,
    HOLDOUT_PURCHASES,
    RECENCY,
    REPEATS,
    SUMMARY_COLUMNS,
    Triplets,
    calibration_and_holdout,
)

SCORE_DTYPES = {
    "p_alive": "float64",
    "expected_orders_90d": "float64",
    "expected_orders_365d": "float64",
    "predicted_clv": "float64",
    "churn_risk": "str",
    "expected_next_order_date": "datetime64[s]",
    "predicted_value_tier": "str",
}
"""The score columns after `customer_id`, with their pandas dtypes."""
CLV_STEP_DAYS = 30
DAYS_PER_YEAR = 365


@dataclass(frozen=True)
class NoValueModel:
    """Too little data or a failed fit: no model, one line saying why, and null scores."""

    reason: str

    def card(self) -> dict:
        return {"fitted": False, "reason": self.reason}

    def score(
        self, customers: pd.DataFrame, snapshot_date: date, tier_thresholds: Thresholds | None = None
    ) -> pd.DataFrame:
        """Every score null, in the columns and order `ValueModel.score` gives."""
        return _score_frame(customers["customer_id"], np.zeros(len(customers), dtype=bool), {})


@dataclass(frozen=True)
class ValueModel:
    fitted_on: date
    settings: ValueSettings
    purchase_fit: Fit
    """BG/NBD, on every customer with a purchase."""
    spend_fit: Fit
    """Gamma-Gamma, on every customer with a repeat purchase and spend."""
    customers: int
    """Customers with a purchase by `fitted_on`: those the models were fitted on ..."""
    repeat_buyers: int
    """... those of them with a repeat purchase ..."""
    spend_customers: int
    """... and those with a repeat purchase and spend (Gamma-Gamma's)."""
    holdout: HoldoutCheck | str
    """The holdout check, or why it could not be made."""

    @property
    def purchases(self) -> bgnbd.BgNbdParams:
        return bgnbd.BgNbdParams(**self.purchase_fit.params)

    @property
    def spend(self) -> gamma_gamma.GammaGammaParams:
        return gamma_gamma.GammaGammaParams(**self.spend_fit.params)

    def card(self) -> dict:
        """What the model was fitted on, its parameters and how well it predicted the holdout period (JSON-able)."""
        return {
            "fitted": True,
            "fitted_on": self.fitted_on.isoformat(),
            "time_unit": "day",
            "customers": self.customers,
            "repeat_buyers": self.repeat_buyers,
            "bgnbd": _fit_card(self.purchase_fit, self.customers),
            "gamma_gamma": _fit_card(self.spend_fit, self.spend_customers),
            "holdout": self.holdout.card() if isinstance(self.holdout, HoldoutCheck) else {"skipped": self.holdout},
            "settings": asdict(self.settings),
        }

    def score(
        self, customers: pd.DataFrame, snapshot_date: date, tier_thresholds: Thresholds | None = None
    ) -> pd.DataFrame:
        """The scores (module docstring) of `customers` (`customer_id` and the summary columns on `snapshot_date`),
        one row per input row, in input order. What depends on (x, t_x, T) or (x, T) alone, the hypergeometric
        functions above all, is computed once per distinct triplet or pair and mapped back to the customers. The
        value tiers rank the buyers among themselves, unless `tier_thresholds` (`core/tiers.py`) of the whole
        snapshot are given (`customers` is then one batch of it)."""
        bought, x, t_x, T, m = _buyers(customers)
        triplets = Triplets.of(x, t_x, T)
        pair_of_triplet, pair_x, pair_T = triplets.pairs()
        purchases, settings = self.purchases, self.settings

        def per_customer(per_pair: np.ndarray) -> np.ndarray:
            return per_pair[pair_of_triplet][triplets.of_customer]

        alive = bgnbd.p_alive(purchases, triplets.x, triplets.t_x, triplets.T)[triplets.of_customer]
        wait = per_customer(bgnbd.expected_wait_if_alive(purchases, pair_x, pair_T))
        dated = (alive >= settings.next_order_min_p_alive) & (wait <= settings.next_order_max_days)
        next_order = np.datetime64(snapshot_date, "D") + np.ceil(np.where(dated, wait, 0)).astype("timedelta64[D]")
        clv = (
            alive
            * per_customer(_discounted_purchases_if_alive(purchases, settings, pair_x, pair_T))
            * gamma_gamma.expected_spend(self.spend, x, m)
        )
        scores = {
            "p_alive": alive,
            "expected_orders_90d": alive * per_customer(bgnbd.purchases_if_alive(purchases, 90, pair_x, pair_T)),
            "expected_orders_365d": alive * per_customer(bgnbd.purchases_if_alive(purchases, 365, pair_x, pair_T)),
            "predicted_clv": clv,
            "churn_risk": labels.churn_risk(alive, settings),
            "expected_next_order_date": np.where(dated, next_order, np.datetime64("NaT")),
            "predicted_value_tier": rank_tiers(clv, tier_thresholds),
        }
        return _score_frame(customers["customer_id"], bought, scores)


def fit_value_model(
    features: pd.DataFrame, order_days: pd.DataFrame, fitted_on: date, settings: ValueSettings | None = None
) -> ValueModel | NoValueModel:
    """Fit both models on `features` (the summary columns on `fitted_on`, one row per customer; customers without a
    purchase have nulls) and check them on a holdout split of `order_days` (one row per customer and day with a
    completed order up to `fitted_on`: `customer_id`, `day`, `spend`; see `summaries.calibration_and_holdout`)."""
    settings = settings or ValueSettings()
    _, x, t_x, T, m = _buyers(features)
    purchase_fit = _fit_purchases(x, t_x, T, settings)
    if isinstance(purchase_fit, str):
        return NoValueModel(purchase_fit)
    with_spend = (x > 0) & (m > 0)
    spend_fit = _fit_spend(x[with_spend], m[with_spend], settings)
    if isinstance(spend_fit, str):
        return NoValueModel(spend_fit)
    return ValueModel(
        fitted_on=fitted_on,
        settings=settings,
        purchase_fit=purchase_fit,
        spend_fit=spend_fit,
        customers=len(x),
        repeat_buyers=int((x > 0).sum()),
        spend_customers=int(with_spend.sum()),
        holdout=check_holdout(order_days, fitted_on, settings),
    )


def validation_problem(model: ValueModel | NoValueModel) -> str | None:
    """In one line, why the model's predictions are not backed by a holdout check within its threshold (no model, no
    check, or a check that missed); None when they are."""
    if isinstance(model, NoValueModel):
        return f"no value model: {model.reason}; the value columns are null"
    if isinstance(model.holdout, str):
        return f"the value model was not checked on a holdout period: {model.holdout}"
    if model.holdout.exceeds_threshold:
        return f"the value model missed its holdout period: {model.holdout.summary()}"
    return None


def check_holdout(order_days: pd.DataFrame, end: date, settings: ValueSettings) -> HoldoutCheck | str:
    """Fit BG/NBD on the purchase days up to `end` minus `holdout_days` and compare its predicted purchases in the
    remaining days with the actual ones; or why that could not be done."""
    cutoff = date.fromordinal(end.toordinal() - settings.holdout_days)
    calibration = calibration_and_holdout(order_days, cutoff, end)
    x, t_x, T = (calibration[column].to_numpy(dtype="float64") for column in (REPEATS, RECENCY, AGE))
    fitted = _fit_purchases(x, t_x, T, settings)
    if isinstance(fitted, str):
        return f"no model on the history up to {cutoff.isoformat()}: {fitted}"
    triplets = Triplets.of(x, t_x, T)
    predicted = bgnbd.expected_purchases(
        bgnbd.BgNbdParams(**fitted.params), settings.holdout_days, triplets.x, triplets.t_x, triplets.T
    )[triplets.of_customer]
    actual = calibration[HOLDOUT_PURCHASES].to_numpy()
    return holdout.compare(
        x, predicted, actual, cutoff, end, settings.holdout_frequency_cap, settings.holdout_error_threshold
    )


def _buyers(customers: pd.DataFrame) -> tuple[np.ndarray, ...]:
    """Which rows have a purchase (the summary columns are null otherwise), and their x, t_x, T and m."""
    bought = customers[AGE].notna().to_numpy()
    columns = (customers[column].to_numpy(dtype="float64", na_value=np.nan)[bought] for column in SUMMARY_COLUMNS)
    return bought, *columns


def _fit_purchases(x: np.ndarray, t_x: np.ndarray, T: np.ndarray, settings: ValueSettings) -> Fit | str:
    """The BG/NBD fit, or why there is none."""
    repeat_buyers = int((x > 0).sum())
    if len(x) < settings.min_buyers:
        return f"too little data: {len(x):,} customers with a purchase, at least {settings.min_buyers:,} needed"
    if repeat_buyers < settings.min_repeat_buyers:
        return f"too little data: {repeat_buyers:,} repeat buyers, at least {settings.min_repeat_buyers:,} needed"
    fitted = bgnbd.fit(Triplets.of(x, t_x, T))
    return fitted if fitted.converged else f"the BG/NBD fit did not converge: {fitted.message}"


def _fit_spend(x: np.ndarray, m: np.ndarray, settings: ValueSettings) -> Fit | str:
    """The Gamma-Gamma fit on repeat buyers with spend, or why there is none."""
    if len(x) < settings.min_repeat_buyers:
        return f"too little data: {len(x):,} repeat buyers with spend, at least {settings.min_repeat_buyers:,} needed"
    fitted = gamma_gamma.fit(gamma_gamma.RepeatSpend.of(x, m))
    if not fitted.converged:
        return f"the Gamma-Gamma fit did not converge: {fitted.message}"
    if fitted.params["q"] <= 1:
        return f"the Gamma-Gamma fit has q = {fitted.params['q']:.3f} <= 1: no finite mean spend per purchase"
    return fitted


def _discounted_purchases_if_alive(
    purchases: bgnbd.BgNbdParams, settings: ValueSettings, x: np.ndarray, T: np.ndarray
) -> np.ndarray:
    """Sum over the CLV steps of (expected purchases by the step's end - by its start | alive) x discount factor."""
    step_ends = np.minimum(
        np.arange(1, -(-settings.horizon_days // CLV_STEP_DAYS) + 1) * CLV_STEP_DAYS, settings.horizon_days
    )
    total, before = np.zeros(len(x)), np.zeros(len(x))
    for end in step_ends:
        by_end = bgnbd.purchases_if_alive(purchases, float(end), x, T)
        total += (by_end - before) * (1 + settings.annual_discount_rate) ** (-end / DAYS_PER_YEAR)
        before = by_end
    return total


def _fit_card(fitted: Fit, customers: int) -> dict:
    return {
        "params": fitted.params,
        "log_likelihood": fitted.log_likelihood,
        "customers": customers,
        "converged": fitted.converged,
        "iterations": fitted.iterations,
        "optimiser": fitted.message,
    }


def _score_frame(customer_id: pd.Series, bought: np.ndarray, scores: dict[str, np.ndarray]) -> pd.DataFrame:
    """The score columns for every customer: buyers' values where `scores` has them, nulls everywhere else."""
    frame = {"customer_id": customer_id.reset_index(drop=True)}
    for column, dtype in SCORE_DTYPES.items():
        values = pd.Series(None, index=range(len(bought)), dtype=dtype)
        if column in scores:
            values[bought] = scores[column]
        frame[column] = values
    return pd.DataFrame(frame)
