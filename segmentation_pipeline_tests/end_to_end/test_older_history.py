"""Landing history older than any fixed default runs with no setting: `segmentation-pipeline run` starts the daily
partitions on the data root's first landing day. Run as a subprocess, as the definitions read the data root once per
process (and the test session pins the start, see `conftest.py`)."""

import os
import subprocess
import sys
from datetime import date

import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.cli import main
from segmentation_pipeline.core.ingest.first_day import PARTITIONS_START_ENV
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.sample_data import generate_landing_zone

END = date(1997, 2, 4)
DAYS = 35


@pytest.fixture(scope="module")
def landing_1997(tmp_path_factory):
    root = tmp_path_factory.mktemp("history_1997")
    generate_landing_zone(root, customers=150, days=DAYS, seed=7, end_date=END)
    return DataLayout(root)


@pytest.fixture(scope="module")
def cli_run(landing_1997, tmp_path_factory):
    """A run with a fresh DAGSTER_HOME without `dagster.yaml`, and neither the partitions start nor the data root in
    the environment."""
    home = tmp_path_factory.mktemp("dagster_home")
    env = {
        key: value for key, value in os.environ.items() if key not in {PARTITIONS_START_ENV, "SEGMENTATION_DATA_DIR"}
    }
    command = [sys.executable, "-m", "segmentation_pipeline.cli", "run", "--data-dir", str(landing_1997.root)]
    result = subprocess.run(command, env=env | {"DAGSTER_HOME": str(home)}, capture_output=True, text=True, timeout=900)
    return landing_1997, result


def test_a_1997_landing_zone_runs_and_publishes_its_latest_day_without_any_setting(cli_run):
    layout, result = cli_run
    assert result.returncode == 0, result.stderr
    assert (
        f"[1/3] ingesting and validating {DAYS - 1} landing days 1997-01-01 .. 1997-02-03 in one run" in result.stdout
    )
    published = layout.published_table("customer_segments", END)
    personas = pd.read_csv(layout.root / "ground_truth" / "personas.csv")
    segments = pq.read_table(published).to_pandas()
    assert sorted(segments["customer_id"]) == sorted(personas["customer_id"])
    assert set(segments["snapshot_date"]) == {END}
    assert layout.first_landing_day.read_text() == "1997-01-01\n"


def test_a_dagster_home_without_dagster_yaml_prints_no_banner_or_warning(cli_run):
    _, result = cli_run
    assert result.stderr == ""
    assert result.stdout.startswith("data root: ")
    assert "Telemetry" not in result.stdout and "Warning" not in result.stdout


def test_the_cli_imports_no_partitions_before_it_sets_the_data_root():
    probe = "import sys, segmentation_pipeline.cli; print('segmentation_pipeline.defs.partitions' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout == "False\n"


def test_an_explicit_start_after_the_first_landing_day_is_one_line_and_exit_code_1(
    landing_1997, tmp_path, monkeypatch, capsys
):
    from segmentation_pipeline.defs.partitions import PARTITIONS_START  # the session's pinned start, see conftest.py

    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))  # the run sets both: restored after the test
    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(landing_1997.root))
    assert os.environ[PARTITIONS_START_ENV] == PARTITIONS_START.isoformat()
    assert main(["run", "--data-dir", str(landing_1997.root)]) == 1
    assert capsys.readouterr().err == (
        f"error: {landing_1997.landing}: landing data starts on 1997-01-01, before "
        f"{PARTITIONS_START_ENV}={PARTITIONS_START}; unset it (the first landing day is the default) "
        "or set it to 1997-01-01 or earlier\n"
    )
