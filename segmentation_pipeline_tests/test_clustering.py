import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_pipeline.core.features.customer_features import compute_features
from segmentation_pipeline.core.segment.model import (
    ClusterSettings,
    choose_k,
    fit_model,
    segment_profiles,
)
from segmentation_pipeline.core.segment.registry import load_model, save_model
from segmentation_pipeline.sample_data import generate_landing_zone
from segmentation_pipeline_tests.helpers import validate_landing_zone

# name: frequency, order value, recency, sessions, mobile share, evening share, tenure
GROUPS = {
    "spenders": (20, 150.0, 5, 10, 0.2, 0.2, 900),
    "browsers": (1, 30.0, 60, 80, 0.95, 0.9, 700),
    "lapsed": (1, 25.0, 350, 0, 0.0, 0.0, 1000),
    "newcomers": (1, 40.0, 3, 15, 0.5, 0.5, 10),
}
SETTINGS = ClusterSettings(k_min=2, k_max=6, bootstrap_refits=2)


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


def ids_by_group(model, features) -> dict[str, int]:
    assignments = model.assign(features)
    per_group = assignments.groupby(group_of(assignments["customer_id"]))["segment_id"]
    assert per_group.nunique().eq(1).all(), "every planted group must fall in one segment"
    return per_group.first().to_dict()


def test_recovers_planted_groups_chooses_k_and_names_them_by_their_traits():
    features = synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})
    model = fit_model(features, "2026-03-31", SETTINGS)
    assert model.k == 3
    assert set(model.candidates) == {2, 3, 4, 5, 6}
    assert ids_by_group(model, features) == {"lapsed": 1, "browsers": 2, "spenders": 3}  # ids by size
    assert "lapsed" in model.names[1].lower()
    assert "mobile" in model.names[2].lower()
    assert "frequent" in model.names[3].lower() and "big-basket" in model.names[3].lower()
    assert len(set(model.names.values())) == 3
    assert model.quality["bootstrap_ari_mean"] == pytest.approx(1.0)


def test_k_is_chosen_by_mean_rank_among_candidates_with_big_enough_segments():
    candidates = {
        3: {"silhouette": 0.30, "davies_bouldin": 1.4, "calinski_harabasz": 900, "eligible": 1.0},
        4: {"silhouette": 0.35, "davies_bouldin": 1.2, "calinski_harabasz": 1000, "eligible": 1.0},
        5: {"silhouette": 0.40, "davies_bouldin": 1.0, "calinski_harabasz": 1100, "eligible": 0.0},  # tiny segment
        6: {"silhouette": 0.33, "davies_bouldin": 1.3, "calinski_harabasz": 950, "eligible": 1.0},
    }
    assert choose_k(candidates) == 4
    tied = {3: {**candidates[4], "eligible": 1.0}, 4: {**candidates[4]}}
    assert choose_k(tied) == 3


def test_refitting_unchanged_data_keeps_segments_ids_and_names():
    features = synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})
    first = fit_model(features, "2026-03-31", SETTINGS)
    again = fit_model(features, "2026-06-30", SETTINGS, previous=first)
    pd.testing.assert_frame_equal(again.assign(features), first.assign(features))
    assert again.names == first.names
    assert again.lineage["matched"] == {"1": 0.0, "2": 0.0, "3": 0.0}
    assert again.lineage["new"] == [] and again.lineage["vanished"] == []


def test_ids_survive_a_growing_segment_and_a_new_segment_gets_a_new_id():
    before = synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})
    first = fit_model(before, "2026-03-31", SETTINGS)
    after = synthetic_features({"spenders": 400, "browsers": 200, "lapsed": 250, "newcomers": 150}, seed=1)
    refit = fit_model(after, "2026-06-30", ClusterSettings(fixed_k=4, bootstrap_refits=0), previous=first)
    assert ids_by_group(refit, after) == {"lapsed": 1, "browsers": 2, "spenders": 3, "newcomers": 4}
    assert refit.lineage["new"] == [4] and refit.lineage["vanished"] == []
    assert "newly joined" in refit.names[4].lower()

    shrunk = synthetic_features({"browsers": 200, "lapsed": 250, "newcomers": 150}, seed=2)
    third = fit_model(shrunk, "2026-09-30", ClusterSettings(fixed_k=3, bootstrap_refits=0), previous=refit)
    assert ids_by_group(third, shrunk) == {"lapsed": 1, "browsers": 2, "newcomers": 4}
    assert third.lineage["vanished"] == [3]


