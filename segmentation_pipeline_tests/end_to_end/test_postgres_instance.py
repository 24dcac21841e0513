"""`segmentation-pipeline run` on the production Dagster instance: the shipped `dagster.yaml` for PostgreSQL, in a
fresh database of the session's throwaway server (no mocks), on a copy of the bundled sample. Runs, events and
materializations land in PostgreSQL (read back with SQL and through Dagster), nothing in SQLite, and the next day's
run finds the first run's work there."""

from __future__ import annotations

import io
import shutil
import time
from contextlib import redirect_stdout
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from uuid import uuid4

import dagster as dg
import pandas as pd
import psycopg2
import pytest
import yaml
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage

from segmentation_pipeline.cli import INSTANCE_CONFIG, main
from segmentation_pipeline.core.ingest.contract import ORDERS
from segmentation_pipeline.core.ingest.landing import landing_days
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.definitions import defs
from segmentation_pipeline.instance import POSTGRES_DAGSTER_YAML, POSTGRES_ENV
from segmentation_pipeline_tests.postgres_server import create_database, dagster_pg_env

SAMPLE = Path(__file__).resolve().parents[2] / "data"
END, QUARTER = date(2026, 11, 22), date(2026, 10, 1)  # the bundled sample's last landing day, and its quarter


@dataclass
class Command:
    code: int
    output: str
    seconds: float


@dataclass
class Runs:
    layout: DataLayout
    home: Path
    url: str
    first: Command
    second: Command


def run_cli(root: Path) -> Command:
    output = io.StringIO()
    started = time.monotonic()
    with redirect_stdout(output):
        code = main(["run", "--data-dir", str(root)])
    return Command(code, output.getvalue(), time.monotonic() - started)


@pytest.fixture(scope="module")
def runs(postgres_url, tmp_path_factory) -> Runs:
    """Two commands on one PostgreSQL instance: the quickstart on the bundled sample, then the same command again
    (the next day with nothing new landed)."""
    url = create_database(postgres_url, f"dagster_{uuid4().hex[:8]}")
    root, home = tmp_path_factory.mktemp("bundled_sample"), tmp_path_factory.mktemp("dagster_home")
    for folder in ("landing", "config"):
        shutil.copytree(SAMPLE / folder, root / folder)
    shutil.copy(POSTGRES_DAGSTER_YAML, home / "dagster.yaml")
    with pytest.MonkeyPatch.context() as env:
        for name, value in dagster_pg_env(url).items():
            env.setenv(name, value)
        env.setenv("DAGSTER_HOME", str(home))
        env.setenv("SEGMENTATION_DATA_DIR", str(root))
        first = run_cli(root)
        second = run_cli(root)
        yield Runs(DataLayout(root), home, url, first, second)


def query(url: str, statement: str) -> list[tuple]:
    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement)
            return cursor.fetchall()
    finally:
        connection.close()


def test_the_quickstart_runs_and_publishes_on_the_postgres_instance(runs):
    assert runs.first.code == 0, runs.first.output
    assert f"Dagster instance: {runs.home}\n" in runs.first.output
    assert "[1/3] ingesting and validating 455 landing days 2025-08-24 .. 2026-11-21 in one run" in runs.first.output
    assert f"[2/3] fitting the segmentation model of the quarter starting {QUARTER}" in runs.first.output
    published = runs.layout.published_table("customer_segments", END)
    assert published.exists()
    table = pd.read_parquet(published)
    assert len(table) == 2500 and table["customer_id"].is_unique
    assert set(table["snapshot_date"]) == {END}
    assert (runs.home / "dagster.yaml").read_text() == POSTGRES_DAGSTER_YAML.read_text()  # the CLI wrote no other


def test_the_next_days_run_finds_the_first_runs_work_in_postgres(runs):
    assert runs.second.code == 0, runs.second.output
    assert "[1/3] every landing day before the snapshot is already validated" in runs.second.output
    assert f"[2/3] the segmentation model of the quarter starting {QUARTER} exists" in runs.second.output
    assert f"[3/3] snapshot {END}" in runs.second.output
    assert runs.layout.published_table("customer_segments", END).exists()


