"""Segment KPIs for BI: one row per segment (RFM and behavioural) and acquisition channel, plus a segment total.

Value tiers rank customers by spend over the whole snapshot population, once, so "high value" means the same spend
level in every segment and channel row.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

VALUE_TIERS = ("high", "medium", "low", "none")
HIGH_PERCENT = 20
"""The top 20% of buyers by spend are "high"."""
HIGH_OR_MEDIUM_PERCENT = 50
"""The top 50% are "high" or "medium": the next 30% after the high tier are "medium", the rest "low"."""

ALL_CHANNELS = "(all channels)"
UNKNOWN_CHANNEL = "(unknown)"
ACTIVE_STAGES = ("new", "active")

KPI_COLUMNS = {
    "snapshot_date": "object",
    "segment_type": "str",
    "segment": "str",
    "segment_id": "Int64",
    "acquisition_channel": "str",
    "customers": "int64",
    "active_share": "float64",
    "orders": "int64",
    "revenue": "float64",
    "avg_order_value": "float64",
    "repeat_rate": "float64",
    "mean_nps": "float64",
    "high_value_share": "float64",
}
"""Output columns of `segment_kpis`, in order, with their pandas dtypes (snapshot_date holds `datetime.date`)."""

SEGMENT_KEYS = {"rfm": "rfm_segment", "behavioural": "segment_name"}


def value_tiers(monetary: pd.Series, has_orders: pd.Series) -> pd.Series:
    """The value tier of each customer: "high", "medium", "low" or "none" (aligned with `monetary`).

    Buyers are customers with orders and monetary > 0; everyone else is "none". Among the n buyers, let H be the
    monetary of the ceil(20% x n)-th highest buyer and M that of the ceil(50% x n)-th highest (nearest rank, exact
    integer arithmetic). A buyer is "high" if monetary >= H, else "medium" if monetary >= M, else "low". Only values
    decide, never row order: tied customers always share a tier, and a tie across a boundary takes the better tier
    (so with ties a tier can hold more than its nominal share).
    """
    spend = pd.to_numeric(monetary).astype("float64")
    buyer = (spend > 0) & has_orders.fillna(False).astype(bool)
    tiers = np.full(len(spend), "none", dtype=object)
    ranked = np.sort(spend[buyer].to_numpy())[::-1]
    if len(ranked):
        high = ranked[_nearest_rank(len(ranked), HIGH_PERCENT) - 1]
        medium = ranked[_nearest_rank(len(ranked), HIGH_OR_MEDIUM_PERCENT) - 1]
        is_buyer = buyer.to_numpy()
        tiers = np.select(
            [~is_buyer, spend.to_numpy() >= high, spend.to_numpy() >= medium], ["none", "high", "medium"], "low"
        )
    return pd.Series(tiers, index=monetary.index, name="value_tier", dtype="str")


def _nearest_rank(n: int, percent: int) -> int:
    """ceil(percent% of n) without floating point (0.2 * 15 is 3.0000000000000004 in floats)."""
    return -(-n * percent // 100)


def segment_kpis(customers: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    """KPIs per segment and acquisition channel (columns `KPI_COLUMNS`), each segment led by its "(all channels)"
    total row; a null channel is reported as "(unknown)" so no customer drops out of the channel rows."""
    work = pd.DataFrame(
        {
            "segment_id": customers["segment_id"].astype("Int64"),
            "acquisition_channel": customers["acquisition_channel"].fillna(UNKNOWN_CHANNEL).astype("str"),
            "active": customers["lifecycle_stage"].isin(ACTIVE_STAGES),
            "orders": customers["frequency"].astype("int64"),
            "revenue": customers["monetary"].astype("float64"),
            "buyer": customers["lifetime_orders"] >= 1,
            "repeater": customers["lifetime_orders"] >= 2,
            "nps": pd.to_numeric(customers["nps"]).astype("float64"),
            "high": value_tiers(customers["monetary"], customers["frequency"] > 0) == "high",
        }
    )
    pieces = []
    for segment_type, column in SEGMENT_KEYS.items():
        keys = ["segment"] if segment_type == "rfm" else ["segment", "segment_id"]
        typed = work.assign(segment=customers[column].astype("str"))
        for by, by_channel in ((keys, False), (keys + ["acquisition_channel"], True)):
            pieces.append(_totals(typed, by).assign(segment_type=segment_type, by_channel=by_channel))
    table = pd.concat(pieces, ignore_index=True)
    table["acquisition_channel"] = table["acquisition_channel"].fillna(ALL_CHANNELS)
    order = ["segment_type", "segment", "segment_id", "by_channel", "acquisition_channel"]  # unique per row
    table = table.sort_values(order, ignore_index=True)
    table = table.assign(
        snapshot_date=snapshot_date,
        active_share=table["active"] / table["customers"],
        avg_order_value=table["revenue"] / table["orders"].where(table["orders"] > 0),
        repeat_rate=table["repeaters"] / table["buyers"].where(table["buyers"] > 0),
        mean_nps=table["nps_sum"] / table["nps_count"].where(table["nps_count"] > 0),
        high_value_share=table["high"] / table["customers"],
    )
    return table[list(KPI_COLUMNS)].astype(KPI_COLUMNS)


def _totals(work: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Counts and sums per group; the shares are computed from them after all groupings are stacked."""
    return (
        work.groupby(by, dropna=False, sort=False)
        .agg(
            customers=("active", "size"),
            active=("active", "sum"),
            orders=("orders", "sum"),
            revenue=("revenue", "sum"),
            buyers=("buyer", "sum"),
            repeaters=("repeater", "sum"),
            nps_sum=("nps", "sum"),
            nps_count=("nps", "count"),
            high=("high", "sum"),
        )
        .reset_index()
    )
