"""Validating partitions: their landing rows in, typed by the contract; clean rows (with each day's rollups) and
quarantined rows out."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.errors import bounded
from segmentation_pipeline.core.features.rollups import rollup_files
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, Source, clean_schema, quarantine_schema
from segmentation_pipeline.core.ingest.crm_database import CrmDatabase, read_source_batches
from segmentation_pipeline.core.ingest.landing import BATCH_BYTES, InputError, ReadReport, no_rows
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.key_sets import EarlierKeys, KeySet, known_customer_ids
from segmentation_pipeline.core.validate.row_checks import (
    CheckContext,
    OutcomeSummary,
    ValidationOutcome,
    validate_by_day,
)
from segmentation_pipeline.core.validate.settings import ValidationSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from segmentation_pipeline.core.engines.spark_validation import CheckedDay
    from segmentation_pipeline.core.validate.expectations import ExpectationOutcome, SuiteRunner


def validate_days(
    layout: DataLayout,
    source: Source,
    days: list[date | None],
    settings: ValidationSettings,
    run_id: str,
    now: pd.Timestamp,
    database: CrmDatabase | None = None,
    spark: SparkSession | None = None,
) -> Iterator[tuple[dict[date | None, ReadReport], dict[date | None, ValidationOutcome]]]:
    """Read the partitions of `days` (in day order; `[None]` for the CRM export) with the contract's types (the CRM's
    from `database` if there is one, else from the landing folders),
    check their rows and write each day's clean rows, rollups and quarantined rows; yields each batch's read reports
    and outcomes by day once the batch is written. A batch of consecutive days (up to `BATCH_BYTES` of landing
    files) is read, checked and written at once, in one all-or-nothing write, so a backfill pays the fixed costs of
    a day (pandas on tiny frames, a DuckDB query set, a journaled write) once per batch. Each batch is checked for
    duplicates against the keys validated before it, those of the batches before it included. With a Spark session,
    the whole batch is read, checked, rolled up and written on Spark's executors and its outcomes hold counts only
    (core/engines/spark_validation.py); `judged` runs the suite either way."""
    if spark is not None:
        from segmentation_pipeline.core.engines.spark_validation import validate_on_spark

        yield from validate_on_spark(spark, layout, source, days, settings, run_id, now, database)
        return
    if source.daily:
        customers, earlier_keys = KeySet(known_customer_ids(layout)), EarlierKeys(layout, source, days[0])
    else:
        customers, earlier_keys = (), ()  # the CRM export replaces the previous one: no history to check against
    context = CheckContext(None, now, customers, earlier_keys, settings.max_amount)
    for reads in read_source_batches(layout.landing, database, source, days, BATCH_BYTES):
        rows = pd.concat([read.frame for read in reads.values()], ignore_index=True)
        rows_per_day = {day: len(read.frame) for day, read in reads.items()}
        outcomes = validate_by_day(rows, rows_per_day, source, context, run_id)
        if source == CUSTOMERS:
            require_valid_customers(reads[None].files, outcomes[None].summary())
        clean = _tables([outcome.clean for outcome in outcomes.values()], clean_schema(source))
        quarantine = _tables([outcome.quarantine for outcome in outcomes.values()], quarantine_schema(source))
        write_validated_days(
            layout, source, dict(zip(reads, clean, strict=True)), dict(zip(reads, quarantine, strict=True))
        )
        if source.daily:
            earlier_keys.add_validated(*(outcome.clean for outcome in outcomes.values()))
        yield {day: read.report() for day, read in reads.items()}, outcomes


def judged(
    suite: SuiteRunner, outcomes: Mapping[date | None, ValidationOutcome | CheckedDay]
) -> list[ExpectationOutcome]:
    """The suite's verdicts on a batch's days: over their rows in memory, or (checked on Spark) over the batch's
    rows cached on the executors."""
    first = next(iter(outcomes.values()))
    if isinstance(first, ValidationOutcome):
        return suite.run({day: (outcome.clean, outcome.quarantine) for day, outcome in outcomes.items()})
    counts = {day: (outcome.rows_in, outcome.summary().rows_clean) for day, outcome in outcomes.items()}
    return suite.run_on_spark(first.batch.suite_rows(), counts)


@cache
def quarantine_file_schema(source: Source) -> pa.Schema:
    """The schema of the quarantine files written here, pandas metadata included (the dtypes of typed rows): that of
    no rows."""
    typed = no_rows(source)
    (outcome,) = validate_by_day(typed, {None: 0}, source, CheckContext(None, pd.Timestamp(0, tz="UTC")), "").values()
    return _tables([outcome.quarantine], quarantine_schema(source))[0].schema


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
    """Each day's validated rows, in the clean schema, with their rollups and quarantined rows, in one all-or-nothing
    write."""
    clean = {day: table.cast(clean_schema(source)) for day, table in clean.items()}
    rows = {layout.validated(source.name, day): table for day, table in clean.items()}
    quarantined = {layout.quarantined(source.name, day): table for day, table in (quarantine or {}).items()}
    # the rollups are renamed into place after the rows, so a rollup is never older than its rows
    derived = rollup_files(layout, source, clean)
    write_parquet_files_atomically(rows | quarantined | derived)


class NoValidCustomers(InputError):
    """The CRM export has no valid customer: every order and event would be quarantined as an unknown customer and
    the segmentation would have nobody to cluster, so the run stops before anything downstream."""


def require_valid_customers(files_read: list[str], outcome: OutcomeSummary) -> None:
    """Stop before the validated customers are written: an empty export must not replace the previous good one."""
    if outcome.rows_clean:
        return
    files = " + ".join(files_read)
    broken = ", ".join(f"{name} {count}" for name, count in outcome.check_counts.items() if count)
    counts = f"{outcome.rows_in} rows; 0 clean, {outcome.rows_quarantined} quarantined" + (
        f": {broken}" if broken else ""
    )
    raise NoValidCustomers(
        bounded(
            f"{files or CUSTOMERS.landing_path}: the CRM export has no valid customers ({counts}); "
            "nothing was validated or published"
        )
    )
