"""Starting and stopping the Spark session of a run. PySpark is imported here, on first use, and nowhere else at
import time: the DuckDB engine needs neither PySpark nor Java."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING

from segmentation_pipeline.core.errors import PipelineError, bounded

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

DEFAULT_MASTER = "local[2]"
DEFAULT_APP_NAME = "segmentation_pipeline"
SPARK_CONNECT_SCHEME = "sc://"
BASE_CONF = {
    # every calendar field and every CAST(timestamp AS DATE) of the SQL is a UTC one, as in DuckDB's session
    "spark.sql.session.timeZone": "UTC",
    # the driver listens on loopback only unless the conf says otherwise (a cluster on other machines needs its
    # real address)
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    # the run prints its own progress; Spark's log lines and progress bars would bury it (its errors reach the
    # run as one line)
    "spark.log.level": "FATAL",
    "spark.ui.showConsoleProgress": "false",
    # the driver lists the day folders itself: a listing job per table (Spark's default above 32 paths) costs more
    # than listing thousands of local day folders
    "spark.sql.sources.parallelPartitionDiscovery.threshold": "100000",
    # the pipeline keeps no tables in Spark's catalog: its default warehouse folder would appear, empty, in the
    # user's working directory
    "spark.sql.warehouse.dir": os.path.join(tempfile.gettempdir(), "segmentation_pipeline-spark-warehouse"),
}
SHUFFLE_PARTITIONS_PER_CORE = 4
INSTALL_HINT = "engine spark needs the spark extra: pip install -e '.[spark]'"


class SparkUnavailable(PipelineError):
    """The Spark engine was chosen but cannot start: PySpark not installed, no Java, or the master refused."""


def start_spark(
    master: str = DEFAULT_MASTER, app_name: str = DEFAULT_APP_NAME, conf: Mapping[str, str] | None = None
) -> SparkSession:
    """A Spark session on `master` (`local[N]`, `spark://host:port`, or a Spark Connect `sc://host:port`), with the
    project's base settings under `conf`. Stop it with `session.stop()`."""
    require_spark(master)
    from pyspark.sql import SparkSession

    remote = master.startswith(SPARK_CONNECT_SCHEME)
    builder = SparkSession.builder.appName(app_name)
    builder = builder.remote(master) if remote else builder.master(master)
    # Spark Connect sessions take only SQL settings; the driver's addresses are the server's business
    if remote:
        settings = {"spark.sql.session.timeZone": BASE_CONF["spark.sql.session.timeZone"], **(conf or {})}
    else:
        settings = {**BASE_CONF, **_local_conf(master), **(conf or {})}
        # the Python workers run this interpreter, which has the project's packages (DuckDB for its hash): PySpark
        # takes it from the environment only. The JVM binds its other services (block manager, shuffle) where the
        # driver binds.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", settings["spark.driver.bindAddress"])
    for key, value in settings.items():
        builder = builder.config(key, str(value))
    try:
        session = builder.getOrCreate()
    except Exception as error:  # Py4J, Spark Connect and JVM start-up failures share no base class
        message = f"engine spark: cannot start a session on {master}: {_first_line(error)}"
        raise SparkUnavailable(bounded(message)) from None
    from segmentation_pipeline.core.engines.spark_engine import register_functions

    register_functions(session)
    return session


def require_spark(master: str = DEFAULT_MASTER) -> None:
    """Fail at once, in one line, if a session on `master` cannot start here: PySpark missing, or (for a session
    of its own, not Spark Connect's) no Java."""
    try:
        import pyspark.sql  # noqa: F401
    except ImportError:
        raise SparkUnavailable(INSTALL_HINT) from None
    if not master.startswith(SPARK_CONNECT_SCHEME) and shutil.which("java") is None and not _java_home():
        raise SparkUnavailable(
            f"engine spark (master {master}) needs a Java 17 runtime: none on PATH and JAVA_HOME is not set "
            "(Debian: apt-get install openjdk-17-jre-headless)"
        )


def _local_conf(master: str) -> dict[str, str]:
    """For a session in this process (`local`, `local[N]`, `local[*]`): a few shuffle partitions per core, since
    Spark's default of 200, meant for a cluster, makes every small query on one machine run hundreds of tiny tasks (a
    nightly day's rollups took ten times longer); and half the machine's memory for the JVM, which is driver and
    executors at once here (Spark's 1 GB default ran out on a day of a million events)."""
    match = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\d+)?\])?", master)
    if match is None:
        return {}
    cores = match.group(1)
    count = 1 if cores is None else (os.cpu_count() or 1) if cores == "*" else int(cores)
    memory_mb = max(1024, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**21)
    return {
        "spark.sql.shuffle.partitions": str(SHUFFLE_PARTITIONS_PER_CORE * count),
        "spark.driver.memory": f"{memory_mb}m",
    }


def _java_home() -> bool:
    home = os.environ.get("JAVA_HOME")
    return bool(home) and os.path.exists(os.path.join(home, "bin", "java"))


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
