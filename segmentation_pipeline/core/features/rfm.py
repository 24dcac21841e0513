"""RFM scores 1-5 (5 = best) with tie-safe cut points, and named segments from a complete R x F map.

Scoring rule (README documents it for analysts): customers with equal values always get the same score, so scores
come from cutting the sorted *distinct* values of a metric into groups. With at least five distinct values the four
cuts are the ones whose cumulative customer shares come closest (least total absolute distance) to 20/40/60/80%,
under the constraint that every score 1-5 is used. With fewer distinct values each value is its own group and the
groups are spread over 1-5 as evenly as possible (lowest 1, highest 5); a single value scores 3 for everyone.
Row order never matters: only values and their counts do.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from itertools import product
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from segmentation_pipeline.core.features.settings import RfmSettings
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import has_snapshot_table, read_snapshot_table, write_snapshot_table

if TYPE_CHECKING:
    from numpy.typing import ArrayLike
    from pyspark.sql import SparkSession

SCORES = (1, 2, 3, 4, 5)
TARGET_SHARES = np.array([0.2, 0.4, 0.6, 0.8])
NO_PURCHASES = "no purchases"


@dataclass(frozen=True)
class Metric:
    score_column: str
    value_column: str
    higher_is_better: bool


METRICS = (
    Metric("r_score", "recency_days", higher_is_better=False),
    Metric("f_score", "frequency", higher_is_better=True),
    Metric("m_score", "monetary", higher_is_better=True),
)

# The 10-segment partition of the R x F grid (shared notes); every cell belongs to exactly one segment. A block
# names the R, F and (optionally) M scores it covers; a block without "m" covers every M score.
SegmentMap = dict[str, list[dict[str, list[int]]]]
DEFAULT_SEGMENT_MAP: SegmentMap = {
    "hibernating": [{"r": [1, 2], "f": [1, 2]}],
    "at risk": [{"r": [1, 2], "f": [3, 4]}],
    "can't lose them": [{"r": [1, 2], "f": [5]}],
    "about to sleep": [{"r": [3], "f": [1, 2]}],
    "need attention": [{"r": [3], "f": [3]}],
    "loyal customers": [{"r": [3, 4], "f": [4, 5]}],
    "promising": [{"r": [4], "f": [1]}],
    "new customers": [{"r": [5], "f": [1]}],
    "potential loyalists": [{"r": [4, 5], "f": [2, 3]}],
    "champions": [{"r": [5], "f": [4, 5]}],
}


@dataclass(frozen=True)
class CutPoints:
    """Thresholds in "goodness" space (values negated when lower is better) and the score of each group."""

    metric: Metric
    thresholds: np.ndarray
    group_scores: np.ndarray

    def score(self, values: pd.Series) -> pd.Series:
        goodness = _goodness(values.to_numpy(dtype="float64"), self.metric)
        groups = np.searchsorted(self.thresholds, goodness, side="left")
        return pd.Series(self.group_scores[groups], index=values.index, dtype="Int64")


def cut_points_from_table(table: pd.DataFrame) -> list[CutPoints]:
    """Rebuild the cut points published in an `rfm_cut_points` table, to score another snapshot with them."""
    cut_points = []
    for metric in METRICS:
        rows = table[table["metric"] == metric.value_column].sort_values("score")
        if rows.empty:
            raise ValueError(f"rfm_cut_points has no rows for {metric.value_column}")
        # the upper end of each group in goodness space: the largest value, or the smallest when lower is better
        ends = rows["max_value"] if metric.higher_is_better else -rows["min_value"]
        cut_points.append(CutPoints(metric, ends.to_numpy(dtype="float64")[:-1], rows["score"].to_numpy()))
    return cut_points


def value_counts(values: pd.Series) -> pd.DataFrame:
    """A metric's distinct values (as floats, null included) and how many customers have each: all that fitting cut
    points and describing them needs, and what the Spark engine aggregates instead of collecting the values."""
    counts = pd.Series(pd.to_numeric(values).to_numpy(dtype="float64", na_value=np.nan)).value_counts(dropna=False)
    return value_counts_frame(counts.index, counts)


def value_counts_frame(values: ArrayLike, customers: ArrayLike) -> pd.DataFrame:
    """The `value_counts` frame of distinct values and their customer counts, however they were counted."""
    return pd.DataFrame(
        {"value": np.asarray(values, dtype="float64"), "customers": np.asarray(customers, dtype="int64")}
    )


def fit_cut_points(values: pd.Series, metric: Metric) -> CutPoints:
    """Cut points for one metric on a population's values (see the module docstring for the rule)."""
    return fit_cut_points_from_counts(value_counts(values), metric)


