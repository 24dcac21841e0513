"""A small published snapshot of four tables whose every file says which publish wrote it, for the crash tests."""

from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import PUBLISHED, DataLayout

DAY = date(2026, 11, 22)
TABLES = ("customer_segments", "segment_profiles", "segment_kpis", "runs")
ROWS = 600


def snapshot_paths(layout: DataLayout) -> list[Path]:
    return [layout.published_table(table, DAY) for table in TABLES]


def publish(layout: DataLayout, version: int) -> None:
    """Every table of the snapshot from publish `version`, `runs` as its completion marker (as `publish_snapshot`)."""
    write_parquet_files_atomically(
        {path: pa.table({"version": [version] * ROWS}) for path in snapshot_paths(layout)},
        layout=layout,
        completion_markers=[layout.published_table("runs", DAY)],
    )


def versions(layout: DataLayout) -> dict[str, int | None]:
    """The publish each table's file is from; None for a missing file."""
    return {
        path.parent.parent.name: (pq.read_table(path)["version"][0].as_py() if path.exists() else None)
        for path in snapshot_paths(layout)
    }


def glob_rows(layout: DataLayout, table: str) -> int:
    """Rows BI counts with a glob that does not say `.parquet` (the one that counted staged files before)."""
    pattern = (layout.published / table / "*" / "*").as_posix()
    with duckdb.connect() as con:  # one of its own: the files of a write are staged by several threads
        return con.sql(f"SELECT count(*) FROM read_parquet('{pattern}')").fetchall()[0][0]


def visible_files(layout: DataLayout) -> list[str]:
    """Every file under the table folders, as a table glob `published/*/*/*` lists them."""
    return sorted(path.relative_to(layout.root).as_posix() for path in (layout.root / PUBLISHED).glob("*/*/*"))


def staging_leftovers(layout: DataLayout) -> list[str]:
    return sorted(path.name for path in layout.staging.iterdir()) if layout.staging.exists() else []