def test_name_overrides_win_and_survive_refits():
    features = synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})
    first = fit_model(features, "2026-03-31", SETTINGS, name_overrides={3: "VIP loyalists"})
    refit = fit_model(features, "2026-06-30", SETTINGS, previous=first, name_overrides={3: "VIP loyalists"})
    assert first.names[3] == refit.names[3] == "VIP loyalists"
    assert refit.assign(features).set_index("customer_id").loc["spenders-0000", "segment_name"] == "VIP loyalists"


def test_profiles_describe_each_segment_of_a_snapshot():
    features = synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})
    model = fit_model(features, "2026-03-31", SETTINGS)
    profiles = segment_profiles(features, model.assign(features), model).set_index("segment_id")
    assert profiles["customers"].to_dict() == {1: 250, 2: 200, 3: 150}
    assert profiles["share"].sum() == pytest.approx(1.0)
    assert profiles["revenue_share"].sum() == pytest.approx(1.0)
    assert profiles.loc[2, "dominant_device"] == "mobile" and profiles.loc[2, "top_acquisition_channel"] == "social"
    assert profiles.loc[3, "promoter_share"] == 1.0 and pd.isna(profiles.loc[1, "promoter_share"])
    assert profiles["description"].str.startswith("Stands out by").all()
    assert (profiles["model_version"] == model.version).all()


def test_a_saved_model_loads_back_and_its_card_explains_it(tmp_path):
    features = synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})
    model = fit_model(features, "2026-03-31", SETTINGS)
    save_model(model, tmp_path / "quarter=2026-04-01")
    loaded = load_model(tmp_path / "quarter=2026-04-01")
    pd.testing.assert_frame_equal(loaded.assign(features), model.assign(features))
    card = json.loads((tmp_path / "quarter=2026-04-01" / "card.json").read_text())
    assert card["version"] == model.version and card["version"].startswith("2026-03-31-")
    assert card["k"] == 3 and set(card["candidates"]) == {"2", "3", "4", "5", "6"}
    assert [segment["segment_id"] for segment in card["segments"]] == [1, 2, 3]
    assert {"silhouette", "davies_bouldin", "calinski_harabasz", "bootstrap_ari_mean"} <= set(card["quality"])


def test_segments_recover_the_planted_personas_of_a_freshly_generated_sample(tmp_path):
    """The default model, k chosen by the criteria, finds the generator's seven personas (seed unlike the sample's)."""
    snapshot = date(2026, 11, 22)
    generate_landing_zone(tmp_path, customers=5000, days=456, seed=2026, end_date=snapshot)
    features = compute_features(validate_landing_zone(tmp_path), snapshot)
    personas = pd.read_csv(tmp_path / "ground_truth" / "personas.csv").set_index("customer_id")["persona"]
    model = fit_model(features, snapshot.isoformat())
    assert len(features) == 5000 and model.k == 7
    assert adjusted_rand_score(features["customer_id"].map(personas), model.segment_of(features)) >= 0.8


def test_categorical_features_are_one_hot_encoded_with_missing_as_a_level_and_named():
    features = synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})
    settings = ClusterSettings(
        log_features=("frequency", "recency_days"), share_features=(), categorical_features=("nps_group",), fixed_k=3
    )
    model = fit_model(features, "2026-03-31", settings)
    assert model.columns == ["frequency", "recency_days", "nps_group_missing", "nps_group_promoter"]
    spenders = ids_by_group(model, features)["spenders"]
    assert "promoter" in model.names[spenders].lower()
    assert "nps group promoter share 100% vs 25% overall" in model.descriptions[spenders]
    unseen = features.head(1).assign(nps_group=pd.array(["detractor"], dtype="str"))
    assert model.segment_of(unseen).shape == (1,)  # an unseen level encodes as all zeros, not an error


def test_misconfigured_features_are_named_in_the_error():
    features = synthetic_features({"spenders": 10, "browsers": 10})
    settings = ClusterSettings(log_features=("frequenzy", "country"), share_features=(), fixed_k=2)
    with pytest.raises(ValueError, match=r"frequenzy \(not a feature column\); country \(not numeric: str\)"):
        fit_model(features, "2026-03-31", settings)


def test_a_refit_on_other_model_inputs_gives_new_ids_instead_of_false_matches():
    features = synthetic_features({"spenders": 150, "browsers": 200, "lapsed": 250})
    first = fit_model(features, "2026-03-31", SETTINGS)
    other = fit_model(features, "2026-06-30", ClusterSettings(share_features=(), fixed_k=3), previous=first)
    assert other.lineage["matched"] == {} and other.lineage["new"] == [4, 5, 6]
    assert other.lineage["vanished"] == [1, 2, 3]
