"""Segment: a k-means model refitted quarterly (ids kept stable across refits) that scores every nightly snapshot,
and the marketers' rule and manual segments."""

from datetime import date, timedelta

import dagster as dg
import pandas as pd

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.errors import examples
from segmentation_pipeline.core.segment.model import SegmentModel
from segmentation_pipeline.core.segment.snapshot import (
    assign_segments,
    fit_quarter_model,
    quarter_model,
    rule_memberships,
)
from segmentation_pipeline.defs.partitions import (
    daily_partitions,
    partition_days,
    per_day_metadata,
    quarterly_partitions,
)
from segmentation_pipeline.defs.resources import DATA_ROOT_POOL, DataRoot
from segmentation_pipeline.defs.segment.resources import SegmentationResource


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
    kinds={"scikitlearn", "joblib"},
    partitions_def=quarterly_partitions,
    deps=[
        dg.AssetDep(
            "customer_features", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        )
    ],
    description="The quarter's segmentation model, fitted on the snapshot of the quarter's eve; "
    "`models/segmentation/quarter=YYYY-MM-DD/` holds `model.joblib` and its `card.json`.",
)
def segmentation_model(
    context: dg.AssetExecutionContext, data_root: DataRoot, segmentation: SegmentationResource
) -> dg.MaterializeResult:
    quarter = date.fromisoformat(context.partition_key)
    model = fit_quarter_model(data_root.layout, quarter, quarter - timedelta(days=1), segmentation.settings())
    return dg.MaterializeResult(metadata=_model_metadata(model))


@dg.asset(
    pool=DATA_ROOT_POOL,
    group_name="segment",
    kinds={"scikitlearn", "parquet"},
    deps=["customer_features", "segmentation_model"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Each customer's behavioural segment from the quarter's model (no refit), and a profile per segment.",
)
def behavioural_segments(
    context: dg.AssetExecutionContext, data_root: DataRoot, segmentation: SegmentationResource
) -> dg.MaterializeResult:
    layout = data_root.layout
    counts = {}
    for day in partition_days(context):
        model = quarter_model(layout, day)
        if model is None:
            quarter = quarter_start(day)
            context.log.warning(f"no segmentation model for the quarter of {quarter}: fitting one on snapshot {day}")
            model = fit_quarter_model(layout, quarter, day, segmentation.settings())
        profiles, name_warnings = assign_segments(layout, day, model, segmentation.marketer_files())
        for warning in name_warnings:
            context.log.warning(warning)
        counts[day] = {"customers": int(profiles["customers"].sum()), "segments": len(profiles)}
    columns = ["segment_id", "segment_name", "customers", "share", "revenue_share", "description"]
    return dg.MaterializeResult(
        metadata={
            **per_day_metadata(counts, row_count="customers"),
            "model_version": model.version,
            "segments": dg.MetadataValue.md(profiles[columns].to_markdown(index=False)),
        }
    )


@dg.asset(
    pool=DATA_ROOT_POOL,
    group_name="segment",
    kinds={"pandas", "parquet"},
    deps=["customer_features", "rfm_scores", "behavioural_segments"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Members of the marketer-defined rule segments and of the manual assignments, one row per membership.",
)
def rule_segments(
    context: dg.AssetExecutionContext, data_root: DataRoot, segmentation: SegmentationResource
) -> dg.MaterializeResult:
    layout, files = data_root.layout, segmentation.marketer_files()
    counts, manual = {}, {}
    for day in partition_days(context):
        memberships = rule_memberships(layout, day, files)
        counts[day] = {"memberships": len(memberships.table)}
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
    table = memberships.table
    per_segment = table.groupby(["segment", "source"]).size().rename("customers").reset_index()
    return dg.MaterializeResult(
        metadata={
            **manual,
            **per_day_metadata(counts, row_count="memberships"),
            "customers_per_segment": dg.MetadataValue.md(
                per_segment.to_markdown(index=False) if len(per_segment) else "none"
            ),
        }
    )
