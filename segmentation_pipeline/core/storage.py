"""Where the pipeline keeps its files under the data root, and how it writes them so readers never see half a file."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

PART_FILE = "part-0.parquet"


@dataclass(frozen=True)
class DataLayout:
    """The folders under one data root: `landing/` is input, everything else is output of the pipeline."""

    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse"

    @property
    def quarantine(self) -> Path:
        return self.root / "quarantine"

    @property
    def published(self) -> Path:
        return self.root / "published"

    @property
    def models(self) -> Path:
        return self.root / "models"

    def raw(self, source: str, day: date | None) -> Path:
        return _partition_file(self.warehouse / "raw" / source, "date", day)

    def validated(self, source: str, day: date | None) -> Path:
        return _partition_file(self.warehouse / "validated" / source, "date", day)

    def validated_glob(self, source: str) -> Path:
        return self.warehouse / "validated" / source / "date=*" / PART_FILE

    def has_validated_days(self, source: str) -> bool:
        return any(self.validated_files(source))

    def validated_files(self, source: str) -> list[Path]:
        return sorted((self.warehouse / "validated" / source).glob(f"date=*/{PART_FILE}"))

    def rollup(self, name: str, day: date) -> Path:
        """A daily rollup derived from validated data (see `core/warehouse.py`)."""
        return _partition_file(self.warehouse / "rollups" / name, "date", day)

    def rollup_glob(self, name: str) -> Path:
        return self.warehouse / "rollups" / name / "date=*" / PART_FILE

    def rollup_files(self, name: str) -> list[Path]:
        return sorted((self.warehouse / "rollups" / name).glob(f"date=*/{PART_FILE}"))

    def quarantined(self, source: str, day: date | None) -> Path:
        return _partition_file(self.quarantine / source, "date", day)

    def snapshot_table(self, area: Path, table: str, snapshot_date: date) -> Path:
        return _partition_file(area / table, "snapshot_date", snapshot_date)

    def published_table(self, table: str, snapshot_date: date) -> Path:
        return self.snapshot_table(self.published, table, snapshot_date)


def _partition_file(table_dir: Path, key: str, day: date | None) -> Path:
    """Hive-style `key=YYYY-MM-DD/part-0.parquet`; an unpartitioned table keeps its single file at the top."""
    if day is None:
        return table_dir / PART_FILE
    return table_dir / f"{key}={day.isoformat()}" / PART_FILE


def partition_day(path: Path) -> date:
    """The day of a `key=YYYY-MM-DD/part-0.parquet` partition file."""
    return date.fromisoformat(path.parent.name.split("=", 1)[1])


@contextmanager
def staged_file(path: Path) -> Iterator[Path]:
    """A hidden temporary path next to `path`, renamed over it when the block succeeds and removed otherwise: a
    reader sees the previous file or the complete new one, never a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _temporary(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomically(text: str, path: Path) -> None:
    with staged_file(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_parquet_atomically(table: pa.Table, path: Path) -> None:
    """Write next to the target under a hidden name, then rename over it.

    A rename within one folder is atomic, so a reader (or a crash) sees either the previous file or the complete
    new one, never a partial file; the temporary name does not end in `.parquet`, so globs never pick it up.
    """
    write_parquet_files_atomically({path: table})


def write_parquet_files_atomically(tables: dict[Path, pa.Table]) -> None:
    """Write every file under a hidden temporary name first and rename them into place only when all are written.

    A crash while writing (the slow part) leaves every target as it was: a snapshot's tables are swapped together,
    never some new and some old. Temporary files of a failed write are removed.
    """
    staged: dict[Path, Path] = {}
    try:
        for path, table in tables.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            staged[path] = _temporary(path)
            pq.write_table(table, staged[path], compression="zstd")
        for path, temporary in staged.items():
            os.replace(temporary, path)
    finally:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)


def _temporary(path: Path) -> Path:
    """Hidden and not ending in `.parquet`, so globs over a table never pick it up."""
    return path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
