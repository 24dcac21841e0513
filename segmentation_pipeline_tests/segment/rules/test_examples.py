"""The bundled example files load against the published columns and evaluate as documented."""

from datetime import date
from pathlib import Path

import pandas as pd

from segmentation_pipeline.core.segment.rules import evaluate, load_manual_assignments, load_rule_segments
from segmentation_pipeline_tests.segment.rules.helpers import frame

EXAMPLES_DIR = Path(__file__).resolve().parents[3] / "segmentation_pipeline" / "core" / "segment" / "rules" / "examples"

README_SCHEMA = {
    **{c: "string" for c in ("customer_id", "primary_device", "preferred_time_of_day", "top_feature", "nps_group")},
    **{c: "string" for c in ("primary_need", "preferred_contact_channel", "age_band", "gender", "country", "region")},
    **{c: "string" for c in ("income_band", "acquisition_channel", "company_size", "industry", "lifecycle_stage")},
    **{c: "string" for c in ("rfm_segment", "segment_name", "churn_risk", "predicted_value_tier")},
    **{c: "date" for c in ("snapshot_date", "first_order_date", "last_order_date", "expected_next_order_date")},
    **{c: "bool" for c in ("has_orders", "has_usage", "has_survey", "is_b2b", "marketing_opt_in")},
    **{
        c: "number"
        for c in (
            "recency_days",
            "frequency",
            "purchase_days",
            "monetary",
            "avg_order_value",
            "lifetime_orders",
            "lifetime_spend",
            "cancelled_orders",
            "refunded_orders",
            "tenure_days",
            "repeat_purchases",
            "age_at_last_purchase_days",
            "customer_age_days",
            "mean_repeat_spend",
            "sessions",
            "active_days",
            "events",
            "events_per_session",
            "mean_session_minutes",
            "mobile_share",
            "desktop_share",
            "tablet_share",
            "night_share",
            "morning_share",
            "afternoon_share",
            "evening_share",
            "weekend_share",
            "distinct_features",
            "days_since_last_seen",
            "nps",
            "csat",
            "price_sensitivity",
            "r_score",
            "f_score",
            "m_score",
            "segment_id",
            "p_alive",
            "expected_orders_90d",
            "expected_orders_365d",
            "predicted_clv",
        )
    },
}


def test_example_segments_load_against_the_published_columns():
    segments = load_rule_segments(EXAMPLES_DIR / "example_segments.yaml", README_SCHEMA)
    assert [(s.name, s.rule) for s in segments] == [
        ("VIP", "monetary >= 1000 and frequency >= 10"),
        ("mobile-first promoters", 'primary_device == "mobile" and nps_group == "promoter"'),
        ("B2B enterprise", 'is_b2b and company_size in ("201-1000", "1000+")'),
        ("at-risk high value", 'lifecycle_stage in ("at risk", "lapsed") and not (m_score < 4)'),
        ("first-year buyers outside the US", 'first_order_date >= "2026-01-01" and country not in ("US")'),
        ("champions to survey", 'rfm_segment == "champions" and not has_survey and marketing_opt_in'),
        ("valuable, about to leave", 'churn_risk == "high" and monetary >= 500'),
    ]
    assert segments[0].description == "Big spenders who buy often"


def test_example_segments_evaluate_on_the_test_frame():
    segments = load_rule_segments(EXAMPLES_DIR / "example_segments.yaml", README_SCHEMA)[:4]
    assert evaluate(segments, frame()).values.tolist() == [
        ["c1", "VIP", "rule"],
        ["c1", "mobile-first promoters", "rule"],
        ["c2", "B2B enterprise", "rule"],
        ["c4", "B2B enterprise", "rule"],
        ["c4", "VIP", "rule"],
        ["c4", "at-risk high value", "rule"],
        ["c4", "mobile-first promoters", "rule"],
        ["c6", "at-risk high value", "rule"],
    ]


def test_the_value_rule_selects_big_spenders_at_high_churn_risk():
    segment = load_rule_segments(EXAMPLES_DIR / "example_segments.yaml", README_SCHEMA)[-1]
    # c3 has no prediction (no purchase): a condition on a missing value is not true
    features = frame().assign(churn_risk=pd.Series(["high", "high", None, "low", "high", "medium"], dtype="str"))
    assert evaluate([segment], features)["customer_id"].tolist() == ["c1"]


def test_example_manual_assignments_load():
    result = load_manual_assignments(
        EXAMPLES_DIR / "example_manual_assignments.csv", {"C000001", "C000002", "C000003"}, date(2026, 11, 22)
    )
    assert result.assignments.values.tolist() == [
        ["C000001", "key account", "manual"],
        ["C000002", "VIP", "manual"],
        ["C000002", "key account", "manual"],
    ]
    assert (result.unknown_customers, result.expired) == ([], 1)
