"""The BI contract: versioned published schemas, documented in README, and snapshots swapped in all or nothing."""

import json
import re
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.publish.latest_views import write_latest_views
from segmentation_pipeline.core.publish.schemas import (
    PUBLISHED_SCHEMA_VERSION,
    PUBLISHED_SCHEMAS,
    schema_contract,
    to_arrow,
)
from segmentation_pipeline.core.publish.tables import previous_snapshot, pseudonymise
from segmentation_pipeline.core.storage import atomic as storage
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout

PACKAGE = Path(__file__).resolve().parents[1] / "segmentation_pipeline"
README = Path(__file__).resolve().parents[1] / "README.md"


def test_published_schemas_match_the_recorded_contract_of_their_version():
    recorded = json.loads((PACKAGE / "core" / "publish" / "published_schema.json").read_text())["versions"]
    current = schema_contract()
    assert str(PUBLISHED_SCHEMA_VERSION) in recorded, "record the new version in published_schema.json"
    assert recorded[str(PUBLISHED_SCHEMA_VERSION)] == current, (
        "a published column or type changed without a new schema version: bump PUBLISHED_SCHEMA_VERSION and record "
        f"this schema under it in published_schema.json (and in README):\n{json.dumps(current, indent=2)}"
    )
    assert sorted(map(int, recorded)) == list(range(1, PUBLISHED_SCHEMA_VERSION + 1))


def test_readme_documents_every_published_column_and_the_schema_version():
    section = README.read_text().split("## Published tables", 1)[1].split("\n## ", 1)[0]
    assert f"schema version {PUBLISHED_SCHEMA_VERSION}" in section
    for table, schema in PUBLISHED_SCHEMAS.items():
        documented = section.split(f"`{table}` —", 1)[1].split("\n\n`", 1)[0]
        undocumented = [name for name in schema.names if not re.search(rf"`{name}`", documented)]
        assert undocumented == [], f"{table}: columns missing from README: {undocumented}"


def test_a_frame_that_breaks_the_contract_is_refused_with_the_columns_named():
    frame = pd.DataFrame({"customer": ["c1"], "segment": ["VIP"], "source": ["rule"], "snapshot_date": [None]})
    with pytest.raises(AssertionError, match=r"rule_segment_members: columns \['customer', .*\] differ"):
        to_arrow(frame, "rule_segment_members")


def test_a_crash_mid_publish_leaves_the_previous_snapshot_whole_and_no_partial_files(tmp_path, monkeypatch):
    paths = [tmp_path / name / "snapshot_date=2026-11-22" / "part-0.parquet" for name in ("a", "b", "c")]
    write_parquet_files_atomically({path: pa.table({"version": [1]}) for path in paths})
    before = {path: path.read_bytes() for path in paths}

    real_write = pq.write_table
    written = []

    def crash_on_third_file(table, where, **options):
        if len(written) == 2:
            Path(where).write_bytes(b"PAR1 half a file")  # the crash leaves a partial temporary file behind
            raise OSError("disk full")
        written.append(where)
        real_write(table, where, **options)

    monkeypatch.setattr(storage.pq, "write_table", crash_on_third_file)
    with pytest.raises(OSError, match="disk full"):
        write_parquet_files_atomically({path: pa.table({"version": [2]}) for path in paths})

    assert {path: path.read_bytes() for path in paths} == before  # none of the new tables became visible
    assert sorted(file.name for file in tmp_path.rglob("*") if file.is_file()) == ["part-0.parquet"] * 3
    monkeypatch.setattr(storage.pq, "write_table", real_write)
    write_parquet_files_atomically({path: pa.table({"version": [2]}) for path in paths})  # a re-run replaces all
    assert [pq.read_table(path)["version"].to_pylist() for path in paths] == [[2], [2], [2]]


def test_pseudonymised_ids_are_salted_sha256_and_stable():
    ids = pd.Series(["C000001", "C000002", "C000001"])
    hashed = pseudonymise(ids, "pepper")
    assert hashed[0] == "8ecf91b77e76c5793bf5d6fca9a31ca82654dc53bb534fa1b642c155c43f9902"  # sha256("pepper:C000001")
    assert hashed[2] == hashed[0] and hashed[1] != hashed[0]
    assert pseudonymise(ids, "salt")[0] != hashed[0]


def publish_snapshot(layout: DataLayout, day: date, customers: list[str], listed_in_runs: bool = True) -> None:
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
    publish_snapshot(layout, date(2026, 11, 20), ["a", "b"])
    publish_snapshot(layout, date(2026, 11, 21), ["a", "b", "c"])
    publish_snapshot(layout, date(2026, 11, 22), ["x"], listed_in_runs=False)  # not (yet) complete

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
    publish_snapshot(layout, date(2026, 11, 19), ["a"])
    publish_snapshot(layout, date(2026, 11, 20), ["a", "b"], listed_in_runs=False)
    publish_snapshot(layout, date(2026, 11, 22), ["c"])

    day, customers = previous_snapshot(layout, date(2026, 11, 22))
    assert day == date(2026, 11, 19) and customers["customer_id"].tolist() == ["a"]
    assert previous_snapshot(layout, date(2026, 11, 19)) is None
