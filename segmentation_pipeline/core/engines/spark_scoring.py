"""Scoring a snapshot's customers on Spark: RFM scores, behavioural segments and predicted value, each customer by
the driver's own pandas and scikit-learn code on the executors (`spark_frames.map_frames`), each table written by
an executor into the data root's staging area and committed by the driver as on DuckDB.

What needs the whole population is computed from aggregates: the RFM cut points from each metric's value counts,
the value tiers from two exact order statistics, the segment profiles from per-segment sums, medians and value
counts. Only those aggregates reach the driver; the fitted models travel to the executors with the tasks.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.engines.spark_frames import (
    map_frames,
    output_schema,
    read_table,
    select_schema,
    write_one_file,
)
from segmentation_pipeline.core.features.rfm import (
    METRICS,
    CutPoints,
    RfmSnapshot,
    SegmentMap,
    cut_points_table_from_counts,
    fit_cut_points_from_counts,
    score_customers,
    value_counts_frame,
)
from segmentation_pipeline.core.segment.profiles import (
    NPS_GROUP,
    PROFILE_FIGURES,
    PROFILE_MODES,
    profile_figures,
    profiles_from_aggregates,
)
from segmentation_pipeline.core.segment.snapshot import ValueSummary
from segmentation_pipeline.core.storage.atomic import write_files_atomically
from segmentation_pipeline.core.storage.layout import WAREHOUSE, DataLayout
from segmentation_pipeline.core.tiers import Thresholds, tier_ranks
from segmentation_pipeline.core.value.model import NoValueModel, ValueModel
from segmentation_pipeline.core.value.summaries import SUMMARY_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from segmentation_pipeline.core.segment.model import SegmentModel

CUSTOMER = "customer_id"
QUANTILE_ACCURACY = 10_000
"""`percentile_approx`'s accuracy: its rank error is at most n / 10,000, inside the brackets that
`order_statistics` reads."""


def write_table(
    layout: DataLayout,
    table: str,
    day: date,
    frame: DataFrame,
    schema: pa.Schema,
    order_by: tuple[str, ...] = (CUSTOMER,),
) -> int:
    """A warehouse table of one snapshot, sorted by customer (the order of the feature table and of DuckDB's
    tables) unless `order_by` says otherwise, written by an executor to a staged file and swapped in by the driver
    (`core/storage/atomic.py`)."""
    written = {}

    def write(staged):
        written["rows"] = write_one_file(frame, staged, schema, list(order_by))

    write_files_atomically({layout.snapshot_table(WAREHOUSE, table, day): write}, layout=layout)
    return written["rows"]


def snapshot_features(session: SparkSession, layout: DataLayout, day: date, columns: list[str]):
    """The snapshot's feature table on Spark (only `columns`), and its Arrow schema restricted to them."""
    frame, schema = read_table(session, layout.snapshot_table(WAREHOUSE, "customer_features", day))
    return frame.select(*columns), select_schema(schema, columns)


def score_rfm(
    session: SparkSession, layout: DataLayout, day: date, segment_map: SegmentMap, frozen: list[CutPoints] | None
) -> RfmSnapshot:
    """`rfm_scores` of `day` written from Spark; the cut points fitted (unless `frozen`) on the buyers' value counts."""
    from pyspark.sql import functions as F

    columns = [CUSTOMER, "has_orders", *(metric.value_column for metric in METRICS)]
    features, schema = snapshot_features(session, layout, day, columns)
    buyers = features.where(F.col("has_orders"))
    counts = {metric.value_column: _value_counts(buyers, metric.value_column) for metric in METRICS}
    cut_points = frozen or [fit_cut_points_from_counts(counts[metric.value_column], metric) for metric in METRICS]
    score = partial(_rfm_frame, segment_map=segment_map, cut_points=cut_points)
    scored_schema = output_schema(score, features, schema)
    customers = write_table(
        layout, "rfm_scores", day, map_frames(features, score, schema, scored_schema), scored_schema
    )
    written, _ = read_table(session, layout.snapshot_table(WAREHOUSE, "rfm_scores", day))
    buyer_count = int(counts[METRICS[0].value_column]["customers"].sum())
    table = cut_points_table_from_counts(cut_points, counts)
    return RfmSnapshot(table, customers, buyer_count, _counts(written, "rfm_segment"))


def _rfm_frame(features: pd.DataFrame, segment_map: SegmentMap, cut_points: list[CutPoints]) -> pd.DataFrame:
    return score_customers(features, segment_map, cut_points)[0]


