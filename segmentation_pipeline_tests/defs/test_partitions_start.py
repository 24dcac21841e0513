"""The nightly schedule and the daily partitions agree on the first day (the session's pinned start, conftest.py)."""

from datetime import UTC, datetime

import dagster as dg

from segmentation_pipeline.defs.partitions import PARTITIONS_START, daily_partitions
from segmentation_pipeline.defs.schedules import nightly_schedule


def test_the_nightly_schedule_skips_the_day_before_the_first_partition_and_runs_the_first():
    assert daily_partitions.get_first_partition_key() == PARTITIONS_START.isoformat() == "2024-01-01"
    schedule = nightly_schedule()
    with dg.instance_for_test() as instance:
        skipped = schedule(dg.build_schedule_context(instance, datetime(2024, 1, 1, 2, 0, tzinfo=UTC)))
        first = schedule(dg.build_schedule_context(instance, datetime(2024, 1, 2, 2, 0, tzinfo=UTC)))
    assert skipped.skip_message == "2023-12-31 is before the first daily partition 2024-01-01"
    assert first.partition_key == "2024-01-01"
