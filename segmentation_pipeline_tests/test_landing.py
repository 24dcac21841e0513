"""Tests of reading landing files: file discovery, typing by the contract, lineage columns and actionable errors."""

from __future__ import annotations

import math
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, SURVEY_RESPONSES, USAGE_EVENTS
from segmentation_pipeline.core.ingest.landing import InputError, landing_days, landing_files, read_landing

DAY = date(2026, 3, 1)
ORDERS_DIR = "crm/orders/date=2026-03-01"
SURVEY_DIR = "survey/responses/date=2026-03-01"
ORDERS_HEADER = "order_id,customer_id,ordered_at,amount\n"
SURVEY_HEADER = "response_id,customer_id,submitted_at,nps\n"
CUSTOMERS_HEADER = "customer_id,created_at,email,full_name,marketing_opt_in\n"


def utc(text: str) -> pd.Timestamp:
    return pd.Timestamp(text, tz="UTC")


def write(landing: Path, relative: str, content: str | bytes) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def write_parquet(landing: Path, relative: str, table: pa.Table) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def read_orders(landing: Path):
    return read_landing(landing, ORDERS, DAY)


def input_error(landing: Path, source=ORDERS, day: date | None = DAY) -> str:
    with pytest.raises(InputError) as caught:
        read_landing(landing, source, day)
    return str(caught.value)


# ----------------------------------------------------------------------------------------------------------------
# discovery: landing_days and landing_files


def test_landing_days_lists_only_valid_day_folders_sorted(tmp_path):
    for name in ["date=2026-03-02", "date=2026-03-01", "date=2026-3-1", "other", "date=2026-03-01_old"]:
        (tmp_path / "crm/orders" / name).mkdir(parents=True)
    write(tmp_path, "crm/orders/date=2026-03-03", "a file, not a folder")

    assert landing_days(tmp_path, ORDERS) == [date(2026, 3, 1), date(2026, 3, 2)]


def test_landing_days_of_a_source_without_folder_is_empty(tmp_path):
    assert landing_days(tmp_path, USAGE_EVENTS) == []


def test_landing_days_reports_an_impossible_date_folder_as_input_error_naming_it(tmp_path):
    (tmp_path / "crm/orders/date=2026-03-01").mkdir(parents=True)
    (tmp_path / "crm/orders/date=2026-02-30").mkdir(parents=True)

    with pytest.raises(InputError, match=re.escape("date=2026-02-30")):
        landing_days(tmp_path, ORDERS)


def test_landing_files_keeps_csv_and_parquet_sorted_by_name(tmp_path):
    for name in ["10.csv", "02.csv", "01.parquet", "notes.txt", "_SUCCESS", "03.json"]:
        write(tmp_path, f"{ORDERS_DIR}/{name}", "")
    (tmp_path / ORDERS_DIR / "sub.csv").mkdir()

    names = [path.name for path in landing_files(tmp_path, ORDERS, DAY)]

    assert names == ["01.parquet", "02.csv", "10.csv"]


def test_landing_files_of_customers_are_the_csv_and_parquet_export(tmp_path):
    write(tmp_path, "crm/customers.csv", CUSTOMERS_HEADER)
    write(tmp_path, "crm/customers.json", "{}")

    assert [path.relative_to(tmp_path).as_posix() for path in landing_files(tmp_path, CUSTOMERS)] == [
        "crm/customers.csv"
    ]


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
# empty input


def test_missing_day_folder_is_zero_typed_rows(tmp_path):
    read = read_landing(tmp_path, SURVEY_RESPONSES, DAY)

    assert len(read.frame) == 0
    assert read.files == []
    assert read.warnings == []
    assert list(read.frame.columns) == [*SURVEY_RESPONSES.column_names, "_source_file", "_source_row"]
    assert str(read.frame["nps"].dtype) == "Int64"
    assert str(read.frame["submitted_at"].dtype) == "datetime64[us, UTC]"


