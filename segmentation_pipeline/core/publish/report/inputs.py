"""What a report shows, read from a published snapshot, and the small tables its charts are drawn from.

Kept free of matplotlib, so the data behind a chart can be checked without drawing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.decomposition import PCA

from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.publish.transitions import GONE, NEW
from segmentation_pipeline.core.segment.model import SegmentModel
from segmentation_pipeline.core.segment.preprocessing import model_inputs
from segmentation_pipeline.core.storage.layout import PUBLISHED, DataLayout
from segmentation_pipeline.core.storage.tables import published_snapshots, read_snapshot_sample, read_snapshot_table
from segmentation_pipeline.core.value.labels import CHURN_RISKS

PROJECTION_SAMPLE = 5000
"""Customers drawn in the 2-D projection: enough to show the shape, few enough to stay readable and small."""
CUSTOMER_COUNTS_SQL = """
SELECT segment_id, r_score, f_score, churn_risk, count(*) AS customers, count(predicted_clv) AS with_prediction,
       -- summed as decimals: the same total whatever order DuckDB's threads add the rows in
       CAST(sum(CASE WHEN isfinite(predicted_clv) THEN CAST(predicted_clv AS DECIMAL(38, 9)) END) AS DOUBLE)
           AS predicted_clv
FROM customers GROUP BY ALL ORDER BY ALL
"""
"""The report's figures of every customer, as counts and sums by segment, R and F score and churn risk: a few
hundred rows however many customers, read by DuckDB from the published file without loading it."""


@dataclass(frozen=True)
class ReportInputs:
    """Everything a report shows. `projection` is a sample of customers already in 2-D (x, y, segment_id);
    `customers` holds the customers' counts and predicted CLV by segment, scores and churn risk (`customer_counts`);
    `value_card` is the card of the value model that scored the snapshot (`{"fitted": False, "reason": ...}` without
    one); `transitions` has the columns of the published segment_transitions table; migration is shown only when
    `previous_snapshot_date` is set."""

    snapshot_date: date
    profiles: pd.DataFrame
    customers: pd.DataFrame
    projection: pd.DataFrame
    value_card: dict
    transitions: pd.DataFrame | None = None
    previous_snapshot_date: date | None = None
    personas: pd.DataFrame | None = None
    overlap: pd.DataFrame | None = None
    month_ago: tuple[date, pd.DataFrame] | None = None
    """The published snapshot about a month earlier (`month_earlier`) and its segment_profiles, for growth."""


def snapshot_report_inputs(layout: DataLayout, day: date, model: SegmentModel, value_card: dict) -> ReportInputs:
    """The report of a published snapshot: its published tables, its customers counted by DuckDB, a sample of them
    projected with `model`, and the card of the value model that scored it."""
    published = {
        table: read_snapshot_table(layout, table, day, PUBLISHED)
        for table in (
            "segment_profiles",
            "segment_transitions",
            "segment_personas",
            "segment_overlap",
        )
    }
    sample = read_snapshot_sample(layout, "customer_features", day, PROJECTION_SAMPLE)
    previous = published["segment_transitions"]["previous_snapshot_date"].dropna()
    earlier = month_earlier(day, published_snapshots(layout))
    return ReportInputs(
        snapshot_date=day,
        profiles=published["segment_profiles"],
        customers=customer_counts(layout.published_table("customer_segments", day)),
        projection=project_customers(model, sample),
        value_card=value_card,
        transitions=published["segment_transitions"],
        previous_snapshot_date=previous.iloc[0] if len(previous) else None,
        personas=published["segment_personas"],
        overlap=published["segment_overlap"],
        month_ago=None
        if earlier is None
        else (earlier, read_snapshot_table(layout, "segment_profiles", earlier, PUBLISHED)),
    )


MONTH_DAYS = range(28, 32)
"""A snapshot this many days earlier counts as the previous month's."""


