"""What `segmentation-pipeline run` shows while a step works through its days: a live bar per step on a terminal
(days done of all, rows, time left), and a plain line every few seconds otherwise, so logs in CI and cron stay
readable. Every finished step ends with its days, rows and duration either way."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from segmentation_pipeline.defs.progress import StepProgress

PLAIN_INTERVAL_SECONDS = 5.0


class ProgressDisplay:
    """A listener for `defs.progress.watching`, used as a context manager around the runs it shows."""

    def __init__(self, stream: TextIO | None = None, interactive: bool | None = None):
        self._stream = stream or sys.stdout
        self._interactive = self._stream.isatty() if interactive is None else interactive
        self._bars: Progress | None = None
        self._tasks: dict[str, int] = {}
        self._printed_at: dict[str, float] = {}

    def __enter__(self) -> ProgressDisplay:
        if self._interactive:
            self._bars = Progress(
                TextColumn("  {task.description:<28}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("days · {task.fields[rows]:>12,} rows ·"),
                TimeElapsedColumn(),
                TextColumn("· left"),
                TimeRemainingColumn(),
                console=Console(file=self._stream),
            )
            self._bars.start()
        return self

    def __exit__(self, *exc_info) -> None:
        if self._bars is not None:
            self._bars.stop()

    def __call__(self, progress: StepProgress) -> None:
        started = progress.days_done == 0 and not progress.finished
        if self._bars is not None:
            if started or progress.step not in self._tasks:
                self._tasks[progress.step] = self._bars.add_task(progress.step, total=progress.days_total, rows=0)
            self._bars.update(self._tasks[progress.step], completed=progress.days_done, rows=progress.rows)
            return
        now = time.monotonic()
        if started:
            self._printed_at[progress.step] = now
        elif progress.finished or now - self._printed_at.get(progress.step, now) >= PLAIN_INTERVAL_SECONDS:
            print(f"  {progress.line()}", file=self._stream, flush=True)
            self._printed_at[progress.step] = now
