"""How many segments, and how good the fit is: internal criteria and subsample stability over a range of k, and
bootstrap stability of the final fit.

Criteria are computed on seeded samples so that the choice is reproducible and affordable on large populations."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, calinski_harabasz_score, davies_bouldin_score, silhouette_score
from threadpoolctl import threadpool_limits

from segmentation_pipeline.core.segment.settings import ClusterSettings


def sample_rows(rng: np.random.Generator, rows: int, size: int) -> np.ndarray:
    """Sorted positions of a seeded sample of `size` rows, or every row when there are no more than that."""
    return np.sort(rng.choice(rows, size=size, replace=False)) if rows > size else np.arange(rows)


def score_candidates(
    sample: np.ndarray, settings: ClusterSettings
) -> tuple[dict[int, dict[str, float]], dict[int, np.ndarray]]:
    """The criteria and the stability of a k-means fit for every k in the configured range, whether it is eligible
    (stable enough, smallest segment big enough), and its centroids (the final fit starts from the chosen k's).

    Stability is what holds across samples: the candidate is refitted on seeded 80% subsamples of the criteria sample
    and compared with itself on the shared rows by the adjusted Rand index. Many small fits run faster on one thread
    each, one candidate per core, than each spread over the cores: k-means and the criteria release the GIL.
    Every fit has its own seed, so the result does not depend on which thread ran it."""
    if settings.stability_refits < 1:
        raise ValueError("choosing k needs stability_refits of at least 1 (or set fixed_k)")
    rng = np.random.default_rng(settings.seed)
    scored = sample[sample_rows(rng, len(sample), settings.criteria_sample)]
    subsamples = [sample_rows(rng, len(scored), int(0.8 * len(scored))) for _ in range(settings.stability_refits)]
    ks = range(settings.k_min, min(settings.k_max, len(scored) - 1) + 1)
    score = partial(_score_candidate, scored, subsamples, settings)
    with threadpool_limits(1), ThreadPoolExecutor(os.cpu_count()) as pool:
        scored_ks = dict(zip(ks[::-1], pool.map(score, ks[::-1]), strict=True))  # the slowest fits first
    candidates = {k: scored_ks[k][0] for k in ks}
    centroids = {k: scored_ks[k][1] for k in ks}
    return candidates, centroids


def _score_candidate(
    scored: np.ndarray, subsamples: list[np.ndarray], settings: ClusterSettings, k: int
) -> tuple[dict[str, float], np.ndarray]:
    """One candidate k's criteria, stability and eligibility, and its centroids. OpenMP's thread count is a setting
    of the calling thread: each fit runs on one, as the same fit alone would (the same floating-point sums)."""
    with threadpool_limits(1, user_api="openmp"):
        kmeans = KMeans(n_clusters=k, n_init=settings.restarts, random_state=settings.seed).fit(scored)
        labels = kmeans.labels_
        stability = np.mean(
            [
                adjusted_rand_score(
                    labels[rows],
                    KMeans(n_clusters=k, n_init=settings.restarts, random_state=settings.seed + refit + 1)
                    .fit(scored[rows])
                    .labels_,
                )
                for refit, rows in enumerate(subsamples)
            ]
        )
    smallest_share = np.bincount(labels, minlength=k).min() / len(labels)
    scores = {
        **_criteria(scored, labels),
        "stability": round(float(stability), 6),
        "min_segment_share": round(float(smallest_share), 6),
        "eligible": float(smallest_share >= settings.min_segment_share and stability >= settings.min_stability),
    }
    return scores, kmeans.cluster_centers_


def choose_k(candidates: dict[int, dict[str, float]]) -> int:
    """The eligible k (stable, no tiny segment) with the best silhouette; if none is eligible, the most stable k.
    Ties go to the smaller k."""
    eligible = [k for k, scores in candidates.items() if scores["eligible"]]
    if eligible:
        return min(eligible, key=lambda k: (-candidates[k]["silhouette"], k))
    return min(candidates, key=lambda k: (-candidates[k]["stability"], k))


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
