"""The feature windows, lifecycle thresholds and RFM scoring settings; the `features` and `rfm` resources expose
(and document) each field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FeatureSettings:
    """Windows and lifecycle thresholds, in days. README's data dictionary documents each."""

    lookback_days: int = 365
    usage_window_days: int = 90
    new_customer_days: int = 30
    active_days: int = 90
    at_risk_days: int = 180
    lapsed_days: int = 365


@dataclass(frozen=True)
class RfmSettings:
    segment_map_file: str = ""
    freeze_cut_points_from: str = ""
