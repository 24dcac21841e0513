"""Tests of the row-level validation rules: which rows are quarantined, why, and what the clean output looks like."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from segmentation_pipeline.core.ingest.contract import (
    CUSTOMERS,
    ORDERS,
    SURVEY_RESPONSES,
    USAGE_EVENTS,
    clean_schema,
    quarantine_schema,
)
from segmentation_pipeline.core.ingest.landing import read_landing
from segmentation_pipeline.core.validate.row_checks import RULES, KeySet, RuleContext, quarantine_examples, validate

DAY = date(2026, 3, 1)
NOW = pd.Timestamp("2026-03-01T22:00:00Z")
RUN_ID = "run-42"
KNOWN = pd.Index(["c1", "c2"], dtype="str")

ORDERS_HEADER = "order_id,customer_id,ordered_at,amount,status"
SURVEY_HEADER = "response_id,customer_id,submitted_at,nps,csat,price_sensitivity"
USAGE_HEADER = "customer_id,event_ts,session_id,device_type,duration_s"
CUSTOMERS_HEADER = "customer_id,created_at,email,full_name,phone"


def land(tmp_path: Path, source, header: str, rows: list[str], name: str = "part-01.csv") -> pd.DataFrame:
    """Write one CSV landing file for the source (day folder for daily sources) and read it back typed."""
    if source.daily:
        path = tmp_path / source.landing_path / f"date={DAY.isoformat()}" / name
    else:
        path = tmp_path / f"{source.landing_path}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return read_landing(tmp_path, source, DAY if source.daily else None).frame


def context(**overrides) -> RuleContext:
    values = {"partition_day": DAY, "now": NOW, "known_customers": KNOWN}
    values.update(overrides)
    return RuleContext(**values)


def reasons_by(outcome, key: str) -> dict[str, str]:
    return dict(zip(outcome.quarantine[key].tolist(), outcome.quarantine["reason"].tolist(), strict=True))


def check_partition(frame: pd.DataFrame, outcome) -> None:
    """Every input row is in exactly one of clean and quarantine, identified by file and line."""
    rows = lambda data: list(zip(data["_source_file"], data["_source_row"], strict=True))  # noqa: E731
    clean, quarantined, original = rows(outcome.clean), rows(outcome.quarantine), rows(frame)
    assert len(clean) + len(quarantined) == len(frame)
    assert not set(clean) & set(quarantined)
    assert sorted(clean + quarantined) == sorted(original)
    assert len(set(original)) == len(original)


# ----------------------------------------------------------------------------------------------------------------
# orders


def order_row(order_id="o1", customer_id="c1", ordered_at="2026-03-01T10:00:00Z", amount="10", status="completed"):
    return f"{order_id},{customer_id},{ordered_at},{amount},{status}"


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
    expected_counts = dict.fromkeys([name for name, _ in RULES["orders"]], 0)
    for name in reason.split(", "):
        expected_counts[name] = 1
    assert outcome.rule_counts == expected_counts


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
    assert set(outcome.rule_counts.values()) == {0}


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
    assert outcome.rule_counts["duplicate_key"] == 2


def test_duplicate_order_across_files_keeps_the_copy_from_the_first_file_name(tmp_path):
    land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", amount="2")], name="b.csv")
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", amount="1"), order_row("o2")], name="a.csv")
    assert frame["_source_file"].str.rsplit("/", n=1).str[-1].tolist() == ["a.csv", "a.csv", "b.csv"]

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.clean["amount"].tolist() == [1.0, 10.0]
    assert outcome.clean["_source_file"].str.endswith("a.csv").all()
    assert outcome.quarantine["_source_file"].str.endswith("b.csv").tolist() == [True]
    assert outcome.quarantine["reason"].tolist() == ["duplicate_key"]


def test_later_copy_is_duplicate_even_when_the_first_copy_is_quarantined(tmp_path):
    rows = [order_row("o1", customer_id="c9"), order_row("o1")]
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, rows)

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert len(outcome.clean) == 0
    assert outcome.quarantine["reason"].tolist() == ["unknown_customer", "duplicate_key"]


def test_missing_order_ids_are_not_duplicates_of_each_other(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row(""), order_row("")])

    outcome = validate(frame, ORDERS, context(), RUN_ID)

    assert outcome.quarantine["reason"].tolist() == ["missing_required_value", "missing_required_value"]
    assert outcome.rule_counts["duplicate_key"] == 0


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
    assert outcome.rule_counts == {
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
    assert outcome.rule_counts == dict.fromkeys([name for name, _ in RULES["orders"]], 0)


# ----------------------------------------------------------------------------------------------------------------
# survey responses


def survey_row(response_id="r1", customer_id="c1", submitted_at="2026-03-01T09:00:00Z", nps="8", csat="4", price="3"):
    return f"{response_id},{customer_id},{submitted_at},{nps},{csat},{price}"


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
    assert sum(outcome.rule_counts.values()) == len(reason.split(", "))


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


# ----------------------------------------------------------------------------------------------------------------
# usage events


def usage_row(customer_id="c1", event_ts="2026-03-01T08:00:00Z", session_id="s1", device_type="desktop", duration="30"):
    return f"{customer_id},{event_ts},{session_id},{device_type},{duration}"


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
    assert "duplicate_key" not in outcome.rule_counts


def test_quarantined_usage_event_keeps_device_type_as_delivered(tmp_path):
    frame = land(tmp_path, USAGE_EVENTS, USAGE_HEADER, [usage_row(device_type="Mobile", duration="-2")])

    outcome = validate(frame, USAGE_EVENTS, context(), RUN_ID)

    assert outcome.quarantine["device_type"].tolist() == ["Mobile"]
    assert outcome.quarantine["reason"].tolist() == ["negative_duration"]


# ----------------------------------------------------------------------------------------------------------------
# customers


def customer_row(
    customer_id="c1", created_at="2025-06-01T12:00:00Z", email="ann@example.com", name="Ann Lee", phone="+4912345"
):
    return f"{customer_id},{created_at},{email},{name},{phone}"


def customer_context() -> RuleContext:
    return RuleContext(partition_day=None, now=NOW)


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
    assert outcome.rule_counts == {
        "missing_required_value": 2,
        "duplicate_key": 1,
        "timestamp_in_future": 2,
        "malformed_email": 1,
    }
    assert outcome.quarantine["partition_date"].isna().all()
    assert outcome.quarantine["run_id"].tolist() == [RUN_ID] * 5


def test_customers_have_no_partition_or_unknown_customer_rule():
    assert [name for name, _ in RULES["customers"]] == [
        "missing_required_value",
        "duplicate_key",
        "timestamp_in_future",
        "malformed_email",
    ]


# ----------------------------------------------------------------------------------------------------------------
# quarantine examples


def test_quarantine_examples_drop_personal_data_and_run_id(tmp_path):
    rows = [customer_row(f"c{i}", email=f"bad{i}") for i in range(1, 8)]
    frame = land(tmp_path, CUSTOMERS, CUSTOMERS_HEADER, rows)
    quarantine = validate(frame, CUSTOMERS, customer_context(), RUN_ID).quarantine
    assert len(quarantine) == 7

    examples = quarantine_examples(quarantine)

    for dropped in ["email", "full_name", "phone", "run_id"]:
        assert dropped not in examples.columns
    assert list(examples.columns) == [
        name for name in quarantine.columns if name not in {"email", "full_name", "phone", "run_id"}
    ]
    assert {"customer_id", "reason", "partition_date", "_source_file", "_source_row"} <= set(examples.columns)
    assert examples["customer_id"].tolist() == ["c1", "c2", "c3", "c4", "c5"]
    assert examples["reason"].tolist() == ["malformed_email"] * 5
    assert quarantine_examples(quarantine, limit=2)["_source_row"].tolist() == [1, 2]
    # the quarantine itself keeps everything
    assert {"email", "full_name", "phone", "run_id"} <= set(quarantine.columns)


def test_quarantine_examples_of_orders_keep_all_non_personal_columns(tmp_path):
    frame = land(tmp_path, ORDERS, ORDERS_HEADER, [order_row("o1", customer_id="c9")])
    quarantine = validate(frame, ORDERS, context(), RUN_ID).quarantine

    examples = quarantine_examples(quarantine)

    assert list(examples.columns) == [*clean_schema(ORDERS).names, "reason", "partition_date"]
    assert examples["reason"].tolist() == ["unknown_customer"]


def test_key_sets_answer_the_same_through_every_lookup_and_remember_keys_added_during_a_run():
    keys = KeySet([f"k{i}" for i in range(100)])
    few = pd.Series(["k1", "x", None, "k99"], dtype="str")  # a small partition
    many = pd.Series(["k1", "x", None, "k99"] * 5, dtype="str")  # about as large as the set: one Arrow pass
    assert keys.contains(few).tolist() == [True, False, False, True]  # first look-up: the set is scanned
    assert keys._index is None  # a nightly run never hashes the whole set
    assert keys.contains(few).tolist() == [True, False, False, True]  # from the second on: the hashed index
    assert keys._index is not None
    assert keys.contains(many).tolist() == [True, False, False, True] * 5
    keys.add(pd.Series(["x", None], dtype="str"))
    assert keys.contains(few).tolist() == [True, True, False, True]
    assert keys.contains(many).tolist() == [True, True, False, True] * 5
