"""The asset graph as a reviewed snapshot: assets, dependencies, groups, partitions, checks, jobs, schedules, sensors
and resources. A change to the graph fails here until `asset_graph.json` is regenerated on purpose:

    UPDATE_GRAPH_SNAPSHOT=1 .venv/bin/python -m pytest segmentation_pipeline_tests/defs/test_graph.py
"""

import json
import os
from pathlib import Path

import dagster as dg

from segmentation_pipeline.definitions import defs
from segmentation_pipeline.defs.resources import DATA_ROOT_POOL

SNAPSHOT = Path(__file__).with_name("asset_graph.json")


def _partitions(partitions_def) -> dict | None:
    if partitions_def is None:
        return None
    return {
        "type": type(partitions_def).__name__,
        "cron": partitions_def.cron_schedule,
        "start": partitions_def.start.date().isoformat(),
        "timezone": partitions_def.timezone,
    }


def graph_description() -> dict:
    definitions = defs()
    graph = definitions.resolve_asset_graph()
    checks_by_asset: dict[str, list] = {}
    for check_key in graph.asset_check_keys:
        check = graph.get_check_spec(check_key)
        checks_by_asset.setdefault(check_key.asset_key.to_user_string(), []).append(
            {"name": check_key.name, "blocking": check.blocking}
        )
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": str(node.backfill_policy.policy_type.value) if node.backfill_policy else None,
            "kinds": sorted(node.kinds),
            "pools": sorted(node.pools),
            "checks": sorted(checks_by_asset.get(key.to_user_string(), []), key=lambda check: check["name"]),
        }
    jobs = {}
    for job in sorted(definitions.jobs, key=lambda job: job.name):
        resolved = definitions.resolve_job_def(job.name)
        jobs[job.name] = {
            "executor": resolved.executor_def.name,
            "assets": sorted(key.to_user_string() for key in resolved.asset_layer.selected_asset_keys),
        }
    schedules = {
        schedule.name: {
            "job": schedule.job_name,
            "cron": schedule.cron_schedule,
            "timezone": schedule.execution_timezone,
        }
        for schedule in definitions.schedules
    }
    sensors = {
        sensor.name: {"type": sensor.sensor_type.value, "jobs": sorted(job.name for job in sensor.jobs)}
        for sensor in definitions.sensors
    }
    return {
        "assets": assets,
        "jobs": jobs,
        "schedules": dict(sorted(schedules.items())),
        "sensors": dict(sorted(sensors.items())),
        "resources": sorted(definitions.resources),
    }


def test_the_asset_graph_matches_its_reviewed_snapshot():
    current = json.dumps(graph_description(), indent=2, sort_keys=False) + "\n"
    if os.environ.get("UPDATE_GRAPH_SNAPSHOT"):
        SNAPSHOT.write_text(current)
    assert current == SNAPSHOT.read_text(), (
        "the asset graph changed; review the difference and regenerate asset_graph.json on purpose "
        "(UPDATE_GRAPH_SNAPSHOT=1)"
    )


def test_every_asset_is_in_a_stage_group_and_in_the_data_root_pool():
    description = graph_description()
    assert {asset["group"] for asset in description["assets"].values()} == {
        "validate",
        "features",
        "segment",
        "publish",
    }
    assert description["assets"]["published/customer_segments"]["checks"][0] == {
        "name": "distribution_drift",
        "blocking": True,
    }
    assert dg.AssetKey("segmentation_model").to_user_string() in description["jobs"]["quarterly_refit_job"]["assets"]
    assert {pool for asset in description["assets"].values() for pool in asset["pools"]} == {DATA_ROOT_POOL}
    assert all(asset["pools"] for asset in description["assets"].values())