def fit_cut_points_from_counts(counts: pd.DataFrame, metric: Metric) -> CutPoints:
    """`fit_cut_points` from the population's `value_counts`."""
    known = counts[counts["value"].notna()]
    goodness = _goodness(known["value"].to_numpy(dtype="float64"), metric)
    order = np.argsort(goodness, kind="stable")
    distinct, counts = goodness[order], known["customers"].to_numpy(dtype="int64")[order]
    if len(distinct) == 0:
        return CutPoints(metric, np.array([]), np.array([3]))
    if len(distinct) < len(SCORES):
        spread = 1 + np.floor(np.arange(len(distinct)) * 4 / max(len(distinct) - 1, 1) + 0.5).astype(int)
        scores = spread if len(distinct) > 1 else np.array([3])
        return CutPoints(metric, distinct[:-1], scores)
    cumulative_shares = np.cumsum(counts)[:-1] / counts.sum()
    cuts = _closest_increasing_cuts(cumulative_shares)
    return CutPoints(metric, distinct[cuts], np.array(SCORES))


def _closest_increasing_cuts(cumulative_shares: np.ndarray) -> np.ndarray:
    """Indices i1 < i2 < i3 < i4 minimising sum |share[i_k] - target_k|, by dynamic programming (ties: earliest)."""
    positions = np.arange(len(cumulative_shares))
    cost = np.abs(cumulative_shares - TARGET_SHARES[0])
    back_pointers = []
    for target in TARGET_SHARES[1:]:
        best_so_far = np.minimum.accumulate(cost)
        improves = np.concatenate([[True], cost[1:] < best_so_far[:-1]])
        best_index = np.maximum.accumulate(np.where(improves, positions, 0))
        new_cost = np.full(len(cost), np.inf)
        new_cost[1:] = np.abs(cumulative_shares[1:] - target) + best_so_far[:-1]
        back_pointers.append(np.concatenate([[-1], best_index[:-1]]))
        cost = new_cost
    cuts = [int(np.argmin(cost))]
    for pointers in reversed(back_pointers):
        cuts.append(int(pointers[cuts[-1]]))
    return np.array(cuts[::-1])


def _goodness(values: np.ndarray, metric: Metric) -> np.ndarray:
    return values if metric.higher_is_better else -values


def cut_points_table(cut_points: list[CutPoints], features: pd.DataFrame) -> pd.DataFrame:
    """One row per metric and score: the inclusive range of raw values that earns it, and how many customers did."""
    return cut_points_table_from_counts(
        cut_points, {cuts.metric.value_column: value_counts(features[cuts.metric.value_column]) for cuts in cut_points}
    )


