"""Look-ups against data already ingested: the known customers, the keys delivered on earlier days, and landing
days delivered again after they were ingested."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.ingest.contract import DAILY_SOURCES, Source
from segmentation_pipeline.core.ingest.landing import landing_days, landing_files
from segmentation_pipeline.core.storage.layout import DataLayout


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


def redelivered_days(layout: DataLayout) -> dict[date, str]:
    """Landing days delivered again after they were ingested (a landing file newer than the day's raw partition),
    each with a key that changes with every new delivery."""
    late = {}
    for source in DAILY_SOURCES:
        for day in landing_days(layout.landing, source):
            raw = layout.raw(source.name, day)
            delivered = max((path.stat().st_mtime_ns for path in landing_files(layout.landing, source, day)), default=0)
            if raw.exists() and delivered > raw.stat().st_mtime_ns:
                late[day] = f"{late.get(day, '')}{source.name}@{delivered};"
    return dict(sorted(late.items()))
