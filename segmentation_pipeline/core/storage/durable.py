"""Durability and failures on a POSIX filesystem: a rename survives a power loss only once the renamed file's data
and the folder entries are on disk, so files are fsynced before they are renamed and folders after."""

from __future__ import annotations

import os
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


def make_folders(folder: Path) -> None:
    """`mkdir -p` that also fsyncs the parent of every folder it creates, so a renamed file's folder survives too."""
    missing = []
    while not folder.is_dir():
        missing.append(folder)
        folder = folder.parent
    for new in reversed(missing):
        new.mkdir(exist_ok=True)
        fsync(new.parent)
