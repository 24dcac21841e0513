"""The segment stage for one snapshot: the quarter's model (fitted on its eve, or as a fallback on the snapshot),
each customer's behavioural segment and profile, and the rule and manual segment memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.features.customer_features import snapshot_features
from segmentation_pipeline.core.segment.marketer_files import MarketerFiles
from segmentation_pipeline.core.segment.model import SegmentModel, fit_model
from segmentation_pipeline.core.segment.profiles import segment_profiles
from segmentation_pipeline.core.segment.registry import has_model, latest_model_before, load_model, save_model
from segmentation_pipeline.core.segment.rules import (
    empty_memberships,
    evaluate,
    load_manual_assignments,
    load_rule_segments,
    schema_of,
)
from segmentation_pipeline.core.segment.settings import ClusterSettings
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table, write_snapshot_table


def fit_quarter_model(
    layout: DataLayout, quarter: date, training_day: date, settings: ClusterSettings, files: MarketerFiles
) -> SegmentModel:
    """Fit the quarter's model on `training_day`, keeping the ids of the newest earlier model, and save it."""
    model = fit_model(
        snapshot_features(layout, training_day),
        training_day.isoformat(),
        settings,
        previous=latest_model_before(layout, quarter),
        name_overrides=files.name_overrides(layout),
    )
    save_model(model, layout.model_folder(quarter))
    return model


def quarter_model(layout: DataLayout, day: date) -> SegmentModel | None:
    """The saved model of `day`'s quarter, if it was fitted."""
    quarter = quarter_start(day)
    return load_model(layout.model_folder(quarter)) if has_model(layout, quarter) else None


def assign_segments(layout: DataLayout, day: date, model: SegmentModel) -> pd.DataFrame:
    """Score every customer of the snapshot with `model`; writes `segment_assignments` and `segment_profiles` and
    returns the profiles."""
    features = snapshot_features(layout, day)
    assignments = model.assign(features).assign(model_version=model.version)
    profiles = segment_profiles(features, assignments, model)
    write_snapshot_table(layout, "segment_assignments", day, assignments)
    write_snapshot_table(layout, "segment_profiles", day, profiles)
    return profiles


@dataclass(frozen=True)
class Memberships:
    """A snapshot's rule and manual segment memberships, and what the manual assignments left out."""

    table: pd.DataFrame
    manual_unknown_customers: list[str] | None
    manual_expired: int | None


def rule_memberships(layout: DataLayout, day: date, files: MarketerFiles) -> Memberships:
    """Evaluate the marketers' rule segments on the snapshot's customers (features, RFM scores and behavioural
    segments) and add the manual assignments in force on `day`; writes `rule_segment_members`."""
    customers = snapshot_features(layout, day)
    for table in ("rfm_scores", "segment_assignments"):
        snapshot = read_snapshot_table(layout, table, day)
        customers = customers.merge(snapshot.drop(columns="model_version", errors="ignore"), on="customer_id")
    members = [empty_memberships()]
    rules_file = files.path(layout, "rule_segments_file")
    manual_file = files.path(layout, "manual_assignments_file")
    if rules_file:
        members.append(evaluate(load_rule_segments(rules_file, schema_of(customers)), customers))
    manual = None
    if manual_file:
        manual = load_manual_assignments(manual_file, pd.Index(customers["customer_id"]), day)
        members.append(manual.assignments)
    table = pd.concat(members, ignore_index=True).sort_values(["customer_id", "segment"], ignore_index=True)
    write_snapshot_table(layout, "rule_segment_members", day, table)
    return Memberships(table, manual.unknown_customers if manual else None, manual.expired if manual else None)
