"""Which bad rows the sample plants, how many, and the ground-truth list of them (ground_truth/planted_errors.csv).

Each planted row breaks exactly one rule and no other row breaks any, so a validation run can be checked
row by row against this list.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

PLANTED_ERROR_COLUMNS = ("source", "date", "id", "rule")

# Also the order of the sources in planted_errors.csv.
PLANTED_RULES: dict[str, tuple[str, ...]] = {
    "customers": ("duplicate_key", "malformed_email"),
    "orders": ("duplicate_key", "unknown_customer", "negative_amount", "timestamp_outside_partition"),
    "survey_responses": ("nps_out_of_range",),
    "usage_events": ("unknown_device_type", "timestamp_outside_partition"),
}

# Share of a source's rows that get each planted rule; orders plant duplicate keys in two ways.
PLANTED_ERROR_RATES = {
    ("customers", "duplicate_key"): 0.003,
    ("customers", "malformed_email"): 0.005,
    ("orders", "duplicate_key_same_day"): 0.0025,
    ("orders", "duplicate_key_later_day"): 0.0015,
    ("orders", "unknown_customer"): 0.003,
    ("orders", "negative_amount"): 0.003,
    ("orders", "timestamp_outside_partition"): 0.003,
    ("survey_responses", "nps_out_of_range"): 0.01,
    ("usage_events", "unknown_device_type"): 0.001,
    ("usage_events", "timestamp_outside_partition"): 0.001,
}

UNKNOWN_DEVICE_TYPES = ("smart_tv", "smart_watch", "console")
OUT_OF_RANGE_NPS = (11, 12, -1)


def planted_count(source: str, rule: str, rows: int) -> int:
    """How many of `rows` get `rule`: at least one once a source has 10 rows, so every rule shows up."""
    if rows < 10:
        return 0
    return max(1, int(round(PLANTED_ERROR_RATES[(source, rule)] * rows)))


def planted_rows(source: str, dates, ids, rules) -> pd.DataFrame:
    """Ground-truth rows of one source (`dates`, `ids` and `rules` are arrays or one value for all)."""
    return pd.DataFrame({"source": source, "date": dates, "id": ids, "rule": rules})


def sorted_planted_errors(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """All sources' planted rows in source order (as PLANTED_RULES), then by date, id and rule."""
    planted = pd.concat(frames, ignore_index=True)
    source_rank = {name: rank for rank, name in enumerate(PLANTED_RULES)}
    return (
        planted.assign(_rank=planted["source"].map(source_rank))
        .sort_values(["_rank", "date", "id", "rule"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )


def planted_counts(planted: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Planted rows per source and rule, zeros included, for the generator's summary."""
    counts = planted.groupby(["source", "rule"], sort=False).size()
    return {
        source: {rule: int(counts.get((source, rule), 0)) for rule in rules} for source, rules in PLANTED_RULES.items()
    }


def out_of_range_nps(rng: np.random.Generator, count: int) -> np.ndarray:
    """NPS values just outside 0..10, as a typo or a wrong scale would give."""
    return rng.choice(np.array(OUT_OF_RANGE_NPS), count)
