"""Campaign uplift per segment: what the treated customers (not in the control group) of each segment of the
previous published snapshot (the baseline) did by this snapshot, against the segment's control-group customers.

With a global holdout, the difference measures only the campaigns actually sent to the treated customers between
the two snapshots: a segment no campaign targeted shows an uplift of about 0.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from segmentation_pipeline.core.arrow_values import as_string_array
from segmentation_pipeline.core.publish.memberships import SEGMENT_FAMILIES, family_members
from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS

Z_95 = 1.959963984540054
"""The two-sided 95% quantile of the normal distribution."""
METRICS = {"orders": "orders_per_customer", "revenue": "revenue_per_customer", "retention_rate": "retention_rate"}
"""Uplift name -> the per-group figure it is the treated minus control difference of."""
BASELINE_COLUMNS = ("in_control_group", "lifetime_orders", "lifetime_spend")
AGGREGATIONS = {f"{metric}_{kind}": (metric, kind) for metric in METRICS for kind in ("mean", "var")}


def segment_uplift(
    baseline: pd.DataFrame | None, current: pd.DataFrame, day: date, baseline_day: date | None
) -> pd.DataFrame:
    """One row per segment type and baseline segment (columns of the published `segment_uplift`). Customers count
    in the segment they had in the baseline, and only if they are in both snapshots; orders and revenue are the
    growth of their lifetime figures, retained means at least one completed order in between. No rows without a
    baseline, or with one published before it had a control group (schema version 3 or earlier)."""
    if not has_baseline(None if baseline is None else list(baseline.columns)):
        return no_uplift()
    found = pc.index_in(as_string_array(baseline["customer_id"]), value_set=as_string_array(current["customer_id"]))
    in_both = found.is_valid().to_numpy(zero_copy_only=False)  # ids are unique in a snapshot
    before = baseline.loc[in_both, [*BASELINE_COLUMNS, *SEGMENT_FAMILIES.values()]].reset_index(drop=True)
    now = current[list(OUTCOME_INPUTS)].iloc[found.drop_null().to_numpy()].reset_index(drop=True)
    outcomes, statistics = _outcomes(before, now), []
    for family, group, rows, codes, names in _groups(before):
        figures = outcomes.take(rows).groupby(codes).agg(customers=("orders", "size"), **AGGREGATIONS)
        statistics.append(figures.assign(segment_type=family, segment=names.take(figures.index), group=group))
    return uplift_from_statistics(pd.concat(statistics, ignore_index=True), day, baseline_day)


OUTCOME_INPUTS = ("lifetime_orders", "lifetime_spend")
"""The figures of both snapshots the outcomes are the growth of."""
NOW = "_now"
"""The suffix of this snapshot's `OUTCOME_INPUTS` beside the baseline's in `customer_outcomes`' rows."""


def customer_outcomes(customers: pd.DataFrame) -> pd.DataFrame:
    """The outcomes of customers in both snapshots, one row per customer and baseline segment: `segment_type`,
    `segment`, `group` (treated or control) and each metric of `METRICS`, from their baseline rows with this
    snapshot's `OUTCOME_INPUTS` beside them (suffixed `NOW`). Row by row, so any batch of customers gives its own
    rows (Spark's executors), and the statistics of a segment's rows are `segment_uplift`'s."""
    now = customers[[f"{name}{NOW}" for name in OUTCOME_INPUTS]].set_axis(list(OUTCOME_INPUTS), axis=1)
    outcomes = _outcomes(customers, now)
    rows = [
        outcomes.take(rows).assign(segment_type=family, segment=names.take(codes).to_numpy(), group=group)
        for family, group, rows, codes, names in _groups(customers)
    ]
    return pd.concat(rows, ignore_index=True).astype({"segment_type": "str", "segment": "str", "group": "str"})


