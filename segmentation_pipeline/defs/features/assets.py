"""Features and RFM: per-customer features and R/F/M scores for each snapshot date."""

import dagster as dg

from segmentation_pipeline.core.features.customer_features import build_features
from segmentation_pipeline.core.features.rfm import frozen_cut_points, score_snapshot, segment_map_of
from segmentation_pipeline.core.features.rollups import refresh_rollups
from segmentation_pipeline.defs.features.resources import FeaturesResource, RfmResource
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days, per_day_metadata
from segmentation_pipeline.defs.resources import DATA_ROOT_POOL, DataRoot, EngineResource, SparkResource


@dg.asset(
    pool=DATA_ROOT_POOL,
    group_name="features",
    kinds={"duckdb", "spark", "parquet"},
    deps=["validated_customers", "validated_orders", "validated_survey_responses", "validated_usage_events"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="One row per customer known at the end of the snapshot day: value, behaviour, survey, CRM, lifecycle.",
)
def customer_features(
    context: dg.AssetExecutionContext,
    data_root: DataRoot,
    features: FeaturesResource,
    engine: EngineResource,
    spark: SparkResource,
) -> dg.MaterializeResult:
    layout, settings = data_root.layout, features.settings()
    session = spark.session() if engine.is_spark else None
    rebuilt = refresh_rollups(layout, session)
    if any(rebuilt.values()):
        context.log.info(f"rebuilt stale daily rollups: { ({name: len(days) for name, days in rebuilt.items()}) } days")
    counts = {}
    for day in partition_days(context):
        counts[day] = {"customers": build_features(layout, day, settings, session)}
    return dg.MaterializeResult(metadata={**per_day_metadata(counts, row_count="customers"), "engine": engine.engine})


@dg.asset(
    pool=DATA_ROOT_POOL,
    group_name="features",
    kinds={"pandas", "spark", "parquet"},
    deps=["customer_features"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="R, F, M scores 1-5 from tie-safe cut points on the snapshot's buyers, and the named RFM segment.",
)
def rfm_scores(
    context: dg.AssetExecutionContext,
    data_root: DataRoot,
    rfm: RfmResource,
    engine: EngineResource,
    spark: SparkResource,
) -> dg.MaterializeResult:
    layout, settings = data_root.layout, rfm.settings()
    segment_map = segment_map_of(settings)
    frozen = frozen_cut_points(layout, settings)
    session = spark.session() if engine.is_spark else None
    counts = {}
    for day in partition_days(context):
        snapshot = score_snapshot(layout, day, segment_map, frozen, session)
        counts[day] = {"customers": snapshot.customers, "buyers": snapshot.buyers}
    segment_counts = snapshot.segment_counts.sort_index()
    return dg.MaterializeResult(
        metadata={
            **per_day_metadata(counts, row_count="customers"),
            "customers_per_rfm_segment": dg.MetadataValue.md(segment_counts.to_frame("customers").to_markdown()),
            "engine": engine.engine,
        }
    )
