"""The BI contract: versioned published schemas, documented in README, refused when a frame breaks them."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from segmentation_pipeline.core.publish.schemas import (
    PUBLISHED_SCHEMA_VERSION,
    PUBLISHED_SCHEMAS,
    schema_contract,
    to_arrow,
)

PACKAGE = Path(__file__).resolve().parents[2] / "segmentation_pipeline"
README = Path(__file__).resolve().parents[2] / "README.md"


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
