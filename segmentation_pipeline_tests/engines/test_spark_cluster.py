"""A real distributed run: a Spark standalone cluster on this machine (a master and two workers started from the
PySpark install, on loopback only, as README shows), the rollups and features computed on its executors, and the
result equal to DuckDB's."""

import time
from datetime import date

import pytest

from segmentation_pipeline.core.engines.spark_session import start_spark
from segmentation_pipeline.core.features.customer_features import build_features, compute_features
from segmentation_pipeline.core.storage.tables import read_snapshot_table
from segmentation_pipeline.sample_data import generate_landing_zone
from segmentation_pipeline_tests.engines.conftest import (
    TEST_CONF,
    assert_same_rollups,
    assert_same_table,
    rebuilt_on_spark,
)
from segmentation_pipeline_tests.engines.spark_daemons import STARTUP_SECONDS, free_port, spark_process, stop, wait_for
from segmentation_pipeline_tests.helpers import validate_landing_zone

END = date(2026, 4, 30)
WORKERS = 2


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The master URL of a standalone cluster of two one-core workers; every process is stopped at the end."""
    logs = tmp_path_factory.mktemp("spark_cluster_logs")
    port = free_port()
    master_url = f"spark://127.0.0.1:{port}"
    processes = []
    try:
        master = spark_process(
            logs / "master.log",
            "org.apache.spark.deploy.master.Master",
            *("--host", "127.0.0.1", "--port", str(port), "--webui-port", str(free_port())),
        )
        processes.append(master)
        wait_for(logs / "master.log", "I have been elected leader", master)
        for index in range(WORKERS):
            worker = spark_process(
                logs / f"worker{index}.log",
                "org.apache.spark.deploy.worker.Worker",
                master_url,
                *("--host", "127.0.0.1", "--cores", "1", "--memory", "1g", "--webui-port", str(free_port())),
            )
            processes.append(worker)
            wait_for(logs / f"worker{index}.log", "Successfully registered with master", worker)
        yield master_url
    finally:
        stop(processes)  # workers first: a master left without them stops at once


@pytest.fixture(scope="module")
def cluster_session(cluster):
    conf = {**TEST_CONF, "spark.executor.memory": "512m", "spark.cores.max": str(WORKERS)}
    session = start_spark(cluster, "segmentation_pipeline_cluster_test", conf)
    deadline = time.monotonic() + STARTUP_SECONDS  # executors register after the session starts, slower under load
    while registered_executors(session) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.5)
    yield session
    session.stop()


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    root = tmp_path_factory.mktemp("spark_cluster_zone")
    generate_landing_zone(root, customers=1000, days=60, seed=9, end_date=END)
    return validate_landing_zone(root)


def registered_executors(session) -> int:
    return session.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # minus the driver


def test_the_work_runs_on_the_workers_executors(cluster_session):
    assert registered_executors(cluster_session) == WORKERS
    hashes = cluster_session.sql("SELECT DISTINCT duckdb_hash(CAST(id AS STRING)) AS h FROM range(0, 1000, 1, 8)")
    assert hashes.count() == 1000  # a Python UDF over 8 partitions, run by the executors' Python workers


def test_the_cluster_rebuilds_the_rollups_and_writes_the_features_as_duckdb(cluster_session, zone, tmp_path):
    layout, written, rebuilt = rebuilt_on_spark(zone, tmp_path / "data", cluster_session)

    assert len(rebuilt["usage_events"]) == 60
    assert_same_rollups(written)
    build_features(layout, END, spark=cluster_session)  # computed and written by the workers' executors
    assert_same_table(read_snapshot_table(layout, "customer_features", END), compute_features(zone, END))
