"""The input contract: which landing files each source has, their columns, types and which are required.

README's "Input contract" table documents the same thing for people; this module is what the code enforces.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TIMESTAMP = pa.timestamp("us", tz="UTC")

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "timestamp": TIMESTAMP,
    "float": pa.float64(),
    "int": pa.int64(),
    "bool": pa.bool_(),
}

PERSONAL_DATA_COLUMNS = frozenset({"email", "full_name", "phone"})


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class Source:
    """One landing source. `landing_path` is relative to `landing/`; daily sources hold `date=YYYY-MM-DD/` folders."""

    name: str
    landing_path: str
    columns: tuple[Column, ...]
    daily: bool
    key: str | None
    timestamp_column: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.required]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(column.name, ARROW_TYPES[column.type]) for column in self.columns])


CUSTOMERS = Source(
    name="customers",
    landing_path="crm/customers",
    daily=False,
    key="customer_id",
    columns=(
        Column("customer_id", "string", required=True),
        Column("created_at", "timestamp", required=True),
        Column("email", "string"),
        Column("full_name", "string"),
        Column("phone", "string"),
        Column("birth_year", "int"),
        Column("gender", "string"),
        Column("country", "string"),
        Column("region", "string"),
        Column("city", "string"),
        Column("income_band", "string"),
        Column("acquisition_channel", "string"),
        Column("marketing_opt_in", "bool"),
        Column("company_size", "string"),
        Column("industry", "string"),
    ),
)

ORDERS = Source(
    name="orders",
    landing_path="crm/orders",
    daily=True,
    key="order_id",
    timestamp_column="ordered_at",
    columns=(
        Column("order_id", "string", required=True),
        Column("customer_id", "string", required=True),
        Column("ordered_at", "timestamp", required=True),
        Column("amount", "float", required=True),
        Column("currency", "string"),
        Column("status", "string"),
        Column("channel", "string"),
        Column("product_category", "string"),
    ),
)

SURVEY_RESPONSES = Source(
    name="survey_responses",
    landing_path="survey/responses",
    daily=True,
    key="response_id",
    timestamp_column="submitted_at",
    columns=(
        Column("response_id", "string", required=True),
        Column("customer_id", "string", required=True),
        Column("submitted_at", "timestamp", required=True),
        Column("nps", "int"),
        Column("csat", "int"),
        Column("price_sensitivity", "int"),
        Column("primary_need", "string"),
        Column("preferred_contact_channel", "string"),
    ),
)

USAGE_EVENTS = Source(
    name="usage_events",
    landing_path="usage/events",
    daily=True,
    key=None,
    timestamp_column="event_ts",
    columns=(
        Column("customer_id", "string", required=True),
        Column("event_ts", "timestamp", required=True),
        Column("session_id", "string", required=True),
        Column("device_type", "string", required=True),
        Column("feature", "string"),
        Column("duration_s", "float"),
        Column("event_id", "string"),
    ),
)

DAILY_SOURCES = (ORDERS, SURVEY_RESPONSES, USAGE_EVENTS)
SOURCES = {source.name: source for source in (CUSTOMERS, *DAILY_SOURCES)}

ORDER_STATUSES = ("completed", "cancelled", "refunded")
DEVICE_TYPES = ("desktop", "mobile", "tablet")


LINEAGE_FIELDS = [pa.field("_source_file", pa.string()), pa.field("_source_row", pa.int64())]


def clean_schema(source: Source) -> pa.Schema:
    """Typed contract columns plus the file and line each row came from."""
    return pa.schema([*source.arrow_schema(), *LINEAGE_FIELDS])


def quarantine_schema(source: Source) -> pa.Schema:
    """Clean schema plus why, for which partition and in which run the row was quarantined."""
    return pa.schema(
        [*clean_schema(source), ("reason", pa.string()), ("partition_date", pa.date32()), ("run_id", pa.string())]
    )
