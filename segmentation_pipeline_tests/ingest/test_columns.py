"""Tests of landing file columns against the contract: missing required columns and unknown extra columns."""

from __future__ import annotations

import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import ORDERS, SURVEY_RESPONSES
from segmentation_pipeline_tests.ingest.builders import (
    ORDERS_DIR,
    SURVEY_DIR,
    input_error,
    read_orders,
    write,
    write_parquet,
)

# ----------------------------------------------------------------------------------------------------------------
# columns


def test_missing_required_column_names_file_and_column(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/o.csv", "order_id,customer_id,ordered_at\no1,c1,2026-03-01\n")

    message = input_error(tmp_path)

    assert f"{ORDERS_DIR}/o.csv" in message
    assert "'amount'" in message
    assert "'order_id'" not in message


def test_all_missing_required_columns_are_named(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/o.csv", "order_id,ordered_at\no1,2026-03-01\n")

    message = input_error(tmp_path)

    assert "'customer_id', 'amount'" in message
    assert "found columns: order_id, ordered_at" in message


def test_missing_required_column_in_parquet_names_file_and_column(tmp_path):
    write_parquet(
        tmp_path, f"{SURVEY_DIR}/s.parquet", pa.table({"response_id": ["r1"], "submitted_at": ["2026-03-01"]})
    )

    message = input_error(tmp_path, SURVEY_RESPONSES)

    assert f"{SURVEY_DIR}/s.parquet" in message
    assert "'customer_id'" in message


def test_unknown_extra_column_is_dropped_and_reported(tmp_path):
    write(
        tmp_path,
        f"{ORDERS_DIR}/o.csv",
        "order_id,customer_id,coupon,ordered_at,amount,Notes\no1,c1,X,2026-03-01,1,hi\n",
    )

    read = read_orders(tmp_path)

    assert "coupon" not in read.frame.columns
    assert "Notes" not in read.frame.columns
    assert list(read.frame.columns) == [*ORDERS.column_names, "_source_file", "_source_row"]
    assert read.warnings == [f"{ORDERS_DIR}/o.csv: unknown column(s) ignored: coupon, Notes"]
