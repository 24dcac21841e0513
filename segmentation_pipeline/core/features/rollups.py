"""The daily rollups derived from each validated day, written with its rows.

Most of a snapshot's work does not depend on the snapshot. Per day, usage events collapse into one row per customer
(counts by device and time of day), the distinct sessions, the uses per feature and the events per hour of the day;
orders collapse into one row per customer (completed orders and spend, cancellations, refunds), which is exactly
lifetimes' daily purchase period, and one per customer and product category.
These rollups are written with the day's validated rows, in the same all-or-nothing swap, so a snapshot reads fewer,
narrower rows (README: Features). The feature SQL aggregates them exactly as it would the rows: counts and sums add up
over days, and distinct sessions are de-duplicated across days, so a session spanning midnight still counts once. Each
row's timestamp falls in its partition day (a validation rule), so the partition date is the row's UTC day.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.features.sql import sql
from segmentation_pipeline.core.ingest.contract import ORDERS, USAGE_EVENTS, Source, clean_schema
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout, partition_day

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# Each query (sql/rollups/<name>.sql) reads validated rows of one or more days as `day_rows`, each with the index of its
# day as `day_index`, and groups by it as well: a backfill runs one query set per batch of days, not one per day.
# Calendar fields come from the UTC wall-clock time as a plain TIMESTAMP, make_timestamp(epoch_us(ts)): the same values
# as on the TIMESTAMPTZ in a UTC session, without a time-zone conversion per row.
ROLLUPS: dict[str, tuple[str, ...]] = {
    ORDERS.name: ("order_day_customers", "order_day_categories"),
    USAGE_EVENTS.name: (
        "usage_day_customers",
        "usage_day_sessions",
        "usage_day_features",
        "usage_day_hours",
        "usage_day_event_ids",
    ),
}
"""The rollups of each source that has any, by name."""
SPARK_BATCH_DAYS = 92
"""Days rolled up per Spark query set when Spark rebuilds rollups: a quarter of results on the driver at a time."""

_COUNTS = ("events", "mobile", "desktop", "tablet", "night", "morning", "afternoon", "evening")
ROLLUP_SCHEMAS = {
    "order_day_customers": pa.schema(
        [("customer_id", pa.string()), ("completed_orders", pa.int64()), ("spend", pa.decimal128(18, 2))]
        + [(name, pa.int64()) for name in ("cancelled_orders", "refunded_orders")]
    ),
    "order_day_categories": pa.schema(
        [
            ("customer_id", pa.string()),
            ("product_category", pa.string()),
            ("completed_orders", pa.int64()),
            ("spend", pa.decimal128(18, 2)),
        ]
    ),
    "usage_day_customers": pa.schema(
        [("customer_id", pa.string()), ("events", pa.int64()), ("duration_s", pa.decimal128(18, 3))]
        + [(name, pa.int64()) for name in _COUNTS[1:]]
    ),
    "usage_day_sessions": pa.schema([("customer_id", pa.string()), ("session_id", pa.string())]),
    "usage_day_features": pa.schema([("customer_id", pa.string()), ("feature", pa.string()), ("uses", pa.int64())]),
    "usage_day_hours": pa.schema([("customer_id", pa.string()), ("hour", pa.int8()), ("events", pa.int64())]),
    "usage_day_event_ids": pa.schema([("event_id_hash", pa.uint64())]),
}
EVENT_ID_HASHES = "usage_day_event_ids"
"""The rollup of event id hashes. DuckDB's `hash()` is not promised to stay the same across releases, so each file
records the hash of a fixed probe string (`hash_fingerprint`): a file written by another release is stale."""


def rollups(source: Source, rows: pa.Table) -> dict[str, pa.Table]:
    """The rollups of one day's validated rows of `source` (none for sources without rollups)."""
    return rollups_by_day(source, {None: rows})[None]


def rollups_by_day(source: Source, rows_by_day: dict[date | None, pa.Table]) -> dict[date | None, dict[str, pa.Table]]:
    """The rollups of each day's validated rows, from one query set over all of them: the same tables as rolling up
    each day on its own, since every query groups by the day too."""
    names = ROLLUPS.get(source.name, ())
    if not names:
        return {day: {} for day in rows_by_day}
    counts = [table.num_rows for table in rows_by_day.values()]
    day_index = np.repeat(np.arange(len(counts), dtype=np.int32), counts)
    rows = pa.concat_tables(rows_by_day.values()).append_column("day_index", pa.array(day_index))
    with duckdb_cursor() as con:
        con.register("day_rows", rows)
        tables = {name: con.sql(sql(f"rollups/{name}")).to_arrow_table() for name in names}
    return split_by_day(tables, list(rows_by_day))


