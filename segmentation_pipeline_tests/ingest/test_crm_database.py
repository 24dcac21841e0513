"""Tests of reading the CRM from PostgreSQL, against the session's throwaway server (no mocks): a sample loaded into
the database reads back exactly as its landing files do, days are cut at UTC midnight in the query, columns and
types are checked against the contract, and every fault is one line without the password."""

from __future__ import annotations

import socket
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, LINEAGE_FIELDS, ORDERS, Source
from segmentation_pipeline.core.ingest.crm_database import (
    CrmDatabase,
    CrmDatabaseError,
    connect,
    newest_day,
    order_day_range,
    read_customers,
    read_order_batches,
    read_orders,
    redact,
)
from segmentation_pipeline.core.ingest.crm_database_load import load_crm_tables, load_landing_crm
from segmentation_pipeline.core.ingest.landing import landing_days, read_landing
from segmentation_pipeline.sample_data.generator import generate_landing_zone
from segmentation_pipeline_tests import postgres_server
from segmentation_pipeline_tests.ingest.builders import utc

LAST_DAY = date(2026, 3, 6)
DAYS = [LAST_DAY - timedelta(days=offset) for offset in range(5, -1, -1)]
LINEAGE = [field.name for field in LINEAGE_FIELDS]


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    generate_landing_zone(root, customers=400, days=len(DAYS), seed=18, end_date=LAST_DAY)
    return root / "landing"


@pytest.fixture(scope="module")
def database(postgres_url, landing) -> CrmDatabase:
    """The sample's customers and orders in `crm.customers` and `crm.orders`."""
    database = CrmDatabase(postgres_url)
    load_landing_crm(database, landing)
    return database


def run_sql(database: CrmDatabase, *statements: str) -> None:
    with connect(database, "test") as cursor:
        for statement in statements:
            cursor.execute(statement)


def as_read_from(frame: pd.DataFrame, source: Source, lineage: str) -> pd.DataFrame:
    """Typed landing rows as the database read gives them: sorted by time, then every other contract column."""
    first = [source.timestamp_column] if source.timestamp_column else []
    keys = first + [name for name in source.column_names if name not in first]
    rows = frame.drop(columns=LINEAGE).sort_values(keys, kind="stable").reset_index(drop=True)
    rows["_source_file"] = pd.Series([lineage] * len(rows), dtype="str")
    rows["_source_row"] = np.arange(1, len(rows) + 1, dtype="int64")
    return rows


def read_first_day(database: CrmDatabase) -> dict:
    return read_orders(database, [DAYS[0]])


def fault(database: CrmDatabase, read=read_customers) -> CrmDatabaseError:
    with pytest.raises(CrmDatabaseError) as caught:
        read(database)
    return caught.value


def password(url: str) -> str:
    return url.split("//postgres:")[1].split("@")[0]


# ----------------------------------------------------------------------------------------------------------------
# round trip: the database read equals the landing read of the same rows


def test_customers_read_equals_the_landing_read_of_the_export(database, landing):
    read = read_customers(database)

    expected = as_read_from(read_landing(landing, CUSTOMERS).frame, CUSTOMERS, "crm.customers")
    pd.testing.assert_frame_equal(read.frame, expected)
    assert read.files == ["crm.customers"]
    assert read.warnings == []


def test_orders_of_each_day_equal_the_landing_rows_whose_ordered_at_falls_on_that_day(database, landing):
    reads = read_orders(database, DAYS)

    landed = pd.concat([read_landing(landing, ORDERS, day).frame for day in landing_days(landing, ORDERS)])
    assert list(reads) == DAYS
    for day, read in reads.items():
        on_day = landed[landed["ordered_at"].dt.date == day]
        pd.testing.assert_frame_equal(read.frame, as_read_from(on_day, ORDERS, f"crm.orders@{day}"))
    assert sum(len(read.frame) for read in reads.values()) == len(landed)


def test_days_that_are_not_consecutive_are_read_alike(database):
    wanted = [DAYS[4], DAYS[1], DAYS[2]]

    reads = read_orders(database, wanted)

    everything = read_orders(database, DAYS)
    assert sorted(reads) == sorted(wanted)
    for day in wanted:
        pd.testing.assert_frame_equal(reads[day].frame, everything[day].frame)


