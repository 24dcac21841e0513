"""Per-customer purchase summaries: the distinct (x, t_x, T) triplets the BG/NBD model is fitted and scored on, and
the summaries of per-customer order days, computed as the feature query computes them, for the holdout check.

The columns are lifetimes' daily-period summary (`features/sql/features/orders.sql`): a purchase period is a day with
a completed order; x = `repeat_purchases` (purchase days - 1), t_x = `age_at_last_purchase_days` (last - first
purchase day), T = `customer_age_days` (snapshot - first purchase day), m = `mean_repeat_spend` (mean spend per
repeat purchase day, 0 without one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

REPEATS, RECENCY, AGE, SPEND = "repeat_purchases", "age_at_last_purchase_days", "customer_age_days", "mean_repeat_spend"
SUMMARY_COLUMNS = (REPEATS, RECENCY, AGE, SPEND)
HOLDOUT_PURCHASES = "holdout_purchases"


@dataclass(frozen=True)
class Triplets:
    """The distinct (x, t_x, T) of a set of customers, each weighted by how many customers share it.

    Each coordinate is further reduced to its distinct values (`x_values[x_code]` is x of every triplet), so the
    special functions of the likelihood and the predictions run once per distinct value, not once per customer."""

    x_values: np.ndarray
    x_code: np.ndarray
    t_x_values: np.ndarray
    t_x_code: np.ndarray
    T_values: np.ndarray
    T_code: np.ndarray
    weight: np.ndarray
    """Customers per triplet."""
    x_weight: np.ndarray
    """Customers per distinct x."""
    of_customer: np.ndarray
    """The triplet of each input customer: `values[of_customer]` maps per-triplet results back to customers."""

    @classmethod
    def of(cls, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> Triplets:
        x_code, x_values = pd.factorize(np.asarray(x, dtype="float64"), sort=True)
        t_x_code, t_x_values = pd.factorize(np.asarray(t_x, dtype="float64"), sort=True)
        T_code, T_values = pd.factorize(np.asarray(T, dtype="float64"), sort=True)
        # combined two codes at a time, so the keys stay far below 2**63 for any number of distinct values
        x_and_t_x, _ = pd.factorize(x_code * len(t_x_values) + t_x_code, sort=True)
        of_customer, _ = pd.factorize(x_and_t_x * len(T_values) + T_code, sort=True)
        count = int(of_customer.max()) + 1 if len(of_customer) else 0
        some_customer = np.empty(count, dtype=np.int64)
        some_customer[of_customer] = np.arange(len(of_customer))  # any customer of a triplet: they share its values
        weight = np.bincount(of_customer, minlength=count).astype("float64")
        return cls(
            x_values=x_values,
            x_code=x_code[some_customer],
            t_x_values=t_x_values,
            t_x_code=t_x_code[some_customer],
            T_values=T_values,
            T_code=T_code[some_customer],
            weight=weight,
            x_weight=np.bincount(x_code[some_customer], weights=weight, minlength=len(x_values)),
            of_customer=of_customer,
        )

    @property
    def x(self) -> np.ndarray:
        return self.x_values[self.x_code]

    @property
    def t_x(self) -> np.ndarray:
        return self.t_x_values[self.t_x_code]

    @property
    def T(self) -> np.ndarray:
        return self.T_values[self.T_code]

    def __len__(self) -> int:
        return len(self.weight)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct (x, T) of the triplets, for predictions that do not depend on t_x: (pair of each triplet,
        x of each pair, T of each pair)."""
        pair_of_triplet, pair_key = pd.factorize(self.x_code * len(self.T_values) + self.T_code, sort=True)
        return (
            pair_of_triplet,
            self.x_values[pair_key // len(self.T_values)],
            self.T_values[pair_key % len(self.T_values)],
        )


def summarize_order_days(order_days: pd.DataFrame, snapshot: date) -> pd.DataFrame:
    """The summary columns on `snapshot` of every customer with a purchase day up to it, in order of appearance.

    `order_days` has one row per customer and day with a completed order (the `order_day_customers` rollup):
    `customer_id`, `day` (a date or datetime64) and `spend` (that day's completed spend)."""
    day, spend, codes, ids = _order_day_arrays(order_days, snapshot)
    summary = pd.DataFrame({"customer_id": ids, **_summary(codes, day, spend, len(ids), _day_number(snapshot))})
    return summary[_customers_in(codes, len(ids))].reset_index(drop=True)


def calibration_and_holdout(order_days: pd.DataFrame, cutoff: date, end: date) -> pd.DataFrame:
    """The calibration summary on `cutoff` of every customer whose first purchase day is on or before it, with
    `holdout_purchases`: their purchase days in (cutoff, end] (lifetimes' `frequency_holdout`), in order of
    appearance."""
    day, spend, codes, ids = _order_day_arrays(order_days, end)
    calibration = day <= _day_number(cutoff)
    summary = _summary(codes[calibration], day[calibration], spend[calibration], len(ids), _day_number(cutoff))
    holdout = np.bincount(codes[~calibration], minlength=len(ids))
    frame = pd.DataFrame({"customer_id": ids, **summary, HOLDOUT_PURCHASES: holdout})
    return frame[_customers_in(codes[calibration], len(ids))].reset_index(drop=True)


def _order_day_arrays(order_days: pd.DataFrame, end: date) -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.Index]:
    """Day numbers, spend and customer codes of the rows up to `end`, and the customer ids the codes index."""
    codes, ids = pd.factorize(order_days["customer_id"])  # (on the Series: arrow strings stay fast)
    day = pd.to_datetime(order_days["day"]).to_numpy().astype("datetime64[D]").astype(np.int64)
    kept = day <= _day_number(end)
    return day[kept], order_days["spend"].to_numpy(dtype="float64")[kept], codes[kept], ids


def _customers_in(codes: np.ndarray, customers: int) -> np.ndarray:
    return np.bincount(codes, minlength=customers) > 0


def _summary(codes: np.ndarray, day: np.ndarray, spend: np.ndarray, customers: int, snapshot: int) -> dict:
    """orders.sql's columns per customer code from their purchase days (meaningless for codes without any)."""
    first = np.full(customers, np.iinfo(np.int64).max)
    last = np.full(customers, np.iinfo(np.int64).min)
    np.minimum.at(first, codes, day)
    np.maximum.at(last, codes, day)
    on_first_day = day == first[codes]
    first_day_spend = np.bincount(codes[on_first_day], weights=spend[on_first_day], minlength=customers)
    repeats = np.bincount(codes, minlength=customers) - 1
    repeat_spend = np.bincount(codes, weights=spend, minlength=customers) - first_day_spend
    return {
        REPEATS: repeats,
        RECENCY: last - first,
        AGE: snapshot - first,
        SPEND: np.divide(repeat_spend, repeats, out=np.zeros(customers), where=repeats > 0),
    }


def _day_number(day: date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))
