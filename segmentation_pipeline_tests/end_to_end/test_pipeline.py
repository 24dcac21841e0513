"""The whole graph through Dagster on a freshly generated landing zone, as `segmentation-pipeline run` runs it."""

import html
import json
import shutil
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.cli import main, run_pipeline
from segmentation_pipeline.core.ingest.contract import PERSONAL_DATA_COLUMNS
from segmentation_pipeline.core.publish.personas import WEEKDAYS
from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMA_VERSION, PUBLISHED_SCHEMAS
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.row_checks import EMAIL_PATTERN
from segmentation_pipeline.core.value.model import SCORE_DTYPES
from segmentation_pipeline.core.value.summaries import SUMMARY_COLUMNS
from segmentation_pipeline.defs.features.resources import FeaturesResource
from segmentation_pipeline.defs.resources import DataRoot, EngineResource, SparkResource
from segmentation_pipeline.defs.segment.assets import segmentation_model
from segmentation_pipeline.defs.segment.resources import SegmentationResource, ValueResource
from segmentation_pipeline.sample_data import generate_landing_zone
from segmentation_pipeline_tests.helpers import warnings_of_latest_run

END = date(2026, 6, 30)
VALUE_COLUMNS, LIFETIMES_COLUMNS = SCORE_DTYPES, SUMMARY_COLUMNS
EXAMPLES = Path(__file__).resolve().parents[2] / "segmentation_pipeline" / "core" / "segment" / "rules" / "examples"


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("landing_zone")
    summary = generate_landing_zone(root, customers=500, days=90, seed=11, end_date=END)
    (root / "config").mkdir()
    shutil.copy(EXAMPLES / "example_segments.yaml", root / "config" / "rule_segments.yaml")
    (root / "config" / "manual_assignments.csv").write_text(
        "customer_id,segment,expires_on\nC000001,key account,\nC000002,key account,2026-06-30\nNOBODY,key account,\n"
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SEGMENTATION_DATA_DIR", str(root))
        env.setenv("DAGSTER_HOME", str(root / ".dagster"))
        (root / ".dagster").mkdir()
        published = run_pipeline(root, None)
        yield DataLayout(root), summary, published, env


def read(path_pattern: Path) -> pd.DataFrame:
    with duckdb.connect() as con:
        return con.execute("SELECT * FROM read_parquet($p, hive_partitioning = true)", {"p": str(path_pattern)}).df()


def test_every_valid_customer_is_published_exactly_once(pipeline_run):
    layout, _, published, _ = pipeline_run
    assert published == layout.published_table("customer_segments", END)
    table = read(layout.published / "customer_segments" / "*" / "*.parquet")
    personas = pd.read_csv(layout.root / "ground_truth" / "personas.csv")
    assert sorted(table["customer_id"]) == sorted(personas["customer_id"])
    assert table["customer_id"].is_unique
    assert (table["snapshot_date"] == pd.Timestamp(END)).all()


def test_published_table_has_the_contract_columns_and_no_personal_data(pipeline_run):
    layout, _, published, _ = pipeline_run
    for name, schema in PUBLISHED_SCHEMAS.items():
        assert pq.read_schema(layout.published_table(name, END)).remove_metadata() == schema, name
    table = pd.read_parquet(published)
    assert not PERSONAL_DATA_COLUMNS.intersection(table.columns)
    assert table["segment_name"].notna().all() and (table["segment_name"].str.len() > 0).all()
    assert table["segment_id"].between(1, 10).all()
    buyers = table["rfm_segment"] != "no purchases"
    assert table.loc[buyers, ["r_score", "f_score", "m_score"]].notna().all().all()
    assert table.loc[~buyers, ["r_score", "f_score", "m_score"]].isna().all().all()
    profiles = read(layout.published / "segment_profiles" / "*" / "*.parquet")
    assert sorted(profiles["segment_id"]) == sorted(table["segment_id"].unique())
    assert profiles["segment_name"].is_unique
    for name in PUBLISHED_SCHEMAS:  # no published table holds a personal column or a customer's email
        published_table = pd.read_parquet(layout.published_table(name, END))
        assert not PERSONAL_DATA_COLUMNS.intersection(published_table.columns), name
        text = published_table.select_dtypes(include=["object", "string"]).astype(str)
        assert not text.apply(lambda column: column.str.contains("@", regex=False)).any().any(), name


def test_personas_and_overlap_describe_every_segment_of_the_snapshot(pipeline_run):
    layout = pipeline_run[0]
    customers = pd.read_parquet(layout.published_table("customer_segments", END))
    personas = pd.read_parquet(layout.published_table("segment_personas", END))
    sizes = customers["segment_name"].value_counts()
    assert personas.set_index("segment_name")["customers"].to_dict() == sizes.to_dict()
    assert personas["next_action"].notna().all() and personas["next_action_reason"].notna().all()
    assert personas["persona_summary"].str.len().gt(20).all()
    assert personas["top_categories"].notna().tolist() == personas["orders_per_customer"].gt(0).tolist()
    active = personas["median_session_minutes"].notna()  # segments with customers seen in the usage window
    assert personas["most_active_hour"].notna().tolist() == active.tolist()
    assert personas.loc[active, "most_active_hour"].between(0, 23).all()
    assert personas.loc[active, "most_active_weekday"].isin(WEEKDAYS).all()
    overlap = pd.read_parquet(layout.published_table("segment_overlap", END))
    n = sizes.size + customers["rfm_segment"].nunique() + len({s for lst in customers["rule_segments"] for s in lst})
    assert len(overlap) == n * (n - 1)
    behavioural_rfm = overlap[(overlap["segment_type_a"] == "behavioural") & (overlap["segment_type_b"] == "rfm")]
    expected = customers.groupby(["segment_name", "rfm_segment"]).size()
    shared = behavioural_rfm.set_index(["segment_a", "segment_b"])["shared_customers"]
    assert shared[shared > 0].sort_index().to_dict() == expected.sort_index().to_dict()


def test_quarantine_holds_exactly_the_planted_bad_rows(pipeline_run):
    layout, _, _, _ = pipeline_run
    planted = pd.read_csv(layout.root / "ground_truth" / "planted_errors.csv", dtype=str)
    found = []
    for source, key in (
        ("customers", "customer_id"),
        ("orders", "order_id"),
        ("survey_responses", "response_id"),
        ("usage_events", "event_id"),
    ):
        pattern = layout.quarantine / source / ("*.parquet" if source == "customers" else "*/*.parquet")
        quarantined = read(pattern)
        pairs = zip(quarantined[key], quarantined["reason"], strict=True)
        found += [(source, row_id, reason) for row_id, reason in pairs]
    assert sorted(found) == sorted(zip(planted["source"], planted["id"], planted["rule"], strict=True))


def test_clean_plus_quarantined_rows_reconcile_with_landing_rows(pipeline_run):
    layout, summary, _, _ = pipeline_run
    for source, rows_in in summary["rows"].items():
        if source == "customers":
            clean, bad = layout.validated(source, None), layout.quarantined(source, None)
        else:
            clean = layout.validated_glob(source)
            bad = layout.quarantine / source / "*" / "*.parquet"
        assert len(read(clean)) + len(read(bad)) == rows_in, source


def test_rerunning_replaces_outputs_instead_of_duplicating_them(pipeline_run, capsys):
    layout, _, published, env = pipeline_run
    before = pd.read_parquet(published)
    run_pipeline(layout.root, END)
    assert "already validated" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(published), before)
    instance = dg.DagsterInstance.get()
    # the export is validated by the first ingest run; the snapshot run after it and the rerun reuse that validation
    *reused, first = instance.fetch_materializations(dg.AssetKey("validated_customers"), limit=10).records
    assert first.asset_materialization.metadata["validation"].value == "validated in this run"
    assert [record.asset_materialization.metadata["validation"].value for record in reused] == [
        f"reused from run {first.run_id}"
    ] * 2
    assert reused[0].asset_materialization.metadata["rows_clean"] == first.asset_materialization.metadata["rows_clean"]
    rerun = reused[0]
    checks = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("validated_customers"), "critical_expectations")]
    )
    assert [(c.run_id, c.status.value) for c in checks.values()] == [(rerun.run_id, "SUCCEEDED")]
    assert len(read(layout.published / "customer_segments" / "*" / "*.parquet")) == len(before)


