"""Read the CRM's customers and orders from PostgreSQL into reads typed by the input contract, as landing files are.

The customers table is read whole, as a snapshot; orders by the UTC day of `ordered_at`, the day range pushed down
to the database so a nightly run reads one day. Rows come as Arrow through ADBC's PostgreSQL driver (binary COPY,
never row by row; benchmarks/bench_crm_database.py measured it against psycopg) and are typed by the same code as
landing files, so validation treats them alike. Lineage: `_source_file` is the table (`crm.customers`) or the table
and day (`crm.orders@2024-03-01`), `_source_row` the row's place in its read, which is sorted by time and then
every other column (a table has no line order; this one numbers the same rows alike on every re-read).

Every failure is one `CrmDatabaseError` line naming the table, never showing the URL's password; its `transient`
tells the wiring whether trying again later may succeed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import adbc_driver_postgresql.dbapi as adbc
import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.errors import PipelineError, bounded
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, Source
from segmentation_pipeline.core.ingest.landing import (
    LandingRead,
    cast_frame,
    landing_days,
    read_landing_batches,
)

CRM_DATABASE_URL_ENV = "SEGMENTATION_CRM_DATABASE_URL"
DEFAULT_CUSTOMERS_TABLE = "crm.customers"
DEFAULT_ORDERS_TABLE = "crm.orders"
ORDER_ROWS_PER_BATCH = 200_000
"""Orders read, typed and checked at once: bounds the memory of a backfill, as `BATCH_BYTES` does for files."""

# PostgreSQL types (a domain counts as its base type) that fit each contract type, and the cast that reads them as
# the contract's Arrow type. Integer ids fit strings as their digits, as a Parquet file's do.
_INTEGERS = ("smallint", "integer", "bigint")
_FITTING_TYPES = {
    "string": ("text", "character varying", "character", "name", "citext", "uuid", "enum", *_INTEGERS),
    "timestamp": ("timestamp with time zone", "timestamp without time zone", "date"),
    "float": ("double precision", "real", "numeric", *_INTEGERS),
    "int": _INTEGERS,
    "bool": ("boolean",),
}
_CASTS = {"string": "text", "timestamp": "timestamptz", "float": "float8", "int": "int8", "bool": "boolean"}

_COLUMNS_SQL = """
SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS relation, a.attname AS name,
       CASE WHEN b.typtype = 'e' THEN 'enum' ELSE format_type(b.oid, NULL) END AS type
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type b ON b.oid = CASE t.typtype WHEN 'd' THEN t.typbasetype ELSE t.oid END
WHERE c.oid = to_regclass($1)
ORDER BY a.attnum
"""

_QUERY_CANCELED = "57014"
# Worth another try later: connection lost or refused, server starting or shutting down, too many connections,
# serialization failure and deadlock (SQLSTATE class 08 and these codes); libpq's connect errors carry no SQLSTATE.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "53300", "57P01", "57P02", "57P03"}
_TRANSIENT_CONNECT_ERRORS = re.compile(
    r"connection refused|connection reset|server closed the connection|no connection to the server|timeout expired"
    r"|too many (?:clients|connections)|remaining connection slots|starting up|shutting down|terminating connection",
    re.IGNORECASE,
)


class CrmDatabaseError(PipelineError):
    """The CRM database cannot be read. `transient`: the same read may succeed later (connection refused or reset,
    too many connections, a serialization failure), so a retry with backoff is worth it; otherwise it is not."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(bounded(message))
        self.transient = transient


@dataclass(frozen=True)
class CrmDatabase:
    """Where the CRM tables are (a `postgresql://` URL) and how long one statement may run; repr hides the URL."""

    url: str = field(repr=False)
    customers_table: str = DEFAULT_CUSTOMERS_TABLE
    orders_table: str = DEFAULT_ORDERS_TABLE
    statement_timeout_s: float = 300.0
    connect_timeout_s: int = 10


