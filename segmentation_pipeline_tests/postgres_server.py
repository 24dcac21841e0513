"""A throwaway PostgreSQL server for the tests that need a real one (a pytest plugin: `postgres_url`).

The cluster lives in a temporary folder and listens on a free port of 127.0.0.1 only; the machine's own clusters are
never touched. The server refuses to run as root, so under root (CI) every server command runs as the `postgres`
user that Debian's package creates. Missing binaries fail the tests that need them, never skip them: a skipped
database test would hide a broken read in CI.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import pytest

POSTGRES_BIN = Path("/usr/lib/postgresql/15/bin")
DATABASE = "crm"
_FAST_UNSAFE = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"  # a test cluster is never recovered


class ServerError(RuntimeError):
    """The throwaway server could not be set up; the message says what to do."""


@contextmanager
def throwaway_server(durable: bool = False) -> Iterator[str]:
    """A running server with an empty `crm` database, as a URL with the superuser's password; stopped and removed
    on exit. Tests run it without fsync; `durable` keeps PostgreSQL's defaults (for benchmarks)."""
    if not (POSTGRES_BIN / "pg_ctl").is_file():
        raise ServerError(
            f"no PostgreSQL server binaries in {POSTGRES_BIN}: install Debian's postgresql package "
            "(apt-get install postgresql) to run the database tests"
        )
    work = Path(tempfile.mkdtemp(prefix="pg-"))
    run_as = "postgres" if os.geteuid() == 0 else None
    if run_as:
        shutil.chown(work, user=run_as)
    password, port = secrets.token_hex(12), _free_port()
    data, log = work / "data", work / "server.log"
    try:
        (work / "password").write_text(password)
        _run(["initdb", "-D", data, "-U", "postgres", "--pwfile", work / "password", "--auth-local=trust",
              "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"], run_as, work)  # fmt: skip
        options = f"-p {port} -k {work} -c listen_addresses=127.0.0.1" + ("" if durable else f" {_FAST_UNSAFE}")
        _run(["pg_ctl", "-D", data, "-o", options, "-l", log, "-w", "start"], run_as, work, log)
        try:
            _run(["createdb", "-h", work, "-p", str(port), "-U", "postgres", DATABASE], run_as, work)
            yield f"postgresql://postgres:{password}@127.0.0.1:{port}/{DATABASE}"
        finally:
            _run(["pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], run_as, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of the session's throwaway server (see `throwaway_server`)."""
    problem = None
    try:
        with throwaway_server() as url:
            yield url
    except ServerError as error:
        problem = str(error)
    if problem:  # failed outside the handler, so that the error is shown once, without its chain
        pytest.fail(problem, pytrace=False)


def create_database(url: str, name: str) -> str:
    """Create the empty database `name` on the server of `url`; returns its URL (same user and password)."""
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(url)
    try:
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        with connection.cursor() as cursor:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def dagster_pg_env(url: str) -> dict[str, str]:
    """The `DAGSTER_PG_*` variables of the shipped PostgreSQL instance (`segmentation_pipeline/instance`) for `url`."""
    parts = urlsplit(url)
    return {
        "DAGSTER_PG_USERNAME": unquote(parts.username or ""),
        "DAGSTER_PG_PASSWORD": unquote(parts.password or ""),
        "DAGSTER_PG_HOST": parts.hostname or "",
        "DAGSTER_PG_DB": parts.path.lstrip("/"),
        "DAGSTER_PG_PORT": str(parts.port or 5432),
    }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run(command: list[object], run_as: str | None, cwd: Path, log: Path | None = None) -> None:
    """Run a server binary (as `run_as` if given); a failure shows its output and the server log's end."""
    argv = [str(POSTGRES_BIN / str(command[0])), *map(str, command[1:])]
    as_user = {"user": run_as, "group": run_as, "extra_groups": []} if run_as else {}  # what `su postgres` does
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, **as_user)
    if done.returncode:
        tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise ServerError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()} {tail}".strip())
