"""The published BI tables of one snapshot, built from its warehouse tables, and the `runs` manifest row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import metadata

import pandas as pd
import pyarrow.parquet as pq

from segmentation_pipeline.core.ingest.contract import DAILY_SOURCES
from segmentation_pipeline.core.publish.audiences import AudienceExport
from segmentation_pipeline.core.publish.control_group import in_control_group
from segmentation_pipeline.core.publish.hashing import sha256_hex
from segmentation_pipeline.core.publish.kpis import kpi_totals, kpis_from_totals, value_figures_from_totals, value_tiers
from segmentation_pipeline.core.publish.memberships import membership_lists
from segmentation_pipeline.core.publish.next_actions import DEFAULT_NEXT_ACTIONS, NextActionRule
from segmentation_pipeline.core.publish.overlap import segment_overlap
from segmentation_pipeline.core.publish.personas import segment_personas
from segmentation_pipeline.core.publish.schemas import (
    PUBLISHED_SCHEMA_VERSION,
    PUBLISHED_SCHEMAS,
    without_personal_data,
)
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.core.publish.transitions import segment_transitions
from segmentation_pipeline.core.publish.uplift import segment_uplift
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.tables import published_snapshots
from segmentation_pipeline.core.tiers import Thresholds


def customer_segments(
    features: pd.DataFrame,
    rfm_scores: pd.DataFrame,
    assignments: pd.DataFrame,
    memberships: pd.DataFrame,
    value: pd.DataFrame,
    settings: PublishSettings,
) -> pd.DataFrame:
    """One row per customer of the snapshot (CRM ids): raw RFM values, scores, the RFM segment, the behavioural
    segment, the rule or manual segments the customer belongs to (a list), the predicted value, and whether the
    customer is in the control group."""
    table = features
    for scores in (rfm_scores, assignments, value):
        table = joined_by_customer(table, scores)
    table["rule_segments"] = membership_lists(memberships, table["customer_id"])
    check_every_customer_segmented(len(features), len(table), int(table["segment_id"].notna().sum()))
    return customer_rows(table, settings)


def customer_rows(table: pd.DataFrame, settings: PublishSettings, value_tiers_of: Thresholds | None = None):
    """The `customer_segments` rows of customers whose features, scores, value and rule segments are joined in
    `table`: the value tier and control group added. `value_tiers_of`: the spend thresholds of the whole snapshot,
    when `table` is a batch of its customers (Spark); else ranked on `table`."""
    table = table.assign(
        value_tier=value_tiers(table["monetary"], table["has_orders"], value_tiers_of),
        in_control_group=in_control_group(
            table["customer_id"], settings.control_group_share, settings.control_group_salt
        ),
    )
    columns = PUBLISHED_SCHEMAS["customer_segments"].names
    return without_personal_data(table[columns].sort_values("customer_id", ignore_index=True))


def check_every_customer_segmented(customers: int, rows: int, segmented: int) -> None:
    missing = customers - segmented
    if missing or rows != customers:
        raise AssertionError(f"{missing} customers of the snapshot have no behavioural segment")


def joined_by_customer(table: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """`table` with `other`'s columns, matched by customer_id (a left join, one row per customer on each side). The
    tables of a snapshot list the same customers in the same order, so they are put side by side without a merge's
    hashing; tables that differ are merged."""
    if pd.Index(table["customer_id"]).equals(pd.Index(other["customer_id"])):
        return pd.concat([table, other.drop(columns="customer_id").set_axis(table.index)], axis=1)
    return table.merge(other, on="customer_id", how="left", validate="one_to_one")


def segment_profiles(profiles: pd.DataFrame, value_figures: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    """The segment stage's profiles with the predicted-value figures of each segment's customers
    (`kpis.value_figures_from_totals`)."""
    table = profiles.merge(value_figures, on="segment_id", how="left", validate="one_to_one")
    columns = PUBLISHED_SCHEMAS["segment_profiles"].names
    return without_personal_data(
        table.assign(snapshot_date=snapshot_date)[columns].sort_values("segment_id", ignore_index=True)
    )


KPI_INPUTS = ["customer_id", "nps"]
"""The feature columns the KPIs read beside `customer_segments`."""


@dataclass(frozen=True)
class SnapshotInputs:
    """The warehouse tables of one snapshot day that the published tables are built from."""

    features: pd.DataFrame
    rfm_scores: pd.DataFrame
    assignments: pd.DataFrame
    profiles: pd.DataFrame
    cut_points: pd.DataFrame
    memberships: pd.DataFrame
    value: pd.DataFrame


def snapshot_tables(
    day: date,
    inputs: SnapshotInputs,
    customers: pd.DataFrame,
    previous: tuple[date, pd.DataFrame] | None,
    customer_id_salt: str = "",
    next_actions: tuple[NextActionRule, ...] = DEFAULT_NEXT_ACTIONS,
) -> dict[str, pd.DataFrame]:
    """Every published table of a snapshot except `runs`, from its `customer_segments` rows with CRM ids.
    `previous` is the last published snapshot before `day` (its date and customer_segments), for the transitions
    and the uplift; ids are hashed before comparing, so both sides match."""
    totals = kpi_totals(joined_by_customer(customers, inputs.features[KPI_INPUTS]))
    profiles = segment_profiles(inputs.profiles, value_figures_from_totals(totals), day)
    personas = personas_table(inputs.features, inputs.assignments, profiles, day, next_actions)
    overlap = segment_overlap(customers, day)
    customers = pseudonymised_rows(customers, customer_id_salt)
    memberships = pseudonymised_rows(inputs.memberships.assign(snapshot_date=day), customer_id_salt, sort=False)
    previous_day, previous_customers = previous if previous else (None, None)
    return {
        "customer_segments": customers,
        "segment_profiles": profiles,
        "segment_kpis": kpis_from_totals(totals, day),
        "segment_transitions": segment_transitions(previous_customers, customers, day, previous_day),
        "segment_uplift": segment_uplift(previous_customers, customers, day, previous_day),
        "rfm_cut_points": inputs.cut_points,
        "rule_segment_members": memberships,
        "segment_personas": personas,
        "segment_overlap": without_personal_data(overlap),
    }


def personas_table(
    features: pd.DataFrame,
    assignments: pd.DataFrame,
    profiles: pd.DataFrame,
    day: date,
    next_actions: tuple[NextActionRule, ...],
) -> pd.DataFrame:
    """`segment_personas` from every customer's features and segment, and the published `profiles`."""
    segment_ids = joined_by_customer(features[["customer_id"]], assignments[["customer_id", "segment_id"]])
    personas = segment_personas(
        features, segment_ids["segment_id"].set_axis(features.index), profiles, day, next_actions
    )
    return without_personal_data(personas)


