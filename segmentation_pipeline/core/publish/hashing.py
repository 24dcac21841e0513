"""SHA-256 of many strings at once, by DuckDB: the same digests as hashlib over the values' UTF-8 bytes, without a
Python call per value (the control group and the audience e-mails of every customer of a snapshot)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.arrow_values import as_string_array
from segmentation_pipeline.core.duckdb_session import duckdb_cursor

HEX = "sha256($prefix || value)"
FIRST_8_BYTES = f"('0x' || left({HEX}, 16))::UBIGINT"
"""The first 16 hex digits of the digest read as a big-endian unsigned 64-bit integer."""


def sha256_hex(values: pd.Series | pa.Array, prefix: str = "") -> pa.Array:
    """The lower-case hex SHA-256 of `prefix + value` for each value, in order (null for a null value)."""
    return _per_value(HEX, values, prefix)


def sha256_first_8_bytes(values: pd.Series | pa.Array, prefix: str = "") -> np.ndarray:
    """The first 8 bytes of the SHA-256 of `prefix + value` for each value, as big-endian uint64s, in order."""
    return _per_value(FIRST_8_BYTES, values, prefix).to_numpy()


def _per_value(expression: str, values: pd.Series | pa.Array, prefix: str) -> pa.Array:
    """`expression` of each value, in the values' order (DuckDB keeps the insertion order of a plain projection);
    `prefix` (a salt) is a query parameter, never part of the SQL."""
    with duckdb_cursor() as con:
        con.register("hashed_values", pa.table({"value": as_string_array(values)}))
        result = con.sql(f"SELECT {expression} FROM hashed_values", params={"prefix": prefix}).to_arrow_table()
    return result.column(0).combine_chunks()