def test_loading_again_replaces_the_tables(database, landing):
    loaded = load_landing_crm(database, landing)

    landed_orders = sum(len(read_landing(landing, ORDERS, day).frame) for day in landing_days(landing, ORDERS))
    assert loaded == {"crm.customers": len(read_landing(landing, CUSTOMERS).frame), "crm.orders": landed_orders}
    assert len(read_customers(database).frame) == loaded["crm.customers"]
    assert sum(len(read.frame) for read in read_orders(database, DAYS).values()) == landed_orders


# ----------------------------------------------------------------------------------------------------------------
# day bounds, table names, column types


def orders(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows).reindex(columns=ORDERS.column_names)
    return frame.astype({"order_id": "str", "customer_id": "str", "ordered_at": "datetime64[us, UTC]", "amount": float})


def tokyo(url: str) -> str:
    """The URL with a session time zone of its own, which the reader's UTC must win over."""
    return f"{url}?options=-c%20TimeZone%3DAsia/Tokyo"


def test_a_day_is_read_from_its_utc_midnight_up_to_the_next_one_only(postgres_url):
    database = CrmDatabase(tokyo(postgres_url), customers_table="bounds.customers", orders_table="bounds.orders")
    day = date(2026, 3, 1)
    load_crm_tables(
        database,
        pd.DataFrame(columns=CUSTOMERS.column_names),
        orders(
            [
                {
                    "order_id": "before",
                    "customer_id": "c",
                    "ordered_at": utc("2026-02-28T23:59:59.999999Z"),
                    "amount": 1,
                },
                {"order_id": "first", "customer_id": "c", "ordered_at": utc("2026-03-01T00:00:00Z"), "amount": 2},
                {"order_id": "offset", "customer_id": "c", "ordered_at": utc("2026-03-01T23:30:00-00:30"), "amount": 3},
                {"order_id": "last", "customer_id": "c", "ordered_at": utc("2026-03-01T23:59:59.999999Z"), "amount": 4},
                {"order_id": "after", "customer_id": "c", "ordered_at": utc("2026-03-02T00:00:00Z"), "amount": 5},
            ]
        ),
    )

    reads = read_orders(database, [day])

    assert list(reads) == [day]
    assert reads[day].frame["order_id"].tolist() == ["first", "last"]
    assert reads[day].frame["_source_file"].tolist() == ["bounds.orders@2026-03-01"] * 2
    assert read_orders(database, [date(2026, 3, 2)])[date(2026, 3, 2)].frame["order_id"].tolist() == ["after", "offset"]


def test_a_backfill_is_read_in_batches_of_consecutive_days_bounded_by_rows(database):
    per_day = {day: len(read.frame) for day, read in read_orders(database, DAYS).items()}
    largest_pair = max(per_day[a] + per_day[b] for a, b in zip(DAYS, DAYS[1:], strict=False))

    batches = list(read_order_batches(database, DAYS, max_rows=largest_pair))

    assert [day for batch in batches for day in batch] == DAYS
    assert all(sum(len(read.frame) for read in batch.values()) <= largest_pair for batch in batches)
    assert 1 < len(batches) < len(DAYS)  # the day counts pack two or more days into some batches
    assert [list(batch) for batch in read_order_batches(database, DAYS, max_rows=0)] == [[day] for day in DAYS]


def test_orders_without_an_ordered_at_are_counted_in_one_warning_and_the_range_ignores_them(postgres_url):
    database = CrmDatabase(postgres_url, customers_table="undated.customers", orders_table="undated.orders")
    dated = {"customer_id": "c", "amount": 1.0}
    load_crm_tables(
        database,
        pd.DataFrame(columns=CUSTOMERS.column_names),
        orders(
            [
                {"order_id": "a", "ordered_at": utc("2026-03-01T10:00:00Z"), **dated},
                {"order_id": "b", "ordered_at": utc("2026-03-03T10:00:00Z"), **dated},
                {"order_id": "c", "ordered_at": None, **dated},
                {"order_id": "d", "ordered_at": None, **dated},
            ]
        ),
    )
    days = [date(2026, 3, 1), date(2026, 3, 2), date(2026, 3, 3)]

    reads = read_orders(database, days)

    assert [len(reads[day].frame) for day in days] == [1, 0, 1]
    warning = "undated.orders: 2 row(s) without an ordered_at skipped: no day"
    assert [read.warnings for read in reads.values()] == [[warning], [], []]
    assert order_day_range(database) == (date(2026, 3, 1), date(2026, 3, 3))
    assert newest_day(Path("/nonexistent"), database, ORDERS) == date(2026, 3, 3)