def month_earlier(day: date, snapshots: list[date]) -> date | None:
    """The published snapshot 28 to 31 days before `day`, the one nearest to 30 days (ties: the earlier); None
    without one."""
    candidates = [s for s in snapshots if (day - s).days in MONTH_DAYS]
    return min(candidates, key=lambda s: (abs((day - s).days - 30), s)) if candidates else None


def priorities(inputs: ReportInputs) -> pd.DataFrame:
    """Behavioural segments by priority, highest first: score = revenue share × (1 + high-churn-risk share) +
    customer share × growth since a month earlier (only growth counts; a missing figure counts 0), ties by name.
    So money comes first, money at risk weighs more, and a fast-growing segment moves up."""
    personas = inputs.personas
    table = personas[["segment_id", "segment_name", "customers", "share", "revenue_share", "high_churn_risk_share"]]
    table = table.assign(segment_name=table["segment_name"].astype(str), growth=np.nan)
    if inputs.month_ago is not None:
        then = inputs.month_ago[1].set_index("segment_id")["customers"]
        table["growth"] = table["customers"] / table["segment_id"].map(then) - 1
    churn = table["high_churn_risk_share"].astype("float64").fillna(0.0)
    gain = table["growth"].astype("float64").fillna(0.0).clip(lower=0.0)
    table["score"] = table["revenue_share"] * (1 + churn) + table["share"] * gain
    return table.sort_values(["score", "segment_name"], ascending=[False, True], ignore_index=True)


def overlap_matrix(overlap: pd.DataFrame) -> pd.DataFrame:
    """share_of_a per segment a (rows) and b (columns), across families in the table's order; the diagonal empty."""
    label = {"behavioural": "", "rfm": "RFM: ", "rule": "rule: "}
    rows = overlap["segment_type_a"].map(label) + overlap["segment_a"].astype(str)
    columns = overlap["segment_type_b"].map(label) + overlap["segment_b"].astype(str)
    order = list(dict.fromkeys(rows))
    matrix = pd.DataFrame({"a": rows, "b": columns, "share": overlap["share_of_a"]})
    return matrix.pivot(index="a", columns="b", values="share").reindex(index=order, columns=order)


def customer_counts(customers: Path | pd.DataFrame) -> pd.DataFrame:
    """`CUSTOMER_COUNTS_SQL` over a published customer_segments file (or the same columns in a frame)."""
    with duckdb_cursor() as con:
        if isinstance(customers, Path):
            con.read_parquet(customers.as_posix()).create_view("customers")
        else:
            con.register("customers", customers)
        return con.sql(CUSTOMER_COUNTS_SQL).to_arrow_table().to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)


def project_customers(model: SegmentModel, sample: pd.DataFrame) -> pd.DataFrame:
    """A sample of customers (evenly spaced in customer id order: `read_snapshot_sample`) in the 2-D principal
    plane of the model's scaled inputs, with the segment the model gives each: the picture of how segments
    separate."""
    xy = pca_2d(model.preprocess.transform(model_inputs(sample, model.settings)))
    return pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "segment_id": model.segment_of(sample)})


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """The first two principal components of `matrix` (rows = customers), seeded so reruns place dots identically."""
    return PCA(n_components=2, random_state=0).fit_transform(matrix)


def largest_first(profiles: pd.DataFrame) -> pd.DataFrame:
    """Largest segment first, in every chart and in the table."""
    return profiles.sort_values(["customers", "segment_id"], ascending=[False, True], ignore_index=True)


