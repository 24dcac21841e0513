"""The resources every stage shares (where the data root is, which engine runs the SQL and its Spark session), and
the base of the stages' settings resources."""

import os
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar, Literal

import dagster as dg
from pydantic import PrivateAttr

from segmentation_pipeline.core.engines import DEFAULT_ENGINE
from segmentation_pipeline.core.engines.spark_session import DEFAULT_APP_NAME, DEFAULT_MASTER
from segmentation_pipeline.core.storage.layout import DataLayout

DATA_DIR_ENV = "SEGMENTATION_DATA_DIR"
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
DATA_ROOT_POOL = "segmentation_data_root"
"""The concurrency pool of every asset: with the instance's pools at run granularity and a limit of 1 (the
`dagster.yaml` the CLI writes), runs that write the data root never overlap."""


class DataRoot(dg.ConfigurableResource):
    """The data root: `data_dir` if set, else $SEGMENTATION_DATA_DIR, else the repository's bundled `data/`."""

    data_dir: str = ""

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.data_dir or os.environ.get(DATA_DIR_ENV) or REPO_DATA_DIR).resolve())


class EngineResource(dg.ConfigurableResource):
    """Which engine runs the daily rollups and the customer features: DuckDB in the run's process, or Spark (the
    `spark` resource's session). The same SQL and the same files either way (README: Running on Spark)."""

    engine: Literal["duckdb", "spark"] = DEFAULT_ENGINE

    @property
    def is_spark(self) -> bool:
        return self.engine == "spark"


class SparkResource(dg.ConfigurableResource):
    """The run's Spark session for the `spark` engine: started on first use (never with the DuckDB engine), once per
    run and process, and stopped when the run ends."""

    master: str = DEFAULT_MASTER
    """`local[N]`, a standalone cluster's `spark://host:7077`, or Spark Connect's `sc://host:15002`."""
    app_name: str = DEFAULT_APP_NAME
    conf: dict[str, str] = {}
    """Spark settings, over the project's (UTC session time zone, driver on 127.0.0.1, quiet logs)."""

    _session: Any = PrivateAttr(default=None)

    def session(self) -> Any:
        """The run's `pyspark.sql.SparkSession`."""
        if self._session is None:
            from segmentation_pipeline.core.engines.spark_session import start_spark

            self._session = start_spark(self.master, self.app_name, self.conf)
        return self._session

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._session is not None:
            self._session.stop()
            self._session = None


class SettingsResource(dg.ConfigurableResource):
    """A stage's settings as a resource: one field per field of the core settings dataclass `core_settings`, with
    that dataclass's defaults (a test holds them equal), so the settings reach the core code in exactly one way."""

    core_settings: ClassVar[type]

    def settings(self) -> Any:
        return self.core_settings(
            **{field.name: _core_value(getattr(self, field.name)) for field in fields(self.core_settings)}
        )


def _core_value(value: Any) -> Any:
    """Config lists become the tuples the frozen core dataclasses hold."""
    return tuple(value) if isinstance(value, list) else value


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"data_root": DataRoot(), "engine": EngineResource(), "spark": SparkResource()})
