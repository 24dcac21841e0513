"""The landing layout and file columns the input contract expects, and every valid row inside its day folder."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.sample_data import CUSTOMER_COLUMNS, EVENT_COLUMNS, ORDER_COLUMNS, SURVEY_COLUMNS
from segmentation_pipeline_tests.sample_data.landing_reader import DAY_FOLDER, SMALL, day_folders, outside_day


def test_layout_and_exact_columns(small):
    root = small.root / "landing"
    assert (root / "crm" / "customers.csv").read_text().splitlines()[0] == ",".join(CUSTOMER_COLUMNS)
    for dataset, name, columns in (
        ("crm/orders", "orders.csv", ORDER_COLUMNS),
        ("survey/responses", "responses.csv", SURVEY_COLUMNS),
    ):
        folders = day_folders(root / dataset)
        assert folders
        for folder in folders:
            assert DAY_FOLDER.match(folder.name)
            assert [p.name for p in folder.iterdir()] == [name]
            assert (folder / name).read_text().splitlines()[0] == ",".join(columns)
    expected = pa.schema(
        [
            ("event_id", pa.string()),
            ("customer_id", pa.string()),
            ("event_ts", pa.timestamp("us", tz="UTC")),
            ("session_id", pa.string()),
            ("device_type", pa.string()),
            ("feature", pa.string()),
            ("duration_s", pa.float64()),
        ]
    )
    event_folders = day_folders(root / "usage" / "events")
    assert len(event_folders) == SMALL["days"]
    for folder in event_folders:
        assert [p.name for p in folder.iterdir()] == ["events.parquet"]
        assert pq.read_schema(folder / "events.parquet").remove_metadata().equals(expected)
    assert tuple(expected.names) == EVENT_COLUMNS
    truth = small.root / "ground_truth"
    assert (truth / "personas.csv").read_text().splitlines()[0] == "customer_id,persona"
    assert (truth / "planted_errors.csv").read_text().splitlines()[0] == "source,date,id,rule"


def test_valid_rows_inside_their_day_folder(small):
    for source, frame, key, ts in (
        ("orders", small.orders, "order_id", small.orders["ts"]),
        ("survey_responses", small.survey, "response_id", small.survey["ts"]),
        ("usage_events", small.events, "event_id", small.events["event_ts"]),
    ):
        bad = small.planted_ids(source, "timestamp_outside_partition")
        valid = ~frame[key].isin(bad)
        assert valid.sum() > 0
        assert not outside_day(ts[valid], frame.loc[valid, "_date"]).any(), source
        assert outside_day(ts[~valid], frame.loc[~valid, "_date"]).all(), source
