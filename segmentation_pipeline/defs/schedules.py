"""Jobs, schedules and sensors: the nightly refresh, the quarterly refit, and re-runs after a refit or a late
re-delivery of landing data."""

import os
from datetime import UTC, timedelta

import dagster as dg

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.ingest.redelivery import redelivered_days
from segmentation_pipeline.core.storage.tables import published_snapshots
from segmentation_pipeline.defs.partitions import PARTITIONS_START, daily_partitions
from segmentation_pipeline.defs.resources import DataRoot

SCHEDULE_TIMEZONE_ENV = "SEGMENTATION_SCHEDULE_TIMEZONE"
NIGHTLY_CRON_ENV = "SEGMENTATION_NIGHTLY_CRON"

DAILY_ASSETS = dg.AssetSelection.all() - dg.AssetSelection.assets("segmentation_model")

# Every job runs step after step in the run's own process, so `segmentation-pipeline run` and `dg launch` run a job
# the same way, at the same speed. A multi-day ingest spends much of its time writing Dagster events (one per source
# and day), which one SQLite instance serialises: with a process per step, the bundled sample's initial load took
# 96 s instead of 56 s (README: Dagster). DuckDB and scikit-learn use every core on their own.
EXECUTOR = dg.in_process_executor

segmentation_job = dg.define_asset_job(
    "segmentation_job",
    executor_def=EXECUTOR,
    selection=DAILY_ASSETS,
    description="Everything for one snapshot day: ingest and validate that day, then features, RFM, segments, publish.",
)

ingest_job = dg.define_asset_job(
    "ingest_job",
    executor_def=EXECUTOR,
    selection=dg.AssetSelection.groups("validate"),
    description="Ingest and validate a range of landing days (an initial load or a backfill) in one run.",
)

quarterly_refit_job = dg.define_asset_job(
    "quarterly_refit_job",
    executor_def=EXECUTOR,
    selection=dg.AssetSelection.assets("segmentation_model"),
    description="Refit the segmentation model of a quarter on the snapshot of the quarter's eve.",
)


def nightly_schedule(cron_schedule: str = "0 2 * * *", timezone: str = "UTC") -> dg.ScheduleDefinition:
    """The nightly refresh at `cron_schedule` in `timezone`: it processes the latest complete UTC day (partitions
    are UTC days), so the run time can follow the team's clock without changing what a snapshot means."""

    @dg.schedule(
        name="nightly_segmentation", job=segmentation_job, cron_schedule=cron_schedule, execution_timezone=timezone
    )
    def nightly_segmentation(context: dg.ScheduleEvaluationContext):
        day = context.scheduled_execution_time.astimezone(UTC).date() - timedelta(days=1)
        if day < PARTITIONS_START:
            return dg.SkipReason(f"{day} is before the first daily partition {PARTITIONS_START}")
        return dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())

    return nightly_segmentation


nightly = nightly_schedule(os.environ.get(NIGHTLY_CRON_ENV, "0 2 * * *"), os.environ.get(SCHEDULE_TIMEZONE_ENV, "UTC"))


@dg.schedule(job=quarterly_refit_job, cron_schedule="0 12 1 1,4,7,10 *", execution_timezone="UTC")
def quarterly_refit(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """On the first day of each quarter (UTC), fit the model that scores the new quarter from its first snapshot on.
    At noon: after the default nightly run has built the eve's snapshot, whose features the fit then reads instead of
    computing them a second time (it builds the eve's feature table itself if no nightly run did)."""
    quarter = quarter_start(context.scheduled_execution_time.date()).isoformat()
    return dg.RunRequest(run_key=quarter, partition_key=quarter)


@dg.asset_sensor(asset_key=dg.AssetKey("segmentation_model"), job=segmentation_job)
def republish_after_refit(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry) -> dg.RunRequest:
    """A refitted model republishes the latest complete day with it."""
    return dg.RunRequest(run_key=f"refit-{asset_event.run_id}", partition_key=daily_partitions.get_last_partition_key())


@dg.sensor(job=segmentation_job, minimum_interval_seconds=300)
def late_landing_data(context: dg.SensorEvaluationContext, data_root: DataRoot):
    """A landing day delivered again after it was ingested is re-ingested, and every published snapshot from that
    day on is recomputed (features look back over history), in one single-run backfill."""
    layout = data_root.layout
    late = redelivered_days(layout)
    if not late:
        return dg.SkipReason("no landing day was re-delivered after its ingest")
    first = min(late)
    last = max([first, *published_snapshots(layout)])
    return dg.RunRequest(
        run_key="late:" + "".join(f"{day}={key}" for day, key in late.items()),
        tags={
            "dagster/asset_partition_range_start": first.isoformat(),
            "dagster/asset_partition_range_end": last.isoformat(),
        },
    )
