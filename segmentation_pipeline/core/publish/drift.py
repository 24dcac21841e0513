"""How far a snapshot drifts from the previous one, and whether that or the model's fit quality breaks the limits.

Drift is measured with the population stability index (PSI) of each column, previous snapshot = expected. The
usual reading: PSI below 0.1 is stable, 0.1-0.25 a moderate shift worth a look, above 0.25 (the default `max_psi`) a
major shift.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from segmentation_pipeline.core.publish.memberships import SEGMENT_COLUMNS
from segmentation_pipeline.core.publish.settings import PublishSettings

PSI_EPSILON = 1e-4
"""Share used for an empty bin (on either side) so ln(actual / expected) stays finite; a bin empty on both sides
then adds exactly 0."""


CHANGED_COLUMNS = ("rfm_segment", "segment_id")
"""The columns whose changes among returning customers `changed_segment_share` measures."""


def changed_segment_share(previous: pd.DataFrame | None, current: pd.DataFrame, column: str) -> float | None:
    """Among customers in both snapshots, the share whose `column` changed (null to null is no change); None when
    no customer is in both."""
    if previous is None:
        return None
    both = previous[["customer_id", column]].merge(
        current[["customer_id", column]], on="customer_id", suffixes=("_before", "_now"), validate="one_to_one"
    )
    if both.empty:
        return None
    before, now = both[f"{column}_before"], both[f"{column}_now"]
    same = (before == now).fillna(False).astype(bool) | (before.isna() & now.isna())
    return float((~same).mean())


def psi_bin_edges(expected: pd.Series, bins: int = 10) -> np.ndarray:
    """Inner bin edges: the 1/bins ... (bins-1)/bins quantiles of the expected values (numpy's default linear
    interpolation), deduplicated, so heavily tied data gets fewer bins. Bin i is (edge[i-1], edge[i]]; the outer
    bins are open-ended so actual values outside the expected range still land in a bin."""
    values = _numbers(expected).dropna().to_numpy()
    if len(values) == 0:
        return np.array([])
    return np.unique(np.quantile(values, np.arange(1, bins) / bins))


def quantile_positions(n: int, bins: int = 10) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For n > 0 values, where `psi_bin_edges`' quantiles fall: the 0-based positions (in ascending order) of the two
    values around each and the weight of the upper one, in numpy's own arithmetic (`np.quantile`, linear)."""
    virtual = (n - 1) * (np.arange(1, bins) / bins)
    lower = np.floor(virtual)
    gamma = virtual - lower
    return lower.astype("int64"), np.minimum(lower + 1, n - 1).astype("int64"), gamma


