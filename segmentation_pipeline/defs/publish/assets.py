"""Publish: the Parquet tables BI reads, one `snapshot_date=YYYY-MM-DD/` folder per snapshot; a snapshot's tables
are staged, then swapped in together."""

import dagster as dg
import pyarrow.parquet as pq

from segmentation_pipeline.core import publish
from segmentation_pipeline.core.storage import write_parquet_files_atomically
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days
from segmentation_pipeline.defs.resources import DataRoot

PUBLISHED_TABLES = {
    "customer_segments": (
        "One row per customer: RFM values, scores and segment, behavioural segment, lifecycle; no personal data."
    ),
    "segment_profiles": "One row per behavioural segment: name, description, size, share, revenue share, key metrics.",
    "rfm_cut_points": "The value range behind every R, F and M score of the snapshot, to reproduce any score.",
    "rule_segment_members": "One row per customer and rule or manual segment the customer belongs to.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["published", table],
            group_name="publish",
            kinds={"parquet"},
            deps=["customer_features", "rfm_scores", "behavioural_segments", "rule_segments"],
            description=description,
        )
        for table, description in PUBLISHED_TABLES.items()
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def published_tables(context: dg.AssetExecutionContext, data_root: DataRoot):
    layout = data_root.layout
    for day in partition_days(context):
        features, rfm, assignments, profiles, cut_points, memberships = (
            pq.read_table(layout.snapshot_table(layout.warehouse, table, day)).to_pandas()
            for table in (
                "customer_features",
                "rfm_scores",
                "segment_assignments",
                "segment_profiles",
                "rfm_cut_points",
                "rule_segment_members",
            )
        )
        tables = {
            "customer_segments": publish.customer_segments(features, rfm, assignments, memberships),
            "segment_profiles": publish.segment_profiles(profiles, day),
            "rfm_cut_points": cut_points,
            "rule_segment_members": memberships.assign(snapshot_date=day),
        }
        write_parquet_files_atomically(
            {layout.published_table(table, day): publish.to_arrow(frame, table) for table, frame in tables.items()}
        )
    for table, frame in tables.items():
        yield dg.MaterializeResult(
            asset_key=["published", table],
            metadata={
                "dagster/row_count": len(frame),
                "path": dg.MetadataValue.path(str(layout.published / table)),
            },
        )
