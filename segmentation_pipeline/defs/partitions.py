"""Daily UTC partitions shared by every dated asset, from the data root's first landing day."""

from datetime import date

import dagster as dg

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.ingest.first_day import first_partition_day
from segmentation_pipeline.defs.resources import DataRoot

PARTITIONS_START = first_partition_day(DataRoot().layout)
"""Of the default data root ($SEGMENTATION_DATA_DIR, else the repository's `data/`), once per process: the CLI sets
that variable before it imports the definitions; a running UI sees an earlier landing day after a reload."""

PER_DAY_ROWS_SHOWN = 10
"""A long backfill's per-day table shows this many first and last days."""

daily_partitions = dg.DailyPartitionsDefinition(start_date=PARTITIONS_START.isoformat(), timezone="UTC")


# One partition per calendar quarter, keyed by its first day; the current quarter exists from its first day on, so
# its model can be fitted then (on the snapshot of the quarter's eve) and score every night of the quarter.
quarterly_partitions = dg.TimeWindowPartitionsDefinition(
    start=quarter_start(PARTITIONS_START).isoformat(),
    cron_schedule="0 0 1 */3 *",
    fmt="%Y-%m-%d",
    timezone="UTC",
    end_offset=1,
)


def partition_days(context: dg.AssetExecutionContext) -> list[date]:
    """The days a run covers: one for a nightly run, many for a single-run backfill."""
    return [date.fromisoformat(key) for key in context.partition_keys]


def per_day_metadata(counts_by_day: dict[date, dict[str, int]], row_count: str | None = "rows") -> dict:
    """What every multi-day asset reports, the same way: `dagster/row_count` summed over the run's days (the
    `row_count` figure, if any), how many days, and a table of each day's figures (the first and last days of a long
    run)."""
    figures = list(next(iter(counts_by_day.values()), {}))
    lines = [f"| day | {' | '.join(figures)} |", "|" + " --- |" * (len(figures) + 1)]
    days = sorted(counts_by_day)
    shown = (
        days if len(days) <= 2 * PER_DAY_ROWS_SHOWN else [*days[:PER_DAY_ROWS_SHOWN], None, *days[-PER_DAY_ROWS_SHOWN:]]
    )
    for day in shown:
        if day is None:
            lines.append(f"| … {len(days) - 2 * PER_DAY_ROWS_SHOWN} more days | {' | '.join('' for _ in figures)} |")
        else:
            lines.append(f"| {day} | {' | '.join(str(counts_by_day[day][name]) for name in figures)} |")
    metadata = {"days": len(days), "per_day": dg.MetadataValue.md("\n".join(lines))}
    if row_count:
        metadata["dagster/row_count"] = sum(counts[row_count] for counts in counts_by_day.values())
    return metadata
