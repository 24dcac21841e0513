"""Labels from the model's numbers: churn risk from p_alive, and the predicted value tier from predicted CLV."""

from __future__ import annotations

import numpy as np

from segmentation_pipeline.core.value.settings import ValueSettings

CHURN_RISKS = ("low", "medium", "high")
VALUE_TIERS = ("high", "medium", "low")
HIGH_TIER_PERCENT = 20
"""The top 20% of buyers by predicted CLV are "high" ..."""
HIGH_OR_MEDIUM_TIER_PERCENT = 50
"""... the next 30% "medium", the rest "low" (the shares of `value_tier`)."""


def churn_risk(p_alive: np.ndarray, settings: ValueSettings) -> np.ndarray:
    """ "high" below `churn_high_below`, "medium" below `churn_medium_below`, else "low"."""
    return np.select(
        [p_alive < settings.churn_high_below, p_alive < settings.churn_medium_below], ["high", "medium"], "low"
    ).astype(object)


def value_tiers(clv: np.ndarray) -> np.ndarray:
    """The tier of each CLV, by the rule of `value_tier` (publish/kpis.py): with H the ceil(20% n)-th and M the
    ceil(50% n)-th highest of the n values, "high" if >= H, else "medium" if >= M, else "low". Only values decide:
    ties share a tier (the better one across a boundary)."""
    if len(clv) == 0:
        return np.empty(0, dtype=object)
    descending = np.sort(clv)[::-1]
    high = descending[_nearest_rank(len(clv), HIGH_TIER_PERCENT) - 1]
    medium = descending[_nearest_rank(len(clv), HIGH_OR_MEDIUM_TIER_PERCENT) - 1]
    return np.select([clv >= high, clv >= medium], ["high", "medium"], "low").astype(object)


def _nearest_rank(n: int, percent: int) -> int:
    """ceil(percent% of n) in exact integer arithmetic."""
    return -(-n * percent // 100)
