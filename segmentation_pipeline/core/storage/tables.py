"""Reading and writing the per-snapshot tables of the warehouse and the published area: the one place that turns a
(area, table, day) into a file and back."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import PUBLISHED, WAREHOUSE, DataLayout, partition_day


def read_snapshot_table(layout: DataLayout, table: str, day: date, area: str = WAREHOUSE) -> pd.DataFrame:
    return pq.read_table(layout.snapshot_table(area, table, day)).to_pandas()


def has_snapshot_table(layout: DataLayout, table: str, day: date, area: str = WAREHOUSE) -> bool:
    return layout.snapshot_table(area, table, day).exists()


def write_snapshot_table(layout: DataLayout, table: str, day: date, frame: pd.DataFrame) -> None:
    """A warehouse table of one snapshot, swapped in atomically (published tables go through the publish swap)."""
    path = layout.snapshot_table(WAREHOUSE, table, day)
    write_parquet_atomically(pa.Table.from_pandas(frame, preserve_index=False), path, layout=layout)


def published_snapshots(layout: DataLayout) -> list[date]:
    """The complete published snapshots: those listed in `runs`, oldest first."""
    return [partition_day(path) for path in layout.snapshot_files(PUBLISHED, "runs")]
