"""Tests of landing files that used to be silently doubled, replaced, ignored or crash the run: hidden and temporary
files, byte-identical copies, malformed partition folders, repeated column names, compressed files, personal data
and unbounded text in messages."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import zipfile
from datetime import date

import pyarrow as pa
import pytest

from segmentation_pipeline.core.errors import MAX_PROBLEM_CHARS
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, USAGE_EVENTS
from segmentation_pipeline.core.ingest.landing import (
    InputError,
    SkippedFile,
    landing_days,
    landing_files,
    read_landing,
)
from segmentation_pipeline_tests.ingest.builders import (
    CUSTOMERS_HEADER,
    DAY,
    ORDERS_DIR,
    ORDERS_HEADER,
    input_error,
    read_orders,
    write,
    write_parquet,
)

EVENTS_DIR = "usage/events/date=2026-03-01"
ORDER_ROW = "o1,c1,2026-03-01T10:00:00Z,9.5\n"


def _events_table(customers: list[str]) -> pa.Table:
    return pa.table(
        {
            "customer_id": customers,
            "event_ts": ["2026-03-01T10:00:00Z"] * len(customers),
            "session_id": ["s1"] * len(customers),
            "device_type": ["mobile"] * len(customers),
        }
    )


# ----------------------------------------------------------------------------------------------------------------
# 1. hidden and temporary files are skipped, with a reason


def test_hidden_and_temporary_files_are_skipped_and_reported(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/orders.csv", ORDERS_HEADER + ORDER_ROW)
    write(tmp_path, f"{ORDERS_DIR}/.orders.csv", ORDERS_HEADER + "o9,c9,2026-03-01T11:00:00Z,1\n")
    write(tmp_path, f"{ORDERS_DIR}/._orders.csv", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    for name in ["~orders.csv", "orders.csv.tmp", "orders.csv.part", "orders.csv.crdownload", "orders.csv~"]:
        write(tmp_path, f"{ORDERS_DIR}/{name}", ORDERS_HEADER + "o8,c8,2026-03-01T12:00:00Z,2\n")

    read = read_orders(tmp_path)

    assert read.frame["order_id"].tolist() == ["o1"]
    assert read.files == [f"{ORDERS_DIR}/orders.csv"]
    assert read.skipped == [
        SkippedFile(f"{ORDERS_DIR}/._orders.csv", "hidden file"),
        SkippedFile(f"{ORDERS_DIR}/.orders.csv", "hidden file"),
        SkippedFile(f"{ORDERS_DIR}/orders.csv.crdownload", "temporary file"),
        SkippedFile(f"{ORDERS_DIR}/orders.csv.part", "temporary file"),
        SkippedFile(f"{ORDERS_DIR}/orders.csv.tmp", "temporary file"),
        SkippedFile(f"{ORDERS_DIR}/orders.csv~", "temporary file"),
        SkippedFile(f"{ORDERS_DIR}/~orders.csv", "temporary file"),
    ]
    assert read.warnings == [
        f"skipped: {ORDERS_DIR}/._orders.csv (hidden file)",
        f"skipped: {ORDERS_DIR}/.orders.csv (hidden file)",
        f"skipped: {ORDERS_DIR}/orders.csv.crdownload (temporary file)",
        f"skipped: {ORDERS_DIR}/orders.csv.part (temporary file)",
        f"skipped: {ORDERS_DIR}/orders.csv.tmp (temporary file)",
        f"skipped: {ORDERS_DIR}/orders.csv~ (temporary file)",
        f"skipped: {ORDERS_DIR}/~orders.csv (temporary file)",
    ]
    assert [path.name for path in landing_files(tmp_path, ORDERS, DAY)] == ["orders.csv"]


# ----------------------------------------------------------------------------------------------------------------
# 2. byte-identical copies are read once


def test_byte_identical_copy_is_read_once_keeping_the_first_by_file_name(tmp_path):
    original = write_parquet(tmp_path, f"{EVENTS_DIR}/events.parquet", _events_table(["c1", "c2"]))
    write(tmp_path, f"{EVENTS_DIR}/events (1).parquet", original.read_bytes())  # " " sorts before "."

    read = read_landing(tmp_path, USAGE_EVENTS, DAY)

    assert read.frame["customer_id"].tolist() == ["c1", "c2"]
    assert read.files == [f"{EVENTS_DIR}/events (1).parquet"]
    assert read.skipped == [SkippedFile(f"{EVENTS_DIR}/events.parquet", "byte-identical copy of events (1).parquet")]
    assert read.warnings == [f"skipped: {EVENTS_DIR}/events.parquet (byte-identical copy of events (1).parquet)"]


def test_files_of_equal_size_but_different_bytes_are_both_read(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/orders.csv", ORDERS_HEADER + ORDER_ROW)
    write(tmp_path, f"{ORDERS_DIR}/orders_copy.csv", ORDERS_HEADER + ORDER_ROW)
    write(tmp_path, f"{ORDERS_DIR}/orders_other.csv", ORDERS_HEADER + ORDER_ROW.replace("o1", "o2"))

    read = read_orders(tmp_path)

    assert read.frame["order_id"].tolist() == ["o1", "o2"]
    assert read.files == [f"{ORDERS_DIR}/orders.csv", f"{ORDERS_DIR}/orders_other.csv"]
    assert read.skipped == [SkippedFile(f"{ORDERS_DIR}/orders_copy.csv", "byte-identical copy of orders.csv")]


# ----------------------------------------------------------------------------------------------------------------
# 3. malformed partition folders stop the run


@pytest.mark.parametrize(
    "name", ["date=garbage", "date=2026-3-5", "Date=2026-03-05", "date=2026-02-30", "date=2026-03-01_old", "archive"]
)
def test_folder_that_is_not_a_day_partition_stops_the_run_naming_it(tmp_path, name):
    (tmp_path / "crm/orders/date=2026-03-01").mkdir(parents=True)
    (tmp_path / "crm/orders" / name).mkdir()

    with pytest.raises(InputError) as caught:
        landing_days(tmp_path, ORDERS)

    assert str(caught.value) == (
        f"crm/orders: 1 folder(s) not named date=YYYY-MM-DD with a real day (e.g. date=2026-03-01): '{name}'; "
        "rename them, or move them out of crm/orders (folders starting with '_' or '.' are ignored)"
    )


def test_every_malformed_folder_is_named_sorted(tmp_path):
    for name in ["date=garbage", "archive", "date=2026-03-01"]:
        (tmp_path / "usage/events" / name).mkdir(parents=True)

    with pytest.raises(InputError) as caught:
        landing_days(tmp_path, USAGE_EVENTS)

    assert str(caught.value) == (
        "usage/events: 2 folder(s) not named date=YYYY-MM-DD with a real day (e.g. date=2026-03-01): "
        "'archive', 'date=garbage'; rename them, or move them out of usage/events "
        "(folders starting with '_' or '.' are ignored)"
    )


def test_hidden_folders_and_stray_files_beside_day_folders_are_ignored(tmp_path):
    for name in ["date=2026-03-02", "_SUCCESS", "_temporary", ".DS_Store", ".git"]:
        (tmp_path / "crm/orders" / name).mkdir(parents=True)
    for name in ["_SUCCESS.txt", "notes.txt", ".DS_Store_file", "archive"]:
        write(tmp_path, f"crm/orders/{name}", "stray file")

    assert landing_days(tmp_path, ORDERS) == [date(2026, 3, 2)]


# ----------------------------------------------------------------------------------------------------------------
# 4. repeated column names stop the run


def test_csv_with_a_column_twice_after_stripping_is_an_input_error(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/o.csv", "order_id,customer_id,amount,ordered_at, amount ,order_id\n" + ORDER_ROW)

    assert input_error(tmp_path) == (
        f"{ORDERS_DIR}/o.csv: column name(s) 'order_id', 'amount' appear more than once in the header; keep one of each"
    )


def test_parquet_with_a_column_twice_is_an_input_error(tmp_path):
    table = pa.table(
        [pa.array(["o1"]), pa.array(["c1"]), pa.array(["2026-03-01"]), pa.array([1.0]), pa.array([2.0])],
        names=["order_id", "customer_id", "ordered_at", "amount", "amount"],
    )
    write_parquet(tmp_path, f"{ORDERS_DIR}/o.parquet", table)

    assert input_error(tmp_path) == (
        f"{ORDERS_DIR}/o.parquet: column name(s) 'amount' appear more than once in the header; keep one of each"
    )


# ----------------------------------------------------------------------------------------------------------------
# 5. compressed files are named as compressed


def _zipped(content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("orders.csv", content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("kind", "compress"),
    [
        ("gzip", gzip.compress),
        ("zip", _zipped),
        ("bz2", bz2.compress),
        ("zstd", lambda content: b"\x28\xb5\x2f\xfd" + content),  # a zstd frame header; no stdlib zstd in 3.11
        ("xz", lzma.compress),
    ],
)
@pytest.mark.parametrize("name", ["orders.csv", "orders.parquet"])
def test_compressed_file_is_an_input_error_naming_the_compression(tmp_path, kind, compress, name):
    write(tmp_path, f"{ORDERS_DIR}/{name}", compress((ORDERS_HEADER + ORDER_ROW).encode()))

    assert input_error(tmp_path) == (
        f"{ORDERS_DIR}/{name}: is {kind}-compressed; decompress it (landing files are plain CSV or Parquet)"
    )


def test_empty_bz2_stream_is_named_as_compressed_but_text_starting_bzh_is_csv(tmp_path):
    write(tmp_path, f"{ORDERS_DIR}/a.csv", bz2.compress(b""))
    assert input_error(tmp_path) == (
        f"{ORDERS_DIR}/a.csv: is bz2-compressed; decompress it (landing files are plain CSV or Parquet)"
    )

    write(tmp_path, f"{ORDERS_DIR}/a.csv", "BZh9," + ORDERS_HEADER + "x," + ORDER_ROW)
    assert read_orders(tmp_path).warnings == [f"{ORDERS_DIR}/a.csv: unknown column(s) ignored: BZh9"]


# ----------------------------------------------------------------------------------------------------------------
# 6. no personal data in messages


def test_row_missing_a_field_does_not_show_the_shifted_email(tmp_path):
    write(
        tmp_path,
        "crm/customers.csv",
        CUSTOMERS_HEADER + "c1,2026-01-01,a@b.co,A,yes\nc2,lena_schulz28@icloud.com,Lena Schulz,true\n",
    )

    message = input_error(tmp_path, CUSTOMERS, None)

    assert message == (
        "crm/customers.csv: column 'created_at' must hold an ISO-8601 timestamp (timestamp); 1 value(s) cannot be "
        "read; row(s) 2 have fewer fields than the header, so their values are shifted into the wrong columns "
        "(not shown)"
    )


def test_bad_values_of_complete_rows_are_shown_beside_hidden_shifted_ones(tmp_path):
    write(
        tmp_path,
        "crm/customers.csv",
        CUSTOMERS_HEADER + "c1,yesterday,a@b.co,A,yes\nc2,lena_schulz28@icloud.com,Lena Schulz,true\n",
    )

    assert input_error(tmp_path, CUSTOMERS, None) == (
        "crm/customers.csv: column 'created_at' must hold an ISO-8601 timestamp (timestamp); 2 value(s) cannot be "
        "read, e.g. 'yesterday'; row(s) 2 have fewer fields than the header, so their values are shifted into the "
        "wrong columns (not shown)"
    )


def test_shifted_row_is_numbered_like_source_row_past_blank_lines_and_quoted_line_breaks(tmp_path):
    write(
        tmp_path,
        "crm/customers.csv",
        CUSTOMERS_HEADER
        + 'c1,2026-01-01,a@b.co,"Ann\nLee",yes\n\n   \n'
        + "c2,2026-01-02,b@b.co,B,no\n"
        + "c3,+49 151 2345678,Lena Schulz,true\n",
    )

    assert input_error(tmp_path, CUSTOMERS, None) == (
        "crm/customers.csv: column 'created_at' must hold an ISO-8601 timestamp (timestamp); 1 value(s) cannot be "
        "read; row(s) 3 have fewer fields than the header, so their values are shifted into the wrong columns "
        "(not shown)"
    )


def test_customer_export_without_header_does_not_list_its_first_row_as_column_names(tmp_path):
    write(tmp_path, "crm/customers.csv", "c1,2026-01-01,lena_schulz28@icloud.com,Lena Schulz,yes\n")

    assert input_error(tmp_path, CUSTOMERS, None) == (
        "crm/customers.csv: required column(s) 'customer_id', 'created_at' missing; "
        "found columns: none of the contract's (5 names, not shown: is the header line missing?)"
    )


# ----------------------------------------------------------------------------------------------------------------
# 7. messages stay within 1,000 characters


def test_huge_column_name_gives_a_bounded_error(tmp_path):
    huge = "x" * 5000
    write(tmp_path, f"{ORDERS_DIR}/o.csv", f"order_id,customer_id,ordered_at,{huge}\no1,c1,2026-03-01,1\n")

    message = input_error(tmp_path)

    found = f"order_id, customer_id, ordered_at, {huge}"
    full = f"{ORDERS_DIR}/o.csv: required column(s) 'amount' missing; found columns: {found}"
    tail = f"… ({len(full) - MAX_PROBLEM_CHARS} more characters)"
    assert message == full[: MAX_PROBLEM_CHARS - len(tail)] + tail
    assert len(message) == MAX_PROBLEM_CHARS


def test_huge_unknown_column_name_gives_a_bounded_warning(tmp_path):
    huge = "y" * 5000
    write(tmp_path, f"{ORDERS_DIR}/o.csv", f"{ORDERS_HEADER.strip()},{huge}\n{ORDER_ROW.strip()},1\n")

    warnings = read_orders(tmp_path).warnings

    full = f"{ORDERS_DIR}/o.csv: unknown column(s) ignored: {huge}"
    tail = f"… ({len(full) - MAX_PROBLEM_CHARS} more characters)"
    assert warnings == [full[: MAX_PROBLEM_CHARS - len(tail)] + tail]


def test_one_megabyte_field_gives_a_bounded_error(tmp_path):
    field = "9" * 500_000 + "abc" + "9" * 500_000
    write(tmp_path, f"{ORDERS_DIR}/o.csv", ORDERS_HEADER + f"o1,c1,2026-03-01,{field}\n")

    message = input_error(tmp_path)

    shown = repr(field)[: 80 - len(f"… ({len(repr(field)) - 80} more characters)")]
    assert message == (
        f"{ORDERS_DIR}/o.csv: column 'amount' must hold a number (float); 1 value(s) cannot be read, "
        f"e.g. {shown}… ({len(repr(field)) - 80} more characters)"
    )
    assert len(message) < MAX_PROBLEM_CHARS
