"""Seeded random streams and the vectorised Arrow column builders the synthetic generator is made of.

Every draw goes through `stream_rng`, so a day's numbers depend only on the seed, the kind of draw and the day.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation_pipeline.core.ingest.contract import TIMESTAMP

DAY_US = 86_400_000_000
EPOCH = date(1970, 1, 1)

# RNG streams: one per kind of draw, so adding a stream never changes another one's numbers.
POPULATION_STREAM, ORDERS_STREAM, SURVEYS_STREAM, EVENTS_STREAM = 0, 1, 2, 3


def stream_rng(seed: int, stream: int, day: int = 0) -> np.random.Generator:
    """The generator of one stream and day, independent of every other (day counts from the history's start)."""
    return np.random.default_rng(np.random.SeedSequence([seed, stream, day + 1_000_000]))  # day may be < 0


def draw_codes(rng: np.random.Generator, p, size: int) -> np.ndarray:
    """Category codes (int8) drawn with probabilities p."""
    return np.searchsorted(np.cumsum(p) / np.sum(p), rng.random(size), side="right").astype(np.int8)


def label_array(values, codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """String array of values[codes]; null where `null` is True."""
    indices = pa.array(codes.astype(np.int32), mask=null)
    return pc.take(pa.array(values, pa.string()), indices)


def id_array(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + zero-padded numbers, e.g. C0000042."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def timestamp_array(microseconds: np.ndarray) -> pa.Array:
    """The contract's UTC timestamp type from microseconds since the epoch."""
    return pa.array(microseconds.astype(np.int64), pa.int64()).cast(TIMESTAMP)


def day_start_us(day: date) -> int:
    """Midnight UTC of `day` in microseconds since the epoch."""
    return (day - EPOCH).days * DAY_US


def daily_weights(days: list[date], weekday_w) -> np.ndarray:
    """Weekly pattern x a November/December peak x 30% growth over the period."""
    weekday = np.array([weekday_w[d.weekday()] for d in days])
    day_of_year = np.array([d.timetuple().tm_yday for d in days])
    season = 1 + 0.35 * np.exp(-(((day_of_year - 335) / 22.0) ** 2))
    growth = 1 + 0.3 * np.linspace(0, 1, len(days))
    return weekday * season * growth
