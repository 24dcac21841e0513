"""Tests of the row checks of survey responses: which rows are quarantined and why."""

from __future__ import annotations

import pandas as pd
import pytest

from segmentation_pipeline.core.ingest.contract import SURVEY_RESPONSES
from segmentation_pipeline.core.validate.row_checks import validate
from segmentation_pipeline_tests.validate.builders import (
    RUN_ID,
    SURVEY_HEADER,
    check_partition,
    context,
    land,
    survey_row,
)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"response_id": ""}, "missing_required_value"),
        ({"customer_id": ""}, "missing_required_value"),
        ({"submitted_at": ""}, "missing_required_value"),
        ({"response_id": "r-old"}, "duplicate_key"),
        ({"customer_id": "c3"}, "unknown_customer"),
        ({"submitted_at": "2026-02-28T12:00:00Z"}, "timestamp_outside_partition"),
        ({"submitted_at": "2026-03-01T23:00:00Z"}, "timestamp_in_future"),
        ({"nps": "-1"}, "nps_out_of_range"),
        ({"nps": "11"}, "nps_out_of_range"),
        ({"csat": "0"}, "csat_out_of_range"),
        ({"csat": "6"}, "csat_out_of_range"),
        ({"price": "0"}, "price_sensitivity_out_of_range"),
        ({"price": "6"}, "price_sensitivity_out_of_range"),
        (
            {"nps": "42", "csat": "9", "price": "-3"},
            "nps_out_of_range, csat_out_of_range, price_sensitivity_out_of_range",
        ),
    ],
    ids=[
        "no-response-id",
        "no-customer",
        "no-timestamp",
        "key-seen-earlier",
        "unknown-customer",
        "day-before",
        "future",
        "nps-low",
        "nps-high",
        "csat-low",
        "csat-high",
        "price-low",
        "price-high",
        "all-scores",
    ],
)
def test_survey_response_breaking_a_rule_is_quarantined_with_that_reason(tmp_path, fields, reason):
    good = survey_row(response_id="r-good")
    bad = survey_row(**{"response_id": "r-bad", **fields})
    frame = land(tmp_path, SURVEY_RESPONSES, SURVEY_HEADER, [good, bad])

    outcome = validate(frame, SURVEY_RESPONSES, context(earlier_keys=pd.Index(["r-old"], dtype="str")), RUN_ID)

    assert outcome.clean["response_id"].tolist() == ["r-good"]
    assert outcome.quarantine["reason"].tolist() == [reason]
    assert outcome.quarantine["_source_row"].tolist() == [2]
    assert sum(outcome.check_counts.values()) == len(reason.split(", "))


def test_survey_scores_on_the_bounds_or_missing_are_clean(tmp_path):
    rows = [
        survey_row("r1", nps="0", csat="1", price="1"),
        survey_row("r2", nps="10", csat="5", price="5"),
        survey_row("r3", nps="", csat="", price=""),
    ]
    frame = land(tmp_path, SURVEY_RESPONSES, SURVEY_HEADER, rows)

    outcome = validate(frame, SURVEY_RESPONSES, context(), RUN_ID)

    assert outcome.clean["response_id"].tolist() == ["r1", "r2", "r3"]
    assert len(outcome.quarantine) == 0


def test_duplicate_survey_response_keeps_the_first(tmp_path):
    rows = [survey_row("r1", nps="1"), survey_row("r1", nps="2"), survey_row("r2")]
    frame = land(tmp_path, SURVEY_RESPONSES, SURVEY_HEADER, rows)

    outcome = validate(frame, SURVEY_RESPONSES, context(), RUN_ID)

    assert outcome.clean["response_id"].tolist() == ["r1", "r2"]
    assert outcome.clean["nps"].tolist() == [1, 8]
    assert outcome.quarantine["_source_row"].tolist() == [2]
    assert outcome.quarantine["reason"].tolist() == ["duplicate_key"]
    check_partition(frame, outcome)


def test_first_valid_copy_of_a_survey_response_wins_when_the_first_copy_is_invalid(tmp_path):
    rows = [
        survey_row("r1", nps="11"),
        survey_row("r1", nps="7"),
        survey_row("r1", nps="9"),
        survey_row("r1", csat="0"),
    ]
    frame = land(tmp_path, SURVEY_RESPONSES, SURVEY_HEADER, rows)

    outcome = validate(frame, SURVEY_RESPONSES, context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.clean["_source_row"].tolist() == [2]
    assert outcome.clean["nps"].tolist() == [7]
    assert dict(zip(outcome.quarantine["_source_row"], outcome.quarantine["reason"], strict=True)) == {
        1: "nps_out_of_range",
        3: "duplicate_key",
        4: "duplicate_key, csat_out_of_range",
    }
    assert outcome.check_counts["duplicate_key"] == 2
