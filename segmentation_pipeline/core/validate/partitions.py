"""Validating partitions: their typed raw rows in, clean rows (with each day's rollups) and quarantined rows out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.errors import bounded
from segmentation_pipeline.core.features.rollups import rollup_files
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, Source, clean_schema, quarantine_schema
from segmentation_pipeline.core.ingest.landing import InputError, landing_files
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.key_sets import EarlierKeys, KeySet, known_customer_ids
from segmentation_pipeline.core.validate.row_checks import CheckContext, ValidationOutcome, validate_by_day
from segmentation_pipeline.core.validate.settings import ValidationSettings

BATCH_ROWS = 2_000_000
"""The raw rows validated at once (a larger day alone): hundreds of the sample's small days share one batch's fixed
costs, while a batch of the reference scale's usage events (about 275,000 a day) holds a week of them."""


def validate_days(
    layout: DataLayout,
    source: Source,
    days: list[date | None],
    settings: ValidationSettings,
    run_id: str,
    now: pd.Timestamp,
) -> Iterator[dict[date | None, ValidationOutcome]]:
    """Check the raw partitions of `days` (in day order; `[None]` for the CRM export) and write each day's clean
    rows, rollups and quarantined rows; yields each batch's outcomes by day once the batch is written. A batch of
    consecutive days is checked at once and written in one all-or-nothing write, so a backfill pays the fixed costs
    of a day (pandas on tiny frames, a DuckDB query set, a journaled write) once per batch. Each batch is checked for
    duplicates against the keys validated before it, those of the batches before it included."""
    if source.daily:
        customers, earlier_keys = KeySet(known_customer_ids(layout)), EarlierKeys(layout, source, days[0])
    else:
        customers, earlier_keys = (), ()  # the CRM export replaces the previous one: no history to check against
    context = CheckContext(None, now, customers, earlier_keys, settings.max_amount)
    for batch in _batches(layout, source, days):
        outcomes = validate_by_day(*_read_raw(layout, source, batch), source, context, run_id)
        if source == CUSTOMERS:
            require_valid_customers(layout, outcomes[None])
        clean = _tables([outcome.clean for outcome in outcomes.values()], clean_schema(source))
        quarantine = _tables([outcome.quarantine for outcome in outcomes.values()], quarantine_schema(source))
        write_validated_days(
            layout, source, dict(zip(batch, clean, strict=True)), dict(zip(batch, quarantine, strict=True))
        )
        if source.daily:
            earlier_keys.add_validated(*(outcome.clean for outcome in outcomes.values()))
        yield outcomes


def _batches(layout: DataLayout, source: Source, days: list[date | None]) -> Iterator[list[date | None]]:
    """Consecutive days of at most `BATCH_ROWS` raw rows together, counted from the files' metadata."""
    batch, rows = [], 0
    for day in days:
        day_rows = pq.ParquetFile(layout.raw(source.name, day)).metadata.num_rows
        if batch and rows + day_rows > BATCH_ROWS:
            yield batch
            batch, rows = [], 0
        batch.append(day)
        rows += day_rows
    if batch:
        yield batch


def _read_raw(layout: DataLayout, source: Source, days: list[date | None]) -> tuple[pd.DataFrame, dict]:
    """The raw rows of the days as one frame, in day order, and how many rows each day has."""
    tables = [pq.ParquetFile(layout.raw(source.name, day)).read() for day in days]
    return pa.concat_tables(tables).to_pandas(), {day: table.num_rows for day, table in zip(days, tables, strict=True)}


def _tables(frames: list[pd.DataFrame], schema: pa.Schema) -> list[pa.Table]:
    """Each day's rows as Arrow, converted at once: a conversion per day costs more than a small day's rows."""
    table = pa.Table.from_pandas(pd.concat(frames, ignore_index=True), schema=schema, preserve_index=False)
    bounds = np.cumsum([0, *map(len, frames)])
    return [table.slice(start, end - start) for start, end in zip(bounds[:-1], bounds[1:], strict=True)]


def write_validated_partition(layout: DataLayout, source: Source, day: date | None, clean: pa.Table) -> None:
    """The validated rows of one partition, in the clean schema, together with the day's rollups."""
    write_validated_days(layout, source, {day: clean})


def write_validated_days(
    layout: DataLayout,
    source: Source,
    clean: dict[date | None, pa.Table],
    quarantine: dict[date | None, pa.Table] | None = None,
) -> None:
    """Each day's validated rows, in the clean schema, with their rollups (and quarantined rows) in one
    all-or-nothing write."""
    clean = {day: table.cast(clean_schema(source)) for day, table in clean.items()}
    rows = {layout.validated(source.name, day): table for day, table in clean.items()}
    quarantined = {layout.quarantined(source.name, day): table for day, table in (quarantine or {}).items()}
    # the rollups are renamed into place after the rows, so a rollup is never older than its rows
    write_parquet_files_atomically(rows | quarantined | rollup_files(layout, source, clean))


class NoValidCustomers(InputError):
    """The CRM export has no valid customer: every order and event would be quarantined as an unknown customer and
    the segmentation would have nobody to cluster, so the run stops before anything downstream."""


def require_valid_customers(layout: DataLayout, outcome: ValidationOutcome) -> None:
    """Stop before the validated customers are written: an empty export must not replace the previous good one."""
    if len(outcome.clean):
        return
    files = " + ".join(path.relative_to(layout.landing).as_posix() for path in landing_files(layout.landing, CUSTOMERS))
    broken = ", ".join(f"{name} {count}" for name, count in outcome.check_counts.items() if count)
    counts = f"{outcome.rows_in} rows; 0 clean, {len(outcome.quarantine)} quarantined" + (
        f": {broken}" if broken else ""
    )
    raise NoValidCustomers(
        bounded(
            f"{files or CUSTOMERS.landing_path}: the CRM export has no valid customers ({counts}); "
            "nothing was validated or published"
        )
    )
