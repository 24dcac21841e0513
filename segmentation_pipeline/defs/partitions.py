"""Daily UTC partitions shared by every dated asset. The first day is configurable for data older than the default."""

import os

import dagster as dg

PARTITIONS_START_ENV = "SEGMENTATION_PARTITIONS_START"
DEFAULT_PARTITIONS_START = "2024-01-01"

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=os.environ.get(PARTITIONS_START_ENV, DEFAULT_PARTITIONS_START), timezone="UTC"
)


def partition_days(context: dg.AssetExecutionContext) -> list:
    """The days a run covers: one for a nightly run, many for a single-run backfill."""
    from datetime import date

    return [date.fromisoformat(key) for key in context.partition_keys]
