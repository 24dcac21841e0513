"""A real `kill -9` of a process that re-publishes a snapshot, at several points of the write, then `recover`: the
tables are either all from the old publish or all from the new one, never a mix; while a mix is on disk the snapshot
is not listed in `runs`; no staged file is ever visible to a table glob; the staging area ends empty."""

import subprocess
import sys
from pathlib import Path

import pytest

from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.staging import recover
from segmentation_pipeline_tests.storage.snapshot_files import (
    ROWS,
    TABLES,
    glob_rows,
    publish,
    snapshot_paths,
    staging_leftovers,
    versions,
)

KILLER = """
import os, signal, sys
from pathlib import Path
import pyarrow.parquet as pq
from segmentation_pipeline.core.storage import atomic
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline_tests.storage.snapshot_files import publish

root, point = Path(sys.argv[1]), sys.argv[2]
real_write, real_replace = pq.write_table, os.replace
written = []

def write_table(table, where, **options):
    real_write(table, where, **options)
    written.append(where)
    if point == "while staging" and len(written) == 2:
        os.kill(os.getpid(), signal.SIGKILL)

def replace(source, destination):
    name = Path(destination).as_posix()
    if point == "journal drafted" and name.endswith("journal.json"):
        os.kill(os.getpid(), signal.SIGKILL)
    real_replace(source, destination)
    if point == "runs withdrawn" and "withdrawn" in name:
        os.kill(os.getpid(), signal.SIGKILL)
    if point == "between renames" and "segment_profiles" in name:
        os.kill(os.getpid(), signal.SIGKILL)
    if point == "all renamed" and "/runs/" in name:
        os.kill(os.getpid(), signal.SIGKILL)

atomic.pq.write_table, os.replace = write_table, replace
publish(DataLayout(root), 2)
"""

REPOSITORY = Path(__file__).parents[2]
OLD, NEW = dict.fromkeys(TABLES, 1), dict.fromkeys(TABLES, 2)
UNLISTED_MIX = {"customer_segments": 2, "segment_profiles": 2, "segment_kpis": 1, "runs": None}


@pytest.mark.parametrize(
    ("point", "on_disk", "recovered"),
    [
        ("while staging", OLD, OLD),
        ("journal drafted", OLD, OLD),
        ("runs withdrawn", OLD | {"runs": None}, NEW),
        ("between renames", UNLISTED_MIX, NEW),
        ("all renamed", NEW, NEW),
    ],
)
def test_a_kill_at_any_point_is_repaired_into_one_complete_publish(tmp_path, point, on_disk, recovered):
    layout = DataLayout(tmp_path)
    publish(layout, 1)

    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path), point], capture_output=True, text=True, cwd=REPOSITORY
    )

    assert killed.returncode == -9, killed.stderr
    assert versions(layout) == on_disk  # a mix only ever with the snapshot out of `runs`
    assert glob_rows(layout, "customer_segments") == ROWS  # staged files are never counted
    assert len(staging_leftovers(layout)) == 1
    assert recover(layout) == 1
    assert versions(layout) == recovered
    assert staging_leftovers(layout) == []
    assert sorted(path.name for path in tmp_path.rglob("*") if path.is_file()) == ["part-0.parquet"] * len(TABLES)
    assert [path.exists() for path in snapshot_paths(layout)] == [True] * len(TABLES)
