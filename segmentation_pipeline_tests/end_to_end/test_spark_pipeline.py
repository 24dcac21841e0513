"""`segmentation-pipeline run --engine spark` against `--engine duckdb` on copies of one generated landing zone (its
planted bad rows, and a day of tricky ones added): the Dagster jobs with the Spark resource validate on Spark and write
the same warehouse, the same quarantine and publish the same snapshot, with a session of their own (`local[2]`) and
through a Spark Connect server (`sc://`) started by the test."""

import shutil
import subprocess
import sys
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
from segmentation_pipeline_tests.end_to_end.test_pipeline import EXAMPLES
from segmentation_pipeline_tests.engines.conftest import FLOAT_RELATIVE_TOLERANCE, TEST_CONF
from segmentation_pipeline_tests.engines.spark_daemons import spark_connect_server

END = date(2026, 6, 30)
RUN_SPECIFIC = {"runs"}
"""Published tables that describe the run itself (run ids, start and end times): different for any two runs."""
RUN_ID = "run_id"
"""The column of quarantined rows that names the run that quarantined them."""
SPARK_RUNS = ("spark", "spark_connect")
TRICKY_DAY = date(2026, 6, 20)
TRICKY_ORDERS = [
    "order_id,customer_id,ordered_at,amount,currency,status",
    "X1,C000001,2026-06-20T10:00:00Z,NaN,EUR,completed",  # missing amount
    "X2,C000001,2026-06-20T10:00:00Z,inf,EUR,completed",  # not finite
    "X3,C000001,2026-06-20T10:00:00Z,12.5,EUR,SHIPPED",  # unknown status
    "X4,C000002,2026-06-20T10:00:00Z,12.5,EUR,Cancelled",  # clean, status lower-cased
    "X5,C000002,2026-06-20T11:00:00Z,7,EUR,",  # clean, completed
    "X5,C000002,2026-06-20T12:00:00Z,8,EUR,completed",  # duplicate within the day
    "X6,C999999,2026-06-20T10:00:00+02:00,3,EUR,completed",  # unknown customer, 08:00 UTC
    "X7,C000003,2026-06-21T00:00:00Z,3,EUR,completed",  # outside the day
]
TRICKY_EVENTS = [
    "event_id,customer_id,event_ts,session_id,device_type,feature,duration_s",
    "Y1,C000001,2026-06-20T10:00:00Z,S1,Mobile,search,12",  # clean, device lower-cased
    "Y1,C000001,2026-06-20T10:00:05Z,S1,mobile,search,3",  # duplicate event id
    "Y2,C000001,2026-06-20T23:59:59Z,S2,TV,,",  # unknown device
    ",C000002,2026-06-20T05:00:00Z,S3,desktop,browse,-1",  # negative duration
    "Y3,C000002,2026-06-20T05:00:00Z,,desktop,browse,1",  # missing session
]


