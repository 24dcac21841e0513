import pandas as pd
import pytest

from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline.core.segment.settings import ClusterSettings


def test_categorical_features_are_one_hot_encoded_with_missing_as_a_level_and_named(three_groups, ids_by_group):
    features = three_groups
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


def test_misconfigured_features_are_named_in_the_error(make_features):
    features = make_features({"spenders": 10, "browsers": 10})
    settings = ClusterSettings(log_features=("frequenzy", "country"), share_features=(), fixed_k=2)
    with pytest.raises(ValueError, match=r"frequenzy \(not a feature column\); country \(not numeric: str\)"):
        fit_model(features, "2026-03-31", settings)
