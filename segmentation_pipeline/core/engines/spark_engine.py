"""The feature and rollup SQL run on Spark: Spark reads the data root's validated Parquet (and its rollups) itself,
runs the SQL of core/features/sql/ translated by spark_sql.py, and returns the result as Arrow in exactly the schema
DuckDB gives the same query, so the callers write the same files either way.

The rows themselves are read and aggregated by Spark's executors; what comes back to the driver is a query's result
(the rollups, one row per customer and day), and the feature table not even that (spark_features.py writes it).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc

from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.engines.spark_frames import uri
from segmentation_pipeline.core.engines.spark_sql import DUCKDB_HASH_UDF, to_spark_sql
from segmentation_pipeline.core.errors import PipelineError, bounded
from segmentation_pipeline.core.features.rollups import (
    EVENT_ID_HASHES,
    HASH_PROBE,
    ROLLUP_SCHEMAS,
    ROLLUPS,
    hash_fingerprint,
    split_by_day,
)
from segmentation_pipeline.core.features.sql import sql
from segmentation_pipeline.core.ingest.contract import SOURCES, Source, clean_schema
from segmentation_pipeline.core.storage.layout import DataLayout

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

DAY = pa.field("date", pa.date32())
SPARK_UINT64 = pa.decimal128(20, 0)
"""The Spark type of a Parquet UINT64 column: Spark has no unsigned 64-bit integer."""
FUNCTIONS_SQL = Path(__file__).resolve().parent / "spark_functions.sql"


def history_schemas(sources: tuple[Source, ...]) -> dict[str, pa.Schema]:
    """The tables the feature SQL reads, by name, with their schemas: each source's validated rows (with the `date`
    partition of daily ones) and its daily rollups."""
    schemas = {}
    for source in sources:
        schemas[source.name] = clean_schema(source).append(DAY) if source.daily else clean_schema(source)
        for name in ROLLUPS.get(source.name, ()):
            if name != EVENT_ID_HASHES:  # the duplicate check's, read by no feature query
                schemas[name] = ROLLUP_SCHEMAS[name].append(DAY)
    return schemas


def history_query(
    session: SparkSession,
    label: str,
    layout: DataLayout,
    query: str,
    parameters: Mapping[str, object],
    sources: tuple[Source, ...],
) -> tuple[DataFrame, pa.Schema]:
    """`query` over the history tables of `sources` (the views `customer_features.open_history` gives DuckDB), as a
    Spark DataFrame (not yet run), and the schema DuckDB gives its result."""
    schemas = history_schemas(sources)
    for name, schema in schemas.items():
        if name in SOURCES and not SOURCES[name].daily:
            path = layout.validated(name, None)
            view(session, name, [path] if path.exists() else [], schema)
            continue
        # one glob per table, listed by the driver (a list of many files would cost Spark a listing job)
        files, glob = (
            (layout.validated_files(name), layout.validated_glob(name))
            if name in SOURCES
            else (layout.rollup_files(name), layout.rollup_glob(name))
        )
        view(session, name, [glob] if files else [], schema, base=glob.parent.parent)
    frame = spark_query(session, label, query, schemas, parameters)
    return frame, duckdb_result_schema(query, schemas, parameters)


def rollups_by_day(
    session: SparkSession, layout: DataLayout, source: Source, days: list[date]
) -> dict[date, dict[str, pa.Table]]:
    """The rollups of each of `days`' validated rows of `source`, read by Spark from the validated files: the tables
    `rollups.rollups_by_day` gives, from one Spark query per rollup over all the days."""
    if not ROLLUPS.get(source.name) or not days:
        return {day: {} for day in days}
    files = [layout.validated(source.name, day) for day in days]
    view(session, "day_rows_by_date", files, clean_schema(source).append(DAY), base=files[0].parent.parent)
    return rollups_of_view(session, source, days)


def rollups_of_view(session: SparkSession, source: Source, days: list[date]) -> dict[date, dict[str, pa.Table]]:
    """The rollups of each of `days`, over the session's view `day_rows_by_date` (validated rows of `source` in the
    clean schema, with their partition `date`): one Spark query per rollup over all the days."""
    names = ROLLUPS.get(source.name, ())
    if not names or not days:
        return {day: {} for day in days}
    if EVENT_ID_HASHES in names:
        check_same_hash(session)
    rows = clean_schema(source).append(DAY)
    # the rollup SQL groups by `day_index`; the partition date orders the days as their positions do
    session.sql("SELECT *, date AS day_index FROM day_rows_by_date").createOrReplaceTempView("day_rows")
    tables = {"day_rows": rows.append(pa.field("day_index", pa.date32()))}
    results = {
        name: run_query(session, f"rollup {name}", sql(f"rollups/{name}"), tables, {}, _rollup_schema(name))
        for name in names
    }
    positions = pa.array(days, pa.date32())
    indexed = {
        name: table.set_column(
            table.schema.get_field_index("day_index"), "day_index", pc.index_in(table["day_index"], positions)
        )
        for name, table in results.items()
    }
    return split_by_day(indexed, days)


def register_functions(session: SparkSession) -> None:
    """The session functions the translated SQL calls (spark_sql.py): those of spark_functions.sql, and DuckDB's
    `hash`, run by DuckDB on the executors."""
    from pyspark.sql.functions import arrow_udf

    for statement in _function_statements():
        session.sql(statement)
    session.udf.register(DUCKDB_HASH_UDF, arrow_udf(_duckdb_hash, "bigint"))


@cache
def _function_statements() -> list[str]:
    lines = [line for line in FUNCTIONS_SQL.read_text(encoding="utf-8").splitlines() if not line.startswith("--")]
    return [statement.strip() for statement in "\n".join(lines).split(";") if statement.strip()]


def check_same_hash(session: SparkSession) -> None:
    """The executors' DuckDB hashes as the driver's does: the nightly duplicate check (core/validate/key_sets.py)
    looks the driver's hashes up in rollups the executors wrote."""
    (signed,) = session.sql(f"SELECT {DUCKDB_HASH_UDF}('{HASH_PROBE}')").first()
    executors = str(signed % 2**64)
    if executors != hash_fingerprint():
        raise PipelineError(
            f"engine spark: the executors' DuckDB hash ({executors}) differs from the driver's ({hash_fingerprint()})"
            " for the probe string; install the same duckdb release on the cluster as on the driver"
        )


