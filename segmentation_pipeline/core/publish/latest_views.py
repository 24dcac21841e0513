"""`published/latest.duckdb`: views over the published snapshots, so BI can query without knowing dates."""

from __future__ import annotations

from pathlib import Path

import duckdb

from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS
from segmentation_pipeline.core.storage.atomic import staged_file
from segmentation_pipeline.core.storage.layout import PUBLISHED, DataLayout


def write_latest_views(layout: DataLayout) -> Path:
    """For each table a view `<table>` over every snapshot and `latest_<table>` over the newest complete one (the
    newest listed in `runs`). Built aside and renamed into place."""
    target = layout.latest_views
    with staged_file(target, layout=layout) as staged, duckdb.connect(str(staged)) as con:
        for table in PUBLISHED_SCHEMAS:
            pattern = layout.snapshot_glob(PUBLISHED, table).as_posix().replace("'", "''")
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}', hive_partitioning = true, "
                "hive_types = {'snapshot_date': DATE}, union_by_name = true)"
            )
        for table in PUBLISHED_SCHEMAS:
            con.execute(
                f"CREATE VIEW latest_{table} AS SELECT * FROM {table} "
                "WHERE snapshot_date = (SELECT max(snapshot_date) FROM runs)"
            )
    return target
