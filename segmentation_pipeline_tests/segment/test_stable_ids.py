import pandas as pd

from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline.core.segment.settings import ClusterSettings


def test_refitting_unchanged_data_keeps_segments_ids_and_names(three_groups, fast_settings):
    features = three_groups
    first = fit_model(features, "2026-03-31", fast_settings)
    again = fit_model(features, "2026-06-30", fast_settings, previous=first)
    pd.testing.assert_frame_equal(again.assign(features), first.assign(features))
    assert again.names == first.names
    assert again.lineage["matched"] == {"1": 0.0, "2": 0.0, "3": 0.0}
    assert again.lineage["new"] == [] and again.lineage["vanished"] == []


def test_ids_survive_a_growing_segment_and_a_new_segment_gets_a_new_id(
    three_groups, make_features, fast_settings, ids_by_group
):
    before = three_groups
    first = fit_model(before, "2026-03-31", fast_settings)
    after = make_features({"spenders": 400, "browsers": 200, "lapsed": 250, "newcomers": 150}, seed=1)
    refit = fit_model(after, "2026-06-30", ClusterSettings(fixed_k=4, bootstrap_refits=0), previous=first)
    assert ids_by_group(refit, after) == {"lapsed": 1, "browsers": 2, "spenders": 3, "newcomers": 4}
    assert refit.lineage["new"] == [4] and refit.lineage["vanished"] == []
    assert "newly joined" in refit.names[4].lower()

    shrunk = make_features({"browsers": 200, "lapsed": 250, "newcomers": 150}, seed=2)
    third = fit_model(shrunk, "2026-09-30", ClusterSettings(fixed_k=3, bootstrap_refits=0), previous=refit)
    assert ids_by_group(third, shrunk) == {"lapsed": 1, "browsers": 2, "newcomers": 4}
    assert third.lineage["vanished"] == [3]


def test_a_refit_on_other_model_inputs_gives_new_ids_instead_of_false_matches(three_groups, fast_settings):
    features = three_groups
    first = fit_model(features, "2026-03-31", fast_settings)
    other = fit_model(features, "2026-06-30", ClusterSettings(share_features=(), fixed_k=3), previous=first)
    assert other.lineage["matched"] == {} and other.lineage["new"] == [4, 5, 6]
    assert other.lineage["vanished"] == [1, 2, 3]
