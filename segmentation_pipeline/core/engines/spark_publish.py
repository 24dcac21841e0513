"""Publishing a snapshot on Spark: `customer_segments` joined by Spark and finished per batch by the driver's own
pandas code on the executors (value tier, control group, pseudonymised ids), written by one executor task into the
data root's staging area and committed with the snapshot's other tables; the per-segment tables from aggregates.

The KPIs and the overlap are the pandas functions' own additive totals, computed per batch and summed by Spark; the
transitions and the uplift join the previous snapshot's customers by id on Spark, each customer's moves and outcomes
made per batch by the pandas code, then counted per segment pair and reduced to per-segment statistics; the personas
aggregate each customer's traits (computed per batch by the pandas code) per segment; the drift checks count levels
and bins on both snapshots around exact order statistics; the audience export's files are written by the executors
(`spark_audiences.py`). The driver receives only aggregates (README: Running on Spark).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import functions as F

from segmentation_pipeline.core.engines.spark_audiences import audience_export
from segmentation_pipeline.core.engines.spark_frames import (
    first_value,
    joined_schema,
    map_frames,
    output_schema,
    read_table,
    row_count,
    select_schema,
    write_one_file,
)
from segmentation_pipeline.core.engines.spark_scoring import order_statistics, tier_thresholds
from segmentation_pipeline.core.publish import tables
from segmentation_pipeline.core.publish.drift import (
    CHANGED_COLUMNS,
    categorical_psi_from_counts,
    edges_from_order_statistics,
    no_drift,
    psi_from_counts,
    quantile_positions,
    share_change_from_counts,
)
from segmentation_pipeline.core.publish.kpis import (
    TOTAL_KEYS,
    TOTALS,
    kpi_totals,
    kpis_from_totals,
    value_figures_from_totals,
)
from segmentation_pipeline.core.publish.memberships import SEGMENT_COLUMNS, SEGMENT_FAMILIES, SEGMENT_LIST_TYPE
from segmentation_pipeline.core.publish.overlap import PAIR_KEYS, overlap_from_counts, shared_counts
from segmentation_pipeline.core.publish.personas import (
    COUNTED_TRAITS,
    MEDIAN_TRAIT,
    PERSONA_FEATURES,
    SUMMED_TRAITS,
    PersonaAggregates,
    persona_traits,
    personas_from_aggregates,
)
from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS, to_arrow, without_personal_data
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.core.publish.snapshot import DRIFT_CATEGORIES, DRIFT_NUMBERS, BuiltSnapshot
from segmentation_pipeline.core.publish.transitions import (
    FROM,
    MOVE_KEYS,
    TO,
    customer_moves,
    transitions_from_counts,
)
from segmentation_pipeline.core.publish.uplift import (
    BASELINE_COLUMNS,
    METRICS,
    NOW,
    OUTCOME_INPUTS,
    customer_outcomes,
    has_baseline,
    no_uplift,
    uplift_from_statistics,
)
from segmentation_pipeline.core.storage.layout import WAREHOUSE, DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table
from segmentation_pipeline.core.tiers import Thresholds

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CUSTOMER = "customer_id"
CUSTOMER_COLUMNS = PUBLISHED_SCHEMAS["customer_segments"].names


@contextmanager
def build_snapshot(
    session: SparkSession, layout: DataLayout, day: date, settings: PublishSettings, previous_day: date | None
) -> Iterator[BuiltSnapshot]:
    """Every table of `day` but `runs`; `customer_segments` as an executor's writer (valid while the context is
    open: its rows stay cached on the executors until then)."""
    inputs = _scored_customers(session, layout, day, settings)
    scored, source = inputs.frame.persist(StorageLevel.MEMORY_AND_DISK), inputs.schema
    customers, customers_source = scored.select(*CUSTOMER_COLUMNS), select_schema(source, CUSTOMER_COLUMNS)
    published, schema = customers, _published_schema(customers, customers_source, settings.customer_id_salt)
    if settings.customer_id_salt:
        hashed = partial(tables.pseudonymised_rows, salt=settings.customer_id_salt)
        published = map_frames(customers, hashed, customers_source, schema).persist(StorageLevel.MEMORY_AND_DISK)
    audiences = None
    try:
        count, segmented, in_control = scored.agg(
            F.count("*"), F.count("segment_id"), F.sum(F.col("in_control_group").cast("long"))
        ).first()
        tables.check_every_customer_segmented(inputs.customers, count, segmented)
        previous = previous_schema = None
        if previous_day is not None:
            previous, previous_schema = read_table(session, layout.published_table("customer_segments", previous_day))
        totals = _kpi_totals(scored, source, inputs.high_value)
        profiles = tables.segment_profiles(
            read_snapshot_table(layout, "segment_profiles", day), value_figures_from_totals(totals), day
        )
        personas, model_version = _personas(session, layout, day, settings, profiles)
        members, members_schema = _published_memberships(session, layout, day, settings.customer_id_salt)
        frames = {
            "segment_profiles": profiles,
            "segment_kpis": kpis_from_totals(totals, day),
            "segment_transitions": _transitions(published, previous, day, previous_day),
            "segment_uplift": _uplift(published, schema, previous, previous_schema, day, previous_day),
            "rfm_cut_points": read_snapshot_table(layout, "rfm_cut_points", day),
            "segment_personas": personas,
            "segment_overlap": without_personal_data(_overlap(customers, customers_source, day)),
        }
        audiences = audience_export(session, layout, customers, customers_source, settings.export_plain_emails)
        yield BuiltSnapshot(
            tables=frames,
            written_by={
                "customer_segments": lambda staged: write_one_file(published, staged, schema, [CUSTOMER]),
                "rule_segment_members": lambda staged: write_one_file(members, staged, members_schema, MEMBERS_ORDER),
            },
            rows={
                "customer_segments": count,
                "rule_segment_members": row_count(layout.snapshot_table(WAREHOUSE, "rule_segment_members", day)),
                **{table: len(frame) for table, frame in frames.items()},
            },
            control_group_customers=int(in_control or 0),
            audiences=audiences,
            model_version=model_version,
            drift=_drift(published, previous),
        )
    finally:
        if audiences is not None:
            audiences.release()
        published.unpersist()
        scored.unpersist()


def _personas(session: SparkSession, layout: DataLayout, day: date, settings: PublishSettings, profiles) -> tuple:
    """`segment_personas` from Spark's per-segment aggregates of every customer's `personas.persona_traits`
    (computed on the executors), and the model version (the assignments' first row, as on DuckDB)."""
    features, features_schema = read_table(session, layout.snapshot_table(WAREHOUSE, "customer_features", day))
    names = [name for name in features_schema.names if name in {CUSTOMER, *PERSONA_FEATURES}]
    path = layout.snapshot_table(WAREHOUSE, "segment_assignments", day)
    assignments, assignments_schema = read_table(session, path)
    joined = features.select(*names).join(assignments.select(CUSTOMER, "segment_id"), CUSTOMER, "left")
    source = joined_schema(
        [select_schema(features_schema, names), select_schema(assignments_schema, [CUSTOMER, "segment_id"])]
    )
    traits = map_frames(joined, _segment_traits, source, output_schema(_segment_traits, joined, source))
    traits = traits.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        counted = F.explode(
            F.array(*(F.struct(F.lit(trait).alias("trait"), F.col(trait).alias("value")) for trait in COUNTED_TRAITS))
        )
        counts = (
            traits.select("segment_id", counted.alias("counted"))
            .select("segment_id", "counted.trait", "counted.value")
            .where(F.col("value").isNotNull())
            .groupBy("segment_id", "trait", "value")
            .agg(F.count("*").alias("customers"))
        )
        sums = traits.groupBy("segment_id").agg(
            *(F.coalesce(F.sum(trait), F.lit(0.0)).alias(f"{trait}_sum") for trait in SUMMED_TRAITS),
            *(F.count(trait).alias(f"{trait}_count") for trait in SUMMED_TRAITS),
            F.median(MEDIAN_TRAIT).alias(MEDIAN_TRAIT),
        )
        sums = sums.toArrow().to_pandas().set_index("segment_id").sort_index()
        aggregates = PersonaAggregates(counts.toArrow().to_pandas(), sums, sums.pop(MEDIAN_TRAIT))
    finally:
        traits.unpersist()
    personas = personas_from_aggregates(aggregates, profiles, day, settings.next_actions(layout))
    return without_personal_data(personas), first_value(path, "model_version") or ""


def _segment_traits(customers: pd.DataFrame) -> pd.DataFrame:
    """A batch's `persona_traits` beside each customer's segment."""
    return pd.concat([customers[["segment_id"]], persona_traits(customers)], axis=1)


def _drift(current: DataFrame, previous: DataFrame | None) -> dict:
    """`drift.snapshot_drift`'s figures from Spark's counts: the levels of each side, the PSI bin edges from exact
    order statistics of the previous snapshot's values, the values per bin, the changes among customers of both
    snapshots (joined by published id)."""
    if previous is None:
        return no_drift((*DRIFT_NUMBERS, *DRIFT_CATEGORIES))
    levels = {side: _level_counts(frame) for side, frame in (("before", previous), ("now", current))}
    rows = {side: sum(counts[DRIFT_CATEGORIES[0]].values()) for side, counts in levels.items()}
    if not (rows["before"] and rows["now"]):
        return no_drift((*DRIFT_NUMBERS, *DRIFT_CATEGORIES))
    edges = {column: _psi_edges(previous, column) for column in DRIFT_NUMBERS}
    before, now = (_binned_counts(frame, edges) for frame in (previous, current))
    psi = {column: psi_from_counts(before[column], now[column]) for column in DRIFT_NUMBERS}
    psi |= {
        column: categorical_psi_from_counts(levels["before"][column], levels["now"][column])
        for column in DRIFT_CATEGORIES
    }
    shares = {}
    for segment_type, column in SEGMENT_COLUMNS.items():
        before_counts, now_counts = (
            pd.Series(
                {level: count for level, count in levels[side][column].items() if level is not None}, dtype="int64"
            )
            for side in ("before", "now")
        )
        shares[segment_type] = share_change_from_counts(before_counts, rows["before"], now_counts, rows["now"])
    return {"psi": psi, "segment_share_change_pp": shares, "changed_segment_share": _changed_shares(previous, current)}


LEVEL_COLUMNS = sorted({*DRIFT_CATEGORIES, *SEGMENT_COLUMNS.values()})


def _level_counts(frame: DataFrame) -> dict[str, dict]:
    """`drift.level_counts` of each of `LEVEL_COLUMNS` (nulls under None), from one Spark aggregate."""
    pairs = F.explode(
        F.array(
            *(
                F.struct(F.lit(column).alias("column"), F.col(column).cast("string").alias("level"))
                for column in LEVEL_COLUMNS
            )
        )
    )
    counts = frame.select(pairs.alias("pair")).groupBy("pair.column", "pair.level").count().collect()
    levels = {column: {None: 0} for column in LEVEL_COLUMNS}
    for row in counts:
        levels[row["column"]][row["level"]] = row["count"]
    return levels


def _number(column: str):
    """`column` as a double, NaN as null (as pandas reads it)."""
    value = F.col(column).cast("double")
    return F.when(~F.isnan(value), value)


def _psi_edges(previous: DataFrame, column: str) -> np.ndarray:
    """`drift.psi_bin_edges` of the previous snapshot's `column`, from its exact order statistics on Spark."""
    values = previous.select(_number(column).alias("value")).where(F.col("value").isNotNull())
    n = values.count()
    if not n:
        return np.array([])
    lower, upper, gamma = quantile_positions(n)
    ordered = order_statistics(values, n, sorted({*lower.tolist(), *upper.tolist()}))
    at = np.vectorize(ordered.__getitem__, otypes=["float64"])
    return edges_from_order_statistics(at(lower), at(upper), gamma)


def _binned_counts(frame: DataFrame, edges: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`drift.binned_counts` of each numeric column of `frame` with its `edges`, from one Spark aggregate."""
    counts = []
    for column, inner in edges.items():
        value = _number(column)
        bin_of = sum(((value > float(edge)).cast("int") for edge in inner), F.lit(0))
        counts += [F.count(F.when(bin_of == i, True)) for i in range(len(inner) + 1)]
        counts.append(F.count(F.when(value.isNull(), True)))
    row, start, binned = frame.agg(*counts).first(), 0, {}
    for column, inner in edges.items():
        binned[column] = np.array(row[start : start + len(inner) + 2], dtype="int64")
        start += len(inner) + 2
    return binned


def _changed_shares(previous: DataFrame, current: DataFrame) -> dict[str, float | None]:
    """`drift.changed_segment_share` of each of `CHANGED_COLUMNS` from Spark's counts over the customers of both."""
    both = previous.select(CUSTOMER, *(F.col(c).alias(f"{c}_before") for c in CHANGED_COLUMNS)).join(
        current.select(CUSTOMER, *CHANGED_COLUMNS), CUSTOMER
    )
    changed = [F.count(F.when(~F.col(c).eqNullSafe(F.col(f"{c}_before")), True)) for c in CHANGED_COLUMNS]
    customers, *moved = both.agg(F.count("*"), *changed).first()
    return {
        column: count / customers if customers else None for column, count in zip(CHANGED_COLUMNS, moved, strict=True)
    }


@dataclass(frozen=True)
class ScoredCustomers:
    frame: DataFrame
    """Every customer's `customer_segments` row (CRM ids) beside the KPIs' inputs."""
    schema: pa.Schema
    customers: int
    """Customers of the snapshot (rows of its feature table)."""
    high_value: Thresholds | None
    """The KPIs' spend tier thresholds (buyers by `frequency`, not `has_orders` as the value tier's)."""


def _scored_customers(
    session: SparkSession, layout: DataLayout, day: date, settings: PublishSettings
) -> ScoredCustomers:
    """The warehouse tables joined by customer_id on Spark, each batch finished by `tables.customer_rows` with the
    value tier thresholds of the whole snapshot (from the feature table alone, before any join)."""
    frames, schemas = [], []
    for table in ("customer_features", "rfm_scores", "segment_assignments", "customer_value"):
        frame, schema = read_table(session, layout.snapshot_table(WAREHOUSE, table, day))
        if table == "customer_features":
            names = [name for name in schema.names if name in FEATURE_INPUTS]  # customer_id first
            frame, schema = frame.select(*names), select_schema(schema, names)
        frames.append(frame)
        schemas.append(schema)
    features = frames[0]
    members, _ = read_table(session, layout.snapshot_table(WAREHOUSE, "rule_segment_members", day))
    lists = (
        members.where(F.col("segment").isNotNull())
        .groupBy(CUSTOMER)
        .agg(F.array_sort(F.collect_set("segment")).alias("rule_segments"))
    )
    joined = features
    for other in (*frames[1:], lists):
        joined = joined.join(other, CUSTOMER, "left")
    joined = joined.withColumn("rule_segments", F.coalesce("rule_segments", F.array().cast("array<string>")))
    source = joined_schema(schemas, pa.field("rule_segments", SEGMENT_LIST_TYPE))
    spend = F.col("monetary")
    has_spend = (spend > 0) & ~F.isnan(spend)
    buyers = {
        "value_tier": has_spend & F.coalesce("has_orders", F.lit(False)),
        "kpis": has_spend & (F.col("frequency") > 0),
    }
    value_tiers_of = tier_thresholds(features.select(F.when(buyers["value_tier"], spend).alias("spend")), "spend")
    high_value = value_tiers_of
    if features.where(buyers["value_tier"] != buyers["kpis"]).limit(1).count():
        high_value = tier_thresholds(features.select(F.when(buyers["kpis"], spend).alias("spend")), "spend")
    finish = partial(_customer_rows, settings=settings, value_tiers_of=value_tiers_of)
    first = features.select(CUSTOMER).limit(1).collect()
    sample = joined.where(F.col(CUSTOMER) == first[0][0]) if first else joined  # filtered before the joins' shuffles
    scored_schema = output_schema(finish, sample, source)
    customers = row_count(layout.snapshot_table(WAREHOUSE, "customer_features", day))
    return ScoredCustomers(map_frames(joined, finish, source, scored_schema), scored_schema, customers, high_value)


FEATURE_INPUTS = {*CUSTOMER_COLUMNS, "has_orders", *tables.KPI_INPUTS}


def _customer_rows(batch: pd.DataFrame, settings: PublishSettings, value_tiers_of) -> pd.DataFrame:
    """A batch's `customer_segments` rows with the KPIs' other inputs."""
    rows = tables.customer_rows(batch, settings, value_tiers_of)
    return tables.joined_by_customer(rows, batch[tables.KPI_INPUTS])


def _published_schema(customers: DataFrame, source: pa.Schema, salt: str) -> pa.Schema:
    """The schema (pandas metadata included) of the published `customer_segments` file, as DuckDB's path writes it."""
    return output_schema(
        partial(tables.pseudonymised_rows, salt=salt),
        customers,
        source,
        to_arrow=partial(to_arrow, name="customer_segments"),
    )


MEMBERS_ORDER = ["crm_id", "segment", "manual"]
"""The order of the warehouse's `rule_segment_members` (`segment.snapshot.rule_memberships`: by CRM id and segment,
a segment's rule membership before its manual one), which the published copy keeps (as on DuckDB)."""


def _published_memberships(
    session: SparkSession, layout: DataLayout, day: date, salt: str
) -> tuple[DataFrame, pa.Schema]:
    """The published `rule_segment_members` rows (ids pseudonymised per batch) with their `MEMBERS_ORDER` keys,
    and the published file's schema."""
    members, source = read_table(session, layout.snapshot_table(WAREHOUSE, "rule_segment_members", day))
    publish = partial(_published_members, day=day, salt=salt)
    schema = output_schema(publish, members, source, to_arrow=partial(to_arrow, name="rule_segment_members"))
    with_order = partial(_published_members, day=day, salt=salt, keys=True)
    return map_frames(members, with_order, source, output_schema(with_order, members, source)), schema


def _published_members(members: pd.DataFrame, day: date, salt: str, keys: bool = False) -> pd.DataFrame:
    rows = tables.pseudonymised_rows(members.assign(snapshot_date=day), salt, sort=False)
    if keys:
        return rows.assign(crm_id=members["customer_id"], manual=members["source"] != "rule")
    return rows


def _kpi_totals(scored: DataFrame, source: pa.Schema, high_value: Thresholds | None) -> pd.DataFrame:
    """`kpis.kpi_totals` of every customer: each batch's totals (spend tiers ranked over the whole snapshot), summed."""
    per_batch = partial(kpi_totals, high_value=high_value)
    totals = map_frames(scored, per_batch, source, output_schema(per_batch, scored, source))
    summed = totals.groupBy(*TOTAL_KEYS).agg(*(F.sum(name).alias(name) for name in TOTALS)).toArrow().to_pandas()
    return summed.astype({"segment_id": "Int64"})


def _overlap(customers: DataFrame, source: pa.Schema, day: date) -> pd.DataFrame:
    """`segment_overlap` from each batch's `overlap.shared_counts`, summed."""
    columns = list(SEGMENT_FAMILIES.values())
    memberships, schema = customers.select(*columns), select_schema(source, columns)
    counts = map_frames(memberships, shared_counts, schema, output_schema(shared_counts, memberships, schema))
    summed = counts.groupBy(*PAIR_KEYS).agg(F.sum("shared_customers").alias("shared_customers"))
    return overlap_from_counts(summed.toArrow().to_pandas(), day)


def _both_snapshots(current: DataFrame, previous: DataFrame | None) -> DataFrame:
    """The customers of either snapshot by id (published ids on both sides) as `transitions.customer_moves` reads
    them: the segment columns of each suffixed by `FROM` and `TO`, and whether the customer is in each."""

    def side(frame: DataFrame, suffix: str) -> DataFrame:
        renamed = [F.col(column).alias(f"{column}{suffix}") for column in SEGMENT_COLUMNS.values()]
        return frame.select(CUSTOMER, *renamed, F.lit(True).alias(f"in{suffix}"))

    now = side(current, TO)
    if previous is None:
        missing = [F.lit(None).cast("string").alias(f"{column}{FROM}") for column in SEGMENT_COLUMNS.values()]
        return now.select("*", *missing, F.lit(False).alias(f"in{FROM}"))
    both = side(previous, FROM).join(now, CUSTOMER, "full_outer")
    return both.fillna(False, subset=[f"in{FROM}", f"in{TO}"])


MOVES_INPUT = pa.schema(
    [pa.field(f"{column}{suffix}", pa.string()) for suffix in (FROM, TO) for column in SEGMENT_COLUMNS.values()]
    + [pa.field(f"in{suffix}", pa.bool_()) for suffix in (FROM, TO)]
)
MOVES = pa.schema([pa.field(key, pa.string()) for key in MOVE_KEYS])


def _transitions(current: DataFrame, previous: DataFrame | None, day: date, previous_day: date | None) -> pd.DataFrame:
    """`segment_transitions` from Spark's counts of the customers' moves, each batch's made on the executors by
    `transitions.customer_moves` over the join of both snapshots; the shares need every count: on the driver."""
    both = _both_snapshots(current, previous).select(*MOVES_INPUT.names)
    moves = map_frames(both, customer_moves, MOVES_INPUT, MOVES)
    counts = moves.groupBy(*MOVE_KEYS).agg(F.count("*").alias("customers"))
    return transitions_from_counts(counts.toArrow().to_pandas(), day, previous_day)


UPLIFT_KEYS = ["segment_type", "segment", "group"]
OUTCOMES = pa.schema(
    [*(pa.field(metric, pa.float64()) for metric in METRICS), *(pa.field(key, pa.string()) for key in UPLIFT_KEYS)]
)
"""The columns of `uplift.customer_outcomes`, in its order."""


def _uplift(
    current: DataFrame,
    current_schema: pa.Schema,
    previous: DataFrame | None,
    previous_schema: pa.Schema | None,
    day: date,
    previous_day: date | None,
) -> pd.DataFrame:
    """`segment_uplift` from Spark's size, mean and sample variance of each outcome per baseline segment and group,
    over the outcomes of the customers in both snapshots (joined by published id), each batch's made on the
    executors by `uplift.customer_outcomes`."""
    if previous is None or previous_schema is None or not has_baseline(previous.columns):
        return no_uplift()
    before = [CUSTOMER, *BASELINE_COLUMNS, *SEGMENT_FAMILIES.values()]
    now = [current_schema.field(name).with_name(f"{name}{NOW}") for name in OUTCOME_INPUTS]
    both = previous.select(*before).join(
        current.select(CUSTOMER, *(F.col(name).alias(f"{name}{NOW}") for name in OUTCOME_INPUTS)), CUSTOMER
    )
    outcomes = map_frames(
        both, customer_outcomes, joined_schema([select_schema(previous_schema, before)], *now), OUTCOMES
    )
    statistics = outcomes.groupBy(*UPLIFT_KEYS).agg(
        F.count("*").alias("customers"),
        *(
            aggregate(metric).alias(f"{metric}_{kind}")
            for metric in METRICS
            for kind, aggregate in (("mean", F.avg), ("var", F.var_samp))
        ),
    )
    return uplift_from_statistics(statistics.toArrow().to_pandas(), day, previous_day)