def read_source_batches(
    landing_dir: Path, database: CrmDatabase | None, source: Source, days: list[date | None], max_bytes: int
) -> Iterator[dict[date | None, LandingRead]]:
    """A source's reads of `days`, in batches: the CRM's customers and orders from the database when there is one,
    everything else (and the CRM without a database) from the landing folders, up to `max_bytes` of files a batch."""
    if not reads_from_database(database, source):
        return read_landing_batches(landing_dir, source, days, max_bytes)
    if source == CUSTOMERS:
        return iter([{None: read_customers(database)}])
    return read_order_batches(database, days)


def reads_from_database(database: CrmDatabase | None, source: Source) -> bool:
    """Whether `source` is read from the CRM database (its customers and orders) rather than the landing folders."""
    return database is not None and source in (CUSTOMERS, ORDERS)


def newest_day(landing_dir: Path, database: CrmDatabase | None, source: Source) -> date | None:
    """A daily source's newest day of data: its latest order in the database, or its latest landing folder."""
    if database is not None and source == ORDERS:
        return (order_day_range(database) or (None, None))[1]
    days = landing_days(landing_dir, source)
    return days[-1] if days else None


def read_customers(database: CrmDatabase) -> LandingRead:
    """The whole customers table, as the CRM export's read."""
    table = database.customers_table
    with connect(database, table) as cursor:
        relation, names, warnings = _contract_columns(cursor, database, table, CUSTOMERS)
        with database_errors(database, table):
            rows = _fetch(cursor, f"SELECT {_select_list(CUSTOMERS, names)} FROM {relation}")
    return _read(_typed(rows, CUSTOMERS), table, warnings)


def read_orders(database: CrmDatabase, days: Iterable[date]) -> dict[date, LandingRead]:
    """Each day's orders by the UTC day of `ordered_at` (a day without orders is a read of zero rows)."""
    return {day: read for batch in read_order_batches(database, days) for day, read in batch.items()}


def read_order_batches(
    database: CrmDatabase, days: Iterable[date], max_rows: int = ORDER_ROWS_PER_BATCH
) -> Iterator[dict[date, LandingRead]]:
    """Each day's orders, in batches of consecutive days holding up to `max_rows` orders (at least one day each), one
    query per batch: `WHERE ordered_at >= first AND ordered_at < last + 1`, which an index can serve. The day counts
    that size the batches come from one grouped query over the whole range. The first batch warns about orders
    without an `ordered_at`: they belong to no day, so no daily read ever returns them."""
    table, days = database.orders_table, sorted(set(days))
    if not days:
        return
    with connect(database, table) as cursor:
        relation, names, warnings = _contract_columns(cursor, database, table, ORDERS)
        with database_errors(database, f"{table} (ordered_at from {days[0]} to {days[-1]})"):
            undated = _fetch(cursor, f'SELECT count(*) AS n FROM {relation} WHERE "ordered_at" IS NULL')["n"][0]
            counts = _day_counts(cursor, relation, days[0], days[-1])
        for index, (first, last) in enumerate(_batches(days, counts, max_rows)):
            with database_errors(database, f"{table} (ordered_at from {first} to {last})"):
                rows = _fetch(
                    cursor, f"SELECT {_select_list(ORDERS, names)} FROM {relation} WHERE {_bounds(first, last)}"
                )
            batch = _split_by_day(_typed(rows, ORDERS), first, last, table, warnings)
            if index == 0 and undated.as_py():
                batch[first].warnings.append(f"{table}: {undated} row(s) without an ordered_at skipped: no day")
            yield batch


def _bounds(first: date, last: date) -> str:
    return f"\"ordered_at\" >= DATE '{first}' AND \"ordered_at\" < DATE '{last + timedelta(days=1)}'"


def _day_counts(cursor: adbc.Cursor, relation: str, first: date, last: date) -> dict[date, int]:
    sql = (
        f"SELECT (\"ordered_at\" AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM {relation} "
        f"WHERE {_bounds(first, last)} GROUP BY 1"
    )
    counts = _fetch(cursor, sql).to_pylist()
    return {row["day"]: row["n"] for row in counts}


