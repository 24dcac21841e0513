from segmentation_pipeline.core.segment.k_choice import choose_k


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
