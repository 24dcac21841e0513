"""Durability and failures on a POSIX filesystem: a rename survives a power loss only once the renamed file's data
and the folder entries are on disk, so files are fsynced before they are renamed and folders after."""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from segmentation_pipeline.core.errors import PipelineError


class StorageError(PipelineError, OSError):
    """A file of the data root could not be written (disk full, permission denied…), told in one line naming the
    file; still an OSError, so code that handled the raw error keeps working."""


def storage_error(action: str, what: str, error: OSError) -> StorageError:
    """`cannot <action> <what>: <cause>`, e.g. `cannot write published/…/part-0.parquet: no space left on device`."""
    return StorageError(f"cannot {action} {what}: {cause(error)}")


def cause(error: OSError) -> str:
    """The operating system's wording ('no space left on device', 'permission denied') without errno noise."""
    if isinstance(error, StorageError):
        return str(error)
    if error.errno:
        return os.strerror(error.errno).lower()
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def shown(path: Path, root: Path) -> str:
    """A path as a user knows it: relative to the data root."""
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def fsync(path: Path) -> None:
    """Flush a file's data, or a folder's entries (a file renamed into or out of it), to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def flush(paths: Sequence[Path]) -> None:
    """`fsync` every path. Several paths of one filesystem (a write's staged files, its targets' folders: they share
    the staging area's filesystem) are flushed by one `syncfs` where Linux offers it: an fsync per file was a third
    of a backfill's write time."""
    if len(paths) > 1 and _SYNCFS is not None:
        descriptor = os.open(paths[0], os.O_RDONLY)
        try:
            if _SYNCFS(descriptor) != 0:
                number = ctypes.get_errno()
                raise OSError(number, os.strerror(number))
        finally:
            os.close(descriptor)
        return
    for path in paths:
        fsync(path)


_SYNCFS = getattr(ctypes.CDLL(None, use_errno=True), "syncfs", None) if sys.platform == "linux" else None


def make_folders(folder: Path) -> None:
    """`mkdir -p` that also fsyncs the parent of every folder it creates, so a renamed file's folder survives too."""
    fsync_parents(create_folders(folder))


def create_folders(folder: Path) -> list[Path]:
    """`mkdir -p`, returning the folders it created (outermost first) for `fsync_parents`."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
    return missing[::-1]


def fsync_parents(created: list[Path]) -> None:
    """Fsync the parent of each created folder, each parent once: a backfill creates hundreds of day folders in one
    table folder."""
    flush(list(dict.fromkeys(folder.parent for folder in created)))