def run(
    root: Path, run_config: dict | None = None, cli_arguments: tuple[str, ...] = ()
) -> tuple[DataLayout, set, dict]:
    """A whole run on `root`, the engines its assets recorded and the rest of `rule_segments`' metadata: in this
    process with `run_config`, or as a `segmentation-pipeline run` process of its own with `cli_arguments` (a Spark
    Connect client: PySpark allows no classic session in a process that opened a Connect one)."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEGMENTATION_DATA_DIR", str(root))
        env.setenv("DAGSTER_HOME", str(root / ".dagster"))
        (root / ".dagster").mkdir()
        if cli_arguments:
            command = [
                sys.executable,
                "-m",
                "segmentation_pipeline.cli",
                "run",
                "--data-dir",
                str(root),
                *cli_arguments,
            ]
            completed = subprocess.run(command, capture_output=True, text=True)
            assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
        else:
            run_pipeline(root, None, run_config)
        instance = dg.DagsterInstance.get()
        metadata = {
            name: instance.get_latest_materialization_event(
                dg.AssetKey.from_user_string(name)
            ).asset_materialization.metadata
            for name in ENGINE_ASSETS
        }
    rules = {key: value.value for key, value in metadata["rule_segments"].items() if key != "engine"}
    return DataLayout(root), {recorded["engine"].value for recorded in metadata.values()}, rules


ENGINE_ASSETS = (
    "validated_customers",
    "validated_orders",
    "validated_survey_responses",
    "validated_usage_events",
    "customer_features",
    "rfm_scores",
    "behavioural_segments",
    "customer_value",
    "rule_segments",
    "published/customer_segments",
    "published/segment_kpis",
    "published/segment_transitions",
)
"""The assets whose work the engine runs, each recording it in its metadata (the published tables: some of the
one step's assets)."""


def add_marketer_files(root: Path) -> None:
    """The example rule segments, and manual assignments of a customer, an expired one and an unknown one."""
    (root / "config").mkdir()
    shutil.copy(EXAMPLES / "example_segments.yaml", root / "config" / "rule_segments.yaml")
    (root / "config" / "manual_assignments.csv").write_text(
        "customer_id,segment,expires_on\nC000001,VIP,\nC000002,key account,2026-06-30\nNOBODY,key account,\n"
    )


def add_tricky_rows(landing: Path) -> None:
    for source_path, name, lines in (
        ("crm/orders", "zz-tricky.csv", TRICKY_ORDERS),
        ("usage/events", "zz-tricky.csv", TRICKY_EVENTS),
    ):
        (landing / source_path / f"date={TRICKY_DAY}" / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each engine's layout and the engines its assets recorded, by run: DuckDB, Spark with a session of its own,
    Spark through a Spark Connect server."""
    zone = tmp_path_factory.mktemp("zone")
    generate_landing_zone(zone, customers=600, days=75, seed=21, end_date=END)
    add_tricky_rows(zone / "landing")
    spark_config = engine_run_config("spark", "local[2]")
    for key, value in TEST_CONF.items():
        spark_config["resources"]["spark"]["config"].setdefault("conf", {})[key] = value
    with spark_connect_server(tmp_path_factory.mktemp("connect_logs"), TEST_CONF) as connect_url:
        runs = {
            "duckdb": {"run_config": engine_run_config("duckdb")},
            "spark": {"run_config": spark_config},
            "spark_connect": {"cli_arguments": ("--engine", "spark", "--spark-master", connect_url)},
        }
        results = {}
        for name, how in runs.items():
            root = tmp_path_factory.mktemp(name)
            shutil.copytree(zone / "landing", root / "landing")
            add_marketer_files(root)
            results[name] = run(root, **how)
    return results


def parquet_files(layout: DataLayout) -> list[Path]:
    files = [*layout.warehouse.rglob("*.parquet"), *layout.quarantine.rglob("*.parquet")]
    files += [path for path in layout.published.rglob("*.parquet") if path.parts[-3] not in RUN_SPECIFIC]
    return sorted(path.relative_to(layout.root) for path in files)


def test_the_spark_runs_validated_featured_and_scored_on_spark_and_stopped_their_sessions(runs):
    engines = {name: recorded for name, (_, recorded, _) in runs.items()}
    assert engines == {"duckdb": {"duckdb"}, "spark": {"spark"}, "spark_connect": {"spark"}}
    from pyspark.sql import SparkSession

    assert SparkSession.getActiveSession() is None


@pytest.mark.parametrize("spark_run", SPARK_RUNS)
def test_both_engines_write_the_same_warehouse_and_publish_the_same_snapshot(runs, spark_run):
    (duckdb_layout, _, _), (spark_layout, _, _) = runs["duckdb"], runs[spark_run]
    files = parquet_files(duckdb_layout)
    assert files == parquet_files(spark_layout)
    assert any(path.parts[:3] == ("published", "customer_segments", f"snapshot_date={END}") for path in files)
    assert any(path.parts[:2] == ("warehouse", "customer_features") for path in files)
    for path in files:
        duckdb_table, spark_table = pq.read_table(duckdb_layout.root / path), pq.read_table(spark_layout.root / path)
        if path.parts[0] == "quarantine":
            duckdb_table, spark_table = duckdb_table.drop_columns(RUN_ID), spark_table.drop_columns(RUN_ID)
        assert spark_table.schema.equals(duckdb_table.schema, check_metadata=True), path
        assert_same_values(spark_table, duckdb_table, path)


def test_both_engines_report_the_same_rule_and_manual_segments(runs):
    rules = {name: recorded for name, (_, _, recorded) in runs.items()}
    assert rules["spark"] == rules["duckdb"] == rules["spark_connect"]
    assert rules["duckdb"]["manual_unknown_customers"] == 1 and rules["duckdb"]["manual_expired"] == 1
    assert "| VIP" in rules["duckdb"]["customers_per_segment"]


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


def test_every_source_quarantined_rows_and_the_tricky_ones_for_their_reasons(runs):
    layout, _, _ = runs["spark"]
    for source in ("customers", "orders", "survey_responses", "usage_events"):
        assert sum(pq.read_metadata(path).num_rows for path in layout.quarantine.rglob(f"{source}/**/*.parquet")), (
            source
        )
    orders = pq.read_table(layout.quarantined("orders", TRICKY_DAY)).to_pandas()
    tricky = orders[orders["order_id"].str.startswith("X")]
    assert dict(zip(tricky["order_id"], tricky["reason"], strict=True)) == {
        "X1": "missing_required_value",
        "X2": "amount_not_finite",
        "X3": "unknown_status",
        "X5": "duplicate_key",
        "X6": "unknown_customer",
        "X7": "timestamp_outside_partition",
    }
    clean = pq.read_table(layout.validated("orders", TRICKY_DAY)).to_pandas().set_index("order_id")
    assert clean.loc[["X4", "X5"], "status"].tolist() == ["cancelled", "completed"]
    events = pq.read_table(layout.quarantined("usage_events", TRICKY_DAY)).to_pandas()
    tricky = events[events["_source_file"].str.endswith("zz-tricky.csv")]
    assert tricky["reason"].tolist() == [
        "duplicate_event_id",
        "unknown_device_type",
        "negative_duration",
        "missing_required_value",
    ]