def test_types_that_fit_the_contract_are_read_as_its_types_and_extra_columns_are_reported(postgres_url):
    """Naive timestamps and dates are UTC whatever the session's time zone; integer ids read as digits; text is
    trimmed and an empty string is missing, as in a landing file."""
    database = CrmDatabase(tokyo(postgres_url), customers_table="typed.customers", orders_table="typed.orders")
    run_sql(
        database,
        "DROP SCHEMA IF EXISTS typed CASCADE",
        "CREATE SCHEMA typed",
        "CREATE TYPE typed.order_status AS ENUM ('completed', 'cancelled')",
        "CREATE DOMAIN typed.money AS numeric(10, 2)",
        "CREATE TABLE typed.orders (order_id bigint, customer_id varchar(10), ordered_at timestamp, amount typed.money,"
        " status typed.order_status, notes text, channel char(6))",
        "INSERT INTO typed.orders VALUES (7, ' c1 ', '2026-03-01 23:00', 12.5, 'cancelled', 'x', 'web'),"
        " (8, 'c2', '2026-03-02 00:00', 3, NULL, NULL, '')",
        "CREATE TABLE typed.customers (customer_id integer, created_at date, birth_year smallint,"
        " marketing_opt_in boolean, country varchar)",
        "INSERT INTO typed.customers VALUES (1, '2025-01-31', 1980, true, ''), (2, '2025-02-01', NULL, NULL, 'DE')",
    )

    read = read_orders(database, [date(2026, 3, 1)])[date(2026, 3, 1)]
    customers = read_customers(database).frame

    assert read.warnings == ["typed.orders: unknown column(s) ignored: notes"]
    assert read.frame.columns.tolist() == [*ORDERS.column_names, *LINEAGE]
    assert read.frame.iloc[0][["order_id", "customer_id", "ordered_at", "amount", "status", "channel"]].tolist() == [
        "7",
        "c1",
        utc("2026-03-01T23:00:00Z"),
        12.5,
        "cancelled",
        "web",
    ]
    assert read.frame[["currency", "product_category"]].isna().all().all()
    assert len(read.frame) == 1
    assert customers["customer_id"].tolist() == ["1", "2"]
    assert customers["created_at"].tolist() == [utc("2025-01-31"), utc("2025-02-01")]
    assert customers["birth_year"].tolist() == [1980, pd.NA]
    assert customers["marketing_opt_in"].tolist() == [True, pd.NA]
    assert customers["country"].isna().tolist() == [True, False]


# ----------------------------------------------------------------------------------------------------------------
# faults: one line naming the table (and column), never the password; transient ones say so


def shown(url: str) -> str:
    return url.replace(password(url), "***")


def test_a_refused_connection_is_transient(postgres_url):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = postgres_url.replace(postgres_url.split("@")[1].split("/")[0], f"127.0.0.1:{port}")

    error = fault(CrmDatabase(url))

    assert str(error) == (
        f'crm.customers: cannot connect to the CRM database {shown(url)}: connection to server at "127.0.0.1", '
        f"port {port} failed: Connection refused Is the server running on that host and accepting TCP/IP connections?"
    )
    assert error.transient


def test_a_wrong_password_is_permanent_and_never_shown(postgres_url):
    url = postgres_url.replace(password(postgres_url), "not-the-password")

    error = fault(CrmDatabase(url), read_first_day)

    assert str(error) == (
        f"crm.orders: cannot connect to the CRM database {shown(url)}: "
        'password authentication failed for user "postgres"'
    )
    assert "not-the-password" not in str(error) and password(postgres_url) not in str(error)
    assert not error.transient


def test_a_missing_table_is_named(database):
    error = fault(CrmDatabase(database.url, orders_table="crm.order_lines"), read_first_day)

    assert str(error) == (
        f"crm.order_lines: no such table or view in the CRM database {shown(database.url)}; create it, or configure "
        "the orders table's name (schema.table)"
    )
    assert not error.transient


def test_a_missing_required_column_is_named_with_the_columns_found(database):
    run_sql(
        database,
        "CREATE OR REPLACE VIEW crm.orders_without_amount AS SELECT order_id, customer_id, ordered_at FROM crm.orders",
    )

    error = fault(CrmDatabase(database.url, orders_table="crm.orders_without_amount"), read_first_day)

    assert str(error) == (
        "crm.orders_without_amount: required column(s) 'amount' missing; found columns: order_id, customer_id, "
        "ordered_at"
    )


