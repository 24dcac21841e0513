"""Progress of the steps that work through many days: a log line in the run's event log every few seconds (what the
Dagster UI shows), and every update to whoever watches the process (the CLI's progress bars)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dagster as dg

LOG_INTERVAL_SECONDS = 10.0
"""At most one progress line per step this often, so a long backfill does not flood the event log."""


@dataclass(frozen=True)
class StepProgress:
    step: str
    days_done: int
    days_total: int
    rows: int
    seconds: float

    @property
    def finished(self) -> bool:
        return self.days_done >= self.days_total

    def line(self) -> str:
        return f"{self.step}: {self.days_done}/{self.days_total} days, {self.rows:,} rows in {self.seconds:.1f} s"


Listener = Callable[[StepProgress], None]
_listeners: list[Listener] = []


@contextmanager
def watching(listener: Listener) -> Iterator[None]:
    """Send every progress update of the steps run in this process to `listener` while the block runs."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


class DayProgress:
    """Counts the days and rows of a phase of a step (reading, checking) as its batches finish."""

    def __init__(self, context: dg.AssetExecutionContext, days_total: int, phase: str):
        self._context, self._started = context, time.monotonic()
        self._step = f"{context.asset_key.to_user_string()} ({phase})"
        self._days_total, self._days_done, self._rows = days_total, 0, 0
        self._logged_at = self._started
        self._report()

    def advance(self, days: int, rows: int) -> None:
        self._days_done, self._rows = self._days_done + days, self._rows + rows
        self._report()

    def _report(self) -> None:
        now = time.monotonic()
        progress = StepProgress(self._step, self._days_done, self._days_total, self._rows, now - self._started)
        for listener in _listeners:
            listener(progress)
        if progress.finished or now - self._logged_at >= LOG_INTERVAL_SECONDS:
            self._context.log.info(progress.line())
            self._logged_at = now
