"""Segment KPIs for BI: one row per segment (RFM and behavioural) and acquisition channel, plus a segment total.

Value tiers rank customers by spend over the whole snapshot population, once, so "high value" means the same spend
level in every segment and channel row.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from segmentation_pipeline.core.publish.memberships import SEGMENT_COLUMNS
from segmentation_pipeline.core.tiers import TIERS, Thresholds, rank_tiers

VALUE_TIERS = (*TIERS, "none")

ALL_CHANNELS = "(all channels)"
UNKNOWN_CHANNEL = "(unknown)"
ACTIVE_STAGES = ("new", "active")

KPI_KEYS = {
    "snapshot_date": "object",
    "segment_type": "str",
    "segment": "str",
    "segment_id": "Int64",
    "acquisition_channel": "str",
}
KPI_FIGURES = {
    "customers": "int64",
    "active_share": "float64",
    "orders": "int64",
    "revenue": "float64",
    "avg_order_value": "float64",
    "repeat_rate": "float64",
    "mean_nps": "float64",
    "high_value_share": "float64",
    "mean_predicted_clv": "float64",
    "mean_p_alive": "float64",
    "high_churn_risk_share": "float64",
}
CONTROL_PREFIX = "control_"
KPI_COLUMNS = {**KPI_KEYS, **KPI_FIGURES, **{CONTROL_PREFIX + name: dtype for name, dtype in KPI_FIGURES.items()}}
"""Output columns of `segment_kpis`, in order, with their pandas dtypes (snapshot_date holds `datetime.date`): the
row's keys, its KPIs over all its customers, then the same KPIs over its control-group customers only."""
TOTAL_KEYS = ["control", "segment_type", "by_channel", "segment", "segment_id", "acquisition_channel"]
TOTALS = [
    "customers",
    "active",
    "orders",
    "revenue",
    "buyers",
    "repeaters",
    "nps_sum",
    "nps_count",
    "high",
    "clv_sum",
    "clv_count",
    "p_alive_sum",
    "p_alive_count",
    "scored",
    "high_churn",
]
"""The keys of a `kpi_totals` row (over the control group or everyone; segment; channel) and its additive figures."""


def value_tiers(monetary: pd.Series, has_orders: pd.Series, thresholds: Thresholds | None = None) -> pd.Series:
    """The value tier of each customer (aligned with `monetary`): the rank tier (`core/tiers.py`: top 20% "high",
    next 30% "medium", the rest "low", ties sharing the better tier) of buyers by spend; "none" for everyone else.
    Buyers are customers with orders and monetary > 0. `thresholds`: those of the whole snapshot, when `monetary`
    is a batch of its customers (Spark)."""
    spend = pd.to_numeric(monetary).astype("float64")
    buyer = ((spend > 0) & has_orders.fillna(False).astype(bool)).to_numpy()
    tiers = np.full(len(spend), "none", dtype=object)
    tiers[buyer] = rank_tiers(spend.to_numpy()[buyer], thresholds)
    return pd.Series(tiers, index=monetary.index, name="value_tier", dtype="str")


