"""Tests of the key look-ups that find keys validated on earlier days: held key sets, the Parquet look-up of event
ids, and what a backfill loop over several days sees."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.features.rollups import EVENT_ID_HASHES
from segmentation_pipeline.core.ingest.contract import ORDERS, USAGE_EVENTS, clean_schema
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.key_sets import HashedKeys, KeySet, ValidatedKeysBefore
from segmentation_pipeline.core.validate.partitions import validate_days, write_validated_partition
from segmentation_pipeline.core.validate.settings import ValidationSettings
from segmentation_pipeline_tests.helpers import write_validated
from segmentation_pipeline_tests.validate.builders import (
    DAY,
    KNOWN,
    NOW,
    ORDERS_HEADER,
    RUN_ID,
    USAGE_WITH_IDS_HEADER,
    land_day,
    order_row,
    usage_event_row,
)

DAY_BEFORE = DAY - timedelta(days=1)


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


def test_hashed_keys_find_every_key_added_through_merged_runs_and_nothing_else():
    hashed = HashedKeys()
    assert hashed.contains(pd.Series(["k1", None], dtype="str")).tolist() == [False, False]
    sizes = []
    for day in range(5):  # a run is merged into the one before it unless that one is more than twice its size
        hashed.add(pd.Series([f"d{day}-{i}" for i in range(20)] + [None, f"d{day}-0"], dtype="str"))
        sizes.append([run.size for run in hashed._runs])
    assert sizes == [[20], [40], [60], [60, 20], [100]]
    assert all((run[1:] > run[:-1]).all() for run in hashed._runs)  # sorted, each key once
    values = pd.Series(["d4-19", "x", None, "d0-0", "d2-7", "d5-0", "d0-0"], dtype="str", index=[9, 8, 7, 6, 5, 4, 3])
    assert hashed.contains(values).tolist() == [True, False, False, True, True, False, True]
    hashed.add(pd.Series(["x"], dtype="str"))  # a newest run of its own

    found = hashed.contains(values)

    assert [run.size for run in hashed._runs] == [100, 1]
    assert found.tolist() == [True, True, False, True, True, False, True]
    assert found.index.tolist() == [9, 8, 7, 6, 5, 4, 3]


def test_hashed_keys_of_a_day_without_keys_are_no_run_of_their_own():
    hashed = HashedKeys()
    hashed.add(pd.Series([None], dtype="str"))  # a first day whose clean events have no ids
    assert hashed.contains(pd.Series(["e1"], dtype="str")).tolist() == [False]
    hashed.add(pd.Series(["e1"], dtype="str"))
    hashed.add(pd.Series([], dtype="str"))
    assert hashed.contains(pd.Series(["e1", "e2"], dtype="str")).tolist() == [True, False]


def write_validated_events(layout: DataLayout, day: date, event_ids: list[str | None]) -> None:
    count = len(event_ids)
    columns = {
        "customer_id": ["c1"] * count,
        "event_ts": [pd.Timestamp(day, tz="UTC")] * count,
        "session_id": ["s1"] * count,
        "device_type": ["mobile"] * count,
        "feature": [None] * count,
        "duration_s": [1.0] * count,
        "event_id": event_ids,
        "_source_file": ["events.csv"] * count,
        "_source_row": list(range(1, count + 1)),
    }
    write_validated_partition(layout, USAGE_EVENTS, day, pa.table(columns, schema=clean_schema(USAGE_EVENTS)))


def test_event_ids_are_looked_up_in_the_validated_files_of_earlier_days_only(tmp_path):
    layout = DataLayout(tmp_path)
    write_validated_events(layout, DAY - timedelta(days=2), ["e1", "e2"])
    write_validated_events(layout, DAY_BEFORE, ["e3", None])
    write_validated_events(layout, DAY, ["e4"])  # the day itself, validated by an earlier run: being replaced
    write_validated_events(layout, DAY + timedelta(days=1), ["e5"])
    values = pd.Series(["e1", "e3", "e4", "e5", "x", None, "e1"], dtype="str", index=[7, 6, 5, 4, 3, 2, 1])

    found = ValidatedKeysBefore(layout, USAGE_EVENTS, DAY).contains(values)

    assert found.tolist() == [True, True, False, False, False, False, True]
    assert found.index.tolist() == [7, 6, 5, 4, 3, 2, 1]


def rewrite_event_id_hashes(layout: DataLayout, day: date, keys: list[str], fingerprint: bytes | None = None) -> None:
    """The day's hash rollup as if it held `keys`, its rows untouched (and written by another DuckDB release when
    `fingerprint` is given)."""
    path = layout.rollup(EVENT_ID_HASHES, day)
    table = pq.read_table(path)
    with duckdb_cursor() as con:
        hashes = [con.execute("SELECT hash($key)", {"key": key}).fetchone()[0] for key in keys]
    metadata = {b"hash_fingerprint": fingerprint} if fingerprint else table.schema.metadata
    write_parquet_atomically(pa.table({"event_id_hash": pa.array(hashes, pa.uint64())}, metadata=metadata), path)


def test_only_days_whose_id_hashes_match_or_that_have_no_current_hashes_have_their_ids_read(tmp_path):
    layout = DataLayout(tmp_path)
    days = [DAY - timedelta(days=offset) for offset in (4, 3, 2, 1)]
    for number, day in enumerate(days):
        write_validated_events(layout, day, [f"e{number}"])
    rewrite_event_id_hashes(layout, days[0], [])  # e0 is read only if its day's hashes say it may be there
    rewrite_event_id_hashes(layout, days[1], ["x"])  # x's hash matches, so the day's ids are read: e1, not x
    layout.rollup(EVENT_ID_HASHES, days[2]).unlink()  # no hashes: the ids are read
    rewrite_event_id_hashes(layout, days[3], [], fingerprint=b"1")  # another release's hashes: the ids are read
    values = pd.Series(["e0", "e1", "e2", "e3", "x"], dtype="str")

    assert ValidatedKeysBefore(layout, USAGE_EVENTS, DAY).contains(values).tolist() == [False, True, True, True, False]


def test_event_id_look_up_without_validated_days_or_ids_finds_nothing(tmp_path):
    layout = DataLayout(tmp_path)
    assert ValidatedKeysBefore(layout, USAGE_EVENTS, DAY).contains(pd.Series(["e1"], dtype="str")).tolist() == [False]
    write_validated_events(layout, DAY_BEFORE, ["e1"])
    assert ValidatedKeysBefore(layout, USAGE_EVENTS, DAY).contains(pd.Series([None, None], dtype="str")).tolist() == [
        False,
        False,
    ]


def validated_days(layout: DataLayout, source, days: list[date]) -> dict:
    """Read and validate the days as one run, known customers c1 and c2."""
    write_validated(layout, "customers", [{"customer_id": c, "created_at": "2025-01-01T00:00:00Z"} for c in KNOWN])
    return {
        day: outcome
        for _, batch in validate_days(layout, source, days, ValidationSettings(), RUN_ID, NOW)
        for day, outcome in batch.items()
    }


def reasons(outcome) -> dict[int, str]:
    return dict(zip(outcome.quarantine["_source_row"], outcome.quarantine["reason"], strict=True))


def test_a_backfill_finds_event_ids_of_its_earlier_days_and_of_days_validated_before_it(tmp_path):
    layout = DataLayout(tmp_path)
    write_validated_events(layout, DAY - timedelta(days=2), ["e0"])
    at = lambda day: f"{day.isoformat()}T08:00:00Z"  # noqa: E731
    first = [
        usage_event_row("e1", event_ts=at(DAY_BEFORE), device_type="watch"),  # invalid first copy
        usage_event_row("e1", event_ts=at(DAY_BEFORE)),  # the first valid copy: clean
        usage_event_row("e0", event_ts=at(DAY_BEFORE)),  # validated before the run
        usage_event_row("e2", event_ts=at(DAY_BEFORE), customer_id="c9"),  # invalid: its id stays free
    ]
    second = [
        usage_event_row("e1", event_ts=at(DAY)),
        usage_event_row("e2", event_ts=at(DAY)),
        usage_event_row("e3", event_ts=at(DAY)),
        usage_event_row("e3", event_ts=at(DAY)),
    ]
    land_day(layout.landing, USAGE_EVENTS, DAY_BEFORE, USAGE_WITH_IDS_HEADER, first)
    land_day(layout.landing, USAGE_EVENTS, DAY, USAGE_WITH_IDS_HEADER, second)

    outcomes = validated_days(layout, USAGE_EVENTS, [DAY_BEFORE, DAY])

    assert outcomes[DAY_BEFORE].clean["_source_row"].tolist() == [2]
    assert reasons(outcomes[DAY_BEFORE]) == {1: "unknown_device_type", 3: "duplicate_event_id", 4: "unknown_customer"}
    assert outcomes[DAY].clean["event_id"].tolist() == ["e2", "e3"]
    assert reasons(outcomes[DAY]) == {1: "duplicate_event_id", 4: "duplicate_event_id"}


def test_a_backfill_holds_order_keys_and_adds_each_days_clean_keys(tmp_path):
    layout = DataLayout(tmp_path)
    at = lambda day: f"{day.isoformat()}T08:00:00Z"  # noqa: E731
    land_day(
        layout.landing,
        ORDERS,
        DAY_BEFORE,
        ORDERS_HEADER,
        [order_row("o1", ordered_at=at(DAY_BEFORE), amount="-1"), order_row("o2", ordered_at=at(DAY_BEFORE))],
    )
    land_day(
        layout.landing,
        ORDERS,
        DAY,
        ORDERS_HEADER,
        [order_row("o1", ordered_at=at(DAY)), order_row("o2", ordered_at=at(DAY))],
    )

    outcomes = validated_days(layout, ORDERS, [DAY_BEFORE, DAY])

    assert reasons(outcomes[DAY_BEFORE]) == {1: "negative_amount"}
    assert outcomes[DAY].clean["order_id"].tolist() == ["o1"]  # its only earlier copy was invalid
    assert reasons(outcomes[DAY]) == {2: "duplicate_key"}
    later = validated_days(layout, ORDERS, [DAY])  # a later run reads the keys validated before it
    assert reasons(later[DAY]) == {2: "duplicate_key"}
