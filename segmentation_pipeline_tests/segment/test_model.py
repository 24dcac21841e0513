from datetime import date

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline_tests.helpers import sample_features

SNAPSHOT = date(2026, 11, 22)


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
    features, personas = sample_features(tmp_path, 2026, 5000, SNAPSHOT)
    model = fit_model(features, SNAPSHOT.isoformat())
    assert len(features) == 5000 and model.k == 7
    assert adjusted_rand_score(personas, model.segment_of(features)) >= 0.8


def test_the_choice_of_k_holds_across_freshly_generated_samples(tmp_path):
    """k is chosen by subsample stability, then silhouette: on five unseen seeds it finds all seven personas, so
    the recovery does not hang on a lucky seed (README: Behavioural segments, the robustness table)."""
    recovery = {}
    for seed in (11, 23, 37, 51, 68):
        features, personas = sample_features(tmp_path / str(seed), seed, 2500, SNAPSHOT)
        model = fit_model(features, SNAPSHOT.isoformat())
        assert model.k == 7, seed
        assert all(model.candidates[7][name] for name in ("eligible", "stability"))
        recovery[seed] = adjusted_rand_score(personas, model.segment_of(features))
    assert np.mean(list(recovery.values())) >= 0.85 and min(recovery.values()) >= 0.8, recovery