def segment_kpis(customers: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    """KPIs per segment and acquisition channel (columns `KPI_COLUMNS`), each segment led by its "(all channels)"
    total row; a null channel is reported as "(unknown)" so no customer drops out of the channel rows. The `control_`
    columns are the same KPIs over the row's customers `in_control_group` (value tiers still ranked on everyone):
    counts are 0 and shares null for a row without any."""
    return kpis_from_totals(kpi_totals(customers), snapshot_date)


def kpi_totals(customers: pd.DataFrame, high_value: Thresholds | None = None) -> pd.DataFrame:
    """The counts and sums behind every KPI row (`TOTAL_KEYS`, `TOTALS`), over all customers and over the control
    group (`control`). They add up: the totals of batches of the customers, summed per key, are those of all of
    them (Spark's way). `high_value`: the tier thresholds of spend of the whole snapshot, for a batch."""
    work = _per_customer(customers, high_value)
    control = customers["in_control_group"].to_numpy(dtype=bool)
    return pd.concat(
        [_stacked_totals(work).assign(control=False), _stacked_totals(work[control]).assign(control=True)],
        ignore_index=True,
    )


def kpis_from_totals(totals: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    """`segment_kpis` from `kpi_totals` (of all customers, or summed over batches of them)."""
    keys = list(KPI_KEYS)[1:]
    control = _kpi_rows(totals[totals["control"].to_numpy(dtype=bool)])
    control = control.rename(columns={name: CONTROL_PREFIX + name for name in KPI_FIGURES})
    table = _kpi_rows(totals[~totals["control"].to_numpy(dtype=bool)]).merge(
        control, on=keys, how="left", validate="one_to_one"
    )
    table = table.fillna({CONTROL_PREFIX + name: 0 for name in ("customers", "orders", "revenue")})
    return table.assign(snapshot_date=snapshot_date)[list(KPI_COLUMNS)].astype(KPI_COLUMNS)


def _stacked_totals(work: pd.DataFrame) -> pd.DataFrame:
    """`_totals` of `work`'s customers for every segment row and segment and channel row."""
    pieces = []
    for segment_type, column in SEGMENT_COLUMNS.items():
        keys = ["segment"] if segment_type == "rfm" else ["segment", "segment_id"]
        typed = work.assign(segment=work[column])
        for by, by_channel in ((keys, False), (keys + ["acquisition_channel"], True)):
            pieces.append(_totals(typed, by).assign(segment_type=segment_type, by_channel=by_channel))
    table = pd.concat(pieces, ignore_index=True)
    table["acquisition_channel"] = table["acquisition_channel"].fillna(ALL_CHANNELS)
    return table[TOTAL_KEYS[1:] + TOTALS]


def _kpi_rows(totals: pd.DataFrame) -> pd.DataFrame:
    """The segment and channel rows of `_stacked_totals`: their keys and `KPI_FIGURES`, in a stable order."""
    order = ["segment_type", "segment", "segment_id", "by_channel", "acquisition_channel"]  # unique per row
    table = totals.sort_values(order, ignore_index=True)
    table = table.assign(
        active_share=table["active"] / table["customers"],
        avg_order_value=table["revenue"] / table["orders"].where(table["orders"] > 0),
        repeat_rate=table["repeaters"] / table["buyers"].where(table["buyers"] > 0),
        mean_nps=table["nps_sum"] / table["nps_count"].where(table["nps_count"] > 0),
        high_value_share=table["high"] / table["customers"],
        **_value_figures(table),
    )
    return table[list(KPI_KEYS)[1:] + list(KPI_FIGURES)]


def segment_value_figures(customers: pd.DataFrame) -> pd.DataFrame:
    """Per behavioural `segment_id`, the predicted-value figures of `segment_kpis`: for `segment_profiles`."""
    return value_figures_from_totals(kpi_totals(customers))


def value_figures_from_totals(totals: pd.DataFrame) -> pd.DataFrame:
    """`segment_value_figures` from `kpi_totals`: their behavioural rows over all channels and customers."""
    rows = totals[(totals["segment_type"] == "behavioural") & ~totals["by_channel"] & ~totals["control"]]
    rows = rows.astype({"segment_id": "Int64"}).reset_index(drop=True)
    return rows[["segment_id"]].assign(**_value_figures(rows))


def _per_customer(customers: pd.DataFrame, high_value: Thresholds | None = None) -> pd.DataFrame:
    """What the KPIs add up, one row per customer."""
    return pd.DataFrame(
        {
            **{column: customers[column].astype("str") for column in SEGMENT_COLUMNS.values()},
            "segment_id": customers["segment_id"].astype("Int64"),
            "acquisition_channel": customers["acquisition_channel"].fillna(UNKNOWN_CHANNEL).astype("str"),
            "active": customers["lifecycle_stage"].isin(ACTIVE_STAGES),
            "orders": customers["frequency"].astype("int64"),
            "revenue": customers["monetary"].astype("float64"),
            "buyer": customers["lifetime_orders"] >= 1,
            "repeater": customers["lifetime_orders"] >= 2,
            "nps": pd.to_numeric(customers["nps"]).astype("float64"),
            "high": value_tiers(customers["monetary"], customers["frequency"] > 0, high_value) == "high",
            "clv": customers["predicted_clv"].astype("float64"),
            "p_alive": customers["p_alive"].astype("float64"),
            "scored": customers["churn_risk"].notna(),
            "high_churn": (customers["churn_risk"] == "high").fillna(False).astype(bool),
        }
    )


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
            clv_sum=("clv", "sum"),
            clv_count=("clv", "count"),
            p_alive_sum=("p_alive", "sum"),
            p_alive_count=("p_alive", "count"),
            scored=("scored", "sum"),
            high_churn=("high_churn", "sum"),
        )
        .reset_index()
    )


def _value_figures(totals: pd.DataFrame) -> dict[str, pd.Series]:
    """Means over the customers with a prediction (buyers, under a value model) and the share of them at high churn
    risk; null where no customer of the group has one, never a made-up zero."""
    return {
        "mean_predicted_clv": totals["clv_sum"] / totals["clv_count"].where(totals["clv_count"] > 0),
        "mean_p_alive": totals["p_alive_sum"] / totals["p_alive_count"].where(totals["p_alive_count"] > 0),
        "high_churn_risk_share": totals["high_churn"] / totals["scored"].where(totals["scored"] > 0),
    }
