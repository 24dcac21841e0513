"""The engines that run the feature and rollup SQL: DuckDB in process (the default) or Apache Spark (README: Running
on Spark). Nothing here imports PySpark unless the Spark engine is chosen."""

from __future__ import annotations

ENGINES = ("duckdb", "spark")
DEFAULT_ENGINE = "duckdb"
