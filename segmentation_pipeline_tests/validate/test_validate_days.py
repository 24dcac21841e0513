"""Validating days in batches: every day's outcome and files are those of validating the days one after another,
however the days are batched, and a batch is written all or nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.features.rollups import ROLLUPS, rollups
from segmentation_pipeline.core.ingest.contract import ORDERS, USAGE_EVENTS, clean_schema, quarantine_schema
from segmentation_pipeline.core.ingest.landing import read_landing
from segmentation_pipeline.core.storage import atomic, staging
from segmentation_pipeline.core.storage.durable import StorageError
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate import partitions
from segmentation_pipeline.core.validate.key_sets import EarlierKeys, KeySet, known_customer_ids
from segmentation_pipeline.core.validate.partitions import validate_days
from segmentation_pipeline.core.validate.row_checks import CheckContext, validate
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

DAYS = [DAY - timedelta(days=offset) for offset in (3, 2, 1, 0)]
BEFORE_RUN = DAY - timedelta(days=5)


def at(day, time="08:00:00"):
    return f"{day.isoformat()}T{time}Z"


def land_orders(layout: DataLayout) -> None:
    """Duplicates within and across days (valid and invalid first copies, a key validated before the run),
    timestamps of another day of the batch, unknown customers, two files on a day, an empty day."""
    first, second, third, last = DAYS
    land_day(
        layout.landing,
        ORDERS,
        first,
        ORDERS_HEADER,
        [
            order_row("o1", ordered_at=at(first)),
            order_row("o2", ordered_at=at(first), amount="-5"),  # an invalid first copy
            order_row("o3", customer_id="c9", ordered_at=at(first)),
            order_row("o-old", ordered_at=at(first)),  # validated before the run
        ],
    )
    land_day(
        layout.landing,
        ORDERS,
        first,
        ORDERS_HEADER,
        [
            order_row("o2", ordered_at=at(first)),  # the first valid copy
            order_row("o1", ordered_at=at(first, "09:00:00")),
            order_row("o4", ordered_at=at(second)),  # in the batch, but not in its own day
        ],
        name="part-02.csv",
    )
    land_day(
        layout.landing,
        ORDERS,
        second,
        ORDERS_HEADER,
        [
            order_row("o1", ordered_at=at(second)),
            order_row("o2", ordered_at=at(second)),
            order_row("o3", ordered_at=at(second)),  # its only earlier copy had an unknown customer
            order_row("o4", ordered_at=at(second)),
            order_row("o5", ordered_at=at(first)),
            order_row("o6", ordered_at=at(second), status="REFUNDED"),
        ],
    )
    land_day(layout.landing, ORDERS, third, ORDERS_HEADER, [])
    land_day(
        layout.landing,
        ORDERS,
        last,
        ORDERS_HEADER,
        [
            order_row("o5", ordered_at=at(last)),
            order_row("o6", ordered_at=at(last), status=""),
            order_row("o7", ordered_at=at(last), amount=""),
            order_row("o8", ordered_at=at(last, "23:00:00")),  # after the run's clock
            order_row("o9", customer_id="c9", ordered_at=at(last, "23:30:00")),
        ],
    )
    write_validated(layout, "orders", [order_record("o-old", BEFORE_RUN)], BEFORE_RUN)


def order_record(order_id, day):
    return {"order_id": order_id, "customer_id": "c1", "ordered_at": at(day), "amount": 1.0, "status": "completed"}


def land_events(layout: DataLayout) -> None:
    """The same patterns for usage events' ids, whose earlier days are looked up as files and as hashes."""
    first, second, third, last = DAYS
    land_day(
        layout.landing,
        USAGE_EVENTS,
        first,
        USAGE_WITH_IDS_HEADER,
        [
            usage_event_row("e1", event_ts=at(first), device_type="watch"),  # an invalid first copy
            usage_event_row("e1", event_ts=at(first)),
            usage_event_row("e0", event_ts=at(first)),  # validated before the run
            usage_event_row("e2", event_ts=at(second)),  # in the batch, but not in its own day
            usage_event_row("", event_ts=at(first)),  # no id: never a duplicate
            usage_event_row("", event_ts=at(first)),
        ],
    )
    land_day(
        layout.landing,
        USAGE_EVENTS,
        second,
        USAGE_WITH_IDS_HEADER,
        [
            usage_event_row("e1", event_ts=at(second)),
            usage_event_row("e2", event_ts=at(second), customer_id="c9"),
            usage_event_row("e2", event_ts=at(second)),
            usage_event_row("e3", event_ts=at(second), duration="-1"),
        ],
    )
    land_day(layout.landing, USAGE_EVENTS, third, USAGE_WITH_IDS_HEADER, [])
    land_day(
        layout.landing,
        USAGE_EVENTS,
        last,
        USAGE_WITH_IDS_HEADER,
        [
            usage_event_row("e3", event_ts=at(last), session_id="s2", device_type="Mobile"),
            usage_event_row("e2", event_ts=at(last)),
            usage_event_row("e4", event_ts=at(last, "23:00:00")),
        ],
    )
    event = {"customer_id": "c1", "event_ts": at(BEFORE_RUN), "session_id": "s0", "device_type": "mobile"}
    write_validated(layout, "usage_events", [event | {"event_id": "e0"}], BEFORE_RUN)


