import shutil
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.engines.spark_engine import run_query
from segmentation_pipeline.core.engines.spark_session import start_spark
from segmentation_pipeline.core.features.rollups import ROLLUPS, refresh_rollups
from segmentation_pipeline.core.storage.layout import DataLayout

TEST_CONF = {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "2"}
"""A test session: no web UI, and few shuffle partitions for tiny data on 2 cores."""
FLOAT_RELATIVE_TOLERANCE = 1e-9
SMALL_BATCHES = {"spark.sql.execution.arrow.maxRecordsPerBatch": "700", "spark.sql.files.maxPartitionBytes": "16k"}
"""Many batches in several partitions, so that a per-batch shortcut would show."""


@pytest.fixture(scope="module")
def spark():
    """A real local Spark session, one per test module (starting one takes about 15 s)."""
    session = start_spark("local[2]", "segmentation_pipeline_tests", TEST_CONF)
    yield session
    session.stop()


@contextmanager
def small_batches_of(spark):
    """The session's settings as `SMALL_BATCHES` while the block runs."""
    previous = {key: spark.conf.get(key) for key in SMALL_BATCHES}
    for key, value in SMALL_BATCHES.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in previous.items():
            spark.conf.set(key, value)


@pytest.fixture
def small_batches(spark):
    with small_batches_of(spark):
        yield


def on_both_engines(spark, query: str, tables: dict[str, pa.Table], parameters: dict | None = None):
    """`query` (DuckDB SQL over `tables`) run by DuckDB and, translated, by Spark: both results as Arrow."""
    parameters = parameters or {}
    with duckdb_cursor() as con:
        for name, table in tables.items():
            con.register(name, table)
        expected = con.sql(query, params=parameters).to_arrow_table()
    for name, table in tables.items():
        spark.createDataFrame(table).createOrReplaceTempView(name)
    schemas = {name: table.schema for name, table in tables.items()}
    return expected, run_query(spark, "test query", query, schemas, parameters)


def assert_same_table(actual: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Same columns, dtypes and rows: exact for ids, counts, dates and strings, floats to 1e-9 relative."""
    assert list(actual.columns) == list(expected.columns)
    assert actual.dtypes.to_dict() == expected.dtypes.to_dict()
    pd.testing.assert_frame_equal(actual, expected, check_exact=False, rtol=FLOAT_RELATIVE_TOLERANCE, atol=0)
    exact = [column for column in expected.columns if not pd.api.types.is_float_dtype(expected[column])]
    pd.testing.assert_frame_equal(actual[exact], expected[exact], check_exact=True)


def rebuilt_on_spark(zone: DataLayout, root: Path, spark) -> tuple[DataLayout, dict[Path, pa.Table], dict]:
    """A copy of `zone` under `root` whose rollups Spark rebuilt: the copy, the rollup files DuckDB had written, and
    what `refresh_rollups` reported rebuilding."""
    layout = DataLayout(root)
    shutil.copytree(zone.root, layout.root)
    written = {
        path: pq.read_table(path) for names in ROLLUPS.values() for name in names for path in layout.rollup_files(name)
    }
    shutil.rmtree(layout.warehouse / "rollups")
    return layout, written, refresh_rollups(layout, spark)


def assert_same_rollups(written: dict[Path, pa.Table]) -> None:
    """Each rollup file now on disk equals the one DuckDB wrote, schema and metadata included."""
    for path, duckdb_table in written.items():
        spark_table = pq.read_table(path)
        assert spark_table.schema.equals(duckdb_table.schema, check_metadata=True), path
        assert spark_table.equals(duckdb_table), path