def _outcomes(before: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Each customer's metrics (`METRICS`) between the baseline figures `before` and `now` (the same index)."""
    outcomes = pd.DataFrame(
        {
            "orders": (now["lifetime_orders"] - before["lifetime_orders"]).astype("float64"),
            "revenue": (now["lifetime_spend"] - before["lifetime_spend"]).astype("float64"),
        }
    )
    outcomes["retention_rate"] = (outcomes["orders"] > 0).astype("float64")
    return outcomes


def _groups(before: pd.DataFrame) -> Iterator[tuple[str, str, np.ndarray, np.ndarray, pd.Index]]:
    """Per segment family and group (treated, then control) of the baseline rows `before`: its members' row
    positions, their segments' codes and the segment names the codes index."""
    control = before["in_control_group"].astype(bool).to_numpy()
    for members in family_members(before):
        names = pd.Index(members.names, dtype="str")
        for group, chosen in (("treated", ~control[members.rows]), ("control", control[members.rows])):
            yield members.family, group, members.rows[chosen], members.codes[chosen], names


def no_uplift() -> pd.DataFrame:
    """`segment_uplift` without a baseline: no rows."""
    return pd.DataFrame({name: pd.Series(dtype="object") for name in PUBLISHED_SCHEMAS["segment_uplift"].names})


def has_baseline(baseline_columns: list[str] | None) -> bool:
    """Whether a baseline with these columns gives uplift rows: one published with a control group (schema
    version 4 or later)."""
    return baseline_columns is not None and set(BASELINE_COLUMNS) <= set(baseline_columns)


def uplift_from_statistics(statistics: pd.DataFrame, day: date, baseline_day: date | None) -> pd.DataFrame:
    """`segment_uplift` from the size (`customers`) and `AGGREGATIONS` of each segment_type, segment and group
    (treated or control) of the baseline customers in both snapshots."""
    keys = ["segment_type", "segment"]
    treated, control = (
        statistics[statistics["group"] == group].drop(columns="group").set_index(keys).add_prefix(f"{group}_")
        for group in ("treated", "control")
    )
    table = _compare(treated.join(control, how="outer").reset_index())
    return table.assign(snapshot_date=day, baseline_snapshot_date=baseline_day)[
        PUBLISHED_SCHEMAS["segment_uplift"].names
    ]


def _compare(table: pd.DataFrame) -> pd.DataFrame:
    """Per segment (its segment_type and segment), from the size, mean and sample variance of each metric for the
    treated and the control customers: the difference of the means and its 95% interval (normal approximation with
    Welch's standard error; for retention the same formula is the difference of two proportions). Null where a group
    is empty; the interval also where a group has a single customer."""
    keys = ["segment_type", "segment"]
    table = table.astype(dict.fromkeys(keys, "str")).sort_values(keys, ignore_index=True)
    for group in ("treated", "control"):
        table[f"{group}_customers"] = table[f"{group}_customers"].fillna(0).astype("int64")
    sizes = {
        group: table[f"{group}_customers"].where(table[f"{group}_customers"] > 1) for group in ("treated", "control")
    }
    for metric, figure in METRICS.items():
        for group in ("treated", "control"):
            table[f"{group}_{figure}"] = table[f"{group}_{metric}_mean"]
        uplift = table[f"treated_{metric}_mean"] - table[f"control_{metric}_mean"]
        error = np.sqrt(sum(_variance(table, group, metric) / sizes[group] for group in ("treated", "control")))
        table[f"{metric}_uplift"] = uplift
        table[f"{metric}_uplift_ci_low"] = uplift - Z_95 * error
        table[f"{metric}_uplift_ci_high"] = uplift + Z_95 * error
    return table


def _variance(table: pd.DataFrame, group: str, metric: str) -> pd.Series:
    """Welch's sample variance of a mean; p(1 - p) for a proportion."""
    if metric == "retention_rate":
        rate = table[f"{group}_{metric}_mean"]
        return rate * (1 - rate)
    return table[f"{group}_{metric}_var"]
