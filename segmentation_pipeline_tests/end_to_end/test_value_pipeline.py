"""Predicted customer value through Dagster on the bundled sample (2,500 customers over 15 months), as `make run` runs
it: the quarterly refit fits the value model beside the segmentation model and checks it on a holdout period, and
the nightly run scores every customer with it and publishes the value columns, KPIs, profiles and report section."""

import html
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.cli import run_pipeline
from segmentation_pipeline.core.features.customer_features import purchase_days, snapshot_features
from segmentation_pipeline.core.segment.registry import SAVED_WITHOUT_VALUE_MODEL, VALUE_MODEL_FILE
from segmentation_pipeline.core.segment.settings import ClusterSettings
from segmentation_pipeline.core.segment.snapshot import fit_quarter_model
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table
from segmentation_pipeline.core.value.model import SCORE_DTYPES
from segmentation_pipeline.core.value.settings import ValueSettings
from segmentation_pipeline.core.value.summaries import SUMMARY_COLUMNS
from segmentation_pipeline_tests.helpers import warnings_of_latest_run

SAMPLE = Path(__file__).resolve().parents[2] / "data"
END, QUARTER = date(2026, 11, 22), date(2026, 10, 1)
VALUE_COLUMNS, LIFETIMES_COLUMNS = list(SCORE_DTYPES), list(SUMMARY_COLUMNS)


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("bundled_sample")
    for folder in ("landing", "config"):
        shutil.copytree(SAMPLE / folder, root / folder)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEGMENTATION_DATA_DIR", str(root))
        env.setenv("DAGSTER_HOME", str(root / ".dagster"))
        (root / ".dagster").mkdir()
        run_pipeline(root, None)
        yield DataLayout(root)


def customer_segments(layout: DataLayout) -> pd.DataFrame:
    return pd.read_parquet(layout.published_table("customer_segments", END))


def test_the_refit_saves_the_value_model_with_the_segmentation_model_and_its_card(sample_run):
    folder = sample_run.model_folder(QUARTER)
    assert (folder / VALUE_MODEL_FILE).exists()
    card = json.loads((folder / "card.json").read_text())["value_model"]
    assert card["fitted"] and card["fitted_on"] == "2026-09-30" and card["time_unit"] == "day"
    assert card["customers"] == 1666 and card["repeat_buyers"] == 1199  # buyers and repeat buyers by the eve
    assert card["bgnbd"]["converged"] and card["gamma_gamma"]["converged"]
    assert card["gamma_gamma"]["params"]["q"] > 1
    holdout = card["holdout"]
    assert (holdout["cutoff"], holdout["end"]) == ("2026-04-03", "2026-09-30")
    assert np.isfinite([group["predicted_mean"] for group in holdout["by_frequency"]]).all()


def test_a_fit_capped_below_the_population_reads_an_evenly_spaced_sample_and_only_its_purchases(sample_run, tmp_path):
    shutil.copytree(sample_run.root, tmp_path / "root", ignore=shutil.ignore_patterns(".dagster"))
    layout, eve = DataLayout(tmp_path / "root"), QUARTER - timedelta(days=1)
    everyone = snapshot_features(layout, eve)  # the refit built the eve's table: no snapshot run built that day
    sample = snapshot_features(layout, eve, 1000)
    assert len(everyone) == 2245 and sample["customer_id"].tolist() == everyone["customer_id"].iloc[::3].tolist()
    pd.testing.assert_frame_equal(sample, everyone.iloc[::3].reset_index(drop=True))

    models = fit_quarter_model(layout, QUARTER, eve, ClusterSettings(), ValueSettings(), max_customers=1000)
    purchases = purchase_days(layout, eve)
    buyers_in_sample = purchases.loc[purchases["customer_id"].isin(sample["customer_id"]), "customer_id"].nunique()
    assert models.value.card()["customers"] == buyers_in_sample < 1666  # the full fit's buyers
    assert models.segments.training_snapshot == eve.isoformat()


def test_the_holdout_check_warns_on_the_seasonal_sample(sample_run):
    # The sample's November/December peak falls in the calibration period and not in the holdout period (April to
    # September), so the model overpredicts the holdout purchases by far more than 20%: the check says so, as a
    # warning that stops nothing.
    key = dg.AssetCheckKey(dg.AssetKey("segmentation_model"), "value_model_holdout")
    evaluation = dg.DagsterInstance.get().get_latest_asset_check_evaluation_record(key).event.asset_check_evaluation
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert evaluation.metadata["problem"].value.startswith("the value model missed its holdout period: holdout ")
    assert evaluation.metadata["relative_error"].value > 0.2
    assert evaluation.metadata["actual_purchases"].value == 2964
    assert "7+" in evaluation.metadata["by_frequency"].value


