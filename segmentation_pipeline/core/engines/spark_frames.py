"""Per-customer work on Spark's executors with the driver's own pandas code, and one-file Parquet writes by an
executor, so a table of every customer is neither collected nor written by the driver.

Each Arrow batch reaching an executor is turned into pandas exactly as `read_snapshot_table` turns the table's file
(the file's own Arrow schema and pandas metadata), so the pandas functions see the dtypes they see on DuckDB and
give the same values; PySpark's own pandas conversion (`mapInPandas`), which it does not support under pandas >= 3,
is never used. Tables are addressed by URI (`file://` here; any filesystem pyarrow opens on the executors).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import groupby, pairwise
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from segmentation_pipeline.core.storage.atomic import DICTIONARY_PAGE_BYTES

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

FrameFunction = Callable[[pd.DataFrame], pd.DataFrame]
HADOOP_SCHEMES = {"s3a": "s3", "s3n": "s3", "abfss": "abfs"}
"""Hadoop's URI schemes (Spark's) and pyarrow's names for the same filesystems (the executors' writer)."""


def uri(path: Path | str) -> str:
    """A local path as a `file://` URI as Hadoop reads it (not percent-encoded: `snapshot_date=` stays); a URI as
    it is."""
    return path if isinstance(path, str) and "://" in path else f"file://{Path(path).absolute()}"


def read_table(session: SparkSession, path: Path | str) -> tuple[DataFrame, pa.Schema]:
    """A warehouse or published Parquet file as a Spark DataFrame, and its Arrow schema (with pandas metadata)."""
    filesystem, location = _resolve(uri(path))
    schema = pq.read_schema(location, filesystem=filesystem)
    return session.read.parquet(uri(path)), schema


def row_count(path: Path | str) -> int:
    """The rows of a Parquet file, from its footer (no Spark job)."""
    filesystem, location = _resolve(uri(path))
    return pq.read_metadata(location, filesystem=filesystem).num_rows


def first_value(path: Path | str, column: str) -> object:
    """`column` of the first row of a Parquet file (None for an empty file), read from its first batch alone."""
    filesystem, location = _resolve(uri(path))
    with filesystem.open_input_file(location) as source:
        first = next(pq.ParquetFile(source).iter_batches(batch_size=1, columns=[column]), None)
        return first[column][0].as_py() if first is not None and first.num_rows else None


def select_schema(schema: pa.Schema, names: list[str]) -> pa.Schema:
    """`schema`'s fields `names`, with its pandas metadata restricted to them."""
    metadata = dict(schema.metadata or {})
    if b"pandas" in metadata:
        pandas_metadata = json.loads(metadata[b"pandas"])
        pandas_metadata["columns"] = [
            column for column in pandas_metadata["columns"] if column["field_name"] in set(names)
        ]
        metadata[b"pandas"] = json.dumps(pandas_metadata).encode()
    return pa.schema([schema.field(name) for name in names], metadata=metadata)


def map_frames(frame: DataFrame, function: FrameFunction, source: pa.Schema, output: pa.Schema) -> DataFrame:
    """`function` applied on the executors to each batch of `frame` (rows of a file of schema `source`) as pandas;
    its frames come back as rows of `output`'s types. Row-wise functions only: a batch is any subset of rows."""
    from pyspark.sql.pandas.types import from_arrow_schema

    plain = spark_types(output)

    def per_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if not batch.num_rows:
                continue
            result = function(as_pandas(batch, source))
            yield from pa.Table.from_pandas(result, preserve_index=False).cast(plain).to_batches()

    return frame.mapInArrow(per_partition, from_arrow_schema(plain))


