import pandas as pd
import pytest

from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline.core.segment.profiles import segment_profiles


def test_profiles_describe_each_segment_of_a_snapshot(three_groups, fast_settings):
    features = three_groups
    model = fit_model(features, "2026-03-31", fast_settings)
    profiles = segment_profiles(features, model.assign(features), model).set_index("segment_id")
    assert profiles["customers"].to_dict() == {1: 250, 2: 200, 3: 150}
    assert profiles["share"].sum() == pytest.approx(1.0)
    assert profiles["revenue_share"].sum() == pytest.approx(1.0)
    assert profiles.loc[2, "dominant_device"] == "mobile" and profiles.loc[2, "top_acquisition_channel"] == "social"
    assert profiles.loc[3, "promoter_share"] == 1.0 and pd.isna(profiles.loc[1, "promoter_share"])
    assert profiles["description"].str.startswith("Stands out by").all()
    assert (profiles["model_version"] == model.version).all()
