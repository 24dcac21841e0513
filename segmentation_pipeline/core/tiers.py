"""Tiers by rank, shared by `value_tier` (spend in the window) and `predicted_value_tier` (predicted CLV): the top
20% "high", the next 30% "medium", the rest "low", decided by the values alone, never by row order."""

from __future__ import annotations

import numpy as np

TIERS = ("high", "medium", "low")
HIGH_PERCENT = 20
"""The top 20% are "high" ..."""
HIGH_OR_MEDIUM_PERCENT = 50
"""... the top 50% "high" or "medium": the next 30% after the high tier are "medium", the rest "low"."""


def rank_tiers(values: np.ndarray) -> np.ndarray:
    """The tier of each value: with H the ceil(20% x n)-th and M the ceil(50% x n)-th highest of the n values
    (nearest rank, exact integer arithmetic), "high" if >= H, else "medium" if >= M, else "low". Tied values always
    share a tier, and a tie across a boundary takes the better tier (so with ties a tier can hold more than its
    nominal share)."""
    values = np.asarray(values, dtype="float64")
    if len(values) == 0:
        return np.empty(0, dtype=object)
    descending = np.sort(values)[::-1]
    high = descending[_nearest_rank(len(values), HIGH_PERCENT) - 1]
    medium = descending[_nearest_rank(len(values), HIGH_OR_MEDIUM_PERCENT) - 1]
    return np.select([values >= high, values >= medium], ["high", "medium"], "low").astype(object)


def _nearest_rank(n: int, percent: int) -> int:
    """ceil(percent% of n) without floating point (0.2 * 15 is 3.0000000000000004 in floats)."""
    return -(-n * percent // 100)
