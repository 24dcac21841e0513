"""Atomic multi-file writes: a crash or a failure while writing leaves every target as it was, and no partial file;
a crash after the commit is completed by the next write or `recover`."""

import errno
import fcntl
import os
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.core.storage import atomic as storage
from segmentation_pipeline.core.storage import staging
from segmentation_pipeline.core.storage.atomic import (
    write_parquet_atomically,
    write_parquet_files_atomically,
    write_text_atomically,
)
from segmentation_pipeline.core.storage.durable import StorageError
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.staging import recover, staging_area
from segmentation_pipeline_tests.storage.snapshot_files import (
    DAY,
    ROWS,
    TABLES,
    glob_rows,
    publish,
    snapshot_paths,
    staging_leftovers,
    versions,
    visible_files,
)


def test_a_crash_mid_publish_leaves_the_previous_snapshot_whole_and_no_partial_files(tmp_path, monkeypatch):
    paths = [tmp_path / name / "snapshot_date=2026-11-22" / "part-0.parquet" for name in ("a", "b", "c")]
    write_parquet_files_atomically({path: pa.table({"version": [1]}) for path in paths})
    before = {path: path.read_bytes() for path in paths}

    real_write = pq.write_table
    written = []

    def crash_on_third_file(table, where, **options):
        if len(written) == 2:
            Path(where).write_bytes(b"PAR1 half a file")  # the crash leaves a partial temporary file behind
            raise OSError("disk full")
        written.append(where)
        real_write(table, where, **options)

    monkeypatch.setattr(storage.pq, "write_table", crash_on_third_file)
    with pytest.raises(OSError, match="disk full"):
        write_parquet_files_atomically({path: pa.table({"version": [2]}) for path in paths})

    assert {path: path.read_bytes() for path in paths} == before  # none of the new tables became visible
    assert sorted(file.name for file in tmp_path.rglob("*") if file.is_file()) == ["part-0.parquet"] * 3
    monkeypatch.setattr(storage.pq, "write_table", real_write)
    write_parquet_files_atomically({path: pa.table({"version": [2]}) for path in paths})  # a re-run replaces all
    assert [pq.read_table(path)["version"].to_pylist() for path in paths] == [[2], [2], [2]]


