"""Resources: where the data root is. Everything the pipeline reads or writes lives under it."""

import os
from pathlib import Path

import dagster as dg

from segmentation_pipeline.core.storage import DataLayout

DATA_DIR_ENV = "SEGMENTATION_DATA_DIR"
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"


class DataRoot(dg.ConfigurableResource):
    """The data root: `data_dir` if set, else $SEGMENTATION_DATA_DIR, else the repository's bundled `data/`."""

    data_dir: str = ""

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.data_dir or os.environ.get(DATA_DIR_ENV) or REPO_DATA_DIR).resolve())


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"data_root": DataRoot()})