def _value_counts(frame: DataFrame, column: str) -> pd.DataFrame:
    """`rfm.value_counts` of `column` over `frame`'s rows, aggregated by Spark."""
    from pyspark.sql import functions as F

    counts = frame.groupBy(F.col(column).cast("double").alias("value")).agg(F.count("*").alias("customers"))
    table = counts.toArrow()
    return value_counts_frame(
        table["value"].to_numpy(zero_copy_only=False), table["customers"].to_numpy(zero_copy_only=False)
    )


def _counts(frame: DataFrame, column: str) -> pd.Series:
    """Rows per value of `column` (a few values), sorted by value."""
    table = frame.groupBy(column).count().toArrow()
    counts = pd.Series(table["count"].to_numpy(zero_copy_only=False), index=table[column].to_pylist(), name="count")
    return counts.rename_axis(column).sort_index()


PROFILE_INPUTS = sorted({column for column, _ in PROFILE_FIGURES.values()} | {*PROFILE_MODES.values(), NPS_GROUP})
ASSIGNMENT_COLUMNS = [CUSTOMER, "segment_id", "segment_name", "model_version"]


def assign_segments(
    session: SparkSession, layout: DataLayout, day: date, model: SegmentModel, names: dict[int, str]
) -> pd.DataFrame:
    """`segment_assignments` of `day` written from Spark, and the segment profiles from per-segment aggregates."""
    from pyspark import StorageLevel

    inputs = sorted({CUSTOMER, *model.settings.log_features, *model.settings.share_features, *PROFILE_INPUTS})
    inputs += sorted(set(model.settings.categorical_features) - set(inputs))
    features, schema = snapshot_features(session, layout, day, inputs)
    assign = partial(_assignments_with_inputs, model=model, names=names)
    scored_schema = output_schema(assign, features, schema)
    scored = map_frames(features, assign, schema, scored_schema).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        assignments = scored.select(*ASSIGNMENT_COLUMNS)
        write_table(layout, "segment_assignments", day, assignments, select_schema(scored_schema, ASSIGNMENT_COLUMNS))
        return _profiles(scored, schema, model, names)
    finally:
        scored.unpersist()


def _assignments_with_inputs(features: pd.DataFrame, model: SegmentModel, names: dict[int, str]) -> pd.DataFrame:
    """A batch's assignments (as `segment.snapshot.assign_segments` makes them) beside the profiles' inputs."""
    assignments = model.assign(features, names).assign(model_version=model.version)
    profile_inputs = features[[column for column in PROFILE_INPUTS if column != CUSTOMER]].reset_index(drop=True)
    return pd.concat([assignments, profile_inputs], axis=1)


def _profiles(scored: DataFrame, schema: pa.Schema, model: SegmentModel, names: dict[int, str]) -> pd.DataFrame:
    """`profiles.segment_profiles` from Spark's per-segment aggregates, in the dtypes pandas gives them."""
    from pyspark.sql import functions as F

    spark_aggregates = {"count": F.count, "sum": lambda column: F.coalesce(F.sum(column), F.lit(0)), "mean": F.avg}
    spark_aggregates["median"] = F.median
    aggregates = [spark_aggregates[how](column).alias(name) for name, (column, how) in PROFILE_FIGURES.items()]
    figures = scored.groupBy("segment_id").agg(*aggregates).toArrow().to_pandas().set_index("segment_id")
    empty = schema.empty_table().to_pandas().assign(segment_id=pd.Series(dtype="int64"))
    figures = figures[list(PROFILE_FIGURES)].astype(profile_figures(empty).dtypes.to_dict())
    counts = {
        column: scored.where(F.col(column).isNotNull())
        .groupBy("segment_id", column)
        .agg(F.count("*").alias("customers"))
        .toArrow()
        .to_pandas()
        for column in (*PROFILE_MODES.values(), NPS_GROUP)
    }
    (customers, revenue) = scored.agg(F.count("*"), F.coalesce(F.sum("monetary"), F.lit(0.0))).first()
    return profiles_from_aggregates(figures, counts, customers, revenue, model, names)


