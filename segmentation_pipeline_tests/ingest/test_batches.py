"""Tests of reading several landing days at once: a batch reads, types and fails like the same days read one by
one."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from segmentation_pipeline.core.ingest.contract import ORDERS, SURVEY_RESPONSES
from segmentation_pipeline.core.ingest.landing import InputError, read_landing, read_landing_batches
from segmentation_pipeline_tests.ingest.builders import (
    DAY,
    ORDERS_HEADER,
    SURVEY_DIR,
    SURVEY_HEADER,
    write,
    write_parquet,
)

DAYS = [date(2026, 3, 1) + timedelta(days=offset) for offset in range(4)]
ALL = 2**40  # max_bytes that keeps every day in one batch


def _folder(day: date) -> str:
    return f"crm/orders/date={day.isoformat()}"


def _write_varied_days(landing: Path) -> None:
    """Days whose files differ in format, column order, optional columns, timestamp units and emptiness."""
    first, second, third, _ = (_folder(day) for day in DAYS)  # the fourth day has no folder: zero rows
    write(landing, f"{first}/a.csv", ORDERS_HEADER + "o1,c1,2026-03-01T10:00:00Z,1.5\no2,c2,2026-03-01,2\n")
    write_parquet(
        landing,
        f"{first}/b.parquet",
        pa.table(
            {
                "amount": [3.0],
                "order_id": ["o3"],
                "customer_id": ["c1"],
                "ordered_at": pa.array([pd.Timestamp("2026-03-01T12:00:00Z")], pa.timestamp("ms", tz="UTC")),
                "status": ["completed"],
            }
        ),
    )
    write(landing, f"{first}/.hidden.csv", ORDERS_HEADER)
    write(landing, f"{second}/empty.csv", b"")
    write(landing, f"{second}/late.csv", "order_id,customer_id,ordered_at,amount,junk\no4,c3,2300-01-01,4,x\n")
    write(landing, f"{third}/c.csv", ORDERS_HEADER + "o5,c1,2026-03-03T10:00:00.123456789Z,5\n")
    write(landing, f"{third}/d.csv", "amount,order_id,ordered_at,customer_id,channel\n 6 , o6 ,2026-03-03,c2,web\n")


def _landing_bytes(landing: Path, day: date) -> int:
    """Bytes of the day's files that are read (not the hidden one)."""
    return sum(path.stat().st_size for path in (landing / _folder(day)).glob("[!.]*"))


def _batches(landing: Path, max_bytes: int) -> list[dict]:
    return list(read_landing_batches(landing, ORDERS, DAYS, max_bytes))


def _assert_same_as_day_by_day(landing: Path, batches: list[dict]) -> None:
    merged = {day: read for batch in batches for day, read in batch.items()}
    assert list(merged) == DAYS
    for day in DAYS:
        alone = read_landing(landing, ORDERS, day)
        pd.testing.assert_frame_equal(merged[day].frame, alone.frame, check_exact=True)
        assert (merged[day].files, merged[day].warnings, merged[day].skipped) == (
            alone.files,
            alone.warnings,
            alone.skipped,
        )


def test_a_batch_of_days_reads_like_the_days_one_by_one(tmp_path):
    _write_varied_days(tmp_path)

    batches = _batches(tmp_path, ALL)

    assert len(batches) == 1
    _assert_same_as_day_by_day(tmp_path, batches)
    reads = batches[0]
    assert reads[DAYS[0]].frame["_source_file"].tolist() == [f"{_folder(DAYS[0])}/a.csv"] * 2 + [
        f"{_folder(DAYS[0])}/b.parquet"
    ]
    assert reads[DAYS[0]].frame["_source_row"].tolist() == [1, 2, 1]
    assert reads[DAYS[2]].frame["order_id"].tolist() == ["o5", "o6"]
    assert reads[DAYS[2]].frame["_source_row"].tolist() == [1, 1]
    # a year-2300 timestamp and a nanosecond one cast together would not fit one unit; each keeps its value
    assert reads[DAYS[1]].frame["ordered_at"].tolist() == [pd.Timestamp("2300-01-01", tz="UTC")]
    assert reads[DAYS[1]].warnings == [
        f"{_folder(DAYS[1])}/empty.csv: empty file, read as zero rows",
        f"{_folder(DAYS[1])}/late.csv: unknown column(s) ignored: junk",
    ]
    assert len(reads[DAYS[3]].frame) == 0


def test_parquet_values_are_cast_apart_from_csv_text(tmp_path):
    # joined to text, the whole number would become text too and be cast through a float, losing its last digit
    write(tmp_path, f"{SURVEY_DIR}/a.csv", SURVEY_HEADER + "r1,c1,2026-03-01,\n")
    write_parquet(
        tmp_path,
        f"{SURVEY_DIR}/b.parquet",
        pa.table({"response_id": ["r2"], "customer_id": ["c1"], "submitted_at": ["2026-03-01"], "nps": [2**53 + 1]}),
    )

    (reads,) = read_landing_batches(tmp_path, SURVEY_RESPONSES, [DAY], ALL)

    assert reads[DAY].frame["nps"].tolist() == [pd.NA, 2**53 + 1]


def test_batches_are_bounded_by_landing_bytes_and_read_the_same(tmp_path):
    _write_varied_days(tmp_path)
    second_and_third = sum(_landing_bytes(tmp_path, day) for day in DAYS[1:3])  # the first day is larger

    by_size = _batches(tmp_path, second_and_third - 1)
    one_day_each = _batches(tmp_path, 0)

    assert [list(batch) for batch in by_size] == [[DAYS[0]], [DAYS[1]], [DAYS[2], DAYS[3]]]
    assert [list(batch) for batch in one_day_each] == [[day] for day in DAYS]  # every batch holds at least a day
    _assert_same_as_day_by_day(tmp_path, by_size)
    _assert_same_as_day_by_day(tmp_path, one_day_each)


def test_uncastable_value_in_the_third_file_of_a_batch_names_that_file(tmp_path):
    for day, amount in zip(DAYS[:3], ["1", "2", "three"], strict=True):
        write(tmp_path, f"{_folder(day)}/o.csv", ORDERS_HEADER + f"o-{day},c1,{day}T10:00:00Z,{amount}\n")
    write(tmp_path, f"{_folder(DAYS[3])}/o.csv", ORDERS_HEADER + "o9,c1,yesterday,nine\n")

    with pytest.raises(InputError) as caught:
        _batches(tmp_path, ALL)

    assert str(caught.value) == (
        f"{_folder(DAYS[2])}/o.csv: column 'amount' must hold a number (float); 1 value(s) cannot be read, e.g. 'three'"
    )


def test_a_bad_value_is_reported_before_an_unreadable_file_of_a_later_day(tmp_path):
    write(tmp_path, f"{_folder(DAYS[0])}/o.csv", ORDERS_HEADER + "o1,c1,2026-03-01,one\n")
    write(tmp_path, f"{_folder(DAYS[1])}/o.csv", b"\x1f\x8b compressed")

    with pytest.raises(InputError) as caught:
        _batches(tmp_path, ALL)

    assert str(caught.value).startswith(f"{_folder(DAYS[0])}/o.csv: column 'amount'")
