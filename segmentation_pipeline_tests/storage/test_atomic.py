"""Atomic multi-file writes: a crash while writing leaves every target as it was, and no partial file."""

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.storage import atomic as storage
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically


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
