"""Scoring customers on Spark's executors (`core/engines/spark_frames.py`, `spark_scoring.py`) against the pandas
path, under pandas 3.1: the pandas conversions of a batch, the one-file writer, the value model's scores with tiers
ranked over the whole snapshot although every batch is scored alone, and the exact order statistics behind them."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.engines.spark_frames import (
    ROW_GROUP_ROWS,
    map_frames,
    output_schema,
    read_table,
    write_one_file,
)
from segmentation_pipeline.core.engines.spark_scoring import _bracketed, order_statistics, tier_thresholds
from segmentation_pipeline.core.segment.snapshot import score_value
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import WAREHOUSE, DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table, write_snapshot_table
from segmentation_pipeline.core.tiers import tier_thresholds as pandas_thresholds
from segmentation_pipeline.core.value.model import ValueModel, fit_value_model
from segmentation_pipeline_tests.engines.conftest import assert_same_table
from segmentation_pipeline_tests.value.builders import EVE, features, order_days

SNAPSHOT = date(2026, 10, 31)


def mixed_table() -> pd.DataFrame:
    """The dtypes a feature table holds: nullable integers and booleans, strings with nulls, floats with NaN,
    datetimes."""
    rows = 3_000
    rng = np.random.default_rng(5)
    ints = pd.array(rng.integers(0, 50, rows), dtype="Int64")
    ints[::7] = pd.NA
    flags = pd.array(rng.integers(0, 2, rows).astype(bool), dtype="boolean")
    flags[::11] = pd.NA
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:05d}" for i in range(rows)],
            "recency_days": ints,
            "frequency": rng.integers(0, 9, rows),
            "monetary": np.where(rng.random(rows) < 0.2, np.nan, rng.gamma(2.0, 50.0, rows)),
            "opted_in": flags,
            "country": pd.Series(rng.choice(["DE", "FR", None], rows), dtype="str"),
            "first_seen": pd.to_datetime("2026-01-01") + pd.to_timedelta(rng.integers(0, 300, rows), unit="D"),
        }
    )


def test_a_table_through_the_executors_converts_and_writes_back_exactly(spark, tmp_path, small_batches):
    layout = DataLayout(tmp_path)
    write_snapshot_table(layout, "customer_features", SNAPSHOT, mixed_table())
    source_path = layout.snapshot_table(WAREHOUSE, "customer_features", SNAPSHOT)
    frame, schema = read_table(spark, source_path)

    def doubled(batch: pd.DataFrame) -> pd.DataFrame:
        expected = read_snapshot_table(layout, "customer_features", SNAPSHOT).dtypes
        assert batch.dtypes.equals(expected), batch.dtypes
        return batch.assign(monetary=batch["monetary"] * 2)

    written = tmp_path / "doubled.parquet"
    rows = write_one_file(
        map_frames(frame, doubled, schema, output_schema(doubled, frame, schema)), written, schema, ["customer_id"]
    )
    expected = read_snapshot_table(layout, "customer_features", SNAPSHOT)
    expected["monetary"] *= 2
    assert rows == 3_000
    assert pq.read_schema(written).equals(pq.read_schema(source_path), check_metadata=True)
    pd.testing.assert_frame_equal(pq.read_table(written).to_pandas(), expected, check_exact=True)


@pytest.fixture(scope="module")
def value_model() -> ValueModel:
    fitted = fit_value_model(features(3_000), order_days(3_000), EVE)
    assert isinstance(fitted, ValueModel), fitted
    return fitted


def test_value_scores_on_spark_equal_the_pandas_scores_with_tiers_over_the_whole_snapshot(
    spark, tmp_path, value_model, small_batches
):
    customers = features(3_000).sort_values("customer_id", ignore_index=True)
    layouts = {engine: DataLayout(tmp_path / engine) for engine in ("pandas", "spark")}
    for layout in layouts.values():
        write_snapshot_table(layout, "customer_features", SNAPSHOT, customers)
    pandas_summary = score_value(layouts["pandas"], SNAPSHOT, value_model)
    spark_summary = score_value(layouts["spark"], SNAPSHOT, value_model, spark)
    on_pandas, on_spark = (
        pq.read_table(layout.snapshot_table(WAREHOUSE, "customer_value", SNAPSHOT)) for layout in layouts.values()
    )
    assert on_spark.schema.equals(on_pandas.schema, check_metadata=True)
    assert_same_table(on_spark.to_pandas(), on_pandas.to_pandas())
    tiers = on_pandas.to_pandas()["predicted_value_tier"].value_counts()
    assert tiers.sum() == 3_000 and 600 <= tiers["high"] < 650 and 1_500 <= tiers["high"] + tiers["medium"] < 1_550
    assert (spark_summary.customers, spark_summary.scored) == (pandas_summary.customers, pandas_summary.scored)
    assert spark_summary.scored == customers["customer_age_days"].notna().sum() > 0
    assert spark_summary.churn_risk.sort_index().equals(pandas_summary.churn_risk.sort_index())
    assert spark_summary.predicted_clv_total == pytest.approx(pandas_summary.predicted_clv_total, rel=1e-9)


@pytest.mark.parametrize("rows", [1, 2, 5, 99, 4_001])
def test_tier_thresholds_on_spark_are_the_exact_order_statistics_ties_included(spark, rows):
    rng = np.random.default_rng(rows)
    values = np.round(rng.gamma(1.5, 40.0, rows), 0)  # many ties
    frame = spark.createDataFrame(pa.table({"value": values, "id": np.arange(rows)}))
    assert tier_thresholds(frame, "value") == pandas_thresholds(values)


@pytest.mark.parametrize("rows", [1, 7, 4_001])
def test_order_statistics_on_spark_are_exact_at_any_position_ties_included(spark, rows):
    rng = np.random.default_rng(rows)
    values = np.where(rng.random(rows) < 0.4, 0.0, np.round(rng.gamma(1.2, 3.0, rows), 1))  # a huge tie at 0
    frame = spark.createDataFrame(pa.table({"value": values}))
    positions = sorted({0, rows // 10, rows // 2, (rows * 9) // 10, rows - 1})
    assert order_statistics(frame, rows, positions) == {position: np.sort(values)[position] for position in positions}


def test_order_statistics_read_every_value_count_when_a_bracket_misses(spark):
    """The last position's bracket ends one rank short (`percentile_approx` at (n - 1) / n is the (n - 1)-th value),
    so a maximum held once is outside it: that bracket misses, the others do not, and the answer is still exact."""
    rows = 4_001
    rng = np.random.default_rng(17)
    values = np.round(rng.gamma(1.2, 3.0, rows), 1)  # ties everywhere but at the top
    values[rng.integers(rows)] = values.max() + 1.0
    frame = spark.createDataFrame(pa.table({"value": values}))
    positions = [rows // 2, rows - 1]
    expected = {position: np.quantile(values, (position + 0.5) / rows, method="inverted_cdf") for position in positions}
    assert _bracketed(frame, rows, positions) == {rows // 2: expected[rows // 2], rows - 1: None}
    assert order_statistics(frame, rows, positions) == expected
    assert expected[rows - 1] == values.max()


def test_tier_thresholds_on_spark_skip_nulls_and_are_none_without_values(spark):
    frame = spark.createDataFrame(pa.table({"value": pa.array([3.0, None, 1.0, 2.0, None], pa.float64())}))
    assert tier_thresholds(frame, "value") == pandas_thresholds(np.array([3.0, 1.0, 2.0]))
    assert tier_thresholds(frame.where("value IS NULL"), "value") is None


def test_a_table_written_by_an_executor_lands_at_a_file_uri(spark, tmp_path):
    frame = spark.createDataFrame(pa.table({"customer_id": ["b", "a"], "score": [2, 1]}))
    schema = pa.schema([("customer_id", pa.large_string()), ("score", pa.int64())])
    target = Path(tmp_path, "snapshot_date=2026-10-31", "part-0.parquet")
    target.parent.mkdir()
    assert write_one_file(frame, f"file://{target}", schema, ["customer_id"]) == 2
    assert pq.read_table(target).equals(pa.table({"customer_id": ["a", "b"], "score": [1, 2]}, schema=schema))


def test_a_table_of_several_row_groups_written_by_an_executor_is_the_drivers_file_byte_for_byte(spark, tmp_path):
    rows = ROW_GROUP_ROWS + 1_500  # a full row group and a short one, from batches of 10,000 rows
    frame = spark.range(rows).selectExpr("id AS number", "CAST(id % 1000 AS STRING) AS label")
    schema = pa.schema([("number", pa.int64()), ("label", pa.large_string())])
    numbers = np.arange(rows)
    write_parquet_atomically(
        pa.table({"number": numbers, "label": (numbers % 1000).astype(str)}, schema), tmp_path / "driver.parquet"
    )
    assert write_one_file(frame, tmp_path / "executor.parquet", schema, ["number"]) == rows
    assert pq.read_metadata(tmp_path / "executor.parquet").num_row_groups == 2
    assert (tmp_path / "executor.parquet").read_bytes() == (tmp_path / "driver.parquet").read_bytes()
