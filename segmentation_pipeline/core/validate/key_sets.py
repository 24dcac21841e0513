"""Key look-ups against data already validated: the known customers and the keys delivered on earlier days, held
in a form that stays fast when a backfill checks hundreds of days against the same history."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmentation_pipeline.core.ingest.contract import Source
from segmentation_pipeline.core.storage.layout import DataLayout


class KeySet:
    """String keys for membership tests. A backfill checks every day against the same known customers and earlier keys;
    `pc.is_in` would hash the whole set again per partition, so from the second look-up on the set is hashed once and
    kept. The first look-up of a small partition (all a nightly run does) scans the set for the partition's keys
    instead, which never holds a hash table of tens of millions of keys. Keys validated earlier in the same run are
    added as it goes."""

    def __init__(self, keys: pa.Array | Collection[str] = ()):
        self._array = as_string_array(keys)
        self._index: pd.Index | None = None
        self._looked_up = False
        self._added: set[str] = set()

    def add(self, keys: pd.Series) -> None:
        self._added.update(keys.dropna())

    def contains(self, values: pd.Series) -> pd.Series:
        if len(values) * 8 >= len(self._array):  # a partition about as large as the set: one Arrow pass is cheaper
            found = _is_in(values, self._array)
        elif not self._looked_up:
            found = _is_in(values, self._array.filter(pc.is_in(self._array, value_set=as_string_array(values))))
        else:
            if self._index is None:
                self._index = pd.Index(self._array.to_pandas()).drop_duplicates()
            found = pd.Series(self._index.get_indexer(values) >= 0, index=values.index)
        self._looked_up = True
        if self._added:
            found |= values.map(self._added.__contains__).fillna(False).astype(bool)
        return found


def as_string_array(values: pa.Array | Collection[str]) -> pa.Array:
    """Arrow hash look-ups: pandas 3's `str` isin converts every look-up value in Python, far too slow for history."""
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, (pd.Series, pd.Index)):
        array = pa.array(values, type=pa.string(), from_pandas=True)
        return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array
    return pa.array(list(values), type=pa.string())


def _is_in(values: pd.Series, allowed: pa.Array) -> pd.Series:
    found = pc.is_in(as_string_array(values), value_set=allowed)
    return pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=values.index)


def known_customer_ids(layout: DataLayout) -> pa.Array:
    path = layout.validated("customers", None)
    if not path.exists():
        return pa.array([], type=pa.string())
    return pq.read_table(path, columns=["customer_id"]).column(0).combine_chunks()


def keys_before(layout: DataLayout, source: Source, day: date) -> pa.Array:
    """Keys of `source` validated on days before `day`: a key delivered again later is a duplicate, not a new row."""
    pattern = layout.validated_glob(source.name)
    if source.key is None or not layout.has_validated_days(source.name):
        return pa.array([], type=pa.string())
    query = (
        f"SELECT {source.key} FROM read_parquet($pattern, hive_partitioning = true, hive_types = {{'date': DATE}}) "
        "WHERE date < $day"
    )
    with duckdb.connect() as con:
        keys = con.sql(query, params={"pattern": pattern.as_posix(), "day": day}).to_arrow_table().column(0)
    return keys.combine_chunks().cast(pa.string())
