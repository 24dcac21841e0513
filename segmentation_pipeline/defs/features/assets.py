"""Features and RFM: per-customer features and R/F/M scores for each snapshot date."""

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.features import FeatureSettings, compute_features
from segmentation_pipeline.core.rfm import cut_points_table, score_customers
from segmentation_pipeline.core.storage import write_parquet_atomically
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days
from segmentation_pipeline.defs.resources import DataRoot


class FeatureConfig(dg.Config):
    lookback_days: int = 365
    """Window for frequency and monetary."""
    usage_window_days: int = 90
    """Window for behavioural (usage) features."""
    new_customer_days: int = 30
    active_days: int = 90
    at_risk_days: int = 180
    lapsed_days: int = 365


def _write_frame(frame: pd.DataFrame, path) -> None:
    write_parquet_atomically(pa.Table.from_pandas(frame, preserve_index=False), path)


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
        _write_frame(features, layout.snapshot_table(layout.warehouse, "customer_features", day))
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
def rfm_scores(context: dg.AssetExecutionContext, data_root: DataRoot) -> dg.MaterializeResult:
    layout = data_root.layout
    for day in partition_days(context):
        features = pq.read_table(layout.snapshot_table(layout.warehouse, "customer_features", day)).to_pandas()
        scores, cut_points = score_customers(features)
        _write_frame(scores, layout.snapshot_table(layout.warehouse, "rfm_scores", day))
        _write_frame(
            cut_points_table(cut_points, features[features["has_orders"]]).assign(snapshot_date=day),
            layout.snapshot_table(layout.warehouse, "rfm_cut_points", day),
        )
    segment_counts = scores["rfm_segment"].value_counts().sort_index()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": len(scores),
            "customers_per_rfm_segment": dg.MetadataValue.md(segment_counts.to_frame("customers").to_markdown()),
        }
    )
