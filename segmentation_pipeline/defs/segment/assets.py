"""Segment: a k-means model and a value model (BG/NBD + Gamma-Gamma) refitted quarterly (segment ids kept stable
across refits) that score every nightly snapshot without refitting, and the marketers' rule and manual segments."""

from datetime import date, timedelta

import dagster as dg
import pandas as pd

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.errors import examples
from segmentation_pipeline.core.features.customer_features import build_missing_features
from segmentation_pipeline.core.segment.model import SegmentModel
from segmentation_pipeline.core.segment.snapshot import (
    QuarterModels,
    ValueSummary,
    assign_segments,
    fit_quarter_model,
    quarter_model,
    quarter_value_model,
    rule_memberships,
    score_value,
)
from segmentation_pipeline.core.value.labels import CHURN_RISKS
from segmentation_pipeline.core.value.model import NoValueModel, validation_problem
from segmentation_pipeline.defs.features.resources import FeaturesResource
from segmentation_pipeline.defs.partitions import (
    daily_partitions,
    partition_days,
    per_day_metadata,
    quarterly_partitions,
)
from segmentation_pipeline.defs.resources import DATA_ROOT_POOL, DataRoot, EngineResource, SparkResource
from segmentation_pipeline.defs.segment.checks import value_check_result, value_check_spec
from segmentation_pipeline.defs.segment.resources import SegmentationResource, ValueResource


def _model_metadata(model: SegmentModel) -> dict:
    candidates = pd.DataFrame(model.candidates).T.rename_axis("k").reset_index() if model.candidates else None
    segments = pd.DataFrame(model.card()["segments"])
    return {
        "model_version": model.version,
        "k": model.k,
        "training_snapshot": model.training_snapshot,
        "quality": dg.MetadataValue.json(model.quality),
        "lineage": dg.MetadataValue.json({key: value for key, value in model.lineage.items() if key != "known_ids"}),
        "k_candidates": dg.MetadataValue.md(
            candidates.to_markdown(index=False) if candidates is not None else "fixed k"
        ),
        "segments": dg.MetadataValue.md(segments.to_markdown(index=False)),
    }


@dg.asset(
    pool=DATA_ROOT_POOL,
    group_name="segment",
    kinds={"scikitlearn", "scipy", "joblib"},
    partitions_def=quarterly_partitions,
    deps=[
        dg.AssetDep(
            "customer_features", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        )
    ],
    check_specs=[value_check_spec],
    description="The quarter's segmentation and value models, fitted on the snapshot of the quarter's eve; "
    "`models/segmentation/quarter=YYYY-MM-DD/` holds `model.joblib`, `value_model.joblib` and their `card.json`.",
)
def segmentation_model(
    context: dg.AssetExecutionContext,
    data_root: DataRoot,
    segmentation: SegmentationResource,
    value: ValueResource,
    features: FeaturesResource,
    engine: EngineResource,
    spark: SparkResource,
) -> dg.MaterializeResult:
    quarter = date.fromisoformat(context.partition_key)
    eve, layout = quarter - timedelta(days=1), data_root.layout
    if build_missing_features(layout, eve, features.settings(), lambda: spark.session() if engine.is_spark else None):
        context.log.info(
            f"built the feature table of the quarter's eve {eve}, which no customer_features run had built"
        )
    models = fit_quarter_model(layout, quarter, eve, segmentation.settings(), value.settings())
    _log_value_problem(context, models, quarter)
    return dg.MaterializeResult(
        metadata={**_model_metadata(models.segments), "value_model": dg.MetadataValue.json(models.value.card())},
        check_results=[value_check_result(models.value)],
    )


def _log_value_problem(context: dg.AssetExecutionContext, models: QuarterModels, quarter: date) -> None:
    problem = validation_problem(models.value)
    if problem:
        context.log.warning(f"quarter starting {quarter}: {problem}")


