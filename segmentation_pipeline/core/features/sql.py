"""The feature and rollup SQL, kept in `.sql` files beside this module (one per CTE group, as dbt projects do) so the
definitions read as SQL and can be run by another engine."""

from __future__ import annotations

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent / "sql"
FEATURE_CTE_GROUPS = ("customers", "purchase_periods", "orders", "usage", "survey")
"""The CTE groups of the feature query, in dependency order; `features/select.sql` is its final SELECT."""


@cache
def sql(name: str) -> str:
    """The statement or CTE group in `sql/<name>.sql`, without its leading comment lines."""
    lines = (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8").splitlines()
    while lines and lines[0].startswith("--"):
        lines.pop(0)
    return "\n".join(lines).strip()


def features_sql() -> str:
    """The feature query: the CTE groups of `sql/features/`, then its SELECT."""
    ctes = ",\n".join(sql(f"features/{group}") for group in FEATURE_CTE_GROUPS)
    return f"WITH\n{ctes}\n{sql('features/select')}"


def purchase_days_sql() -> str:
    """Every customer's purchase days up to `$snapshot` (`customer_id`, `day`, `spend`): the feature query's purchase
    periods, which the value model is fitted and checked on."""
    select = "SELECT customer_id, day, CAST(spend AS DOUBLE) AS spend FROM purchase_periods"
    return f"WITH\n{sql('features/purchase_periods')}\n{select}"
