"""Tests of typing landing files by the contract: casts, lineage columns, and the message of a value that cannot be
cast."""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pytest

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, SURVEY_RESPONSES
from segmentation_pipeline.core.ingest.landing import read_landing
from segmentation_pipeline_tests.ingest.builders import (
    CUSTOMERS_HEADER,
    DAY,
    ORDERS_DIR,
    ORDERS_HEADER,
    SURVEY_DIR,
    SURVEY_HEADER,
    input_error,
    read_orders,
    utc,
    write,
    write_parquet,
)

# ----------------------------------------------------------------------------------------------------------------
# reading and typing


def test_csv_and_parquet_files_are_concatenated_in_file_name_order_with_lineage(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/b.csv", ORDERS_HEADER + "o3,c1,2026-03-01T12:00:00Z,3.5\n")
    write_parquet(
        tmp_path,
        f"{ORDERS_DIR}/a.parquet",
        pa.table(
            {
                "order_id": ["o1", "o2"],
                "customer_id": ["c1", "c2"],
                "ordered_at": pa.array([pd.Timestamp("2026-03-01T08:00:00Z")] * 2, pa.timestamp("us", tz="UTC")),
                "amount": [1.25, 2.0],
            }
        ),
    )
    write(
        tmp_path, f"{ORDERS_DIR}/c.csv", ORDERS_HEADER + "o4,c2,2026-03-01T13:00:00Z,4\no5,c3,2026-03-01T14:00:00Z,5\n"
    )

    read = read_orders(tmp_path)
    frame = read.frame

    assert read.files == [f"{ORDERS_DIR}/a.parquet", f"{ORDERS_DIR}/b.csv", f"{ORDERS_DIR}/c.csv"]
    assert frame["order_id"].tolist() == ["o1", "o2", "o3", "o4", "o5"]
    assert frame["_source_file"].tolist() == [
        f"{ORDERS_DIR}/a.parquet",
        f"{ORDERS_DIR}/a.parquet",
        f"{ORDERS_DIR}/b.csv",
        f"{ORDERS_DIR}/c.csv",
        f"{ORDERS_DIR}/c.csv",
    ]
    assert frame["_source_row"].tolist() == [1, 2, 1, 1, 2]
    assert frame["amount"].tolist() == [1.25, 2.0, 3.5, 4.0, 5.0]
    assert list(frame.index) == [0, 1, 2, 3, 4]
    assert read.warnings == []


def test_orders_columns_are_typed_by_the_contract(tmp_path):
    write(
        tmp_path,
        f"{ORDERS_DIR}/orders.csv",
        "order_id,customer_id,ordered_at,amount,currency,status\no1,c1,2026-03-01T10:00:00Z,12,EUR,completed\n",
    )

    frame = read_orders(tmp_path).frame

    assert list(frame.columns) == [*ORDERS.column_names, "_source_file", "_source_row"]
    assert frame["amount"].dtype == "float64"
    assert str(frame["ordered_at"].dtype) == "datetime64[us, UTC]"
    assert frame["_source_row"].dtype == "int64"
    for name in ["order_id", "customer_id", "currency", "status", "channel", "product_category", "_source_file"]:
        assert pd.api.types.is_string_dtype(frame[name].dtype), name
    # columns absent from the file are present and all missing
    assert frame["channel"].isna().tolist() == [True]
    assert frame["product_category"].isna().tolist() == [True]


def test_survey_scores_are_nullable_int64(tmp_path):
    write(
        tmp_path,
        f"{SURVEY_DIR}/s.csv",
        "response_id,customer_id,submitted_at,nps,csat\nr1,c1,2026-03-01,9,\nr2,c1,2026-03-01, 7.0 ,3\n",
    )

    frame = read_landing(tmp_path, SURVEY_RESPONSES, DAY).frame

    assert str(frame["nps"].dtype) == "Int64"
    assert str(frame["csat"].dtype) == "Int64"
    assert str(frame["price_sensitivity"].dtype) == "Int64"
    assert frame["nps"].tolist() == [9, 7]
    assert frame["csat"].isna().tolist() == [True, False]
    assert frame["csat"].iloc[1] == 3
    assert frame["price_sensitivity"].isna().all()


def test_customers_bool_and_unicode_text_are_read(tmp_path):
    write(
        tmp_path,
        "crm/customers.csv",
        CUSTOMERS_HEADER
        + "c1,2026-01-01,zoe@example.com,Zoë Ångström 😀,yes\n"
        + "c2,2026-01-02,dana@example.com,דנה כהן,FALSE\n"
        + "c3,2026-01-03,omar@example.com,عمر الفاروق,\n"
        + "c4,2026-01-04,li@example.com,李小龍,1\n",
    )

    read = read_landing(tmp_path, CUSTOMERS)
    frame = read.frame

    assert str(frame["marketing_opt_in"].dtype) == "boolean"
    assert frame["marketing_opt_in"].tolist() == [True, False, pd.NA, True]
    assert frame["full_name"].tolist() == ["Zoë Ångström 😀", "דנה כהן", "عمر الفاروق", "李小龍"]
    assert frame["_source_file"].tolist() == ["crm/customers.csv"] * 4
    assert frame["created_at"].tolist() == [utc(f"2026-01-0{day}") for day in range(1, 5)]
    assert read.warnings == []


def test_utf8_byte_order_mark_does_not_hide_the_first_column(tmp_path):
    write(tmp_path, "crm/customers.csv", b"\xef\xbb\xbf" + (CUSTOMERS_HEADER + "c1,2026-01-01,a@b.co,A,no\n").encode())

    frame = read_landing(tmp_path, CUSTOMERS).frame

    assert frame["customer_id"].tolist() == ["c1"]


def test_values_and_headers_are_stripped_and_blank_strings_are_missing(tmp_path):
    write(
        tmp_path,
        f"{ORDERS_DIR}/o.csv",
        " order_id , customer_id,ordered_at,amount,status\r\n  o1 ,c1 ,2026-03-01T10:00:00Z, 5 ,   \r\n",
    )

    frame = read_orders(tmp_path).frame

    assert frame["order_id"].tolist() == ["o1"]
    assert frame["customer_id"].tolist() == ["c1"]
    assert frame["amount"].tolist() == [5.0]
    assert frame["status"].isna().tolist() == [True]


def test_timestamp_offsets_convert_to_utc_and_naive_timestamps_are_utc(tmp_path):
    write(
        tmp_path,
        f"{ORDERS_DIR}/o.csv",
        ORDERS_HEADER
        + "o1,c1,2026-03-01T23:30:00-02:00,1\n"
        + "o2,c1,2026-03-01T10:00:00,1\n"
        + "o3,c1,2026-03-01T10:00:00+05:30,1\n"
        + "o4,c1,2026-03-01 07:15:00,1\n"
        + "o5,c1,2026-03-01,1\n"
        + "o6,c1,2026-03-01T09:00:00Z,1\n",
    )

    frame = read_orders(tmp_path).frame

    assert frame["ordered_at"].tolist() == [
        utc("2026-03-02 01:30"),
        utc("2026-03-01 10:00"),
        utc("2026-03-01 04:30"),
        utc("2026-03-01 07:15"),
        utc("2026-03-01 00:00"),
        utc("2026-03-01 09:00"),
    ]
    assert str(frame["ordered_at"].dtype) == "datetime64[us, UTC]"


def test_parquet_tz_aware_and_naive_timestamps_become_utc(tmp_path):
    aware = pa.array(
        [pd.Timestamp("2026-03-01T23:30:00-02:00"), pd.Timestamp("2026-03-01T12:00:00-03:00")],
        pa.timestamp("ns", tz="America/Sao_Paulo"),
    )
    write_parquet(
        tmp_path,
        f"{ORDERS_DIR}/a.parquet",
        pa.table({"order_id": ["o1", "o2"], "customer_id": ["c1", "c1"], "ordered_at": aware, "amount": [1, 2]}),
    )
    naive = pa.array([pd.Timestamp("2026-03-01T10:00:00")], pa.timestamp("ms"))
    write_parquet(
        tmp_path,
        f"{ORDERS_DIR}/b.parquet",
        pa.table({"order_id": ["o3"], "customer_id": ["c1"], "ordered_at": naive, "amount": [3.5]}),
    )

    frame = read_orders(tmp_path).frame

    assert frame["ordered_at"].tolist() == [utc("2026-03-02 01:30"), utc("2026-03-01 15:00"), utc("2026-03-01 10:00")]
    assert str(frame["ordered_at"].dtype) == "datetime64[us, UTC]"
    assert frame["amount"].dtype == "float64"
    assert frame["amount"].tolist() == [1.0, 2.0, 3.5]


def test_parquet_with_nulls_string_timestamps_and_extra_column(tmp_path):
    write_parquet(
        tmp_path,
        f"{SURVEY_DIR}/a.parquet",
        pa.table(
            {
                "response_id": ["r1", "r2"],
                "customer_id": ["c1", None],
                "submitted_at": ["2026-03-01T23:30:00-02:00", "2026-03-01"],
                "nps": pa.array([7, None], pa.int64()),
                "junk": [1, 2],
            }
        ),
    )

    read = read_landing(tmp_path, SURVEY_RESPONSES, DAY)
    frame = read.frame

    assert "junk" not in frame.columns
    assert read.warnings == [f"{SURVEY_DIR}/a.parquet: unknown column(s) ignored: junk"]
    assert frame["customer_id"].isna().tolist() == [False, True]
    assert frame["submitted_at"].tolist() == [utc("2026-03-02 01:30"), utc("2026-03-01 00:00")]
    assert str(frame["nps"].dtype) == "Int64"
    assert frame["nps"].iloc[0] == 7
    assert frame["nps"].isna().tolist() == [False, True]


def test_nan_and_empty_amount_are_missing_and_inf_is_infinity(tmp_path):
    write(
        tmp_path,
        f"{ORDERS_DIR}/o.csv",
        ORDERS_HEADER
        + "o1,c1,2026-03-01,NaN\n"
        + "o2,c1,2026-03-01,\n"
        + "o3,c1,2026-03-01,inf\n"
        + "o4,c1,2026-03-01,-inf\n"
        + "o5,c1,2026-03-01,-12.5\n",
    )

    amounts = read_orders(tmp_path).frame["amount"].tolist()

    assert math.isnan(amounts[0])
    assert math.isnan(amounts[1])
    assert amounts[2:] == [math.inf, -math.inf, -12.5]


# ----------------------------------------------------------------------------------------------------------------
# values that cannot be cast


def test_amount_that_is_not_a_number_is_an_input_error_with_count_and_sample(tmp_path):
    write(
        tmp_path,
        f"{ORDERS_DIR}/o.csv",
        ORDERS_HEADER + 'o1,c1,2026-03-01,abc\no2,c1,2026-03-01,12\no3,c1,2026-03-01,abc\no4,c1,2026-03-01,"12,50"\n',
    )

    message = input_error(tmp_path)

    assert f"{ORDERS_DIR}/o.csv" in message
    assert "'amount'" in message
    assert "a number (float)" in message
    assert "3 value(s)" in message
    assert "'abc'" in message
    assert "'12,50'" in message


@pytest.mark.parametrize(
    ("source", "folder", "header", "row", "column", "expected", "sample"),
    [
        (SURVEY_RESPONSES, SURVEY_DIR, SURVEY_HEADER, "r1,c1,2026-03-01,7.5", "nps", "a whole number (int)", "'7.5'"),
        (
            SURVEY_RESPONSES,
            SURVEY_DIR,
            SURVEY_HEADER,
            "r1,c1,2026-03-01,seven",
            "nps",
            "a whole number (int)",
            "'seven'",
        ),
        (SURVEY_RESPONSES, SURVEY_DIR, SURVEY_HEADER, "r1,c1,2026-03-01,inf", "nps", "a whole number (int)", "'inf'"),
        (
            ORDERS,
            ORDERS_DIR,
            ORDERS_HEADER,
            "o1,c1,yesterday,1",
            "ordered_at",
            "an ISO-8601 timestamp (timestamp)",
            "'yesterday'",
        ),
        (
            ORDERS,
            ORDERS_DIR,
            ORDERS_HEADER,
            "o1,c1,2026-02-30,1",
            "ordered_at",
            "an ISO-8601 timestamp (timestamp)",
            "'2026-02-30'",
        ),
    ],
    ids=["nps-7.5", "nps-word", "nps-inf", "ordered_at-yesterday", "ordered_at-feb-30"],
)
def test_uncastable_value_is_an_input_error(tmp_path, source, folder, header, row, column, expected, sample):
    write(tmp_path, f"{folder}/f.csv", header + row + "\n")

    message = input_error(tmp_path, source)

    assert message.startswith(f"{folder}/f.csv: ")
    assert f"column '{column}'" in message
    assert expected in message
    assert "1 value(s) cannot be read" in message
    assert sample in message


def test_marketing_opt_in_maybe_is_an_input_error(tmp_path):
    write(
        tmp_path,
        "crm/customers.csv",
        CUSTOMERS_HEADER + "c1,2026-01-01,a@b.co,A,maybe\nc2,2026-01-01,b@b.co,B,yes\nc3,2026-01-01,c@b.co,C,Maybe\n",
    )

    message = input_error(tmp_path, CUSTOMERS, None)

    assert "crm/customers.csv" in message
    assert "'marketing_opt_in'" in message
    assert "true or false (bool)" in message
    assert "2 value(s)" in message
    assert "'maybe'" in message
    assert "'Maybe'" in message


def test_uncastable_value_in_a_later_file_names_that_file(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/a.csv", ORDERS_HEADER + "o1,c1,2026-03-01,1\n")
    write(tmp_path, f"{ORDERS_DIR}/b.csv", ORDERS_HEADER + "o2,c1,2026-03-01,one\n")

    message = input_error(tmp_path)

    assert message.startswith(f"{ORDERS_DIR}/b.csv: ")
    assert "'one'" in message


def test_parquet_float_nps_with_fraction_is_an_input_error(tmp_path):
    write_parquet(
        tmp_path,
        f"{SURVEY_DIR}/s.parquet",
        pa.table({"response_id": ["r1"], "customer_id": ["c1"], "submitted_at": ["2026-03-01"], "nps": [7.5]}),
    )

    message = input_error(tmp_path, SURVEY_RESPONSES)

    assert f"{SURVEY_DIR}/s.parquet" in message
    assert "column 'nps'" in message
    assert "7.5" in message


def test_whole_number_too_large_for_int64_is_an_input_error(tmp_path):
    # A 20-digit value in an int column cannot be stored as Int64; it must be reported like any other bad value,
    # not crash with a bare TypeError from pandas.
    write(tmp_path, f"{SURVEY_DIR}/s.csv", SURVEY_HEADER + "r1,c1,2026-03-01,99999999999999999999\n")

    message = input_error(tmp_path, SURVEY_RESPONSES)

    assert f"{SURVEY_DIR}/s.csv" in message
    assert "column 'nps'" in message
    assert "99999999999999999999" in message
