"""Tests of the row checks of the customer export: which rows are quarantined and why."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from segmentation_pipeline.core.ingest.contract import CUSTOMERS
from segmentation_pipeline.core.validate.row_checks import EMAIL_PATTERN, validate
from segmentation_pipeline.core.validate.rules import ROW_CHECKS
from segmentation_pipeline_tests.validate.builders import (
    CUSTOMERS_HEADER,
    RUN_ID,
    check_partition,
    customer_context,
    customer_row,
    land,
    reasons_by,
)


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "ann@example", "ann@@example.com", "ann lee@example.com", "@example.com", "ann@.com@x.y"],
)
def test_malformed_email_is_quarantined(tmp_path, email):
    frame = land(tmp_path, CUSTOMERS, CUSTOMERS_HEADER, [customer_row("c1"), customer_row("c2", email=email)])

    outcome = validate(frame, CUSTOMERS, customer_context(), RUN_ID)

    assert outcome.clean["customer_id"].tolist() == ["c1"]
    assert reasons_by(outcome, "customer_id") == {"c2": "malformed_email"}


def test_valid_or_missing_emails_are_clean(tmp_path):
    rows = [
        customer_row("c1", email="first.last+tag@mail.example.co.uk"),
        customer_row("c2", email="ZOË@exämple.de"),
        customer_row("c3", email=""),
    ]
    frame = land(tmp_path, CUSTOMERS, CUSTOMERS_HEADER, rows)

    outcome = validate(frame, CUSTOMERS, customer_context(), RUN_ID)

    assert outcome.clean["customer_id"].tolist() == ["c1", "c2", "c3"]
    assert len(outcome.quarantine) == 0


def test_email_with_trailing_newline_is_malformed():
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series(["c1", "c2"], dtype="str"),
            "created_at": pd.Series(pd.to_datetime(["2025-01-01", "2025-01-01"], utc=True)).dt.as_unit("us"),
            "email": pd.Series(["ann@example.com", "bob@example.com\n"], dtype="str"),
            "_source_file": pd.Series(["crm/customers.csv"] * 2, dtype="str"),
            "_source_row": [1, 2],
        }
    )

    outcome = validate(frame, CUSTOMERS, customer_context(), RUN_ID)

    assert outcome.clean["customer_id"].tolist() == ["c1"]
    assert reasons_by(outcome, "customer_id") == {"c2": "malformed_email"}


def test_customer_rules(tmp_path):
    rows = [
        customer_row("c1"),
        customer_row("c2", created_at="2026-03-01T22:00:01Z"),
        customer_row("c1", email="other@example.com"),
        customer_row("", email="x@y.z"),
        customer_row("c3", created_at=""),
        customer_row("c4", created_at="2027-01-01", email="bad"),
        customer_row("c5", created_at="2026-03-01T22:00:00Z"),
    ]
    frame = land(tmp_path, CUSTOMERS, CUSTOMERS_HEADER, rows)

    outcome = validate(frame, CUSTOMERS, customer_context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.clean["customer_id"].tolist() == ["c1", "c5"]
    assert outcome.clean["email"].tolist() == ["ann@example.com", "ann@example.com"]
    assert reasons_by(outcome, "_source_row") == {
        2: "timestamp_in_future",
        3: "duplicate_key",
        4: "missing_required_value",
        5: "missing_required_value",
        6: "timestamp_in_future, malformed_email",
    }
    assert outcome.check_counts == {
        "missing_required_value": 2,
        "duplicate_key": 1,
        "timestamp_in_future": 2,
        "malformed_email": 1,
    }
    assert outcome.quarantine["partition_date"].isna().all()
    assert outcome.quarantine["run_id"].tolist() == [RUN_ID] * 5


def test_customers_have_no_partition_or_unknown_customer_rule():
    assert [name for name, _ in ROW_CHECKS["customers"]] == [
        "missing_required_value",
        "duplicate_key",
        "timestamp_in_future",
        "malformed_email",
    ]


def test_first_valid_copy_of_a_customer_wins_when_the_first_copy_is_invalid(tmp_path):
    # the repro: the valid second copy used to be quarantined as a duplicate, leaving no clean customer
    rows = ["C1,2024-01-01T00:00:00Z,bad-email", "C1,2024-01-01T00:00:00Z,a@b.com"]
    frame = land(tmp_path, CUSTOMERS, "customer_id,created_at,email", rows)

    outcome = validate(frame, CUSTOMERS, customer_context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.clean["customer_id"].tolist() == ["C1"]
    assert outcome.clean["email"].tolist() == ["a@b.com"]
    assert outcome.clean["_source_row"].tolist() == [2]
    assert reasons_by(outcome, "_source_row") == {1: "malformed_email"}
    assert outcome.check_counts == {
        "missing_required_value": 0,
        "duplicate_key": 0,
        "timestamp_in_future": 0,
        "malformed_email": 1,
    }


def test_two_invalid_copies_of_a_customer_are_each_quarantined_for_their_own_reasons(tmp_path):
    rows = [
        customer_row("c1", email="bad"),
        customer_row("c1", created_at="2026-03-02T00:00:00Z"),
        customer_row("c1", email="c1@example.com"),
        customer_row("c1", email="later@example.com"),
    ]
    frame = land(tmp_path, CUSTOMERS, CUSTOMERS_HEADER, rows)

    outcome = validate(frame, CUSTOMERS, customer_context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.clean["email"].tolist() == ["c1@example.com"]
    assert reasons_by(outcome, "_source_row") == {1: "malformed_email", 2: "timestamp_in_future", 4: "duplicate_key"}


def test_the_email_rule_treats_every_unicode_space_as_python_does():
    spaces = [chr(code) for code in range(0x3001) if chr(code).isspace()]
    emails = [f"ann{space}lee@example.com" for space in spaces] + ["ann.lee@example.com", "ann@lee@example.com"]
    frame = pd.DataFrame(
        {
            "customer_id": pd.Series([f"c{index}" for index in range(len(emails))], dtype="str"),
            "created_at": pd.Series(pd.to_datetime(["2025-01-01"] * len(emails), utc=True)).dt.as_unit("us"),
            "email": pd.Series(emails, dtype="str"),
        }
    )

    outcome = validate(frame, CUSTOMERS, customer_context(), RUN_ID)

    python_says = {email for email in emails if re.fullmatch(EMAIL_PATTERN, email)}
    assert set(outcome.clean["email"]) == python_says == {"ann.lee@example.com"}
    assert len(outcome.quarantine) == len(spaces) + 1
