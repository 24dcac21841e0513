"""What a segmentation model is fitted on and how: the model inputs, the range of k, samples, and id matching.

Settings are part of every saved model and its card, so a refit can tell whether its inputs changed."""

from __future__ import annotations

from dataclasses import dataclass

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
    criteria_sample: int = 5_000
    """Each candidate k is fitted and scored (silhouette and the other criteria, stability) on a seeded sample of this
    size."""
    min_segment_share: float = 0.02
    restarts: int = 20
    """Seeded k-means starts of every candidate fit (the best of them is kept)."""
    stability_refits: int = 4
    """Refits of each candidate k on seeded 80% subsamples of the criteria sample; its stability is their mean
    adjusted Rand index against the candidate's labels on the shared rows (at least 1)."""
    min_stability: float = 0.95
    """k is chosen by silhouette among the candidates at least this stable (and with big enough segments)."""
    recency_cap_days: int = 730
    match_distance: float = 1.5
    """A new segment keeps a previous segment's id when their centroids are at most this far apart (in standard
    deviations of the features, Euclidean); further apart it is a new segment with a new id."""
    bootstrap_refits: int = 3
