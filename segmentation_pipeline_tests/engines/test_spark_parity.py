"""Both engines on one generated landing zone (validated by the pipeline, whose DuckDB writes each day's rollups): Spark
rebuilds every rollup file as DuckDB wrote it, and computes and writes the same customer feature table."""

import shutil
from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.features.customer_features import build_features, compute_features
from segmentation_pipeline.core.features.rollups import ROLLUPS, refresh_rollups
from segmentation_pipeline.core.storage.layout import WAREHOUSE, DataLayout, partition_day
from segmentation_pipeline.core.storage.tables import read_snapshot_table
from segmentation_pipeline.sample_data import generate_landing_zone
from segmentation_pipeline_tests.engines.conftest import assert_same_rollups, assert_same_table, rebuilt_on_spark
from segmentation_pipeline_tests.helpers import validate_landing_zone

END = date(2026, 5, 31)


@pytest.fixture(scope="module")
def zone(tmp_path_factory) -> DataLayout:
    root = tmp_path_factory.mktemp("spark_parity")
    generate_landing_zone(root, customers=2500, days=100, seed=5, end_date=END)
    return validate_landing_zone(root)


def test_spark_rebuilds_every_rollup_file_as_duckdb_wrote_it(zone, spark, tmp_path):
    layout, written, rebuilt = rebuilt_on_spark(zone, tmp_path / "data", spark)

    assert rebuilt == {source: sorted(map(partition_day, layout.validated_files(source))) for source in ROLLUPS}
    assert len(rebuilt["usage_events"]) == 100
    assert sorted(path for names in ROLLUPS.values() for name in names for path in layout.rollup_files(name)) == sorted(
        written
    )
    assert_same_rollups(written)
    assert sum(table.num_rows for table in written.values()) > 100_000
    assert refresh_rollups(layout, spark) == {"orders": [], "usage_events": []}  # current now


@pytest.mark.parametrize("snapshot", [END, END - timedelta(days=45)])
def test_spark_writes_the_feature_table_duckdb_writes(zone, spark, snapshot, tmp_path):
    layout = DataLayout(tmp_path / "data")
    shutil.copytree(zone.root, layout.root)
    duckdb_features = compute_features(zone, snapshot)

    assert build_features(layout, snapshot, spark=spark) == len(duckdb_features) > 2000
    written = pq.ParquetFile(layout.snapshot_table(WAREHOUSE, "customer_features", snapshot))
    # the file DuckDB's path writes: pandas' dtypes, nullable exactly where a column holds a null
    assert written.schema_arrow.equals(pa.Table.from_pandas(duckdb_features, preserve_index=False).schema, True)
    dtypes = duckdb_features.dtypes
    assert (dtypes["recency_days"], dtypes["frequency"]) == (pd.Int64Dtype(), "int64")  # with nulls, and without
    assert written.metadata.num_row_groups == 1
    assert_same_table(read_snapshot_table(layout, "customer_features", snapshot), duckdb_features)
    # the features the fixes are about hold real values, not only NULLs on both sides
    for column in ("recency_days", "most_active_weekday", "avg_order_value", "top_category", "weekend_share"):
        assert duckdb_features[column].notna().sum() > 100, column