def as_pandas(rows: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pd.DataFrame:
    """A batch of a file's rows as the pandas frame that reading the file gives (`schema`: the file's)."""
    table = rows if isinstance(rows, pa.Table) else pa.Table.from_batches([rows])
    table = table.select(schema.names).cast(_without_metadata(schema))
    return table.replace_schema_metadata(schema.metadata).to_pandas()


def output_schema(
    function: FrameFunction,
    frame: DataFrame,
    source: pa.Schema,
    to_arrow: Callable[[pd.DataFrame], pa.Table] | None = None,
) -> pa.Schema:
    """The Arrow schema (pandas metadata included) of the table `function` makes of `frame` (rows of a file of
    schema `source`): the schema the driver's `to_arrow` gives on DuckDB, from the function run on the first row (or
    on none, for an empty frame; some models cannot score zero rows)."""
    first = frame.limit(1).toArrow()
    sample = pa.Table.from_batches(first.to_batches(), first.schema) if first.num_rows else None
    rows = as_pandas(sample, source) if sample is not None else source.empty_table().to_pandas()
    result = function(rows)
    return (to_arrow(result) if to_arrow else pa.Table.from_pandas(result, preserve_index=False)).schema


def joined_schema(schemas: list[pa.Schema], *others: pa.Field) -> pa.Schema:
    """The schema of tables joined by their first column (the key, kept once), then `others` (without pandas
    metadata: pyarrow's default conversion): the fields in order, with the pandas metadata of each table's columns,
    so a batch of the join converts as each file does."""
    fields, columns = [], []
    for position, schema in enumerate(schemas):
        names = schema.names if position == 0 else schema.names[1:]
        fields += [schema.field(name) for name in names]
        columns += json.loads(select_schema(schema, names).metadata[b"pandas"])["columns"]
    metadata = json.loads(schemas[0].metadata[b"pandas"]) | {"columns": columns}
    return pa.schema([*fields, *others], metadata={b"pandas": json.dumps(metadata).encode()})


ROW_GROUP_ROWS = 1024 * 1024
"""The rows of a row group as the driver's writer makes them (`pq.write_table`'s default)."""


def write_one_file(frame: DataFrame, target: Path | str, schema: pa.Schema, order_by: list[str]) -> int:
    """`frame`'s rows, sorted by `order_by`, written by one executor task as one Parquet file at `target` (a staged
    path: the caller commits it) in exactly `schema`, with the settings of the driver's writer and its row groups
    (the batches buffered into `ROW_GROUP_ROWS` rows each), so the file is the driver's byte for byte. Returns the
    rows."""
    filesystem, location = _resolve(uri(target))

    def write(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        yield pa.RecordBatch.from_pydict({"rows": [_write_file(filesystem, location, schema, batches)]})

    written = frame.repartition(1).sortWithinPartitions(*order_by).mapInArrow(write, "rows long").collect()
    if not written:  # an empty frame may have no partition, so no task to write the (empty) file
        _write_file(filesystem, location, schema, iter(()))
    return sum(row["rows"] for row in written)


def write_files(
    frame: DataFrame, key: str, targets: dict[int, tuple[Path | str, pa.Schema]], order_by: list[str]
) -> None:
    """`frame`'s rows of each `key` value written as one Parquet file, `targets[value]` (a staged path and its
    exact schema), by the executor task holding that value, sorted by `order_by` and written as `write_one_file`
    writes (the driver's files byte for byte); a target without rows is written empty. One job for every file."""
    resolved = {value: (*_resolve(uri(path)), schema) for value, (path, schema) in targets.items()}

    def write(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for value, runs in groupby(_split_by(batches, key), key=lambda run: run[0]):
            filesystem, location, schema = resolved[value]
            rows = _write_file(filesystem, location, schema, (batch for _, batch in runs))
            yield pa.RecordBatch.from_pydict({"file": [value], "rows": [rows]})

    # a task per file, up to the session's shuffle partitions (a backfill's batch may hold hundreds of tiny days)
    partitions = max(1, min(len(targets), int(frame.sparkSession.conf.get("spark.sql.shuffle.partitions"))))
    ordered = frame.repartition(partitions, key).sortWithinPartitions(key, *order_by)
    written = {row["file"] for row in ordered.mapInArrow(write, "file long, rows long").collect()}
    for value in targets.keys() - written:
        _write_file(*resolved[value], iter(()))


def _split_by(batches: Iterator[pa.RecordBatch], key: str) -> Iterator[tuple[int, pa.RecordBatch]]:
    """Each batch (sorted by `key`) cut into runs of one `key` value, as (value, rows)."""
    for batch in batches:
        values = batch[key].to_numpy()
        if not len(values):
            continue
        starts = [0, *(np.flatnonzero(values[1:] != values[:-1]) + 1).tolist(), len(values)]
        for start, stop in pairwise(starts):
            yield int(values[start]), batch.slice(start, stop - start)


def _write_file(
    filesystem: pafs.FileSystem, location: str, schema: pa.Schema, batches: Iterator[pa.RecordBatch]
) -> int:
    """`batches` (in order) as one Parquet file in exactly `schema`, with the driver writer's settings and row
    groups (buffered into `ROW_GROUP_ROWS` rows each); the rows written."""
    rows, buffered, pending = 0, 0, []
    with (
        filesystem.open_output_stream(location) as stream,
        pq.ParquetWriter(stream, schema, compression="zstd", dictionary_pagesize_limit=DICTIONARY_PAGE_BYTES) as writer,
    ):
        for batch in batches:
            pending.append(pa.Table.from_batches([batch]).select(schema.names).cast(schema))
            rows, buffered = rows + batch.num_rows, buffered + batch.num_rows
            if buffered >= ROW_GROUP_ROWS:
                pending = _write_row_groups(writer, pending, last=False)
                buffered = pending[0].num_rows
        if rows:
            _write_row_groups(writer, pending, last=True)
        else:
            writer.write_table(schema.empty_table())  # one empty row group, as the driver writes an empty table
    return rows


def _write_row_groups(writer: pq.ParquetWriter, pending: list[pa.Table], last: bool) -> list[pa.Table]:
    """The whole row groups of the `pending` rows written (and the last, shorter one if `last`); the rows left."""
    table = pa.concat_tables(pending)
    whole = table.num_rows if last else table.num_rows - table.num_rows % ROW_GROUP_ROWS
    if whole:
        writer.write_table(table.slice(0, whole).combine_chunks(), row_group_size=ROW_GROUP_ROWS)
    return [table.slice(whole)]


def _resolve(location: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's filesystem and path for a URI in Spark's spelling (`s3a://` is pyarrow's `s3://`)."""
    scheme, rest = location.split("://", 1)
    if scheme == "file":
        return pafs.LocalFileSystem(), rest
    return pafs.FileSystem.from_uri(f"{HADOOP_SCHEMES.get(scheme, scheme)}://{rest}")


def spark_types(schema: pa.Schema) -> pa.Schema:
    """`schema` without metadata, in types Spark carries: timestamps in microseconds (Spark has no other unit; the
    writer casts them back)."""
    return pa.schema(
        [
            field.with_type(pa.timestamp("us", field.type.tz)) if pa.types.is_timestamp(field.type) else field
            for field in schema.remove_metadata()
        ]
    )


def _without_metadata(schema: pa.Schema) -> pa.Schema:
    return schema.remove_metadata()
