import os
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import ORDERS
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.definitions import defs
from segmentation_pipeline.defs.resources import DataRoot
from segmentation_pipeline.defs.schedules import late_landing_data, nightly_schedule

REPO = Path(__file__).resolve().parents[2]
JOBS = ("ingest_job", "segmentation_job", "quarterly_refit_job")


def test_definitions_load_with_a_group_per_stage():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert dg.AssetKey("segmentation_model") in graph.get_all_asset_keys()
    assert groups == {"validate", "features", "segment", "publish"}
    assert dg.AssetKey(["published", "customer_segments"]) in graph.get_all_asset_keys()
    assert isinstance(definitions.resources["data_root"], DataRoot)


def test_every_job_runs_in_process():
    definitions = defs()
    executors = {name: definitions.resolve_job_def(name).executor_def.name for name in JOBS}
    assert executors == dict.fromkeys(JOBS, "in_process")


def test_workspace_file_loads_the_same_code_location(tmp_path):
    result = subprocess.run(
        [Path(sys.executable).parent / "dagster", "definitions", "validate", "-w", "workspace.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"DAGSTER_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert "Validation successful for code location segmentation_pipeline" in result.stdout + result.stderr


def tick(schedule_name: str, when: datetime) -> tuple[dg.ScheduleDefinition, list[dg.RunRequest]]:
    """Evaluate one tick of a schedule as the daemon would, and return its run requests."""
    definitions = defs()
    schedule = definitions.resolve_schedule_def(schedule_name)
    with dg.instance_for_test() as instance:
        with dg.build_schedule_context(  # closing it disposes of the instance it opens from the test instance
            instance=instance, scheduled_execution_time=when, repository_def=definitions.get_repository_def()
        ) as context:
            return schedule, schedule.evaluate_tick(context).run_requests


def test_nightly_schedule_requests_yesterdays_partition_of_the_full_job():
    schedule, requests = tick("nightly_segmentation", datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    assert schedule.cron_schedule == "0 2 * * *" and schedule.job_name == "segmentation_job"
    assert [request.partition_key for request in requests] == ["2026-06-14"]


def test_quarterly_schedule_refits_the_model_of_the_new_quarter():
    schedule, requests = tick("quarterly_refit", datetime(2026, 10, 1, 12, 0, tzinfo=UTC))
    assert schedule.cron_schedule == "0 12 1 1,4,7,10 *" and schedule.job_name == "quarterly_refit_job"
    assert [request.partition_key for request in requests] == ["2026-10-01"]


def test_the_nightly_run_time_follows_a_configured_timezone_but_always_refreshes_the_last_complete_utc_day():
    for timezone, local_2am, expected_day in (
        ("Europe/Berlin", datetime(2026, 6, 15, 0, 0, tzinfo=UTC), "2026-06-14"),  # 02:00 CEST
        ("Asia/Tokyo", datetime(2026, 6, 14, 17, 0, tzinfo=UTC), "2026-06-13"),  # 02:00 JST, still June 14 in UTC
    ):
        schedule = nightly_schedule("0 2 * * *", timezone)
        assert schedule.execution_timezone == timezone
        with dg.instance_for_test() as instance:
            request = schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=local_2am))
        assert request.partition_key == expected_day, timezone


def test_a_landing_day_delivered_again_recomputes_it_and_every_later_published_snapshot(tmp_path):
    layout = DataLayout(tmp_path)
    for day in ("2026-06-10", "2026-06-11"):
        landing = layout.landing / ORDERS.landing_path / f"date={day}" / "orders.csv"
        landing.parent.mkdir(parents=True)
        landing.write_text("order_id\n")
        write_parquet_atomically(pa.table({"order_id": ["o1"]}), layout.validated("orders", date.fromisoformat(day)))
    for day in ("2026-06-11", "2026-06-12"):
        write_parquet_atomically(
            pa.table({"snapshot_date": [day]}), layout.published_table("runs", date.fromisoformat(day))
        )
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(instance=instance, resources={"data_root": DataRoot(data_dir=str(tmp_path))})
        assert isinstance(late_landing_data(context), dg.SkipReason)  # everything ingested after its delivery

        redelivered = layout.landing / ORDERS.landing_path / "date=2026-06-10" / "orders.csv"
        redelivered.write_text("order_id\no1\no2\n")
        os.utime(redelivered, ns=(time.time_ns() + 10**9,) * 2)
        request = late_landing_data(context)
    assert request.job_name is None and request.tags == {
        "dagster/asset_partition_range_start": "2026-06-10",
        "dagster/asset_partition_range_end": "2026-06-12",
    }
    assert request.run_key.startswith("late:2026-06-10=orders@")
