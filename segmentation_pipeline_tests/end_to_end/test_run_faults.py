"""`segmentation-pipeline run` (and `sample-data`) under faults of the environment and of earlier runs: one line and
exit code 1 instead of a traceback, one run per data root, and changed or damaged days done again."""

import errno
import os
import sqlite3
from datetime import date, timedelta

import pandas as pd
import pytest

from segmentation_pipeline import cli
from segmentation_pipeline.cli import main
from segmentation_pipeline.core.run_lock import data_root_lock
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.sample_data import generate_landing_zone

END = date(2026, 6, 30)


@pytest.fixture
def landing_zone(tmp_path, monkeypatch):
    generate_landing_zone(tmp_path, customers=150, days=12, seed=3, end_date=END)
    monkeypatch.setenv("DAGSTER_HOME", "")
    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(tmp_path))
    return DataLayout(tmp_path)


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/data/published/runs/part-0.parquet"),
            "error: /data/published/runs/part-0.parquet: no space left on device",
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/data/warehouse"),
            "error: /data/warehouse: permission denied",
        ),
        (
            sqlite3.OperationalError("database or disk is full"),
            "error: Dagster instance at /instance: database or disk is full",
        ),
    ],
)
def test_an_unusable_environment_is_one_line_and_exit_code_1(monkeypatch, capsys, failure, message):
    def fail(*run_arguments):
        raise failure

    monkeypatch.setenv("DAGSTER_HOME", "/instance")
    monkeypatch.setattr(cli, "run_pipeline", fail)
    assert main(["run"]) == 1
    assert capsys.readouterr().err == message + "\n"


def test_sample_data_into_a_folder_that_cannot_be_created_is_one_line_and_exit_code_1(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "sample"
    assert main(["sample-data", "--customers", "20", "--days", "3", "--out", str(out)]) == 1
    assert capsys.readouterr().err == f"error: {out / 'landing' / 'crm'}: not a directory\n"


def test_a_second_run_on_the_same_data_root_stops_with_a_message(landing_zone, capsys):
    with data_root_lock(landing_zone.root):
        assert main(["run", "--data-dir", str(landing_zone.root)]) == 1
    error = capsys.readouterr().err
    busy = "another segmentation-pipeline run is using this data root (pid "
    assert error.startswith(f"error: {landing_zone.root}: {busy}")
    assert error.endswith("; wait for it to finish and run again\n")
    assert not landing_zone.published.exists()


def test_a_dagster_home_that_does_not_exist_yet_is_created(landing_zone, tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("homes") / "new" / "dagster"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    assert main(["run", "--data-dir", str(landing_zone.root), "--as-of", (END - timedelta(days=1)).isoformat()]) == 0
    assert (home / "dagster.yaml").read_text() == cli.INSTANCE_CONFIG


def test_changed_and_damaged_days_are_done_again_and_the_snapshots_after_them_republished(landing_zone, capsys):
    first = END - timedelta(days=1)
    assert main(["run", "--data-dir", str(landing_zone.root), "--as-of", first.isoformat()]) == 0
    capsys.readouterr()
    redelivered, damaged = END - timedelta(days=5), END - timedelta(days=3)
    orders_file = sorted((landing_zone.landing / "crm" / "orders" / f"date={redelivered}").glob("*.csv"))[0]
    orders = pd.read_csv(orders_file, dtype=str)
    extra = orders.iloc[[0]].assign(order_id="REDELIVERED-1", amount="123.45")
    pd.concat([orders, extra]).to_csv(orders_file, index=False)
    later = landing_zone.validated("orders", redelivered).stat().st_mtime + 10
    os.utime(orders_file, (later, later))
    landing_zone.validated("usage_events", damaged).write_bytes(b"PAR1 truncated")
    landing_zone.validated("survey_responses", damaged).unlink()
    published_before = pd.read_parquet(landing_zone.published_table("runs", first))["published_at"].iloc[0]

    assert main(["run", "--data-dir", str(landing_zone.root), "--as-of", END.isoformat()]) == 0
    out = capsys.readouterr().out
    assert f"[1/3] {redelivered} again: orders: landing files changed after ingest" in out
    assert (
        f"[1/3] {damaged} again: survey_responses: validated partition missing; "
        "usage_events: validated partition unreadable" in out
    )
    republished = (
        f"[redo] snapshot {first}: recomputed and published again (it reads data re-ingested for {redelivered})"
    )
    assert republished in out
    validated = pd.read_parquet(landing_zone.validated("orders", redelivered))
    assert validated.loc[validated["order_id"] == "REDELIVERED-1", "amount"].tolist() == [123.45]
    assert len(pd.read_parquet(landing_zone.validated("usage_events", damaged))) > 0
    assert landing_zone.validated("survey_responses", damaged).exists()
    assert pd.read_parquet(landing_zone.published_table("runs", first))["published_at"].iloc[0] > published_before
    assert landing_zone.published_table("customer_segments", END).exists()