def edges_from_order_statistics(lower: np.ndarray, upper: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """`psi_bin_edges` from the values at `quantile_positions` (an engine that cannot sort every value finds them):
    numpy's linear interpolation, step for step, so the edges are the same floats."""
    difference = upper - lower
    return np.unique(np.where(gamma >= 0.5, upper - difference * (1 - gamma), lower + difference * gamma))


def population_stability_index(expected: pd.Series, actual: pd.Series, bins: int = 10) -> float:
    """PSI = sum((a - e) * ln(a / e)) over the bins of `psi_bin_edges` plus one bin for nulls, with e and a the
    shares of the expected and actual values in each bin (an empty bin counts as PSI_EPSILON)."""
    edges = psi_bin_edges(expected, bins)
    return psi_from_counts(binned_counts(expected, edges), binned_counts(actual, edges))


def binned_counts(series: pd.Series, edges: np.ndarray) -> np.ndarray:
    """Values per bin of `edges` (bin i: edge[i-1] < value <= edge[i]), then the nulls."""
    values = _numbers(series)
    counts = np.bincount(np.searchsorted(edges, values.dropna().to_numpy(), side="left"), minlength=len(edges) + 1)
    return np.append(counts, values.isna().sum())


def categorical_psi(expected: pd.Series, actual: pd.Series) -> float:
    """PSI over the union of the levels of both sides, null being a level of its own."""
    return categorical_psi_from_counts(level_counts(expected), level_counts(actual))


def level_counts(series: pd.Series) -> dict:
    """Rows per level of `series`, nulls under None."""
    return series.value_counts().to_dict() | {None: int(series.isna().sum())}


def categorical_psi_from_counts(expected: dict, actual: dict) -> float:
    """`categorical_psi` from each side's `level_counts`."""
    levels = sorted((set(expected) | set(actual)) - {None}, key=str)
    return psi_from_counts(
        *(np.array([counts.get(level, 0) for level in [*levels, None]], dtype="int64") for counts in (expected, actual))
    )


def psi_from_counts(expected: np.ndarray, actual: np.ndarray) -> float:
    """PSI of the bins (or levels) counted on each side."""
    return _psi(_shares(expected), _shares(actual))


def segment_share_change(previous: pd.DataFrame, current: pd.DataFrame, column: str) -> dict[str, float]:
    """Current minus previous share of each segment in `column`, in percentage points, for every segment in either
    snapshot (sorted by segment)."""
    return share_change_from_counts(
        previous[column].value_counts(), len(previous), current[column].value_counts(), len(current)
    )


def share_change_from_counts(before: pd.Series, before_rows: int, now: pd.Series, now_rows: int) -> dict[str, float]:
    """`segment_share_change` from the customers per segment (nulls left out) and the customers of each snapshot."""
    change = (now / now_rows).sub(before / before_rows, fill_value=0.0).sort_index() * 100
    return {str(segment): float(points) for segment, points in change.items()}


def snapshot_drift(
    previous: pd.DataFrame | None,
    current: pd.DataFrame,
    numeric_columns: tuple[str, ...] = ("recency_days", "frequency", "monetary"),
    categorical_columns: tuple[str, ...] = ("rfm_segment", "segment_name", "lifecycle_stage"),
    bins: int = 10,
) -> dict:
    """Drift of `current` against `previous`: {"psi": {column: PSI}, "segment_share_change_pp": {"rfm": {...},
    "behavioural": {...}}, "changed_segment_share": {"rfm_segment": ..., "segment_id": ...}}. Without a previous
    snapshot (or with an empty side) there is nothing to compare: every value is None."""
    if previous is None or previous.empty or current.empty:
        return no_drift((*numeric_columns, *categorical_columns))
    psi = {column: population_stability_index(previous[column], current[column], bins) for column in numeric_columns}
    psi |= {column: categorical_psi(previous[column], current[column]) for column in categorical_columns}
    return {
        "psi": psi,
        "segment_share_change_pp": {
            segment_type: segment_share_change(previous, current, column)
            for segment_type, column in SEGMENT_COLUMNS.items()
        },
        "changed_segment_share": {
            column: changed_segment_share(previous, current, column) for column in CHANGED_COLUMNS
        },
    }


def no_drift(columns: tuple[str, ...]) -> dict:
    """`snapshot_drift` when there is nothing to compare."""
    return {
        "psi": dict.fromkeys(columns),
        "segment_share_change_pp": dict.fromkeys(SEGMENT_COLUMNS),
        "changed_segment_share": dict.fromkeys(CHANGED_COLUMNS),
    }


def _numbers(series: pd.Series) -> pd.Series:
    return pd.to_numeric(series).astype("float64")


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    if total == 0:
        raise ValueError("PSI needs at least one value on each side")
    return counts / total


def _psi(expected: np.ndarray, actual: np.ndarray) -> float:
    expected = np.where(expected == 0, PSI_EPSILON, expected)
    actual = np.where(actual == 0, PSI_EPSILON, actual)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def fit_quality_problems(quality: dict, limits: PublishSettings) -> list[str]:
    """The model card's fit-quality figures below their minimums; a figure the card lacks is not judged."""
    return [
        f"{metric} {quality.get(metric)} below {minimum}"
        for metric, minimum in (("silhouette", limits.min_silhouette), ("bootstrap_ari_mean", limits.min_bootstrap_ari))
        if quality.get(metric) is not None and quality[metric] < minimum
    ]


def drift_problems(drift: dict, limits: PublishSettings) -> dict[str, list[str]]:
    """Per check (distribution, segment sizes, segment churn), the findings beyond the limits of a
    `snapshot_drift` result; empty lists when within limits or when there was nothing to compare."""
    sizes = [
        f"{segment_type} '{segment}' {points:+.1f} pp"
        for segment_type, changes in drift["segment_share_change_pp"].items()
        for segment, points in (changes or {}).items()
        if abs(points) > limits.max_segment_share_change_pp
    ]
    return {
        "distribution_drift": [
            f"{column} PSI {value:.3f}" for column, value in drift["psi"].items() if value and value > limits.max_psi
        ],
        "segment_size_change": sizes,
        "segment_churn": [
            f"{column} changed for {share:.1%} of returning customers"
            for column, share in drift["changed_segment_share"].items()
            if share is not None and share > limits.max_changed_segment_share
        ],
    }


def check_problems(drift: dict, quality: dict, limits: PublishSettings) -> dict[str, list[str]]:
    """The findings of every drift and stability check: distribution, segment sizes, segment churn and the scoring
    model's fit quality (from its card)."""
    return drift_problems(drift, limits) | {"model_fit_quality": fit_quality_problems(quality, limits)}
