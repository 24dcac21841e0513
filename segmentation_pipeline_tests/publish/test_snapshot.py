"""Re-publishing a snapshot: while its tables and audience export are being swapped it is not listed in `runs`, and
afterwards every table and the export are from the new publish; a crash at any rename of the swap leaves every
listed snapshot whole, and the next run completes the swap."""

import os
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.publish import snapshot
from segmentation_pipeline.core.publish.audiences import AudienceExport, DriverFiles
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.core.storage import staging
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.staging import recover
from segmentation_pipeline.core.storage.tables import published_snapshots

DAY, PREVIOUS = date(2026, 11, 22), date(2026, 11, 21)
TABLES = ("customer_segments", "segment_profiles", "segment_kpis", "segment_transitions")
AUDIENCE_FILES = ("rfm/x.csv", "rule/y.csv")


def stub_the_table_building(monkeypatch, publish: list[int]) -> None:
    """Published tables that only say which publish built them (`publish[0]`), so the test is about the swap."""
    monkeypatch.setattr(snapshot, "read_snapshot_table", lambda *args: pd.DataFrame({"model_version": []}))
    monkeypatch.setattr(snapshot.tables, "customer_segments", lambda *args: None)
    monkeypatch.setattr(snapshot, "validated_emails", lambda layout: None)
    monkeypatch.setattr(
        snapshot,
        "audience_export",
        lambda *args: AudienceExport(
            pd.DataFrame({"file": AUDIENCE_FILES, "customers": 1}),
            1,
            0,
            False,
            DriverFiles({path: pd.DataFrame({"publish": publish}) for path in AUDIENCE_FILES}),
        ),
    )
    monkeypatch.setattr(
        snapshot.tables,
        "snapshot_tables",
        lambda *args: {
            table: pd.DataFrame({"customer_id": ["c1"], "in_control_group": [False], "publish": publish})
            for table in TABLES
        },
    )
    monkeypatch.setattr(snapshot.tables, "validation_summary", lambda *args: {})
    monkeypatch.setattr(
        snapshot.tables,
        "run_manifest",
        lambda *args: pd.DataFrame({"publish": publish, "audience_files": len(args[-1].files)}),
    )
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


class Crash(BaseException):
    """Stands for the process dying: no `except Exception` handler runs."""


def exported(layout: DataLayout, day: date) -> int | None:
    """The publish a snapshot's export folder is from, once it is checked whole (its manifest lists exactly its
    files, with their rows, all from one publish); None without a folder."""
    folder = layout.audience_export(day)
    if not folder.exists():
        return None
    manifest = pd.read_csv(folder / "manifest.csv")
    files = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.csv") if path.parent != folder)
    assert manifest["file"].tolist() == files
    contents = [pd.read_csv(folder / path)["publish"].tolist() for path in files]
    assert [len(rows) for rows in contents] == manifest["customers"].tolist()
    (publish,) = {value for rows in contents for value in rows}
    return publish


def listed(layout: DataLayout) -> dict[date, int]:
    """Each snapshot listed in `runs` and the publish it is from, once checked that its tables, its export and its
    `runs` row (which counts the export's files) are all from that publish."""
    snapshots = {}
    for day in published_snapshots(layout):
        runs = pq.read_table(layout.published_table("runs", day)).to_pylist()[0]
        tables = {pq.read_table(layout.published_table(table, day))["publish"][0].as_py() for table in TABLES}
        assert tables == {runs["publish"]} and exported(layout, day) == runs["publish"]
        assert runs["audience_files"] == len(AUDIENCE_FILES)
        snapshots[day] = runs["publish"]
    return snapshots


def crash_at(point: str, export: Path, runs: Path):
    """A rename that crashes at `point` of the swap: right after the old export is taken away, before the new export
    is renamed in (every table is already swapped), or before the new `runs` is."""
    real_replace = os.replace

    def replace(source, destination):
        if (point == "before the export" and Path(destination) == export) or (
            point == "before runs" and Path(destination) == runs
        ):
            raise Crash
        real_replace(source, destination)
        if point == "old export taken away" and Path(source) == export:
            raise Crash

    return replace


@pytest.mark.parametrize(
    ("point", "export_while_crashed"),
    [("old export taken away", None), ("before the export", None), ("before runs", 2)],
)
def test_a_crash_while_swapping_the_export_leaves_listed_snapshots_whole_and_the_next_run_completes_it(
    tmp_path, monkeypatch, point, export_while_crashed
):
    layout, publish = DataLayout(tmp_path), [1]
    stub_the_table_building(monkeypatch, publish)
    for day in (PREVIOUS, DAY):
        snapshot.publish_snapshot(layout, day, PublishSettings())
    assert listed(layout) == {PREVIOUS: 1, DAY: 1}

    real_replace, publish[0] = os.replace, 2
    monkeypatch.setattr(
        staging.os, "replace", crash_at(point, layout.audience_export(DAY), layout.published_table("runs", DAY))
    )
    with pytest.raises(Crash):
        snapshot.publish_snapshot(layout, DAY, PublishSettings())
    monkeypatch.setattr(staging.os, "replace", real_replace)

    assert listed(layout) == {PREVIOUS: 1}  # the re-published day is out of `runs` until its swap is complete
    assert exported(layout, DAY) == export_while_crashed  # never a half export: no folder, or the whole new one
    assert recover(layout) == 1
    assert listed(layout) == {PREVIOUS: 1, DAY: 2}
    assert publishes(layout) == {table: 2 for table in (*TABLES, "runs")}
    assert list(layout.staging.iterdir()) == []


def test_each_publish_deletes_the_audience_exports_beyond_the_kept_ones_and_counts_them(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    stub_the_table_building(monkeypatch, [1])
    settings = PublishSettings(audience_exports_kept=2)
    removed = [
        snapshot.publish_snapshot(layout, date(2026, 11, day), settings).removed_exports for day in range(18, 23)
    ]
    assert removed == [0, 0, 1, 1, 1]
    assert [day for day, _ in layout.audience_export_folders()] == [date(2026, 11, 21), DAY]
    assert published_snapshots(layout) == [date(2026, 11, day) for day in range(18, 23)]  # published tables stay
