"""Values as Arrow arrays, for the hash look-ups of validation and publishing (membership tests, joins by
customer id, hashing)."""

from __future__ import annotations

from collections.abc import Collection

import pandas as pd
import pyarrow as pa


def as_string_array(values: pa.Array | Collection[str]) -> pa.Array:
    """Arrow hash look-ups: pandas 3's `str` isin converts every look-up value in Python, far too slow for history."""
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, (pd.Series, pd.Index)):
        array = pa.array(values, type=pa.string(), from_pandas=True)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return pa.array(list(values), type=pa.string())
