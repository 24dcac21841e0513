"""Publishing one snapshot: its warehouse tables in, every published table swapped in together, its drift out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table

DRIFT_NUMBERS = ("recency_days", "frequency", "monetary", "avg_order_value", "lifetime_spend")
DRIFT_CATEGORIES = ("rfm_segment", "segment_name", "lifecycle_stage", "value_tier", "primary_device")
"""The columns whose distribution drift the checks judge."""


@dataclass(frozen=True)
class PublishedSnapshot:
    tables: dict[str, pd.DataFrame]
    audiences: AudienceExport
    removed_exports: int
    """Old audience export snapshots deleted after this publish (`audience_exports_kept`)."""
    drift: dict
    previous_day: date | None


def publish_snapshot(layout: DataLayout, day: date, settings: PublishSettings) -> PublishedSnapshot:
    """Build and publish every table of `day` and its audience export in one journaled write
    (`core/storage/staging.py`): a re-published snapshot's export folder and `runs` file are taken away before its
    other tables are swapped, then the new folder and the new `runs` are renamed in last, so a snapshot listed in
    `runs` always has every table and its export from one publish. Publish days in date order: each snapshot's
    transitions and uplift start from the one published before it. Then the audience exports beyond
    `audience_exports_kept` are deleted."""
    inputs = tables.SnapshotInputs(
        *(
            read_snapshot_table(layout, table, day)
            for table in ("customer_features", "rfm_scores", "segment_assignments", "segment_profiles")
        ),
        cut_points=read_snapshot_table(layout, "rfm_cut_points", day),
        memberships=read_snapshot_table(layout, "rule_segment_members", day),
        value=read_snapshot_table(layout, "customer_value", day),
    )
    previous = tables.previous_snapshot(layout, day)
    customers = tables.customer_segments(
        inputs.features, inputs.rfm_scores, inputs.assignments, inputs.memberships, inputs.value, settings
    )
    published = tables.snapshot_tables(
        day, inputs, customers, previous, settings.customer_id_salt, settings.next_actions(layout)
    )
    audiences = audience_export(customers, validated_emails(layout), settings.export_plain_emails)
    assignments = inputs.assignments
    model_version = str(assignments["model_version"].iloc[0]) if len(assignments) else ""
    published["runs"] = tables.run_manifest(
        day,
        published,
        model_version,
        tables.validation_summary(layout, day),
        bool(settings.customer_id_salt),
        audiences,
    )
    private_folders(layout)
    export = layout.audience_export(day)
    write_parquet_files_atomically(
        {layout.published_table(table, day): to_arrow(frame, table) for table, frame in published.items()},
        layout=layout,
        completion_markers=[export, layout.published_table("runs", day)],
        others={export: audiences.write},
    )
    removed_exports = remove_old_exports(layout, settings.audience_exports_kept, day)
    previous_day, previous_customers = previous if previous else (None, None)
    drift = snapshot_drift(previous_customers, published["customer_segments"], DRIFT_NUMBERS, DRIFT_CATEGORIES)
    return PublishedSnapshot(published, audiences, removed_exports, drift, previous_day)
