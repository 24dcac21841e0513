"""The first daily partition of a data root: its first landing day, recorded under the data root when first seen.

The record keeps the start where it was when old landing folders are deleted later (their partitions stay in the
instance's history), and a landing day earlier than the record moves it earlier, which is safe: partition keys are
dates, so every existing key stays valid. Listing the landing folders is all it reads: it runs at every load of the
definitions.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from segmentation_pipeline.core.errors import quoted
from segmentation_pipeline.core.ingest.contract import DAILY_SOURCES
from segmentation_pipeline.core.ingest.landing import InputError, landing_days
from segmentation_pipeline.core.storage.atomic import write_text_atomically
from segmentation_pipeline.core.storage.layout import DataLayout

PARTITIONS_START_ENV = "SEGMENTATION_PARTITIONS_START"
DEFAULT_FIRST_DAY = date(2024, 1, 1)
"""The start while a data root has no landing data (a fresh deployment's UI): nothing can be materialized before
landing data arrives, so its first day simply replaces this one."""


def first_partition_day(layout: DataLayout, first_elsewhere: date | None = None) -> date:
    """`$SEGMENTATION_PARTITIONS_START` if set; else the earliest of the recorded day, the first landing day of any
    daily source and `first_elsewhere` (the first order in a CRM database, which the CLI looks up), recorded if it is
    new; else DEFAULT_FIRST_DAY."""
    override = os.environ.get(PARTITIONS_START_ENV)
    if override:
        return _day(override, PARTITIONS_START_ENV)
    record = layout.first_landing_day
    recorded = [_day(record.read_text(encoding="utf-8").strip(), record)] if record.is_file() else []
    landed = [days[0] for source in DAILY_SOURCES if (days := landing_days(layout.landing, source))]
    first = min([*recorded, *landed, *filter(None, [first_elsewhere])], default=None)
    if first is None:
        return DEFAULT_FIRST_DAY
    if [first] != recorded:
        write_text_atomically(f"{first.isoformat()}\n", record, layout=layout)
    return first


def _day(text: str, where: str | Path) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{where}: {quoted(text)} is not a day; write it as YYYY-MM-DD, e.g. 2024-01-01") from None
