"""Tests of the row checks of usage events: which rows are quarantined, why, and what the clean output looks
like."""

from __future__ import annotations

import pytest

from segmentation_pipeline.core.ingest.contract import USAGE_EVENTS
from segmentation_pipeline.core.validate.row_checks import validate
from segmentation_pipeline_tests.validate.builders import RUN_ID, USAGE_HEADER, context, land, usage_row


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"customer_id": ""}, "missing_required_value"),
        ({"event_ts": ""}, "missing_required_value"),
        ({"session_id": ""}, "missing_required_value"),
        ({"device_type": ""}, "missing_required_value"),
        ({"customer_id": "c3"}, "unknown_customer"),
        ({"event_ts": "2026-03-01T00:30:00+01:00"}, "timestamp_outside_partition"),
        ({"event_ts": "2026-03-01T22:30:00Z"}, "timestamp_in_future"),
        ({"device_type": "smartwatch"}, "unknown_device_type"),
        ({"device_type": "mobile phone"}, "unknown_device_type"),
        ({"duration": "-0.5"}, "negative_duration"),
        ({"device_type": "Watch", "duration": "-1"}, "unknown_device_type, negative_duration"),
    ],
    ids=[
        "no-customer",
        "no-timestamp",
        "no-session",
        "no-device",
        "unknown-customer",
        "offset-pulls-into-previous-day",
        "future",
        "smartwatch",
        "mobile-phone",
        "negative-duration",
        "device-and-duration",
    ],
)
def test_usage_event_breaking_a_rule_is_quarantined_with_that_reason(tmp_path, fields, reason):
    good = usage_row(session_id="s-good")
    bad = usage_row(**{"session_id": "s-bad", **fields})
    frame = land(tmp_path, USAGE_EVENTS, USAGE_HEADER, [good, bad])

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    assert outcome.clean["session_id"].tolist() == ["s-good"]
    assert outcome.quarantine["reason"].tolist() == [reason]
    assert outcome.quarantine["_source_row"].tolist() == [2]


def test_device_types_are_case_insensitive_and_lower_cased_in_clean_output(tmp_path):
    rows = [
        usage_row(device_type="Mobile"),
        usage_row(device_type="TABLET"),
        usage_row(device_type="desktop"),
        usage_row(device_type="Desktop", duration=""),
        usage_row(device_type="mobile", duration="0"),
    ]
    frame = land(tmp_path, USAGE_EVENTS, USAGE_HEADER, rows)

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    assert outcome.clean["device_type"].tolist() == ["mobile", "tablet", "desktop", "desktop", "mobile"]
    assert len(outcome.quarantine) == 0


def test_usage_events_have_no_key_so_identical_rows_are_all_clean(tmp_path):
    frame = land(tmp_path, USAGE_EVENTS, USAGE_HEADER, [usage_row(), usage_row(), usage_row()])

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    assert len(outcome.clean) == 3
    assert "duplicate_key" not in outcome.check_counts


def test_quarantined_usage_event_keeps_device_type_as_delivered(tmp_path):
    frame = land(tmp_path, USAGE_EVENTS, USAGE_HEADER, [usage_row(device_type="Mobile", duration="-2")])

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    assert outcome.quarantine["device_type"].tolist() == ["Mobile"]
    assert outcome.quarantine["reason"].tolist() == ["negative_duration"]
