"""Each fix of the DuckDB-to-Spark translation (core/engines/spark_sql.py), on real Spark: the translated SQL gives
DuckDB's answer on inputs where SQLGlot's own translation does not."""

import math
import tempfile
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.engines.spark_engine import history_schemas, run_query, view
from segmentation_pipeline.core.engines.spark_sql import UnsafeTranslation, to_explicit_duckdb_sql, to_spark_sql
from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.core.features.customer_features import (
    DEFAULT_SETTINGS,
    HISTORY_SOURCES,
    open_history,
    query_parameters,
)
from segmentation_pipeline.core.features.sql import features_sql
from segmentation_pipeline_tests.engines.conftest import on_both_engines
from segmentation_pipeline_tests.features.builders import SNAPSHOT, feature_warehouse

MONDAY = date(2026, 1, 5)


def values(table: pa.Table, column: str) -> list:
    return table[column].to_pylist()


def test_isodow_numbers_monday_1_to_sunday_7(spark):
    days = pa.table({"d": [MONDAY + timedelta(days=n) for n in range(7)]})
    duckdb, spark_result = on_both_engines(spark, "SELECT isodow(d) AS weekday FROM days ORDER BY d", {"days": days})
    assert values(spark_result, "weekday") == values(duckdb, "weekday") == [1, 2, 3, 4, 5, 6, 7]


def test_a_date_minus_a_date_is_a_day_count_and_a_date_minus_days_a_date(spark):
    days = pa.table({"d": [MONDAY, MONDAY + timedelta(days=6)]})
    query = "SELECT $snapshot - d AS age, d - d AS zero, $snapshot - 3 AS earlier FROM days ORDER BY d"
    duckdb, spark_result = on_both_engines(spark, query, {"days": days}, {"snapshot": date(2026, 1, 31)})
    assert spark_result.equals(duckdb)
    assert spark_result.schema.field("age").type == pa.int64()
    assert values(spark_result, "age") == [26, 20] and values(spark_result, "zero") == [0, 0]
    assert values(spark_result, "earlier") == [date(2026, 1, 28)] * 2


def test_division_is_duckdbs_double_division(spark):
    rows = pa.table(
        {
            "a": pa.array([7, -7, 0], pa.int64()),
            "b": pa.array([2, 2, 3], pa.int64()),
            "amount": pa.array([Decimal("1.25"), Decimal("-0.01"), Decimal(0)], pa.decimal128(18, 2)),
            "x": pa.array([1.5, -1.5, 0.0]),
        }
    )
    query = """SELECT a / b AS ratio, amount / b AS amount_ratio, x / 0 AS by_zero, a // b AS whole,
        x // 2 AS double_whole FROM t ORDER BY a DESC"""
    duckdb, spark_result = on_both_engines(spark, query, {"t": rows})
    assert spark_result.schema == duckdb.schema
    for column in duckdb.column_names:
        assert _same_doubles(values(spark_result, column), values(duckdb, column)), column
    assert values(spark_result, "ratio") == [3.5, 0.0, -3.5]  # not Spark's integral or decimal division
    assert values(spark_result, "amount_ratio") == [0.625, 0.0, -0.005]
    assert values(spark_result, "whole") == [3, 0, -3]  # truncated toward zero, as DuckDB's //
    assert values(spark_result, "double_whole") == [0.75, 0.0, -0.75]  # DuckDB's // on doubles divides
    assert values(spark_result, "by_zero")[0] == math.inf and math.isnan(values(spark_result, "by_zero")[1])


def test_round_of_a_double_rounds_its_exact_value_as_duckdb_does(spark):
    ties = [0.285, 2.675, 224.255, 1.005, 0.125, 2.5, -2.5, -0.005, -0.001, 0.0, 1e17 + 0.5, math.nan, -math.inf]
    generator = np.random.default_rng(3)
    near_ties = (generator.integers(0, 10**7, 5000) * 5 / 1000).tolist() + (generator.random(5000) * -100).tolist()
    rows = pa.table({"x": pa.array(ties + near_ties, pa.float64())})
    query = "SELECT round(x, 2) AS cents, round(x) AS whole, round(x, 3) AS milli FROM t"
    duckdb, spark_result = on_both_engines(spark, query, {"t": rows})
    for column in duckdb.column_names:
        assert _same_doubles(values(spark_result, column), values(duckdb, column)), column
    assert values(spark_result, "cents")[:5] == [0.28, 2.67, 224.25, 1.0, 0.13]  # Spark's round(): 0.29, 2.68, ...
    assert math.copysign(1, values(spark_result, "cents")[8]) == -1  # -0.001 rounds to -0.0, as in DuckDB


def test_round_of_a_decimal_stays_spark_round(spark):
    rows = pa.table({"amount": pa.array([Decimal("0.25"), Decimal("-0.25"), Decimal("1.35")], pa.decimal128(18, 2))})
    duckdb, spark_result = on_both_engines(spark, "SELECT round(amount, 1) AS r FROM t", {"t": rows})
    assert values(spark_result, "r") == values(duckdb, "r")
    assert [float(v) for v in values(spark_result, "r")] == [0.3, -0.3, 1.4]  # half away from zero


def test_round_of_a_double_too_large_for_the_exact_translation_fails_instead_of_differing(spark):
    rows = pa.table({"x": [2.5e15 + 0.5]})
    with pytest.raises(PipelineError, match=r"^engine spark: test query: .*round\(\): a value of 2\^52"):
        on_both_engines(spark, "SELECT round(x, 2) AS r FROM t", {"t": rows})


