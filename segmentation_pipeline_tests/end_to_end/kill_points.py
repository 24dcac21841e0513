"""Running `segmentation-pipeline run` in a subprocess and killing it (SIGKILL) at a point seen from the outside.

Nothing here hooks into the product: a kill point is a condition on the data root, polled every few milliseconds
while the run goes on; the run is killed as soon as the condition holds. A run always ends (killed or waited for,
with a timeout) before the functions here return.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

POLL_INTERVAL_S = 0.01
RUN_TIMEOUT_S = 240.0
"""A run of the small landing zone takes about 20 s on 2 cores; a run still going after this is hung."""

INSTANCE_DIR = ".dagster"
LOCK_FILE = ".segmentation-pipeline.lock"
NOT_PIPELINE_FILES = (INSTANCE_DIR, LOCK_FILE, "landing", "ground_truth")
"""Top-level entries of a data root that are not the pipeline's tables: the Dagster instance, the run lock, the
input and the sample's ground truth."""

Observer = Callable[[], str | None]
"""Says what it saw once the kill point is reached, None before."""


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    elapsed_s: float
    killed: bool = False
    """SIGKILL was sent while the process was still running."""
    observed: str | None = None
    """What the kill point's observer saw (None: the run ended before the point was reached)."""


def cli_command(root: Path, as_of: date) -> list[str]:
    return [sys.executable, "-m", "segmentation_pipeline.cli", "run", "--data-dir", str(root), "--as-of", str(as_of)]


def cli_env() -> dict[str, str]:
    """The test process's environment, with the instance under the data root (empty DAGSTER_HOME) and no data root
    from the environment (the command names it)."""
    env = {key: value for key, value in os.environ.items() if key != "SEGMENTATION_DATA_DIR"}
    return env | {"DAGSTER_HOME": "", "PYTHONUNBUFFERED": "1"}


def run_cli(root: Path, as_of: date, logs: Path, timeout_s: float = RUN_TIMEOUT_S) -> Run:
    """Run to completion (or until the timeout, then kill)."""
    return run_and_kill(root, as_of, logs, observer=None, timeout_s=timeout_s)


def run_and_kill(
    root: Path,
    as_of: date,
    logs: Path,
    observer: Observer | None,
    timeout_s: float = RUN_TIMEOUT_S,
    poll_interval_s: float = POLL_INTERVAL_S,
) -> Run:
    """Start the run, poll `observer` every `poll_interval_s` and SIGKILL the process as soon as it reports something.
    Without an observer, or if the run ends first, wait for it. Output goes to files (no pipe can fill up)."""
    logs.mkdir(parents=True, exist_ok=True)
    stdout_path, stderr_path = logs / "stdout.txt", logs / "stderr.txt"
    started = time.monotonic()
    observed, killed = None, False
    with open(stdout_path, "wb") as stdout, open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            cli_command(root, as_of),
            env=cli_env(),
            cwd=root,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # its own process group, so nothing it might start outlives the test
        )
        try:
            deadline = started + timeout_s
            while process.poll() is None:
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"{' '.join(cli_command(root, as_of))} still running after {timeout_s:.0f} s; output in {logs}"
                    )
                if observer is not None and (observed := observer()) is not None:
                    os.kill(process.pid, signal.SIGKILL)
                    killed = True
                    break
                time.sleep(poll_interval_s)
        finally:
            if process.poll() is None and not killed:
                os.kill(process.pid, signal.SIGKILL)
            returncode = process.wait(timeout=30)
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)  # the group of the process this test started, if any is left
    return Run(
        returncode=returncode,
        stdout=stdout_path.read_text(errors="replace"),
        stderr=stderr_path.read_text(errors="replace"),
        elapsed_s=time.monotonic() - started,
        killed=killed,
        observed=observed,
    )


PUBLISH_INPUTS = (
    "customer_features",
    "rfm_scores",
    "rfm_cut_points",
    "segment_assignments",
    "segment_profiles",
    "rule_segment_members",
)
"""The warehouse tables of a snapshot that the publish step reads: once all are written for the day, the next
write of the run is the publish."""


