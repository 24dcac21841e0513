"""Days that must be ingested again: landing days delivered again after they were ingested, and days whose
validated partitions are gone or unreadable."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.ingest.contract import DAILY_SOURCES
from segmentation_pipeline.core.ingest.landing import landing_days, landing_files
from segmentation_pipeline.core.storage.layout import DataLayout


def redelivered_days(layout: DataLayout) -> dict[date, str]:
    """Landing days delivered again after they were ingested (a landing file newer than the day's validated
    partition), each with a key that changes with every new delivery."""
    late = {}
    for source in DAILY_SOURCES:
        for day in landing_days(layout.landing, source):
            validated = layout.validated(source.name, day)
            delivered = max((path.stat().st_mtime_ns for path in landing_files(layout.landing, source, day)), default=0)
            if validated.exists() and delivered > validated.stat().st_mtime_ns:
                late[day] = f"{late.get(day, '')}{source.name}@{delivered};"
    return dict(sorted(late.items()))


def days_to_redo(layout: DataLayout, ingested_days: list[date]) -> dict[date, list[str]]:
    """Days already ingested that must be ingested and validated again, with why: landing files delivered again
    after the day was validated, or a validated partition that is missing or unreadable (deleted or corrupted by hand
    or by a failing disk)."""
    redo: dict[date, list[str]] = {}
    redelivered = redelivered_days(layout)
    for day in ingested_days:
        reasons = [
            f"{source.name}: landing files changed after ingest"
            for source in DAILY_SOURCES
            if day in redelivered and f"{source.name}@" in redelivered[day]
        ]
        reasons += [
            f"{source.name}: validated partition {problem}"
            for source in DAILY_SOURCES
            if (problem := _unusable(layout.validated(source.name, day)))
        ]
        if reasons:
            redo[day] = reasons
    return redo


def _unusable(path: Path) -> str | None:
    """Missing, or a Parquet footer that cannot be read (a truncated or overwritten file); reading the footer only
    keeps the check cheap on a long history."""
    if not path.exists():
        return "missing"
    try:
        pq.read_metadata(path)
    except (pa.ArrowException, OSError):
        return "unreadable"
    return None
