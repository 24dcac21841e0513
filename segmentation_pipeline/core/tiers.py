"""Tiers by rank, shared by `value_tier` (spend in the window) and `predicted_value_tier` (predicted CLV): the top
20% "high", the next 30% "medium", the rest "low", decided by the values alone, never by row order."""

from __future__ import annotations

import numpy as np

TIERS = ("high", "medium", "low")
HIGH_PERCENT = 20
"""The top 20% are "high" ..."""
HIGH_OR_MEDIUM_PERCENT = 50
"""... the top 50% "high" or "medium": the next 30% after the high tier are "medium", the rest "low"."""


Thresholds = tuple[float, float]
"""The lowest "high" and the lowest "medium" value: H and M of `rank_tiers`."""


def rank_tiers(values: np.ndarray, thresholds: Thresholds | None = None) -> np.ndarray:
    """The tier of each value: with H the ceil(20% x n)-th and M the ceil(50% x n)-th highest of the n values
    (nearest rank, exact integer arithmetic), "high" if >= H, else "medium" if >= M, else "low". Tied values always
    share a tier, and a tie across a boundary takes the better tier (so with ties a tier can hold more than its
    nominal share). `thresholds`: H and M of a whole population that `values` are part of (a Spark batch)."""
    values = np.asarray(values, dtype="float64")
    if len(values) == 0:
        return np.empty(0, dtype=object)
    high, medium = thresholds or tier_thresholds(values)
    return np.select([values >= high, values >= medium], ["high", "medium"], "low").astype(object)


def tier_thresholds(values: np.ndarray) -> Thresholds:
    """H and M of `rank_tiers` for a non-empty population."""
    descending = np.sort(values)[::-1]
    return tuple(descending[rank - 1] for rank in tier_ranks(len(values)))


def tier_ranks(n: int) -> tuple[int, int]:
    """The ranks (1 = highest) of H and M among n values."""
    return _nearest_rank(n, HIGH_PERCENT), _nearest_rank(n, HIGH_OR_MEDIUM_PERCENT)


def _nearest_rank(n: int, percent: int) -> int:
    """ceil(percent% of n) without floating point (0.2 * 15 is 3.0000000000000004 in floats)."""
    return -(-n * percent // 100)
