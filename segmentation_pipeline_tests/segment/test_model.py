from datetime import date

import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_pipeline.core.features.customer_features import compute_features
from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline.sample_data import generate_landing_zone
from segmentation_pipeline_tests.helpers import validate_landing_zone


def test_recovers_planted_groups_chooses_k_and_names_them_by_their_traits(three_groups, fast_settings, ids_by_group):
    features = three_groups
    model = fit_model(features, "2026-03-31", fast_settings)
    assert model.k == 3
    assert set(model.candidates) == {2, 3, 4, 5, 6}
    assert ids_by_group(model, features) == {"lapsed": 1, "browsers": 2, "spenders": 3}  # ids by size
    assert "lapsed" in model.names[1].lower()
    assert "mobile" in model.names[2].lower()
    assert "frequent" in model.names[3].lower() and "big-basket" in model.names[3].lower()
    assert len(set(model.names.values())) == 3
    assert model.quality["bootstrap_ari_mean"] == pytest.approx(1.0)


def test_segments_recover_the_planted_personas_of_a_freshly_generated_sample(tmp_path):
    """The default model, k chosen by the criteria, finds the generator's seven personas (seed unlike the sample's)."""
    snapshot = date(2026, 11, 22)
    generate_landing_zone(tmp_path, customers=5000, days=456, seed=2026, end_date=snapshot)
    features = compute_features(validate_landing_zone(tmp_path), snapshot)
    personas = pd.read_csv(tmp_path / "ground_truth" / "personas.csv").set_index("customer_id")["persona"]
    model = fit_model(features, snapshot.isoformat())
    assert len(features) == 5000 and model.k == 7
    assert adjusted_rand_score(features["customer_id"].map(personas), model.segment_of(features)) >= 0.8