def test_every_buyer_is_scored_and_customers_without_a_purchase_get_nulls(sample_run):
    table = customer_segments(sample_run)
    buyers = table["rfm_segment"] != "no purchases"
    assert buyers.sum() == 1863 and (~buyers).sum() == 637
    always_given = [column for column in VALUE_COLUMNS if column != "expected_next_order_date"]
    assert table.loc[buyers, LIFETIMES_COLUMNS + always_given].notna().all().all()
    assert table.loc[~buyers, LIFETIMES_COLUMNS + VALUE_COLUMNS].isna().all().all()
    scored = table[buyers]
    assert scored["p_alive"].between(0, 1).all()
    assert (scored.loc[scored["repeat_purchases"] == 0, "p_alive"] == 1).all()  # BG/NBD: one-time buyers are alive
    assert (scored["expected_orders_365d"] >= scored["expected_orders_90d"]).all()
    assert (scored["predicted_clv"] >= 0).all()
    risk = np.where(scored["p_alive"] < 0.3, "high", np.where(scored["p_alive"] < 0.7, "medium", "low"))
    assert (scored["churn_risk"].to_numpy() == risk).all()
    dated = scored["expected_next_order_date"].dropna()
    assert len(dated) == 1022 and (pd.to_datetime(dated) > pd.Timestamp(END)).all()
    assert scored.loc[scored["p_alive"] < 0.5, "expected_next_order_date"].isna().all()
    shares = scored["predicted_value_tier"].value_counts(normalize=True)
    assert shares["high"] == pytest.approx(0.2, abs=0.01) and shares["medium"] == pytest.approx(0.3, abs=0.01)


def test_the_published_lifetimes_columns_are_the_feature_values(sample_run):
    table = customer_segments(sample_run).set_index("customer_id")
    features = read_snapshot_table(sample_run, "customer_features", END).set_index("customer_id")
    expected = features.loc[table.index, LIFETIMES_COLUMNS].astype("float64")
    pd.testing.assert_frame_equal(table[LIFETIMES_COLUMNS].astype("float64"), expected)


def test_profiles_and_kpis_carry_each_segments_predicted_value(sample_run):
    table = customer_segments(sample_run)
    profiles = pd.read_parquet(sample_run.published_table("segment_profiles", END)).set_index("segment_id")
    by_segment = table.groupby("segment_id")
    np.testing.assert_allclose(profiles["mean_predicted_clv"], by_segment["predicted_clv"].mean(), rtol=1e-12)
    np.testing.assert_allclose(profiles["mean_p_alive"], by_segment["p_alive"].mean(), rtol=1e-12)
    high = by_segment["churn_risk"].agg(lambda risk: (risk.dropna() == "high").mean())
    np.testing.assert_allclose(profiles["high_churn_risk_share"], high, rtol=1e-12)
    kpis = pd.read_parquet(sample_run.published_table("segment_kpis", END))
    totals = kpis[(kpis["segment_type"] == "behavioural") & (kpis["acquisition_channel"] == "(all channels)")]
    totals = totals.set_index("segment_id")[["mean_predicted_clv", "mean_p_alive", "high_churn_risk_share"]]
    np.testing.assert_allclose(totals.sort_index(), profiles[totals.columns].sort_index(), rtol=1e-12)
    no_purchases = kpis[(kpis["segment"] == "no purchases")]
    assert no_purchases[["mean_predicted_clv", "mean_p_alive", "high_churn_risk_share"]].isna().all().all()


def test_a_rule_segment_can_use_the_predicted_value(sample_run):
    table = customer_segments(sample_run)
    members = pd.read_parquet(sample_run.published_table("rule_segment_members", END))
    chosen = members.loc[members["segment"] == "valuable, about to leave", "customer_id"]
    expected = table.loc[(table["churn_risk"] == "high") & (table["monetary"] >= 500), "customer_id"]
    assert len(expected) > 0 and sorted(chosen) == sorted(expected)


def test_the_report_shows_the_value_section(sample_run):
    page = sample_run.report(END).read_text()
    section = page.split("<h2>Predicted customer value</h2>", 1)[1].split("</section>", 1)[0]
    assert "fitted on the snapshot of 2026-09-30, on 1,666 customers with a purchase" in section
    assert section.count('<img src="data:image/png;base64,') == 3  # CLV by segment, churn-risk mix, holdout
    assert "more than the 20% tolerance" in section


def test_a_quarter_saved_before_value_models_still_publishes_with_null_value_columns(sample_run):
    # the model folder as an earlier version wrote it: no value model file (its card is not read for scoring)
    (sample_run.model_folder(QUARTER) / VALUE_MODEL_FILE).unlink()
    run_pipeline(sample_run.root, END)
    table = customer_segments(sample_run)
    assert len(table) == 2500 and table["segment_id"].notna().all()
    assert table[VALUE_COLUMNS].isna().all().all()
    assert table.loc[table["rfm_segment"] != "no purchases", LIFETIMES_COLUMNS].notna().all().all()
    expected = f"quarter starting {QUARTER}: no value model: {SAVED_WITHOUT_VALUE_MODEL}; the value columns are null"
    assert warnings_of_latest_run().count(expected) == 1
    note = f"No value model scored this snapshot ({html.escape(SAVED_WITHOUT_VALUE_MODEL)}), so it has no predictions."
    assert note in sample_run.report(END).read_text()