def score_value(
    session: SparkSession, layout: DataLayout, day: date, value_model: ValueModel | NoValueModel
) -> ValueSummary:
    """`customer_value` of `day` written from Spark; the predicted value tiers ranked on the whole snapshot."""
    from pyspark.sql import functions as F

    features, schema = snapshot_features(session, layout, day, [CUSTOMER, *SUMMARY_COLUMNS])
    thresholds = None
    if isinstance(value_model, ValueModel):
        clv = partial(_value_frame, model=value_model, day=day, thresholds=None, columns=["predicted_clv"])
        clv_schema = output_schema(clv, features, schema)
        thresholds = tier_thresholds(map_frames(features, clv, schema, clv_schema), "predicted_clv")
    score = partial(_value_frame, model=value_model, day=day, thresholds=thresholds, columns=None)
    scored_schema = output_schema(score, features, schema)
    write_table(layout, "customer_value", day, map_frames(features, score, schema, scored_schema), scored_schema)
    written, _ = read_table(session, layout.snapshot_table(WAREHOUSE, "customer_value", day))
    customers, scored, total = written.agg(F.count("*"), F.count("p_alive"), F.sum("predicted_clv")).first()
    churn_risk = _counts(written.where(F.col("churn_risk").isNotNull()), "churn_risk")
    return ValueSummary(customers, scored, churn_risk, float(total or 0.0))


def _value_frame(
    features: pd.DataFrame,
    model: ValueModel | NoValueModel,
    day: date,
    thresholds: Thresholds | None,
    columns: list[str] | None,
) -> pd.DataFrame:
    scores = model.score(features, day, thresholds)
    return scores[columns] if columns else scores


def tier_thresholds(frame: DataFrame, column: str) -> Thresholds | None:
    """`tiers.tier_thresholds` of `column`'s non-null values, exactly, without collecting them; None without any."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    values = frame.select(F.col(column).cast("double").alias("value")).where(F.col("value").isNotNull())
    values = values.persist(StorageLevel.MEMORY_AND_DISK)  # read several times: computed (scored) once
    try:
        n = values.count()
        if not n:
            return None
        positions = [n - rank for rank in tier_ranks(n)]  # the rank-th highest, 0-based from the lowest
        ordered = order_statistics(values, n, positions)
        return tuple(ordered[position] for position in positions)
    finally:
        values.unpersist()


def order_statistics(values: DataFrame, n: int, positions: list[int]) -> dict[int, float]:
    """The values at the 0-based `positions` of the n non-null doubles of column `value` in ascending order,
    exactly, without collecting them (`_bracketed`); a missed bracket reads every value's count instead."""
    found = _bracketed(values, n, positions)
    if None in found.values():
        everything = _value_counts_of(values)
        found = {position: _at_position(*everything, position) for position in positions}
    return found


def _bracketed(values: DataFrame, n: int, positions: list[int]) -> dict[int, float | None]:
    """The values at `positions` as `order_statistics` finds them: an approximate quantile brackets each position
    (ranks of slack either side), the values inside the brackets come back as value counts (about n / 500 rows per
    bracket at most, a few with ties) and are counted on from the number below each bracket. None where the value is
    outside its bracket: `percentile_approx` at (n - 1) / n is the (n - 1)-th value, so the last position's bracket
    ends one rank short of a maximum held once (the error bound rules out a miss elsewhere)."""
    from pyspark.sql import functions as F

    value = F.col("value")
    margin = max(n // 1000, 100)
    bounds = {position: (max(position - margin, 0), min(position + margin, n - 1)) for position in positions}
    quantiles = sorted({rank / n for pair in bounds.values() for rank in pair})
    approximate = values.agg(F.percentile_approx("value", quantiles, QUANTILE_ACCURACY)).first()[0]
    at = dict(zip(quantiles, approximate, strict=True))
    brackets = {position: (at[low / n], at[high / n]) for position, (low, high) in bounds.items()}
    below = values.agg(*(F.count(F.when(value < low, True)) for low, _ in brackets.values())).first()
    inside = F.lit(False)
    for low, high in set(brackets.values()):
        inside |= value.between(low, high)
    known, counts = _value_counts_of(values.where(inside))
    found = {}
    for (position, (low, high)), start in zip(brackets.items(), below, strict=True):
        within = (known >= low) & (known <= high)
        found[position] = _at_position(known[within], counts[within], position - start)
    return found


def _value_counts_of(values: DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values of column `value`, ascending, and how many rows hold each."""
    table = values.groupBy("value").count().orderBy("value").toArrow()
    return table["value"].to_numpy(zero_copy_only=False), table["count"].to_numpy(zero_copy_only=False)


def _at_position(known: np.ndarray, counts: np.ndarray, position: int) -> float | None:
    """The value at the 0-based `position` of the values `known` (ascending) repeated `counts` times; None outside."""
    ends = np.cumsum(counts)
    if not 0 <= position < (ends[-1] if len(ends) else 0):
        return None
    return float(known[int(np.searchsorted(ends, position, side="right"))])