def test_no_staged_file_is_ever_visible_to_a_table_glob(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    publish(layout, 1)
    real_write = pq.write_table
    seen_while_staging = []

    def look_while_staging(table, where, **options):
        real_write(table, where, **options)
        seen_while_staging.append((glob_rows(layout, "customer_segments"), visible_files(layout)))

    monkeypatch.setattr(storage.pq, "write_table", look_while_staging)
    publish(layout, 2)

    old_files = [path.relative_to(tmp_path).as_posix() for path in snapshot_paths(layout)]
    assert seen_while_staging == [(600, sorted(old_files))] * 4  # 600 rows, not 900: the staged file is elsewhere
    assert versions(layout) == dict.fromkeys(TABLES, 2)
    assert visible_files(layout) == sorted(old_files)
    assert staging_leftovers(layout) == []


def test_no_space_left_while_staging_names_the_target_and_keeps_the_previous_snapshot(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    publish(layout, 1)
    before = {path: path.read_bytes() for path in snapshot_paths(layout)}

    def disk_full(table, where, **options):
        Path(where).write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage.pq, "write_table", disk_full)
    with pytest.raises(StorageError) as raised:
        publish(layout, 2)

    assert str(raised.value) == (
        "cannot write published/customer_segments/snapshot_date=2026-11-22/part-0.parquet: no space left on device"
    )
    assert isinstance(raised.value, PipelineError) and isinstance(raised.value, OSError)
    assert {path: path.read_bytes() for path in snapshot_paths(layout)} == before
    assert staging_leftovers(layout) == []


def test_a_rename_denied_before_any_table_changed_retracts_the_write(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    publish(layout, 1)
    before = {path: path.read_bytes() for path in snapshot_paths(layout)}
    real_replace = os.replace

    def deny_renames_into_tables(source, destination):
        if "customer_segments" in str(destination):  # the journal and the withdrawn `runs` move fine
            raise PermissionError(errno.EACCES, "Permission denied")
        real_replace(source, destination)

    monkeypatch.setattr(staging.os, "replace", deny_renames_into_tables)
    with pytest.raises(StorageError) as raised:
        publish(layout, 2)

    assert str(raised.value) == (
        "cannot write published/customer_segments/snapshot_date=2026-11-22/part-0.parquet: permission denied"
    )
    assert {path: path.read_bytes() for path in snapshot_paths(layout)} == before  # `runs` is back in place
    assert staging_leftovers(layout) == []
    assert recover(layout) == 0 and versions(layout) == dict.fromkeys(TABLES, 1)


def test_a_folder_that_cannot_be_written_fails_before_the_commit(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    publish(layout, 1)
    before = {path: path.read_bytes() for path in snapshot_paths(layout)}
    monkeypatch.setattr(storage.os, "access", lambda path, mode: "segment_kpis" not in str(path))

    with pytest.raises(StorageError, match="^cannot write published/segment_kpis/snapshot_date=2026-11-22/part-0"):
        publish(layout, 2)
    assert {path: path.read_bytes() for path in snapshot_paths(layout)} == before
    assert staging_leftovers(layout) == []


def test_no_space_left_for_a_text_file_keeps_the_previous_one(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    report = layout.report(DAY)
    write_text_atomically("<html>old</html>", report)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage, "open", disk_full, raising=False)
    with pytest.raises(StorageError) as raised:
        write_text_atomically("<html>new</html>", report)

    assert str(raised.value) == "cannot write published/reports/snapshot_date=2026-11-22/segments.html: " + (
        "no space left on device"
    )
    assert report.read_text() == "<html>old</html>" and staging_leftovers(layout) == []


def test_a_rename_failing_midway_leaves_the_snapshot_unlisted_until_recover_completes_it(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    publish(layout, 1)
    real_replace = os.replace

    def deny_segment_kpis(source, destination):
        if "segment_kpis" in str(destination):
            raise OSError(errno.EIO, "Input/output error")
        real_replace(source, destination)

    monkeypatch.setattr(staging.os, "replace", deny_segment_kpis)
    with pytest.raises(StorageError) as raised:
        publish(layout, 2)

    assert str(raised.value) == (
        "cannot write published/segment_kpis/snapshot_date=2026-11-22/part-0.parquet: input/output error; "
        "the next run completes this write"
    )
    assert versions(layout) == {"customer_segments": 2, "segment_profiles": 2, "segment_kpis": 1, "runs": None}
    monkeypatch.setattr(staging.os, "replace", real_replace)
    assert recover(layout) == 1
    assert versions(layout) == dict.fromkeys(TABLES, 2)
    assert staging_leftovers(layout) == []


class Crash(BaseException):
    """Stands for the process dying: no `except Exception` handler runs."""


def test_a_crash_between_renames_is_completed_by_the_next_write(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    publish(layout, 1)
    real_replace = os.replace

    def crash_at_segment_profiles(source, destination):
        if "segment_profiles" in str(destination):
            raise Crash
        real_replace(source, destination)

    monkeypatch.setattr(staging.os, "replace", crash_at_segment_profiles)
    with pytest.raises(Crash):
        publish(layout, 2)
    assert versions(layout) == {"customer_segments": 2, "segment_profiles": 1, "segment_kpis": 1, "runs": None}

    monkeypatch.setattr(staging.os, "replace", real_replace)
    write_parquet_atomically(
        pa.table({"x": [1]}), layout.validated("orders", DAY)
    )  # any later write completes it first
    assert versions(layout) == dict.fromkeys(TABLES, 2)
    assert staging_leftovers(layout) == []


def publish_with_export(layout: DataLayout, version: int) -> None:
    """As `publish_snapshot`: the tables, with the export folder and then `runs` as completion markers."""

    def write_export(folder: Path) -> None:
        folder.mkdir()
        (folder / "manifest.csv").write_text(f"version\n{version}\n")

    export = layout.audience_export(DAY)
    write_parquet_files_atomically(
        {path: pa.table({"version": [version] * ROWS}) for path in snapshot_paths(layout)},
        layout=layout,
        completion_markers=[export, layout.published_table("runs", DAY)],
        others={export: write_export},
    )


def export_version(layout: DataLayout) -> int | None:
    manifest = layout.audience_export(DAY) / "manifest.csv"
    return int(manifest.read_text().split()[1]) if manifest.exists() else None


APPLY = [
    ("withdraw", "runs"),
    ("withdraw", "audiences"),
    ("rename", "customer_segments"),
    ("rename", "segment_profiles"),
    ("rename", "segment_kpis"),
    ("rename", "audiences"),
    ("rename", "runs"),
]
"""Every move of re-publishing `publish_with_export`, in order: the markers withdrawn (the last first), then renamed
back last."""
WITHDRAWN, RENAMED = {"runs": None}, dict.fromkeys(TABLES[:3], 2)


@pytest.mark.parametrize(
    ("moves_done", "tables", "export"),
    [
        (0, dict.fromkeys(TABLES, 1), 1),
        (1, dict.fromkeys(TABLES, 1) | WITHDRAWN, 1),  # `runs` is away before anything else moves
        (2, dict.fromkeys(TABLES, 1) | WITHDRAWN, None),
        (3, dict.fromkeys(TABLES, 1) | {"customer_segments": 2} | WITHDRAWN, None),
        (4, dict.fromkeys(TABLES, 1) | {"customer_segments": 2, "segment_profiles": 2} | WITHDRAWN, None),
        (5, RENAMED | WITHDRAWN, None),
        (6, RENAMED | WITHDRAWN, 2),  # `runs` is back only after everything else
    ],
)
def test_a_crash_at_any_move_of_the_apply_leaves_nothing_half_listed_and_the_next_run_completes_it(
    tmp_path, monkeypatch, moves_done, tables, export
):
    """While the tables are a mix, `runs` does not list the snapshot and every file there is whole; `recover` (what
    the next run does first) does the remaining moves, the one that crashed included, each once."""
    layout = DataLayout(tmp_path)
    publish_with_export(layout, 1)
    real_replace = os.replace
    moves, crashed = [], []

    def crash_once(source, destination):
        if Path(destination).name != staging.JOURNAL:  # committing the journal is not a move of the apply
            if len(moves) == moves_done and not crashed:
                crashed.append(destination)
                raise Crash
            withdrawing = Path(destination).name.startswith("withdrawn-")
            target = Path(source if withdrawing else destination).relative_to(tmp_path)
            moves.append(("withdraw" if withdrawing else "rename", target.parts[1]))
        real_replace(source, destination)

    monkeypatch.setattr(staging.os, "replace", crash_once)
    with pytest.raises(Crash):
        publish_with_export(layout, 2)

    assert moves == APPLY[:moves_done]
    assert (versions(layout), export_version(layout)) == (tables, export)
    assert glob_rows(layout, "customer_segments") == ROWS
    assert recover(layout) == 1
    assert moves == APPLY
    assert (versions(layout), export_version(layout)) == (dict.fromkeys(TABLES, 2), 2)
    assert staging_leftovers(layout) == []


def test_recover_removes_abandoned_staging_folders_and_keeps_those_of_live_writers(tmp_path):
    layout = DataLayout(tmp_path)
    assert recover(layout) == 0  # no staging area yet: nothing to do
    abandoned, live = layout.staging / "abandoned", layout.staging / "live"
    for folder in (abandoned, live):
        folder.mkdir(parents=True)
        (folder / "0-part-0.parquet").write_bytes(b"PAR1 half")
    held = os.open(live, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)  # its writer is still running
    try:
        assert recover(layout) == 1
        assert staging_leftovers(layout) == ["live"]
    finally:
        os.close(held)
    assert recover(layout) == 1 and staging_leftovers(layout) == []


def test_outside_a_data_root_files_are_staged_beside_their_folders(tmp_path):
    target = tmp_path / "models" / "quarter=2026-10-01" / "card.json"
    write_text_atomically("{}", target)
    assert staging_area([tmp_path / "quarter=2026-10-01" / "card.json"], None) == tmp_path / ".staging"
    assert staging_area([target], None) == tmp_path / ".staging"  # `models/` is a data root's folder
    assert (
        DataLayout.enclosing(layout_file := tmp_path / "data" / "published" / "t" / "d" / "f")
        == DataLayout(tmp_path / "data")
        and layout_file.parent.name == "d"
    )


def test_the_first_recover_removes_temporary_files_left_beside_tables_by_earlier_versions(tmp_path):
    layout = DataLayout(tmp_path)
    paths = snapshot_paths(layout)
    for path in paths:
        path.parent.mkdir(parents=True)
        pq.write_table(pa.table({"version": [1] * ROWS}), path)
    leftover = paths[0].parent / f".part-0.parquet.{'0123456789abcdef' * 2}.tmp"  # a kill while writing, before
    pq.write_table(pa.table({"version": [2] * 300}), leftover)
    kept = layout.published / ".notes.tmp"  # not one of ours
    kept.write_text("mine")
    assert glob_rows(layout, "customer_segments") == 900

    assert recover(layout) == 1
    assert glob_rows(layout, "customer_segments") == 600
    assert kept.exists() and layout.staging.is_dir()
    assert recover(layout) == 0


def test_any_later_write_removes_the_staging_folders_of_crashed_writers(tmp_path):
    layout = DataLayout(tmp_path)
    publish(layout, 1)
    abandoned = layout.staging / "abandoned"
    abandoned.mkdir()
    (abandoned / "0-part-0.parquet").write_bytes(b"PAR1 half")

    write_text_atomically("<html></html>", layout.report(DAY))
    assert staging_leftovers(layout) == [] and versions(layout) == dict.fromkeys(TABLES, 1)


def test_no_space_left_to_commit_the_journal_keeps_the_previous_snapshot(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    publish(layout, 1)
    before = {path: path.read_bytes() for path in snapshot_paths(layout)}

    def disk_full(source, destination):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(staging.os, "replace", disk_full)
    with pytest.raises(StorageError) as raised:
        publish(layout, 2)

    assert str(raised.value) == (
        "cannot write published/customer_segments/snapshot_date=2026-11-22/part-0.parquet and 3 more file(s): "
        "no space left on device"
    )
    assert {path: path.read_bytes() for path in snapshot_paths(layout)} == before
    assert staging_leftovers(layout) == []


def test_writing_no_files_is_a_no_op(tmp_path):
    write_parquet_files_atomically({}, layout=DataLayout(tmp_path))
    assert list(tmp_path.iterdir()) == []


def test_the_files_of_one_write_share_one_modification_time_whichever_thread_finishes_last(tmp_path):
    def slow_writer(staged: Path) -> None:
        time.sleep(0.05)
        staged.write_text("rows")

    rows, rollup = tmp_path / "rows.txt", tmp_path / "rollup.txt"
    storage.write_files_atomically({rows: slow_writer, rollup: lambda staged: staged.write_text("rollup")})
    assert rows.stat().st_mtime_ns == rollup.stat().st_mtime_ns
