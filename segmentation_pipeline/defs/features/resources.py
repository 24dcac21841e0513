"""The `features` and `rfm` resources: feature windows and lifecycle thresholds, and how RFM scores are cut."""

import dagster as dg

from segmentation_pipeline.core.features.settings import FeatureSettings, RfmSettings
from segmentation_pipeline.defs.resources import SettingsResource


class FeaturesResource(SettingsResource):
    """Windows and lifecycle thresholds of the customer features, in days."""

    core_settings = FeatureSettings

    lookback_days: int = FeatureSettings.lookback_days
    """Window for frequency and monetary."""
    usage_window_days: int = FeatureSettings.usage_window_days
    """Window for behavioural (usage) features."""
    new_customer_days: int = FeatureSettings.new_customer_days
    active_days: int = FeatureSettings.active_days
    at_risk_days: int = FeatureSettings.at_risk_days
    lapsed_days: int = FeatureSettings.lapsed_days


class RfmResource(SettingsResource):
    """How R, F and M are scored and named."""

    core_settings = RfmSettings

    segment_map_file: str = RfmSettings.segment_map_file
    """JSON file mapping segment names to R/F(/M) score blocks; empty = the built-in 10-segment R x F map."""
    freeze_cut_points_from: str = RfmSettings.freeze_cut_points_from
    """Snapshot date (YYYY-MM-DD) whose cut points score every snapshot, so a score keeps meaning the same spend
    level across months; empty = fit cut points on each snapshot's own customers."""


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"features": FeaturesResource(), "rfm": RfmResource()})
