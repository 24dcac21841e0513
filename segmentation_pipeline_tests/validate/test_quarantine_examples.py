"""Tests of the quarantine examples shown to people: personal data and the run id are dropped."""

from __future__ import annotations

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, clean_schema
from segmentation_pipeline.core.validate.row_checks import quarantine_examples, validate
from segmentation_pipeline_tests.validate.builders import (
    CUSTOMERS_HEADER,
    ORDERS_HEADER,
    RUN_ID,
    context,
    customer_context,
    customer_row,
    land,
    order_row,
)


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


def test_quarantine_examples_of_duplicate_customers_show_no_personal_data(tmp_path):
    rows = [customer_row("c1", email="bad"), customer_row("c1"), customer_row("c1", email="zoe@example.com")]
    quarantine = validate(
        land(tmp_path, CUSTOMERS, CUSTOMERS_HEADER, rows), CUSTOMERS, customer_context(), RUN_ID
    ).quarantine

    examples = quarantine_examples(quarantine)

    assert examples["reason"].tolist() == ["malformed_email", "duplicate_key"]
    assert examples["_source_row"].tolist() == [1, 3]
    shown = examples.to_markdown(index=False)
    for personal in ["bad", "zoe@example.com", "Ann Lee", "+4912345"]:
        assert personal not in shown