def _duckdb_hash(values: pa.Array) -> pa.Array:
    """DuckDB's 64-bit `hash` of each value, its bits as a signed integer (Spark has no unsigned 64-bit type)."""
    with duckdb_cursor() as con:
        con.register("values_to_hash", pa.table({"value": values}))
        hashes = con.sql("SELECT hash(value) AS hash FROM values_to_hash").to_arrow_table()["hash"]
    return hashes.combine_chunks().view(pa.int64())


def run_query(
    session: SparkSession,
    label: str,
    query: str,
    tables: dict[str, pa.Schema],
    parameters: Mapping[str, object],
    schema: pa.Schema | None = None,
) -> pa.Table:
    """DuckDB SQL `query` over the session's views `tables` (by name, with their schemas), translated and run on
    Spark, its result cast to `schema` (else to the schema DuckDB gives the query). A failure is one line naming
    `label`."""
    frame = spark_query(session, label, query, tables, parameters)
    return collected(label, frame, schema or duckdb_result_schema(query, tables, parameters))


def spark_query(
    session: SparkSession, label: str, query: str, tables: dict[str, pa.Schema], parameters: Mapping[str, object]
) -> DataFrame:
    """DuckDB SQL `query` over the session's views `tables`, translated, as a Spark DataFrame (not yet run)."""
    with spark_failures(label):
        return session.sql(to_spark_sql(query, tables, parameters), args=dict(parameters))


def collected(label: str, frame: DataFrame, schema: pa.Schema) -> pa.Table:
    """`frame`'s rows on the driver as Arrow, cast to `schema` (the one DuckDB gives the same query)."""
    with spark_failures(label):
        result = frame.toArrow()
    columns = []
    for field, column in zip(schema, result.columns, strict=True):
        if field.type == pa.uint64():  # DuckDB's hash, carried by Spark as the same bits in a signed BIGINT
            column = pa.chunked_array([chunk.view(pa.uint64()) for chunk in column.chunks], pa.uint64())
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


@contextmanager
def spark_failures(label: str) -> Iterator[None]:
    """A Spark failure as one line naming `label`."""
    from py4j.protocol import Py4JError
    from pyspark.errors import PySparkException

    try:
        yield
    except PySparkException as error:
        raise PipelineError(bounded(f"engine spark: {label}: {_first_line(str(error))}")) from None
    except (Py4JError, ConnectionError):  # the JVM is gone: killed, or out of memory
        raise PipelineError(
            f"engine spark: {label}: the Spark JVM stopped answering; if it ran out of memory, raise"
            " spark.driver.memory (a local session) or spark.executor.memory (a cluster) in the spark resource's conf"
        ) from None


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def duckdb_result_schema(query: str, tables: dict[str, pa.Schema], parameters: Mapping[str, object]) -> pa.Schema:
    """The Arrow schema of `query`'s result on DuckDB: run on empty tables of the same schemas."""
    return _duckdb_result_schema(query, tuple(sorted(tables.items())), _key(parameters))


@cache
def _duckdb_result_schema(query: str, tables: tuple, parameters: tuple) -> pa.Schema:
    with duckdb_cursor() as con:
        for name, schema in tables:
            con.register(name, schema.empty_table())
        return con.sql(query, params=dict(parameters)).to_arrow_table().schema


def _key(parameters: Mapping[str, object]) -> tuple:
    return tuple(sorted(parameters.items()))


def _rollup_schema(name: str) -> pa.Schema:
    return pa.schema([pa.field("day_index", pa.date32()), *ROLLUP_SCHEMAS[name]])


def view(session: SparkSession, name: str, paths: list[Path], schema: pa.Schema, base: Path | None = None) -> None:
    """A view over Parquet files (or globs of them; partition columns from the folders under `base`), read by URI,
    or an empty one without any. A UBIGINT column (DuckDB's `hash`), which Spark reads as DECIMAL(20, 0), is
    given as its 64 bits in a signed BIGINT, as Spark carries DuckDB's hashes everywhere else (the `duckdb_hash`
    UDF, `collected`): the one place the two spellings meet."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    unsigned = [field.name for field in schema if field.type == pa.uint64()]
    read = from_arrow_schema(pa.schema([f.with_type(SPARK_UINT64) if f.name in unsigned else f for f in schema]))
    frame: DataFrame
    if paths:
        reader = session.read.schema(read)
        if base is not None:
            reader = reader.option("basePath", uri(base))
        frame = reader.parquet(*(uri(path) for path in paths))
    else:
        frame = session.createDataFrame([], read)
    if unsigned:
        frame = frame.select(*(F.expr(_signed_bits(n)).alias(n) if n in unsigned else F.col(n) for n in schema.names))
    frame.createOrReplaceTempView(name)


def _signed_bits(column: str) -> str:
    """The Spark SQL of an unsigned 64-bit `column` (read as DECIMAL(20, 0)) as the same bits in a signed BIGINT."""
    return f"CAST(IF(`{column}` >= {2**63}BD, `{column}` - {2**64}BD, `{column}`) AS BIGINT)"