def _batches(days: list[date], counts: dict[date, int], max_rows: int) -> Iterator[tuple[date, date]]:
    """(first, last) of each batch: consecutive days, up to `max_rows` orders together (at least one day)."""
    first = last = None
    rows = 0
    for day in days:
        joins = last is not None and day == last + timedelta(days=1) and rows + counts.get(day, 0) <= max_rows
        if last is not None and not joins:
            yield first, last
            first, rows = None, 0
        first, last, rows = first or day, day, rows + counts.get(day, 0)
    if last is not None:
        yield first, last


def _split_by_day(
    frame: pd.DataFrame, first: date, last: date, table: str, warnings: list[str]
) -> dict[date, LandingRead]:
    """The rows of `first` .. `last` (in time order, as `_typed` leaves them) as a read per day."""
    midnights = pd.date_range(first, last + timedelta(days=1), freq="D", tz="UTC", unit="us")
    starts = frame["ordered_at"].searchsorted(midnights)
    return {
        midnight.date(): _read(
            frame.iloc[starts[index] : starts[index + 1]].reset_index(drop=True), f"{table}@{midnight.date()}", warnings
        )
        for index, midnight in enumerate(midnights[:-1])
    }


def order_day_range(database: CrmDatabase) -> tuple[date, date] | None:
    """The UTC days of the first and the latest order, or None when the orders table has no dated order."""
    table = database.orders_table
    with connect(database, table) as cursor:
        relation, _, _ = _contract_columns(cursor, database, table, ORDERS)
        sql = (
            f"SELECT (min(\"ordered_at\") AT TIME ZONE 'UTC')::date AS first, "
            f"(max(\"ordered_at\") AT TIME ZONE 'UTC')::date AS last FROM {relation}"
        )
        with database_errors(database, table):
            row = _fetch(cursor, sql).to_pylist()[0]
    return None if row["first"] is None else (row["first"], row["last"])


def redact(url: str) -> str:
    """`url` as messages and logs may show it: the password (in the user part or a `password=` option) as ***."""
    parts = urlsplit(url)
    user, _, host = parts.netloc.rpartition("@")
    netloc = f"{user.partition(':')[0]}:***@{host}" if ":" in user else parts.netloc
    query = re.sub(r"(?i)\b(password=)[^&]*", r"\1***", parts.query)
    return urlunsplit(parts._replace(netloc=netloc, query=query))


@contextmanager
def connect(database: CrmDatabase, what: str, autocommit: bool = True) -> Iterator[adbc.Cursor]:
    """A cursor on a session in UTC (naive timestamps and the day bounds are UTC, as in the contract) with the
    statement timeout; a failure to connect is a CrmDatabaseError about `what`."""
    with database_errors(database, what, connecting=True):
        connection = adbc.connect(_session_url(database), autocommit=autocommit)
    with connection, connection.cursor() as cursor:
        yield cursor


@contextmanager
def database_errors(database: CrmDatabase, what: str, connecting: bool = False) -> Iterator[None]:
    """Driver errors inside the block become one CrmDatabaseError line about `what`, without the password."""
    try:
        yield
    except adbc.Error as error:
        state, reason = error.sqlstate or "", _without_password(_reason(error), database.url)
        if connecting:
            message = f"{what}: cannot connect to the CRM database {redact(database.url)}: {reason}"
        elif state == _QUERY_CANCELED:
            message = (
                f"{what}: cancelled by the statement timeout of {database.statement_timeout_s:g} s ({reason}); "
                "raise the timeout, or make the table faster to read (an index on its day column)"
            )
        else:
            message = f"{what}: the CRM database {redact(database.url)} reported: {reason}"
        transient = (
            state.startswith("08")
            or state in _TRANSIENT_SQLSTATES
            or (not state and bool(_TRANSIENT_CONNECT_ERRORS.search(reason)))
        )
        raise CrmDatabaseError(message, transient) from None