def test_runs_and_materializations_are_rows_of_the_postgres_database(runs):
    jobs = query(runs.url, "SELECT pipeline_name, status FROM runs ORDER BY create_timestamp, id")
    assert jobs == [
        ("ingest_job", "SUCCESS"),
        ("quarterly_refit_job", "SUCCESS"),
        ("segmentation_job", "SUCCESS"),
        ("segmentation_job", "SUCCESS"),  # the second command
    ]
    materialized = query(
        runs.url,
        "SELECT partition, count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
        """AND asset_key = '["validated_orders"]' GROUP BY partition""",
    )
    order_days = {day.isoformat() for day in landing_days(runs.layout.landing, ORDERS)}
    assert len(order_days) == 456
    assert {day for day, _ in materialized} == order_days
    # every day once, and the snapshot day again in each segmentation_job run
    assert {day: count for day, count in materialized if count != 1} == {END.isoformat(): 2}
    models = query(
        runs.url,
        "SELECT partition FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION' "
        """AND asset_key = '["segmentation_model"]'""",
    )
    assert models == [(QUARTER.isoformat(),)]
    every_asset = {key.to_string() for key in defs().resolve_asset_graph().get_all_asset_keys()}
    assert {'["published", "customer_segments"]', '["exports", "audiences"]'} <= every_asset and len(every_asset) == 22
    assert {key for (key,) in query(runs.url, "SELECT asset_key FROM asset_keys")} == every_asset


def test_dagster_reads_the_same_instance_back_from_postgres_and_nothing_from_sqlite(runs, monkeypatch):
    for name, value in dagster_pg_env(runs.url).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(runs.home))
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.get_ref().storage, DagsterPostgresStorage)
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.schedule_storage, PostgresScheduleStorage)
        assert [run.job_name for run in reversed(instance.get_runs())] == [
            "ingest_job",
            "quarterly_refit_job",
            "segmentation_job",
            "segmentation_job",
        ]
        order_days = {day.isoformat() for day in landing_days(runs.layout.landing, ORDERS)}
        assert instance.get_materialized_partitions(dg.AssetKey("validated_orders")) == order_days
        assert instance.get_materialized_partitions(dg.AssetKey("segmentation_model")) == {QUARTER.isoformat()}
    assert not list(runs.home.rglob("*.db"))  # no SQLite run, event-log or schedule storage beside the yaml


# ----------------------------------------------------------------------------------------------------------------
# The shipped file itself


def shipped() -> dict:
    return yaml.safe_load(POSTGRES_DAGSTER_YAML.read_text())


def test_the_shipped_instance_has_the_local_instances_limits():
    local = yaml.safe_load(INSTANCE_CONFIG)
    assert (
        shipped()["concurrency"]
        == local["concurrency"]
        == {
            "runs": {"max_concurrent_runs": 2},
            "pools": {"granularity": "run", "default_limit": 1},
        }
    )
    assert shipped()["telemetry"] == local["telemetry"] == {"enabled": False}


def test_the_shipped_instance_reads_every_connection_field_from_the_environment():
    fields = shipped()["storage"]["postgres"]["postgres_db"]
    assert fields == {
        "username": {"env": "DAGSTER_PG_USERNAME"},
        "password": {"env": "DAGSTER_PG_PASSWORD"},
        "hostname": {"env": "DAGSTER_PG_HOST"},
        "db_name": {"env": "DAGSTER_PG_DB"},
        "port": {"env": "DAGSTER_PG_PORT"},
        "scheme": "postgresql+psycopg2",  # not SQLAlchemy 2.1's default psycopg 3 (see the file)
    }
    assert tuple(field["env"] for field in fields.values() if "env" in field) == POSTGRES_ENV


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("DAGSTER_PG_PASSWORD", 'password authentication failed for user "postgres"'),
        ("DAGSTER_PG_DB", None),  # unset: the instance names the variable
    ],
    ids=["wrong password", "unset variable"],
)
def test_an_instance_that_does_not_load_is_one_line_without_the_password(
    postgres_url, tmp_path, capsys, monkeypatch, setting, expected
):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(POSTGRES_DAGSTER_YAML, home / "dagster.yaml")
    for name, value in dagster_pg_env(postgres_url).items():
        monkeypatch.setenv(name, value)
    if expected:
        monkeypatch.setenv(setting, "not-the-password")
    else:
        monkeypatch.delenv(setting)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(tmp_path))
    shutil.copytree(SAMPLE / "landing", tmp_path / "root" / "landing")

    assert main(["run", "--data-dir", str(tmp_path / "root")]) == 1

    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith(f"error: Dagster instance at {home}: ")
    assert (expected or setting) in error and "not-the-password" not in error
    assert not (tmp_path / "root" / "published").exists()
