"""Per-segment profiles of a snapshot: what BI shows next to each segment's name and description."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from segmentation_pipeline.core.segment.model import SegmentModel


def segment_profiles(
    features: pd.DataFrame, assignments: pd.DataFrame, model: SegmentModel, names: dict[int, str] | None = None
) -> pd.DataFrame:
    """One row per segment of a snapshot: size, value, RFM, dominant traits and NPS mix, next to its name (`names`,
    the published ones, or else the model's) and description."""
    frame = features.merge(assignments[["customer_id", "segment_id"]], on="customer_id", validate="one_to_one")
    grouped = frame.groupby("segment_id")
    total_revenue = frame["monetary"].sum()
    profiles = pd.DataFrame(
        {
            "customers": grouped.size(),
            "revenue": grouped["monetary"].sum(),
            "mean_recency_days": grouped["recency_days"].mean(),
            "median_recency_days": grouped["recency_days"].median(),
            "mean_frequency": grouped["frequency"].mean(),
            "median_frequency": grouped["frequency"].median(),
            "mean_monetary": grouped["monetary"].mean(),
            "median_monetary": grouped["monetary"].median(),
            "mean_sessions": grouped["sessions"].mean(),
            "dominant_device": grouped["primary_device"].agg(_mode),
            "dominant_time_of_day": grouped["preferred_time_of_day"].agg(_mode),
            "top_country": grouped["country"].agg(_mode),
            "top_acquisition_channel": grouped["acquisition_channel"].agg(_mode),
            "promoter_share": grouped["nps_group"].agg(lambda groups: _share(groups, "promoter")),
            "passive_share": grouped["nps_group"].agg(lambda groups: _share(groups, "passive")),
            "detractor_share": grouped["nps_group"].agg(lambda groups: _share(groups, "detractor")),
        }
    ).reset_index()
    profiles.insert(2, "share", profiles["customers"] / len(frame))
    profiles.insert(4, "revenue_share", profiles["revenue"] / total_revenue if total_revenue else 0.0)
    names = model.names if names is None else names
    profiles.insert(1, "segment_name", profiles["segment_id"].map(names).astype("str"))
    profiles.insert(2, "description", profiles["segment_id"].map(model.descriptions).astype("str"))
    profiles["model_version"] = model.version
    return profiles


def _mode(values: pd.Series) -> str | None:
    """Most frequent value; ties go to the alphabetically first, never to row order."""
    counts = values.dropna().value_counts()
    if counts.empty:
        return None
    return str(min(counts[counts == counts.max()].index))


def _share(values: pd.Series, category: str) -> float | None:
    """Share of the answered values that are `category`; None when nobody answered."""
    answered = values.dropna()
    return float((answered == category).mean()) if len(answered) else None
