"""The published BI tables: what each holds, its column order, and a guarantee that no personal data gets in."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.contract import PERSONAL_DATA_COLUMNS
from segmentation_pipeline.core.rules import SEGMENT_LIST_TYPE, membership_lists

CUSTOMER_SEGMENTS_COLUMNS = (
    "customer_id",
    "snapshot_date",
    "recency_days",
    "frequency",
    "monetary",
    "purchase_days",
    "avg_order_value",
    "lifetime_spend",
    "r_score",
    "f_score",
    "m_score",
    "rfm_segment",
    "segment_id",
    "segment_name",
    "rule_segments",
    "lifecycle_stage",
    "primary_device",
    "preferred_time_of_day",
    "country",
    "acquisition_channel",
    "marketing_opt_in",
    "has_survey",
    "nps_group",
    "model_version",
)


def customer_segments(
    features: pd.DataFrame, rfm_scores: pd.DataFrame, assignments: pd.DataFrame, memberships: pd.DataFrame
) -> pd.DataFrame:
    """One row per customer of the snapshot: raw RFM values, scores, the RFM segment, the behavioural segment and
    the rule or manual segments the customer belongs to (a list)."""
    table = features.merge(rfm_scores, on="customer_id", how="left", validate="one_to_one").merge(
        assignments, on="customer_id", how="left", validate="one_to_one"
    )
    table["rule_segments"] = membership_lists(memberships, table["customer_id"])
    missing = len(features) - table["segment_id"].notna().sum()
    if missing or len(table) != len(features):
        raise AssertionError(f"{missing} customers of the snapshot have no behavioural segment")
    return without_personal_data(table[list(CUSTOMER_SEGMENTS_COLUMNS)].sort_values("customer_id", ignore_index=True))


def segment_profiles(profiles: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    return without_personal_data(
        profiles.assign(snapshot_date=snapshot_date).sort_values("segment_id", ignore_index=True)
    )


def to_arrow(table: pd.DataFrame) -> pa.Table:
    """Arrow table for Parquet; a list column keeps its list<string> type even when every list is empty."""
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    for index, column in enumerate(arrow.schema):
        if pa.types.is_list(column.type):
            arrow = arrow.set_column(index, column.name, arrow.column(index).cast(SEGMENT_LIST_TYPE))
    return arrow


def without_personal_data(table: pd.DataFrame) -> pd.DataFrame:
    leaked = PERSONAL_DATA_COLUMNS.intersection(table.columns)
    if leaked:
        raise AssertionError(f"personal data columns must never be published: {sorted(leaked)}")
    return table
