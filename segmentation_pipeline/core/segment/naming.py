"""Segment names and descriptions generated from what sets each segment apart from the population, so that a new
segment is understandable before a marketer names it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation_pipeline.core.segment.preprocessing import MISSING_CATEGORY, model_inputs
from segmentation_pipeline.core.segment.settings import ClusterSettings

if TYPE_CHECKING:
    from segmentation_pipeline.core.segment.model import SegmentModel

# (phrase when the segment is above the population, phrase when below); None means "not worth saying".
TRAIT_PHRASES: dict[str, tuple[str | None, str | None]] = {
    "frequency": ("frequent", "infrequent"),
    "avg_order_value": ("big-basket", "small-basket"),
    "recency_days": ("lapsed", "recent"),
    "sessions": ("highly engaged", "low-engagement"),
    "mean_session_minutes": ("long-session", "short-session"),
    "tenure_days": ("long-standing", "newly joined"),
    "mobile_share": ("mobile", None),
    "desktop_share": ("desktop", None),
    "tablet_share": ("tablet", None),
    "night_share": ("night-owl", None),
    "morning_share": ("morning", None),
    "afternoon_share": ("afternoon", None),
    "evening_share": ("evening", None),
    "weekend_share": ("weekend", "weekday"),
}
MIN_TRAIT_STRENGTH = 0.5
TRAITS_IN_NAME = 3


def names_and_descriptions(model: SegmentModel, features: pd.DataFrame) -> tuple[dict[int, str], dict[int, str]]:
    """Name each segment after its strongest traits against the population, extended until it is unique. The
    marketers' names are not baked in here: they are laid over these at every scoring (`name_overrides.py`)."""
    z_scores = pd.DataFrame(model.kmeans.cluster_centers_, columns=model.columns, index=model.segment_ids)
    phrases = {column: _phrases(column, model.settings) for column in model.columns}
    ranked_traits = {segment_id: _traits(row, phrases) for segment_id, row in z_scores.iterrows()}
    names: dict[int, str] = {}
    for segment_id in sorted(model.segment_ids):
        traits = ranked_traits[segment_id]
        count = min(TRAITS_IN_NAME, len(traits))
        name = _compose(traits[:count])
        while name in names.values() and count < len(traits):
            count += 1
            name = _compose(traits[:count])
        names[segment_id] = name if name not in names.values() else f"{name} ({segment_id})"
    members = model.segment_of(features)
    values = _explained_values(features, model.settings)
    descriptions = {
        segment_id: _describe(ranked_traits[segment_id][:TRAITS_IN_NAME], values, members == segment_id)
        for segment_id in model.segment_ids
    }
    return names, descriptions


def _phrases(column: str, settings: ClusterSettings) -> tuple[str | None, str | None]:
    """How to say that a segment is above / below the population on a model input."""
    if column in TRAIT_PHRASES:
        return TRAIT_PHRASES[column]
    for name in settings.categorical_features:
        if column.startswith(f"{name}_"):
            level = column.removeprefix(f"{name}_")
            return (f"no {name.replace('_', ' ')}" if level == MISSING_CATEGORY else level.replace("_", " ")), None
    return f"high {column.replace('_', ' ')}", f"low {column.replace('_', ' ')}"


def _explained_values(features: pd.DataFrame, settings: ClusterSettings) -> pd.DataFrame:
    """What descriptions quote per model input: the raw number, or for a category level the share of customers."""
    values = {name: features[name].astype("float64") for name in (*settings.log_features, *settings.share_features)}
    inputs = model_inputs(features, settings)
    for name in settings.categorical_features:
        for level in sorted(inputs[name].unique()):
            values[f"{name}_{level}_share"] = (inputs[name] == level).astype("float64")
    return pd.DataFrame(values, index=features.index)


def _traits(centroid: pd.Series, phrases: dict[str, tuple[str | None, str | None]]) -> list[tuple[str, str]]:
    """The sayable traits of a centroid (in standard deviations), strongest first, weak ones left out."""
    traits = []
    for feature in centroid.abs().sort_values(ascending=False, kind="stable").index:
        high, low = phrases[feature]
        phrase = high if centroid[feature] > 0 else low
        if phrase and abs(centroid[feature]) >= MIN_TRAIT_STRENGTH:
            traits.append((feature, phrase))
    return traits


def _compose(traits: list[tuple[str, str]]) -> str:
    if not traits:
        return "Typical customers"
    phrases = ", ".join(phrase for _, phrase in traits)
    return f"{phrases[0].upper()}{phrases[1:]} customers"


def _describe(traits: list[tuple[str, str]], values: pd.DataFrame, members: np.ndarray) -> str:
    """Quote the segment's mean next to the population's for each trait in its name."""
    if not traits:
        return "Close to the average customer on every feature."
    parts = []
    for column, _ in traits:
        quoted = column if column in values.columns else f"{column}_share"
        parts.append(
            f"{quoted.replace('_', ' ')} {_format(values[quoted][members].mean(), quoted)} "
            f"vs {_format(values[quoted].mean(), quoted)} overall"
        )
    return "Stands out by " + "; ".join(parts) + "."


def _format(value: float, feature: str) -> str:
    if pd.isna(value):
        return "none"
    return f"{value:.0%}" if feature.endswith("_share") else f"{value:,.1f}"
