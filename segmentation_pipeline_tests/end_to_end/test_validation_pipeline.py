"""Validation wired into Dagster: blocking and warning checks, and what a run does with bad or missing input."""

from datetime import date, timedelta

import dagster as dg
import pandas as pd
import pytest

from segmentation_pipeline.cli import main
from segmentation_pipeline.core.ingest.contract import ORDERS
from segmentation_pipeline.core.ingest.landing import read_landing
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.definitions import defs
from segmentation_pipeline.defs.resources import DataRoot
from segmentation_pipeline.defs.schedules import DAILY_ASSETS
from segmentation_pipeline.sample_data import generate_landing_zone

END = date(2026, 6, 30)


@pytest.fixture
def landing_zone(tmp_path, monkeypatch):
    generate_landing_zone(tmp_path, customers=200, days=20, seed=5, end_date=END)
    monkeypatch.setenv("DAGSTER_HOME", "")  # unset: each landing zone gets its own instance under its data root
    monkeypatch.setenv("SEGMENTATION_DATA_DIR", str(tmp_path))
    return DataLayout(tmp_path)


def add_bad_orders(layout: DataLayout, day: date, count: int) -> None:
    """`count` orders with negative amounts for a real customer, otherwise valid, in their own file."""
    customer = pd.read_csv(layout.root / "ground_truth" / "personas.csv")["customer_id"].iloc[0]
    bad = pd.DataFrame(
        {
            "order_id": [f"BAD{i:05d}" for i in range(count)],
            "customer_id": customer,
            "ordered_at": f"{day.isoformat()}T12:00:00Z",
            "amount": -10.0,
        }
    )
    folder = layout.landing / "crm" / "orders" / f"date={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    bad.to_csv(folder / "zz_bad.csv", index=False)


def test_a_day_with_too_many_bad_rows_stops_before_publishing_and_keeps_the_previous_tables(landing_zone, capsys):
    before_end = END - timedelta(days=1)
    assert main(["run", "--data-dir", str(landing_zone.root), "--as-of", before_end.isoformat()]) == 0
    published = landing_zone.published_table("customer_segments", before_end)
    previous_bytes = published.read_bytes()
    capsys.readouterr()

    add_bad_orders(landing_zone, END, 150)
    assert main(["run", "--data-dir", str(landing_zone.root)]) == 1

    error = capsys.readouterr().err
    assert "nothing downstream was materialized or published" in error
    assert "validated_orders / critical_expectations" in error
    assert f"| {END.isoformat()} | quarantine rate at most the maximum |" in error
    assert sorted(path.name for path in (landing_zone.published / "customer_segments").iterdir()) == [
        f"snapshot_date={before_end.isoformat()}"
    ]
    assert published.read_bytes() == previous_bytes
    quarantined = pd.read_parquet(landing_zone.quarantined("orders", END))
    assert (quarantined["reason"] == "negative_amount").sum() >= 150
    clean = pd.read_parquet(landing_zone.validated("orders", END))
    assert len(clean) + len(quarantined) == len(read_landing(landing_zone.landing, ORDERS, END).frame)


def test_survey_and_usage_sources_may_be_missing_entirely(landing_zone):
    for folder in ("survey", "usage"):
        for path in sorted((landing_zone.landing / folder).rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        (landing_zone.landing / folder).rmdir()
    assert main(["run", "--data-dir", str(landing_zone.root)]) == 0
    table = pd.read_parquet(landing_zone.published_table("customer_segments", END))
    assert len(table) > 0
    assert not table["has_survey"].any()
    assert table["nps_group"].isna().all() and table["primary_device"].isna().all()


def test_materializing_the_graph_reports_every_check_and_warns_on_stale_landing_data(landing_zone):
    definitions = defs()
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            list(definitions.assets),
            selection=DAILY_ASSETS,
            resources={**definitions.resources, "data_root": DataRoot(data_dir=str(landing_zone.root))},
            partition_key=END.isoformat(),
            instance=instance,
        )
    assert result.success
    evaluations = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    for source in ("customers", "orders", "survey_responses", "usage_events"):
        assert evaluations[(f"validated_{source}", "critical_expectations")].passed
        assert evaluations[(f"validated_{source}", "warning_expectations")].passed
    for source in ("orders", "survey_responses", "usage_events"):
        assert evaluations[(f"validated_{source}", "referential_integrity")].passed
        stale = evaluations[(f"validated_{source}", "landing_freshness")]
        assert not stale.passed and stale.severity == dg.AssetCheckSeverity.WARN
        assert stale.metadata["newest_landing_day"].value == END.isoformat()
    assert landing_zone.published_table("customer_segments", END).exists()
    for check in ("distribution_drift", "segment_size_change", "segment_churn"):
        drift = evaluations[("published/customer_segments", check)]
        assert drift.passed and drift.metadata["previous_snapshot_date"].value == "none (first snapshot)", check
    fit = evaluations[("published/customer_segments", "model_fit_quality")]  # 200 customers: an unstable fit
    assert not fit.passed and fit.severity == dg.AssetCheckSeverity.WARN
    assert fit.metadata["problems"].value == "bootstrap_ari_mean 0.455936 below 0.6"
