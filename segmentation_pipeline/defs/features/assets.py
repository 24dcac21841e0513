"""Features and RFM: per-customer features and R/F/M scores for each snapshot date."""

from datetime import date
from pathlib import Path

import dagster as dg

from segmentation_pipeline.core.features.customer_features import FeatureSettings, compute_features
from segmentation_pipeline.core.features.rfm import (
    DEFAULT_SEGMENT_MAP,
    cut_points_from_table,
    cut_points_table,
    load_segment_map,
    score_customers,
)
from segmentation_pipeline.core.storage.tables import has_snapshot_table, read_snapshot_table, write_snapshot_table
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days
from segmentation_pipeline.defs.resources import DataRoot

DEFAULT_FEATURES = FeatureSettings()


class FeatureConfig(dg.Config):
    lookback_days: int = DEFAULT_FEATURES.lookback_days
    """Window for frequency and monetary."""
    usage_window_days: int = DEFAULT_FEATURES.usage_window_days
    """Window for behavioural (usage) features."""
    new_customer_days: int = DEFAULT_FEATURES.new_customer_days
    active_days: int = DEFAULT_FEATURES.active_days
    at_risk_days: int = DEFAULT_FEATURES.at_risk_days
    lapsed_days: int = DEFAULT_FEATURES.lapsed_days


class RfmConfig(dg.Config):
    segment_map_file: str = ""
    """JSON file mapping segment names to R/F(/M) score blocks; empty = the built-in 10-segment R x F map."""
    freeze_cut_points_from: str = ""
    """Snapshot date (YYYY-MM-DD) whose cut points score every snapshot, so a score keeps meaning the same spend
    level across months; empty = fit cut points on each snapshot's own customers."""


@dg.asset(
    group_name="features",
    kinds={"duckdb", "parquet"},
    deps=["validated_customers", "validated_orders", "validated_survey_responses", "validated_usage_events"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="One row per customer known at the end of the snapshot day: value, behaviour, survey, CRM, lifecycle.",
)
def customer_features(
    context: dg.AssetExecutionContext, config: FeatureConfig, data_root: DataRoot
) -> dg.MaterializeResult:
    layout = data_root.layout
    settings = FeatureSettings(**config.model_dump())
    rows = 0
    for day in partition_days(context):
        features = compute_features(layout, day, settings)
        write_snapshot_table(layout, "customer_features", day, features)
        rows = len(features)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(
    group_name="features",
    kinds={"pandas", "parquet"},
    deps=["customer_features"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="R, F, M scores 1-5 from tie-safe cut points on the snapshot's buyers, and the named RFM segment.",
)
def rfm_scores(context: dg.AssetExecutionContext, config: RfmConfig, data_root: DataRoot) -> dg.MaterializeResult:
    layout = data_root.layout
    segment_map = load_segment_map(Path(config.segment_map_file)) if config.segment_map_file else DEFAULT_SEGMENT_MAP
    frozen, fitted_on = None, None
    if config.freeze_cut_points_from:
        fitted_on = date.fromisoformat(config.freeze_cut_points_from)
        if not has_snapshot_table(layout, "rfm_cut_points", fitted_on):
            raise FileNotFoundError(
                f"freeze_cut_points_from={fitted_on}: no cut points of that snapshot; build that snapshot first"
            )
        frozen = cut_points_from_table(read_snapshot_table(layout, "rfm_cut_points", fitted_on))
    for day in partition_days(context):
        features = read_snapshot_table(layout, "customer_features", day)
        scores, cut_points = score_customers(features, segment_map, frozen)
        write_snapshot_table(layout, "rfm_scores", day, scores)
        table = cut_points_table(cut_points, features[features["has_orders"]])
        write_snapshot_table(layout, "rfm_cut_points", day, table.assign(fitted_on=fitted_on or day, snapshot_date=day))
    segment_counts = scores["rfm_segment"].value_counts().sort_index()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(scores),
            "customers_per_rfm_segment": dg.MetadataValue.md(segment_counts.to_frame("customers").to_markdown()),
        }
    )
