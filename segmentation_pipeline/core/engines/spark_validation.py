"""The validation of a batch of days on Spark: the row rules of core/validate/rules.py (the SQL DuckDB runs on the
default engine, translated), the look-ups they need (the known customers, the keys of earlier days) as joins over
the validated Parquet that Spark reads itself, and the daily rollups of the clean rows (core/features/sql/rollups/).

What comes back to the driver is what the atomic writer writes: the rules' verdicts per row and the rollups.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.engines.spark_engine import (
    DAY,
    collected,
    duckdb_result_schema,
    rollups_of_view,
    run_query,
    spark_query,
    view,
)
from segmentation_pipeline.core.features.rollups import EVENT_ID_HASHES, ROLLUPS
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, Source, clean_schema
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.key_sets import (
    DEDUP_COLUMNS,
    HASH_LOOK_UP,
    HASH_LOOK_UP_TABLES,
    files_that_may_hold,
)
from segmentation_pipeline.core.validate.row_checks import check_rows, now_microseconds
from segmentation_pipeline.core.validate.rules import (
    DAY_COLUMN,
    LOOK_UP_COLUMNS,
    NORMALISED,
    ROW_COLUMN,
    rule_names,
    rule_parameters,
    rules_query,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


@dataclass
class SparkCheckedBatch:
    """A batch checked on Spark: the verdicts per row (for `row_checks.split_by_day`), the rollups of
    each day's clean rows, and the checked rows themselves, cached on the executors until `release`."""

    verdicts: pa.Table
    rollups: dict[date | None, dict[str, pa.Table]]
    rows: DataFrame

    def release(self) -> None:
        self.rows.unpersist()


def check_on_spark(
    session: SparkSession,
    layout: DataLayout,
    source: Source,
    frame: pd.DataFrame,
    rows_per_day: dict[date | None, int],
    now: pd.Timestamp,
    max_amount: float,
) -> SparkCheckedBatch:
    """The rules' verdicts on the rows of `frame` (consecutive days, `rows_per_day[day]` rows each, typed by the
    contract), their look-ups made against the days validated before the batch, and each day's rollups."""
    label = f"validation of {source.name}"
    session.createDataFrame(check_rows(frame, rows_per_day, source, {})).createOrReplaceTempView("batch_rows")
    _look_ups(session, layout, source, min(rows_per_day) if source.daily else None)
    tables = {"check_rows": _check_rows_schema(source)}
    parameters = rule_parameters(source, now_microseconds(now), max_amount)
    checked = spark_query(session, label, rules_query(source), tables, parameters).persist()
    checked.createOrReplaceTempView("checked_rows")
    wanted = [*rule_names(source), "reason", *NORMALISED.get(source.name, {}), ROW_COLUMN]
    schema = duckdb_result_schema(rules_query(source), tables, parameters)
    verdicts = collected(label, checked.select(*wanted), _only(schema, wanted))
    return SparkCheckedBatch(verdicts, _rollups(session, source, list(rows_per_day)), checked)


def _check_rows_schema(source: Source) -> pa.Schema:
    schema = clean_schema(source).append(pa.field(ROW_COLUMN, pa.int64())).append(pa.field(DAY_COLUMN, pa.date32()))
    for name in LOOK_UP_COLUMNS:
        schema = schema.append(pa.field(name, pa.bool_()))
    return schema


def _only(schema: pa.Schema, names: list[str]) -> pa.Schema:
    return pa.schema([schema.field(name) for name in names])


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
