"""Writes that readers never see half done: a file is written under a hidden temporary name and renamed into place."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq


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