def test_runs_are_recorded_in_the_instance_under_the_data_root(pipeline_run):
    layout, _, _, _ = pipeline_run
    instance = dg.DagsterInstance.get()
    assert Path(instance.root_directory) == layout.root / ".dagster"
    assert END.isoformat() in instance.get_materialized_partitions(dg.AssetKey(["published", "customer_segments"]))
    assert "2026-04-02" in instance.get_materialized_partitions(dg.AssetKey("validated_orders"))


def test_unusable_input_fails_with_a_message_naming_file_and_column(tmp_path, monkeypatch, capsys):
    generate_landing_zone(tmp_path, customers=60, days=5, seed=2, end_date=END)
    orders_file = sorted(tmp_path.glob("landing/crm/orders/*/orders.csv"))[0]
    frame = pd.read_csv(orders_file, dtype=str)
    frame.drop(columns="amount").to_csv(orders_file, index=False)
    monkeypatch.setenv("DAGSTER_HOME", "")  # unset: the instance goes under the data root
    assert main(["run", "--data-dir", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    relative = orders_file.relative_to(tmp_path / "landing").as_posix()
    assert error.startswith(f"error: {relative}: required column(s) 'amount' missing")
    assert "Traceback" not in error
    assert not (tmp_path / "published").exists()


def test_the_quarter_model_is_saved_with_its_card_and_scores_the_snapshot(pipeline_run):
    layout, _, published, _ = pipeline_run
    folder = layout.model_folder(date(2026, 4, 1))  # no history before the quarter: fitted on END
    card = json.loads((folder / "card.json").read_text())
    assert card["training_snapshot"] == END.isoformat()
    table = pd.read_parquet(published)
    assert (table["model_version"] == card["version"]).all()
    assert sorted(table["segment_id"].unique()) == [segment["segment_id"] for segment in card["segments"]]


def test_with_too_little_data_no_value_model_is_fitted_and_the_value_columns_are_null(pipeline_run):
    layout, _, published, _ = pipeline_run
    card = json.loads((layout.model_folder(date(2026, 4, 1)) / "card.json").read_text())["value_model"]
    assert card["fitted"] is False
    assert card["reason"].startswith("too little data: ") and card["reason"].endswith(", at least 500 needed")
    table = pd.read_parquet(published)
    assert table[list(VALUE_COLUMNS)].isna().all().all()
    buyers = table["rfm_segment"] != "no purchases"
    assert table.loc[buyers, list(LIFETIMES_COLUMNS)].notna().all().all()  # published whether or not a model fits
    assert table.loc[~buyers, list(LIFETIMES_COLUMNS)].isna().all().all()
    expected = f"quarter starting 2026-04-01: no value model: {card['reason']}; the value columns are null"
    assert expected in warnings_of_latest_run()
    kpis = pd.read_parquet(layout.published_table("segment_kpis", END))
    assert kpis[["mean_predicted_clv", "mean_p_alive", "high_churn_risk_share"]].isna().all().all()
    page = layout.report(END).read_text()
    assert f"No value model scored this snapshot ({card['reason']}), so it has no predictions." in page


def test_rule_and_manual_segments_are_published_as_a_list_and_a_long_table(pipeline_run):
    layout, _, published, _ = pipeline_run
    table = pd.read_parquet(published).set_index("customer_id")
    members = pd.read_parquet(layout.published_table("rule_segment_members", END))
    manual = members[members["source"] == "manual"]
    assert manual[["customer_id", "segment"]].values.tolist() == [["C000001", "key account"]]  # C000002 expired
    vip = table[(table["monetary"] >= 1000) & (table["frequency"] >= 10)].index
    assert sorted(members.loc[members["segment"] == "VIP", "customer_id"]) == sorted(vip)
    for customer_id, segments in members.groupby("customer_id")["segment"]:
        assert list(table.loc[customer_id, "rule_segments"]) == sorted(segments)
    assert (table.drop(members["customer_id"].unique())["rule_segments"].map(len) == 0).all()


def test_consecutive_snapshots_publish_transitions_kpis_a_manifest_and_drift_checks(pipeline_run):
    layout, _, _, _ = pipeline_run
    day_before = END - timedelta(days=1)
    run_pipeline(layout.root, day_before)
    run_pipeline(layout.root, END)  # re-published: its previous snapshot is now the day before

    now, before = (pd.read_parquet(layout.published_table("customer_segments", day)) for day in (END, day_before))
    transitions = pd.read_parquet(layout.published_table("segment_transitions", END))
    assert set(transitions["previous_snapshot_date"]) == {day_before}
    for segment_type, column in (("rfm", "rfm_segment"), ("behavioural", "segment_name")):
        moves = transitions[transitions["segment_type"] == segment_type]
        arrived = moves[moves["to_segment"] != "(left)"].groupby("to_segment")["customers"].sum()
        departed = moves[moves["from_segment"] != "(new customer)"].groupby("from_segment")["customers"].sum()
        assert arrived.to_dict() == now[column].value_counts().sort_index().to_dict()
        assert departed.to_dict() == before[column].value_counts().sort_index().to_dict()

    kpis = pd.read_parquet(layout.published_table("segment_kpis", END))
    totals = kpis[(kpis["segment_type"] == "behavioural") & (kpis["acquisition_channel"] == "(all channels)")]
    assert totals.set_index("segment")["customers"].to_dict() == now["segment_name"].value_counts().to_dict()
    by_channel = kpis[kpis["acquisition_channel"] != "(all channels)"].groupby(["segment_type", "segment"])
    all_channels = kpis[kpis["acquisition_channel"] == "(all channels)"].set_index(["segment_type", "segment"])
    assert by_channel["customers"].sum().to_dict() == all_channels["customers"].to_dict()

    runs = read(layout.published / "runs" / "*" / "*.parquet").sort_values("snapshot_date")
    assert [day.date() for day in runs["snapshot_date"]] == [day_before, END]
    assert runs["customer_segments_rows"].tolist() == [len(before), len(now)]
    assert runs["schema_version"].tolist() == [PUBLISHED_SCHEMA_VERSION] * 2
    personas = pd.read_parquet(layout.published_table("segment_personas", END))
    overlap = pd.read_parquet(layout.published_table("segment_overlap", END))
    assert runs["segment_personas_rows"].iloc[-1] == len(personas) == now["segment_id"].nunique()
    assert runs["segment_overlap_rows"].iloc[-1] == len(overlap)

    with duckdb.connect(str(layout.published / "latest.duckdb"), read_only=True) as con:
        assert con.execute("SELECT count(*), max(snapshot_date) FROM latest_customer_segments").fetchone() == (
            len(now),
            END,
        )

    instance = dg.DagsterInstance.get()
    for check in ("distribution_drift", "segment_size_change", "segment_churn", "model_fit_quality"):
        key = dg.AssetCheckKey(dg.AssetKey(["published", "customer_segments"]), check)
        evaluation = instance.get_latest_asset_check_evaluation_record(key).event.asset_check_evaluation
        assert evaluation.metadata["previous_snapshot_date"].value == day_before.isoformat(), check
        assert evaluation.severity == dg.AssetCheckSeverity.WARN


def test_audience_exports_uplift_and_runs_reconcile_with_customer_segments(pipeline_run):
    layout, _, _, _ = pipeline_run  # both END and the day before are published (test above)
    day_before = END - timedelta(days=1)
    now, before = (pd.read_parquet(layout.published_table("customer_segments", day)) for day in (END, day_before))
    runs = pd.read_parquet(layout.published_table("runs", END)).iloc[0]
    assert runs["control_group_customers"] == now["in_control_group"].sum() > 0
    assert 0.01 < now["in_control_group"].mean() < 0.1
    in_both = now.merge(before, on="customer_id", suffixes=("", "_before"))
    assert (in_both["in_control_group"] == in_both["in_control_group_before"]).all()  # stable across snapshots

    folder = layout.audience_export(END)
    manifest = pd.read_csv(folder / "manifest.csv")
    assert runs["audience_files"] == len(manifest) == len(list(folder.rglob("*/*.csv")))
    assert not runs["audience_plain_emails"]
    emails = pd.read_parquet(layout.validated("customers", None), columns=["customer_id", "email"])
    usable = (
        now.merge(emails, on="customer_id", how="left")["email"]
        .str.fullmatch(EMAIL_PATTERN)
        .fillna(False)
        .to_numpy(bool)
    )
    reachable = now[now["marketing_opt_in"].fillna(False).astype(bool) & ~now["in_control_group"] & usable]
    assert runs["audience_customers"] == len(reachable)
    eligible = now["marketing_opt_in"].fillna(False).astype(bool) & ~now["in_control_group"]
    assert runs["audience_left_out_without_email"] == eligible.sum() - len(reachable)
    for family, column in (("behavioural", "segment_name"), ("rfm", "rfm_segment")):
        rows = manifest[manifest["family"] == family]
        assert sorted(rows["segment"]) == sorted(now[column].unique())
        for segment, file, customers in rows[["segment", "file", "customers"]].itertuples(index=False):
            exported = pd.read_csv(folder / file, dtype=str)
            assert list(exported.columns) == ["customer_id", "email_sha256"]
            expected = sorted(reachable.loc[reachable[column] == segment, "customer_id"])
            assert exported["customer_id"].tolist() == expected and customers == len(expected)
    vip = pd.read_csv(folder / manifest.set_index("segment").loc["VIP", "file"], dtype=str)
    in_vip = reachable["rule_segments"].map(lambda segments: "VIP" in list(segments))
    assert vip["customer_id"].tolist() == sorted(reachable.loc[in_vip, "customer_id"])

    uplift = pd.read_parquet(layout.published_table("segment_uplift", END))
    assert runs["segment_uplift_rows"] == len(uplift) > 0
    assert set(uplift["baseline_snapshot_date"]) == {day_before}
    behavioural = uplift[uplift["segment_type"] == "behavioural"]
    assert (behavioural["treated_customers"] + behavioural["control_customers"]).sum() == len(in_both)
    assert behavioural["control_customers"].sum() == in_both["in_control_group_before"].sum()
    assert pd.read_parquet(layout.published_table("segment_uplift", day_before)).empty  # nothing published before it


def test_no_personal_data_anywhere_under_published(pipeline_run):
    layout = pipeline_run[0]
    crm = pd.read_parquet(layout.validated("customers", None), columns=sorted(PERSONAL_DATA_COLUMNS))
    personal = {value.strip().lower() for column in crm for value in crm[column].dropna()}
    files = sorted(layout.published.rglob("*.parquet"))
    assert {path.parent.parent.name for path in files} == set(PUBLISHED_SCHEMAS)
    for path in files:
        table = pq.read_table(path)
        assert not PERSONAL_DATA_COLUMNS.intersection(table.column_names), path
        for name in table.column_names:
            values = table.column(name).to_pylist()
            flat = [item for value in values for item in (value if isinstance(value, list) else [value])]
            texts = {str(item).strip().lower() for item in flat if item is not None}
            assert not texts & personal, (path, name)
    assert not any(path.suffix == ".csv" for path in layout.published.rglob("*"))


def test_each_snapshot_gets_a_self_contained_html_report_with_its_charts_in_the_ui(pipeline_run):
    layout, _, _, _ = pipeline_run
    page = (layout.published / "reports" / f"snapshot_date={END.isoformat()}" / "segments.html").read_text()
    profiles = pd.read_parquet(layout.published_table("segment_profiles", END))
    assert all(html.escape(name) in page for name in profiles["segment_name"])
    # seven charts, the overlap heatmap and migration included (the test above published the day before); no value
    # charts without a model
    assert "://" not in page and page.count('<img src="data:image/png;base64,') == 7
    personas = pd.read_parquet(layout.published_table("segment_personas", END))
    assert page.count('<div class="card persona"') == len(personas)
    assert page.count('<tr class="priority">') == len(personas) and "Growth (no snapshot 28-31 days earlier)" in page
    materialization = dg.DagsterInstance.get().get_latest_materialization_event(
        dg.AssetKey(["published", "segment_report"])
    )
    charts = materialization.asset_materialization.metadata["charts"].value
    assert charts.count("](data:image/png;base64,") == 2


def test_the_value_resource_configures_the_refit_and_its_check_says_why_there_is_no_value_model(pipeline_run):
    layout = pipeline_run[0]
    quarter = "2026-07-01"  # fitted on its eve, END
    result = dg.materialize(
        [segmentation_model],
        partition_key=quarter,
        instance=dg.DagsterInstance.get(),
        resources={
            "data_root": DataRoot(data_dir=str(layout.root)),
            "segmentation": SegmentationResource(),
            "value": ValueResource(min_buyers=10_000),
            "features": FeaturesResource(),
            "engine": EngineResource(),
            "spark": SparkResource(),
        },
    )
    reason = "too little data: 202 customers with a purchase, at least 10,000 needed"
    card = json.loads((layout.model_folder(date.fromisoformat(quarter)) / "card.json").read_text())
    assert card["value_model"] == {"fitted": False, "reason": reason}
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.check_name == "value_model_holdout" and evaluation.severity == dg.AssetCheckSeverity.WARN
    assert not evaluation.passed
    problem = f"no value model: {reason}; the value columns are null"
    assert evaluation.metadata["problem"].value == problem
    assert f"quarter starting {quarter}: {problem}" in warnings_of_latest_run()
