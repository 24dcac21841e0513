import pandas as pd
import pytest

from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.core.features.customer_features import (
    FeatureSettings,
    build_missing_features,
    compute_features,
    snapshot_features,
)
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import write_snapshot_table
from segmentation_pipeline_tests.features.builders import SNAPSHOT, event, feature_warehouse
from segmentation_pipeline_tests.helpers import write_validated, write_validated_by_day


def test_only_customers_created_by_the_snapshot_date_are_included(features):
    assert features.index.tolist() == ["A", "B", "C"]
    assert (features["snapshot_date"] == pd.Timestamp(SNAPSHOT)).all()


def test_value_features_count_completed_orders_in_the_window_only(features):
    a = features.loc["A"]
    assert a["recency_days"] == 21
    assert a["frequency"] == 3  # o2, o3, o4: o1 is outside the window, o5 cancelled, o6 after the snapshot
    assert a["purchase_days"] == 2
    assert a["monetary"] == 60.0
    assert a["avg_order_value"] == 20.0
    assert a["lifetime_orders"] == 4 and a["lifetime_spend"] == 110.0
    assert a["first_order_date"] == pd.Timestamp("2025-02-01") and a["last_order_date"] == pd.Timestamp("2026-03-10")
    assert a["cancelled_orders"] == 1 and a["refunded_orders"] == 0
    assert a["tenure_days"] == 445
    b = features.loc["B"]
    assert (b["recency_days"], b["frequency"], b["monetary"], b["refunded_orders"]) == (26, 1, 15.0, 1)


def test_top_category_counts_completed_orders_in_the_window_with_ties_alphabetical(features):
    # A: books 1 and toys 1 in the window (o1 is before it, o5 cancelled, o6 after the snapshot, o4 has no category)
    assert features["top_category"].fillna("none").tolist() == ["books", "garden", "none"]


def test_reference_columns_follow_lifetimes_daily_definitions(features):
    # periods: 2025-02-01 (50), 2025-06-15 (20), 2026-03-10 (30 + 10): two repeat periods
    a = features.loc["A"]
    assert a["repeat_purchases"] == 2
    assert a["age_at_last_purchase_days"] == 402
    assert a["customer_age_days"] == 423
    assert a["mean_repeat_spend"] == 30.0
    b = features.loc["B"]
    assert (b["repeat_purchases"], b["age_at_last_purchase_days"], b["customer_age_days"], b["mean_repeat_spend"]) == (
        0,
        0,
        26,
        0.0,
    )


def test_customers_without_orders_have_zero_counts_and_no_recency(features):
    c = features.loc["C"]
    assert not c["has_orders"]
    assert pd.isna(c["recency_days"]) and c["frequency"] == 0 and c["monetary"] == 0.0
    assert c["lifecycle_stage"] == "never purchased"


def test_lifecycle_stage_uses_the_documented_thresholds(features):
    assert features["lifecycle_stage"].tolist() == ["active", "new", "never purchased"]


def test_usage_features_cover_the_last_90_days(features):
    a = features.loc["A"]
    assert a["has_usage"]
    assert (a["sessions"], a["active_days"], a["events"]) == (2, 2, 4)
    assert a["events_per_session"] == 2.0
    assert a["mean_session_minutes"] == 4.5
    assert (a["mobile_share"], a["desktop_share"], a["tablet_share"]) == (0.75, 0.25, 0.0)
    assert a["primary_device"] == "mobile"
    assert (a["evening_share"], a["morning_share"], a["preferred_time_of_day"]) == (0.75, 0.25, "evening")
    assert a["weekend_share"] == 0.75
    assert (a["distinct_features"], a["top_feature"], a["days_since_last_seen"]) == (3, "search", 1)
    assert (a["most_active_hour"], a["most_active_weekday"]) == (20, "Saturday")
    b = features.loc["B"]
    assert not b["has_usage"] and b["sessions"] == 0 and pd.isna(b["primary_device"])
    assert pd.isna(b["most_active_hour"]) and pd.isna(b["most_active_weekday"])


def test_most_active_hour_and_weekday_ties_go_to_the_earliest(tmp_path):
    layout = DataLayout(tmp_path)
    write_validated(layout, "customers", [{"customer_id": "A", "created_at": "2026-01-01T00:00:00Z"}])
    events = [  # one event each on Sunday 29 March at 08:00 and Tuesday 24 March at 10:00
        event("A", "2026-03-29T08:00:00Z", "s1", "mobile", "search", 60),
        event("A", "2026-03-24T10:00:00Z", "s2", "mobile", "search", 60),
    ]
    write_validated_by_day(layout, "usage_events", events, "event_ts")
    a = compute_features(layout, SNAPSHOT).set_index("customer_id").loc["A"]
    assert (a["most_active_hour"], a["most_active_weekday"]) == (8, "Tuesday")


def test_survey_features_come_from_the_latest_answer_and_missing_ones_stay_null(features):
    a = features.loc["A"]
    assert a["has_survey"] and a["nps"] == 9 and a["nps_group"] == "promoter" and a["csat"] == 4
    assert a["primary_need"] == "quality"
    b = features.loc["B"]
    assert not b["has_survey"] and pd.isna(b["nps"]) and pd.isna(b["nps_group"])


def test_crm_attributes(features):
    a = features.loc["A"]
    assert (a["age_band"], a["country"], a["acquisition_channel"], a["is_b2b"]) == (
        "35-44",
        "DE",
        "organic_search",
        False,
    )
    assert bool(a["marketing_opt_in"])
    assert features.loc["B", "is_b2b"]


def test_windows_are_configurable(tmp_path, features):
    # the fixture's warehouse lives in tmp_path; a 30-day lookback leaves only the March orders of A
    narrow = compute_features(DataLayout(tmp_path), SNAPSHOT, FeatureSettings(lookback_days=30)).set_index(
        "customer_id"
    )
    assert (narrow.loc["A", "frequency"], narrow.loc["A", "monetary"]) == (2, 40.0)


def test_an_empty_warehouse_gives_no_rows(tmp_path):
    write_validated(DataLayout(tmp_path), "customers", [])
    assert len(compute_features(DataLayout(tmp_path), SNAPSHOT)) == 0


def test_a_refit_builds_the_eve_feature_table_only_when_no_feature_step_built_it(tmp_path):
    layout = feature_warehouse(tmp_path)
    with pytest.raises(PipelineError, match="customer_features/snapshot_date=2026-03-31/part-0.parquet: no feature"):
        snapshot_features(layout, SNAPSHOT)
    sessions = []

    assert build_missing_features(layout, SNAPSHOT, FeatureSettings(lookback_days=30), lambda: sessions.append(1))
    built = snapshot_features(layout, SNAPSHOT)
    pd.testing.assert_frame_equal(built, compute_features(layout, SNAPSHOT, FeatureSettings(lookback_days=30)))
    assert built.set_index("customer_id").loc["A", "frequency"] == 2  # the settings given, not the defaults (3)
    write_snapshot_table(layout, "customer_features", SNAPSHOT, built.assign(sessions=7))
    assert not build_missing_features(layout, SNAPSHOT, FeatureSettings(), lambda: sessions.append(1))
    assert snapshot_features(layout, SNAPSHOT)["sessions"].tolist() == [7] * len(built)  # read, not computed again
    assert sessions == [1]  # the engine asked for its session once, only to build
