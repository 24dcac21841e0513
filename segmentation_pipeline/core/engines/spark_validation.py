"""The validation of a batch of days on Spark: the row rules of core/validate/rules.py (the SQL DuckDB runs on the
default engine, translated), the look-ups they need (the known customers, the keys of earlier days) as joins over
the validated Parquet that Spark reads itself, and the daily rollups of the clean rows (core/features/sql/rollups/).

The rows are typed on the executors (spark_landing.py; the CRM's tables, read on the driver, are sent to Spark) and
never come back: each day's validated and quarantine files are written by executor tasks into the staging folder of
the all-or-nothing write that the driver commits with the day's rollups; the driver gets each day's counts, its
first quarantined rows without personal data, and the rollups. The expectation suite judges the same cached rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.engines.spark_engine import (
    DAY,
    rollups_of_view,
    run_query,
    spark_failures,
    spark_query,
    view,
)
from segmentation_pipeline.core.engines.spark_frames import write_files
from segmentation_pipeline.core.features.rollups import EVENT_ID_HASHES, ROLLUPS
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, PERSONAL_DATA_COLUMNS, Source, clean_schema
from segmentation_pipeline.core.ingest.crm_database import CrmDatabase, read_source_batches, reads_from_database
from segmentation_pipeline.core.ingest.landing import BATCH_BYTES, ReadReport, landing_batches
from segmentation_pipeline.core.storage.atomic import JointWrite, write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.expectations import PARTITION_COLUMN
from segmentation_pipeline.core.validate.key_sets import (
    DEDUP_COLUMNS,
    HASH_LOOK_UP,
    HASH_LOOK_UP_TABLES,
    files_that_may_hold,
)
from segmentation_pipeline.core.validate.partitions import quarantine_file_schema, require_valid_customers
from segmentation_pipeline.core.validate.row_checks import (
    OutcomeSummary,
    check_rows,
    now_microseconds,
    quarantine_examples,
)
from segmentation_pipeline.core.validate.rules import (
    DAY_COLUMN,
    LOOK_UP_COLUMNS,
    ROW_COLUMN,
    rule_names,
    rule_parameters,
    rules_query,
)
from segmentation_pipeline.core.validate.settings import ValidationSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

QUARANTINED, FILE_KEY = "_quarantined", "_file_key"
EXAMPLES = 5
"""Quarantined rows per day shown in run metadata (`row_checks.quarantine_examples`)."""


def validate_on_spark(
    session: SparkSession,
    layout: DataLayout,
    source: Source,
    days: list[date | None],
    settings: ValidationSettings,
    run_id: str,
    now: pd.Timestamp,
    database: CrmDatabase | None,
) -> Iterator[tuple[dict[date | None, ReadReport], dict[date | None, CheckedDay]]]:
    """`partitions.validate_days` on Spark: the same batches, files and reports; each batch's rows checked,
    written and judged on the executors, cached until the caller asks for the next batch."""
    for rows, reports, release in _batches(session, layout, source, days, database):
        try:
            rules = check_on_spark(session, layout, source, rows, list(reports), now, settings.max_amount)
            checked = Checked(rules, source)
            try:
                summaries = checked.summaries(list(reports))  # the first job over the checked rows: now cached
            except BaseException:
                checked.release()
                raise
        finally:
            release()  # the typed rows
        try:
            if source == CUSTOMERS:
                require_valid_customers(reports[None].files, summaries[None])
            checked.write(layout, list(reports), run_id)
            yield reports, {day: CheckedDay(summary, checked) for day, summary in summaries.items()}
        finally:
            checked.release()


def _batches(
    session: SparkSession, layout: DataLayout, source: Source, days: list[date | None], database: CrmDatabase | None
) -> Iterator[tuple[DataFrame, dict[date | None, ReadReport], Callable[[], None]]]:
    """Each batch's rows for the rules (without the look-ups), read reports, and what releases the rows: landing
    files typed by the executors; the CRM's tables read on the driver (ADBC) and sent to Spark."""
    if reads_from_database(database, source):
        for reads in read_source_batches(layout.landing, database, source, days, BATCH_BYTES):
            frame = pd.concat([read.frame for read in reads.values()], ignore_index=True)
            table = check_rows(frame, {day: len(read.frame) for day, read in reads.items()}, source, {})
            yield session.createDataFrame(table), {day: read.report() for day, read in reads.items()}, lambda: None
        return
    from segmentation_pipeline.core.engines.spark_landing import typed_landing_rows

    for batch in landing_batches(layout.landing, source, days, BATCH_BYTES):
        typed = typed_landing_rows(session, source, batch)
        yield typed.rows, typed.reports, typed.release


