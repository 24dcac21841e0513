"""Churn risk, the label marketers read from p_alive (the predicted value tier is `core/tiers.py`'s rank tiers of
predicted CLV, like `value_tier`'s of spend)."""

from __future__ import annotations

import numpy as np

from segmentation_pipeline.core.value.settings import ValueSettings

CHURN_RISKS = ("low", "medium", "high")


def churn_risk(p_alive: np.ndarray, settings: ValueSettings) -> np.ndarray:
    """ "high" below `churn_high_below`, "medium" below `churn_medium_below`, else "low"."""
    return np.select(
        [p_alive < settings.churn_high_below, p_alive < settings.churn_medium_below], ["high", "medium"], "low"
    ).astype(object)