def test_zero_byte_file_is_zero_rows_with_a_warning(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/empty.csv", b"")
    write(tmp_path, f"{ORDERS_DIR}/empty.parquet", b"")

    read = read_orders(tmp_path)

    assert len(read.frame) == 0
    assert read.warnings == [
        f"{ORDERS_DIR}/empty.csv: empty file, read as zero rows",
        f"{ORDERS_DIR}/empty.parquet: empty file, read as zero rows",
    ]


def test_header_only_csv_is_zero_rows_without_warning(tmp_path):
    write(tmp_path, f"{SURVEY_DIR}/header.csv", SURVEY_HEADER)

    read = read_landing(tmp_path, SURVEY_RESPONSES, DAY)

    assert len(read.frame) == 0
    assert read.warnings == []
    assert str(read.frame["nps"].dtype) == "Int64"
    assert str(read.frame["submitted_at"].dtype) == "datetime64[us, UTC]"


def test_empty_files_next_to_data_keep_rows_and_types(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/a.csv", b"")
    write(tmp_path, f"{ORDERS_DIR}/b.csv", ORDERS_HEADER)
    write(tmp_path, f"{ORDERS_DIR}/c.csv", ORDERS_HEADER + "o1,c1,2026-03-01T10:00:00Z,9.5\n")

    frame = read_orders(tmp_path).frame

    assert frame["order_id"].tolist() == ["o1"]
    assert frame["_source_file"].tolist() == [f"{ORDERS_DIR}/c.csv"]
    assert frame["_source_row"].tolist() == [1]
    assert frame["amount"].dtype == "float64"
    assert str(frame["ordered_at"].dtype) == "datetime64[us, UTC]"


def test_missing_customer_export_is_an_input_error(tmp_path):
    message = input_error(tmp_path, CUSTOMERS, None)

    assert "customers.csv" in message
    assert "missing" in message


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


# ----------------------------------------------------------------------------------------------------------------
# unreadable files


def test_non_utf8_csv_is_an_input_error_naming_utf8_and_file(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/latin1.csv", (ORDERS_HEADER + "o1,Andr\xe9,2026-03-01,1\n").encode("latin-1"))

    message = input_error(tmp_path)

    assert f"{ORDERS_DIR}/latin1.csv" in message
    assert "UTF-8" in message
    assert "0xe9" in message


def test_non_utf8_error_reports_the_byte_offset_in_the_file(tmp_path):
    content = (ORDERS_HEADER + "o1,Andr\xe9,2026-03-01,1\n").encode("latin-1")
    write(tmp_path, f"{ORDERS_DIR}/latin1.csv", content)

    message = input_error(tmp_path)

    offset = content.index(b"\xe9")  # 46: the first byte of the bad field is far from the start of the file
    assert f"byte 0xe9 on line 2, byte offset {offset}" in message


def test_garbage_parquet_is_an_input_error_naming_parquet_and_file(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/bad.parquet", b"this is not a parquet file at all")

    message = input_error(tmp_path)

    assert message.startswith(f"{ORDERS_DIR}/bad.parquet: ")
    assert "Parquet" in message


def test_truncated_parquet_is_an_input_error_naming_parquet_and_file(tmp_path):
    table = pa.table(
        {"order_id": ["o1"] * 50, "customer_id": ["c1"] * 50, "ordered_at": ["2026-03-01"] * 50, "amount": [1.0] * 50}
    )
    good = write_parquet(tmp_path, f"{ORDERS_DIR}/a.parquet", table)
    write(tmp_path, f"{ORDERS_DIR}/b.parquet", good.read_bytes()[: good.stat().st_size // 2])

    message = input_error(tmp_path)

    assert message.startswith(f"{ORDERS_DIR}/b.parquet: ")
    assert "Parquet" in message


def test_malformed_csv_quoting_is_an_input_error_naming_file(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/o.csv", ORDERS_HEADER + 'o1,c1,2026-03-01,1\n"o2,c1\n')

    message = input_error(tmp_path)

    assert message.startswith(f"{ORDERS_DIR}/o.csv: cannot be parsed as CSV")
