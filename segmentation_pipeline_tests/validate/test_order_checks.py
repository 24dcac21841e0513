"""Tests of the row checks of orders: which rows are quarantined, why, and what the clean output looks like."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from segmentation_pipeline.core.ingest.contract import ORDERS, clean_schema, quarantine_schema
from segmentation_pipeline.core.ingest.landing import read_landing
from segmentation_pipeline.core.validate.row_checks import validate
from segmentation_pipeline.core.validate.rules import ROW_CHECKS
from segmentation_pipeline_tests.validate.builders import (
    DAY,
    ORDERS_HEADER,
    RUN_ID,
    check_partition,
    context,
    land,
    order_row,
    reasons_by,
)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"customer_id": ""}, "missing_required_value"),
        ({"amount": ""}, "missing_required_value"),
        ({"amount": "NaN"}, "missing_required_value"),
        ({"ordered_at": ""}, "missing_required_value"),
        ({"order_id": ""}, "missing_required_value"),
        ({"customer_id": "c9"}, "unknown_customer"),
        ({"ordered_at": "2026-02-28T23:59:59Z"}, "timestamp_outside_partition"),
        ({"ordered_at": "2026-03-01T01:00:00+02:00"}, "timestamp_outside_partition"),
        ({"ordered_at": "2026-03-01T22:00:01Z"}, "timestamp_in_future"),
        ({"ordered_at": "2026-03-02T00:00:00Z"}, "timestamp_outside_partition, timestamp_in_future"),
        ({"amount": "-0.01"}, "negative_amount"),
        ({"amount": "inf"}, "amount_not_finite"),
        # -inf is both negative and not finite
        ({"amount": "-inf"}, "negative_amount, amount_not_finite"),
        ({"amount": "1000000.01"}, "amount_too_large"),
        ({"status": "shipped"}, "unknown_status"),
        ({"order_id": "o-old"}, "duplicate_key"),
    ],
    ids=[
        "no-customer",
        "no-amount",
        "nan-amount",
        "no-timestamp",
        "no-order-id",
        "unknown-customer",
        "day-before",
        "offset-pulls-into-previous-day",
        "one-second-in-future",
        "next-midnight",
        "negative-amount",
        "plus-inf",
        "minus-inf",
        "too-large",
        "unknown-status",
        "key-seen-earlier",
    ],
)
def test_order_breaking_one_rule_is_quarantined_with_that_reason(tmp_path, fields, reason):
    good = order_row(order_id="o-good")
    bad = order_row(**{"order_id": "o-bad", **fields})
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [good, bad])

    outcome = validate(frame, ORDERS, context(earlier_keys=pd.Index(["o-old"], dtype="str")), RUN_ID)

    assert outcome.clean["order_id"].tolist() == ["o-good"]
    assert outcome.quarantine["reason"].tolist() == [reason]
    assert outcome.quarantine["_source_row"].tolist() == [2]
    expected_counts = dict.fromkeys([name for name, _ in ROW_CHECKS["orders"]], 0)
    for name in reason.split(", "):
        expected_counts[name] = 1
    assert outcome.check_counts == expected_counts


def test_order_boundaries_are_clean(tmp_path):
    rows = [
        order_row("o1", ordered_at="2026-03-01T00:00:00Z"),  # start of the partition day
        order_row("o2", ordered_at="2026-03-01T22:00:00Z"),  # exactly now
        order_row("o3", ordered_at="2026-03-01T01:00:00+01:00"),  # midnight UTC written with an offset
        order_row("o4", amount="0"),
        order_row("o5", amount="1000000"),  # exactly max_amount
        order_row("o6", amount="-0"),
    ]
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, rows)

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.clean["order_id"].tolist() == ["o1", "o2", "o3", "o4", "o5", "o6"]
    assert len(outcome.quarantine) == 0
    assert set(outcome.check_counts.values()) == {0}


def test_max_amount_comes_from_the_context(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", amount="50"), order_row("o2", amount="50.5")])

    outcome = validate(frame, ORDERS, context(max_amount=50.0), RUN_ID)

    assert outcome.clean["order_id"].tolist() == ["o1"]
    assert reasons_by(outcome, "order_id") == {"o2": "amount_too_large"}


def test_duplicate_order_within_partition_keeps_first_by_row_order(tmp_path):
    rows = [order_row("o1", amount="1"), order_row("o2"), order_row("o1", amount="2"), order_row("o1", amount="3")]
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, rows)

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.clean["order_id"].tolist() == ["o1", "o2"]
    assert outcome.clean["amount"].tolist() == [1.0, 10.0]
    assert outcome.quarantine["_source_row"].tolist() == [3, 4]
    assert outcome.quarantine["reason"].tolist() == ["duplicate_key", "duplicate_key"]
    assert outcome.check_counts["duplicate_key"] == 2


def test_duplicate_order_across_files_keeps_the_copy_from_the_first_file_name(tmp_path):
    land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", amount="2")], name="b.csv")
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", amount="1"), order_row("o2")], name="a.csv")
    assert frame["_source_file"].str.rsplit("/", n=1).str[-1].tolist() == ["a.csv", "a.csv", "b.csv"]

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.clean["amount"].tolist() == [1.0, 10.0]
    assert outcome.clean["_source_file"].str.endswith("a.csv").all()
    assert outcome.quarantine["_source_file"].str.endswith("b.csv").tolist() == [True]
    assert outcome.quarantine["reason"].tolist() == ["duplicate_key"]


def test_first_valid_copy_of_an_order_wins_when_the_first_copy_is_invalid(tmp_path):
    # the repro: an invalid first copy used to push the valid second copy into quarantine as a duplicate
    rows = [order_row("o1", customer_id="c9"), order_row("o1")]
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, rows)

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.clean["_source_row"].tolist() == [2]
    assert outcome.clean["customer_id"].tolist() == ["c1"]
    assert reasons_by(outcome, "_source_row") == {1: "unknown_customer"}
    assert outcome.check_counts["duplicate_key"] == 0
    assert outcome.check_counts["unknown_customer"] == 1


def test_invalid_copies_of_an_order_keep_their_own_reasons_and_copies_after_the_valid_one_are_duplicates(tmp_path):
    rows = [
        order_row("o1", customer_id="c9"),  # invalid: no earlier valid copy, so not a duplicate
        order_row("o1", amount="-1"),  # invalid too: still no earlier valid copy
        order_row("o1", amount="3"),  # the first valid copy: clean
        order_row("o1", amount="4"),  # a valid copy after it: duplicate
        order_row("o1", amount="-5"),  # invalid after the valid copy: both
        order_row("o2", amount="inf"),
        order_row("o2", amount="inf"),  # two invalid copies and no valid one: each for its own reason only
    ]
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, rows)

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.clean["_source_row"].tolist() == [3]
    assert outcome.clean["amount"].tolist() == [3.0]
    assert reasons_by(outcome, "_source_row") == {
        1: "unknown_customer",
        2: "negative_amount",
        4: "duplicate_key",
        5: "duplicate_key, negative_amount",
        6: "amount_not_finite",
        7: "amount_not_finite",
    }
    assert outcome.check_counts["duplicate_key"] == 2


def test_invalid_copy_in_the_first_file_does_not_push_out_the_valid_copy_in_a_later_file(tmp_path):
    land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", amount="2")], name="b.csv")
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", status="shipped")], name="a.csv")

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.clean["_source_file"].str.endswith("b.csv").tolist() == [True]
    assert outcome.clean["amount"].tolist() == [2.0]
    assert outcome.quarantine["_source_file"].str.endswith("a.csv").tolist() == [True]
    assert outcome.quarantine["reason"].tolist() == ["unknown_status"]


def test_order_validated_on_an_earlier_day_is_a_duplicate_even_when_invalid(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o-old", customer_id="c9"), order_row("o-old")])

    outcome = validate(frame, ORDERS, context(earlier_keys=pd.Index(["o-old"], dtype="str")), RUN_ID)

    assert len(outcome.clean) == 0
    assert reasons_by(outcome, "_source_row") == {1: "duplicate_key, unknown_customer", 2: "duplicate_key"}


def test_missing_order_ids_are_not_duplicates_of_each_other(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row(""), order_row("")])

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.quarantine["reason"].tolist() == ["missing_required_value", "missing_required_value"]
    assert outcome.check_counts["duplicate_key"] == 0


def test_key_seen_earlier_and_repeated_in_partition_is_quarantined_every_time(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o-old"), order_row("o-old"), order_row("o-new")])

    outcome = validate(frame, ORDERS, context(earlier_keys=pd.Index(["o-old"], dtype="str")), RUN_ID)

    assert outcome.clean["order_id"].tolist() == ["o-new"]
    assert outcome.quarantine["_source_row"].tolist() == [1, 2]
    assert outcome.quarantine["reason"].tolist() == ["duplicate_key", "duplicate_key"]


def test_row_breaking_several_order_rules_is_quarantined_once_with_all_reasons_in_rule_order(tmp_path):
    rows = [
        order_row("o1"),
        order_row("o2", customer_id="c9", ordered_at="2026-02-27T10:00:00Z", amount="-5", status="lost"),
        order_row("o1", amount="2000000", status="pending"),
    ]
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, rows)

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert len(outcome.quarantine) == 2
    assert reasons_by(outcome, "_source_row") == {
        2: "unknown_customer, timestamp_outside_partition, negative_amount, unknown_status",
        3: "duplicate_key, amount_too_large, unknown_status",
    }
    assert outcome.check_counts == {
        "missing_required_value": 0,
        "duplicate_key": 1,
        "unknown_customer": 1,
        "timestamp_outside_partition": 1,
        "timestamp_in_future": 0,
        "negative_amount": 1,
        "amount_not_finite": 0,
        "amount_too_large": 1,
        "unknown_status": 2,
    }


def test_clean_orders_get_completed_for_missing_status_and_lower_case_status(tmp_path):
    rows = [order_row("o1", status=""), order_row("o2", status="Refunded"), order_row("o3", status="CANCELLED")]
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, rows)

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.clean["status"].tolist() == ["completed", "refunded", "cancelled"]
    assert len(outcome.quarantine) == 0
    # the input frame is not modified
    assert frame["status"].isna().tolist() == [True, False, False]


def test_quarantined_orders_keep_their_status_as_delivered(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", customer_id="c9", status="")])

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.quarantine["status"].isna().tolist() == [True]


def test_orders_mixed_frame_splits_into_clean_and_quarantine_without_losing_rows(tmp_path):
    land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1"), order_row("o4", amount="inf")], name="b.csv")
    rows = [order_row("o1"), order_row("o2", customer_id="c2"), order_row("o3", customer_id="c9")]
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, rows, name="a.csv")

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    check_partition(frame, outcome)
    assert outcome.rows_in == 5
    assert outcome.clean["order_id"].tolist() == ["o1", "o2"]
    assert outcome.quarantine["order_id"].tolist() == ["o3", "o1", "o4"]
    assert outcome.quarantine["reason"].tolist() == ["unknown_customer", "duplicate_key", "amount_not_finite"]
    assert outcome.quarantine["partition_date"].tolist() == [DAY, DAY, DAY]
    assert outcome.quarantine["run_id"].tolist() == [RUN_ID] * 3
    assert list(outcome.quarantine.columns) == quarantine_schema(ORDERS).names
    assert list(outcome.clean.columns) == clean_schema(ORDERS).names
    assert list(outcome.clean.index) == [0, 1]
    assert list(outcome.quarantine.index) == [0, 1, 2]


def test_outputs_convert_to_the_contract_arrow_schemas(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1"), order_row("o2", customer_id="c9")])

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    clean = pa.Table.from_pandas(outcome.clean, schema=clean_schema(ORDERS), preserve_index=False)
    quarantine = pa.Table.from_pandas(outcome.quarantine, schema=quarantine_schema(ORDERS), preserve_index=False)
    assert clean.num_rows == 1
    assert quarantine.column("partition_date").to_pylist() == [DAY]
    assert quarantine.column("reason").to_pylist() == ["unknown_customer"]


def test_validate_ignores_the_input_index(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1"), order_row("o2", customer_id="c9")])
    frame.index = [10, 20]

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.clean["order_id"].tolist() == ["o1"]
    assert reasons_by(outcome, "order_id") == {"o2": "unknown_customer"}


def test_empty_orders_partition_validates_to_empty_outputs(tmp_path):
    frame = read_landing(tmp_path, ORDERS, DAY).frame

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert len(outcome.clean) == 0
    assert len(outcome.quarantine) == 0
    assert list(outcome.quarantine.columns) == quarantine_schema(ORDERS).names
    assert outcome.check_counts == dict.fromkeys([name for name, _ in ROW_CHECKS["orders"]], 0)