def warehouse(tmp_path, source, land) -> DataLayout:
    layout = DataLayout(tmp_path)
    write_validated(layout, "customers", [{"customer_id": c, "created_at": "2025-01-01T00:00:00Z"} for c in KNOWN])
    land(layout)
    return layout


def one_day_after_another(layout: DataLayout, source) -> dict:
    """The reference: each day's landing rows checked on their own, its clean keys added before the next day."""
    customers, earlier_keys = KeySet(known_customer_ids(layout)), EarlierKeys(layout, source, DAYS[0])
    outcomes = {}
    for day in DAYS:
        rows = read_landing(layout.landing, source, day).frame
        outcomes[day] = validate(rows, source, CheckContext(day, NOW, customers, earlier_keys), RUN_ID)
        earlier_keys.add_validated(outcomes[day].clean)
    return outcomes


def assert_same_as_one_day_after_another(layout: DataLayout, source, batches: list[dict], expected: dict) -> None:
    outcomes = {day: outcome for batch in batches for day, outcome in batch.items()}
    assert list(outcomes) == DAYS
    for day, outcome in outcomes.items():
        pd.testing.assert_frame_equal(outcome.clean, expected[day].clean)
        pd.testing.assert_frame_equal(outcome.quarantine, expected[day].quarantine)
        assert outcome.check_counts == expected[day].check_counts
        clean = pa.Table.from_pandas(expected[day].clean, schema=clean_schema(source), preserve_index=False)
        quarantine = pa.Table.from_pandas(
            expected[day].quarantine, schema=quarantine_schema(source), preserve_index=False
        )
        assert pq.read_table(layout.validated(source.name, day)).equals(clean)
        assert pq.read_table(layout.quarantined(source.name, day)).equals(quarantine)
        for name, table in rollups(source, clean).items():
            assert pq.read_table(layout.rollup(name, day)).equals(table)


@pytest.mark.parametrize(("source", "land"), [(ORDERS, land_orders), (USAGE_EVENTS, land_events)])
# landing rows per day: orders 7, 6, 0, 5 and events 6, 4, 0, 3; at 0 bytes a batch, each day is a batch alone
@pytest.mark.parametrize(("batch_bytes", "batch_sizes"), [(partitions.BATCH_BYTES, [4]), (0, [1, 1, 1, 1])])
def test_days_batched_any_way_give_the_outcomes_and_files_of_one_day_after_another(
    tmp_path, monkeypatch, source, land, batch_bytes, batch_sizes
):
    layout = warehouse(tmp_path, source, land)
    expected = one_day_after_another(layout, source)
    monkeypatch.setattr(partitions, "BATCH_BYTES", batch_bytes)

    batches = [outcomes for _, outcomes in validate_days(layout, source, DAYS, ValidationSettings(), RUN_ID, NOW)]

    assert_same_as_one_day_after_another(layout, source, batches, expected)
    assert [len(batch) for batch in batches] == batch_sizes


