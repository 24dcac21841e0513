"""Times reading a day range of orders from PostgreSQL into Arrow, by the drivers the CRM read could use.

    .venv/bin/python benchmarks/bench_crm_database.py [--orders 1000000] [--days 10] [--repeat 3] [--url URL]

Loads `--orders` generated orders spread over `--days` UTC days into `crm.orders` (a throwaway server, as the tests
start one, unless `--url` names a database it may overwrite), then reads the whole day range with each driver, the
drivers taking turns, and prints the median and fastest seconds of `--repeat` reads and the rows per second:

- ADBC's PostgreSQL driver, `fetch_arrow_table` (binary COPY decoded to Arrow in C), the driver alone and then the
  pipeline's `read_orders` (the driver plus typing by the contract, sorting and splitting into days);
- psycopg 3, `COPY (SELECT ...) TO STDOUT (FORMAT binary)` decoded by psycopg (`Copy.rows`, one Python tuple per
  row) and turned into Arrow; and `COPY ... (FORMAT csv)` parsed by pyarrow's CSV reader, psycopg's only path that
  is not row by row. psycopg is not a dependency of the project: without it only ADBC is measured.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS  # noqa: E402
from segmentation_pipeline.core.ingest.crm_database import CrmDatabase, connect, read_orders  # noqa: E402
from segmentation_pipeline.core.ingest.crm_database_load import load_crm_tables  # noqa: E402
from segmentation_pipeline_tests.postgres_server import throwaway_server  # noqa: E402

FIRST_DAY = date(2024, 3, 1)
_CASTS = {"string": "text", "timestamp": "timestamptz", "float": "float8"}


def orders_frame(orders: int, days: int) -> pd.DataFrame:
    """Seeded orders in the contract's types, ordered in time over `days` UTC days."""
    rng = np.random.default_rng(18)
    start = pd.Timestamp(FIRST_DAY, tz="UTC")
    seconds = np.sort(rng.integers(0, days * 86_400, orders))
    return pd.DataFrame(
        {
            "order_id": np.char.add("O", np.char.zfill(np.arange(orders).astype(str), 9)),
            "customer_id": np.char.add("C", np.char.zfill(rng.integers(0, 100_000, orders).astype(str), 6)),
            "ordered_at": (start + pd.to_timedelta(seconds, unit="s")).as_unit("us"),
            "amount": np.round(rng.gamma(2.0, 40.0, orders), 2),
            "currency": rng.choice(np.array(["EUR", "GBP", "USD"]), orders),
            "status": rng.choice(np.array(["completed", "cancelled", "refunded"]), orders, p=[0.9, 0.06, 0.04]),
            "channel": rng.choice(np.array(["web", "app", "store"]), orders),
            "product_category": rng.choice(np.array(["electronics", "fashion", "home", "grocery"]), orders),
        }
    ).astype({column.name: "str" for column in ORDERS.columns if column.type == "string"})


def select_sql(days: int) -> str:
    columns = ", ".join(f"{column.name}::{_CASTS[column.type]}" for column in ORDERS.columns)
    last = FIRST_DAY + timedelta(days=days)
    return f"SELECT {columns} FROM crm.orders WHERE ordered_at >= DATE '{FIRST_DAY}' AND ordered_at < DATE '{last}'"


def adbc_arrow(database: CrmDatabase, sql: str) -> int:
    with connect(database, "bench") as cursor:
        cursor.execute(sql)
        return cursor.fetch_arrow_table().num_rows


def pipeline_read(database: CrmDatabase, days: int) -> int:
    reads = read_orders(database, [FIRST_DAY + timedelta(days=offset) for offset in range(days)])
    return sum(len(read.frame) for read in reads.values())


def psycopg_binary_rows(url: str, sql: str) -> int:
    import psycopg

    with psycopg.connect(url, options="-c TimeZone=UTC") as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)") as copy:
            copy.set_types([_CASTS[column.type] for column in ORDERS.columns])
            columns = list(zip(*copy.rows(), strict=True)) or [()] * len(ORDERS.columns)
    return pa.table([pa.array(values) for values in columns], names=ORDERS.column_names).num_rows


def psycopg_csv_arrow(url: str, sql: str) -> int:
    import psycopg

    buffer = io.BytesIO()
    with psycopg.connect(url, options="-c TimeZone=UTC") as connection, connection.cursor() as cursor:
        with cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
            for chunk in copy:
                buffer.write(chunk)
    options = pacsv.ReadOptions(column_names=ORDERS.column_names)
    convert = pacsv.ConvertOptions(column_types=ORDERS.arrow_schema())
    return pacsv.read_csv(pa.py_buffer(buffer.getvalue()), read_options=options, convert_options=convert).num_rows


def interleaved_seconds(readers: dict[str, Callable[[], int]], repeat: int, rows: int) -> dict[str, list[float]]:
    """Seconds of each read, the readers taking turns so that a busy moment of a shared machine hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(repeat):
        for name, read in readers.items():
            start = time.perf_counter()
            assert read() == rows, "a read returned another number of rows"
            times[name].append(time.perf_counter() - start)
    return times


@contextmanager
def database_url(url: str | None) -> Iterator[str]:
    if url:
        yield url
    else:
        with throwaway_server() as server_url:
            yield server_url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--url", help="a database whose crm schema may be replaced (default: a throwaway server)")
    args = parser.parse_args()
    orders = orders_frame(args.orders, args.days)
    no_customers = pd.DataFrame(columns=CUSTOMERS.column_names)  # the read of orders never looks at them
    with database_url(args.url) as url:
        database = CrmDatabase(url)
        start = time.perf_counter()
        load_crm_tables(database, no_customers, orders)
        load_seconds = time.perf_counter() - start
        rate = args.orders / load_seconds
        print(f"{args.orders:,} orders over {args.days} days, loaded in {load_seconds:.2f} s ({rate:,.0f} rows/s)")
        sql = select_sql(args.days)
        readers: dict[str, Callable[[], int]] = {
            "ADBC fetch_arrow_table": lambda: adbc_arrow(database, sql),
            "ADBC + contract typing (read_orders)": lambda: pipeline_read(database, args.days),
        }
        if importlib.util.find_spec("psycopg"):
            readers["psycopg COPY binary, rows() to Arrow"] = lambda: psycopg_binary_rows(url, sql)
            readers["psycopg COPY csv, pyarrow.csv"] = lambda: psycopg_csv_arrow(url, sql)
        else:
            print("psycopg is not installed (pip install 'psycopg[binary]'): its reads are not measured")
        print(f"{args.repeat} reads of the whole day range each (median, fastest):")
        for name, seconds in interleaved_seconds(readers, args.repeat, args.orders).items():
            median = statistics.median(seconds)
            print(f"  {name:<40} {median:6.2f} s {min(seconds):6.2f} s  {args.orders / median:>10,.0f} rows/s (median)")


if __name__ == "__main__":
    main()
