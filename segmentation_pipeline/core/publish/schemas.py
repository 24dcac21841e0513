"""The published BI contract: the exact Arrow schema of every published table, and its version."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import PERSONAL_DATA_COLUMNS
from segmentation_pipeline.core.publish.memberships import SEGMENT_LIST_TYPE

PUBLISHED_SCHEMA_VERSION = 4
"""The version of the BI contract below. Any change to a published column or type needs a new version, recorded in
`published_schema.json` next to this module (a test compares the two)."""

KPI_FIGURE_FIELDS = [
    ("customers", pa.int64()),
    ("active_share", pa.float64()),
    ("orders", pa.int64()),
    ("revenue", pa.float64()),
    ("avg_order_value", pa.float64()),
    ("repeat_rate", pa.float64()),
    ("mean_nps", pa.float64()),
    ("high_value_share", pa.float64()),
    ("mean_predicted_clv", pa.float64()),
    ("mean_p_alive", pa.float64()),
    ("high_churn_risk_share", pa.float64()),
]
"""The KPIs of a `segment_kpis` row, published over all its customers and again (`control_`) over its control group."""

PUBLISHED_SCHEMAS: dict[str, pa.Schema] = {
    "customer_segments": pa.schema(
        [
            ("customer_id", pa.string()),
            ("snapshot_date", pa.date32()),
            ("recency_days", pa.int64()),
            ("frequency", pa.int64()),
            ("monetary", pa.float64()),
            ("purchase_days", pa.int64()),
            ("avg_order_value", pa.float64()),
            ("lifetime_spend", pa.float64()),
            ("lifetime_orders", pa.int64()),
            ("repeat_purchases", pa.int64()),
            ("age_at_last_purchase_days", pa.int64()),
            ("customer_age_days", pa.int64()),
            ("mean_repeat_spend", pa.float64()),
            ("r_score", pa.int64()),
            ("f_score", pa.int64()),
            ("m_score", pa.int64()),
            ("rfm_segment", pa.string()),
            ("segment_id", pa.int64()),
            ("segment_name", pa.string()),
            ("rule_segments", SEGMENT_LIST_TYPE),
            ("lifecycle_stage", pa.string()),
            ("value_tier", pa.string()),
            ("predicted_value_tier", pa.string()),
            ("p_alive", pa.float64()),
            ("churn_risk", pa.string()),
            ("expected_orders_90d", pa.float64()),
            ("expected_orders_365d", pa.float64()),
            ("predicted_clv", pa.float64()),
            ("expected_next_order_date", pa.date32()),
            ("primary_device", pa.string()),
            ("preferred_time_of_day", pa.string()),
            ("country", pa.string()),
            ("acquisition_channel", pa.string()),
            ("marketing_opt_in", pa.bool_()),
            ("in_control_group", pa.bool_()),
            ("has_survey", pa.bool_()),
            ("nps_group", pa.string()),
            ("model_version", pa.string()),
        ]
    ),
    "segment_profiles": pa.schema(
        [
            ("segment_id", pa.int64()),
            ("segment_name", pa.string()),
            ("description", pa.string()),
            ("customers", pa.int64()),
            ("share", pa.float64()),
            ("revenue", pa.float64()),
            ("revenue_share", pa.float64()),
            ("mean_recency_days", pa.float64()),
            ("median_recency_days", pa.float64()),
            ("mean_frequency", pa.float64()),
            ("median_frequency", pa.float64()),
            ("mean_monetary", pa.float64()),
            ("median_monetary", pa.float64()),
            ("mean_sessions", pa.float64()),
            ("dominant_device", pa.string()),
            ("dominant_time_of_day", pa.string()),
            ("top_country", pa.string()),
            ("top_acquisition_channel", pa.string()),
            ("promoter_share", pa.float64()),
            ("passive_share", pa.float64()),
            ("detractor_share", pa.float64()),
            ("mean_predicted_clv", pa.float64()),
            ("mean_p_alive", pa.float64()),
            ("high_churn_risk_share", pa.float64()),
            ("model_version", pa.string()),
            ("snapshot_date", pa.date32()),
        ]
    ),
    "segment_kpis": pa.schema(
        [
            ("snapshot_date", pa.date32()),
            ("segment_type", pa.string()),
            ("segment", pa.string()),
            ("segment_id", pa.int64()),
            ("acquisition_channel", pa.string()),
            *KPI_FIGURE_FIELDS,
            *[(f"control_{name}", type_) for name, type_ in KPI_FIGURE_FIELDS],
        ]
    ),
    "segment_transitions": pa.schema(
        [
            ("snapshot_date", pa.date32()),
            ("previous_snapshot_date", pa.date32()),
            ("segment_type", pa.string()),
            ("from_segment", pa.string()),
            ("to_segment", pa.string()),
            ("customers", pa.int64()),
            ("share_of_from", pa.float64()),
            ("share_of_to", pa.float64()),
        ]
    ),
    "segment_uplift": pa.schema(
        [
            ("snapshot_date", pa.date32()),
            ("baseline_snapshot_date", pa.date32()),
            ("segment_type", pa.string()),
            ("segment", pa.string()),
            ("treated_customers", pa.int64()),
            ("control_customers", pa.int64()),
            *[
                (f"{group}_{metric}", pa.float64())
                for metric in ("orders_per_customer", "revenue_per_customer", "retention_rate")
                for group in ("treated", "control")
            ],
            *[
                (f"{metric}_uplift{bound}", pa.float64())
                for metric in ("orders", "revenue", "retention_rate")
                for bound in ("", "_ci_low", "_ci_high")
            ],
        ]
    ),
    "rfm_cut_points": pa.schema(
        [
            ("metric", pa.string()),
            ("score", pa.int64()),
            ("min_value", pa.float64()),
            ("max_value", pa.float64()),
            ("customers", pa.int64()),
            ("fitted_on", pa.date32()),
            ("snapshot_date", pa.date32()),
        ]
    ),
    "rule_segment_members": pa.schema(
        [
            ("customer_id", pa.string()),
            ("segment", pa.string()),
            ("source", pa.string()),
            ("snapshot_date", pa.date32()),
        ]
    ),
    "segment_personas": pa.schema(
        [
            ("snapshot_date", pa.date32()),
            ("segment_id", pa.int64()),
            ("segment_name", pa.string()),
            ("customers", pa.int64()),
            ("share", pa.float64()),
            ("age_band_mix", pa.string()),
            ("median_age_band", pa.string()),
            ("gender_mix", pa.string()),
            ("top_countries", pa.string()),
            ("b2b_share", pa.float64()),
            ("dominant_device", pa.string()),
            ("dominant_time_of_day", pa.string()),
            ("median_session_minutes", pa.float64()),
            ("top_features", pa.string()),
            ("orders_per_customer", pa.float64()),
            ("avg_order_value", pa.float64()),
            ("top_categories", pa.string()),
            ("nps_mix", pa.string()),
            ("promoter_share", pa.float64()),
            ("detractor_share", pa.float64()),
            ("survey_share", pa.float64()),
            ("top_primary_needs", pa.string()),
            ("mean_price_sensitivity", pa.float64()),
            ("contact_channel_mix", pa.string()),
            ("marketing_opt_in_share", pa.float64()),
            ("weekend_share", pa.float64()),
            ("most_active_hour", pa.int64()),
            ("most_active_weekday", pa.string()),
            ("revenue_share", pa.float64()),
            ("mean_predicted_clv", pa.float64()),
            ("high_churn_risk_share", pa.float64()),
            ("new_customer_share", pa.float64()),
            ("next_action", pa.string()),
            ("next_action_reason", pa.string()),
            ("persona_summary", pa.string()),
        ]
    ),
    "segment_overlap": pa.schema(
        [
            ("snapshot_date", pa.date32()),
            ("segment_type_a", pa.string()),
            ("segment_a", pa.string()),
            ("segment_type_b", pa.string()),
            ("segment_b", pa.string()),
            ("customers_a", pa.int64()),
            ("customers_b", pa.int64()),
            ("shared_customers", pa.int64()),
            ("share_of_a", pa.float64()),
            ("share_of_b", pa.float64()),
        ]
    ),
    "runs": pa.schema(  # written last: a snapshot listed here is complete
        [
            ("snapshot_date", pa.date32()),
            ("schema_version", pa.int64()),
            ("model_version", pa.string()),
            ("code_version", pa.string()),
            ("published_at", pa.timestamp("us", tz="UTC")),
            ("customer_segments_rows", pa.int64()),
            ("segment_profiles_rows", pa.int64()),
            ("segment_kpis_rows", pa.int64()),
            ("segment_transitions_rows", pa.int64()),
            ("rfm_cut_points_rows", pa.int64()),
            ("rule_segment_members_rows", pa.int64()),
            ("segment_personas_rows", pa.int64()),
            ("segment_overlap_rows", pa.int64()),
            ("segment_uplift_rows", pa.int64()),
            ("validated_rows", pa.int64()),
            ("quarantined_rows", pa.int64()),
            ("hashed_customer_ids", pa.bool_()),
            ("control_group_customers", pa.int64()),
            ("audience_files", pa.int64()),
            ("audience_customers", pa.int64()),
            ("audience_left_out_without_email", pa.int64()),
            ("audience_plain_emails", pa.bool_()),
        ]
    ),
}


def schema_contract() -> dict[str, dict[str, str]]:
    """The published schemas as plain data: table -> column -> Arrow type name."""
    return {table: {field.name: str(field.type) for field in schema} for table, schema in PUBLISHED_SCHEMAS.items()}


def to_arrow(table: pd.DataFrame, name: str) -> pa.Table:
    """The frame as published table `name`, in exactly its contract schema (same columns, order and types)."""
    schema = PUBLISHED_SCHEMAS[name]
    if list(table.columns) != schema.names:
        raise AssertionError(f"published table {name}: columns {list(table.columns)} differ from {schema.names}")
    return pa.Table.from_pandas(table, schema=schema, preserve_index=False)


def without_personal_data(table: pd.DataFrame) -> pd.DataFrame:
    leaked = PERSONAL_DATA_COLUMNS.intersection(table.columns)
    if leaked:
        raise AssertionError(f"personal data columns must never be published: {sorted(leaked)}")
    return table
