"""Daily rollups: written with the validated rows, exact, and rebuilt when missing or stale."""

import shutil
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.features.customer_features import compute_features
from segmentation_pipeline.core.features.rollups import refresh_rollups, rollups, rollups_by_day
from segmentation_pipeline.core.ingest.contract import ORDERS, USAGE_EVENTS, clean_schema
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import DataLayout, partition_day
from segmentation_pipeline_tests.helpers import write_validated, write_validated_by_day

SNAPSHOT = date(2026, 3, 31)
USAGE = ["sessions", "active_days", "events", "mean_session_minutes", "distinct_features", "top_feature"]


def event(customer_id, event_ts, session_id, device_type="mobile", feature="search", duration_s=60, event_id=None):
    return dict(
        event_id=event_id,
        customer_id=customer_id,
        event_ts=event_ts,
        session_id=session_id,
        device_type=device_type,
        feature=feature,
        duration_s=duration_s,
    )


def warehouse(tmp_path, events) -> DataLayout:
    layout = DataLayout(tmp_path)
    write_validated(layout, "customers", [{"customer_id": c, "created_at": "2026-01-01T00:00:00Z"} for c in "AB"])
    write_validated_by_day(layout, "usage_events", events, "event_ts")
    return layout


EVENTS = [
    event("A", "2026-03-29T23:50:00Z", "s1", feature="search", event_id="e1"),  # one session across midnight
    event("A", "2026-03-30T00:10:00Z", "s1", feature="cart", duration_s=120, event_id="e2"),
    event("A", "2026-03-30T00:20:00Z", "s1", feature="cart", duration_s=None, event_id="e3"),
    event("A", "2026-03-30T19:00:00Z", "s2", device_type="desktop", feature=None),
    event("B", "2026-03-30T07:00:00Z", "s3", device_type="tablet"),
]


def test_one_days_rollups_count_per_customer_session_and_feature():
    table = pa.Table.from_pandas(pd.DataFrame(EVENTS[1:]).assign(event_ts=lambda f: pd.to_datetime(f.event_ts)))
    day_rollups = {name: table.to_pylist() for name, table in rollups(USAGE_EVENTS, table).items()}
    a_day = dict(customer_id="A", events=3, mobile=2, desktop=1, tablet=0, night=2, morning=0, afternoon=0, evening=1)
    b_day = dict(customer_id="B", events=1, mobile=0, desktop=0, tablet=1, night=0, morning=1, afternoon=0, evening=0)
    assert [{k: v for k, v in row.items() if k != "duration_s"} for row in day_rollups["usage_day_customers"]] == [
        a_day,
        b_day,
    ]
    assert [float(row["duration_s"]) for row in day_rollups["usage_day_customers"]] == [180.0, 60.0]
    assert day_rollups["usage_day_sessions"] == [
        {"customer_id": "A", "session_id": "s1"},
        {"customer_id": "A", "session_id": "s2"},
        {"customer_id": "B", "session_id": "s3"},
    ]
    assert day_rollups["usage_day_features"] == [
        {"customer_id": "A", "feature": "cart", "uses": 2},
        {"customer_id": "B", "feature": "search", "uses": 1},
    ]
    assert day_rollups["usage_day_hours"] == [
        {"customer_id": "A", "hour": 0, "events": 2},
        {"customer_id": "A", "hour": 19, "events": 1},
        {"customer_id": "B", "hour": 7, "events": 1},
    ]
    assert day_rollups["usage_day_event_ids"] == [{"event_id_hash": duckdb_hash(id)} for id in ("e2", "e3")]


def test_a_days_event_id_hashes_are_sorted_whatever_the_order_of_its_rows():
    rows = pd.DataFrame([EVENTS[2], EVENTS[1]]).assign(event_ts=lambda f: pd.to_datetime(f.event_ts))  # e3, e2
    assert duckdb_hash("e3") > duckdb_hash("e2")
    hashes = rollups(USAGE_EVENTS, pa.Table.from_pandas(rows))["usage_day_event_ids"].to_pylist()
    assert hashes == [{"event_id_hash": duckdb_hash("e2")}, {"event_id_hash": duckdb_hash("e3")}]


def duckdb_hash(text: str) -> int:
    with duckdb.connect() as con:
        return con.execute("SELECT hash($text)", {"text": text}).fetchone()[0]


def test_one_days_order_rollup_is_a_daily_purchase_period_with_cancellations_and_refunds_beside_it():
    orders = pd.DataFrame(
        {
            "customer_id": ["A", "A", "A", "B", "B"],
            "amount": [10.10, 20.20, 99.0, 5.0, 7.0],
            "status": ["completed", "completed", "cancelled", "refunded", "refunded"],
            "product_category": ["toys", "books", "books", "books", None],
        }
    )
    day_rollups = {
        name: [row | {"spend": float(row["spend"])} for row in table.to_pylist()]
        for name, table in rollups(ORDERS, pa.Table.from_pandas(orders)).items()
    }
    assert day_rollups["order_day_customers"] == [
        dict(customer_id="A", completed_orders=2, spend=30.30, cancelled_orders=1, refunded_orders=0),
        dict(customer_id="B", completed_orders=0, spend=0.0, cancelled_orders=0, refunded_orders=2),
    ]
    assert day_rollups["order_day_categories"] == [  # completed orders only
        dict(customer_id="A", product_category="books", completed_orders=1, spend=20.20),
        dict(customer_id="A", product_category="toys", completed_orders=1, spend=10.10),
    ]


