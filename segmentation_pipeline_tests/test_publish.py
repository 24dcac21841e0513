"""The BI contract: versioned published schemas, documented in README, and snapshots swapped in all or nothing."""

import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core import storage
from segmentation_pipeline.core.publish import PUBLISHED_SCHEMA_VERSION, PUBLISHED_SCHEMAS, schema_contract, to_arrow
from segmentation_pipeline.core.storage import write_parquet_files_atomically

PACKAGE = Path(__file__).resolve().parents[1] / "segmentation_pipeline"
README = Path(__file__).resolve().parents[1] / "README.md"


def test_published_schemas_match_the_recorded_contract_of_their_version():
    recorded = json.loads((PACKAGE / "published_schema.json").read_text())["versions"]
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
