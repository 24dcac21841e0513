"""Load customers and orders into the CRM tables of a PostgreSQL database, so that the pipeline can be tried against
one (`segmentation-pipeline sample-data --to-database URL`) and tested against a real server."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
from adbc_driver_postgresql.dbapi import Cursor

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, Source
from segmentation_pipeline.core.ingest.crm_database import CrmDatabase, connect, database_errors
from segmentation_pipeline.core.ingest.landing import BATCH_BYTES, landing_days, read_landing, read_landing_batches

_COLUMN_TYPES = {
    "string": "text",
    "timestamp": "timestamp with time zone",
    "float": "double precision",
    "int": "bigint",
    "bool": "boolean",
}


def load_landing_crm(database: CrmDatabase, landing_dir: Path) -> dict[str, int]:
    """The landing zone's CRM export and every day of its orders, loaded as they landed: bad rows too, so that
    validation finds them in the database as in the files. Returns the rows loaded per table."""
    days = landing_days(landing_dir, ORDERS)
    orders = [
        read.frame for batch in read_landing_batches(landing_dir, ORDERS, days, BATCH_BYTES) for read in batch.values()
    ]
    empty = pd.DataFrame(columns=ORDERS.column_names)
    return load_crm_tables(database, read_landing(landing_dir, CUSTOMERS).frame, pd.concat(orders or [empty]))


def load_crm_tables(database: CrmDatabase, customers: pd.DataFrame, orders: pd.DataFrame) -> dict[str, int]:
    """Replace the customers and orders tables (creating their schemas) with these frames, typed by the contract as
    `read_landing` types them (lineage and other columns are left out). One transaction: a reader sees the old
    tables or the new ones. The orders table gets an index on `ordered_at` for the daily reads. Returns the rows
    loaded per table."""
    tables = {database.customers_table: (CUSTOMERS, customers), database.orders_table: (ORDERS, orders)}
    with connect(database, database.customers_table, autocommit=False) as cursor:
        loaded = {table: _replace_table(cursor, database, table, *source_rows) for table, source_rows in tables.items()}
        with database_errors(database, database.orders_table):
            cursor.connection.commit()
    return loaded


def _replace_table(cursor: Cursor, database: CrmDatabase, table: str, source: Source, frame: pd.DataFrame) -> int:
    rows = pa.Table.from_pandas(frame[source.column_names], schema=source.arrow_schema(), preserve_index=False)
    with database_errors(database, table):
        cursor.execute("SELECT parse_ident($1) AS parts", (table,))  # the server's reading of `schema.table`
        *schema, name = cursor.fetch_arrow_table()["parts"][0].as_py()
        qualified = ".".join(_quoted(part) for part in [*schema, name])
        if schema:
            cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {_quoted(schema[-1])}")
        cursor.execute(f"DROP TABLE IF EXISTS {qualified}")
        cursor.execute(f"CREATE TABLE {qualified} ({_column_definitions(source)})")
        cursor.adbc_ingest(name, rows, mode="append", db_schema_name=schema[-1] if schema else None)  # binary COPY
        if source.timestamp_column:
            cursor.execute(f"CREATE INDEX ON {qualified} ({_quoted(source.timestamp_column)})")
    return rows.num_rows


def _column_definitions(source: Source) -> str:
    return ", ".join(f"{_quoted(column.name)} {_COLUMN_TYPES[column.type]}" for column in source.columns)


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