def check_on_spark(
    session: SparkSession,
    layout: DataLayout,
    source: Source,
    rows: DataFrame,
    days: list[date | None],
    now: pd.Timestamp,
    max_amount: float,
) -> DataFrame:
    """The rules' verdicts on `rows` (consecutive `days`, in `check_rows_schema` without the look-ups), their
    look-ups made against the days validated before the batch: the rows with `rules_query`'s columns."""
    label = f"validation of {source.name}"
    rows.createOrReplaceTempView("batch_rows")
    _look_ups(session, layout, source, min(days) if source.daily else None)
    tables = {"check_rows": check_rows_schema(source)}
    parameters = rule_parameters(source, now_microseconds(now), max_amount)
    return spark_query(session, label, rules_query(source), tables, parameters)


def check_rows_schema(source: Source, look_ups: bool = True) -> pa.Schema:
    """The table the rules read (`row_checks.check_rows`)."""
    schema = clean_schema(source).append(pa.field(ROW_COLUMN, pa.int64())).append(pa.field(DAY_COLUMN, pa.date32()))
    for name in LOOK_UP_COLUMNS if look_ups else ():
        schema = schema.append(pa.field(name, pa.bool_()))
    return schema


class Checked:
    """A batch's checked rows as the suite sees them (`expectations._suite_rows`: clean rows first, each kind in day
    and position order, with `_quarantined` and the partition label), cached on the executors until `release`."""

    def __init__(self, checked: DataFrame, source: Source):
        from pyspark.sql import functions as F

        self.source = source
        label = F.coalesce(F.col(DAY_COLUMN).cast("string"), F.lit("-"))
        quarantined = F.col("reason").isNotNull()
        self.rows = (
            checked.withColumn(QUARANTINED, quarantined)
            .withColumn(PARTITION_COLUMN, label)
            .orderBy(QUARANTINED, DAY_COLUMN, ROW_COLUMN)
            .persist()
        )
        self.rows.createOrReplaceTempView("checked_rows")

    def release(self) -> None:
        self.rows.unpersist()

    def suite_rows(self) -> DataFrame:
        return self.rows.select(*clean_schema(self.source).names, QUARANTINED, PARTITION_COLUMN)

    def summaries(self, days: list[date | None]) -> dict[date | None, OutcomeSummary]:
        """Each day's counts (rows, clean, per rule) and first quarantined rows without personal data."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        source = self.source
        names = rule_names(source)
        label = f"validation of {source.name}"
        counts = self.rows.groupBy(DAY_COLUMN).agg(
            F.count(F.lit(1)).alias("rows_in"),
            F.count_if(~F.col(QUARANTINED)).alias("rows_clean"),
            *(F.count_if(F.col(name)).alias(name) for name in names),
        )
        with spark_failures(label):
            found = {row[DAY_COLUMN]: row for row in counts.collect()}
        first = Window.partitionBy(DAY_COLUMN).orderBy(ROW_COLUMN)
        quarantined = self.rows.where(F.col(QUARANTINED)).withColumn("_rank", F.row_number().over(first))
        schema = quarantine_file_schema(source)
        shown = [name for name in schema.names if name not in PERSONAL_DATA_COLUMNS and name != "run_id"]
        wanted = quarantined.where(F.col("_rank") <= EXAMPLES).withColumn("partition_date", F.col(DAY_COLUMN))
        with spark_failures(label):
            examples = wanted.select(*shown, ROW_COLUMN).toArrow()
        examples = examples.sort_by([("partition_date", "ascending"), (ROW_COLUMN, "ascending")])
        summaries = {}
        for day in days:
            row = found.get(day)
            counted = [int(row[name]) if row else 0 for name in ("rows_in", "rows_clean", *names)]
            mine = examples.filter(_is_day(examples["partition_date"], day))
            # as the quarantine file reads (its dtypes), the columns not shown left empty
            columns = [
                mine[field.name] if field.name in shown else pa.nulls(mine.num_rows, field.type) for field in schema
            ]
            frame = pa.Table.from_arrays(columns, names=schema.names).cast(schema).to_pandas()
            summaries[day] = OutcomeSummary(
                counted[0],
                counted[1],
                counted[0] - counted[1],
                dict(zip(names, counted[2:], strict=True)),
                quarantine_examples(frame),
            )
        return summaries

    def write(self, layout: DataLayout, days: list[date | None], run_id: str) -> None:
        """Each day's validated and quarantine file written by executor tasks into the staging folder of one
        all-or-nothing write, committed by the driver with the days' rollups (renamed after the rows)."""
        from pyspark.sql import functions as F

        source = self.source
        first = min(days) if source.daily else None
        offsets = {day: (day - first).days if first else 0 for day in days}
        offset = F.coalesce(F.datediff(F.col(DAY_COLUMN), F.lit(first)), F.lit(0)) if first else F.lit(0)
        rows = self.rows.withColumn(FILE_KEY, offset * 2 + F.col(QUARANTINED).cast("int"))
        rows = rows.withColumn("partition_date", F.col(DAY_COLUMN)).withColumn("run_id", F.lit(run_id))
        schemas = (clean_schema(source), quarantine_file_schema(source))
        targets = {layout.validated(source.name, day): (2 * offsets[day], schemas[0]) for day in days} | {
            layout.quarantined(source.name, day): (2 * offsets[day] + 1, schemas[1]) for day in days
        }
        label = f"validation of {source.name}"

        def write(staged: dict[Path, Path]) -> None:
            with spark_failures(label):
                write_files(
                    rows,
                    FILE_KEY,
                    {key: (staged[target], schema) for target, (key, schema) in targets.items()},
                    [ROW_COLUMN],
                )

        rollups = _rollups(self.rows.sparkSession, source, days)
        derived = {layout.rollup(name, day): table for day, tables in rollups.items() for name, table in tables.items()}
        write_parquet_files_atomically(derived, layout=layout, joint=JointWrite(tuple(targets), write))


