"""A snapshot's rule and manual segments on Spark: the marketers' rules evaluated per batch on the executors by the
driver's own `rules.evaluate` (row-wise: a batch's members are that batch's rows of the whole table's members), the
manual assignments' unknown customers found by an anti-join, and `rule_segment_members` written by one executor
task in DuckDB's order and committed by the driver. Only counts, and the manual file's unknown ids, reach the driver.

The one thing `evaluate` reads from the whole population is computed first: the kind of a column pandas types from
its values (object and categorical columns; a date column without a date in a batch would pass for text), from one
row with a value of each such column.
"""

from __future__ import annotations

from datetime import date
from functools import partial, reduce
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.engines.spark_frames import (
    as_pandas,
    joined_schema,
    map_frames,
    read_table,
    select_schema,
    spark_types,
)
from segmentation_pipeline.core.engines.spark_scoring import write_table
from segmentation_pipeline.core.segment.rules import (
    MEMBERSHIP_KIND_COLUMN,
    RULE_MEMBERSHIP,
    active_assignments,
    empty_memberships,
    evaluate,
    load_rule_segments,
    read_manual_assignments,
    schema_of,
)
from segmentation_pipeline.core.segment.snapshot import MEMBERSHIP_INPUTS, Memberships
from segmentation_pipeline.core.storage.layout import WAREHOUSE, DataLayout

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CUSTOMER = "customer_id"
MEMBERS = "rule_segment_members"
MEMBERS_SCHEMA = pa.Table.from_pandas(empty_memberships(), preserve_index=False).schema
"""The table's schema as the driver writes it (`storage.tables.write_snapshot_table`)."""
MEMBERS_ORDER = (CUSTOMER, "segment", "manual")
"""DuckDB's order (`segment.snapshot.rule_memberships`: a stable sort by customer and segment of the rule members
followed by the manual ones): a pair's rule membership before its manual one."""


def rule_memberships(
    session: SparkSession, layout: DataLayout, day: date, rules_file: Path | None, manual_file: Path | None
) -> Memberships:
    """`segment.snapshot.rule_memberships` on Spark: the same table written, the same figures returned."""
    from pyspark.sql import functions as F

    customers = _Customers(session, layout, day)
    members = []
    if rules_file:
        kinds = column_kinds(customers)
        segments = load_rule_segments(rules_file, kinds)
        used = {column for segment in segments for column in segment.columns}
        columns = [name for name in customers.schema.names if name in used or name == CUSTOMER]
        evaluated = partial(evaluate, segments, kinds=kinds)
        inputs = select_schema(customers.schema, columns)
        members.append(map_frames(customers.frame(columns), evaluated, inputs, MEMBERS_SCHEMA))
    manual = None
    if manual_file:
        table = read_manual_assignments(manual_file)
        manual = active_assignments(table, unknown_customers(customers.frame([CUSTOMER]), table[CUSTOMER]), day)
        members.append(_frame(session, manual.assignments))
    frame = reduce(_union, members) if members else _frame(session, empty_memberships())
    keyed = frame.withColumn("manual", F.col(MEMBERSHIP_KIND_COLUMN) != RULE_MEMBERSHIP)
    rows = write_table(layout, MEMBERS, day, keyed, MEMBERS_SCHEMA, MEMBERS_ORDER)
    written, _ = read_table(session, layout.snapshot_table(WAREHOUSE, MEMBERS, day))
    counts = written.groupBy("segment", MEMBERSHIP_KIND_COLUMN).agg(F.count("*").alias("customers"))
    per_segment = counts.toArrow().to_pandas().sort_values(["segment", MEMBERSHIP_KIND_COLUMN], ignore_index=True)
    return Memberships(
        rows, per_segment, manual.unknown_customers if manual else None, manual.expired if manual else None
    )


class _Customers:
    """The snapshot's customers as `segment.snapshot.rule_memberships` joins them (inner joins by customer_id of
    `MEMBERSHIP_INPUTS`, without `model_version`), with the joined table's Arrow schema (pandas metadata included)."""

    def __init__(self, session: SparkSession, layout: DataLayout, day: date):
        self.tables = []
        for name in MEMBERSHIP_INPUTS:
            frame, schema = read_table(session, layout.snapshot_table(WAREHOUSE, name, day))
            self.tables.append((frame, select_schema(schema, [n for n in schema.names if n != "model_version"])))
        self.schema = joined_schema([schema for _, schema in self.tables])

    def frame(self, columns: list[str]) -> DataFrame:
        """The joined customers' `columns` (every table is joined: a customer missing from one is no customer)."""
        wanted = set(columns)
        selected = [
            frame.select(CUSTOMER, *(name for name in schema.names[1:] if name in wanted))
            for frame, schema in self.tables
        ]
        return reduce(lambda left, right: left.join(right, CUSTOMER, "inner"), selected).select(*columns)


def column_kinds(customers: _Customers) -> dict[str, str]:
    """`rules.schema_of` the whole joined table, reading values only for the columns pandas types by their values:
    one row with a value per such column (none without any, as in the whole table)."""
    from pyspark.sql import functions as F

    empty = customers.schema.empty_table().to_pandas()
    by_values = [
        name
        for name, dtype in empty.dtypes.items()
        if dtype == object or isinstance(dtype, pd.CategoricalDtype)  # noqa: E721 (object columns)
    ]
    if not by_values:
        return schema_of(empty)
    frame = customers.frame(customers.schema.names)
    rows = reduce(_union, [frame.where(F.col(name).isNotNull()).limit(1) for name in by_values])
    return schema_of(as_pandas(rows.toArrow(), customers.schema))


def unknown_customers(customers: DataFrame, ids: pd.Series) -> list[str]:
    """The distinct `ids` (the manual file's: an account managers' list, small) missing from `customers`, sorted; by
    an anti-join on Spark."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    frame = customers.sparkSession.createDataFrame(pa.table({CUSTOMER: pa.array(wanted, pa.string())}))
    unknown = frame.join(customers, CUSTOMER, "left_anti").toArrow()
    return sorted(unknown[CUSTOMER].to_pylist())


def _union(first: DataFrame, second: DataFrame) -> DataFrame:
    return first.unionByName(second)


def _frame(session: SparkSession, members: pd.DataFrame) -> DataFrame:
    """A small pandas table of memberships (the manual ones) as a Spark DataFrame."""
    table = pa.Table.from_pandas(members, preserve_index=False).cast(spark_types(MEMBERS_SCHEMA))
    return session.createDataFrame(table)
