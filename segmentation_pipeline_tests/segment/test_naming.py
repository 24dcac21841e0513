from segmentation_pipeline.core.segment.model import fit_model


def test_name_overrides_win_and_survive_refits(three_groups, fast_settings):
    features = three_groups
    first = fit_model(features, "2026-03-31", fast_settings, name_overrides={3: "VIP loyalists"})
    refit = fit_model(features, "2026-06-30", fast_settings, previous=first, name_overrides={3: "VIP loyalists"})
    assert first.names[3] == refit.names[3] == "VIP loyalists"
    assert refit.assign(features).set_index("customer_id").loc["spenders-0000", "segment_name"] == "VIP loyalists"
