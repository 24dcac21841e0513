"""Reading and writing the per-snapshot tables of the warehouse and the published area: the one place that turns a
(area, table, day) into a file and back."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import PUBLISHED, WAREHOUSE, DataLayout, partition_day


def read_snapshot_table(layout: DataLayout, table: str, day: date, area: str = WAREHOUSE) -> pd.DataFrame:
    return pq.read_table(layout.snapshot_table(area, table, day)).to_pandas()


def read_snapshot_sample(
    layout: DataLayout, table: str, day: date, max_rows: int, *, batch_rows: int = 65_536
) -> pd.DataFrame:
    """At most `max_rows` rows of a snapshot table, as `read_snapshot_table` gives them: every `sample_step`-th row
    from the first, in the file's order, read one batch at a time, so memory holds the sample and one batch, never the
    table. The same rows on every read."""
    file = pq.ParquetFile(layout.snapshot_table(WAREHOUSE, table, day))
    step = sample_step(file.metadata.num_rows, max_rows)
    if step == 1:
        return file.read().to_pandas()
    batches, start = [], 0
    for batch in file.iter_batches(batch_size=batch_rows):
        batches.append(batch.take(pa.array(np.arange(-start % step, batch.num_rows, step))))
        start += batch.num_rows
    return pa.Table.from_batches(batches, schema=file.schema_arrow).to_pandas()


def sample_step(rows: int, max_rows: int) -> int:
    """The spacing of an evenly spaced sample of at most `max_rows` of `rows` rows (1: every row)."""
    return max(1, -(-rows // max_rows))


def has_snapshot_table(layout: DataLayout, table: str, day: date, area: str = WAREHOUSE) -> bool:
    return layout.snapshot_table(area, table, day).exists()


def write_snapshot_table(layout: DataLayout, table: str, day: date, frame: pd.DataFrame) -> None:
    """A warehouse table of one snapshot, swapped in atomically (published tables go through the publish swap)."""
    path = layout.snapshot_table(WAREHOUSE, table, day)
    write_parquet_atomically(pa.Table.from_pandas(frame, preserve_index=False), path, layout=layout)


def published_snapshots(layout: DataLayout) -> list[date]:
    """The complete published snapshots: those listed in `runs`, oldest first."""
    return [partition_day(path) for path in layout.snapshot_files(PUBLISHED, "runs")]
