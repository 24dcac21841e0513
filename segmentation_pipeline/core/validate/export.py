"""Validating the CRM export, reusing the last validation while the export has not changed.

The export is the whole customer base, re-read every night though it changes far less often than that. A receipt
beside the validated copy records what that validation read and judged (a fingerprint of the export files, the
settings, the suite and the checking code) and what it found (read report, row counts, suite verdicts); while the
fingerprint and the validated files are unchanged, the next run reports the receipt's findings instead of reading,
checking and judging the same rows again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date
from io import StringIO
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pandas as pd

from segmentation_pipeline import __version__
from segmentation_pipeline.core.ingest import contract, landing
from segmentation_pipeline.core.ingest.contract import CUSTOMERS
from segmentation_pipeline.core.ingest.crm_database import CrmDatabase
from segmentation_pipeline.core.ingest.landing import ReadReport, SkippedFile, landing_files
from segmentation_pipeline.core.storage.atomic import write_text_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate import expectations, partitions, row_checks, rules
from segmentation_pipeline.core.validate.expectations import ExpectationOutcome, SuiteRunner, load_suite
from segmentation_pipeline.core.validate.row_checks import OutcomeSummary
from segmentation_pipeline.core.validate.settings import ValidationSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

RECEIPT_VERSION = 1
CHECKING_MODULES: tuple[ModuleType, ...] = (contract, landing, row_checks, rules, expectations, partitions)
"""The code that decides what a validation finds: a change to any of them (an upgrade, a new rule) re-validates."""
TIME_DEPENDENT_CHECK = "timestamp_in_future"
"""The one customer rule whose verdict depends on when it runs: a row it flagged may pass later, so a validation that
flagged any row is never reused."""


@dataclass(frozen=True)
class ExportValidation:
    """What validating the export found; `reused_from` is the run whose validation was reused, if it was."""

    read: ReadReport
    summary: OutcomeSummary
    expectations: list[ExpectationOutcome]
    reused_from: str | None = None


def validate_export(
    layout: DataLayout,
    settings: ValidationSettings,
    run_id: str,
    now: pd.Timestamp,
    database: CrmDatabase | None = None,
    spark: SparkSession | None = None,
) -> ExportValidation:
    """Validate the CRM export (or the CRM database's customers table, which is always re-read: nothing cheap tells
    whether a table changed), or reuse the last validation of an unchanged export. With a Spark session, Spark
    checks the rows and runs the suite."""
    fingerprint = None if database else export_fingerprint(layout, settings)
    if fingerprint and (reused := _reusable(layout, fingerprint)):
        return reused
    batches = partitions.validate_days(layout, CUSTOMERS, [None], settings, run_id, now, database, spark)
    reads, outcomes = next(batches)
    outcome = outcomes[None]
    verdicts = partitions.judged(SuiteRunner(CUSTOMERS.name, settings, spark), outcomes)
    batches.close()  # the rows Spark cached for the suite are released
    validation = ExportValidation(reads[None], outcome.summary(), verdicts)
    if fingerprint:
        _write_receipt(layout, fingerprint, validation, run_id)
    return validation


def receipt_path(layout: DataLayout) -> Path:
    return layout.warehouse / "receipts" / f"{CUSTOMERS.name}.json"


def export_fingerprint(layout: DataLayout, settings: ValidationSettings) -> str:
    """A digest of everything a validation of the export depends on, the export's bytes included."""
    digest = hashlib.sha256(f"{RECEIPT_VERSION} {__version__}".encode())
    digest.update(json.dumps([dataclasses.asdict(settings), load_suite(CUSTOMERS.name)], sort_keys=True).encode())
    for module in CHECKING_MODULES:
        digest.update(Path(module.__file__).read_bytes())
    for path in landing_files(layout.landing, CUSTOMERS):
        digest.update(f"{path.relative_to(layout.landing)}\0".encode())
        with path.open("rb") as file:
            digest.update(hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()


def _outputs(layout: DataLayout) -> list[Path]:
    return [layout.validated(CUSTOMERS.name, None), layout.quarantined(CUSTOMERS.name, None)]


def _stats(paths: list[Path]) -> list[list[int]] | None:
    """Size and modification time of each file: a validated file rewritten or removed since invalidates the receipt."""
    if not all(path.is_file() for path in paths):
        return None
    return [[path.stat().st_size, path.stat().st_mtime_ns] for path in paths]


def _write_receipt(layout: DataLayout, fingerprint: str, validation: ExportValidation, run_id: str) -> None:
    summary = validation.summary
    receipt = {
        "fingerprint": fingerprint,
        "outputs": _stats(_outputs(layout)),
        "run_id": run_id,
        "read": dataclasses.asdict(validation.read),
        "summary": {
            **{name: getattr(summary, name) for name in ("rows_in", "rows_clean", "rows_quarantined", "check_counts")},
            "quarantine_examples": summary.quarantine_examples.to_json(orient="table", index=False, date_format="iso"),
        },
        "expectations": [dataclasses.asdict(outcome) for outcome in validation.expectations],
    }
    write_text_atomically(json.dumps(receipt, default=str, indent=1), receipt_path(layout), layout=layout)


def _reusable(layout: DataLayout, fingerprint: str) -> ExportValidation | None:
    path = receipt_path(layout)
    try:
        receipt = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # no receipt yet, or one a crash or a hand cut short: validate again
    summary = receipt["summary"]
    if (
        receipt["fingerprint"] != fingerprint
        or receipt["outputs"] != _stats(_outputs(layout))
        or summary["check_counts"].get(TIME_DEPENDENT_CHECK, 0)
    ):
        return None
    examples = _frame(summary.pop("quarantine_examples"))
    read = receipt["read"]
    return ExportValidation(
        read=ReadReport(read["files"], read["warnings"], [SkippedFile(**skipped) for skipped in read["skipped"]]),
        summary=OutcomeSummary(**summary, quarantine_examples=examples),
        expectations=[_expectation(outcome) for outcome in receipt["expectations"]],
        reused_from=receipt["run_id"],
    )


def _frame(table_json: str) -> pd.DataFrame:
    """A frame back from pandas' table JSON with its types; a missing value of an untyped column comes back as
    None, as it went in, not as NaN."""
    frame = pd.read_json(StringIO(table_json), orient="table")
    untyped = [name for name, dtype in frame.dtypes.items() if dtype is pd.api.types.pandas_dtype(object)]
    frame[untyped] = frame[untyped].astype(object).where(frame[untyped].notna(), None)
    return frame


def _expectation(stored: dict) -> ExpectationOutcome:
    days = tuple(None if day is None else date.fromisoformat(day) for day in stored.pop("partitions"))
    return ExpectationOutcome(partitions=days, **stored)
