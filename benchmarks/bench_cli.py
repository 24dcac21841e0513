"""`segmentation-pipeline run` timed as a user runs it, with where the time goes.

    .venv/bin/python benchmarks/bench_cli.py                                  # the quickstart: a fresh copy of data/
    .venv/bin/python benchmarks/bench_cli.py --customers 200000 --days 400    # a generated zone: initial + nightly
    .venv/bin/python benchmarks/bench_cli.py --instance postgres              # the same on the PostgreSQL instance

On the bundled sample, one command does everything (`make run`). On a generated zone, the first command ingests
every day but the last and publishes the day before it (the initial load), the second ingests the last day and
publishes it (the next-day nightly). Each command runs in its own process and is reported with its wall time, the
time before its first Dagster run starts (interpreter, imports, Dagster start-up), each Dagster run with its slowest
steps, and the time and number of its writes to the Dagster event log.

`--instance sqlite` (the default) is the local instance the CLI writes under the data root; `--instance postgres` is
the shipped production instance (`segmentation_pipeline/instance/postgres/dagster.yaml`) in a fresh database,
dropped at the end: on the server of the DAGSTER_PG_* variables if DAGSTER_PG_HOST is set (the user needs CREATEDB),
else on a throwaway local server started like the tests' (Debian's `postgresql` package), with PostgreSQL's default
durability (fsync on, unlike the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, help="generate a zone of this many customers instead of data/")
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--instance", choices=["sqlite", "postgres"], default="sqlite", help="the Dagster instance")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        return _timed_cli(args.child)
    sqlite = nullcontext(({}, "SQLite under the data root"))
    instance = postgres_instance() if args.instance == "postgres" else sqlite
    with tempfile.TemporaryDirectory() as folder, instance as (instance_env, instance_name):
        root = Path(folder) / "data"
        if instance_env:
            from segmentation_pipeline.instance import POSTGRES_DAGSTER_YAML

            (root / ".dagster").mkdir(parents=True)
            shutil.copy(POSTGRES_DAGSTER_YAML, root / ".dagster" / "dagster.yaml")
        if args.customers is None:
            shutil.copytree(REPO / "data" / "landing", root / "landing")
            commands = {"quickstart (make run)": []}
        else:
            end = date.today() - timedelta(days=1)
            _generate(root, args.customers, args.days, end)
            commands = {"initial load": ["--as-of", (end - timedelta(days=1)).isoformat()], "next-day nightly": []}
        print(f"segmentation-pipeline run on {root} ({_zone(args)}), Dagster instance: {instance_name}")
        for name, extra in commands.items():
            _report(name, _run(root, extra, instance_env))


@contextmanager
def postgres_instance() -> Iterator[tuple[dict[str, str], str]]:
    """The DAGSTER_PG_* variables of a fresh, empty database (so no earlier run counts as done), dropped on exit,
    and where it is."""
    names = ("DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_HOST", "DAGSTER_PG_DB", "DAGSTER_PG_PORT")
    sys.path.insert(0, str(REPO))
    from segmentation_pipeline_tests.postgres_server import create_database, dagster_pg_env, throwaway_server

    if os.environ.get("DAGSTER_PG_HOST"):
        given = {name: os.environ.get(name, "") for name in names}
        userinfo = quote(given["DAGSTER_PG_USERNAME"]) + (
            f":{quote(given['DAGSTER_PG_PASSWORD'])}" if given["DAGSTER_PG_PASSWORD"] else ""
        )
        port = given["DAGSTER_PG_PORT"] or "5432"
        server = nullcontext(f"postgresql://{userinfo}@{given['DAGSTER_PG_HOST']}:{port}/{given['DAGSTER_PG_DB']}")
        kind = "the DAGSTER_PG_* server"
    else:
        server, kind = throwaway_server(durable=True), "a throwaway local server"
    with server as url:
        name = f"segmentation_bench_{secrets.token_hex(4)}"
        database = create_database(url, name)
        try:
            env = dagster_pg_env(database)
            yield env, f"PostgreSQL {env['DAGSTER_PG_HOST']}:{env['DAGSTER_PG_PORT']}/{name} on {kind}"
        finally:
            _drop_database(url, name)


def _drop_database(url: str, name: str) -> None:
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(url)
    try:
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        connection.close()


def _zone(args) -> str:
    if args.customers is None:
        return "a fresh copy of the bundled sample"
    return f"generated: {args.customers:,} customers, {args.days} days"


def _generate(root: Path, customers: int, days: int, end: date) -> None:
    command = [sys.executable, "-m", "segmentation_pipeline.cli", "sample-data", "--out", str(root)]
    options = ["--customers", str(customers), "--days", str(days), "--end-date", end.isoformat()]
    started = time.monotonic()
    subprocess.run([*command, *options], check=True, stdout=subprocess.DEVNULL)
    print(f"generated the landing zone in {time.monotonic() - started:.0f} s")


def _run(root: Path, extra: list[str], instance_env: dict[str, str]) -> dict:
    """One CLI command in a fresh process; its figures come back as the last line of its output."""
    command = [sys.executable, __file__, "--child", "run", "--data-dir", str(root), *extra]
    env = dict(os.environ)
    if instance_env:  # the PostgreSQL instance's yaml is in the data root's default DAGSTER_HOME
        env |= instance_env | {"DAGSTER_HOME": str(root / ".dagster")}
    else:
        env.pop("DAGSTER_HOME", None)
    started = time.monotonic()
    done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return figures | {"wall": time.monotonic() - started}


def _timed_cli(argv: list[str]) -> None:
    """Run the CLI in this process, timing every write to the event log; print the figures as JSON."""
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from dagster_postgres.event_log import PostgresEventLogStorage

    writes = {"seconds": 0.0, "events": 0}

    def timed(store_event):
        def timed_store_event(self, event):
            started = time.perf_counter()
            try:
                return store_event(self, event)
            finally:
                writes["seconds"] += time.perf_counter() - started
                writes["events"] += 1

        return timed_store_event

    for storage in (SqliteEventLogStorage, PostgresEventLogStorage):
        storage.store_event = timed(storage.store_event)
    from segmentation_pipeline.cli import main

    started_at = time.time()
    code = main(argv)
    if code:
        raise SystemExit(code)
    print(json.dumps({"runs": _runs(started_at), "event_writes": writes}))


def _runs(since: float) -> list[dict]:
    import dagster as dg

    instance = dg.DagsterInstance.get()
    records = [record for record in instance.get_run_records() if record.create_timestamp.timestamp() >= since]
    runs = []
    for record in sorted(records, key=lambda record: record.create_timestamp):
        steps = instance.get_run_step_stats(record.dagster_run.run_id)
        durations = {step.step_key: (step.end_time or 0) - (step.start_time or 0) for step in steps}
        runs.append(
            {
                "job": record.dagster_run.job_name,
                "created": record.create_timestamp.timestamp() - since,
                "seconds": (record.end_time or 0) - (record.start_time or 0),
                "steps": dict(sorted(durations.items(), key=lambda item: -item[1])[:4]),
            }
        )
    return runs


def _report(name: str, figures: dict) -> None:
    runs, writes = figures["runs"], figures["event_writes"]
    print(f"\n{name}: {figures['wall']:.1f} s wall")
    print(f"  before the first run (interpreter, imports, Dagster start-up): {runs[0]['created']:.1f} s")
    for run in runs:
        steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in run["steps"].items())
        print(f"  {run['job']:<20} {run['seconds']:6.1f} s   slowest steps (s): {steps}")
    print(f"  Dagster event-log writes: {writes['events']:,} events, {writes['seconds']:.1f} s (within the runs)")


if __name__ == "__main__":
    main()
