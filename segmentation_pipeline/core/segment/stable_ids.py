"""Segment ids that keep their meaning from one refit to the next, so that movement between segments, name
overrides and dashboards survive a quarterly refit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.optimize import linear_sum_assignment

if TYPE_CHECKING:
    from segmentation_pipeline.core.segment.model import SegmentModel


def stable_ids(model: SegmentModel, previous: SegmentModel | None) -> tuple[list[int], dict]:
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
