"""The published BI tables: what each holds, its column order, and a guarantee that no personal data gets in."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.contract import DAILY_SOURCES, PERSONAL_DATA_COLUMNS
from segmentation_pipeline.core.kpis import segment_kpis, value_tiers
from segmentation_pipeline.core.movement import segment_transitions
from segmentation_pipeline.core.rules import SEGMENT_LIST_TYPE, membership_lists
from segmentation_pipeline.core.storage import PART_FILE, DataLayout, partition_day, staged_file

PUBLISHED_SCHEMA_VERSION = 2
"""The version of the BI contract below. Any change to a published column or type needs a new version, recorded in
`published_schema.json` next to this module (a test compares the two)."""

PUBLISHED_SCHEMAS: dict[str, pa.Schema] = {
    "customer_segments": pa.schema(
        [
            ("customer_id", pa.string()),
            ("snapshot_date", pa.date32()),
            ("recency_days", pa.int64()),
            ("frequency", pa.int64()),
            ("monetary", pa.float64()),
            ("purchase_days", pa.int64()),
            ("avg_order_value", pa.float64()),
            ("lifetime_spend", pa.float64()),
            ("r_score", pa.int64()),
            ("f_score", pa.int64()),
            ("m_score", pa.int64()),
            ("rfm_segment", pa.string()),
            ("segment_id", pa.int64()),
            ("segment_name", pa.string()),
            ("rule_segments", SEGMENT_LIST_TYPE),
            ("lifecycle_stage", pa.string()),
            ("value_tier", pa.string()),
            ("primary_device", pa.string()),
            ("preferred_time_of_day", pa.string()),
            ("country", pa.string()),
            ("acquisition_channel", pa.string()),
            ("marketing_opt_in", pa.bool_()),
            ("has_survey", pa.bool_()),
            ("nps_group", pa.string()),
            ("model_version", pa.string()),
        ]
    ),
    "segment_profiles": pa.schema(
        [
            ("segment_id", pa.int64()),
            ("segment_name", pa.string()),
            ("description", pa.string()),
            ("customers", pa.int64()),
            ("share", pa.float64()),
            ("revenue", pa.float64()),
            ("revenue_share", pa.float64()),
            ("mean_recency_days", pa.float64()),
            ("median_recency_days", pa.float64()),
            ("mean_frequency", pa.float64()),
            ("median_frequency", pa.float64()),
            ("mean_monetary", pa.float64()),
            ("median_monetary", pa.float64()),
            ("mean_sessions", pa.float64()),
            ("dominant_device", pa.string()),
            ("dominant_time_of_day", pa.string()),
            ("top_country", pa.string()),
            ("top_acquisition_channel", pa.string()),
            ("promoter_share", pa.float64()),
            ("passive_share", pa.float64()),
            ("detractor_share", pa.float64()),
            ("model_version", pa.string()),
            ("snapshot_date", pa.date32()),
        ]
    ),
    "segment_kpis": pa.schema(
        [
            ("snapshot_date", pa.date32()),
            ("segment_type", pa.string()),
            ("segment", pa.string()),
            ("segment_id", pa.int64()),
            ("acquisition_channel", pa.string()),
            ("customers", pa.int64()),
            ("active_share", pa.float64()),
            ("orders", pa.int64()),
            ("revenue", pa.float64()),
            ("avg_order_value", pa.float64()),
            ("repeat_rate", pa.float64()),
            ("mean_nps", pa.float64()),
            ("high_value_share", pa.float64()),
        ]
    ),
    "segment_transitions": pa.schema(
        [
            ("snapshot_date", pa.date32()),
            ("previous_snapshot_date", pa.date32()),
            ("segment_type", pa.string()),
            ("from_segment", pa.string()),
            ("to_segment", pa.string()),
            ("customers", pa.int64()),
            ("share_of_from", pa.float64()),
            ("share_of_to", pa.float64()),
        ]
    ),
    "rfm_cut_points": pa.schema(
        [
            ("metric", pa.string()),
            ("score", pa.int64()),
            ("min_value", pa.float64()),
            ("max_value", pa.float64()),
            ("customers", pa.int64()),
            ("fitted_on", pa.date32()),
            ("snapshot_date", pa.date32()),
        ]
    ),
    "rule_segment_members": pa.schema(
        [
            ("customer_id", pa.string()),
            ("segment", pa.string()),
            ("source", pa.string()),
            ("snapshot_date", pa.date32()),
        ]
    ),
    "runs": pa.schema(  # written last: a snapshot listed here is complete
        [
            ("snapshot_date", pa.date32()),
            ("schema_version", pa.int64()),
            ("model_version", pa.string()),
            ("code_version", pa.string()),
            ("published_at", pa.timestamp("us", tz="UTC")),
            ("customer_segments_rows", pa.int64()),
            ("segment_profiles_rows", pa.int64()),
            ("segment_kpis_rows", pa.int64()),
            ("segment_transitions_rows", pa.int64()),
            ("rfm_cut_points_rows", pa.int64()),
            ("rule_segment_members_rows", pa.int64()),
            ("validated_rows", pa.int64()),
            ("quarantined_rows", pa.int64()),
            ("hashed_customer_ids", pa.bool_()),
        ]
    ),
}


def schema_contract() -> dict[str, dict[str, str]]:
    """The published schemas as plain data: table -> column -> Arrow type name."""
    return {table: {field.name: str(field.type) for field in schema} for table, schema in PUBLISHED_SCHEMAS.items()}


def customer_segments(
    features: pd.DataFrame, rfm_scores: pd.DataFrame, assignments: pd.DataFrame, memberships: pd.DataFrame
) -> pd.DataFrame:
    """One row per customer of the snapshot: raw RFM values, scores, the RFM segment, the behavioural segment and
    the rule or manual segments the customer belongs to (a list)."""
    table = features.merge(rfm_scores, on="customer_id", how="left", validate="one_to_one").merge(
        assignments, on="customer_id", how="left", validate="one_to_one"
    )
    table["rule_segments"] = membership_lists(memberships, table["customer_id"])
    table["value_tier"] = value_tiers(table["monetary"], table["has_orders"])
    missing = len(features) - table["segment_id"].notna().sum()
    if missing or len(table) != len(features):
        raise AssertionError(f"{missing} customers of the snapshot have no behavioural segment")
    columns = PUBLISHED_SCHEMAS["customer_segments"].names
    return without_personal_data(table[columns].sort_values("customer_id", ignore_index=True))


def segment_profiles(profiles: pd.DataFrame, snapshot_date: date) -> pd.DataFrame:
    return without_personal_data(
        profiles.assign(snapshot_date=snapshot_date).sort_values("segment_id", ignore_index=True)
    )


@dataclass(frozen=True)
class SnapshotInputs:
    """The warehouse tables of one snapshot day that the published tables are built from."""

    features: pd.DataFrame
    rfm_scores: pd.DataFrame
    assignments: pd.DataFrame
    profiles: pd.DataFrame
    cut_points: pd.DataFrame
    memberships: pd.DataFrame


def snapshot_tables(
    day: date, inputs: SnapshotInputs, previous: tuple[date, pd.DataFrame] | None, customer_id_salt: str = ""
) -> dict[str, pd.DataFrame]:
    """Every published table of a snapshot except `runs`. `previous` is the last published snapshot before `day`
    (its date and customer_segments), for the transitions; ids are hashed before comparing, so both sides match."""
    customers = customer_segments(inputs.features, inputs.rfm_scores, inputs.assignments, inputs.memberships)
    kpi_inputs = customers.merge(
        inputs.features[["customer_id", "nps", "lifetime_orders", "sessions"]], on="customer_id", validate="1:1"
    )
    memberships = inputs.memberships.assign(snapshot_date=day)
    if customer_id_salt:
        customers["customer_id"] = pseudonymise(customers["customer_id"], customer_id_salt)
        memberships["customer_id"] = pseudonymise(memberships["customer_id"], customer_id_salt)
        customers = customers.sort_values("customer_id", ignore_index=True)
    previous_day, previous_customers = previous if previous else (None, None)
    return {
        "customer_segments": customers,
        "segment_profiles": segment_profiles(inputs.profiles, day),
        "segment_kpis": segment_kpis(kpi_inputs, day),
        "segment_transitions": segment_transitions(previous_customers, customers, day, previous_day),
        "rfm_cut_points": inputs.cut_points,
        "rule_segment_members": memberships,
    }


def pseudonymise(customer_ids: pd.Series, salt: str) -> pd.Series:
    """A salted SHA-256 (hex) per id: the same customer gets the same hash in every snapshot (so BI can follow and
    join customers), but the CRM id cannot be looked up without the salt."""
    return customer_ids.map(lambda value: hashlib.sha256(f"{salt}:{value}".encode()).hexdigest()).astype("str")


def run_manifest(
    day: date, tables: dict[str, pd.DataFrame], model_version: str, validation: dict[str, int], hashed_ids: bool
) -> pd.DataFrame:
    """The `runs` row of a snapshot: what was published, from which model and code, out of how many valid rows."""
    return pd.DataFrame(
        [
            {
                "snapshot_date": day,
                "schema_version": PUBLISHED_SCHEMA_VERSION,
                "model_version": model_version,
                "code_version": code_version(),
                "published_at": pd.Timestamp.now(tz="UTC"),
                **{f"{name}_rows": len(frame) for name, frame in tables.items()},
                "validated_rows": validation["validated"],
                "quarantined_rows": validation["quarantined"],
                "hashed_customer_ids": hashed_ids,
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


def previous_snapshot(layout: DataLayout, day: date) -> tuple[date, pd.DataFrame] | None:
    """The last complete published snapshot before `day` (listed in `runs`) and its customer_segments."""
    earlier = [snapshot for snapshot in published_snapshots(layout) if snapshot < day]
    if not earlier:
        return None
    return earlier[-1], pq.read_table(layout.published_table("customer_segments", earlier[-1])).to_pandas()


def published_snapshots(layout: DataLayout) -> list[date]:
    return sorted(partition_day(path) for path in (layout.published / "runs").glob(f"snapshot_date=*/{PART_FILE}"))


def write_latest_views(layout: DataLayout) -> Path:
    """`published/latest.duckdb`: for each table a view `<table>` over every snapshot and `latest_<table>` over the
    newest complete one, so BI can query without knowing dates. Built aside and renamed into place."""
    target = layout.published / "latest.duckdb"
    with staged_file(target) as staged, duckdb.connect(str(staged)) as con:
        for table in PUBLISHED_SCHEMAS:
            pattern = (layout.published / table / "snapshot_date=*" / PART_FILE).as_posix().replace("'", "''")
            con.execute(
                f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{pattern}', hive_partitioning = true, "
                "hive_types = {'snapshot_date': DATE}, union_by_name = true)"
            )
        for table in PUBLISHED_SCHEMAS:
            con.execute(
                f"CREATE VIEW latest_{table} AS SELECT * FROM {table} "
                "WHERE snapshot_date = (SELECT max(snapshot_date) FROM runs)"
            )
    return target


def to_arrow(table: pd.DataFrame, name: str) -> pa.Table:
    """The frame as published table `name`, in exactly its contract schema (same columns, order and types)."""
    schema = PUBLISHED_SCHEMAS[name]
    if list(table.columns) != schema.names:
        raise AssertionError(f"published table {name}: columns {list(table.columns)} differ from {schema.names}")
    return pa.Table.from_pandas(table, schema=schema, preserve_index=False)


def without_personal_data(table: pd.DataFrame) -> pd.DataFrame:
    leaked = PERSONAL_DATA_COLUMNS.intersection(table.columns)
    if leaked:
        raise AssertionError(f"personal data columns must never be published: {sorted(leaked)}")
    return table