@dataclass(frozen=True)
class CheckedDay:
    """A day checked on Spark: its counts and examples, and its batch's rows on the executors (for the suite)."""

    counts: OutcomeSummary
    batch: Checked

    @property
    def rows_in(self) -> int:
        return self.counts.rows_in

    def summary(self) -> OutcomeSummary:
        return self.counts


def _is_day(days: pa.ChunkedArray, day: date | None) -> pa.ChunkedArray:
    import pyarrow.compute as pc

    return pc.is_null(days) if day is None else pc.equal(days, pa.scalar(day, pa.date32()))


def _look_ups(session: SparkSession, layout: DataLayout, source: Source, first_day: date | None) -> None:
    """The view `check_rows`: the batch's rows with `_known_customer` (the customer is a valid one of the CRM
    export) and `_seen_before` (the key was validated on a day before `first_day`), each a join over validated
    Parquet."""
    key = DEDUP_COLUMNS[source.name]
    joins, known, seen = [], "true", "false"
    if source.daily and "customer_id" in source.column_names:
        path = layout.validated(CUSTOMERS.name, None)
        view(session, "known_customers", [path] if path.exists() else [], clean_schema(CUSTOMERS))
        joins.append(
            "LEFT JOIN (SELECT DISTINCT customer_id AS known_id FROM known_customers) AS k "
            "ON b.customer_id = k.known_id"
        )
        known = "k.known_id IS NOT NULL"
    if source.daily:
        glob = layout.validated_glob(source.name)
        view(
            session,
            "earlier_rows",
            _earlier_files(session, layout, source, first_day),
            clean_schema(source).append(DAY),
            glob.parent.parent,
        )
        joins.append(
            f"LEFT JOIN (SELECT DISTINCT {key} AS seen_key FROM earlier_rows "
            f"WHERE date < DATE'{first_day.isoformat()}' AND {key} IS NOT NULL) AS e ON b.{key} = e.seen_key"
        )
        seen = "e.seen_key IS NOT NULL"
    query = f"SELECT b.*, {known} AS _known_customer, {seen} AS _seen_before FROM batch_rows AS b {' '.join(joins)}"
    session.sql(query).createOrReplaceTempView("check_rows")


def _earlier_files(session: SparkSession, layout: DataLayout, source: Source, first_day: date) -> list[Path]:
    """The validated files of the days before `first_day` that may hold one of the batch's keys: every earlier day
    for a source's key, and for event ids only the days `key_sets.files_that_may_hold` picks with the hashes searched
    by Spark (a night's look-up then reads the ids of a few days, not of the whole history)."""
    if source.key is not None:
        return [layout.validated_glob(source.name)] if layout.has_validated_day_before(source.name, first_day) else []
    return files_that_may_hold(layout, source, first_day, partial(_days_with_a_matching_hash, session, layout))


def _days_with_a_matching_hash(session: SparkSession, layout: DataLayout, days: list[date]) -> set[date]:
    """`key_sets.HASH_LOOK_UP`, translated, over the rollups of `days` and the batch's event ids."""
    files = [layout.rollup(EVENT_ID_HASHES, day) for day in days]
    schema = HASH_LOOK_UP_TABLES["earlier_event_id_hashes"]
    view(session, "earlier_event_id_hashes", files, schema, files[0].parent.parent)
    session.sql("SELECT event_id AS key FROM batch_rows").createOrReplaceTempView("wanted")
    found = run_query(session, "event id hash look-up", HASH_LOOK_UP, HASH_LOOK_UP_TABLES, {})
    return set(found["date"].to_pylist())


def _rollups(session: SparkSession, source: Source, days: list[date | None]) -> dict[date | None, dict[str, pa.Table]]:
    """Each day's rollups of the clean checked rows."""
    if not ROLLUPS.get(source.name):
        return {day: {} for day in days}
    columns = ", ".join(clean_schema(source).names)
    session.sql(
        f"SELECT {columns}, {DAY_COLUMN} AS date FROM checked_rows WHERE reason IS NULL"
    ).createOrReplaceTempView("day_rows_by_date")
    return rollups_of_view(session, source, days)
