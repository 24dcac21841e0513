"""Builders for tiny validated warehouses, so tests can state inputs row by row and expect hand-computed outputs, and
what the end-to-end tests read back from Dagster."""

import logging
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.features.customer_features import compute_features
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, DAILY_SOURCES, SOURCES, Source, clean_schema
from segmentation_pipeline.core.ingest.landing import landing_days
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.partitions import validate_days, write_validated_partition
from segmentation_pipeline.core.validate.settings import ValidationSettings
from segmentation_pipeline.sample_data import generate_landing_zone


def write_validated(layout: DataLayout, source_name: str, rows: list[dict], day: date | None = None) -> None:
    """Write rows as the validated partition of `source_name`; columns a row leaves out are null."""
    source = SOURCES[source_name]
    frame = pd.DataFrame(rows, columns=clean_schema(source).names)
    for column in frame.columns:
        if column in {"created_at", "ordered_at", "submitted_at", "event_ts"}:
            frame[column] = pd.to_datetime(frame[column], utc=True)
    write_clean(layout, source, frame, day)


def write_validated_by_day(layout: DataLayout, source_name: str, rows: list[dict], timestamp_column: str) -> None:
    """Split rows into daily partitions by the UTC day of their timestamp."""
    frame = pd.DataFrame(rows)
    days = pd.to_datetime(frame[timestamp_column], utc=True).dt.date
    for day in sorted(days.unique()):
        write_validated(layout, source_name, frame[days == day].to_dict("records"), day)


def validate_landing_zone(root: Path) -> DataLayout:
    """Validate every landing file under `root` into its warehouse with the pipeline's own batched validation (row
    checks, duplicates against earlier days, quarantine), without Dagster or expectation suites."""
    layout, now = DataLayout(root), pd.Timestamp.now(tz="UTC")
    for source in (CUSTOMERS, *DAILY_SOURCES):
        days = landing_days(layout.landing, source) if source.daily else [None]
        for _ in validate_days(layout, source, days, ValidationSettings(), "test", now):
            pass
    return layout


def write_clean(layout: DataLayout, source: Source, clean: pd.DataFrame, day: date | None) -> None:
    table = pa.Table.from_pandas(clean, schema=clean_schema(source), preserve_index=False)
    write_validated_partition(layout, source, day, table)


def warnings_of_latest_run() -> list[str]:
    """The warning lines of the latest run of the current Dagster instance."""
    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    return [record.user_message for record in instance.all_logs(run.run_id) if record.level == logging.WARNING]


def sample_features(root: Path, seed: int, customers: int, snapshot: date) -> tuple[pd.DataFrame, pd.Series]:
    """The feature table of a freshly generated sample (`segmentation_pipeline.sample_data`, 456 days up to
    `snapshot`) under `root`, and each customer's planted persona in the table's row order."""
    generate_landing_zone(root, customers=customers, days=456, seed=seed, end_date=snapshot)
    features = compute_features(validate_landing_zone(root), snapshot)
    personas = pd.read_csv(root / "ground_truth" / "personas.csv").set_index("customer_id")["persona"]
    return features, features["customer_id"].map(personas)
