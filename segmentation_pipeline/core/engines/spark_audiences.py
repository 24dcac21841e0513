"""The audience export of a snapshot on Spark: who is reached worked out per batch on the executors by the pandas
code of `core/publish/audiences.py` (`contact_rows`), each segment's file written by an executor task into the
staged snapshot folder, sorted by customer as on DuckDB; the driver receives the segments' names and counts only,
never an e-mail, and writes the manifest and the files of segments nobody in them can be reached."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import from_arrow_schema

from segmentation_pipeline.core.engines.spark_frames import map_frames, output_schema, read_table, select_schema
from segmentation_pipeline.core.publish.audiences import (
    WRITTEN,
    AudienceExport,
    contact_columns,
    contact_rows,
    segment_files,
    write_sorted_files,
)
from segmentation_pipeline.core.publish.memberships import SEGMENT_FAMILIES, SEGMENT_LIST_TYPE
from segmentation_pipeline.core.storage.layout import DataLayout

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

CUSTOMER = "customer_id"
AUDIENCE_INPUTS = [CUSTOMER, "marketing_opt_in", "in_control_group", *SEGMENT_FAMILIES.values()]


@dataclass(frozen=True)
class ExecutorFiles:
    """Segment files written by Spark's executors into the staged snapshot folder (on a filesystem they share)."""

    members: DataFrame
    """Each reached customer once per segment: `file`, then the files' columns."""
    columns: list[str]
    rows: DataFrame
    """The executors' `contact_rows` of every customer, cached until `release`."""

    def write(self, folder: Path) -> set[str]:
        """The files with customers, each written by one task, sorted by customer as on the driver."""
        write = partial(write_sorted_files, folder=str(folder), columns=self.columns)
        ordered = self.members.repartition("file").sortWithinPartitions("file", CUSTOMER)
        return {row["file"] for row in ordered.mapInArrow(write, from_arrow_schema(WRITTEN)).collect()}

    def release(self) -> None:
        self.rows.unpersist()


def audience_export(
    session: SparkSession, layout: DataLayout, customers: DataFrame, source: pa.Schema, plain_emails: bool
) -> AudienceExport:
    """The snapshot's audiences from its `customer_segments` rows with CRM ids on Spark (`source`: their schema)
    and the validated CRM export's e-mails, joined by Spark."""
    emails, emails_schema = read_table(session, layout.validated("customers", None))
    inputs = select_schema(source, AUDIENCE_INPUTS)
    joined = customers.select(*AUDIENCE_INPUTS).join(emails.select(CUSTOMER, "email"), CUSTOMER, "left")
    schema = pa.schema([*inputs, emails_schema.field("email")], metadata=inputs.metadata)
    contacts = partial(contact_rows, plain_emails=plain_emails)
    rows_schema = output_schema(contacts, joined, schema)  # from one row, whose lists may all be empty:
    lists = pa.field("rule_segments", SEGMENT_LIST_TYPE)  # the lists' type, not pyarrow's list<null> for those
    rows_schema = rows_schema.set(rows_schema.get_field_index("rule_segments"), lists)
    rows = map_frames(joined, contacts, schema, rows_schema)
    rows = rows.persist(StorageLevel.MEMORY_AND_DISK)  # read by every family, the counts and the files' writes
    columns = contact_columns(plain_emails)
    paths, members = {}, []
    for family, column in SEGMENT_FAMILIES.items():
        segment = F.explode(column) if column == "rule_segments" else F.col(column)
        names = customers.select(segment.alias("segment")).where(F.col("segment").isNotNull()).distinct()
        paths[family] = segment_files(family, sorted(row["segment"] for row in names.collect()))
        reached = rows.where("reached").select(F.lit(family).alias("family"), segment.alias("segment"), *columns)
        members.append(reached.where(F.col("segment").isNotNull()))
    files = pd.DataFrame(
        [(family, segment, path) for family, by_segment in paths.items() for segment, path in by_segment.items()],
        columns=["family", "segment", "file"],
    )
    union = members[0].unionByName(members[1]).unionByName(members[2])
    located = union.join(F.broadcast(session.createDataFrame(files)), ["family", "segment"]).select("file", *columns)
    counts = dict(located.groupBy("file").count().collect())
    reached = F.col("reached")
    customers_reached, left_out = rows.agg(F.count(F.when(reached, True)), F.count(F.when(~reached, True))).first()
    manifest = files.assign(customers=files["file"].map(lambda path: counts.get(path, 0)).astype("int64"))
    return AudienceExport(
        manifest=manifest,
        customers=customers_reached,
        left_out_without_email=left_out,
        plain_emails=plain_emails,
        segment_files=ExecutorFiles(located, columns, rows),
    )
