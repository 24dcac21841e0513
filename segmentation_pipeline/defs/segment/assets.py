"""Segment: a k-means model refitted quarterly (ids kept stable across refits) that scores every nightly snapshot."""

from datetime import date, timedelta

import dagster as dg
import pandas as pd

from segmentation_pipeline.core.features.customer_features import compute_features
from segmentation_pipeline.core.segment.model import SegmentModel, fit_model, segment_profiles
from segmentation_pipeline.core.segment.registry import has_model, latest_model_before, load_model, save_model
from segmentation_pipeline.core.segment.rules import evaluate, load_manual_assignments, load_rule_segments, schema_of
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import has_snapshot_table, read_snapshot_table, write_snapshot_table
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days, quarter_start, quarterly_partitions
from segmentation_pipeline.defs.resources import DataRoot, SegmentationSettings


def _features(layout: DataLayout, day: date) -> pd.DataFrame:
    if has_snapshot_table(layout, "customer_features", day):
        return read_snapshot_table(layout, "customer_features", day)
    return compute_features(layout, day)


def _fit(layout: DataLayout, quarter: date, training_day: date, settings: SegmentationSettings) -> SegmentModel:
    model = fit_model(
        _features(layout, training_day),
        training_day.isoformat(),
        settings.cluster_settings(),
        previous=latest_model_before(layout, quarter),
        name_overrides=settings.name_overrides(layout),
    )
    save_model(model, layout.model_folder(quarter))
    return model


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
    context: dg.AssetExecutionContext, data_root: DataRoot, segmentation: SegmentationSettings
) -> dg.MaterializeResult:
    quarter = date.fromisoformat(context.partition_key)
    model = _fit(data_root.layout, quarter, quarter - timedelta(days=1), segmentation)
    return dg.MaterializeResult(metadata=_model_metadata(model))


@dg.asset(
    group_name="segment",
    kinds={"scikitlearn", "parquet"},
    deps=["customer_features", "segmentation_model"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Each customer's behavioural segment from the quarter's model (no refit), and a profile per segment.",
)
def behavioural_segments(
    context: dg.AssetExecutionContext, data_root: DataRoot, segmentation: SegmentationSettings
) -> dg.MaterializeResult:
    layout = data_root.layout
    for day in partition_days(context):
        quarter = quarter_start(day)
        features = _features(layout, day)
        if has_model(layout, quarter):
            model = load_model(layout.model_folder(quarter))
        else:
            context.log.warning(f"no segmentation model for the quarter of {quarter}: fitting one on snapshot {day}")
            model = _fit(layout, quarter, day, segmentation)
        assignments = model.assign(features).assign(model_version=model.version)
        profiles = segment_profiles(features, assignments, model)
        write_snapshot_table(layout, "segment_assignments", day, assignments)
        write_snapshot_table(layout, "segment_profiles", day, profiles)
    return dg.MaterializeResult(
        metadata={
            "model_version": model.version,
            "segments": dg.MetadataValue.md(
                profiles[
                    ["segment_id", "segment_name", "customers", "share", "revenue_share", "description"]
                ].to_markdown(index=False)
            ),
        }
    )


@dg.asset(
    group_name="segment",
    kinds={"pandas", "parquet"},
    deps=["customer_features", "rfm_scores", "behavioural_segments"],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Members of the marketer-defined rule segments and of the manual assignments, one row per membership.",
)
def rule_segments(
    context: dg.AssetExecutionContext, data_root: DataRoot, segmentation: SegmentationSettings
) -> dg.MaterializeResult:
    layout = data_root.layout
    metadata = {}
    for day in partition_days(context):
        customers = _features(layout, day)
        for table in ("rfm_scores", "segment_assignments"):
            snapshot = read_snapshot_table(layout, table, day)
            customers = customers.merge(snapshot.drop(columns="model_version", errors="ignore"), on="customer_id")
        members = [empty_memberships()]
        rules_file = segmentation.config_file(layout, "rule_segments_file", "rule_segments.yaml")
        manual_file = segmentation.config_file(layout, "manual_assignments_file", "manual_assignments.csv")
        if rules_file:
            members.append(evaluate(load_rule_segments(rules_file, schema_of(customers)), customers))
        if manual_file:
            manual = load_manual_assignments(manual_file, pd.Index(customers["customer_id"]), day)
            members.append(manual.assignments)
            metadata["manual_unknown_customers"] = len(manual.unknown_customers)
            metadata["manual_unknown_examples"] = ", ".join(manual.unknown_customers[:10]) or "none"
            metadata["manual_expired"] = manual.expired
            if manual.unknown_customers:
                context.log.warning(f"manual assignments for unknown customers: {manual.unknown_customers[:10]}")
        memberships = pd.concat(members, ignore_index=True).sort_values(["customer_id", "segment"], ignore_index=True)
        write_snapshot_table(layout, "rule_segment_members", day, memberships)
    counts = memberships.groupby(["segment", "source"]).size().rename("customers").reset_index()
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "dagster/row_count": len(memberships),
            "customers_per_segment": dg.MetadataValue.md(counts.to_markdown(index=False) if len(counts) else "none"),
        }
    )


def empty_memberships() -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [], "segment": [], "source": []}, dtype="str")
