"""`segmentation-pipeline run --engine spark` against `--engine duckdb` on copies of one generated landing zone: the
Dagster jobs with the Spark resource write the same warehouse and publish the same snapshot."""

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.cli import engine_run_config, run_pipeline
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.sample_data import generate_landing_zone
from segmentation_pipeline_tests.engines.conftest import FLOAT_RELATIVE_TOLERANCE, TEST_CONF

END = date(2026, 6, 30)
RUN_SPECIFIC = {"runs"}
"""Published tables that describe the run itself (run ids, start and end times): different for any two runs."""
RUN_ID = "run_id"
"""The column of quarantined rows that names the run that quarantined them."""


def run(root: Path, run_config: dict) -> DataLayout:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEGMENTATION_DATA_DIR", str(root))
        env.setenv("DAGSTER_HOME", str(root / ".dagster"))
        (root / ".dagster").mkdir()
        run_pipeline(root, None, run_config)
        customer_features = dg.DagsterInstance.get().get_latest_materialization_event(dg.AssetKey("customer_features"))
    engine = customer_features.asset_materialization.metadata["engine"].value
    return DataLayout(root), engine


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    zone = tmp_path_factory.mktemp("zone")
    generate_landing_zone(zone, customers=600, days=75, seed=21, end_date=END)
    roots = {}
    for engine in ("duckdb", "spark"):
        roots[engine] = tmp_path_factory.mktemp(engine)
        shutil.copytree(zone / "landing", roots[engine] / "landing")
    spark_config = engine_run_config("spark", "local[2]")
    for key, value in TEST_CONF.items():
        spark_config["resources"]["spark"]["config"].setdefault("conf", {})[key] = value
    return run(roots["duckdb"], engine_run_config("duckdb")), run(roots["spark"], spark_config)


def parquet_files(layout: DataLayout) -> list[Path]:
    files = [*layout.warehouse.rglob("*.parquet"), *layout.quarantine.rglob("*.parquet")]
    files += [path for path in layout.published.rglob("*.parquet") if path.parts[-3] not in RUN_SPECIFIC]
    return sorted(path.relative_to(layout.root) for path in files)


def test_the_spark_run_ran_the_features_on_spark_and_stopped_its_session(runs):
    (_, duckdb_engine), (_, spark_engine) = runs
    assert (duckdb_engine, spark_engine) == ("duckdb", "spark")
    from pyspark.sql import SparkSession

    assert SparkSession.getActiveSession() is None


def test_both_engines_write_the_same_warehouse_and_publish_the_same_snapshot(runs):
    (duckdb_layout, _), (spark_layout, _) = runs
    files = parquet_files(duckdb_layout)
    assert files == parquet_files(spark_layout)
    assert any(path.parts[:3] == ("published", "customer_segments", f"snapshot_date={END}") for path in files)
    assert any(path.parts[:2] == ("warehouse", "customer_features") for path in files)
    for path in files:
        duckdb_table, spark_table = pq.read_table(duckdb_layout.root / path), pq.read_table(spark_layout.root / path)
        if path.parts[-3] == "usage_day_event_ids":  # one row per event: the order within a day is not defined
            duckdb_table, spark_table = duckdb_table.sort_by("event_id_hash"), spark_table.sort_by("event_id_hash")
        if path.parts[0] == "quarantine":
            duckdb_table, spark_table = duckdb_table.drop_columns(RUN_ID), spark_table.drop_columns(RUN_ID)
        assert spark_table.schema.equals(duckdb_table.schema, check_metadata=True), path
        assert_same_values(spark_table, duckdb_table, path)


def assert_same_values(actual: pa.Table, expected: pa.Table, path: Path) -> None:
    """Equal row by row: exactly, except floats to 1e-9 relative (Spark adds a segment's values in another order)."""
    assert actual.num_rows == expected.num_rows, path
    for name in expected.column_names:
        left, right = actual[name].combine_chunks(), expected[name].combine_chunks()
        if pa.types.is_floating(right.type):
            assert left.is_null().equals(right.is_null()), (path, name)
            np.testing.assert_allclose(
                left.to_numpy(zero_copy_only=False),
                right.to_numpy(zero_copy_only=False),
                rtol=FLOAT_RELATIVE_TOLERANCE,
                atol=0,
                err_msg=f"{path}: {name}",
            )
        else:
            assert left.equals(right), (path, name)
