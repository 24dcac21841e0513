"""Landing days delivered again after they were ingested: a re-delivery means the day must be ingested again."""

from __future__ import annotations

from datetime import date

from segmentation_pipeline.core.ingest.contract import DAILY_SOURCES
from segmentation_pipeline.core.ingest.landing import landing_days, landing_files
from segmentation_pipeline.core.storage.layout import DataLayout


def redelivered_days(layout: DataLayout) -> dict[date, str]:
    """Landing days delivered again after they were ingested (a landing file newer than the day's raw partition),
    each with a key that changes with every new delivery."""
    late = {}
    for source in DAILY_SOURCES:
        for day in landing_days(layout.landing, source):
            raw = layout.raw(source.name, day)
            delivered = max((path.stat().st_mtime_ns for path in landing_files(layout.landing, source, day)), default=0)
            if raw.exists() and delivered > raw.stat().st_mtime_ns:
                late[day] = f"{late.get(day, '')}{source.name}@{delivered};"
    return dict(sorted(late.items()))
