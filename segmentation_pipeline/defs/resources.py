"""The resource every stage shares (where the data root is), and the base of the stages' settings resources."""

import os
from dataclasses import fields
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg

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
    return dg.Definitions(resources={"data_root": DataRoot()})