def test_a_column_whose_type_does_not_fit_the_contract_is_named_with_the_types_that_fit(database):
    run_sql(
        database,
        "CREATE OR REPLACE VIEW crm.customers_typed_badly AS SELECT customer_id, created_at::text AS created_at,"
        " 'yes'::text AS marketing_opt_in FROM crm.customers",
    )

    error = fault(CrmDatabase(database.url, customers_table="crm.customers_typed_badly"))

    assert str(error) == (
        "crm.customers_typed_badly: column 'created_at' is text, which does not fit the contract's timestamp (use "
        "timestamp with time zone, timestamp without time zone, date); column 'marketing_opt_in' is text, which "
        "does not fit the contract's bool (use boolean); or cast the column in a view"
    )
    assert not error.transient


def test_a_read_longer_than_the_statement_timeout_is_cancelled(database):
    run_sql(database, "CREATE OR REPLACE VIEW crm.slow_orders AS SELECT o.* FROM crm.orders o, pg_sleep(30)")
    slow = CrmDatabase(database.url, orders_table="crm.slow_orders", statement_timeout_s=0.2)

    error = fault(slow, read_first_day)

    assert str(error) == (
        f"crm.slow_orders (ordered_at from {DAYS[0]} to {DAYS[0]}): cancelled by the statement timeout of 0.2 s "
        "(canceling statement due to statement timeout); raise the timeout, or make the table faster to read (an "
        "index on its day column)"
    )
    assert not error.transient


@pytest.mark.parametrize(
    ("view", "reason"),
    [
        ("SELECT c.* FROM crm.customers c, crm.refuse_serially()", "could not serialize access"),
        (
            "SELECT c.* FROM crm.customers c WHERE pg_terminate_backend(pg_backend_pid())",
            "terminating connection due to administrator command",
        ),
    ],
    ids=["serialization failure", "connection lost"],
)
def test_a_serialization_failure_or_a_lost_connection_is_transient(database, view, reason):
    run_sql(
        database,
        "CREATE OR REPLACE FUNCTION crm.refuse_serially() RETURNS int LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'could not serialize access' USING ERRCODE = 'serialization_failure'; END $$",
        f"CREATE OR REPLACE VIEW crm.flaky_customers AS {view}",
    )

    error = fault(CrmDatabase(database.url, customers_table="crm.flaky_customers"))

    assert str(error) == f"crm.flaky_customers: the CRM database {shown(database.url)} reported: {reason}"
    assert error.transient


def test_too_many_connections_is_transient(database):
    run_sql(
        database,
        "DROP ROLE IF EXISTS crowded",
        "CREATE ROLE crowded LOGIN PASSWORD 'crowded-secret' CONNECTION LIMIT 0",
    )
    url = database.url.replace(f"postgres:{password(database.url)}@", "crowded:crowded-secret@")

    error = fault(CrmDatabase(url))

    assert str(error) == (
        "crm.customers: cannot connect to the CRM database "
        f'{url.replace("crowded-secret", "***")}: too many connections for role "crowded"'
    )
    assert error.transient


def test_a_url_that_is_not_a_postgresql_url_is_not_echoed():
    error = fault(CrmDatabase("host=db user=crm password=hunter2"))

    assert str(error) == "the CRM database URL must start with postgresql:// (e.g. postgresql://user@host/crm)"


def test_redact_hides_the_password_of_the_user_part_and_of_the_options():
    assert redact("postgresql://crm:s3cr%40t@db:5432/crm?password=other&sslmode=require") == (
        "postgresql://crm:***@db:5432/crm?password=***&sslmode=require"
    )
    assert redact("postgresql://crm@db/crm") == "postgresql://crm@db/crm"
    assert "s3cr" not in repr(CrmDatabase("postgresql://crm:s3cr@db/crm"))


def test_without_the_server_binaries_the_fixture_fails_with_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(postgres_server, "POSTGRES_BIN", tmp_path)

    with pytest.raises(postgres_server.ServerError) as caught, postgres_server.throwaway_server():
        pass

    assert str(caught.value) == (
        f"no PostgreSQL server binaries in {tmp_path}: install Debian's postgresql package "
        "(apt-get install postgresql) to run the database tests"
    )
