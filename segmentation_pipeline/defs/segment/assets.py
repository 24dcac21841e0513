"""Segment: behavioural segments from k-means on the snapshot's standardised features, named by what sets them apart."""

import dagster as dg
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.clustering import ClusterSettings, segment_customers
from segmentation_pipeline.core.storage import write_parquet_atomically
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days
from segmentation_pipeline.defs.resources import DataRoot


class SegmentConfig(dg.Config):
    k_min: int = 3
    k_max: int = 8
    fixed_k: int | None = None
    """Use exactly this many segments instead of choosing k by silhouette."""
    seed: int = 42


@dg.asset(
    group_name="segment",
    kinds={"scikitlearn", "parquet"},
    deps=["customer_features"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Each customer's behavioural segment (id and generated name) and a profile per segment.",
)
def behavioural_segments(
    context: dg.AssetExecutionContext, config: SegmentConfig, data_root: DataRoot
) -> dg.MaterializeResult:
    layout = data_root.layout
    settings = ClusterSettings(**config.model_dump())
    for day in partition_days(context):
        features = pq.read_table(layout.snapshot_table(layout.warehouse, "customer_features", day)).to_pandas()
        segmentation = segment_customers(features, settings)
        for table, frame in (
            ("segment_assignments", segmentation.assignments),
            ("segment_profiles", segmentation.profiles),
        ):
            write_parquet_atomically(
                pa.Table.from_pandas(frame, preserve_index=False), layout.snapshot_table(layout.warehouse, table, day)
            )
    silhouettes = "\n".join(f"| {k} | {score:.3f} |" for k, score in segmentation.silhouette_by_k.items())
    return dg.MaterializeResult(
        metadata={
            "k": segmentation.k,
            "silhouette_by_k": dg.MetadataValue.md("| k | silhouette |\n| --- | --- |\n" + silhouettes),
            "segments": dg.MetadataValue.md(
                segmentation.profiles[["segment_id", "segment_name", "customers", "share", "description"]].to_markdown(
                    index=False
                )
            ),
        }
    )