def split_by_day(tables: dict[str, pa.Table], days: list) -> dict:
    """Each rollup query's result (sorted by `day_index`, the position of its day in `days`) as each day's table in
    the rollup's schema. A day's event id hashes are sorted (as unsigned: Spark's come signed), so that its file is
    the same whichever engine wrote it and in whatever order the rows came."""
    by_day = {day: {} for day in days}
    for name, table in tables.items():
        bounds = np.searchsorted(table["day_index"].to_numpy(), np.arange(len(days) + 1))
        table = table.drop_columns("day_index").cast(_schema(name))
        for day, start, end in zip(by_day, bounds[:-1], bounds[1:], strict=True):
            piece = table.slice(start, end - start)
            by_day[day][name] = piece.sort_by("event_id_hash") if name == EVENT_ID_HASHES else piece
    return by_day


def refresh_rollups(layout: DataLayout, spark: SparkSession | None = None) -> dict[str, list[date]]:
    """Rebuild the rollups of every validated day whose rollups are missing or older than its rows (a warehouse
    validated before rollups existed, or a crash between the renames); drop rollups of days whose rows are gone.
    With a Spark session, Spark rebuilds them. Returns the days rebuilt per source."""
    rebuilt = {}
    for source in (ORDERS, USAGE_EVENTS):
        day_files = {partition_day(path): path for path in layout.validated_files(source.name)}
        for name in ROLLUPS[source.name]:
            for path in layout.rollup_files(name):
                if partition_day(path) not in day_files:
                    path.unlink()
        rebuilt[source.name] = sorted(day for day, path in day_files.items() if _stale(layout, source, day, path))
        if spark is not None:
            _refresh_on_spark(spark, layout, source, rebuilt[source.name])
            continue
        for day in rebuilt[source.name]:
            rows = pq.read_table(day_files[day], schema=clean_schema(source))
            write_parquet_files_atomically(rollup_files(layout, source, {day: rows}))
    return rebuilt


def _refresh_on_spark(spark: SparkSession, layout: DataLayout, source: Source, days: list[date]) -> None:
    """Spark reads the days' validated files and rolls them up, a batch of days per query set; each batch's files
    are written in one all-or-nothing write."""
    from segmentation_pipeline.core.engines.spark_engine import rollups_by_day as spark_rollups_by_day

    for start in range(0, len(days), SPARK_BATCH_DAYS):
        by_day = spark_rollups_by_day(spark, layout, source, days[start : start + SPARK_BATCH_DAYS])
        write_parquet_files_atomically(
            {layout.rollup(name, day): table for day, tables in by_day.items() for name, table in tables.items()}
        )


def rollup_files(layout: DataLayout, source: Source, rows_by_day: dict[date, pa.Table]) -> dict[Path, pa.Table]:
    """The rollup files of each day's validated rows."""
    return {
        layout.rollup(name, day): table
        for day, tables in rollups_by_day(source, rows_by_day).items()
        for name, table in tables.items()
    }


def rollup_is_current(layout: DataLayout, name: str, day: date, rows: Path) -> bool:
    """The rollup exists, was written after the day's rows, and (for the event id hashes) by this DuckDB's hash."""
    path = layout.rollup(name, day)
    if not path.exists() or path.stat().st_mtime_ns < rows.stat().st_mtime_ns:
        return False
    if name != EVENT_ID_HASHES:
        return True
    return (pq.read_schema(path).metadata or {}).get(b"hash_fingerprint") == hash_fingerprint().encode()


HASH_PROBE = "segmentation_pipeline event id"


@cache
def hash_fingerprint() -> str:
    with duckdb_cursor() as con:
        return str(con.execute("SELECT hash(?)", [HASH_PROBE]).fetchone()[0])


def _schema(name: str) -> pa.Schema:
    schema = ROLLUP_SCHEMAS[name]
    return schema.with_metadata({"hash_fingerprint": hash_fingerprint()}) if name == EVENT_ID_HASHES else schema


def _stale(layout: DataLayout, source: Source, day: date, rows: Path) -> bool:
    return not all(rollup_is_current(layout, name, day, rows) for name in ROLLUPS[source.name])
