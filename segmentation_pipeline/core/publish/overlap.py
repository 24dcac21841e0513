"""Customers shared by every ordered pair of segments across the three families (behavioural, RFM, rule/manual),
from one sparse customer x segment membership matrix M: M.T @ M holds every pair's shared customers at once."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse

from segmentation_pipeline.core.publish.memberships import SEGMENT_FAMILIES, family_members
from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS

PAIR_KEYS = ["segment_type_a", "segment_a", "segment_type_b", "segment_b"]


def segment_overlap(customers: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    """One row per ordered pair (a, b) of distinct segments with at least one customer, same family included (so
    the matrix is complete; behavioural and RFM segments never share customers with their own family).
    `customers`: segment_name, rfm_segment and rule_segments (the list of rule and manual segments), one row each."""
    return overlap_from_counts(shared_counts(customers), snapshot_date)


def shared_counts(customers: pd.DataFrame) -> pd.DataFrame:
    """Customers shared by each pair of segments (`PAIR_KEYS`, `shared_customers`), a segment with itself (its size)
    included, non-zero pairs only. They add up: the counts of batches of customers, summed per pair, are those of
    all of them (Spark's way)."""
    rows, cols, segments = [], [], []
    for members in family_members(customers):
        rows.append(members.rows)
        cols.append(members.codes + len(segments))
        segments.extend((members.family, name) for name in members.names)
    matrix = sparse.csr_matrix(
        (np.ones(sum(map(len, rows)), dtype=np.int64), (np.concatenate(rows), np.concatenate(cols))),
        shape=(len(customers), len(segments)),
    )
    shared = (matrix.T @ matrix).tocoo()
    a, b = shared.row, shared.col
    return pd.DataFrame(
        {
            "segment_type_a": [segments[i][0] for i in a],
            "segment_a": [segments[i][1] for i in a],
            "segment_type_b": [segments[j][0] for j in b],
            "segment_b": [segments[j][1] for j in b],
            "shared_customers": shared.data.astype(np.int64),
        }
    )


def overlap_from_counts(counts: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    """`segment_overlap` from `shared_counts` (of all customers, or summed over batches of them): the segments in
    family order (`SEGMENT_FAMILIES`), then by name."""
    sizes = counts[
        (counts["segment_type_a"] == counts["segment_type_b"]) & (counts["segment_a"] == counts["segment_b"])
    ]
    family_order = list(SEGMENT_FAMILIES)
    segments = sorted(
        zip(sizes["segment_type_a"], sizes["segment_a"], strict=True),
        key=lambda segment: (family_order.index(segment[0]), segment[1]),
    )
    position = {segment: i for i, segment in enumerate(segments)}
    shared = np.zeros((len(segments), len(segments)), dtype=np.int64)
    shared[
        [position[segment] for segment in zip(counts["segment_type_a"], counts["segment_a"], strict=True)],
        [position[segment] for segment in zip(counts["segment_type_b"], counts["segment_b"], strict=True)],
    ] = counts["shared_customers"].to_numpy()
    sizes = np.diag(shared)
    a, b = np.nonzero(~np.eye(len(segments), dtype=bool))
    table = pd.DataFrame(
        {
            "snapshot_date": snapshot_date,
            "segment_type_a": [segments[i][0] for i in a],
            "segment_a": [segments[i][1] for i in a],
            "segment_type_b": [segments[j][0] for j in b],
            "segment_b": [segments[j][1] for j in b],
            "customers_a": sizes[a],
            "customers_b": sizes[b],
            "shared_customers": shared[a, b],
        }
    )
    table["share_of_a"] = table["shared_customers"] / table["customers_a"]
    table["share_of_b"] = table["shared_customers"] / table["customers_b"]
    return table[PUBLISHED_SCHEMAS["segment_overlap"].names]
