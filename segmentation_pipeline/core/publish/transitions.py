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
    pieces = []
    for segment_type, column in SEGMENT_COLUMNS.items():
        pairs = previous[["customer_id", column]].merge(
            current[["customer_id", column]],
            on="customer_id",
            how="outer",
            suffixes=("_from", "_to"),
            indicator=True,
            validate="one_to_one",
        )
        moves = pd.DataFrame(
            {
                "from_segment": pairs[f"{column}_from"].astype(object).where(pairs["_merge"] != "right_only", NEW),
                "to_segment": pairs[f"{column}_to"].astype(object).where(pairs["_merge"] != "left_only", GONE),
            }
        )
        counts = moves.groupby(["from_segment", "to_segment"], dropna=False).size().rename("customers").reset_index()
        pieces.append(counts.assign(segment_type=segment_type))
    return transitions_from_counts(pd.concat(pieces, ignore_index=True), snapshot_date, previous_snapshot_date)


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
