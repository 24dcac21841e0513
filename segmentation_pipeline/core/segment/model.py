"""Behavioural segments: a k-means model fitted on standardised per-customer features, with segment ids that keep
their meaning from one refit to the next, and names and descriptions generated from what sets each segment apart.

A model is fitted quarterly (`fit_model`) and scores every customer of every nightly snapshot (`SegmentModel.assign`).
`SegmentModel` stays in this module: saved models pickle its module path.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline

from segmentation_pipeline.core.segment.k_choice import choose_k, fit_quality, sample_rows, score_candidates
from segmentation_pipeline.core.segment.naming import names_and_descriptions
from segmentation_pipeline.core.segment.preprocessing import check_features, model_inputs, preprocessing

# Models saved before the split pickled their settings as this module's ClusterSettings: the import keeps them loading.
from segmentation_pipeline.core.segment.settings import ClusterSettings
from segmentation_pipeline.core.segment.stable_ids import stable_ids

DEFAULT_SETTINGS = ClusterSettings()


@dataclass
class SegmentModel:
    """Everything needed to score a snapshot exactly as at fit time, and to explain the segments."""

    settings: ClusterSettings
    preprocess: Pipeline  # encode (log1p, pass-through, one-hot) then standard scaling, fitted on the population
    kmeans: KMeans
    segment_ids: list[int]  # stable segment id of each k-means label
    names: dict[int, str]  # generated at fit time (the card's); the marketers' names are laid over them when scoring
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

    def assign(self, features: pd.DataFrame, names: dict[int, str] | None = None) -> pd.DataFrame:
        """Each customer's segment id and name: `names` (the published names, see `name_overrides.py`) or else the
        model's own."""
        segment_ids = self.segment_of(features)
        names = self.names if names is None else names
        return pd.DataFrame(
            {
                "customer_id": features["customer_id"].to_numpy(),
                "segment_id": segment_ids.astype("int64"),
                "segment_name": pd.Series(segment_ids).map(names).astype("str").to_numpy(),
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


def fit_model(
    features: pd.DataFrame,
    training_snapshot: str,
    settings: ClusterSettings = DEFAULT_SETTINGS,
    previous: SegmentModel | None = None,
) -> SegmentModel:
    """Fit on (a seeded sample of) the snapshot, choose k, keep the previous model's ids where segments match.

    The chosen candidate's centroids (from the criteria sample) start the final fit, which only refines them on the
    fit sample: no second random-restart search."""
    check_features(features, settings)
    if len(features) < settings.k_min + 1:
        raise ValueError(f"cannot segment {len(features)} customers into at least {settings.k_min} segments")
    inputs = model_inputs(features, settings)
    preprocess = preprocessing(settings).fit(inputs)
    rng = np.random.default_rng(settings.seed)
    sample = preprocess.transform(inputs.iloc[sample_rows(rng, len(inputs), settings.fit_sample)])
    if settings.fixed_k:
        candidates = {}
        kmeans = KMeans(n_clusters=settings.fixed_k, n_init=settings.restarts, random_state=settings.seed)
    else:
        candidates, centroids = score_candidates(sample, settings)
        k = choose_k(candidates)
        kmeans = KMeans(n_clusters=k, init=centroids[k], n_init=1, random_state=settings.seed)
    kmeans.fit(sample)
    model = SegmentModel(settings, preprocess, kmeans, [], {}, {}, training_snapshot, candidates)
    model.segment_ids, model.lineage = stable_ids(model, previous)
    model.names, model.descriptions = names_and_descriptions(model, features)
    model.quality = fit_quality(sample, kmeans, settings)
    return model
