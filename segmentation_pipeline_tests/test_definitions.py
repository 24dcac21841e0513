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


def test_nightly_schedule_requests_yesterdays_partition_of_the_full_job():
    definitions = defs()
    schedule = definitions.resolve_schedule_def("nightly_segmentation")
    assert schedule.cron_schedule == "0 2 * * *"
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance,
            scheduled_execution_time=datetime(2026, 6, 15, 2, 0, tzinfo=UTC),
            repository_def=definitions.get_repository_def(),
        )
        result = schedule.evaluate_tick(context)
    assert [request.partition_key for request in result.run_requests] == ["2026-06-14"]
    assert schedule.job_name == "segmentation_job"
