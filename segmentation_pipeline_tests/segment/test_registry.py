import json

import joblib
import pandas as pd

from segmentation_pipeline.core.segment.model import fit_model
from segmentation_pipeline.core.segment.registry import (
    CARD_FILE,
    MODEL_FILE,
    SAVED_WITHOUT_VALUE_MODEL,
    load_model,
    load_value_model,
    save_model,
)
from segmentation_pipeline.core.value.model import NoValueModel, fit_value_model
from segmentation_pipeline_tests.value.builders import EVE, features, order_days


def test_a_saved_model_loads_back_with_its_value_model_and_one_card_explains_both(
    tmp_path, three_groups, fast_settings
):
    model = fit_model(three_groups, "2026-03-31", fast_settings)
    value_model = fit_value_model(features(), order_days(), EVE)
    folder = tmp_path / "quarter=2026-04-01"
    save_model(model, folder, value_model)
    loaded = load_model(folder)
    pd.testing.assert_frame_equal(loaded.assign(three_groups), model.assign(three_groups))
    assert load_value_model(folder) == value_model
    card = json.loads((folder / CARD_FILE).read_text())
    assert card["version"] == model.version and card["version"].startswith("2026-03-31-")
    assert card["k"] == 3 and set(card["candidates"]) == {"2", "3", "4", "5", "6"}
    assert [segment["segment_id"] for segment in card["segments"]] == [1, 2, 3]
    assert {"silhouette", "davies_bouldin", "calinski_harabasz", "bootstrap_ari_mean"} <= set(card["quality"])
    assert card["value_model"] == value_model.card()
    assert set(card["value_model"]["bgnbd"]["params"]) == {"r", "alpha", "a", "b"}
    assert card["value_model"]["holdout"]["by_frequency"][0]["repeat_purchases"] == "0"


def test_a_quarter_without_a_value_model_says_why(tmp_path, three_groups, fast_settings):
    folder = tmp_path / "quarter=2026-04-01"
    save_model(fit_model(three_groups, "2026-03-31", fast_settings), folder, NoValueModel("too little data: 3"))
    assert load_value_model(folder) == NoValueModel("too little data: 3")
    assert json.loads((folder / CARD_FILE).read_text())["value_model"] == {
        "fitted": False,
        "reason": "too little data: 3",
    }


def test_a_folder_saved_before_value_models_existed_still_loads(tmp_path, three_groups, fast_settings):
    # what the registry wrote before value models: model.joblib and a card without "value_model"
    model, folder = fit_model(three_groups, "2026-03-31", fast_settings), tmp_path / "quarter=2026-04-01"
    folder.mkdir()
    joblib.dump(model, folder / MODEL_FILE)
    (folder / CARD_FILE).write_text(json.dumps(model.card(), default=str))
    assert load_model(folder).version == model.version
    assert load_value_model(folder) == NoValueModel(SAVED_WITHOUT_VALUE_MODEL)
    assert "next quarterly refit fits one" in SAVED_WITHOUT_VALUE_MODEL