def hidden_top_level(root: Path) -> set[str]:
    """Hidden entries directly under the root or under `published/` that are not the instance or the lock: where
    a staging area or a journal outside the table folders lives (`.staging/`)."""
    names = set()
    for folder in (root, root / "published"):
        with suppress(FileNotFoundError):
            names |= {
                (folder / entry.name).relative_to(root).as_posix()
                for entry in os.scandir(folder)
                if entry.name.startswith(".") and entry.name not in (INSTANCE_DIR, LOCK_FILE)
            }
    return names


def staging_entries(root: Path) -> set[str]:
    """The hidden staging areas and what is in them, two levels down (one folder per write, its staged files)."""
    entries = set()
    for area in hidden_top_level(root):
        entries.add(area)
        with suppress(FileNotFoundError, NotADirectoryError):
            for write in os.scandir(root / area):
                entries.add(f"{area}/{write.name}")
                with suppress(FileNotFoundError, NotADirectoryError):
                    entries |= {f"{area}/{write.name}/{name}" for name in os.listdir(write.path)}
    return entries


def tree_state(folder: Path, root: Path) -> dict[str, tuple[int, int, int]]:
    """Every entry under `folder` (hidden ones too) with its inode, modification time and size."""
    state = {}
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            with suppress(FileNotFoundError):
                info = path.lstat()
                state[path.relative_to(root).as_posix()] = (info.st_ino, info.st_mtime_ns, info.st_size)
    return state


def _changed(now: dict, before: dict) -> list[str]:
    return sorted(path for path in now.keys() | before.keys() if now.get(path) != before.get(path))


def _file_state(path: Path) -> tuple[int, int] | None:
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return info.st_ino, info.st_mtime_ns


def mid_backfill(root: Path, days: int) -> Observer:
    """The backfill has written some sources' validated partitions but not yet all usage events' (a source's days
    are written a batch at a time, so the run is between or inside its steps)."""
    validated = root / "warehouse" / "validated"

    def observe() -> str | None:
        orders = len(list((validated / "orders").glob("date=*/part-0.parquet")))
        usage = len(list((validated / "usage_events").glob("date=*/part-0.parquet")))
        return (
            f"{orders} orders and {usage} of {days} usage_events partitions written"
            if orders and usage < days
            else None
        )

    return observe


def publish_staging_started(root: Path, day: date) -> Observer:
    """The publish of `day` has begun staging: once every warehouse table it reads is written anew
    (PUBLISH_INPUTS), the first new entry in the staging area (the publish's first staged file), or any change under
    `published/` if that came first."""
    return _once_publish_inputs_written(root, day, _new_staging_entry)


def publish_committed(root: Path, day: date) -> Observer:
    """The publish of `day` has committed and is swapping its files in: once every warehouse table it reads is
    written anew, a staging journal that renames into `published/` (written right before the first rename), or any
    change under `published/`."""
    return _once_publish_inputs_written(root, day, _publish_journal)


def _new_staging_entry(root: Path, before: set[str]) -> str | None:
    new = sorted(staging_entries(root) - before)
    return f"the publish began staging: {new[:4]}" if new else None


def _publish_journal(root: Path, before: set[str]) -> str | None:
    for entry in sorted(staging_entries(root)):
        if entry.endswith("/journal.json"):
            with suppress(OSError, ValueError):
                text = (root / entry).read_text(encoding="utf-8")
                if '"published/' in text:
                    return f"the publish committed: {entry}"
    return None


def _once_publish_inputs_written(root: Path, day: date, sign: Callable[[Path, set[str]], str | None]) -> Observer:
    inputs = [root / "warehouse" / table / f"snapshot_date={day}" / "part-0.parquet" for table in PUBLISH_INPUTS]
    inputs_before = {path: _file_state(path) for path in inputs}
    seen: dict[str, dict | set] = {}

    def observe() -> str | None:
        if not seen:
            now = {path: _file_state(path) for path in inputs}
            if all(now[path] is not None and now[path] != inputs_before[path] for path in inputs):
                seen["staging"] = staging_entries(root)
                seen["published"] = tree_state(root / "published", root)
            return None
        if found := sign(root, seen["staging"]):
            return found
        if changed := _changed(tree_state(root / "published", root), seen["published"]):
            return f"changed under published/: {changed[:4]}"
        return None

    return observe
