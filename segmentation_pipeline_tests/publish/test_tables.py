"""Published snapshot tables: joining a snapshot's tables, pseudonymised ids, the previous complete snapshot, and the
latest-snapshot views."""

import os
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from segmentation_pipeline.core.publish.latest_views import write_latest_views
from segmentation_pipeline.core.publish.schemas import (
    PUBLISHED_SCHEMAS,
)
from segmentation_pipeline.core.publish.tables import joined_by_customer, previous_snapshot_day, pseudonymise
from segmentation_pipeline.core.storage import staging
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.staging import recover


def test_pseudonymised_ids_are_salted_sha256_and_stable():
    ids = pd.Series(["C000001", "C000002", "C000001"])
    hashed = pseudonymise(ids, "pepper")
    assert hashed[0] == "8ecf91b77e76c5793bf5d6fca9a31ca82654dc53bb534fa1b642c155c43f9902"  # sha256("pepper:C000001")
    assert hashed[2] == hashed[0] and hashed[1] != hashed[0]
    assert pseudonymise(ids, "salt")[0] != hashed[0]


def write_snapshot(
    layout: DataLayout, day: date, customers: list[str], listed_in_runs: bool = True, marker: bool = False
) -> None:
    """A snapshot of every published table with only ids and dates filled in; `marker`: `runs` as its completion
    marker, as `publish_snapshot` writes it."""
    tables = {
        name: pa.Table.from_pylist(
            [{"customer_id": customer, "snapshot_date": day} for customer in customers] or [{"snapshot_date": day}],
            schema=schema,
        )
        for name, schema in PUBLISHED_SCHEMAS.items()
        if name != "runs" or listed_in_runs
    }
    write_parquet_files_atomically(
        {layout.published_table(name, day): table for name, table in tables.items()},
        completion_markers=[layout.published_table("runs", day)] if marker else (),
    )


def test_latest_views_show_the_newest_snapshot_listed_in_runs(tmp_path):
    layout = DataLayout(tmp_path)
    write_snapshot(layout, date(2026, 11, 20), ["a", "b"])
    write_snapshot(layout, date(2026, 11, 21), ["a", "b", "c"])
    write_snapshot(layout, date(2026, 11, 22), ["x"], listed_in_runs=False)  # not (yet) complete

    with duckdb.connect(str(write_latest_views(layout)), read_only=True) as con:
        latest = con.sql("SELECT customer_id, snapshot_date FROM latest_customer_segments ORDER BY 1").fetchall()
        every = con.sql("SELECT snapshot_date, count(*) FROM customer_segments GROUP BY 1 ORDER BY 1").fetchall()
        views = {row[0] for row in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()}
    assert latest == [("a", date(2026, 11, 21)), ("b", date(2026, 11, 21)), ("c", date(2026, 11, 21))]
    assert every == [(date(2026, 11, 20), 2), (date(2026, 11, 21), 3), (date(2026, 11, 22), 1)]
    assert views == set(PUBLISHED_SCHEMAS) | {f"latest_{name}" for name in PUBLISHED_SCHEMAS}
    assert [path.name for path in layout.published.iterdir() if path.is_file()] == ["latest.duckdb"]


def test_the_previous_snapshot_is_the_last_complete_one_before_the_day(tmp_path):
    layout = DataLayout(tmp_path)
    write_snapshot(layout, date(2026, 11, 19), ["a"])
    write_snapshot(layout, date(2026, 11, 20), ["a", "b"], listed_in_runs=False)
    write_snapshot(layout, date(2026, 11, 22), ["c"])

    assert previous_snapshot_day(layout, date(2026, 11, 22)) == date(2026, 11, 19)
    assert previous_snapshot_day(layout, date(2026, 11, 19)) is None


class Crash(BaseException):
    """Stands for the process dying mid-publish."""


def test_latest_views_skip_a_snapshot_while_a_crashed_republish_of_it_is_incomplete(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    write_snapshot(layout, date(2026, 11, 20), ["a", "b"])
    write_snapshot(layout, date(2026, 11, 21), ["a", "b", "c"])
    views = str(write_latest_views(layout))
    real_replace = os.replace

    def crash_at_segment_profiles(source, destination):
        if "segment_profiles" in str(destination):
            raise Crash
        real_replace(source, destination)

    monkeypatch.setattr(staging.os, "replace", crash_at_segment_profiles)
    with pytest.raises(Crash):
        write_snapshot(layout, date(2026, 11, 21), ["x"], marker=True)
    monkeypatch.setattr(staging.os, "replace", real_replace)

    def latest_customers() -> list[tuple]:
        with duckdb.connect(views, read_only=True) as con:
            return con.sql("SELECT customer_id, snapshot_date FROM latest_customer_segments ORDER BY 1").fetchall()

    assert latest_customers() == [("a", date(2026, 11, 20)), ("b", date(2026, 11, 20))]  # 21st: not in `runs`
    assert recover(layout) == 1
    assert latest_customers() == [("x", date(2026, 11, 21))]


def test_tables_are_joined_by_customer_id_whether_or_not_they_list_the_same_customers_in_order():
    table = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "monetary": [1.0, 2.0, 3.0]}, index=[10, 11, 12])
    aligned = pd.DataFrame({"customer_id": ["c1", "c2", "c3"], "segment_id": [7, 8, 9]})
    shuffled = pd.DataFrame({"customer_id": ["c3", "c1"], "segment_id": [9, 7]})

    side_by_side = joined_by_customer(table, aligned)
    merged = joined_by_customer(table, shuffled)

    assert side_by_side.to_dict("list") == {
        "customer_id": ["c1", "c2", "c3"],
        "monetary": [1.0, 2.0, 3.0],
        "segment_id": [7, 8, 9],
    }
    assert side_by_side.index.tolist() == [10, 11, 12]
    assert merged["segment_id"].tolist()[::2] == [7.0, 9.0] and pd.isna(merged["segment_id"].iloc[1])
    with pytest.raises(pd.errors.MergeError):
        joined_by_customer(table, pd.DataFrame({"customer_id": ["c1", "c1"], "segment_id": [1, 2]}))
