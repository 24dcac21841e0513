"""Per-segment profiles of a snapshot: what BI shows next to each segment's name and description.

A profile is made of per-segment aggregates (`PROFILE_FIGURES`, and value counts for the modes and NPS shares), so
the Spark engine computes the same aggregates on its executors and only they reach `profiles_from_aggregates`."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from segmentation_pipeline.core.segment.model import SegmentModel

PROFILE_FIGURES = {
    "customers": ("customer_id", "count"),
    "revenue": ("monetary", "sum"),
    "mean_recency_days": ("recency_days", "mean"),
    "median_recency_days": ("recency_days", "median"),
    "mean_frequency": ("frequency", "mean"),
    "median_frequency": ("frequency", "median"),
    "mean_monetary": ("monetary", "mean"),
    "median_monetary": ("monetary", "median"),
    "mean_sessions": ("sessions", "mean"),
}
"""Profile column: (feature, aggregate over the segment's customers, nulls skipped)."""
PROFILE_MODES = {
    "dominant_device": "primary_device",
    "dominant_time_of_day": "preferred_time_of_day",
    "top_country": "country",
    "top_acquisition_channel": "acquisition_channel",
}
"""Profile column: the feature whose most frequent value it is."""
NPS_GROUP = "nps_group"
NPS_SHARES = {"promoter_share": "promoter", "passive_share": "passive", "detractor_share": "detractor"}


def segment_profiles(
    features: pd.DataFrame, assignments: pd.DataFrame, model: SegmentModel, names: dict[int, str] | None = None
) -> pd.DataFrame:
    """One row per segment of a snapshot: size, value, RFM, dominant traits and NPS mix, next to its name (`names`,
    the published ones, or else the model's) and description."""
    frame = features.merge(assignments[["customer_id", "segment_id"]], on="customer_id", validate="one_to_one")
    counts = {
        column: frame.groupby(["segment_id", column]).size().rename("customers").reset_index()
        for column in (*PROFILE_MODES.values(), NPS_GROUP)
    }
    return profiles_from_aggregates(profile_figures(frame), counts, len(frame), frame["monetary"].sum(), model, names)


def profile_figures(frame: pd.DataFrame) -> pd.DataFrame:
    """`PROFILE_FIGURES` per segment_id of `frame` (features with `segment_id`)."""
    grouped = frame.groupby("segment_id")
    return pd.DataFrame({name: grouped[column].agg(how) for name, (column, how) in PROFILE_FIGURES.items()})


def profiles_from_aggregates(
    figures: pd.DataFrame,
    counts: dict[str, pd.DataFrame],
    customers: int,
    revenue: float,
    model: SegmentModel,
    names: dict[int, str] | None = None,
) -> pd.DataFrame:
    """The profiles from `figures` (`PROFILE_FIGURES` by segment_id), `counts` (per feature of `PROFILE_MODES` and
    `nps_group`: segment_id, value, customers; nulls left out) and the snapshot's customers and revenue."""
    figures = figures.sort_index()
    segments = figures.index
    profiles = figures.assign(
        **{name: _modes(counts[column], segments) for name, column in PROFILE_MODES.items()},
        **{name: _shares(counts[NPS_GROUP], segments, category) for name, category in NPS_SHARES.items()},
    ).reset_index(names="segment_id")
    profiles.insert(2, "share", profiles["customers"] / customers)
    profiles.insert(4, "revenue_share", profiles["revenue"] / revenue if revenue else 0.0)
    names = model.names if names is None else names
    profiles.insert(1, "segment_name", profiles["segment_id"].map(names).astype("str"))
    profiles.insert(2, "description", profiles["segment_id"].map(model.descriptions).astype("str"))
    profiles["model_version"] = model.version
    return profiles


def _modes(counts: pd.DataFrame, segments: pd.Index) -> pd.Series:
    """Most frequent value per segment; ties go to the alphabetically first, never to row order; None without any."""
    value = counts.columns[1]
    top = counts[counts["customers"] == counts.groupby("segment_id")["customers"].transform("max")]
    modes = top.groupby("segment_id")[value].agg(lambda values: str(min(values)))
    return pd.Series([modes.get(segment) for segment in segments], index=segments, dtype="str")


def _shares(counts: pd.DataFrame, segments: pd.Index, category: str) -> pd.Series:
    """Share of the answered values that are `category` per segment; None when nobody answered."""
    answered = counts.groupby("segment_id")["customers"].sum().reindex(segments)
    matching = counts[counts[counts.columns[1]] == category].groupby("segment_id")["customers"].sum()
    return (matching.reindex(segments, fill_value=0) / answered).astype("float64")
