"""Jobs and schedules: the nightly refresh of yesterday's partition, and the initial load of landing history."""

import dagster as dg

from segmentation_pipeline.defs.partitions import daily_partitions

segmentation_job = dg.define_asset_job(
    "segmentation_job",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    description="Everything for one snapshot day: ingest and validate that day, then features, RFM, segments, publish.",
)

ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.groups("ingest", "validate"),
    partitions_def=daily_partitions,
    description="Ingest and validate a range of landing days (an initial load or a backfill) in one run.",
)

nightly_schedule = dg.build_schedule_from_partitioned_job(
    segmentation_job, name="nightly_segmentation", hour_of_day=2, minute_of_hour=0
)
