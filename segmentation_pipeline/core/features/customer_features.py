"""Per-customer features as of a snapshot date, computed by DuckDB directly over the validated Parquet history.

All feature definitions live in the SQL files of `sql/features/` (one place, portable to another SQL engine), and
`columns.yaml` documents every column they return. The history is read out of core, so event tables far larger than
memory are fine; only the per-customer result comes back to pandas.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.arrow_values import as_string_array
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
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import (
    has_snapshot_table,
    read_snapshot_sample,
    read_snapshot_table,
    sample_step,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_SETTINGS = FeatureSettings()
HISTORY_SOURCES = (CUSTOMERS, ORDERS, SURVEY_RESPONSES, USAGE_EVENTS)
"""The validated sources the feature SQL reads (with their rollups)."""


def compute_features(
    layout: DataLayout,
    snapshot_date: date,
    settings: FeatureSettings = DEFAULT_SETTINGS,
    spark: SparkSession | None = None,
) -> pd.DataFrame:
    """One row per customer known (created) by the end of `snapshot_date`, from validated history up to that day and
    its daily rollups (bring those up to date first with `rollups.refresh_rollups`); on Spark if a session is
    given, else on DuckDB."""
    parameters = query_parameters(snapshot_date, settings)
    if spark is not None:
        from segmentation_pipeline.core.engines.spark_engine import run_history_query

        return to_pandas(
            run_history_query(
                spark, f"customer features of {snapshot_date}", layout, features_sql(), parameters, HISTORY_SOURCES
            )
        )
    with open_history(layout) as con:
        return to_pandas(con.sql(features_sql(), params=parameters).to_arrow_table())


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
    """The snapshot's feature table if the feature step built it, else computed now with the default settings (a
    refit or a fallback fit reads the quarter's eve, which a nightly run may never have built). With
    `max_customers`, an evenly spaced sample of at most that many of them (`read_snapshot_sample`: the same rows
    whether the table was read or computed), for a fit."""
    if has_snapshot_table(layout, "customer_features", snapshot_date):
        if max_customers is None:
            return read_snapshot_table(layout, "customer_features", snapshot_date)
        return read_snapshot_sample(layout, "customer_features", snapshot_date, max_customers)
    refresh_rollups(layout)
    features = compute_features(layout, snapshot_date)
    if max_customers is None:
        return features
    return features.iloc[:: sample_step(len(features), max_customers)].reset_index(drop=True)


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


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with the dtypes DuckDB's own `.df()` gives (nullable Int64 and boolean where a column has
    nulls, dates as datetime64), much faster than `.df()` on large tables."""
    nullable = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    frame = table.to_pandas(types_mapper=nullable.get, date_as_object=False)
    for field, column in zip(table.schema, table.columns, strict=True):
        if field.type in nullable and column.null_count == 0:
            frame[field.name] = frame[field.name].astype(field.type.to_pandas_dtype())
        elif pa.types.is_date(field.type):
            frame[field.name] = frame[field.name].astype("datetime64[us]")
    return frame


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
