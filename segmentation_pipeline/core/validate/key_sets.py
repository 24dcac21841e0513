"""Key look-ups against data already validated: the known customers and the keys delivered on earlier days, held
in a form that stays fast when a backfill checks hundreds of days against the same history.

Keys of customers, orders and survey responses are few enough to hold in memory. Usage events' `event_id`s are not
(100M events over the reference 90 days would take several GB as Python strings), so each day looks its own ids up
in the earlier days' files instead (their id hashes first, then the ids of the days that may hold one), and memory
stays that of one day's ids."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date
from functools import partial
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmentation_pipeline.core.arrow_values import as_string_array
from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.features.rollups import EVENT_ID_HASHES, ROLLUP_SCHEMAS, rollup_is_current
from segmentation_pipeline.core.ingest.contract import SOURCES, USAGE_EVENTS, Source
from segmentation_pipeline.core.storage.layout import DataLayout, partition_day

DEDUP_COLUMNS = {source.name: source.key for source in SOURCES.values()} | {USAGE_EVENTS.name: "event_id"}
"""The column each source is de-duplicated on: its key, or for usage events the optional `event_id` (the contract
gives them no key, since an event without an id is still valid)."""


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
    with duckdb_cursor() as con:
        keys = con.sql(query, params={"pattern": pattern.as_posix(), "day": day}).to_arrow_table().column(0)
    return keys.combine_chunks().cast(pa.string())


class ValidatedKeysBefore:
    """Event ids validated on days before `day`, looked up in the validated days themselves, so memory is that of the
    partition's ids however long the history. Each day's `usage_day_event_ids` rollup (64-bit hashes, an eighth of the
    ids' bytes) is searched first; only the days where a hash matches, and the days without a current rollup, have
    their ids read, so the answer is exact."""

    def __init__(self, layout: DataLayout, source: Source, day: date):
        self._layout, self._source, self._day = layout, source, day

    def contains(self, values: pd.Series) -> pd.Series:
        wanted = values.dropna().drop_duplicates()
        if wanted.empty:
            return pd.Series(False, index=values.index)
        column = DEDUP_COLUMNS[self._source.name]
        with duckdb_cursor() as con:
            con.register("wanted", pa.table({"key": as_string_array(wanted)}))
            matching = partial(_days_with_a_matching_hash, con, self._layout)
            files = [path.as_posix() for path in files_that_may_hold(self._layout, self._source, self._day, matching)]
            if not files:
                return pd.Series(False, index=values.index)
            query = f"SELECT DISTINCT {column} FROM read_parquet($files) WHERE {column} IN (SELECT key FROM wanted)"
            seen = con.sql(query, params={"files": files}).to_arrow_table().column(0)
        return _is_in(values, seen.combine_chunks().cast(pa.string()))


def files_that_may_hold(
    layout: DataLayout, source: Source, day: date, matching_days: Callable[[list[date]], set[date]]
) -> list[Path]:
    """The validated files of `source`'s days before `day` that may hold one of the wanted event ids: the days
    without a current `usage_day_event_ids` rollup, and those among the others whose hashes `matching_days` finds
    one of the wanted ids' hashes in (each engine searches the hashes its own way)."""
    rows = {partition_day(path): path for path in layout.validated_files(source.name) if partition_day(path) < day}
    hashed = [day for day, path in rows.items() if rollup_is_current(layout, EVENT_ID_HASHES, day, path)]
    chosen = set(rows).difference(hashed) | (matching_days(hashed) if hashed else set())
    return [rows[day] for day in sorted(chosen)]


HASH_LOOK_UP = (
    "SELECT DISTINCT date FROM earlier_event_id_hashes "
    "WHERE event_id_hash IN (SELECT hash(key) FROM wanted WHERE key IS NOT NULL)"
)
"""The days whose event id hashes include the hash of a wanted key: DuckDB SQL over `HASH_LOOK_UP_TABLES`, run by
DuckDB here and, translated, by Spark (`spark_validation.py`), so the look-up is written once."""
HASH_LOOK_UP_TABLES = {
    "earlier_event_id_hashes": ROLLUP_SCHEMAS[EVENT_ID_HASHES].append(pa.field("date", pa.date32())),
    "wanted": pa.schema([("key", pa.string())]),
}
"""The views `HASH_LOOK_UP` reads: the earlier days' hash rollups with their partition day, and the wanted keys."""


def _days_with_a_matching_hash(con: duckdb.DuckDBPyConnection, layout: DataLayout, days: list[date]) -> set[date]:
    """`HASH_LOOK_UP` over the rollups of `days` and the registered `wanted` keys."""
    files = [layout.rollup(EVENT_ID_HASHES, day).as_posix() for day in days]
    rollups = con.read_parquet(files, hive_partitioning=True).project("event_id_hash, CAST(date AS DATE) AS date")
    con.register("earlier_event_id_hashes", rollups)
    return {row[0] for row in con.sql(HASH_LOOK_UP).fetchall()}


class HashedKeys:
    """64-bit hashes of keys (8 bytes each, against 60 or more for a Python string), kept as sorted runs, each more
    than twice the size of the next newer one: adding a day merges a few small runs, and a look-up is one binary
    search per run (about log2 of the days added). Two different keys share a hash with odds of about keys held x keys
    looked up / 2^64 per look-up: over the whole reference backfill (100M events in 90 days) about 1 in 4,000 that a
    single event is wrongly taken for a duplicate."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def add(self, keys: pd.Series) -> None:
        run = np.sort(_hashes(keys.dropna()))
        if not run.size:  # an empty run would break the look-up's search
            return
        run = run[np.r_[True, run[1:] != run[:-1]]]
        while self._runs and self._runs[-1].size <= 2 * run.size:
            run = _merged(self._runs.pop(), run)
        self._runs.append(run)

    def contains(self, values: pd.Series) -> pd.Series:
        if not self._runs:
            return pd.Series(False, index=values.index)
        present = values.notna().to_numpy()
        hashes = _hashes(values[present])
        order = np.argsort(hashes)
        wanted = hashes[order]  # sorted: each binary search starts where the last one ended
        hits = np.zeros(wanted.size, dtype=bool)
        for run in self._runs:
            hits |= run[np.minimum(np.searchsorted(run, wanted), run.size - 1)] == wanted
        found = np.zeros(len(values), dtype=bool)
        found[np.flatnonzero(present)[order]] = hits
        return pd.Series(found, index=values.index)


def _merged(older: np.ndarray, newer: np.ndarray) -> np.ndarray:
    """Two sorted arrays as one, in one pass (a sort of their concatenation costs several times more)."""
    at = np.searchsorted(older, newer) + np.arange(newer.size)
    merged = np.empty(older.size + newer.size, dtype=np.uint64)
    is_new = np.zeros(merged.size, dtype=bool)
    is_new[at] = True
    merged[at] = newer
    merged[~is_new] = older
    return merged


def _hashes(keys: pd.Series) -> np.ndarray:
    if keys.empty:
        return np.zeros(0, dtype=np.uint64)
    with duckdb_cursor() as con:
        con.register("keys", pa.table({"key": as_string_array(keys)}))
        return con.sql("SELECT hash(key) AS h FROM keys").fetchnumpy()["h"].astype(np.uint64, copy=False)


class EarlierKeys:
    """What each day of a run is checked against for duplicates: the keys validated on earlier days, for days
    validated in order. A source's key (customers, orders, survey responses) is held in a `KeySet`, read once and
    grown with each day's clean keys as a backfill goes. Usage events' ids are too many to hold as strings: days
    before the run are looked up in their files (`ValidatedKeysBefore`: a nightly run holds only the day's ids),
    days validated earlier in the run as 64-bit hashes (`HashedKeys`), so a
    backfill never reads its own growing history again."""

    def __init__(self, layout: DataLayout, source: Source, first_day: date):
        self._column = DEDUP_COLUMNS[source.name]
        if source.key:
            self._held, self._history = KeySet(keys_before(layout, source, first_day)), None
        else:
            self._held = HashedKeys()
            before_run = layout.has_validated_day_before(source.name, first_day)
            self._history = ValidatedKeysBefore(layout, source, first_day) if before_run else None

    def contains(self, values: pd.Series) -> pd.Series:
        found = self._held.contains(values)
        return found | self._history.contains(values) if self._history is not None else found

    def add_validated(self, *cleans: pd.DataFrame) -> None:
        """The clean rows of days just validated, added at once (a `HashedKeys` run per call, not per day)."""
        self._held.add(pd.concat([clean[self._column] for clean in cleans], ignore_index=True))