def clean_table(source, rows: list[dict]) -> pa.Table:
    frame = pd.DataFrame(rows, columns=clean_schema(source).names)
    column = source.timestamp_column
    frame[column] = pd.to_datetime(frame[column], utc=True)
    return pa.Table.from_pandas(frame, schema=clean_schema(source), preserve_index=False)


def order(customer_id, ordered_at, amount, status="completed"):
    return dict(customer_id=customer_id, ordered_at=ordered_at, amount=amount, status=status)


@pytest.mark.parametrize(
    ("source", "rows"),
    [
        (
            USAGE_EVENTS,
            [
                [],  # a day without rows
                EVENTS[:1],
                EVENTS[1:],
                [event("B", "2026-03-31T07:00:00Z", "s3", feature=None), event("A", "2026-03-31T12:00:00Z", "s9")],
            ],
        ),
        (
            ORDERS,
            [
                [order("B", "2026-03-28T10:00:00Z", 5.0), order("A", "2026-03-28T11:00:00Z", 10.10)],
                [order("A", "2026-03-29T10:00:00Z", 20.20, "refunded")],
                [],
                [order("A", "2026-03-31T10:00:00Z", 99.0, "cancelled"), order("A", "2026-03-31T11:00:00Z", 1.0)],
            ],
        ),
    ],
)
def test_the_rollups_of_a_batch_of_days_are_each_days_own_rollups(source, rows):
    days = [date(2026, 3, 28 + offset) for offset in range(len(rows))]
    tables = {day: clean_table(source, day_rows) for day, day_rows in zip(days, rows, strict=True)}

    batch = rollups_by_day(source, tables)

    assert list(batch) == days
    for day, table in tables.items():
        expected = rollups(source, table)
        assert list(batch[day]) == list(expected)
        for name, rollup in expected.items():
            assert batch[day][name].equals(rollup), (day, name)
    assert sum(batch[days[-1]][name].num_rows for name in batch[days[-1]]) > 0


def test_a_session_across_midnight_counts_once_over_two_active_days(tmp_path):
    features = compute_features(warehouse(tmp_path, EVENTS), SNAPSHOT).set_index("customer_id")
    assert features.loc["A", USAGE].tolist() == [2, 2, 4, 4.0 / 2, 2, "cart"]  # 240 s over 2 sessions
    assert features.loc["B", USAGE].tolist() == [1, 1, 1, 1.0, 1, "search"]


def test_missing_rollups_are_rebuilt_from_the_validated_events(tmp_path):
    layout = warehouse(tmp_path, EVENTS)
    expected = compute_features(layout, SNAPSHOT)
    shutil.rmtree(layout.warehouse / "rollups")  # a warehouse validated before rollups existed

    rebuilt = refresh_rollups(layout)
    assert rebuilt == {
        "orders": [partition_day(path) for path in layout.validated_files("orders")],
        "usage_events": [partition_day(path) for path in layout.validated_files("usage_events")],
    }
    pd.testing.assert_frame_equal(compute_features(layout, SNAPSHOT), expected)
    assert refresh_rollups(layout) == {"orders": [], "usage_events": []}  # nothing left to rebuild


def test_event_id_hashes_written_by_another_duckdb_release_are_rebuilt(tmp_path):
    layout = warehouse(tmp_path, EVENTS)
    day = date(2026, 3, 30)
    path = layout.rollup("usage_day_event_ids", day)
    current = pq.read_table(path)
    assert current.schema.metadata == {b"hash_fingerprint": str(duckdb_hash("segmentation_pipeline event id")).encode()}
    write_parquet_atomically(current.replace_schema_metadata({b"hash_fingerprint": b"1"}), path)  # rows untouched

    assert refresh_rollups(layout) == {"orders": [], "usage_events": [day]}
    assert pq.read_table(path).equals(current)
    assert pq.read_schema(path).metadata == current.schema.metadata


def test_events_rewritten_without_their_rollups_are_rolled_up_again_and_orphans_dropped(tmp_path):
    layout = warehouse(tmp_path, EVENTS)
    day = date(2026, 3, 30)
    rewritten = pd.DataFrame(
        [event("B", "2026-03-30T07:00:00Z", "s3", device_type="tablet")] * 3, columns=clean_schema(USAGE_EVENTS).names
    )
    rewritten["event_ts"] = pd.to_datetime(rewritten["event_ts"], utc=True)
    write_parquet_atomically(
        pa.Table.from_pandas(rewritten, schema=clean_schema(USAGE_EVENTS), preserve_index=False),
        layout.validated("usage_events", day),
    )  # newer than the day's rollups
    layout.validated("usage_events", date(2026, 3, 29)).unlink()

    assert refresh_rollups(layout) == {"orders": [], "usage_events": [day]}
    assert not layout.rollup("usage_day_sessions", date(2026, 3, 29)).exists()
    sessions = pq.read_table(layout.rollup("usage_day_customers", day)).to_pylist()
    assert [(row["customer_id"], row["events"]) for row in sessions] == [("B", 3)]
    features = compute_features(layout, SNAPSHOT).set_index("customer_id")
    assert features.loc[["A", "B"], "events"].tolist() == [0, 3]
