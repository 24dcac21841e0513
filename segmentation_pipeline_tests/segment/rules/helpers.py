"""Shared by the tests of the segment rule language: six sample customers with a missing value in most columns,
the kinds of their columns, and short ways to parse, evaluate and load rules and manual assignments."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.segment.rules import (
    RuleError,
    evaluate,
    load_manual_assignments,
    parse_rule_segments,
    schema_of,
)

SCHEMA = {
    "customer_id": "string",
    "monetary": "number",
    "frequency": "number",
    "m_score": "number",
    "nps": "number",
    "is_b2b": "bool",
    "has_survey": "bool",
    "company_size": "string",
    "primary_device": "string",
    "nps_group": "string",
    "lifecycle_stage": "string",
    "first_order_date": "date",
}


def parse(rule: str, schema: dict = SCHEMA):
    return parse_rule_segments([{"name": "s", "rule": rule}], schema, "test.yaml")[0].expression


def error(rule: str, schema: dict = SCHEMA) -> str:
    with pytest.raises(RuleError) as info:
        parse_rule_segments([{"name": "s", "rule": rule}], schema, "test.yaml")
    return str(info.value)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(["c1", "c2", "c3", "c4", "c5", "c6"], dtype="str"),
            "monetary": [1500.0, 200.0, np.nan, 1000.0, 50.0, 3000.0],
            "frequency": pd.array([12, 3, 0, 10, 1, None], dtype="Int64"),
            "m_score": pd.array([5, 3, None, 4, 1, 5], dtype="Int64"),
            "nps": pd.array([10, None, None, 9, 2, 7], dtype="Int64"),
            "is_b2b": pd.array([False, True, None, True, False, True], dtype="boolean"),
            "has_survey": [True, False, False, True, True, True],
            "company_size": pd.Series([None, "201-1000", None, "1000+", None, "11-50"], dtype="str"),
            "primary_device": pd.Series(["mobile", "desktop", None, "mobile", "tablet", "mobile"], dtype="str"),
            "nps_group": pd.Series(["promoter", None, None, "promoter", "detractor", "passive"], dtype="str"),
            "lifecycle_stage": pd.Series(
                ["active", "at risk", "never purchased", "lapsed", "churned", "at risk"], dtype="str"
            ),
            "first_order_date": pd.to_datetime(
                ["2026-01-15 10:30", "2025-06-01", None, "2026-01-01 23:59", "2024-12-31", "2026-03-01"],
                format="ISO8601",
            ),
        }
    )


def members(rule: str, features: pd.DataFrame | None = None) -> list[str]:
    features = frame() if features is None else features
    segments = parse_rule_segments([{"name": "s", "rule": rule}], schema_of(features), "test.yaml")
    return evaluate(segments, features)["customer_id"].tolist()


def write(tmp_path: Path, text: str, name: str = "segments.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


KNOWN = pd.Index(["c1", "c2", "c3", "c4"])


def manual(tmp_path: Path, text: str, known=KNOWN, as_of=date(2026, 6, 30)):
    path = write(tmp_path, text, "manual.csv")
    return load_manual_assignments(path, known, as_of)
