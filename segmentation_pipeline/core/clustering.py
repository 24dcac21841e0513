"""Behavioural segments: k-means on standardised per-customer features, with ids and names that explain themselves."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import StandardScaler

# Value, recency, tenure and engagement (log-transformed: they are heavily skewed) plus how and when customers use
# the product. Survey answers are left out: most customers never answer, and imputed answers blur the segments.
LOG_FEATURES = ("frequency", "avg_order_value", "recency_days", "sessions", "mean_session_minutes", "tenure_days")
SHARE_FEATURES = (
    "mobile_share",
    "desktop_share",
    "tablet_share",
    "night_share",
    "morning_share",
    "afternoon_share",
    "evening_share",
    "weekend_share",
)
CLUSTER_FEATURES = (*LOG_FEATURES, *SHARE_FEATURES)

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


@dataclass(frozen=True)
class ClusterSettings:
    k_min: int = 3
    k_max: int = 8
    fixed_k: int | None = None
    seed: int = 42
    silhouette_sample: int = 10_000
    recency_cap_days: int = 730


@dataclass
class Segmentation:
    assignments: pd.DataFrame  # customer_id, segment_id, segment_name
    profiles: pd.DataFrame  # one row per segment
    k: int
    silhouette_by_k: dict[int, float]


def feature_matrix(features: pd.DataFrame, settings: ClusterSettings) -> pd.DataFrame:
    """Model inputs with missing data made explicit: no purchase = recency at the cap and no spend, no usage = zero
    activity and zero shares."""
    matrix = pd.DataFrame(index=features.index)
    recency = (
        features["recency_days"]
        .astype("float64")
        .fillna(settings.recency_cap_days)
        .clip(upper=settings.recency_cap_days)
    )
    for name in LOG_FEATURES:
        values = recency if name == "recency_days" else features[name].astype("float64").fillna(0.0)
        matrix[name] = np.log1p(values.clip(lower=0))
    for name in SHARE_FEATURES:
        matrix[name] = features[name].astype("float64").fillna(0.0)
    return matrix


def segment_customers(features: pd.DataFrame, settings: ClusterSettings = ClusterSettings()) -> Segmentation:
    matrix = feature_matrix(features, settings)
    scaled = StandardScaler().fit_transform(matrix.to_numpy())
    silhouettes = {} if settings.fixed_k else _silhouette_by_k(scaled, settings)
    k = settings.fixed_k or max(silhouettes, key=lambda candidate: (round(silhouettes[candidate], 6), -candidate))
    labels = KMeans(n_clusters=k, n_init=4, random_state=settings.seed).fit_predict(scaled)
    segment_ids = _stable_ids(labels, scaled)
    z_scores = pd.DataFrame(scaled, columns=matrix.columns).groupby(segment_ids).mean()
    names, descriptions = _names_and_descriptions(z_scores, features, segment_ids)
    assignments = pd.DataFrame(
        {"customer_id": features["customer_id"].to_numpy(), "segment_id": segment_ids.astype("int64")}
    )
    assignments["segment_name"] = assignments["segment_id"].map(names).astype("str")
    profiles = _profiles(features, segment_ids, names, descriptions)
    return Segmentation(assignments, profiles, k, silhouettes)


def _silhouette_by_k(scaled: np.ndarray, settings: ClusterSettings) -> dict[int, float]:
    rng = np.random.default_rng(settings.seed)
    sample = scaled[rng.choice(len(scaled), size=min(settings.silhouette_sample, len(scaled)), replace=False)]
    scores = {}
    for k in range(settings.k_min, min(settings.k_max, len(sample) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=settings.seed).fit_predict(sample)
        scores[k] = float(silhouette_score(sample, labels, random_state=settings.seed))
    return scores


def _stable_ids(labels: np.ndarray, scaled: np.ndarray) -> np.ndarray:
    """Number segments 1..k by size (largest first), ties by centroid, so ids never depend on k-means' label order."""
    clusters = np.unique(labels)
    centroids = {label: scaled[labels == label].mean(axis=0).round(9) for label in clusters}
    order = sorted(clusters, key=lambda label: (-(labels == label).sum(), tuple(centroids[label])))
    mapping = {label: rank + 1 for rank, label in enumerate(order)}
    return np.array([mapping[label] for label in labels])


def _names_and_descriptions(z_scores: pd.DataFrame, features: pd.DataFrame, segment_ids: np.ndarray):
    """Name each segment after its strongest traits against the population; extend a name until it is unique."""
    ranked_traits = {}
    for segment_id, row in z_scores.iterrows():
        traits = []
        for feature in row.abs().sort_values(ascending=False, kind="stable").index:
            high, low = TRAIT_PHRASES.get(feature, (None, None))
            phrase = high if row[feature] > 0 else low
            if phrase and abs(row[feature]) >= MIN_TRAIT_STRENGTH:
                traits.append((feature, phrase))
        ranked_traits[segment_id] = traits
    names: dict[int, str] = {}
    for segment_id, traits in ranked_traits.items():
        count = min(TRAITS_IN_NAME, len(traits))
        name = _compose(traits[:count])
        while name in names.values() and count < len(traits):
            count += 1
            name = _compose(traits[:count])
        if name in names.values():
            name = f"{name} ({segment_id})"
        names[segment_id] = name
    descriptions = {
        segment_id: _describe(traits[:TRAITS_IN_NAME], features, segment_ids == segment_id)
        for segment_id, traits in ranked_traits.items()
    }
    return names, descriptions


def _compose(traits: list[tuple[str, str]]) -> str:
    if not traits:
        return "Typical customers"
    phrases = ", ".join(phrase for _, phrase in traits)
    return f"{phrases[0].upper()}{phrases[1:]} customers"


def _describe(traits: list[tuple[str, str]], features: pd.DataFrame, members: np.ndarray) -> str:
    if not traits:
        return "Close to the average customer on every feature."
    parts = []
    for feature, _ in traits:
        values = features[feature].astype("float64")
        parts.append(
            f"{feature.replace('_', ' ')} {_format(values[members].mean(), feature)} "
            f"vs {_format(values.mean(), feature)} overall"
        )
    return "Stands out by " + "; ".join(parts) + "."


def _format(value: float, feature: str) -> str:
    if pd.isna(value):
        return "n/a"
    return f"{value:.0%}" if feature.endswith("_share") else f"{value:,.1f}"


def _profiles(features: pd.DataFrame, segment_ids: np.ndarray, names: dict, descriptions: dict) -> pd.DataFrame:
    frame = features.assign(segment_id=segment_ids)
    total_revenue = frame["monetary"].sum()
    grouped = frame.groupby("segment_id")
    profiles = pd.DataFrame(
        {
            "customers": grouped.size(),
            "mean_recency_days": grouped["recency_days"].mean(),
            "mean_frequency": grouped["frequency"].mean(),
            "mean_monetary": grouped["monetary"].mean(),
            "revenue": grouped["monetary"].sum(),
            "mean_sessions": grouped["sessions"].mean(),
        }
    ).reset_index()
    profiles["share"] = profiles["customers"] / len(frame)
    profiles["revenue_share"] = profiles["revenue"] / total_revenue if total_revenue else 0.0
    profiles["segment_name"] = profiles["segment_id"].map(names).astype("str")
    profiles["description"] = profiles["segment_id"].map(descriptions).astype("str")
    return profiles
