"""The `ingest` resource: how the landing sources are judged."""

import dagster as dg

from segmentation_pipeline.core.ingest.settings import IngestSettings
from segmentation_pipeline.defs.resources import SettingsResource


class IngestResource(SettingsResource):
    """How ingest judges its landing sources."""

    core_settings = IngestSettings

    max_landing_lag_days: int = IngestSettings.max_landing_lag_days
    """Warn when a source's newest landing day is older than this many days."""


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"ingest": IngestResource()})
