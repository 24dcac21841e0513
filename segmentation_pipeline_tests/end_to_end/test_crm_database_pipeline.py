"""The whole pipeline with the CRM read from PostgreSQL (the session's throwaway server, no mocks), against the same
pipeline on landing files holding the same rows: the published snapshots are equal, every order row reconciles, and
a database fault is one line without the password that publishes nothing.

A table has no day folders: an order is read on the UTC day of its `ordered_at`. The files twin therefore holds each
landing order in the folder of that day, so that both runs see every order on the same day (in the generated files,
the planted `timestamp_outside_partition` orders sit in another day's folder and are quarantined for it)."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from segmentation_pipeline.cli import main, run_pipeline
from segmentation_pipeline.core.ingest.contract import LINEAGE_FIELDS, ORDERS
from segmentation_pipeline.core.ingest.crm_database import CRM_DATABASE_URL_ENV, CrmDatabase, connect, redact
from segmentation_pipeline.core.ingest.crm_database_load import load_landing_crm
from segmentation_pipeline.core.ingest.landing import landing_days, read_landing
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.export import receipt_path
from segmentation_pipeline.defs.ingest.resources import CrmDatabaseResource
from segmentation_pipeline.defs.resources import DataRoot, EngineResource, SparkResource
from segmentation_pipeline.defs.validate.assets import validated_customers
from segmentation_pipeline.defs.validate.resources import ValidationResource
from segmentation_pipeline.sample_data.generator import generate_landing_zone
from segmentation_pipeline_tests.postgres_server import create_database

END = date(2026, 6, 30)
RUN_SPECIFIC = {"run_id", "published_at", "started_at", "finished_at", "_run_id", "_validated_at"}


def _orders_by_utc_day(landing: Path) -> None:
    """Move every landing order into the folder of its `ordered_at`'s UTC day."""
    orders = pd.concat([read_landing(landing, ORDERS, day).frame for day in landing_days(landing, ORDERS)])
    orders = orders.drop(columns=[field.name for field in LINEAGE_FIELDS])
    shutil.rmtree(landing / ORDERS.landing_path)
    for day, rows in orders.groupby(orders["ordered_at"].dt.date):
        folder = landing / ORDERS.landing_path / f"date={day}"
        folder.mkdir(parents=True)
        rows.assign(ordered_at=rows["ordered_at"].map(pd.Timestamp.isoformat)).to_csv(
            folder / "orders.csv", index=False
        )


def _run(root: Path, env: pytest.MonkeyPatch, database_url: str | None = None) -> DataLayout:
    env.setenv("SEGMENTATION_DATA_DIR", str(root))
    env.setenv("DAGSTER_HOME", str(root / ".dagster"))
    if database_url:
        env.setenv(CRM_DATABASE_URL_ENV, database_url)
    else:
        env.delenv(CRM_DATABASE_URL_ENV, raising=False)
    run_pipeline(root, END)
    return DataLayout(root)


@pytest.fixture(scope="module")
def crm_url(postgres_url) -> str:
    return create_database(postgres_url, "crm_pipeline")


@pytest.fixture(scope="module")
def runs(tmp_path_factory, crm_url) -> tuple[DataLayout, DataLayout]:
    """(from files, from the database): the same generated sample, its orders by UTC day."""
    files_root, database_root = tmp_path_factory.mktemp("from_files"), tmp_path_factory.mktemp("from_database")
    generate_landing_zone(files_root, customers=300, days=100, seed=18, end_date=END)
    _orders_by_utc_day(files_root / "landing")
    load_landing_crm(CrmDatabase(crm_url), files_root / "landing")
    shutil.copytree(files_root / "landing", database_root / "landing", ignore=shutil.ignore_patterns("crm"))
    with pytest.MonkeyPatch.context() as env:
        return _run(files_root, env), _run(database_root, env, crm_url)


def _published(layout: DataLayout) -> dict[str, pd.DataFrame]:
    tables = {}
    for folder in sorted(path for path in layout.published.iterdir() if path.is_dir()):
        files = sorted((folder / f"snapshot_date={END}").glob("*.parquet"))
        if files:
            table = pd.concat(map(pd.read_parquet, files), ignore_index=True)
            table = table.drop(columns=[column for column in table.columns if column in RUN_SPECIFIC])
            order = table.astype(str).sort_values(list(table.columns), kind="stable").index  # some cells are lists
            tables[folder.name] = table.loc[order].reset_index(drop=True)
    return tables


def test_the_snapshot_read_from_the_database_equals_the_one_from_files(runs):
    from_files, from_database = map(_published, runs)
    assert list(from_database) == list(from_files) and "customer_segments" in from_files
    for name, table in from_files.items():
        pd.testing.assert_frame_equal(from_database[name], table, check_exact=False, rtol=1e-9, obj=name)
    assert len(from_files["customer_segments"]) == 300
    files_layout, database_layout = runs
    assert receipt_path(files_layout).is_file()
    assert not receipt_path(database_layout).exists()  # a database table is validated on every run


def _quarantined(layout: DataLayout, source: str) -> pd.DataFrame:
    return pd.read_parquet(layout.quarantine / source)


