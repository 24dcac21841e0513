"""The snapshot's feature table on Spark: the feature SQL run by Spark over the data root's history, and the table
written by one executor task, so no customer row reaches the driver.

The file is the one DuckDB's path writes: `customer_features.to_pandas` gives a column a nullable pandas dtype when
it holds a null, and the file keeps pandas' dtypes, so Spark first finds which columns hold nulls (one aggregate over
the result, cached on the executors for the write that follows).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from segmentation_pipeline.core.engines.spark_engine import history_query, spark_failures
from segmentation_pipeline.core.engines.spark_scoring import write_table
from segmentation_pipeline.core.features.customer_features import (
    FEATURE_TABLE,
    HISTORY_SOURCES,
    NULLABLE_DTYPES,
    feature_file_schema,
)
from segmentation_pipeline.core.features.sql import features_sql
from segmentation_pipeline.core.storage.layout import DataLayout

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def write_features(session: SparkSession, layout: DataLayout, day: date, parameters: dict) -> int:
    """The feature table of `day` (the feature SQL with `parameters`) computed and written by Spark; its customers."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    label = f"customer features of {day}"
    frame, result = history_query(session, label, layout, features_sql(), parameters, HISTORY_SOURCES)
    nullable = [field.name for field in result if field.type in NULLABLE_DTYPES]
    with spark_failures(label):
        frame = frame.persist(StorageLevel.MEMORY_AND_DISK)
        try:
            found = frame.select(*(F.max(F.col(name).isNull()).alias(name) for name in nullable)).first()
            with_nulls = [name for name in nullable if found[name]]
            return write_table(layout, FEATURE_TABLE, day, frame, feature_file_schema(result, with_nulls))
        finally:
            frame.unpersist()