@dg.multi_asset(
    pool=DATA_ROOT_POOL,
    group_name="segment",
    specs=[
        dg.AssetSpec(
            "behavioural_segments",
            kinds={"scikitlearn", "spark", "parquet"},
            deps=["customer_features", "segmentation_model"],
            description="Each customer's behavioural segment from the quarter's model (no refit), and a profile per "
            "segment.",
        ),
        dg.AssetSpec(
            "customer_value",
            kinds={"scipy", "spark", "parquet"},
            deps=["customer_features", "segmentation_model"],
            description="Each customer's predicted value from the quarter's value model and the snapshot's own "
            "features (no refit): p_alive, expected orders, predicted CLV, churn risk, next order date; null without "
            "a purchase or a value model.",
        ),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def scored_snapshot(
    context: dg.AssetExecutionContext,
    data_root: DataRoot,
    segmentation: SegmentationResource,
    value: ValueResource,
    engine: EngineResource,
    spark: SparkResource,
):
    """One step for both: a quarter without models gets them fitted on its first scored snapshot, once. The fits
    run here; the scoring on Spark with the `spark` engine."""
    layout, session = data_root.layout, spark.session() if engine.is_spark else None
    counts, value_counts, warned = {}, {}, set()
    for day in partition_days(context):
        quarter = quarter_start(day)
        model = quarter_model(layout, day)
        if model is None:
            context.log.warning(f"no segmentation model for the quarter of {quarter}: fitting one on snapshot {day}")
            models = fit_quarter_model(layout, quarter, day, segmentation.settings(), value.settings())
        else:
            models = QuarterModels(model, quarter_value_model(layout, day))
        if quarter not in warned:
            _log_value_problem(context, models, quarter)
            warned.add(quarter)
        profiles, name_warnings = assign_segments(layout, day, models.segments, segmentation.marketer_files(), session)
        for warning in name_warnings:
            context.log.warning(warning)
        summary = score_value(layout, day, models.value, session)
        counts[day] = {"customers": int(profiles["customers"].sum()), "segments": len(profiles)}
        value_counts[day] = {"customers": summary.customers, "scored": summary.scored}
    columns = ["segment_id", "segment_name", "customers", "share", "revenue_share", "description"]
    yield dg.MaterializeResult(
        asset_key="behavioural_segments",
        metadata={
            **per_day_metadata(counts, row_count="customers"),
            "model_version": models.segments.version,
            "segments": dg.MetadataValue.md(profiles[columns].to_markdown(index=False)),
            "engine": engine.engine,
        },
    )
    yield dg.MaterializeResult(
        asset_key="customer_value", metadata={**_value_metadata(models, summary, value_counts), "engine": engine.engine}
    )


def _value_metadata(models: QuarterModels, summary: ValueSummary, counts: dict) -> dict:
    """The run's figures per day and, under a value model, the last day's churn-risk mix and total predicted CLV."""
    value_model, figures = models.value, per_day_metadata(counts, row_count="customers")
    if isinstance(value_model, NoValueModel):
        return {**figures, "value_model": f"none: {value_model.reason}"}
    risk = summary.churn_risk.reindex(CHURN_RISKS, fill_value=0)
    return {
        **figures,
        "value_model": f"fitted on {value_model.fitted_on}",
        "churn_risk": dg.MetadataValue.md(risk.rename_axis("churn_risk").to_frame("customers").to_markdown()),
        "predicted_clv_total": summary.predicted_clv_total,
    }


@dg.asset(
    pool=DATA_ROOT_POOL,
    group_name="segment",
    kinds={"pandas", "spark", "parquet"},
    deps=["customer_features", "rfm_scores", "behavioural_segments", "customer_value"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Members of the marketer-defined rule segments and of the manual assignments, one row per membership.",
)
def rule_segments(
    context: dg.AssetExecutionContext,
    data_root: DataRoot,
    segmentation: SegmentationResource,
    engine: EngineResource,
    spark: SparkResource,
) -> dg.MaterializeResult:
    """The rules evaluated on the executors with the `spark` engine (only the counts come back)."""
    layout, files, session = (
        data_root.layout,
        segmentation.marketer_files(),
        spark.session() if engine.is_spark else None,
    )
    counts, manual = {}, {}
    for day in partition_days(context):
        memberships = rule_memberships(layout, day, files, session)
        counts[day] = {"memberships": memberships.rows}
        if memberships.manual_unknown_customers is not None:
            unknown = memberships.manual_unknown_customers
            shown = examples(unknown, "customer_id", limit=10)
            manual = {
                "manual_unknown_customers": len(unknown),
                "manual_unknown_examples": shown or "none",
                "manual_expired": memberships.manual_expired,
            }
            if unknown:
                context.log.warning(f"manual assignments for {len(unknown)} unknown customers, e.g. {shown}")
    per_segment = memberships.per_segment
    return dg.MaterializeResult(
        metadata={
            **manual,
            **per_day_metadata(counts, row_count="memberships"),
            "customers_per_segment": dg.MetadataValue.md(
                per_segment.to_markdown(index=False) if len(per_segment) else "none"
            ),
            "engine": engine.engine,
        }
    )
