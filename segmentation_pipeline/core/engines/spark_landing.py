"""Landing files read and typed on Spark's executors by the driver's own code (`landing.type_file`): the driver lists
a batch's files and keeps the file-level decisions (skipped files, identical copies: `landing.landing_batches`);
each executor task reads, conforms and casts its files and emits their typed rows in the table the rules read
(`row_checks.check_rows`: the clean schema, each row's `_day` and `_row`, its position as file ordinal and line).

A file that cannot be used comes back as data, its one-line message, and the driver raises the InputError the
DuckDB path raises (that of the first file in error); warnings come back the same way. No row reaches the driver.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from segmentation_pipeline.core.engines.spark_frames import spark_types
from segmentation_pipeline.core.engines.spark_validation import check_rows_schema
from segmentation_pipeline.core.errors import bounded
from segmentation_pipeline.core.ingest.contract import Source
from segmentation_pipeline.core.ingest.landing import InputError, ReadReport, type_file
from segmentation_pipeline.core.validate.row_checks import check_rows
from segmentation_pipeline.core.validate.rules import DAY_COLUMN, ROW_COLUMN

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from segmentation_pipeline.core.ingest.landing import _Partition

FILE, KIND, MESSAGE = "_file", "_message_kind", "_message"
ERROR, WARNING = "error", "warning"
LINE_BITS = 32
"""`_row` is the file's ordinal in the batch shifted by this many bits, plus the row's position in the file: the
order of the driver's concatenation (day, file name, line) without knowing the earlier files' lengths."""
BATCH_ROWS = 10_000
"""Rows per Arrow batch handed back to Spark (its own default batch size)."""


@dataclass
class TypedBatch:
    """A batch's typed rows on the executors (cached until `release`) and each day's read report."""

    rows: DataFrame
    reports: dict[date | None, ReadReport]
    cached: DataFrame

    def release(self) -> None:
        self.cached.unpersist()


def typed_landing_rows(session: SparkSession, source: Source, batch: dict[date | None, _Partition]) -> TypedBatch:
    """The rows of the batch's files typed by the executors, in the table the rules read (without the look-ups)."""
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema

    entries = [(day, relative, path) for day, partition in batch.items() for relative, path in partition.files.items()]
    files = pa.table(
        {
            FILE: pa.array(range(len(entries)), pa.int64()),
            DAY_COLUMN: pa.array([day for day, _, _ in entries], pa.date32()),
            "relative": pa.array([relative for _, relative, _ in entries], pa.string()),
            "path": pa.array([str(path.absolute()) for _, _, path in entries], pa.string()),
        }
    )
    schema = _typed_schema(source)
    typed = session.createDataFrame(files).mapInArrow(
        partial(_type_files, source=source, schema=schema), from_arrow_schema(spark_types(schema))
    )
    typed = typed.persist()
    try:
        messages = typed.where(F.col(KIND).isNotNull()).select(FILE, ROW_COLUMN, KIND, MESSAGE).toArrow()
        reports = _reports(batch, entries, messages.sort_by([(FILE, "ascending"), (ROW_COLUMN, "ascending")]))
    except BaseException:
        typed.unpersist()
        raise
    rows = typed.where(F.col(KIND).isNull()).select(*check_rows_schema(source, look_ups=False).names)
    return TypedBatch(rows, reports, typed)


def _typed_schema(source: Source) -> pa.Schema:
    """The rows the executors emit: the rules' table, the file's ordinal and, on a message's row (all else null),
    its kind and text."""
    schema = check_rows_schema(source, look_ups=False)
    return (
        schema.append(pa.field(FILE, pa.int64()))
        .append(pa.field(KIND, pa.string()))
        .append(pa.field(MESSAGE, pa.string()))
    )


def _type_files(batches: Iterator[pa.RecordBatch], source: Source, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """On an executor: each listed file typed, as rows of `schema`."""
    for batch in batches:
        for entry in batch.to_pylist():
            yield from _typed_file(entry, source, schema)


def _typed_file(entry: dict, source: Source, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    ordinal = entry[FILE]
    try:
        frame, warnings = type_file(Path(entry["path"]), entry["relative"], source)
    except InputError as error:
        yield _messages(schema, entry, ERROR, [str(error)])
        return
    if warnings:
        yield _messages(schema, entry, WARNING, warnings)
    if not len(frame):
        return
    table = check_rows(frame, {entry[DAY_COLUMN]: len(frame)}, source, {})
    rows = (ordinal << LINE_BITS) + np.arange(len(frame), dtype=np.int64)
    table = table.set_column(table.schema.get_field_index(ROW_COLUMN), ROW_COLUMN, pa.array(rows))
    table = table.append_column(FILE, pa.array(np.full(len(frame), ordinal, dtype=np.int64)))
    table = table.append_column(KIND, pa.nulls(len(frame), pa.string()))
    table = table.append_column(MESSAGE, pa.nulls(len(frame), pa.string())).cast(spark_types(schema))
    yield from table.to_batches(max_chunksize=BATCH_ROWS)


def _messages(schema: pa.Schema, entry: dict, kind: str, texts: list[str]) -> pa.RecordBatch:
    """A file's messages as rows of `schema`, in their order (`_row`)."""
    given = {
        FILE: pa.array([entry[FILE]] * len(texts), pa.int64()),
        ROW_COLUMN: pa.array([(entry[FILE] << LINE_BITS) + index for index in range(len(texts))], pa.int64()),
        DAY_COLUMN: pa.array([entry[DAY_COLUMN]] * len(texts), pa.date32()),
        KIND: pa.array([kind] * len(texts), pa.string()),
        MESSAGE: pa.array(texts, pa.string()),
    }
    plain = spark_types(schema)
    columns = [given.get(field.name, pa.nulls(len(texts), field.type)) for field in plain]
    return pa.RecordBatch.from_arrays(columns, schema=plain)


def _reports(
    batch: dict[date | None, _Partition], entries: list[tuple[date | None, str, Path]], messages: pa.Table
) -> dict[date | None, ReadReport]:
    """Each day's read report, as the driver's read makes it: the skipped files' warnings, then each file's in
    order. A file in error stops the batch with the first such file's message."""
    found = messages.to_pylist()
    errors = [message for message in found if message[KIND] == ERROR]
    if errors:
        raise InputError(errors[0][MESSAGE])
    warnings = {
        day: [bounded(f"skipped: {entry.file} ({entry.reason})") for entry in partition.skipped]
        for day, partition in batch.items()
    }
    for message in found:
        warnings[entries[message[FILE]][0]].append(message[MESSAGE])
    return {
        day: ReadReport(list(partition.files), warnings[day], partition.skipped) for day, partition in batch.items()
    }
