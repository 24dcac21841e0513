"""Behavioural segments: a k-means model fitted on standardised per-customer features, with segment ids that keep
their meaning from one refit to the next, and names and descriptions generated from what sets each segment apart.

A model is fitted quarterly (`fit_model`) and scores every customer of every nightly snapshot (`SegmentModel.assign`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

# Default model inputs: value, recency, tenure and engagement (log-transformed: they are heavily skewed) plus how and
# when customers use the product. Survey answers are left out by default: most customers never answer, and on the
# sample personas even an explicit "no answer" level blurs the segments (README: Behavioural segments).
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
MISSING_CATEGORY = "missing"

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
    log_features: tuple[str, ...] = LOG_FEATURES
    """Skewed non-negative numbers, log1p-transformed; missing = 0 (no activity), recency_days missing = the cap."""
    share_features: tuple[str, ...] = SHARE_FEATURES
    """Numbers used as they are (shares, scores); missing = 0."""
    categorical_features: tuple[str, ...] = ()
    """Categories, one-hot encoded; missing is a level of its own ("missing"), unseen levels encode as all zeros."""
    k_min: int = 3
    k_max: int = 10
    fixed_k: int | None = None
    seed: int = 42
    fit_sample: int = 100_000
    """Larger populations are fitted on a seeded sample of this size; everyone is scored."""
    criteria_sample: int = 10_000
    """Silhouette and the other criteria are computed on a seeded sample of this size."""
    min_segment_share: float = 0.02
    recency_cap_days: int = 730
    match_distance: float = 1.5
    """A new segment keeps a previous segment's id when their centroids are at most this far apart (in standard
    deviations of the features, Euclidean); further apart it is a new segment with a new id."""
    bootstrap_refits: int = 3


@dataclass
class SegmentModel:
    """Everything needed to score a snapshot exactly as at fit time, and to explain the segments."""

    settings: ClusterSettings
    preprocess: Pipeline  # encode (log1p, pass-through, one-hot) then standard scaling, fitted on the population
    kmeans: KMeans
    segment_ids: list[int]  # stable segment id of each k-means label
    names: dict[int, str]
    descriptions: dict[int, str]
    training_snapshot: str
    candidates: dict[int, dict[str, float]] = field(default_factory=dict)
    quality: dict[str, float] = field(default_factory=dict)
    lineage: dict[str, object] = field(default_factory=dict)

    @property
    def k(self) -> int:
        return int(self.kmeans.n_clusters)

    @property
    def version(self) -> str:
        """Training snapshot plus a digest of the centroids: equal versions mean equal models."""
        digest = hashlib.sha256(np.round(self.kmeans.cluster_centers_, 9).tobytes()).hexdigest()[:8]
        return f"{self.training_snapshot}-{digest}"

    @property
    def columns(self) -> list[str]:
        """The encoded model inputs: one per numeric feature, one per level of each categorical feature."""
        return list(self.preprocess["encode"].get_feature_names_out())

    def raw_centroids(self) -> pd.DataFrame:
        """Centroids in encoded units (log values, shares, level shares), comparable across models."""
        return pd.DataFrame(
            self.preprocess["scale"].inverse_transform(self.kmeans.cluster_centers_), columns=self.columns
        )

    def segment_of(self, features: pd.DataFrame) -> np.ndarray:
        labels = self.kmeans.predict(self.preprocess.transform(model_inputs(features, self.settings)))
        return np.asarray(self.segment_ids)[labels]

    def assign(self, features: pd.DataFrame) -> pd.DataFrame:
        segment_ids = self.segment_of(features)
        return pd.DataFrame(
            {
                "customer_id": features["customer_id"].to_numpy(),
                "segment_id": segment_ids.astype("int64"),
                "segment_name": pd.Series(segment_ids).map(self.names).astype("str").to_numpy(),
            }
        )

    def card(self) -> dict:
        """The JSON card stored next to the model: what it was trained on, how k was chosen, how good it is."""
        return {
            "version": self.version,
            "training_snapshot": self.training_snapshot,
            "features": {
                "log": list(self.settings.log_features),
                "share": list(self.settings.share_features),
                "categorical": list(self.settings.categorical_features),
            },
            "model_inputs": self.columns,
            "k": self.k,
            "settings": self.settings.__dict__,
            "candidates": {str(k): scores for k, scores in self.candidates.items()},
            "quality": self.quality,
            "lineage": self.lineage,
            "segments": [
                {"segment_id": segment_id, "name": self.names[segment_id], "description": self.descriptions[segment_id]}
                for segment_id in sorted(self.names)
            ],
        }


def model_inputs(features: pd.DataFrame, settings: ClusterSettings) -> pd.DataFrame:
    """The configured feature columns with missing data made explicit: no purchase = recency at the cap, no
    activity = zero counts and shares, no answer = the "missing" level."""
    inputs = pd.DataFrame(index=features.index)
    for name in (*settings.log_features, *settings.share_features):
        values = features[name].astype("float64")
        if name == "recency_days":
            values = values.fillna(settings.recency_cap_days).clip(upper=settings.recency_cap_days)
        inputs[name] = values.fillna(0.0).clip(lower=0) if name in settings.log_features else values.fillna(0.0)
    for name in settings.categorical_features:
        inputs[name] = features[name].astype("object").where(features[name].notna(), MISSING_CATEGORY).astype(str)
    return inputs


def check_features(features: pd.DataFrame, settings: ClusterSettings) -> None:
    """Fail with the offending column names when a configured model input is missing or of the wrong kind."""
    configured = (*settings.log_features, *settings.share_features, *settings.categorical_features)
    problems = [f"{name} (not a feature column)" for name in configured if name not in features.columns]
    problems += [
        f"{name} (not numeric: {features[name].dtype})"
        for name in (*settings.log_features, *settings.share_features)
        if name in features.columns and not pd.api.types.is_numeric_dtype(features[name])
    ]
    if len(set(configured)) < len(configured):
        problems.append("a feature is configured twice")
    if not configured:
        problems.append("no features configured")
    if problems:
        raise ValueError("segmentation features: " + "; ".join(problems))


def preprocessing(settings: ClusterSettings) -> Pipeline:
    """log1p for skewed counts and amounts, one-hot for categories, then standard scaling of every input.

    Scaling is by mean and standard deviation after the log, not by median and IQR: most shares are 0 for most
    customers, so their IQR is tiny and median/IQR scaling lets them swamp the distances (README: Behavioural
    segments). The log and the recency cap are what keep outliers from dominating."""
    encode = ColumnTransformer(
        [
            ("log", FunctionTransformer(np.log1p, feature_names_out="one-to-one"), list(settings.log_features)),
            ("share", "passthrough", list(settings.share_features)),
            (
                "categorical",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(settings.categorical_features),
            ),
        ],
        verbose_feature_names_out=False,
    )
    return Pipeline([("encode", encode), ("scale", StandardScaler())])


def fit_model(
    features: pd.DataFrame,
    training_snapshot: str,
    settings: ClusterSettings = ClusterSettings(),
    previous: SegmentModel | None = None,
    name_overrides: dict[int, str] | None = None,
) -> SegmentModel:
    """Fit on (a seeded sample of) the snapshot, choose k, keep the previous model's ids where segments match."""
    check_features(features, settings)
    if len(features) < settings.k_min + 1:
        raise ValueError(f"cannot segment {len(features)} customers into at least {settings.k_min} segments")
    inputs = model_inputs(features, settings)
    preprocess = preprocessing(settings).fit(inputs)
    rng = np.random.default_rng(settings.seed)
    sample = preprocess.transform(inputs.iloc[_sample_rows(rng, len(inputs), settings.fit_sample)])
    candidates = {} if settings.fixed_k else _score_candidates(sample, settings)
    k = settings.fixed_k or choose_k(candidates)
    kmeans = KMeans(n_clusters=k, n_init=4, random_state=settings.seed).fit(sample)
    model = SegmentModel(settings, preprocess, kmeans, [], {}, {}, training_snapshot, candidates)
    model.segment_ids, model.lineage = _stable_ids(model, previous)
    model.names, model.descriptions = _names_and_descriptions(model, features, name_overrides or {})
    model.quality = _quality(sample, kmeans, settings)
    return model


