"""Per-customer features as of a snapshot date, computed by DuckDB directly over the validated Parquet history.

All feature definitions live in the SQL files of `sql/features/` (one place, portable to another SQL engine), and
`columns.yaml` documents every column they return. The history is read out of core, so event tables far larger than
memory are fine; only the per-customer result comes back to pandas.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.arrow_values import as_string_array
from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.core.features.rollups import ROLLUP_SCHEMAS, ROLLUPS, refresh_rollups
from segmentation_pipeline.core.features.settings import FeatureSettings
from segmentation_pipeline.core.features.sql import features_sql, purchase_days_sql
from segmentation_pipeline.core.ingest.contract import (
    CUSTOMERS,
    ORDERS,
    SURVEY_RESPONSES,
    USAGE_EVENTS,
    Source,
    clean_schema,
)
from segmentation_pipeline.core.storage.layout import WAREHOUSE, DataLayout
from segmentation_pipeline.core.storage.tables import (
    has_snapshot_table,
    read_snapshot_sample,
    read_snapshot_table,
    write_snapshot_table,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_SETTINGS = FeatureSettings()
FEATURE_TABLE = "customer_features"
NULLABLE_DTYPES = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
"""The Arrow types `to_pandas` gives a nullable pandas dtype when the column has nulls."""
HISTORY_SOURCES = (CUSTOMERS, ORDERS, SURVEY_RESPONSES, USAGE_EVENTS)
"""The validated sources the feature SQL reads (with their rollups)."""


def compute_features(
    layout: DataLayout, snapshot_date: date, settings: FeatureSettings = DEFAULT_SETTINGS
) -> pd.DataFrame:
    """One row per customer known (created) by the end of `snapshot_date`, from validated history up to that day and
    its daily rollups (bring those up to date first with `rollups.refresh_rollups`), by DuckDB."""
    with open_history(layout) as con:
        return to_pandas(con.sql(features_sql(), params=query_parameters(snapshot_date, settings)).to_arrow_table())


def build_features(
    layout: DataLayout,
    snapshot_date: date,
    settings: FeatureSettings = DEFAULT_SETTINGS,
    spark: SparkSession | None = None,
) -> int:
    """Write the snapshot's feature table (`compute_features`' rows); returns its customers. On Spark, Spark computes
    and writes it (`spark_features.write_features`): no customer row reaches the driver."""
    if spark is not None:
        from segmentation_pipeline.core.engines.spark_features import write_features

        return write_features(spark, layout, snapshot_date, query_parameters(snapshot_date, settings))
    features = compute_features(layout, snapshot_date, settings)
    write_snapshot_table(layout, FEATURE_TABLE, snapshot_date, features)
    return len(features)


def build_missing_features(
    layout: DataLayout, snapshot_date: date, settings: FeatureSettings, spark: Callable[[], SparkSession | None]
) -> bool:
    """Build the snapshot's feature table, rollups first, unless it exists (a refit reads the quarter's eve, which
    no nightly run may have built); `spark` gives the session, if any, only then. Whether it was built."""
    if has_snapshot_table(layout, FEATURE_TABLE, snapshot_date):
        return False
    session = spark()
    refresh_rollups(layout, session)
    build_features(layout, snapshot_date, settings, session)
    return True


def purchase_days(layout: DataLayout, until: date, customers: pd.Series | None = None) -> pd.DataFrame:
    """One row per customer and day with a completed order up to `until` (`customer_id`, `day`, `spend`), sorted, from
    the daily order rollups (up to date after `rollups.refresh_rollups`): what the value model is fitted on. Only
    those of `customers` if given (a fit's sample)."""
    with open_history(layout, (ORDERS,)) as con:
        query = purchase_days_sql()
        if customers is not None:
            con.register("wanted_customers", pa.table({"customer_id": as_string_array(customers)}))
            query = f"SELECT * FROM ({query}) WHERE customer_id IN (SELECT customer_id FROM wanted_customers)"
        return to_pandas(con.sql(f"{query} ORDER BY customer_id, day", params={"snapshot": until}).to_arrow_table())


def snapshot_features(layout: DataLayout, snapshot_date: date, max_customers: int | None = None) -> pd.DataFrame:
    """The snapshot's feature table, as the feature step (or `build_missing_features`) wrote it. With
    `max_customers`, an evenly spaced sample of at most that many of them (`read_snapshot_sample`), for a fit."""
    if not has_snapshot_table(layout, FEATURE_TABLE, snapshot_date):
        path = layout.snapshot_table(WAREHOUSE, FEATURE_TABLE, snapshot_date)
        raise PipelineError(f"{path}: no feature table for {snapshot_date}; materialize customer_features for that day")
    if max_customers is None:
        return read_snapshot_table(layout, FEATURE_TABLE, snapshot_date)
    return read_snapshot_sample(layout, FEATURE_TABLE, snapshot_date, max_customers)


def open_history(layout: DataLayout, sources: tuple[Source, ...] = HISTORY_SOURCES) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (time zone UTC) with the tables the feature SQL reads: `customers`, and a view over every
    validated day of `orders`, `survey_responses` and `usage_events` and of their daily rollups (or only those of
    `sources`)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for source in sources:
        if not source.daily:
            con.register(source.name, _read_single(layout.validated(source.name, None), source))
            continue
        files = layout.validated_files(source.name)
        _register_days(con, source.name, files, layout.validated_glob(source.name), clean_schema(source))
        for name in ROLLUPS.get(source.name, ()):
            _register_days(con, name, layout.rollup_files(name), layout.rollup_glob(name), ROLLUP_SCHEMAS[name])
    return con


def to_pandas(table: pa.Table, with_nulls: Collection[str] = ()) -> pd.DataFrame:
    """Arrow to pandas with the dtypes DuckDB's own `.df()` gives (nullable Int64 and boolean where a column has
    nulls, or is named in `with_nulls`; dates as datetime64), much faster than `.df()` on large tables."""
    frame = table.to_pandas(types_mapper=NULLABLE_DTYPES.get, date_as_object=False)
    for field, column in zip(table.schema, table.columns, strict=True):
        if field.type in NULLABLE_DTYPES and column.null_count == 0 and field.name not in with_nulls:
            frame[field.name] = frame[field.name].astype(field.type.to_pandas_dtype())
        elif pa.types.is_date(field.type):
            frame[field.name] = frame[field.name].astype("datetime64[us]")
    return frame


def feature_file_schema(result: pa.Schema, with_nulls: Collection[str]) -> pa.Schema:
    """The schema of the feature table's file when the feature query's result has schema `result` and nulls in the
    columns `with_nulls`: the file keeps the pandas dtypes of `to_pandas`, which depend on where the nulls are."""
    return pa.Table.from_pandas(to_pandas(result.empty_table(), with_nulls), preserve_index=False).schema


def query_parameters(snapshot_date: date, settings: FeatureSettings) -> dict:
    """The named parameters of the feature SQL."""
    return {
        "snapshot": snapshot_date,
        "lookback": settings.lookback_days,
        "usage_window": settings.usage_window_days,
        "new_customer_days": settings.new_customer_days,
        "active_days": settings.active_days,
        "at_risk_days": settings.at_risk_days,
        "lapsed_days": settings.lapsed_days,
    }


def _read_single(path: Path, source: Source) -> pa.Table:
    return pq.read_table(path, schema=clean_schema(source)) if path.exists() else clean_schema(source).empty_table()


def _register_days(
    con: duckdb.DuckDBPyConnection, name: str, files: list[Path], pattern: Path, schema: pa.Schema
) -> None:
    """A view over daily partition files, with their `date` partition column; an empty table without days."""
    if files:
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{_sql_string(pattern.as_posix())}', "
            "hive_partitioning = true, hive_types = {'date': DATE})"
        )
    else:
        con.register(name, schema.append(pa.field("date", pa.date32())).empty_table())


def _sql_string(text: str) -> str:
    return text.replace("'", "''")