def cut_points_table_from_counts(cut_points: list[CutPoints], counts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """`cut_points_table` from each metric's `value_counts` (by value column) of the same customers."""
    rows = []
    for cuts in cut_points:
        values = counts[cuts.metric.value_column]
        scores = cuts.score(values["value"])
        for score in sorted(set(cuts.group_scores.tolist())):
            members = values[(scores == score).to_numpy()]
            rows.append(
                {
                    "metric": cuts.metric.value_column,
                    "score": score,
                    "min_value": float(members["value"].min()) if len(members) else None,
                    "max_value": float(members["value"].max()) if len(members) else None,
                    "customers": int(members["customers"].sum()),
                }
            )
    return pd.DataFrame(rows, columns=["metric", "score", "min_value", "max_value", "customers"])


def load_segment_map(path: Path) -> SegmentMap:
    """A segment map from a JSON file shaped like DEFAULT_SEGMENT_MAP; validated by `segment_grid`."""
    try:
        segment_map = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ValueError(f"RFM segment map {path}: cannot be read as JSON ({error})") from None
    segment_grid(segment_map)
    return segment_map


def segment_grid(segment_map: SegmentMap) -> dict[tuple[int, int, int], str]:
    """(r, f, m) -> segment name; raises if the map leaves a cell unnamed or names one cell twice."""
    grid: dict[tuple[int, int, int], list[str]] = {cell: [] for cell in product(SCORES, SCORES, SCORES)}
    for name, blocks in segment_map.items():
        for block in blocks:
            unknown = set(block) - {"r", "f", "m"}
            if unknown or not {"r", "f"} <= set(block):
                raise ValueError(
                    f"RFM segment map: segment {name!r} has a block {block}; use keys r, f and optionally m"
                )
            for cell in product(block["r"], block["f"], block.get("m", SCORES)):
                if cell not in grid:
                    raise ValueError(
                        f"RFM segment map: segment {name!r} names R={cell[0]} F={cell[1]} M={cell[2]}, outside 1-5"
                    )
                grid[cell].append(name)
    unnamed = [cell for cell, names in grid.items() if not names]
    overlapping = {cell: names for cell, names in grid.items() if len(names) > 1}
    if unnamed or overlapping:
        raise ValueError(
            "RFM segment map must name every R x F x M cell exactly once; "
            f"unnamed cells (R, F, M): {unnamed[:10]}{' ...' if len(unnamed) > 10 else ''}; "
            f"cells named twice: {dict(list(overlapping.items())[:10])}"
        )
    return {cell: names[0] for cell, names in grid.items()}


def score_customers(
    features: pd.DataFrame, segment_map: SegmentMap = DEFAULT_SEGMENT_MAP, cut_points: list[CutPoints] | None = None
) -> tuple[pd.DataFrame, list[CutPoints]]:
    """R, F, M scores and segment for customers with a completed order; the rest get `no purchases` and no score.

    Cut points are fitted on this population unless given (frozen from a reference snapshot)."""
    grid = segment_grid(segment_map)
    buyers = features["has_orders"].astype(bool)
    if cut_points is None:
        cut_points = [fit_cut_points(features.loc[buyers, metric.value_column], metric) for metric in METRICS]
    scored = pd.DataFrame({"customer_id": features["customer_id"]})
    for cuts in cut_points:
        scored[cuts.metric.score_column] = cuts.score(features[cuts.metric.value_column]).where(buyers, pd.NA)
    cells = zip(scored["r_score"], scored["f_score"], scored["m_score"], strict=True)
    scored["rfm_segment"] = pd.Series(
        [NO_PURCHASES if pd.isna(r) else grid[(int(r), int(f), int(m))] for r, f, m in cells],
        index=scored.index,
        dtype="str",
    )
    return scored, cut_points


def segment_map_of(settings: RfmSettings) -> SegmentMap:
    """The configured segment map file, else the built-in map."""
    return load_segment_map(Path(settings.segment_map_file)) if settings.segment_map_file else DEFAULT_SEGMENT_MAP


def frozen_cut_points(layout: DataLayout, settings: RfmSettings) -> tuple[list[CutPoints] | None, date | None]:
    """The cut points of the reference snapshot named by `freeze_cut_points_from` and its date; (None, None) when
    every snapshot fits its own."""
    if not settings.freeze_cut_points_from:
        return None, None
    fitted_on = date.fromisoformat(settings.freeze_cut_points_from)
    if not has_snapshot_table(layout, "rfm_cut_points", fitted_on):
        raise FileNotFoundError(
            f"freeze_cut_points_from={fitted_on}: no cut points of that snapshot; build that snapshot first"
        )
    return cut_points_from_table(read_snapshot_table(layout, "rfm_cut_points", fitted_on)), fitted_on


@dataclass(frozen=True)
class RfmSnapshot:
    """What scoring a snapshot gives besides `rfm_scores`: its cut points table and counts, for the asset's metadata."""

    cut_points_table: pd.DataFrame
    customers: int
    buyers: int
    segment_counts: pd.Series
    """Customers per RFM segment, by segment name."""


def score_snapshot(
    layout: DataLayout,
    day: date,
    segment_map: SegmentMap,
    frozen: tuple[list[CutPoints] | None, date | None],
    spark: SparkSession | None = None,
) -> RfmSnapshot:
    """Score the snapshot's customers (on Spark if a session is given) and write `rfm_scores` and `rfm_cut_points`
    (`frozen`: the cut points and their snapshot from `frozen_cut_points`)."""
    cut_points, fitted_on = frozen
    if spark is not None:
        from segmentation_pipeline.core.engines.spark_scoring import score_rfm

        snapshot = score_rfm(spark, layout, day, segment_map, cut_points)
    else:
        features = read_snapshot_table(layout, "customer_features", day)
        scores, cut_points = score_customers(features, segment_map, cut_points)
        write_snapshot_table(layout, "rfm_scores", day, scores)
        buyers = features[features["has_orders"]]
        snapshot = RfmSnapshot(
            cut_points_table(cut_points, buyers), len(scores), len(buyers), scores["rfm_segment"].value_counts()
        )
    table = snapshot.cut_points_table.assign(fitted_on=fitted_on or day, snapshot_date=day)
    write_snapshot_table(layout, "rfm_cut_points", day, table)
    return snapshot
