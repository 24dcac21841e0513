"""The Spark engine's environment faults are one line each, before any work: PySpark not installed, no Java; and
the settings a session gets for where it runs."""

import os
import sys

import pytest

from segmentation_pipeline.cli import main
from segmentation_pipeline.core.engines.spark_engine import spark_failures
from segmentation_pipeline.core.engines.spark_session import (
    SparkUnavailable,
    _local_conf,
    require_spark,
    start_spark,
)
from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.sample_data import generate_landing_zone

NO_JAVA = "engine spark (master local[2]) needs a Java 17 runtime: none on PATH and JAVA_HOME is not set"


@pytest.fixture
def without_java(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.delenv("JAVA_HOME", raising=False)


def test_without_the_spark_extra_the_engine_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # what `import pyspark.sql` meets without the extra
    with pytest.raises(SparkUnavailable) as raised:
        start_spark()
    assert str(raised.value) == "engine spark needs the spark extra: pip install -e '.[spark]'"


def test_without_java_a_local_session_is_refused_and_spark_connect_is_not(without_java):
    with pytest.raises(SparkUnavailable, match=r"^engine spark \(master local\[2\]\) needs a Java 17 runtime"):
        start_spark()
    require_spark("sc://127.0.0.1:15002")  # the server runs the JVM


def test_the_cli_stops_before_any_run_without_java(without_java, tmp_path, capsys):
    generate_landing_zone(tmp_path, customers=50, days=3, seed=1)
    assert main(["run", "--data-dir", str(tmp_path), "--engine", "spark"]) == 1
    error = capsys.readouterr().err
    assert error.startswith(f"error: {NO_JAVA}") and error.count("\n") == 1
    assert not (tmp_path / "warehouse").exists()


@pytest.mark.parametrize(
    ("master", "partitions"),
    [("local", "4"), ("local[2]", "8"), ("local[3,2]", "12"), ("local[*]", str(4 * (os.cpu_count() or 1)))],
)
def test_a_session_of_this_process_gets_a_few_shuffle_partitions_per_core_and_half_the_memory(master, partitions):
    half_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**21
    assert _local_conf(master) == {"spark.sql.shuffle.partitions": partitions, "spark.driver.memory": f"{half_mb}m"}


@pytest.mark.parametrize("master", ["spark://127.0.0.1:7077", "yarn", "k8s://https://cluster:6443", "localhost"])
def test_a_cluster_keeps_sparks_own_shuffle_partitions(master):
    assert _local_conf(master) == {}


def test_a_jvm_that_stopped_answering_is_one_line_naming_the_step_and_the_memory_settings():
    from py4j.protocol import Py4JNetworkError

    with pytest.raises(PipelineError) as raised, spark_failures("expectation suite usage_events"):
        raise Py4JNetworkError("An error occurred while trying to connect to the Java server (127.0.0.1:40000)")
    assert str(raised.value) == (
        "engine spark: expectation suite usage_events: the Spark JVM stopped answering; if it ran out of memory,"
        " raise spark.driver.memory (a local session) or spark.executor.memory (a cluster) in the spark resource's conf"
    )
