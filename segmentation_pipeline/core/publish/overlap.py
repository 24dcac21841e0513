"""Customers shared by every ordered pair of segments across the three families (behavioural, RFM, rule/manual),
from one sparse customer x segment membership matrix M: M.T @ M holds every pair's shared customers at once."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse

from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS

FAMILIES = ("behavioural", "rfm", "rule")
"""Segment types, in the order the overlap lists them."""


def segment_overlap(customers: pd.DataFrame, memberships: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    """One row per ordered pair (a, b) of distinct segments with at least one customer, same family included (so
    the matrix is complete; behavioural and RFM segments never share customers with their own family).
    `customers`: customer_id, segment_name, rfm_segment; `memberships`: the rule and manual members (customer_id,
    segment), a segment given by both kinds counted once."""
    count = len(customers)
    # one factorization of both id columns (ids are unique in customers): customer i gets code i, unknown ids >= count
    both = pd.concat([customers["customer_id"], memberships["customer_id"]], ignore_index=True)
    owners_of_rules = pd.factorize(both)[0][count:]
    rows, cols, segments = [], [], []
    for family, owners, names in (
        ("behavioural", np.arange(count), customers["segment_name"]),
        ("rfm", np.arange(count), customers["rfm_segment"]),
        ("rule", owners_of_rules, memberships["segment"]),
    ):
        codes, labels = pd.factorize(pd.Series(names).astype("str"), sort=True)
        keep = (owners < count) & (codes >= 0)
        rows.append(owners[keep])
        cols.append(codes[keep] + len(segments))
        segments.extend((family, str(label)) for label in labels)
    matrix = sparse.csr_matrix(
        (np.ones(sum(map(len, rows)), dtype=np.int64), (np.concatenate(rows), np.concatenate(cols))),
        shape=(count, len(segments)),
    )
    matrix.data[:] = 1  # a customer listed twice in one segment (rule and manual) counts once
    shared = (matrix.T @ matrix).toarray()
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
