"""Writes that readers never see half done and that a crash never leaves half done: every file is staged in the data
root's staging area (`.staging/`, outside every table folder, so no table glob ever sees it), fsynced, and renamed
into place; a write of several files is committed by a journal first (`staging.py`), so it is all or nothing.

A failure (disk full, permission denied) leaves the previous files as they were and raises a one-line
`StorageError` naming the target. Folders are deleted the same way: renamed into the staging area, then removed.
`layout` is optional everywhere: without it, the data root is found from the path.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable, Collection, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.storage.durable import (
    StorageError,
    create_folders,
    flush,
    fsync,
    fsync_parents,
    make_folders,
    shown,
    storage_error,
)
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.staging import commit, staging_area, write_folder


def write_parquet_atomically(table: pa.Table, path: Path, *, layout: DataLayout | None = None) -> None:
    write_parquet_files_atomically({path: table}, layout=layout)


def write_parquet_files_atomically(
    tables: dict[Path, pa.Table],
    *,
    layout: DataLayout | None = None,
    completion_markers: Collection[Path] = (),
    others: dict[Path, Callable[[Path], None]] | None = None,
    joint: JointWrite | None = None,
) -> None:
    """Stage every file, then swap them all in, in order: after a crash at any point, each target holds either its
    previous file or the new one and, once the next write or `recover` ran, every target holds the new one.

    `completion_markers` (e.g. a snapshot's `runs` file) are targets that say the others are complete: each one is
    taken away before the first rename and renamed into place last (in their order), so it never lists a
    half-swapped set. `others` are targets written by writers of their own, e.g. a whole folder (a folder target must
    be a completion marker: a non-empty folder can only be replaced once the old one is taken away); `joint`'s
    targets are written by one writer together, and renamed first.
    """
    writers = {path: partial(_write_parquet, table) for path, table in tables.items()} | (others or {})
    write_files_atomically(writers, layout=layout, completion_markers=completion_markers, joint=joint)


def write_text_atomically(text: str, path: Path, *, layout: DataLayout | None = None) -> None:
    with staged_file(path, layout=layout) as staged, open(staged, "w", encoding="utf-8") as handle:
        handle.write(text)


@contextmanager
def staged_file(path: Path, *, layout: DataLayout | None = None) -> Iterator[Path]:
    """A staged path for the block to write; renamed over `path` when the block succeeds, removed otherwise: a
    reader sees the previous file or the complete new one, never a partial file."""
    with _write([path], layout) as (folder, root):
        staged = folder / path.name
        with _failing_as(path, root):
            make_folders(path.parent)
            _check_folder(path, folder.parent)
            yield staged
            fsync(staged)
        commit(folder, root, [(staged, path)], frozenset())


@dataclass(frozen=True)
class JointWrite:
    """Files written together by one writer (a Spark job whose tasks write a file each): `write({target: staged})`."""

    targets: tuple[Path, ...]
    write: Callable[[dict[Path, Path]], None]


def write_files_atomically(
    writers: dict[Path, Callable[[Path], None]],
    *,
    layout: DataLayout | None = None,
    completion_markers: Collection[Path] = (),
    joint: JointWrite | None = None,
) -> None:
    """`writers[target](staged)` writes one file, and `joint` writes its targets at once (renamed before the
    others); see `write_parquet_files_atomically`."""
    joint_targets = joint.targets if joint else ()
    if not writers and not joint_targets:
        return
    markers = frozenset(completion_markers)
    rank = {marker: index for index, marker in enumerate(completion_markers)}
    # stable: the joint write's targets first, the markers last, in their order
    targets = [*joint_targets, *sorted(writers, key=lambda target: rank.get(target, -1))]
    with _write(targets, layout) as (folder, root):
        renames = [(folder / f"{index}-{target.name}", target) for index, target in enumerate(targets)]
        created = []
        for target in targets:
            with _failing_as(target, root):
                created += create_folders(target.parent)
                _check_folder(target, folder.parent)
        with _failing_as(targets[0], root):
            fsync_parents(created)

        def write(staged: Path, target: Path) -> None:
            with _failing_as(target, root):
                writers[target](staged)

        if joint_targets:
            with _failing_as(joint_targets[0], root):
                joint.write({target: staged for staged, target in renames[: len(joint_targets)]})
        with ThreadPoolExecutor(WRITER_THREADS) as pool:
            # the first failure in target order is raised
            list(pool.map(write, *zip(*renames[len(joint_targets) :], strict=True)))
        with _failing_as(targets[0], root):
            _stamp_together([staged for staged, _ in renames])
            flush([staged for staged, _ in renames])
        commit(folder, root, renames, markers & set(targets))


def remove_folders_atomically(folders: list[Path], *, layout: DataLayout | None = None) -> None:
    """Delete each folder (in order) by one rename out of its parent into the staging area, then remove it there: a
    reader sees the whole folder or none of it, and what a crash leaves in the staging area is removed by the next
    write or `recover`, like any crashed write."""
    if not folders:
        return
    with _write(folders, layout) as (folder, root):
        for index, target in enumerate(folders):
            with _failing_as(target, root, "delete"):
                _check_folder(target, folder.parent)
                os.replace(target, folder / f"{index}-{target.name}")
                fsync(target.parent)


WRITER_THREADS = os.cpu_count() or 1
"""The files of one write are encoded side by side: Parquet encoding and compression release the GIL."""
DICTIONARY_PAGE_BYTES = 64 * 2**10
"""A column's dictionary stops growing here and the column falls back to plain encoding: ids (a dictionary as large
as the column) are written about 40% faster and take a third less space, while columns of a few values (devices,
features, statuses) stay dictionary-encoded."""


def _stamp_together(paths: list[Path]) -> None:
    """Give the files of one write one modification time: whether a file was written after another (a day's
    rollups after its rows) must not depend on which thread finished first."""
    now = time.time_ns()
    for path in paths:
        os.utime(path, ns=(now, now))


def _write_parquet(table: pa.Table, path: Path) -> None:
    pq.write_table(table, path, compression="zstd", dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES)


@contextmanager
def _write(targets: list[Path], layout: DataLayout | None) -> Iterator[tuple[Path, Path]]:
    """A held folder of the staging area for one write, and the data root the targets are shown relative to."""
    area = staging_area(targets, layout)
    root = area.parent
    with _failing_as(targets[0], root), write_folder(area) as folder:
        yield folder, root


def _check_folder(target: Path, area: Path) -> None:
    """Fail before the commit, not after: the target's folder is writable and on the staging area's filesystem (a
    rename cannot cross filesystems)."""
    if os.stat(target.parent).st_dev != os.stat(area).st_dev:
        raise OSError(errno.EXDEV, f"not on the filesystem of {area}")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES))


@contextmanager
def _failing_as(target: Path, root: Path, action: str = "write") -> Iterator[None]:
    try:
        yield
    except StorageError:
        raise
    except OSError as error:
        raise storage_error(action, shown(target, root), error) from error
