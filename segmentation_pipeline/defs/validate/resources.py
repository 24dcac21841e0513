"""The `validation` resource: the thresholds of the row checks and of the expectation suites' checks."""

import dagster as dg

from segmentation_pipeline.core.validate.settings import ValidationSettings
from segmentation_pipeline.defs.resources import SettingsResource


class ValidationResource(SettingsResource):
    """Thresholds of the validation checks; change them here or per run in the launchpad, never in the suite JSON."""

    core_settings = ValidationSettings

    max_quarantine_rate: float = ValidationSettings.max_quarantine_rate
    """A partition with a larger share of quarantined rows fails its blocking check."""
    min_rows_for_quarantine_rate: int = ValidationSettings.min_rows_for_quarantine_rate
    """The quarantine rate is judged only on partitions with at least this many rows."""
    min_rows: int = ValidationSettings.min_rows
    max_rows: int = ValidationSettings.max_rows
    max_amount: float = ValidationSettings.max_amount
    """Order amounts above this are quarantined (`amount_too_large`)."""
    median_amount_min: float = ValidationSettings.median_amount_min
    median_amount_max: float = ValidationSettings.median_amount_max
    """Band for a day's median order amount (a warning check)."""
    max_unknown_customer_rate: float = ValidationSettings.max_unknown_customer_rate
    """Share of a day's rows referencing customers missing from the CRM export above which a warning is raised."""


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"validation": ValidationResource()})