def test_every_order_row_reconciles_and_quarantine_names_the_table_and_day(runs, crm_url):
    from_files, from_database = runs
    quarantined = _quarantined(from_database, "orders")
    assert quarantined["_source_file"].str.fullmatch(r"crm\.orders@\d{4}-\d{2}-\d{2}").all()
    assert (
        quarantined["reason"].value_counts().to_dict()
        == _quarantined(from_files, "orders")["reason"].value_counts().to_dict()
    )
    clean = pd.read_parquet(from_database.warehouse / "validated" / "orders")
    files_orders = sum(
        len(read_landing(from_files.landing, ORDERS, day).frame) for day in landing_days(from_files.landing, ORDERS)
    )
    assert len(clean) + len(quarantined) == files_orders  # every row of crm.orders read once, up to END


def test_a_wrong_password_is_one_line_without_it_and_nothing_is_published(tmp_path, crm_url, capsys, monkeypatch):
    root = tmp_path / "root"
    generate_landing_zone(root, customers=50, days=5, seed=3, end_date=END)
    shutil.rmtree(root / "landing" / "crm")
    wrong = crm_url.replace("postgres:", "postgres:not-the-", 1)
    _isolated_environment(monkeypatch, root)
    assert main(["run", "--data-dir", str(root), "--crm-database", wrong, "--as-of", str(END)]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not-the-" not in error and "***@127.0.0.1" in error
    assert error.startswith("error: crm.orders: cannot connect to the CRM database postgresql://postgres:***@")
    assert "password authentication failed" in error
    assert not (root / "published").exists()


def test_a_sample_that_cannot_be_loaded_is_one_line_without_the_password(tmp_path, crm_url, capsys):
    wrong = crm_url.replace("postgres:", "postgres:not-the-", 1)
    sample = ["sample-data", "--customers", "50", "--days", "5", "--seed", "3", "--end-date", str(END)]
    assert main([*sample, "--out", str(tmp_path / "sample"), "--to-database", wrong]) == 1
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "not-the-" not in error and "***@127.0.0.1" in error
    assert error.startswith("error: crm.customers: cannot connect to the CRM database postgresql://postgres:***@")
    assert "password authentication failed" in error


def test_a_table_without_a_required_column_fails_its_step_once_without_retries(tmp_path, crm_url, capsys, monkeypatch):
    broken = create_database(crm_url, "crm_broken")
    sample = ["sample-data", "--customers", "50", "--days", "5", "--seed", "3", "--end-date", str(END)]
    assert main([*sample, "--out", str(tmp_path / "sample"), "--to-database", broken]) == 0
    loaded = capsys.readouterr().out.splitlines()[-1]
    assert loaded == f"loaded 52 rows into crm.customers, 13 rows into crm.orders of {redact(broken)}"
    assert redact(broken).startswith("postgresql://postgres:***@127.0.0.1:")
    with connect(CrmDatabase(broken), "test") as cursor:
        cursor.execute("ALTER TABLE crm.customers DROP COLUMN created_at")
    root = tmp_path / "root"
    shutil.copytree(tmp_path / "sample" / "landing", root / "landing", ignore=shutil.ignore_patterns("crm"))
    _isolated_environment(monkeypatch, root)
    assert main(["run", "--data-dir", str(root), "--crm-database", broken, "--as-of", str(END)]) == 1
    error = capsys.readouterr().err
    assert error.startswith(
        "error: crm.customers: required column(s) 'created_at' missing; found columns: customer_id,"
    )
    assert error.count("\n") == 1
    assert not (root / "published").exists()
    instance = dg.DagsterInstance.get()
    run = instance.get_runs(limit=1)[0]
    assert run.job_name == "ingest_job" and run.status == dg.DagsterRunStatus.FAILURE
    assert not instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_RESTARTED)


def _isolated_environment(monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
    """The CLI sets these variables for its process: restored after the test, so that no later test reads this
    test's database or data root."""
    for name in (CRM_DATABASE_URL_ENV, "SEGMENTATION_DATA_DIR"):
        monkeypatch.setenv(name, "")  # recorded, so the variable is restored (or removed) after the test
        monkeypatch.delenv(name)
    monkeypatch.setenv("DAGSTER_HOME", str(root / ".dagster"))


def test_a_refused_connection_is_retried_with_backoff_then_fails(tmp_path):
    closed_port = "postgresql://segments@127.0.0.1:9/crm"  # the discard port: nothing listens there
    result = dg.materialize(
        [validated_customers],
        resources={
            "data_root": DataRoot(data_dir=str(tmp_path)),
            "crm_database": CrmDatabaseResource(url=closed_port, connect_timeout_s=2),
            "validation": ValidationResource(),
            "engine": EngineResource(),
            "spark": SparkResource(),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    retries = [event for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    restarts = [event for event in result.all_events if event.event_type == dg.DagsterEventType.STEP_RESTARTED]
    assert not result.success and len(retries) == len(restarts) == 3
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert "crm.customers: cannot connect to the CRM database postgresql://segments@127.0.0.1:9/crm: " in (
        failure.to_string()
    )
