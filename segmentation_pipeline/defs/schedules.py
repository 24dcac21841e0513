"""Jobs, schedules and sensors: the nightly refresh of yesterday, the quarterly refit, and the initial load."""

import dagster as dg

from segmentation_pipeline.defs.partitions import daily_partitions, quarter_start

DAILY_ASSETS = dg.AssetSelection.all() - dg.AssetSelection.assets("segmentation_model")

segmentation_job = dg.define_asset_job(
    "segmentation_job",
    selection=DAILY_ASSETS,
    description="Everything for one snapshot day: ingest and validate that day, then features, RFM, segments, publish.",
)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest", "validate"),
    description="Ingest and validate a range of landing days (an initial load or a backfill) in one run.",
)

quarterly_refit_job = dg.define_asset_job(
    "quarterly_refit_job",
    selection=dg.AssetSelection.assets("segmentation_model"),
    description="Refit the segmentation model of a quarter on the snapshot of the quarter's eve.",
)

nightly_schedule = dg.build_schedule_from_partitioned_job(
    segmentation_job, name="nightly_segmentation", hour_of_day=2, minute_of_hour=0
)


@dg.schedule(job=quarterly_refit_job, cron_schedule="0 1 1 1,4,7,10 *", execution_timezone="UTC")
def quarterly_refit(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """On the first day of each quarter, before the nightly run, fit the model that scores the new quarter."""
    quarter = quarter_start(context.scheduled_execution_time.date()).isoformat()
    return dg.RunRequest(run_key=quarter, partition_key=quarter)


@dg.asset_sensor(asset_key=dg.AssetKey("segmentation_model"), job=segmentation_job)
def republish_after_refit(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry) -> dg.RunRequest:
    """A refitted model republishes the latest complete day with it."""
    return dg.RunRequest(run_key=f"refit-{asset_event.run_id}", partition_key=daily_partitions.get_last_partition_key())
