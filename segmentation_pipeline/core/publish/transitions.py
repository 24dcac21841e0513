"""How customers move between segments from one published snapshot to the next."""

from __future__ import annotations

from datetime import date

import pandas as pd

from segmentation_pipeline.core.publish.memberships import SEGMENT_COLUMNS

NEW = "(new customer)"
GONE = "(left)"
TRANSITION_COLUMNS = {
    "snapshot_date": "object",
    "previous_snapshot_date": "object",
    "segment_type": "str",
    "from_segment": "str",
    "to_segment": "str",
    "customers": "int64",
    "share_of_from": "float64",
    "share_of_to": "float64",
}
"""Output columns of `segment_transitions`, in order, with their pandas dtypes (the dates hold `datetime.date`)."""


def segment_transitions(
    previous: pd.DataFrame | None, current: pd.DataFrame, snapshot_date: date, previous_snapshot_date: date | None
) -> pd.DataFrame:
    """Customers per (from segment, to segment) for RFM and behavioural segments (non-zero cells only).

    Customers only in `current` come from NEW, customers only in `previous` go to GONE; without a previous snapshot
    everyone is NEW and previous_snapshot_date is null. share_of_from divides by everyone in the from segment last
    time, leavers included; share_of_to by everyone in the to segment now (for GONE: everyone who left)."""
    if previous is None:
        previous, previous_snapshot_date = current.iloc[0:0], None
    moves = customer_moves(customer_pairs(previous, current))
    counts = moves.groupby(MOVE_KEYS, dropna=False).size().rename("customers").reset_index()
    return transitions_from_counts(counts, snapshot_date, previous_snapshot_date)


FROM, TO = "_from", "_to"
"""The suffixes of the previous and the current snapshot's segment columns in `customer_moves`' input."""
MOVE_KEYS = ["segment_type", "from_segment", "to_segment"]


def customer_pairs(previous: pd.DataFrame, current: pd.DataFrame) -> pd.DataFrame:
    """The customers of either snapshot, joined by id, as `customer_moves` reads them (Spark joins them itself)."""
    columns = ["customer_id", *SEGMENT_COLUMNS.values()]
    pairs = previous[columns].merge(
        current[columns], on="customer_id", how="outer", suffixes=(FROM, TO), indicator=True, validate="one_to_one"
    )
    return pairs.assign(**{f"in{FROM}": pairs["_merge"] != "right_only", f"in{TO}": pairs["_merge"] != "left_only"})


def customer_moves(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each customer's move per segment type (`MOVE_KEYS`), from its row of both snapshots: each segment column of
    `SEGMENT_COLUMNS` suffixed by `FROM` and `TO`, and whether it is in the previous (`in_from`) and current (`in_to`)
    one; from NEW if only in the current, to GONE if only in the previous. Row by row, so any batch of customers
    gives its own moves (Spark's executors), and the counts per move are `segment_transitions`' input."""
    moves = [
        pd.DataFrame(
            {
                "segment_type": segment_type,
                "from_segment": pairs[f"{column}{FROM}"].astype(object).where(pairs[f"in{FROM}"], NEW),
                "to_segment": pairs[f"{column}{TO}"].astype(object).where(pairs[f"in{TO}"], GONE),
            }
        )
        for segment_type, column in SEGMENT_COLUMNS.items()
    ]
    return pd.concat(moves, ignore_index=True)


def transitions_from_counts(
    counts: pd.DataFrame, snapshot_date: date, previous_snapshot_date: date | None
) -> pd.DataFrame:
    """`segment_transitions` from the customers per segment_type, from_segment and to_segment (non-zero cells)."""
    table = counts.assign(
        **{
            f"share_of_{side}": counts["customers"]
            / counts.groupby(["segment_type", f"{side}_segment"])["customers"].transform("sum")
            for side in ("from", "to")
        },
        snapshot_date=snapshot_date,
        previous_snapshot_date=previous_snapshot_date,
    )
    table = table.sort_values(["segment_type", "from_segment", "to_segment"], ignore_index=True)
    return table[list(TRANSITION_COLUMNS)].astype(TRANSITION_COLUMNS)