def pseudonymised_rows(rows: pd.DataFrame, salt: str, sort: bool = True) -> pd.DataFrame:
    """`rows` with their customer_id pseudonymised (`pseudonymise`; as they are without a salt), sorted by it."""
    if not salt:
        return rows
    rows = rows.assign(customer_id=pseudonymise(rows["customer_id"], salt))
    return rows.sort_values("customer_id", ignore_index=True) if sort else rows


def pseudonymise(customer_ids: pd.Series, salt: str) -> pd.Series:
    """A salted SHA-256 (hex) per id: the same customer gets the same hash in every snapshot (so BI can follow and
    join customers), but the CRM id cannot be looked up without the salt."""
    return pd.Series(
        sha256_hex(customer_ids, f"{salt}:"), index=customer_ids.index, name=customer_ids.name, dtype="str"
    )


def run_manifest(
    day: date,
    rows: dict[str, int],
    control_group_customers: int,
    model_version: str,
    validation: dict[str, int],
    hashed_ids: bool,
    audiences: AudienceExport,
) -> pd.DataFrame:
    """The `runs` row of a snapshot: what was published and exported, from which model and code, out of how many
    valid rows."""
    return pd.DataFrame(
        [
            {
                "snapshot_date": day,
                "schema_version": PUBLISHED_SCHEMA_VERSION,
                "model_version": model_version,
                "code_version": code_version(),
                "published_at": pd.Timestamp.now(tz="UTC"),
                **{f"{name}_rows": count for name, count in rows.items()},
                "validated_rows": validation["validated"],
                "quarantined_rows": validation["quarantined"],
                "hashed_customer_ids": hashed_ids,
                "control_group_customers": control_group_customers,
                "audience_files": len(audiences.files),
                "audience_customers": audiences.customers,
                "audience_left_out_without_email": audiences.left_out_without_email,
                "audience_plain_emails": audiences.plain_emails,
            }
        ]
    )[PUBLISHED_SCHEMAS["runs"].names]


def code_version() -> str:
    try:
        return f"segmentation_pipeline {metadata.version('segmentation_pipeline')}"
    except metadata.PackageNotFoundError:
        return "segmentation_pipeline (not installed)"


def validation_summary(layout: DataLayout, day: date) -> dict[str, int]:
    """Rows validated and quarantined on `day` over the daily sources (from the Parquet footers, no data read)."""
    counts = {"validated": 0, "quarantined": 0}
    for source in DAILY_SOURCES:
        for key, path in (
            ("validated", layout.validated(source.name, day)),
            ("quarantined", layout.quarantined(source.name, day)),
        ):
            if path.exists():
                counts[key] += pq.ParquetFile(path).metadata.num_rows
    return counts


def previous_snapshot_day(layout: DataLayout, day: date) -> date | None:
    """The last complete published snapshot before `day` (listed in `runs`), if any."""
    earlier = [snapshot for snapshot in published_snapshots(layout) if snapshot < day]
    return earlier[-1] if earlier else None
