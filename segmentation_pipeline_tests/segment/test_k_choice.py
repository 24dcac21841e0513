from dataclasses import replace

import numpy as np
import pytest

from segmentation_pipeline.core.segment.k_choice import choose_k, score_candidates
from segmentation_pipeline.core.segment.preprocessing import model_inputs, preprocessing
from segmentation_pipeline.core.segment.settings import ClusterSettings


def test_k_is_the_best_silhouette_among_stable_candidates_with_big_enough_segments():
    candidates = {
        3: {"silhouette": 0.30, "stability": 0.99, "eligible": 1.0},
        4: {"silhouette": 0.35, "stability": 0.97, "eligible": 1.0},
        5: {"silhouette": 0.40, "stability": 0.80, "eligible": 0.0},  # unstable, or a tiny segment
        6: {"silhouette": 0.33, "stability": 0.98, "eligible": 1.0},
    }
    assert choose_k(candidates) == 4
    assert choose_k({3: {**candidates[4]}, 4: {**candidates[4]}}) == 3  # ties: the smaller k


def test_without_an_eligible_candidate_the_most_stable_k_wins():
    candidates = {
        k: {"silhouette": 0.5, "stability": stability, "eligible": 0.0}
        for k, stability in ((3, 0.90), (4, 0.93), (5, 0.93))
    }
    assert choose_k(candidates) == 4


def test_candidates_are_scored_by_subsample_stability_and_return_their_centroids(three_groups, fast_settings):
    inputs = model_inputs(three_groups, fast_settings)
    sample = preprocessing(fast_settings).fit_transform(inputs)
    candidates, centroids = score_candidates(sample, fast_settings)
    assert set(candidates) == set(centroids) == {2, 3, 4, 5, 6}
    assert candidates[3]["stability"] == pytest.approx(1.0) and candidates[3]["eligible"]
    assert all(centroids[k].shape == (k, sample.shape[1]) for k in centroids)
    assert choose_k(candidates) == 3
    with pytest.raises(ValueError, match="stability_refits"):
        score_candidates(sample, ClusterSettings(stability_refits=0))
    assert np.isfinite([scores["stability"] for scores in candidates.values()]).all()


def test_each_candidate_scores_the_same_whichever_other_candidates_run_beside_it(three_groups, fast_settings):
    """Candidates are fitted side by side in threads: a k's figures and centroids must not depend on the others."""
    sample = preprocessing(fast_settings).fit_transform(model_inputs(three_groups, fast_settings))
    all_candidates, all_centroids = score_candidates(sample, fast_settings)
    for k in (2, 4, 6):
        alone, centroids = score_candidates(sample, replace(fast_settings, k_min=k, k_max=k))
        assert alone == {k: all_candidates[k]}
        np.testing.assert_array_equal(centroids[k], all_centroids[k])
