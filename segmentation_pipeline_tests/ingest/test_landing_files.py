"""Tests of the landing files themselves: finding day folders and files, empty input, and files that cannot be
read."""

from __future__ import annotations

import re
from datetime import date

import pyarrow as pa
import pytest

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, SURVEY_RESPONSES, USAGE_EVENTS
from segmentation_pipeline.core.ingest.landing import InputError, landing_days, landing_files, read_landing
from segmentation_pipeline_tests.ingest.builders import (
    CUSTOMERS_HEADER,
    DAY,
    ORDERS_DIR,
    ORDERS_HEADER,
    SURVEY_DIR,
    SURVEY_HEADER,
    input_error,
    read_orders,
    write,
    write_parquet,
)

# ----------------------------------------------------------------------------------------------------------------
# discovery: landing_days and landing_files


def test_landing_days_lists_only_valid_day_folders_sorted(tmp_path):
    # Malformed folders ("date=2026-3-1", "other") now stop the run: see test_landing_faults.py.
    for name in ["date=2026-03-02", "date=2026-03-01", "_temporary", ".hidden"]:
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
