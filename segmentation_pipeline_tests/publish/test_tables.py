"""Published snapshot tables: pseudonymised ids, the previous complete snapshot, and the latest-snapshot views."""

from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.publish.latest_views import write_latest_views
from segmentation_pipeline.core.publish.schemas import (
    PUBLISHED_SCHEMAS,
)
from segmentation_pipeline.core.publish.tables import previous_snapshot, pseudonymise
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout


def test_pseudonymised_ids_are_salted_sha256_and_stable():
    ids = pd.Series(["C000001", "C000002", "C000001"])
    hashed = pseudonymise(ids, "pepper")
    assert hashed[0] == "8ecf91b77e76c5793bf5d6fca9a31ca82654dc53bb534fa1b642c155c43f9902"  # sha256("pepper:C000001")
    assert hashed[2] == hashed[0] and hashed[1] != hashed[0]
    assert pseudonymise(ids, "salt")[0] != hashed[0]


def write_snapshot(layout: DataLayout, day: date, customers: list[str], listed_in_runs: bool = True) -> None:
    """A snapshot of every published table with only ids and dates filled in."""
    tables = {
        name: pa.Table.from_pylist(
            [{"customer_id": customer, "snapshot_date": day} for customer in customers] or [{"snapshot_date": day}],
            schema=schema,
        )
        for name, schema in PUBLISHED_SCHEMAS.items()
        if name != "runs" or listed_in_runs
    }
    write_parquet_files_atomically({layout.published_table(name, day): table for name, table in tables.items()})


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

    day, customers = previous_snapshot(layout, date(2026, 11, 22))
    assert day == date(2026, 11, 19) and customers["customer_id"].tolist() == ["a"]
    assert previous_snapshot(layout, date(2026, 11, 19)) is None
