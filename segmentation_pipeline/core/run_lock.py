"""One run per data root at a time: two runs writing the same warehouse and published tables would both do all the
work and race on every swap, so the second one stops at once with a message saying who holds the root."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from segmentation_pipeline.core.errors import PipelineError

LOCK_FILE = ".segmentation-pipeline.lock"


class DataRootBusy(PipelineError):
    """Another run holds the data root."""


@contextmanager
def data_root_lock(root: Path) -> Iterator[None]:
    """Hold the data root's lock for the block; raise DataRootBusy if another process holds it. The lock is an
    advisory `flock` on a file under the root: the operating system releases it when its process ends, however it
    ends, so a killed run never leaves the root locked."""
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_FILE
    with open(path, "a+", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise DataRootBusy(
                f"{root}: another segmentation-pipeline run is using this data root ({holder}); "
                "wait for it to finish and run again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
