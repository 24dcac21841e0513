"""Resources: where the data root is, and the thresholds validation judges partitions by."""

import os
from dataclasses import fields
from pathlib import Path

import dagster as dg

from segmentation_pipeline.core.expectations import Thresholds
from segmentation_pipeline.core.storage import DataLayout

DATA_DIR_ENV = "SEGMENTATION_DATA_DIR"
REPO_DATA_DIR = Path(__file__).resolve().parents[2] / "data"


class DataRoot(dg.ConfigurableResource):
    """The data root: `data_dir` if set, else $SEGMENTATION_DATA_DIR, else the repository's bundled `data/`."""

    data_dir: str = ""

    @property
    def layout(self) -> DataLayout:
        return DataLayout(Path(self.data_dir or os.environ.get(DATA_DIR_ENV) or REPO_DATA_DIR).resolve())


class ValidationSettings(dg.ConfigurableResource):
    """Thresholds of the validation checks; change them here or per run in the launchpad, never in the suite JSON."""

    max_quarantine_rate: float = 0.05
    """A partition with a larger share of quarantined rows fails its blocking check."""
    min_rows_for_quarantine_rate: int = 100
    """The quarantine rate is judged only on partitions with at least this many rows."""
    min_rows: int = 0
    max_rows: int = 50_000_000
    max_amount: float = 1_000_000.0
    """Order amounts above this are quarantined (`amount_too_large`)."""
    median_amount_min: float = 1.0
    median_amount_max: float = 10_000.0
    """Band for a day's median order amount (a warning check)."""
    max_unknown_customer_rate: float = 0.01
    """Share of a day's rows referencing customers missing from the CRM export above which a warning is raised."""
    max_landing_lag_days: int = 2
    """Warn when a source's newest landing day is older than this many days."""

    def thresholds(self) -> Thresholds:
        return Thresholds(**{field.name: getattr(self, field.name) for field in fields(Thresholds)})


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"data_root": DataRoot(), "validation": ValidationSettings()})
