"""The model registry: one folder per quarter under `models/segmentation/`, holding the fitted model and its card."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import joblib

from segmentation_pipeline.core.segment.model import SegmentModel
from segmentation_pipeline.core.storage.atomic import staged_file, write_text_atomically
from segmentation_pipeline.core.storage.layout import DataLayout

MODEL_FILE, CARD_FILE = "model.joblib", "card.json"


def save_model(model: SegmentModel, folder: Path) -> None:
    """`model.joblib` plus `card.json`, written under temporary names and renamed into place."""
    with staged_file(folder / MODEL_FILE) as temporary:
        joblib.dump(model, temporary)
    write_text_atomically(json.dumps(model.card(), indent=2, default=str) + "\n", folder / CARD_FILE)


def load_model(folder: Path) -> SegmentModel:
    return joblib.load(folder / MODEL_FILE)


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
