"""Tests of the row checks of usage events: which rows are quarantined, why, and what the clean output looks
like."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation_pipeline.core.ingest.contract import USAGE_EVENTS
from segmentation_pipeline.core.validate.row_checks import validate
from segmentation_pipeline.core.validate.rules import ROW_CHECKS
from segmentation_pipeline_tests.validate.builders import (
    RUN_ID,
    USAGE_HEADER,
    USAGE_WITH_IDS_HEADER,
    check_partition,
    context,
    land,
    reasons_by,
    usage_event_row,
    usage_row,
)


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


def test_usage_events_without_event_ids_have_no_key_so_identical_rows_are_all_clean(tmp_path):
    frame = land(tmp_path, USAGE_EVENTS, USAGE_HEADER, [usage_row(), usage_row(), usage_row()])

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    assert len(outcome.clean) == 3
    assert "duplicate_key" not in outcome.check_counts
    assert outcome.check_counts["duplicate_event_id"] == 0


def test_usage_rules_check_event_ids_right_after_required_values():
    assert [name for name, _ in ROW_CHECKS["usage_events"]] == [
        "missing_required_value",
        "duplicate_event_id",
        "unknown_customer",
        "timestamp_outside_partition",
        "timestamp_in_future",
        "unknown_device_type",
        "negative_duration",
    ]


def test_repeated_event_ids_of_a_day_keep_the_first_valid_event(tmp_path):
    rows = [
        usage_event_row("e1", session_id="s1"),
        usage_event_row("e2", session_id="s2"),
        usage_event_row("e1", session_id="s3"),
        usage_event_row("e1", session_id="s4", duration="-1"),
        usage_event_row("", session_id="s5"),  # no event id: never a duplicate
        usage_event_row("", session_id="s6"),
    ]
    frame = land(tmp_path, USAGE_EVENTS, USAGE_WITH_IDS_HEADER, rows)

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.clean["session_id"].tolist() == ["s1", "s2", "s5", "s6"]
    assert reasons_by(outcome, "session_id") == {
        "s3": "duplicate_event_id",
        "s4": "duplicate_event_id, negative_duration",
    }
    assert outcome.check_counts["duplicate_event_id"] == 2
    assert outcome.check_counts["negative_duration"] == 1


def test_first_valid_copy_of_an_event_wins_when_the_first_copy_is_invalid(tmp_path):
    rows = [
        usage_event_row("e1", session_id="s1", device_type="smartwatch"),
        usage_event_row("e1", session_id="s2", customer_id="c3"),
        usage_event_row("e1", session_id="s3"),
        usage_event_row("e1", session_id="s4"),
    ]
    frame = land(tmp_path, USAGE_EVENTS, USAGE_WITH_IDS_HEADER, rows)

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.clean["session_id"].tolist() == ["s3"]
    assert reasons_by(outcome, "session_id") == {
        "s1": "unknown_device_type",
        "s2": "unknown_customer",
        "s4": "duplicate_event_id",
    }


def test_event_id_validated_on_an_earlier_day_is_a_duplicate(tmp_path):
    rows = [usage_event_row("e-old", session_id="s1"), usage_event_row("e-new", session_id="s2")]
    frame = land(tmp_path, USAGE_EVENTS, USAGE_WITH_IDS_HEADER, rows)

    outcome = validate(frame, USAGE_EVENTS, context(earlier_keys=pd.Index(["e-old"], dtype="str")), RUN_ID)

    assert outcome.clean["event_id"].tolist() == ["e-new"]
    assert reasons_by(outcome, "event_id") == {"e-old": "duplicate_event_id"}


def test_quarantined_usage_event_keeps_device_type_as_delivered(tmp_path):
    frame = land(tmp_path, USAGE_EVENTS, USAGE_HEADER, [usage_row(device_type="Mobile", duration="-2")])

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    assert outcome.quarantine["device_type"].tolist() == ["Mobile"]
    assert outcome.quarantine["reason"].tolist() == ["negative_duration"]