def _session_url(database: CrmDatabase) -> str:
    parts = urlsplit(database.url)
    if parts.scheme not in ("postgresql", "postgres"):  # not echoed: a key=value string may hold a password
        raise CrmDatabaseError("the CRM database URL must start with postgresql:// (e.g. postgresql://user@host/crm)")
    options = dict(parse_qsl(parts.query))
    timeout_ms = round(database.statement_timeout_s * 1000)
    options["options"] = f"{options.get('options', '')} -c TimeZone=UTC -c statement_timeout={timeout_ms}".strip()
    options.setdefault("connect_timeout", str(database.connect_timeout_s))
    options.setdefault("application_name", "segmentation_pipeline")
    return urlunsplit(parts._replace(query=urlencode(options, quote_via=quote)))


def _contract_columns(
    cursor: adbc.Cursor, database: CrmDatabase, table: str, source: Source
) -> tuple[str, list[str], list[str]]:
    """The relation's quoted name, the contract's columns it has, and a warning naming the columns it ignores;
    a missing table, a missing required column or a column of a type that does not fit the contract stops here."""
    with database_errors(database, table):
        catalog = _fetch(cursor, _COLUMNS_SQL, (table,)).to_pylist()
    if not catalog:
        raise CrmDatabaseError(
            f"{table}: no such table or view in the CRM database {redact(database.url)}; create it, or configure "
            f"the {source.name} table's name (schema.table)"
        )
    types = {row["name"]: row["type"] for row in catalog}
    missing = [name for name in source.required_columns if name not in types]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise CrmDatabaseError(f"{table}: required column(s) {listed} missing; found columns: {', '.join(types)}")
    misfits = [
        f"column '{column.name}' is {types[column.name]}, which does not fit the contract's {column.type} "
        f"(use {', '.join(_FITTING_TYPES[column.type])})"
        for column in source.columns
        if column.name in types and types[column.name] not in _FITTING_TYPES[column.type]
    ]
    if misfits:
        raise CrmDatabaseError(f"{table}: {'; '.join(misfits)}; or cast the column in a view")
    unknown = [name for name in types if name not in source.column_names]
    warnings = [bounded(f"{table}: unknown column(s) ignored: {', '.join(unknown)}")] if unknown else []
    return catalog[0]["relation"], [name for name in source.column_names if name in types], warnings


def _select_list(source: Source, names: list[str]) -> str:
    types = {column.name: column.type for column in source.columns}
    return ", ".join(f'"{name}"::{_CASTS[types[name]]} AS "{name}"' for name in names)


def _fetch(cursor: adbc.Cursor, sql: str, parameters: tuple | None = None) -> pa.Table:
    cursor.execute(sql, parameters)
    return cursor.fetch_arrow_table()


def _typed(rows: pa.Table, source: Source) -> pd.DataFrame:
    """The rows in a total order (time first, as landing files usually hold them, then every other column) so that
    a re-read numbers the same rows alike, typed exactly as landing files are: text trimmed, an empty string
    missing, and a contract column the table lacks all missing."""
    first = [source.timestamp_column] if source.timestamp_column in rows.column_names else []
    keys = first + [name for name in rows.column_names if name not in first]
    return cast_frame(rows.sort_by([(name, "ascending") for name in keys]).to_pandas(), source)


def _read(frame: pd.DataFrame, lineage: str, warnings: list[str]) -> LandingRead:
    frame["_source_file"] = pd.Series([lineage] * len(frame), dtype="str")
    frame["_source_row"] = np.arange(1, len(frame) + 1, dtype="int64")
    return LandingRead(frame=frame, files=[lineage], warnings=list(warnings))


def _reason(error: adbc.Error) -> str:
    """The server's or libpq's own words on one line, without the driver's prefix and the query it echoes."""
    text = str(error).split("\n\nQuery was:")[0]
    server = re.search(r"(?:ERROR|FATAL):\s+([^\n]*)", text)
    if server:
        return server.group(1).strip()
    text = re.sub(r"^[A-Z_]+: (?:\[libpq\] )?(?:Failed to [a-z ]+: )?", "", text)
    return " ".join(re.sub(r"\. SQLSTATE: \w+$", "", text.strip()).split())


def _without_password(text: str, url: str) -> str:
    """The driver's `text` with the URL's password replaced, should libpq or the server ever echo it."""
    password = urlsplit(url).password
    return text.replace(password, "***").replace(unquote(password), "***") if password else text
