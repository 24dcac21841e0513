"""The typed raw copy of each landing partition, and how fresh each landing source is."""

from __future__ import annotations

from datetime import date

import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import Source, clean_schema
from segmentation_pipeline.core.ingest.landing import LandingRead, landing_days, read_landing
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import DataLayout


def ingest_partition(layout: DataLayout, source: Source, day: date | None) -> LandingRead:
    """Read one landing partition with the contract's types and store it as the partition's raw copy."""
    read = read_landing(layout.landing, source, day)
    table = pa.Table.from_pandas(read.frame, schema=clean_schema(source), preserve_index=False)
    write_parquet_atomically(table, layout.raw(source.name, day))
    return read


def landing_lag(layout: DataLayout, source: Source, today: date) -> tuple[date | None, int | None]:
    """The newest landing day of a daily source and its age in days; (None, None) without landing data."""
    days = landing_days(layout.landing, source)
    return (days[-1], (today - days[-1]).days) if days else (None, None)
