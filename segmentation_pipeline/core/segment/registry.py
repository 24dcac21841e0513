"""The model registry: one folder per quarter under `models/segmentation/`, holding the quarter's segmentation model,
its value model (`core/value`) and their card."""

from __future__ import annotations

import json
from datetime import date
from functools import partial
from pathlib import Path

import joblib

from segmentation_pipeline.core.segment.model import SegmentModel
from segmentation_pipeline.core.storage.atomic import write_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.value.model import NoValueModel, ValueModel

MODEL_FILE, VALUE_MODEL_FILE, CARD_FILE = "model.joblib", "value_model.joblib", "card.json"
SAVED_WITHOUT_VALUE_MODEL = (
    "the quarter's models were saved before value models existed; the next quarterly refit fits one"
)
"""Why a folder written before value models existed has none: it keeps scoring segments, with null value columns."""


def save_model(model: SegmentModel, folder: Path, value_model: ValueModel | NoValueModel) -> None:
    """`model.joblib`, `value_model.joblib` and `card.json` (the segmentation model's card, with the value model's
    under `value_model`) in one all-or-nothing write: a crash never pairs a new model with an old value model."""
    card = {**model.card(), "value_model": value_model.card()}
    write_files_atomically(
        {
            folder / MODEL_FILE: partial(joblib.dump, model),
            folder / VALUE_MODEL_FILE: partial(joblib.dump, value_model),
            folder / CARD_FILE: partial(_write_text, json.dumps(card, indent=2, default=str) + "\n"),
        }
    )


def load_model(folder: Path) -> SegmentModel:
    return joblib.load(folder / MODEL_FILE)


def load_value_model(folder: Path) -> ValueModel | NoValueModel:
    """The value model saved with the quarter's segmentation model, or why there is none."""
    path = folder / VALUE_MODEL_FILE
    return joblib.load(path) if path.exists() else NoValueModel(SAVED_WITHOUT_VALUE_MODEL)


def model_quality(folder: Path) -> dict[str, float]:
    """The fit-quality figures of a saved model's card, read without loading the model; empty when none is saved."""
    card = folder / CARD_FILE
    return json.loads(card.read_text())["quality"] if card.exists() else {}


def has_model(layout: DataLayout, quarter: date) -> bool:
    return (layout.model_folder(quarter) / MODEL_FILE).exists()


def latest_model_before(layout: DataLayout, quarter: date) -> SegmentModel | None:
    """The newest model of an earlier quarter: the one whose segment ids a refit keeps."""
    earlier = [
        folder
        for folder in layout.model_folders()
        if folder < layout.model_folder(quarter) and (folder / MODEL_FILE).exists()
    ]
    return load_model(earlier[-1]) if earlier else None


def _write_text(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8")