def test_first_ordered_by_keeps_duckdbs_order_ties_and_nulls_last(spark):
    rows = pa.table(
        {
            "customer": ["A", "A", "A", "B", "B", "C", "C", "D", "D"],
            "item": ["b", "a", "c", None, "z", "y", "x", None, "q"],
            "uses": [3, 3, 1, 5, 2, None, 1, 2, 2],
        }
    )
    query = """SELECT customer, first(item ORDER BY uses DESC, item) AS top FROM t GROUP BY customer
        ORDER BY customer"""
    duckdb, spark_result = on_both_engines(spark, query, {"t": rows})
    assert spark_result.equals(duckdb)
    # ties on uses by item; a NULL item is a value; a NULL count and a NULL item sort last
    assert values(spark_result, "top") == ["a", None, "x", "q"]


def test_arg_min_and_arg_max_skip_rows_without_a_value(spark):
    rows = pa.table({"x": pa.array([None, 5, 7, 9, None]), "y": pa.array([1, 2, None, 3, 4])})
    duckdb, spark_result = on_both_engines(
        spark, "SELECT arg_min(x, y) AS low, arg_max(x, y) AS high FROM t", {"t": rows}
    )
    assert spark_result.equals(duckdb)
    assert values(spark_result, "low") == [5] and values(spark_result, "high") == [9]


def test_hash_is_duckdbs_64_bit_hash(spark):
    rows = pa.table({"event_id": ["e1", "e2", "é-ü", "", "a much longer event id 0123456789"]})
    duckdb, spark_result = on_both_engines(spark, "SELECT hash(event_id) AS h FROM t", {"t": rows})
    assert spark_result.schema.field("h").type == pa.uint64()
    assert values(spark_result, "h") == values(duckdb, "h")


def test_an_unsigned_64_bit_column_read_by_a_view_keeps_its_values_and_meets_the_translated_hash(spark, tmp_path):
    """Spark reads a Parquet UINT64 column (DuckDB's hashes) as DECIMAL(20, 0) and the translated `hash` gives a
    signed BIGINT: the view gives both in the same spelling, and the values come back unsigned, extremes included."""
    keys = ["e1", "e2", "é-ü", "a much longer event id 0123456789"]
    with duckdb_cursor() as con:
        hashes = [con.execute("SELECT hash(?)", [key]).fetchone()[0] for key in keys]
    assert min(hashes) < 2**63 <= max(hashes)  # both signs in Spark's spelling
    stored = [0, 1, 2**63 - 1, 2**63, 2**64 - 1, *hashes]
    schema = pa.schema([("h", pa.uint64())])
    pq.write_table(pa.table({"h": pa.array(stored, pa.uint64())}), tmp_path / "hashes.parquet")
    view(spark, "stored_hashes", [tmp_path / "hashes.parquet"], schema)
    spark.createDataFrame(pa.table({"k": [*keys, "unseen"]})).createOrReplaceTempView("keys")
    tables = {"stored_hashes": schema, "keys": pa.schema([("k", pa.string())])}
    query = "SELECT h, h IN (SELECT hash(k) FROM keys) AS found FROM stored_hashes"
    result = run_query(spark, "test query", query, tables, {})
    assert result.schema.field("h").type == pa.uint64()
    assert sorted(values(result, "h")) == sorted(stored)  # (Spark orders them by their signed spelling)
    assert dict(zip(values(result, "h"), values(result, "found"), strict=True)) == {h: h in hashes for h in stored}


def test_hour_of_the_utc_wall_clock(spark):
    moments = [
        datetime(2026, 1, 1, 23, 30, tzinfo=UTC),
        datetime(2026, 1, 2, 0, 10, tzinfo=timezone(timedelta(hours=2))),
    ]
    rows = pa.table({"ts": pa.array(moments, pa.timestamp("us", tz="UTC"))})
    query = "SELECT hour(make_timestamp(epoch_us(ts))) AS hour FROM t"
    duckdb, spark_result = on_both_engines(spark, query, {"t": rows})
    assert values(spark_result, "hour") == values(duckdb, "hour") == [23, 22]


def test_a_duckdb_function_without_a_checked_translation_is_refused():
    with pytest.raises(UnsafeTranslation, match=r"damerau_levenshtein\(\) has no checked Spark translation"):
        to_spark_sql("SELECT damerau_levenshtein(s, s) AS d FROM t", {"t": pa.schema([("s", pa.string())])}, {})


def test_the_explicit_duckdb_feature_sql_gives_the_features_on_duckdb(tmp_path):
    """Pass 1 only spells out DuckDB's own semantics: DuckDB gives the same table for both texts."""
    layout, parameters = feature_warehouse(tmp_path), query_parameters(SNAPSHOT, DEFAULT_SETTINGS)
    explicit = to_explicit_duckdb_sql(features_sql(), history_schemas(HISTORY_SOURCES), parameters)
    assert explicit != features_sql()
    with open_history(layout) as con:
        original = con.sql(features_sql(), params=parameters).to_arrow_table()
        rewritten = con.sql(explicit, params=parameters).to_arrow_table()
    assert rewritten.num_rows == original.num_rows > 0
    assert rewritten.equals(original)


def _same_doubles(left: list, right: list) -> bool:
    """Equal, NaN equal to NaN, and -0.0 apart from 0.0."""
    return len(left) == len(right) and all(
        (a is None and b is None)
        or (
            a is not None
            and b is not None
            and (a == b or (a != a and b != b))
            and math.copysign(1, a) == math.copysign(1, b)
        )
        for a, b in zip(left, right, strict=True)
    )


def test_a_session_keeps_spark_s_empty_catalog_folder_out_of_the_working_directory(spark):
    spark.sql("CREATE OR REPLACE TEMPORARY VIEW one AS SELECT 1 AS x").collect()  # initialises the catalog
    assert spark.conf.get("spark.sql.warehouse.dir").startswith(f"file:{tempfile.gettempdir()}/")
    assert not Path("spark-warehouse").exists()
