"""Vectorised draws and string helpers shared by the sample's sources (and the benchmark generator).

Every draw takes the one `numpy.random.Generator` of the run and consumes it in a fixed order, which is what makes
the same arguments give byte-identical files.
"""

from __future__ import annotations

from dataclasses import fields, replace
from typing import TypeVar

import numpy as np

from segmentation_pipeline.sample_data.personas import PERSONAS

ParallelArrays = TypeVar("ParallelArrays")


def normalised(weights) -> np.ndarray:
    """Weights scaled to sum to 1 along the last axis."""
    values = np.asarray(weights, dtype=float)
    return values / values.sum(axis=-1, keepdims=True)


def largest_remainder(quota: np.ndarray, total: int) -> np.ndarray:
    """Integer counts that add up to `total`: each quota rounded down, plus one for the largest remainders."""
    counts = np.floor(quota).astype(np.int64)
    counts[np.argsort(-(quota - counts), kind="stable")[: int(total - counts.sum())]] += 1
    return counts


def categorical_by_group(rng: np.random.Generator, probabilities: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One category per row, drawn with the probabilities of the row's group (`probabilities[group]`)."""
    cumulative = np.cumsum(normalised(probabilities), axis=1)
    cumulative[:, -1] = 1.0
    uniform = rng.random(group.shape[0])
    category = np.zeros(group.shape[0], dtype=np.int64)
    for group_index in range(probabilities.shape[0]):
        in_group = group == group_index
        if in_group.any():
            category[in_group] = np.searchsorted(cumulative[group_index], uniform[in_group], side="right")
    return np.minimum(category, probabilities.shape[1] - 1)


def days_in_interval(
    rng: np.random.Generator, weights: np.ndarray, group: np.ndarray, first_day: np.ndarray, last_day: np.ndarray
) -> np.ndarray:
    """One day per row in [first_day, last_day] (inclusive), drawn proportionally to `weights[group, day]`."""
    cumulative = np.concatenate([np.zeros((weights.shape[0], 1)), np.cumsum(weights, axis=1)], axis=1)
    uniform = rng.random(group.shape[0])
    day = np.zeros(group.shape[0], dtype=np.int64)
    for group_index in range(weights.shape[0]):
        in_group = group == group_index
        if not in_group.any():
            continue
        group_cumulative = cumulative[group_index]
        below = group_cumulative[first_day[in_group]]
        above = group_cumulative[last_day[in_group] + 1]
        target = below + uniform[in_group] * (above - below)
        day[in_group] = np.searchsorted(group_cumulative, target, side="right") - 1
    return np.clip(day, first_day, last_day)


def circular_hour_weights(peak_hour: float, width_hours: float) -> np.ndarray:
    """Weights of the 24 UTC hours: a bell around `peak_hour` that wraps at midnight, over a small floor."""
    hours = np.arange(24) + 0.5
    distance = np.abs(hours - peak_hour)
    distance = np.minimum(distance, 24 - distance)
    return 0.04 + np.exp(-0.5 * (distance / width_hours) ** 2)


def seconds_of_day(rng: np.random.Generator, persona_of_row: np.ndarray, width_scale: float = 1.0) -> np.ndarray:
    """A second of the day per row, around the hour its persona is active (widened by `width_scale`)."""
    hour_weights = np.array(
        [circular_hour_weights(persona.peak_hour_utc, persona.peak_width_hours * width_scale) for persona in PERSONAS]
    )
    hour = categorical_by_group(rng, hour_weights, persona_of_row)
    return hour * 3600 + rng.integers(0, 3600, persona_of_row.shape[0])


def object_array(values: tuple[str, ...]) -> np.ndarray:
    """Strings as a numpy object array, so fancy indexing yields Python strings for pandas and pyarrow."""
    return np.array(values, dtype=object)


def zero_padded(numbers: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded strings (object array)."""
    if numbers.size == 0:
        return np.zeros(0, dtype=object)
    return np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), width).astype(object)


def prefixed_ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    """Ids such as C000042: `prefix` plus the zero-padded number."""
    return prefix + zero_padded(numbers, width)


def iso_seconds(seconds: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DDTHH:MM:SS' (no zone) for integer epoch seconds."""
    return np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").astype(object)


def take_rows(rows: ParallelArrays, index: np.ndarray) -> ParallelArrays:
    """A dataclass of parallel arrays with every array indexed by `index` (to sort or filter all of them at once)."""
    return replace(rows, **{field.name: getattr(rows, field.name)[index] for field in fields(rows)})
