"""Spark daemons started by the tests from the PySpark install, on loopback only, as README shows: a standalone
cluster's master and workers, a Spark Connect server."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyspark

STARTUP_SECONDS = 120
SPARK_CLASS = Path(pyspark.__file__).parent / "bin" / "spark-class"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spark_process(log: Path, *arguments: str) -> subprocess.Popen:
    """A Spark daemon (`spark-class` execs its JVM, so the process is the daemon), its output in `log`, working in
    the log's folder (what it leaves there, such as a Connect server's `spark-warehouse/`, stays out of the tests'
    working directory)."""
    environment = {**os.environ, "SPARK_LOCAL_IP": "127.0.0.1", "PYSPARK_PYTHON": sys.executable}
    with open(log, "wb") as output:
        return subprocess.Popen(
            [str(SPARK_CLASS), *arguments], stdout=output, stderr=subprocess.STDOUT, env=environment, cwd=log.parent
        )


def wait_for(log: Path, text: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while text not in log.read_text(errors="replace"):
        assert process.poll() is None, f"{log.name} exited: {log.read_text(errors='replace')[-2000:]}"
        assert time.monotonic() < deadline, f"{log.name}: no '{text}' after {STARTUP_SECONDS} s"
        time.sleep(0.5)


def stop(processes: list[subprocess.Popen]) -> None:
    """Stop the daemons in the reverse order of their start (a cluster's workers before its master)."""
    for process in reversed(processes):
        process.terminate()
    for process in reversed(processes):
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # a JVM whose shutdown hooks hang (seen under load) is killed
            process.kill()
            process.wait()


@contextmanager
def spark_connect_server(logs: Path, conf: dict[str, str]) -> Iterator[str]:
    """A Spark Connect server on `local[2]` with `conf` (server settings such as `spark.ui.enabled` cannot be sent
    by a client); yields its `sc://` URL."""
    port = free_port()
    settings = {**conf, "spark.connect.grpc.binding.address": "127.0.0.1", "spark.connect.grpc.binding.port": port}
    server = spark_process(
        logs / "connect.log",
        "org.apache.spark.deploy.SparkSubmit",
        *("--class", "org.apache.spark.sql.connect.service.SparkConnectServer", "--master", "local[2]"),
        *(argument for key, value in settings.items() for argument in ("--conf", f"{key}={value}")),
        "spark-internal",
    )
    try:
        wait_for(logs / "connect.log", "Spark Connect server started", server)
        yield f"sc://127.0.0.1:{port}"
    finally:
        stop([server])
