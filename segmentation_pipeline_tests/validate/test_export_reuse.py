"""Tests of reusing the CRM export's last validation: only while the export, the settings and the validated files
are exactly as that validation left them, and never when a time-dependent rule flagged a row."""

from __future__ import annotations

import dataclasses
import os

import pandas as pd
import pytest

from segmentation_pipeline.core.ingest.contract import CUSTOMERS
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate import partitions
from segmentation_pipeline.core.validate.export import receipt_path, validate_export
from segmentation_pipeline.core.validate.settings import ValidationSettings
from segmentation_pipeline_tests.validate.builders import CUSTOMERS_HEADER, NOW, customer_row, land

ROWS = [customer_row("c1"), customer_row("c2", email="not-an-email"), customer_row("c3")]


@pytest.fixture
def validations(monkeypatch):
    """Counts the validations that really read and checked the export."""
    calls = []
    validate_days = partitions.validate_days

    def counted(*args, **kwargs):
        calls.append(args[1].name)
        yield from validate_days(*args, **kwargs)

    monkeypatch.setattr(partitions, "validate_days", counted)
    return calls


def first_validation(tmp_path, rows=ROWS, settings=None):
    layout = DataLayout(tmp_path)
    land(layout.landing, CUSTOMERS, CUSTOMERS_HEADER, rows)
    return layout, validate_export(layout, settings or ValidationSettings(), "run-1", NOW)


def test_an_unchanged_export_reuses_the_findings_of_its_last_validation(tmp_path, validations):
    layout, first = first_validation(tmp_path)
    validated = layout.validated("customers", None).read_bytes()

    again = validate_export(layout, ValidationSettings(), "run-2", NOW + pd.Timedelta(days=1))

    assert validations == ["customers"]
    assert again.reused_from == "run-1" and first.reused_from is None
    assert (again.summary.rows_in, again.summary.rows_clean, again.summary.rows_quarantined) == (3, 2, 1)
    assert again.summary.check_counts == first.summary.check_counts
    assert again.summary.check_counts["malformed_email"] == 1
    assert again.summary.quarantine_examples.to_markdown() == first.summary.quarantine_examples.to_markdown()
    assert again.read == first.read and again.read.files == ["crm/customers.csv"]
    assert [(o.name, o.success, o.partitions) for o in again.expectations] == [
        (o.name, o.success, o.partitions) for o in first.expectations
    ]
    assert len(again.expectations) > 3
    assert layout.validated("customers", None).read_bytes() == validated


def test_a_failing_verdict_is_reused_as_failing(tmp_path, validations):
    layout, first = first_validation(tmp_path, settings=ValidationSettings(min_rows=10))

    again = validate_export(layout, ValidationSettings(min_rows=10), "run-2", NOW)

    failed = [(o.name, o.severity, o.observed) for o in again.expectations if not o.success]
    assert again.reused_from == "run-1"
    assert failed == [(o.name, o.severity, o.observed) for o in first.expectations if not o.success]
    assert ("row count within bounds", "critical", 3) in failed


def test_a_changed_export_is_validated_again(tmp_path, validations):
    layout, _ = first_validation(tmp_path)
    land(layout.landing, CUSTOMERS, CUSTOMERS_HEADER, [*ROWS, customer_row("c4")])

    again = validate_export(layout, ValidationSettings(), "run-2", NOW)

    assert validations == ["customers", "customers"]
    assert again.reused_from is None and again.summary.rows_clean == 3


def test_changed_settings_validate_again(tmp_path, validations):
    layout, _ = first_validation(tmp_path)

    validate_export(layout, dataclasses.replace(ValidationSettings(), max_amount=5.0), "run-2", NOW)

    assert validations == ["customers", "customers"]


def test_a_validated_copy_changed_since_is_rewritten(tmp_path, validations):
    layout, _ = first_validation(tmp_path)
    validated = layout.validated("customers", None)
    stat = validated.stat()
    touched = stat.st_mtime_ns + 1_000_000
    os.utime(validated, ns=(stat.st_atime_ns, touched))

    again = validate_export(layout, ValidationSettings(), "run-2", NOW)

    assert validations == ["customers", "customers"] and again.reused_from is None
    assert validated.stat().st_mtime_ns != touched
    assert validate_export(layout, ValidationSettings(), "run-3", NOW).reused_from == "run-2"


def test_a_removed_quarantine_file_is_rewritten(tmp_path, validations):
    layout, _ = first_validation(tmp_path)
    layout.quarantined("customers", None).unlink()

    validate_export(layout, ValidationSettings(), "run-2", NOW)

    assert validations == ["customers", "customers"]
    assert layout.quarantined("customers", None).is_file()


def test_a_row_created_in_the_future_is_checked_again_on_every_run(tmp_path, validations):
    layout, first = first_validation(tmp_path, rows=[*ROWS, customer_row("c9", created_at="2099-01-01T00:00:00Z")])
    assert first.summary.check_counts["timestamp_in_future"] == 1

    validate_export(layout, ValidationSettings(), "run-2", NOW)

    assert validations == ["customers", "customers"]


def test_a_damaged_receipt_means_validating_again(tmp_path, validations):
    layout, _ = first_validation(tmp_path)
    receipt_path(layout).write_text('{"fingerprint": "', encoding="utf-8")

    assert validate_export(layout, ValidationSettings(), "run-2", NOW).reused_from is None
    assert validations == ["customers", "customers"]
