import json

import pandas as pd

from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline.core.segment.registry import load_model, save_model


def test_a_saved_model_loads_back_and_its_card_explains_it(tmp_path, three_groups, fast_settings):
    features = three_groups
    model = fit_model(features, "2026-03-31", fast_settings)
    save_model(model, tmp_path / "quarter=2026-04-01")
    loaded = load_model(tmp_path / "quarter=2026-04-01")
    pd.testing.assert_frame_equal(loaded.assign(features), model.assign(features))
    card = json.loads((tmp_path / "quarter=2026-04-01" / "card.json").read_text())
    assert card["version"] == model.version and card["version"].startswith("2026-03-31-")
    assert card["k"] == 3 and set(card["candidates"]) == {"2", "3", "4", "5", "6"}
    assert [segment["segment_id"] for segment in card["segments"]] == [1, 2, 3]
    assert {"silhouette", "davies_bouldin", "calinski_harabasz", "bootstrap_ari_mean"} <= set(card["quality"])
