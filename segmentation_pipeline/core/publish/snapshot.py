"""Publishing one snapshot: its warehouse tables in, every published table swapped in together, its drift out."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from segmentation_pipeline.core.publish import tables
from segmentation_pipeline.core.publish.audiences import (
    AudienceExport,
    audience_export,
    private_folders,
    remove_old_exports,
    validated_emails,
)
from segmentation_pipeline.core.publish.drift import snapshot_drift
from segmentation_pipeline.core.publish.schemas import to_arrow
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import PUBLISHED, DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DRIFT_NUMBERS = ("recency_days", "frequency", "monetary", "avg_order_value", "lifetime_spend")
DRIFT_CATEGORIES = ("rfm_segment", "segment_name", "lifecycle_stage", "value_tier", "primary_device")
"""The columns whose distribution drift the checks judge."""


@dataclass(frozen=True)
class PublishedSnapshot:
    rows: dict[str, int]
    """Rows of each published table."""
    audiences: AudienceExport
    removed_exports: int
    """Old audience export snapshots deleted after this publish (`audience_exports_kept`)."""
    drift: dict
    previous_day: date | None


@dataclass(frozen=True)
class BuiltSnapshot:
    """Every table of a snapshot but `runs`, ready to be written: as frames, or (Spark's) as writers of their own."""

    tables: dict[str, pd.DataFrame]
    written_by: dict[str, Callable[[Path], None]]
    """Tables written by their own writer to the staged path it is given (an executor's, on Spark)."""
    rows: dict[str, int]
    control_group_customers: int
    audiences: AudienceExport
    model_version: str
    drift: dict


def publish_snapshot(
    layout: DataLayout, day: date, settings: PublishSettings, spark: SparkSession | None = None
) -> PublishedSnapshot:
    """Build and publish every table of `day` and its audience export in one journaled write
    (`core/storage/staging.py`): a re-published snapshot's export folder and `runs` file are taken away before its
    other tables are swapped, then the new folder and the new `runs` are renamed in last, so a snapshot listed in
    `runs` always has every table and its export from one publish. Publish days in date order: each snapshot's
    transitions and uplift start from the one published before it. Then the audience exports beyond
    `audience_exports_kept` are deleted. The per-customer work runs on Spark if a session is given."""
    previous = tables.previous_snapshot_day(layout, day)
    if spark is not None:
        from segmentation_pipeline.core.engines import spark_publish

        building = spark_publish.build_snapshot(spark, layout, day, settings, previous)
    else:
        building = nullcontext(build_snapshot(layout, day, settings, previous))
    with building as built:
        manifest = tables.run_manifest(
            day,
            built.rows,
            built.control_group_customers,
            built.model_version,
            tables.validation_summary(layout, day),
            bool(settings.customer_id_salt),
            built.audiences,
        )
        private_folders(layout)
        export = layout.audience_export(day)
        frames = {**built.tables, "runs": manifest}
        write_parquet_files_atomically(
            {layout.published_table(table, day): to_arrow(frame, table) for table, frame in frames.items()},
            layout=layout,
            completion_markers=[export, layout.published_table("runs", day)],
            others={
                export: built.audiences.write,
                **{layout.published_table(table, day): writer for table, writer in built.written_by.items()},
            },
        )
    removed_exports = remove_old_exports(layout, settings.audience_exports_kept, day)
    return PublishedSnapshot(
        {**built.rows, "runs": len(manifest)}, built.audiences, removed_exports, built.drift, previous
    )


def build_snapshot(layout: DataLayout, day: date, settings: PublishSettings, previous_day: date | None):
    """Every table of `day` but `runs` built in this process from the warehouse tables (DuckDB's engine)."""
    inputs = tables.SnapshotInputs(
        *(
            read_snapshot_table(layout, table, day)
            for table in ("customer_features", "rfm_scores", "segment_assignments", "segment_profiles")
        ),
        cut_points=read_snapshot_table(layout, "rfm_cut_points", day),
        memberships=read_snapshot_table(layout, "rule_segment_members", day),
        value=read_snapshot_table(layout, "customer_value", day),
    )
    previous_customers = None
    if previous_day is not None:
        previous_customers = read_snapshot_table(layout, "customer_segments", previous_day, PUBLISHED)
    customers = tables.customer_segments(
        inputs.features, inputs.rfm_scores, inputs.assignments, inputs.memberships, inputs.value, settings
    )
    previous = (previous_day, previous_customers) if previous_day is not None else None
    published = tables.snapshot_tables(
        day, inputs, customers, previous, settings.customer_id_salt, settings.next_actions(layout)
    )
    audiences = audience_export(customers, validated_emails(layout), settings.export_plain_emails)
    assignments = inputs.assignments
    published_customers = published["customer_segments"]
    return BuiltSnapshot(
        tables=published,
        written_by={},
        rows={table: len(frame) for table, frame in published.items()},
        control_group_customers=int(published_customers["in_control_group"].sum()),
        audiences=audiences,
        model_version=str(assignments["model_version"].iloc[0]) if len(assignments) else "",
        drift=snapshot_drift(previous_customers, published_customers, DRIFT_NUMBERS, DRIFT_CATEGORIES),
    )
