"""Rule and manual segment memberships encoded for publishing: one list of segment names per customer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

SEGMENT_LIST_TYPE = pa.list_(pa.string())  # Parquet type of a column of membership_lists
SEGMENT_FAMILIES = {"behavioural": "segment_name", "rfm": "rfm_segment", "rule": "rule_segments"}
"""Segment type -> its column in `customer_segments` (`rule_segments` holds a list of rule and manual segments): the
families that audiences, uplift and overlap are reported for, in their order."""
SEGMENT_COLUMNS = {family: SEGMENT_FAMILIES[family] for family in ("rfm", "behavioural")}
"""The families of one segment per customer, RFM first: the segment types of `segment_kpis`, `segment_transitions`
and the snapshot drift."""
_MAX_BITMASK_SEGMENTS = 63  # segments that fit in the bits of one uint64


@dataclass(frozen=True)
class FamilyMembers:
    """The memberships of one segment family, one entry per (customer, segment), in the customers' row order."""

    family: str
    rows: np.ndarray
    """Row position of the customer in the frame."""
    codes: np.ndarray
    """Position of the segment in `names`."""
    names: list[str]
    """The family's segments with at least one customer, sorted."""


def family_members(customers: pd.DataFrame) -> list[FamilyMembers]:
    """The memberships of every family of `SEGMENT_FAMILIES` (in its order) in `customer_segments`-like rows, as
    integer arrays, so that audiences, uplift and overlap group a million customers without string keys."""
    count, families = len(customers), []
    for family, column in SEGMENT_FAMILIES.items():
        rows, names = np.arange(count), customers[column]
        if column == "rule_segments":
            lists = pa.array(customers[column], type=SEGMENT_LIST_TYPE)
            rows, names = np.repeat(rows, np.diff(lists.offsets.to_numpy())), lists.flatten().to_pandas()
        codes, labels = pd.factorize(pd.Series(names).astype("str"), sort=True)
        keep = codes >= 0
        families.append(FamilyMembers(family, rows[keep], codes[keep], [str(label) for label in labels]))
    return families


def membership_lists(long_table: pd.DataFrame, customer_ids: pd.Series) -> pd.Series:
    """Per customer, the sorted distinct segment names of `long_table` (an empty list when none), aligned with
    `customer_ids` (same order and index). Rows of customers not in `customer_ids` are ignored, and a segment named
    by both kinds of membership (rule and manual) is listed once.

    The result holds plain Python lists (object dtype), because pandas cannot read back a Parquet file written from
    an ArrowDtype list column (pandas-dev/pandas#57411). Write it with the type `SEGMENT_LIST_TYPE`, e.g.
    `pa.Table.from_pandas(frame, preserve_index=False).cast(schema)`: pyarrow infers list<null> for a column whose
    lists are all empty."""
    if not isinstance(customer_ids, pd.Series):
        customer_ids = pd.Series(customer_ids)
    count = len(customer_ids)
    # one factorization of both id columns: ids first seen in customer_ids get the codes 0 .. known - 1
    both = pd.concat(
        [customer_ids.reset_index(drop=True), long_table["customer_id"].reset_index(drop=True)], ignore_index=True
    )
    codes, _ = pd.factorize(both)
    customer_codes, owner_codes = codes[:count], codes[count:]
    known = int(customer_codes.max(initial=-1)) + 1
    customer_codes = np.where(customer_codes < 0, known, customer_codes)  # missing ids: the extra, empty slot
    segment_codes, names = pd.factorize(long_table["segment"], sort=True)
    names = [str(name) for name in names]
    keep = (owner_codes >= 0) & (owner_codes < known) & (segment_codes >= 0)
    width = max(len(names), 1)
    keys = np.sort(owner_codes[keep].astype(np.int64) * width + segment_codes[keep])
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
    owners, which = np.divmod(keys, width)
    if len(names) <= _MAX_BITMASK_SEGMENTS:
        lists = _lists_by_bitmask(names, owners, which, customer_codes, known)
    else:
        lists = _lists_by_owner(names, owners, which, customer_codes, known)
    return pd.Series(np.fromiter(lists, dtype=object, count=count), index=customer_ids.index, dtype=object)


def _lists_by_bitmask(
    names: list[str], owners: np.ndarray, which: np.ndarray, customer_codes: np.ndarray, known: int
) -> list[list[str]]:
    """Few segments: one bit per segment, so each distinct combination of segments is built only once."""
    bits = np.zeros(known + 1, dtype=np.uint64)
    np.bitwise_or.at(bits, owners, np.left_shift(np.uint64(1), which.astype(np.uint64)))
    combination_codes, combinations = pd.factorize(bits[customer_codes])
    templates = [[name for i, name in enumerate(names) if (int(mask) >> i) & 1] for mask in combinations]
    return [list(templates[code]) for code in combination_codes.tolist()]


def _lists_by_owner(
    names: list[str], owners: np.ndarray, which: np.ndarray, customer_codes: np.ndarray, known: int
) -> list[list[str]]:
    """Many segments: slice the (owner, segment) pairs, sorted by owner, into one run per owner."""
    ends = np.cumsum(np.bincount(owners, minlength=known + 1)).tolist()
    starts = [0, *ends[:-1]]
    segment_names = [names[i] for i in which.tolist()]
    per_owner = [segment_names[a:b] for a, b in zip(starts, ends, strict=True)]
    return [list(per_owner[code]) for code in customer_codes.tolist()]
