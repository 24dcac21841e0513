"""Publish: the Parquet tables BI reads, one `snapshot_date=YYYY-MM-DD/` folder per snapshot; a snapshot's tables
are staged, then swapped in together, and `published/latest.duckdb` is refreshed. Drift and stability checks judge
each snapshot against the previous one."""

import dagster as dg

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.publish.latest_views import write_latest_views
from segmentation_pipeline.core.publish.snapshot import publish_snapshot
from segmentation_pipeline.core.segment.registry import load_model, load_value_model
from segmentation_pipeline.core.storage.atomic import write_text_atomically
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days, per_day_metadata
from segmentation_pipeline.defs.publish.checks import drift_check_results, drift_check_specs
from segmentation_pipeline.defs.publish.resources import PublishingResource
from segmentation_pipeline.defs.resources import DATA_ROOT_POOL, DataRoot, EngineResource, SparkResource

PUBLISHED_TABLES = {
    "customer_segments": (
        "One row per customer: RFM values, scores and segment, behavioural segment, lifecycle, value tier, predicted "
        "value (p_alive, expected orders, CLV, churn risk, next order date); no personal data."
    ),
    "segment_profiles": "One row per behavioural segment: name, description, size, share, revenue share, key metrics, "
    "mean predicted CLV and p_alive, share at high churn risk.",
    "segment_kpis": "Per segment (RFM and behavioural) and per acquisition channel within it: customers, orders, "
    "revenue, repeat rate, NPS, share of high-value customers, mean predicted CLV and p_alive, share at high churn "
    "risk.",
    "segment_transitions": "Customers moving from each segment of the previous snapshot to each segment of this one.",
    "segment_uplift": "Per segment of the previous snapshot: orders, revenue and retention since then of its treated "
    "customers against its control-group customers, with 95% confidence intervals.",
    "rfm_cut_points": "The value range behind every R, F and M score of the snapshot, to reproduce any score.",
    "rule_segment_members": "One row per customer and rule or manual segment the customer belongs to.",
    "segment_personas": "One row per behavioural segment: who its customers are, how they use the product, what "
    "they buy and say, how to reach them, what they are worth, a suggested next action with its reason, and a short "
    "persona text.",
    "segment_overlap": "Customers shared by every ordered pair of segments across the behavioural, RFM and "
    "rule/manual families.",
    "runs": "One row per published snapshot: model and code version, row counts, validation summary, publish time, "
    "control group and audience export counts.",
}
AUDIENCES = ["exports", "audiences"]
ON_SPARK = {
    "customer_segments",
    "segment_profiles",
    "segment_kpis",
    "segment_transitions",
    "segment_uplift",
    "segment_overlap",
    "segment_personas",
}
"""The published tables whose per-customer work runs on Spark with the `spark` engine (README: Running on Spark)."""


@dg.multi_asset(
    pool=DATA_ROOT_POOL,
    specs=[
        dg.AssetSpec(
            ["published", table],
            group_name="publish",
            kinds={"spark", "parquet"} if table in ON_SPARK else {"parquet"},
            deps=["customer_features", "rfm_scores", "behavioural_segments", "customer_value", "rule_segments"],
            description=description,
        )
        for table, description in PUBLISHED_TABLES.items()
    ]
    + [
        dg.AssetSpec(
            AUDIENCES,
            group_name="publish",
            kinds={"spark", "csv"},
            deps=["customer_features", "rfm_scores", "behavioural_segments", "customer_value", "rule_segments"],
            description="Per snapshot and segment (behavioural, RFM, rule or manual), the opted-in customers outside "
            "the control group with their hashed e-mail, for ad platforms (`exports/audiences/snapshot_date="
            "YYYY-MM-DD/`, personal data: readable by the pipeline's account only); swapped in with the publish, "
            "older snapshots beyond `audience_exports_kept` deleted after it.",
        )
    ],
    check_specs=drift_check_specs,
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def published_tables(
    context: dg.AssetExecutionContext,
    data_root: DataRoot,
    publishing: PublishingResource,
    engine: EngineResource,
    spark: SparkResource,
):
    """Every published table of each day; the per-customer work on Spark with the `spark` engine."""
    layout, settings, session = data_root.layout, publishing.settings(), spark.session() if engine.is_spark else None
    rows: dict = {table: {} for table in PUBLISHED_TABLES}
    exported = {}
    for day in partition_days(context):  # in date order: each snapshot's transitions start from the one before
        snapshot = publish_snapshot(layout, day, settings, session)
        for table, count in snapshot.rows.items():
            rows[table][day] = {"rows": count}
        audiences = snapshot.audiences  # counts only: never an e-mail in metadata
        exported[day] = {
            "files": len(audiences.files),
            "customers": audiences.customers,
            "left_out_without_email": audiences.left_out_without_email,
            "old_exports_deleted": snapshot.removed_exports,
        }
    write_latest_views(layout)
    for table in PUBLISHED_TABLES:
        yield dg.MaterializeResult(
            asset_key=["published", table],
            metadata={
                **per_day_metadata(rows[table]),
                "path": dg.MetadataValue.path(str(layout.published_folder(table))),
                "engine": engine.engine,
            },
        )
    yield dg.MaterializeResult(
        asset_key=AUDIENCES,
        metadata={
            **per_day_metadata(exported, row_count=None),
            "plain_emails": settings.export_plain_emails,
            "path": dg.MetadataValue.path(str(layout.audience_exports)),
        },
    )
    yield from drift_check_results(layout, day, snapshot, settings)


@dg.asset(
    pool=DATA_ROOT_POOL,
    key=["published", "segment_report"],
    group_name="publish",
    kinds={"html"},
    deps=[["published", table] for table in PUBLISHED_TABLES],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="A self-contained HTML report per snapshot (`published/reports/snapshot_date=YYYY-MM-DD/"
    "segments.html`): segment sizes and revenue, RFM grid, profiles, persona cards, segment overlap, priorities, "
    "predicted value and its holdout check, a 2-D map of customers, migration.",
)
def segment_report(context: dg.AssetExecutionContext, data_root: DataRoot) -> dg.MaterializeResult:
    from segmentation_pipeline.core.publish import report  # matplotlib: imported when a report is drawn, not at load

    layout = data_root.layout
    pages = {}
    for day in partition_days(context):
        folder = layout.model_folder(quarter_start(day))
        inputs = report.snapshot_report_inputs(layout, day, load_model(folder), load_value_model(folder).card())
        write_text_atomically(report.render_report(inputs), layout.report(day))
        pages[day] = {"segments": len(inputs.profiles)}
    return dg.MaterializeResult(
        metadata={
            **per_day_metadata(pages, row_count=None),
            "path": dg.MetadataValue.path(str(layout.report(day))),
            "charts": dg.MetadataValue.md(report.report_markdown(inputs)),
        }
    )
