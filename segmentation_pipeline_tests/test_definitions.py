import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from segmentation_pipeline.definitions import defs
from segmentation_pipeline.defs.resources import DataRoot

REPO = Path(__file__).resolve().parents[1]


def test_definitions_load_with_a_group_per_stage():
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert dg.AssetKey("segmentation_model") in graph.get_all_asset_keys()
    assert groups == {"ingest", "validate", "features", "segment", "publish"}
    assert dg.AssetKey(["published", "customer_segments"]) in graph.get_all_asset_keys()
    assert isinstance(definitions.resources["data_root"], DataRoot)


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
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=when, repository_def=definitions.get_repository_def()
        )
        return schedule, schedule.evaluate_tick(context).run_requests


def test_nightly_schedule_requests_yesterdays_partition_of_the_full_job():
    schedule, requests = tick("nightly_segmentation", datetime(2026, 6, 15, 2, 0, tzinfo=UTC))
    assert schedule.cron_schedule == "0 2 * * *" and schedule.job_name == "segmentation_job"
    assert [request.partition_key for request in requests] == ["2026-06-14"]


def test_quarterly_schedule_refits_the_model_of_the_new_quarter():
    schedule, requests = tick("quarterly_refit", datetime(2026, 10, 1, 1, 0, tzinfo=UTC))
    assert schedule.cron_schedule == "0 1 1 1,4,7,10 *" and schedule.job_name == "quarterly_refit_job"
    assert [request.partition_key for request in requests] == ["2026-10-01"]
