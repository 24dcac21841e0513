import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.clustering import ClusterSettings, segment_customers


def synthetic_features(seed: int = 0, per_group: int = 150) -> pd.DataFrame:
    """Three obvious groups: big recent spenders, mobile evening browsers who rarely buy, lapsed one-off buyers."""
    rng = np.random.default_rng(seed)
    groups = []
    for name, frequency, monetary, recency, sessions, mobile, evening in (
        ("spenders", 20, 2000.0, 5, 10, 0.2, 0.2),
        ("browsers", 1, 30.0, 60, 80, 0.95, 0.9),
        ("lapsed", 1, 25.0, 350, 0, 0.0, 0.0),
    ):
        n = per_group
        groups.append(
            pd.DataFrame(
                {
                    "customer_id": [f"{name}-{i:03d}" for i in range(n)],
                    "frequency": rng.poisson(frequency, n),
                    "monetary": monetary * rng.uniform(0.8, 1.2, n),
                    "avg_order_value": monetary / max(frequency, 1) * rng.uniform(0.8, 1.2, n),
                    "tenure_days": rng.integers(400, 900, n),
                    "recency_days": (recency * rng.uniform(0.8, 1.2, n)).round(),
                    "sessions": rng.poisson(sessions, n),
                    "active_days": rng.poisson(sessions / 2, n),
                    "events_per_session": 3.0,
                    "mean_session_minutes": 5.0,
                    "mobile_share": mobile,
                    "desktop_share": 1 - mobile,
                    "tablet_share": 0.0,
                    "night_share": 0.0,
                    "morning_share": 0.5 - evening / 2,
                    "afternoon_share": 0.5 - evening / 2,
                    "evening_share": evening,
                    "weekend_share": 0.3,
                    "nps": pd.array([None] * n, dtype="Int64"),
                    "price_sensitivity": pd.array([None] * n, dtype="Int64"),
                    "has_survey": False,
                }
            )
        )
    return pd.concat(groups, ignore_index=True)


def test_recovers_obvious_groups_and_names_them_by_their_traits():
    features = synthetic_features()
    segmentation = segment_customers(features, ClusterSettings(k_min=2, k_max=6))
    assert segmentation.k == 3
    assignments = segmentation.assignments.assign(group=features["customer_id"].str.split("-").str[0])
    assert assignments.groupby("group")["segment_id"].nunique().eq(1).all()
    names = assignments.groupby("group")["segment_name"].first()
    assert "frequent" in names["spenders"].lower() and "big-basket" in names["spenders"].lower()
    assert "mobile" in names["browsers"].lower()
    assert "lapsed" in names["lapsed"].lower()
    assert set(segmentation.silhouette_by_k) == {2, 3, 4, 5, 6}


def test_same_input_gives_identical_segments():
    features = synthetic_features(seed=4)
    first = segment_customers(features)
    second = segment_customers(features)
    pd.testing.assert_frame_equal(first.assignments, second.assignments)
    pd.testing.assert_frame_equal(first.profiles, second.profiles)


def test_ids_follow_segment_size_and_names_are_unique():
    features = synthetic_features(seed=1)
    segmentation = segment_customers(features, ClusterSettings(fixed_k=5))
    profiles = segmentation.profiles
    assert segmentation.k == 5 and segmentation.silhouette_by_k == {}
    assert profiles["segment_id"].tolist() == [1, 2, 3, 4, 5]
    assert profiles["customers"].is_monotonic_decreasing
    assert profiles["segment_name"].is_unique
    assert profiles["customers"].sum() == len(features)
    assert profiles["share"].sum() == pytest.approx(1.0)
    assert profiles["revenue_share"].sum() == pytest.approx(1.0)
    assert profiles["description"].str.startswith("Stands out by").all()