def _sample_rows(rng: np.random.Generator, rows: int, size: int) -> np.ndarray:
    return np.sort(rng.choice(rows, size=size, replace=False)) if rows > size else np.arange(rows)


def _score_candidates(sample: np.ndarray, settings: ClusterSettings) -> dict[int, dict[str, float]]:
    rng = np.random.default_rng(settings.seed)
    scored = sample[_sample_rows(rng, len(sample), settings.criteria_sample)]
    candidates = {}
    for k in range(settings.k_min, min(settings.k_max, len(scored) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=settings.seed).fit_predict(scored)
        candidates[k] = {
            "silhouette": round(float(silhouette_score(scored, labels)), 6),
            "davies_bouldin": round(float(davies_bouldin_score(scored, labels)), 6),
            "calinski_harabasz": round(float(calinski_harabasz_score(scored, labels)), 3),
            "min_segment_share": round(float(np.bincount(labels).min() / len(labels)), 6),
            "eligible": float(np.bincount(labels).min() / len(labels) >= settings.min_segment_share),
        }
    return candidates


def choose_k(candidates: dict[int, dict[str, float]]) -> int:
    """The k with the best mean rank over silhouette (high), Davies-Bouldin (low) and Calinski-Harabasz (high),
    among candidates whose smallest segment holds at least the minimum share; ties go to the smaller k."""
    eligible = {k: scores for k, scores in candidates.items() if scores["eligible"]} or candidates
    table = pd.DataFrame(eligible).T
    ranks = (
        table["silhouette"].rank(ascending=False)
        + table["davies_bouldin"].rank(ascending=True)
        + table["calinski_harabasz"].rank(ascending=False)
    )
    return int(min(ranks.index, key=lambda k: (ranks[k], k)))


def _quality(sample: np.ndarray, kmeans: KMeans, settings: ClusterSettings) -> dict[str, float]:
    """Internal criteria of the fit and its stability: bootstrap refits compared with the adjusted Rand index."""
    rng = np.random.default_rng(settings.seed + 1)
    labels = kmeans.labels_
    stability = []
    for refit in range(settings.bootstrap_refits):
        rows = rng.choice(len(sample), size=len(sample), replace=True)
        bootstrap = KMeans(n_clusters=kmeans.n_clusters, n_init=4, random_state=settings.seed + refit).fit(sample[rows])
        stability.append(adjusted_rand_score(labels, bootstrap.predict(sample)))
    criteria = sample[_sample_rows(rng, len(sample), settings.criteria_sample)]
    criteria_labels = kmeans.predict(criteria)
    return {
        "silhouette": round(float(silhouette_score(criteria, criteria_labels)), 6),
        "davies_bouldin": round(float(davies_bouldin_score(criteria, criteria_labels)), 6),
        "calinski_harabasz": round(float(calinski_harabasz_score(criteria, criteria_labels)), 3),
        "bootstrap_ari_mean": round(float(np.mean(stability)), 6) if stability else float("nan"),
        "bootstrap_ari_min": round(float(np.min(stability)), 6) if stability else float("nan"),
        "fit_rows": int(len(sample)),
    }


def _stable_ids(model: SegmentModel, previous: SegmentModel | None) -> tuple[list[int], dict]:
    """Match the new segments to the previous model's by optimal assignment on centroid distance: a match within
    `match_distance` keeps its id; other segments get ids never used before (largest segment first). Without a
    previous model, or when the model inputs changed, ids number the segments by size after the known ids."""
    sizes = np.bincount(model.kmeans.labels_, minlength=model.k)
    centroids = model.kmeans.cluster_centers_
    by_size = sorted(range(model.k), key=lambda label: (-sizes[label], tuple(centroids[label].round(9))))
    known = set(previous.lineage["known_ids"]) if previous else set()
    ids: dict[int, int] = {}
    lineage: dict[str, object] = {"previous_version": previous.version if previous else None, "matched": {}}
    if previous is not None and set(previous.columns) == set(model.columns):
        previous_centroids = model.preprocess["scale"].transform(previous.raw_centroids()[model.columns].to_numpy())
        distances = np.linalg.norm(centroids[:, None, :] - previous_centroids[None, :, :], axis=2)
        for label, old_label in zip(*linear_sum_assignment(distances), strict=True):
            if distances[label, old_label] <= model.settings.match_distance:
                ids[label] = previous.segment_ids[old_label]
                lineage["matched"][str(ids[label])] = round(float(distances[label, old_label]), 4)
    next_id = max(known, default=0) + 1
    lineage["new"] = []
    for label in by_size:
        if label not in ids:
            ids[label] = next_id
            lineage["new"].append(next_id)
            next_id += 1
    lineage["vanished"] = sorted(set(previous.segment_ids) - set(ids.values())) if previous else []
    lineage["known_ids"] = sorted(known | set(ids.values()))
    return [ids[label] for label in range(model.k)], lineage


def _names_and_descriptions(model: SegmentModel, features: pd.DataFrame, overrides: dict[int, str]):
    """Name each segment after its strongest traits against the population, extended until it is unique; a
    marketer's override wins (ids are stable, so overrides survive refits)."""
    z_scores = pd.DataFrame(model.kmeans.cluster_centers_, columns=model.columns, index=model.segment_ids)
    phrases = {column: _phrases(column, model.settings) for column in model.columns}
    ranked_traits = {segment_id: _traits(row, phrases) for segment_id, row in z_scores.iterrows()}
    names: dict[int, str] = {
        segment_id: overrides[segment_id] for segment_id in model.segment_ids if segment_id in overrides
    }
    for segment_id in sorted(set(model.segment_ids) - set(names)):
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


def segment_profiles(features: pd.DataFrame, assignments: pd.DataFrame, model: SegmentModel) -> pd.DataFrame:
    """One row per segment of a snapshot: size, value, RFM, dominant traits and NPS mix, next to its description."""
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
    profiles.insert(1, "segment_name", profiles["segment_id"].map(model.names).astype("str"))
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
    answered = values.dropna()
    return float((answered == category).mean()) if len(answered) else None
