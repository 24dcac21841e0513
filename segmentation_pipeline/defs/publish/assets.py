"""Publish: the Parquet tables BI reads, one `snapshot_date=YYYY-MM-DD/` folder per snapshot; a snapshot's tables
are staged, then swapped in together, and `published/latest.duckdb` is refreshed. Drift and stability checks judge
each snapshot against the previous one."""

from datetime import date

import dagster as dg
import pandas as pd

from segmentation_pipeline.core.publish import tables as publish
from segmentation_pipeline.core.publish.latest_views import write_latest_views
from segmentation_pipeline.core.publish.movement import (
    DriftLimits,
    drift_problems,
    fit_quality_problems,
    snapshot_drift,
)
from segmentation_pipeline.core.publish.schemas import to_arrow
from segmentation_pipeline.core.segment.registry import load_model, model_quality
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically, write_text_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days, quarter_start
from segmentation_pipeline.defs.resources import DataRoot, PublishSettings

PUBLISHED_TABLES = {
    "customer_segments": (
        "One row per customer: RFM values, scores and segment, behavioural segment, lifecycle, value tier; "
        "no personal data."
    ),
    "segment_profiles": "One row per behavioural segment: name, description, size, share, revenue share, key metrics.",
    "segment_kpis": "Per segment (RFM and behavioural) and per acquisition channel within it: customers, orders, "
    "revenue, repeat rate, NPS, share of high-value customers.",
    "segment_transitions": "Customers moving from each segment of the previous snapshot to each segment of this one.",
    "rfm_cut_points": "The value range behind every R, F and M score of the snapshot, to reproduce any score.",
    "rule_segment_members": "One row per customer and rule or manual segment the customer belongs to.",
    "runs": "One row per published snapshot: model and code version, row counts, validation summary, publish time.",
}
WAREHOUSE_INPUTS = ("customer_features", "rfm_scores", "segment_assignments", "segment_profiles", "rfm_cut_points")
DRIFT_CHECKS = {
    "distribution_drift": "Population stability index of R, F, M, value and key segment columns vs the previous "
    "snapshot.",
    "segment_size_change": "Change of each segment's share of customers vs the previous snapshot.",
    "segment_churn": "Share of returning customers whose behavioural or RFM segment changed.",
    "model_fit_quality": "Silhouette and bootstrap stability of the segmentation model that scored the snapshot.",
}
DRIFT_NUMBERS = ("recency_days", "frequency", "monetary", "avg_order_value", "lifetime_spend")
DRIFT_CATEGORIES = ("rfm_segment", "segment_name", "lifecycle_stage", "value_tier", "primary_device")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["published", table],
            group_name="publish",
            kinds={"parquet"},
            deps=["customer_features", "rfm_scores", "behavioural_segments", "rule_segments"],
            description=description,
        )
        for table, description in PUBLISHED_TABLES.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(name, asset=["published", "customer_segments"], blocking=True, description=description)
        for name, description in DRIFT_CHECKS.items()
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def published_tables(context: dg.AssetExecutionContext, data_root: DataRoot, publishing: PublishSettings):
    layout = data_root.layout
    for day in partition_days(context):  # in date order: each snapshot's transitions start from the one before
        tables, drift, previous_day = _publish_day(layout, day, publishing)
    write_latest_views(layout)
    for table, frame in tables.items():
        yield dg.MaterializeResult(
            asset_key=["published", table],
            metadata={"dagster/row_count": len(frame), "path": dg.MetadataValue.path(str(layout.published / table))},
        )
    yield from _check_results(layout, day, previous_day, drift, publishing)


def _publish_day(
    layout: DataLayout, day: date, publishing: PublishSettings
) -> tuple[dict[str, pd.DataFrame], dict, date | None]:
    features, rfm, assignments, profiles, cut_points = (
        read_snapshot_table(layout, table, day) for table in WAREHOUSE_INPUTS
    )
    memberships = read_snapshot_table(layout, "rule_segment_members", day)
    inputs = publish.SnapshotInputs(features, rfm, assignments, profiles, cut_points, memberships)
    previous = publish.previous_snapshot(layout, day)
    tables = publish.snapshot_tables(day, inputs, previous, publishing.customer_id_salt)
    model_version = str(assignments["model_version"].iloc[0]) if len(assignments) else ""
    tables["runs"] = publish.run_manifest(
        day, tables, model_version, publish.validation_summary(layout, day), bool(publishing.customer_id_salt)
    )
    write_parquet_files_atomically(  # runs last: a snapshot listed in `runs` is complete
        {layout.published_table(table, day): to_arrow(frame, table) for table, frame in tables.items()}
    )
    previous_day, previous_customers = previous if previous else (None, None)
    drift = snapshot_drift(previous_customers, tables["customer_segments"], DRIFT_NUMBERS, DRIFT_CATEGORIES)
    return tables, drift, previous_day


def _check_results(layout: DataLayout, day: date, previous_day: date | None, drift: dict, publishing: PublishSettings):
    """The drift checks of the run's last snapshot (every snapshot's transitions are in `segment_transitions`)."""
    severity = dg.AssetCheckSeverity.ERROR if publishing.drift_checks_block else dg.AssetCheckSeverity.WARN
    limits = DriftLimits(
        publishing.max_psi,
        publishing.max_segment_share_change_pp,
        publishing.max_changed_segment_share,
        publishing.min_silhouette,
        publishing.min_bootstrap_ari,
    )
    quality = model_quality(layout.model_folder(quarter_start(day)))
    problems = drift_problems(drift, limits) | {"model_fit_quality": fit_quality_problems(quality, limits)}
    details = {
        "distribution_drift": {"psi": dg.MetadataValue.json(drift["psi"])},
        "segment_size_change": {"share_change_pp": dg.MetadataValue.json(drift["segment_share_change_pp"])},
        "segment_churn": {"changed_segment_share": dg.MetadataValue.json(drift["changed_segment_share"])},
        "model_fit_quality": {"quality": dg.MetadataValue.json(quality)},
    }
    for name in DRIFT_CHECKS:
        yield dg.AssetCheckResult(
            asset_key=["published", "customer_segments"],
            check_name=name,
            passed=not problems[name],
            severity=severity,
            metadata={
                "snapshot_date": day.isoformat(),
                "previous_snapshot_date": previous_day.isoformat() if previous_day else "none (first snapshot)",
                "problems": "; ".join(problems[name]) or "none",
                **details[name],
            },
        )


@dg.asset(
    key=["published", "segment_report"],
    group_name="publish",
    kinds={"html"},
    deps=[["published", table] for table in PUBLISHED_TABLES],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="A self-contained HTML report per snapshot (`published/reports/snapshot_date=YYYY-MM-DD/"
    "segments.html`): segment sizes and revenue, RFM grid, profiles, a 2-D map of customers, migration.",
)
def segment_report(context: dg.AssetExecutionContext, data_root: DataRoot) -> dg.MaterializeResult:
    from segmentation_pipeline.core.publish import (
        report,  # matplotlib: imported when a report is drawn, not at load (0.4 s)
    )

    layout = data_root.layout
    for day in partition_days(context):
        model = load_model(layout.model_folder(quarter_start(day)))
        inputs = report.snapshot_report_inputs(layout, day, model)
        write_text_atomically(report.render_report(inputs), layout.report(day))
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(layout.report(day))),
            "charts": dg.MetadataValue.md(report.report_markdown(inputs)),
        }
    )
