"""The segment stage for one snapshot: the quarter's models (fitted on its eve, or as a fallback on the snapshot),
each customer's behavioural segment and profile and predicted value, and the rule and manual segment memberships."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, NamedTuple

import pandas as pd

from segmentation_pipeline.core.calendar import quarter_start
from segmentation_pipeline.core.features.customer_features import purchase_days, snapshot_features
from segmentation_pipeline.core.segment.marketer_files import MarketerFiles
from segmentation_pipeline.core.segment.model import SegmentModel, fit_model
from segmentation_pipeline.core.segment.name_overrides import apply_name_overrides
from segmentation_pipeline.core.segment.profiles import segment_profiles
from segmentation_pipeline.core.segment.registry import (
    has_model,
    latest_model_before,
    load_model,
    load_value_model,
    save_model,
)
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
from segmentation_pipeline.core.value.model import NoValueModel, ValueModel, fit_value_model
from segmentation_pipeline.core.value.settings import ValueSettings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


TRAINING_CUSTOMERS = 1_000_000
"""The quarter's models are fitted on at most this many customers of the training snapshot (evenly spaced rows of its
feature table, which is sorted by customer id) and their purchase days: the fit's memory stays bounded however many
customers there are, as k-means' own fit sample already was (`ClusterSettings.fit_sample`)."""


class QuarterModels(NamedTuple):
    segments: SegmentModel
    value: ValueModel | NoValueModel


def fit_quarter_model(
    layout: DataLayout,
    quarter: date,
    training_day: date,
    settings: ClusterSettings,
    value_settings: ValueSettings,
    max_customers: int = TRAINING_CUSTOMERS,
) -> QuarterModels:
    """Fit the quarter's models on `training_day` (at most `max_customers` of its customers) and save them together:
    the segmentation model, keeping the ids of the newest earlier model (its names are the generated ones: the
    marketers' names are applied when a snapshot is scored), and the value model, on the same customers and their
    purchase days up to `training_day`."""
    features = snapshot_features(layout, training_day, max_customers)
    model = fit_model(features, training_day.isoformat(), settings, previous=latest_model_before(layout, quarter))
    purchases = purchase_days(layout, training_day, features["customer_id"])
    value_model = fit_value_model(features, purchases, training_day, value_settings)
    save_model(model, layout.model_folder(quarter), value_model)
    return QuarterModels(model, value_model)


def quarter_model(layout: DataLayout, day: date) -> SegmentModel | None:
    """The saved model of `day`'s quarter, if it was fitted."""
    quarter = quarter_start(day)
    return load_model(layout.model_folder(quarter)) if has_model(layout, quarter) else None


def quarter_value_model(layout: DataLayout, day: date) -> ValueModel | NoValueModel:
    """The value model saved with the segmentation model of `day`'s quarter, or why there is none."""
    return load_value_model(layout.model_folder(quarter_start(day)))


@dataclass(frozen=True)
class ValueSummary:
    """A snapshot's predicted value in figures, for the asset's metadata."""

    customers: int
    scored: int
    churn_risk: pd.Series
    """Customers per churn risk."""
    predicted_clv_total: float

    @classmethod
    def of(cls, scores: pd.DataFrame) -> ValueSummary:
        return cls(
            len(scores),
            int(scores["p_alive"].notna().sum()),
            scores["churn_risk"].value_counts(),
            float(scores["predicted_clv"].sum()),
        )


def score_value(
    layout: DataLayout, day: date, value_model: ValueModel | NoValueModel, spark: SparkSession | None = None
) -> ValueSummary:
    """Every customer's predicted value on `day` from the quarter's value model and the snapshot's own features (no
    refit; nulls without a model or a purchase), on Spark if a session is given; writes `customer_value`."""
    if spark is not None:
        from segmentation_pipeline.core.engines import spark_scoring

        return spark_scoring.score_value(spark, layout, day, value_model)
    scores = value_model.score(snapshot_features(layout, day), day)
    write_snapshot_table(layout, "customer_value", day, scores)
    return ValueSummary.of(scores)


def assign_segments(
    layout: DataLayout, day: date, model: SegmentModel, files: MarketerFiles, spark: SparkSession | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """Score every customer of the snapshot with `model` (on Spark if a session is given), named with the marketers'
    current names over the model's generated ones (an edit shows at the next publish; the model is not refitted or
    changed); writes `segment_assignments` and `segment_profiles` and returns the profiles and the warnings about
    the names."""
    names_file = files.path(layout, "segment_names_file")
    names, warnings = apply_name_overrides(model.names, files.name_overrides(layout), str(names_file), model.version)
    if spark is not None:
        from segmentation_pipeline.core.engines import spark_scoring

        profiles = spark_scoring.assign_segments(spark, layout, day, model, names)
    else:
        features = snapshot_features(layout, day)
        assignments = model.assign(features, names).assign(model_version=model.version)
        profiles = segment_profiles(features, assignments, model, names)
        write_snapshot_table(layout, "segment_assignments", day, assignments)
    write_snapshot_table(layout, "segment_profiles", day, profiles)
    return profiles, warnings


@dataclass(frozen=True)
class Memberships:
    """A snapshot's rule and manual segment memberships in figures, and what the manual assignments left out."""

    rows: int
    per_segment: pd.DataFrame
    """Members per segment and source (`segment_counts`)."""
    manual_unknown_customers: list[str] | None
    manual_expired: int | None


def rule_memberships(
    layout: DataLayout, day: date, files: MarketerFiles, spark: SparkSession | None = None
) -> Memberships:
    """Evaluate the marketers' rule segments on the snapshot's customers (features, RFM scores, behavioural segments
    and predicted value) and add the manual assignments in force on `day`, on Spark if a session is given; writes
    `rule_segment_members`."""
    rules_file = files.path(layout, "rule_segments_file")
    manual_file = files.path(layout, "manual_assignments_file")
    if spark is not None:
        from segmentation_pipeline.core.engines import spark_rules

        return spark_rules.rule_memberships(spark, layout, day, rules_file, manual_file)
    customers = snapshot_features(layout, day)
    for table in MEMBERSHIP_INPUTS[1:]:
        snapshot = read_snapshot_table(layout, table, day)
        customers = customers.merge(snapshot.drop(columns="model_version", errors="ignore"), on="customer_id")
    members = [empty_memberships()]
    if rules_file:
        members.append(evaluate(load_rule_segments(rules_file, schema_of(customers)), customers))
    manual = None
    if manual_file:
        manual = load_manual_assignments(manual_file, pd.Index(customers["customer_id"]), day)
        members.append(manual.assignments)
    table = pd.concat(members, ignore_index=True).sort_values(["customer_id", "segment"], ignore_index=True)
    write_snapshot_table(layout, "rule_segment_members", day, table)
    return Memberships(
        len(table),
        segment_counts(table),
        manual.unknown_customers if manual else None,
        manual.expired if manual else None,
    )


MEMBERSHIP_INPUTS = ("customer_features", "rfm_scores", "segment_assignments", "customer_value")
"""The snapshot tables the rules read, joined by customer_id in this order (the features first)."""


def segment_counts(members: pd.DataFrame) -> pd.DataFrame:
    """Members per (segment, source), sorted by both: columns segment, source, customers."""
    return members.groupby(["segment", "source"]).size().rename("customers").reset_index()