def rfm_grid_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Customers per R score (rows, 5 at the top) and F score (columns), zero-filled, from `customer_counts`;
    customers without a score (no completed order) are left out."""
    scored = counts.dropna(subset=["r_score", "f_score"]).astype({"r_score": "int64", "f_score": "int64"})
    rows = sorted(set(range(1, 6)) | set(scored["r_score"]), reverse=True)
    columns = sorted(set(range(1, 6)) | set(scored["f_score"]))
    cells = scored.groupby(["r_score", "f_score"])["customers"].sum().unstack() if len(scored) else pd.DataFrame()
    grid = cells.reindex(index=rows, columns=columns, fill_value=0).fillna(0).astype("int64")
    return grid.rename_axis(index="r_score", columns="f_score")


def customer_total(counts: pd.DataFrame) -> int:
    return int(counts["customers"].sum())


def customers_without_a_score(counts: pd.DataFrame) -> int:
    return int(counts.loc[counts["r_score"].isna() | counts["f_score"].isna(), "customers"].sum())


def customers_without_a_prediction(counts: pd.DataFrame) -> int:
    return customer_total(counts) - int(counts["with_prediction"].sum())


def migration_matrix(inputs: ReportInputs, segment_type: str) -> pd.DataFrame:
    """share_of_from per from segment (rows) and to segment (columns); new customers last, leavers last."""
    moves = inputs.transitions[inputs.transitions["segment_type"] == segment_type]
    matrix = moves.pivot_table(index="from_segment", columns="to_segment", values="share_of_from", aggfunc="sum")
    known = list(largest_first(inputs.profiles)["segment_name"].astype(str)) if segment_type == "behavioural" else []
    seen = set(matrix.index) | set(matrix.columns)
    segments = [s for s in known if s in seen] + sorted(seen - set(known) - {NEW, GONE})
    rows = segments + ([NEW] if NEW in matrix.index else [])
    return matrix.reindex(index=rows, columns=segments + ([GONE] if GONE in matrix.columns else []))


NO_PREDICTION = "no prediction"
"""Customers without a predicted churn risk: no purchase yet, or no value model."""


def churn_risk_mix(inputs: ReportInputs) -> pd.DataFrame:
    """Share of customers per churn risk (columns low, medium, high, no prediction) in all customers (first row) and
    in each behavioural segment (largest first), indexed by name."""
    counts = inputs.customers.assign(churn_risk=inputs.customers["churn_risk"].astype("object").fillna(NO_PREDICTION))
    levels = [*CHURN_RISKS, NO_PREDICTION]
    cells = counts.groupby(["segment_id", "churn_risk"])["customers"].sum().unstack(fill_value=0)
    by_segment = cells.div(cells.sum(axis=1), axis=0).reindex(columns=levels, fill_value=0.0)
    risks = counts.groupby("churn_risk")["customers"].sum()
    overall = (risks / risks.sum()).reindex(levels, fill_value=0.0).rename("All customers")
    profiles = largest_first(inputs.profiles)
    rows = by_segment.reindex(profiles["segment_id"]).set_axis(profiles["segment_name"].astype(str))
    return pd.concat([overall.to_frame().T, rows]).fillna(0.0).rename_axis(index="segment", columns="churn_risk")


def predicted_value_by_segment(inputs: ReportInputs) -> pd.DataFrame:
    """Per behavioural segment (largest first): mean predicted CLV per customer with a prediction, and the segment's
    share of all predicted CLV beside its share of revenue (the lookback window's spend)."""
    profiles = largest_first(inputs.profiles)
    totals = inputs.customers.groupby("segment_id")["predicted_clv"].sum().reindex(profiles["segment_id"])
    return pd.DataFrame(
        {
            "segment_id": profiles["segment_id"],
            "segment_name": profiles["segment_name"].astype(str),
            "mean_predicted_clv": profiles["mean_predicted_clv"].astype("float64"),
            "clv_share": (totals / totals.sum()).to_numpy(),
            "revenue_share": profiles["revenue_share"].astype("float64"),
        }
    )


def holdout_by_frequency(value_card: dict) -> pd.DataFrame | None:
    """The holdout check's mean predicted and actual purchases per calibration frequency group; None without one."""
    rows = value_card.get("holdout", {}).get("by_frequency")
    return pd.DataFrame(rows) if rows else None
