"""One in-memory DuckDB database per process, and a cursor of its own for each use.

Opening a DuckDB database costs about as much as checking a small day's rows, and the per-day steps of a backfill
open one several times per day; a cursor on a database opened once costs a few percent of that. A cursor is a
connection of its own: its registered tables and session settings (such as the time zone) are invisible to other
cursors, so users never see each other's state. Callers that create catalog objects (views, tables) open a database
of their own instead."""

from __future__ import annotations

from functools import cache

import duckdb


@cache
def _database() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def duckdb_cursor() -> duckdb.DuckDBPyConnection:
    """A fresh connection to the process's database, in UTC; use it as a context manager to close it."""
    cursor = _database().cursor()
    cursor.execute("SET TimeZone = 'UTC'")
    return cursor
