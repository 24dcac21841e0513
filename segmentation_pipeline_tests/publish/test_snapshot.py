"""Re-publishing a snapshot: while its tables and audience export are being swapped it is not listed in `runs`, and
afterwards every table and the export are from the new publish."""

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.publish import snapshot
from segmentation_pipeline.core.publish.audiences import AudienceExport
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.core.storage import staging
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import published_snapshots

DAY = date(2026, 11, 22)
TABLES = ("customer_segments", "segment_profiles", "segment_kpis", "segment_transitions")


def stub_the_table_building(monkeypatch, publish: list[int]) -> None:
    """Published tables that only say which publish built them (`publish[0]`), so the test is about the swap."""
    monkeypatch.setattr(snapshot, "read_snapshot_table", lambda *args: pd.DataFrame({"model_version": []}))
    monkeypatch.setattr(snapshot.tables, "customer_segments", lambda *args: None)
    monkeypatch.setattr(snapshot, "validated_emails", lambda layout: None)
    monkeypatch.setattr(
        snapshot,
        "audience_export",
        lambda *args: AudienceExport({"rfm/x.csv": pd.DataFrame({"publish": publish})}, pd.DataFrame(), 1, 0, False),
    )
    monkeypatch.setattr(
        snapshot.tables,
        "snapshot_tables",
        lambda *args: {table: pd.DataFrame({"customer_id": ["c1"], "publish": publish}) for table in TABLES},
    )
    monkeypatch.setattr(snapshot.tables, "validation_summary", lambda *args: {})
    monkeypatch.setattr(snapshot.tables, "run_manifest", lambda day, *args: pd.DataFrame({"publish": publish}))
    monkeypatch.setattr(snapshot, "to_arrow", lambda frame, table: pa.Table.from_pandas(frame, preserve_index=False))
    monkeypatch.setattr(snapshot, "snapshot_drift", lambda *args: {})


def publishes(layout: DataLayout) -> dict[str, int]:
    return {
        path.parent.parent.name: pq.read_table(path)["publish"][0].as_py()
        for path in sorted(layout.published.glob("*/*/part-0.parquet"))
    }


def test_a_republished_snapshot_is_not_listed_in_runs_while_its_tables_are_swapped(tmp_path, monkeypatch):
    layout, publish = DataLayout(tmp_path), [1]
    stub_the_table_building(monkeypatch, publish)
    snapshot.publish_snapshot(layout, DAY, PublishSettings())
    assert published_snapshots(layout) == [DAY]

    real_replace, listed_while_swapping = os.replace, {}
    export = layout.audience_export(DAY)

    def note_whether_listed(source, destination):
        real_replace(source, destination)
        table = Path(destination).parent.parent.name
        if Path(destination).name == "part-0.parquet":
            listed_while_swapping[table] = DAY in published_snapshots(layout)
        elif Path(destination) == export:
            listed_while_swapping["exports/audiences"] = DAY in published_snapshots(layout)

    monkeypatch.setattr(staging.os, "replace", note_whether_listed)
    publish[0] = 2
    snapshot.publish_snapshot(layout, DAY, PublishSettings())

    assert listed_while_swapping == dict.fromkeys((*TABLES, "exports/audiences"), False) | {"runs": True}
    assert list(listed_while_swapping)[-2:] == ["exports/audiences", "runs"]  # renamed in last
    assert (export / "rfm" / "x.csv").read_text() == "publish\n2\n"
    assert publishes(layout) == dict.fromkeys((*TABLES, "runs"), 2)
    assert published_snapshots(layout) == [DAY]
    assert list(layout.staging.iterdir()) == []
