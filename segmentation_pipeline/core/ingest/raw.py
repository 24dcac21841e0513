"""The typed raw copy of each landing partition, and how fresh each landing source is."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date

import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import Source, clean_schema
from segmentation_pipeline.core.ingest.landing import LandingRead, landing_days, read_landing_batches
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout

BATCH_BYTES = 8 * 2**20
"""Landing bytes read and typed at once. Days of a few kilobytes (the bundled sample) share a batch's fixed costs;
a day of a megabyte or more costs far more than those anyway, while memory grows with the batch: a batch of usage
events holds about 15 times its Parquet bytes, and at the reference scale (4 to 6 MB a day) 8 MB is one or two days."""


def ingest_days(
    layout: DataLayout, source: Source, days: Iterable[date | None]
) -> Iterator[dict[date | None, LandingRead]]:
    """Read landing partitions with the contract's types and store each as its raw copy, a batch of consecutive days
    at a time (see `read_landing_batches`). A batch's raw copies are written all or none, then its reads yielded; an
    error in a batch leaves the raw copies of the batches before it written."""
    schema = clean_schema(source)
    for reads in read_landing_batches(layout.landing, source, days, BATCH_BYTES):
        tables = {
            layout.raw(source.name, day): pa.Table.from_pandas(read.frame, schema=schema, preserve_index=False)
            for day, read in reads.items()
        }
        write_parquet_files_atomically(tables)
        yield reads


def ingest_partition(layout: DataLayout, source: Source, day: date | None) -> LandingRead:
    """One partition of `ingest_days`, for callers that ingest a single day."""
    return next(ingest_days(layout, source, [day]))[day]


def landing_lag(layout: DataLayout, source: Source, today: date) -> tuple[date | None, int | None]:
    """The newest landing day of a daily source and its age in days; (None, None) without landing data."""
    days = landing_days(layout.landing, source)
    return (days[-1], (today - days[-1]).days) if days else (None, None)
