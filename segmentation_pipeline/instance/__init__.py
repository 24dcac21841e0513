"""The Dagster instance configurations shipped with the package.

`postgres/dagster.yaml` is the production instance: run, event-log and schedule storage in PostgreSQL, connected
through the `DAGSTER_PG_*` environment variables (README: Production deployment). `make ui-postgres` copies it into
its DAGSTER_HOME; any other deployment copies it the same way.
"""

from pathlib import Path

POSTGRES_DAGSTER_YAML = Path(__file__).parent / "postgres" / "dagster.yaml"
POSTGRES_ENV = ("DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_HOST", "DAGSTER_PG_DB", "DAGSTER_PG_PORT")
"""The variables the PostgreSQL instance reads its connection from; all must be set (the password may be empty)."""
