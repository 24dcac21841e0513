"""`core/features/columns.yaml` is the data dictionary of `customer_features`: README's table is rendered from it
word for word, and the feature SQL returns exactly its columns with its types."""

import re
from pathlib import Path

import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[2]
DICTIONARY = REPO / "segmentation_pipeline" / "core" / "features" / "columns.yaml"
README_HEADER = "| feature | type | definition | source |"
DTYPE_KINDS = {"string": "string", "int": "integer", "float": "floating", "bool": "boolean", "date": "datetime64"}


def dictionary() -> list[dict]:
    return yaml.safe_load(DICTIONARY.read_text(encoding="utf-8"))


def readme_row(entry: dict) -> str:
    """A README row: the columns, their type (shared, a pair, or "mixed"), the definition and the source."""
    types = entry["types"]
    shown = types[0] if len(set(types)) == 1 else ", ".join(types) if len(types) == 2 else "mixed"
    columns = ", ".join(f"`{name}`" for name in entry["columns"])
    return f"| {columns} | {shown} | {entry['definition']} | {entry['source']} |"


def readme_table() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    table = text[text.index(README_HEADER) :].split("\n\n", 1)[0]
    return table.splitlines()[2:]


def test_readme_data_dictionary_is_the_column_dictionary():
    assert readme_table() == [readme_row(entry) for entry in dictionary()]


def test_every_entry_gives_a_known_type_per_column():
    for entry in dictionary():
        assert len(entry["types"]) == len(entry["columns"]), entry["columns"]
        assert set(entry["types"]) <= set(DTYPE_KINDS), entry["columns"]
        assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in entry["columns"])


def _kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(series.dtype):
        return "floating"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "datetime64"
    return "string" if pd.api.types.is_string_dtype(series.dtype) else str(series.dtype)


def test_the_feature_sql_returns_exactly_the_dictionary_columns_and_types(features):
    expected = {
        name: DTYPE_KINDS[kind]
        for entry in dictionary()
        for name, kind in zip(entry["columns"], entry["types"], strict=True)
    }
    table = features.reset_index()
    assert {name: _kind(table[name]) for name in table.columns} == expected