def test_the_batch_outcomes_are_the_hand_worked_ones(tmp_path):
    layout = warehouse(tmp_path, ORDERS, land_orders)

    ((_, outcomes),) = validate_days(layout, ORDERS, DAYS, ValidationSettings(), RUN_ID, NOW)

    first, second, third, last = (outcomes[day] for day in DAYS)
    assert first.clean["order_id"].tolist() == ["o1", "o2"]
    assert dict(zip(first.quarantine["order_id"], first.quarantine["reason"], strict=True)) == {
        "o2": "negative_amount",
        "o3": "unknown_customer",
        "o-old": "duplicate_key",
        "o1": "duplicate_key",
        "o4": "timestamp_outside_partition",
    }
    assert second.clean["order_id"].tolist() == ["o3", "o4", "o6"]
    assert second.clean["status"].tolist() == ["completed", "completed", "refunded"]
    assert second.quarantine["reason"].tolist() == ["duplicate_key", "duplicate_key", "timestamp_outside_partition"]
    assert (len(third.clean), len(third.quarantine)) == (0, 0)
    assert last.clean["order_id"].tolist() == ["o5"]
    assert last.quarantine["reason"].tolist() == [
        "duplicate_key",
        "missing_required_value",
        "timestamp_in_future",
        "unknown_customer, timestamp_in_future",
    ]
    assert last.check_counts == {
        "missing_required_value": 1,
        "duplicate_key": 1,
        "unknown_customer": 1,
        "timestamp_outside_partition": 0,
        "timestamp_in_future": 2,
        "negative_amount": 0,
        "amount_not_finite": 0,
        "amount_too_large": 0,
        "unknown_status": 0,
    }
    assert {day: outcome.quarantine["partition_date"].tolist() for day, outcome in outcomes.items()} == {
        day: [day] * len(outcomes[day].quarantine) for day in DAYS
    }


def test_a_batch_that_fails_to_write_leaves_every_days_previous_files(tmp_path, monkeypatch):
    layout = warehouse(tmp_path, ORDERS, land_orders)
    for day in DAYS:
        write_validated(layout, "orders", [order_record("o-prev", day)], day)
    files = sorted(tmp_path.rglob("*.parquet"))
    before = {path: path.read_bytes() for path in files}
    real_write = atomic.pq.write_table
    last_file = (2 + len(ROLLUPS["orders"])) * len(DAYS) - 1  # each day's rows, quarantine and rollups

    def disk_full_at_the_last_file(table, path, **options):
        if Path(path).name.startswith(f"{last_file}-"):  # staged as <index of its target>-<name>
            raise OSError(28, "No space left on device")
        real_write(table, path, **options)

    monkeypatch.setattr(atomic.pq, "write_table", disk_full_at_the_last_file)
    with pytest.raises(StorageError, match="^cannot write warehouse/rollups/order_day_categories/date=2026-03-01"):
        next(validate_days(layout, ORDERS, DAYS, ValidationSettings(), RUN_ID, NOW))

    assert sorted(tmp_path.rglob("*.parquet")) == files
    assert {path: path.read_bytes() for path in files} == before


def test_the_rollups_are_renamed_after_every_days_rows(tmp_path, monkeypatch):
    layout = warehouse(tmp_path, USAGE_EVENTS, land_events)
    real_replace, renamed = staging.os.replace, []

    def replace(source, target):
        renamed.append(Path(target))
        real_replace(source, target)

    monkeypatch.setattr(staging.os, "replace", replace)
    list(validate_days(layout, USAGE_EVENTS, DAYS, ValidationSettings(), RUN_ID, NOW))

    tables = [target.parents[2].name for target in renamed if target.suffix == ".parquet"]
    assert tables == ["validated"] * len(DAYS) + ["quarantine"] * len(DAYS) + ["rollups"] * len(
        ROLLUPS["usage_events"]
    ) * len(DAYS)
