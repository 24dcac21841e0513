from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline.core.segment.name_overrides import apply_name_overrides


def test_name_overrides_win_and_survive_refits(three_groups, fast_settings):
    """Overrides are laid over the generated names at scoring; ids are stable, so they name the same segment after
    a refit (the fitted models themselves keep their generated names)."""
    features = three_groups
    first = fit_model(features, "2026-03-31", fast_settings)
    refit = fit_model(features, "2026-06-30", fast_settings, previous=first)
    first_names, _ = apply_name_overrides(first.names, {3: "VIP loyalists"}, "names.json", first.version)
    refit_names, _ = apply_name_overrides(refit.names, {3: "VIP loyalists"}, "names.json", refit.version)
    assert first_names[3] == refit_names[3] == "VIP loyalists"
    assert "frequent" in first.names[3].lower() and refit.names[3] == first.names[3]
    assigned = refit.assign(features, refit_names).set_index("customer_id")
    assert assigned.loc["spenders-0000", "segment_name"] == "VIP loyalists"
