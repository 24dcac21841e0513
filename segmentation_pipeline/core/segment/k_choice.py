"""How many segments, and how good the fit is: internal criteria over a range of k, and bootstrap stability.

Criteria are computed on seeded samples so that the choice is reproducible and affordable on large populations."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score

from segmentation_pipeline.core.segment.settings import ClusterSettings


def sample_rows(rng: np.random.Generator, rows: int, size: int) -> np.ndarray:
    """Sorted positions of a seeded sample of `size` rows, or every row when there are no more than that."""
    return np.sort(rng.choice(rows, size=size, replace=False)) if rows > size else np.arange(rows)


def score_candidates(sample: np.ndarray, settings: ClusterSettings) -> dict[int, dict[str, float]]:
    """The criteria of a k-means fit for every k in the configured range, and whether its smallest segment is big
    enough to be eligible."""
    rng = np.random.default_rng(settings.seed)
    scored = sample[sample_rows(rng, len(sample), settings.criteria_sample)]
    candidates = {}
    for k in range(settings.k_min, min(settings.k_max, len(scored) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=settings.seed).fit_predict(scored)
        smallest_share = np.bincount(labels).min() / len(labels)
        candidates[k] = {
            **_criteria(scored, labels),
            "min_segment_share": round(float(smallest_share), 6),
            "eligible": float(smallest_share >= settings.min_segment_share),
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


def fit_quality(sample: np.ndarray, kmeans: KMeans, settings: ClusterSettings) -> dict[str, float]:
    """Internal criteria of the fit and its stability: bootstrap refits compared with the adjusted Rand index."""
    rng = np.random.default_rng(settings.seed + 1)
    labels = kmeans.labels_
    stability = []
    for refit in range(settings.bootstrap_refits):
        rows = rng.choice(len(sample), size=len(sample), replace=True)
        bootstrap = KMeans(n_clusters=kmeans.n_clusters, n_init=4, random_state=settings.seed + refit).fit(sample[rows])
        stability.append(adjusted_rand_score(labels, bootstrap.predict(sample)))
    criteria = sample[sample_rows(rng, len(sample), settings.criteria_sample)]
    return {
        **_criteria(criteria, kmeans.predict(criteria)),
        "bootstrap_ari_mean": round(float(np.mean(stability)), 6) if stability else float("nan"),
        "bootstrap_ari_min": round(float(np.min(stability)), 6) if stability else float("nan"),
        "fit_rows": int(len(sample)),
    }


def _criteria(points: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Silhouette, Davies-Bouldin and Calinski-Harabasz, rounded as the model card shows them."""
    return {
        "silhouette": round(float(silhouette_score(points, labels)), 6),
        "davies_bouldin": round(float(davies_bouldin_score(points, labels)), 6),
        "calinski_harabasz": round(float(calinski_harabasz_score(points, labels)), 3),
    }
