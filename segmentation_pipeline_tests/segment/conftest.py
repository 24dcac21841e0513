"""Shared fixtures of the segment tests: customers in obvious planted groups, so that every expected segment, id and
name is known in advance, and settings that fit them quickly."""

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.segment.settings import ClusterSettings

# name: frequency, order value, recency, sessions, mobile share, evening share, tenure
GROUPS = {
    "spenders": (20, 150.0, 5, 10, 0.2, 0.2, 900),
    "browsers": (1, 30.0, 60, 80, 0.95, 0.9, 700),
    "lapsed": (1, 25.0, 350, 0, 0.0, 0.0, 1000),
    "newcomers": (1, 40.0, 3, 15, 0.5, 0.5, 10),
}


def synthetic_features(sizes: dict[str, int], seed: int = 0) -> pd.DataFrame:
    """Obvious groups of customers with the columns the model and the profiles read."""
    rng = np.random.default_rng(seed)
    frames = []
    for name, n in sizes.items():
        frequency, order_value, recency, sessions, mobile, evening, tenure = GROUPS[name]
        frames.append(
            pd.DataFrame(
                {
                    "customer_id": [f"{name}-{i:04d}" for i in range(n)],
                    "frequency": rng.poisson(frequency, n),
                    "avg_order_value": order_value * rng.uniform(0.8, 1.2, n),
                    "monetary": frequency * order_value * rng.uniform(0.8, 1.2, n),
                    "recency_days": (recency * rng.uniform(0.8, 1.2, n)).round(),
                    "sessions": rng.poisson(sessions, n),
                    "mean_session_minutes": 5.0,
                    "tenure_days": (tenure * rng.uniform(0.8, 1.2, n)).round(),
                    "mobile_share": mobile,
                    "desktop_share": 1 - mobile,
                    "tablet_share": 0.0,
                    "night_share": 0.0,
                    "morning_share": 0.5 - evening / 2,
                    "afternoon_share": 0.5 - evening / 2,
                    "evening_share": evening,
                    "weekend_share": 0.3,
                    "primary_device": "mobile" if mobile > 0.5 else "desktop",
                    "preferred_time_of_day": "evening" if evening > 0.5 else "afternoon",
                    "country": "DE",
                    "acquisition_channel": "social" if name == "browsers" else "organic_search",
                    "nps_group": pd.array(["promoter" if name == "spenders" else None] * n, dtype="str"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def group_of(customer_ids: pd.Series) -> pd.Series:
    return customer_ids.str.split("-").str[0]


def segment_id_of_each_group(model, features) -> dict[str, int]:
    assignments = model.assign(features)
    per_group = assignments.groupby(group_of(assignments["customer_id"]))["segment_id"]
    assert per_group.nunique().eq(1).all(), "every planted group must fall in one segment"
    return per_group.first().to_dict()


@pytest.fixture
def make_features():
    """`make_features({"spenders": 150, "browsers": 200}, seed=0)`: customers of the named groups."""
    return synthetic_features


@pytest.fixture
def three_groups() -> pd.DataFrame:
    """Spenders, browsers and lapsed customers, of three different sizes so that ids by size are known."""
    return synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})


@pytest.fixture
def ids_by_group():
    """`ids_by_group(model, features)`: the one segment id of each planted group (asserts a group is not split)."""
    return segment_id_of_each_group


@pytest.fixture
def fast_settings() -> ClusterSettings:
    """A narrow k range and few bootstrap refits: enough for the planted groups, quick to fit."""
    return ClusterSettings(k_min=2, k_max=6, bootstrap_refits=2)
