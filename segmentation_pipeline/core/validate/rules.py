"""The row-level rules as SQL: one definition, run by DuckDB in the run's process and, translated by
core/engines/spark_sql.py, by Spark (README: Validation and quarantine, Running on Spark).

Each rule is a predicate over one row of the table `check_rows`: the source's typed columns and lineage, plus
- `_row`, the row's position in the batch (by day, then file name, then line), the order "earlier" means;
- `_day`, the row's partition day;
- `_known_customer`, whether its `customer_id` is a valid customer of the CRM export, and `_seen_before`, whether
  its key (a usage event's `event_id`) was validated on an earlier day: look-ups each engine makes its own way (key
  sets on DuckDB's path, joins on Spark's), so the rules stay row-local.
Parameters: `$now_us`, the run's start in microseconds since the epoch, and `$max_amount`.

The duplicate rule runs last: a key is a duplicate when an earlier row of the batch that passes every other rule
has it, or `_seen_before`. So the first *valid* delivery of a key wins, and two invalid copies are no duplicates of
each other. A rule whose predicate is NULL (a missing value) did not fail: missing values are the business of
`missing_required_value`.
"""

from __future__ import annotations

from functools import cache

from segmentation_pipeline.core.ingest.contract import DEVICE_TYPES, ORDER_STATUSES, Source
from segmentation_pipeline.core.validate.key_sets import DEDUP_COLUMNS

DUPLICATE = "duplicate"
"""The placeholder of the duplicate rule, whose predicate needs the other rules' verdicts (see `rules_query`)."""
LOOK_UP_COLUMNS = ("_known_customer", "_seen_before")
ROW_COLUMN, DAY_COLUMN = "_row", "_day"

_SPACE = r"\t\n\x0B\f\r\x1C-\x1F \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}"
EMAIL_SQL_PATTERN = rf"^[^@{_SPACE}]+@[^@{_SPACE}]+\.[^@{_SPACE}]+$"
"""`row_checks.EMAIL_PATTERN` for DuckDB's RE2 and Spark's Java regex alike: Python's `\\s` (every Unicode space)
spelled out, since RE2's and Java's `\\s` are ASCII sets that differ from each other."""
_INFINITY = "CAST('Infinity' AS DOUBLE)"
MICROSECONDS_A_DAY = 86_400_000_000


def _in(column: str, allowed: tuple[str, ...]) -> str:
    return f"lower({column}) NOT IN ({', '.join(repr(value) for value in allowed)})"


def _outside_day(column: str) -> str:
    # microseconds since the day's UTC midnight (both engines' sessions are in UTC): integers, no calendar per row
    return f"epoch_us({column}) - epoch_us(CAST({DAY_COLUMN} AS TIMESTAMP)) NOT BETWEEN 0 AND {MICROSECONDS_A_DAY - 1}"


def _in_future(column: str) -> str:
    return f"epoch_us({column}) > $now_us"


def _out_of_range(column: str, low: int, high: int) -> str:
    return f"{column} NOT BETWEEN {low} AND {high}"


_UNKNOWN_CUSTOMER = "customer_id IS NOT NULL AND NOT _known_customer"

ROW_CHECKS: dict[str, list[tuple[str, str]]] = {
    "customers": [
        ("missing_required_value", ""),
        ("duplicate_key", DUPLICATE),
        ("timestamp_in_future", _in_future("created_at")),
        ("malformed_email", f"email IS NOT NULL AND NOT regexp_matches(email, '{EMAIL_SQL_PATTERN}')"),
    ],
    "orders": [
        ("missing_required_value", ""),
        ("duplicate_key", DUPLICATE),
        ("unknown_customer", _UNKNOWN_CUSTOMER),
        ("timestamp_outside_partition", _outside_day("ordered_at")),
        ("timestamp_in_future", _in_future("ordered_at")),
        ("negative_amount", "amount < 0"),
        ("amount_not_finite", f"abs(amount) = {_INFINITY}"),
        ("amount_too_large", f"abs(amount) <> {_INFINITY} AND amount > $max_amount"),
        ("unknown_status", _in("status", ORDER_STATUSES)),
    ],
    "survey_responses": [
        ("missing_required_value", ""),
        ("duplicate_key", DUPLICATE),
        ("unknown_customer", _UNKNOWN_CUSTOMER),
        ("timestamp_outside_partition", _outside_day("submitted_at")),
        ("timestamp_in_future", _in_future("submitted_at")),
        ("nps_out_of_range", _out_of_range("nps", 0, 10)),
        ("csat_out_of_range", _out_of_range("csat", 1, 5)),
        ("price_sensitivity_out_of_range", _out_of_range("price_sensitivity", 1, 5)),
    ],
    "usage_events": [
        ("missing_required_value", ""),
        ("duplicate_event_id", DUPLICATE),
        ("unknown_customer", _UNKNOWN_CUSTOMER),
        ("timestamp_outside_partition", _outside_day("event_ts")),
        ("timestamp_in_future", _in_future("event_ts")),
        ("unknown_device_type", _in("device_type", DEVICE_TYPES)),
        ("negative_duration", "duration_s < 0"),
    ],
}
"""Each source's rules in README's order, as (name, predicate); `missing_required_value`'s predicate is made from
the contract's required columns."""

NORMALISED: dict[str, dict[str, str]] = {
    "orders": {"status": "coalesce(lower(status), 'completed')"},
    "usage_events": {"device_type": "lower(device_type)"},
}
"""Documented defaults of clean rows: a missing order status means completed; enums are lower-case."""


def rule_names(source: Source) -> list[str]:
    return [name for name, _ in ROW_CHECKS[source.name]]


def _predicates(source: Source) -> dict[str, str]:
    missing = " OR ".join(f"{column} IS NULL" for column in source.required_columns)
    return {name: predicate or missing for name, predicate in ROW_CHECKS[source.name]}


@cache
def rules_query(source: Source) -> str:
    """DuckDB SQL over `check_rows`: every row (in no order: sort by `_row`) with its columns (clean rows
    normalised), `_row` and `_day`, one BOOLEAN per rule, and `reason`, the failed rules' names comma-separated (NULL
    for a clean row). The duplicate rule compares each row of a key delivered more than once in the batch with the
    first of its rows that passes every other rule (`repeated`): a key delivered once (nearly all) joins nothing."""
    predicates = _predicates(source)
    others = [name for name, predicate in predicates.items() if predicate != DUPLICATE]
    flags = ",\n    ".join(f"coalesce({predicates[name]}, false) AS {name}" for name in others)
    key = DEDUP_COLUMNS[source.name]
    duplicates = ",\n    ".join(
        f"coalesce({key} IS NOT NULL AND (_seen_before OR _later_copy IS NOT NULL), false) AS {name}"
        for name, predicate in predicates.items()
        if predicate == DUPLICATE
    )
    reason = ", ".join(f"CASE WHEN {name} THEN '{name}' END" for name in predicates)
    lineage = ["_source_file", "_source_row"]
    normalised = NORMALISED.get(source.name, {})
    columns = ", ".join(
        f"CASE WHEN reason IS NULL THEN {normalised[column]} ELSE {column} END AS {column}"
        if column in normalised
        else column
        for column in [*source.column_names, *lineage]
    )
    passes = " OR ".join(others)
    return f"""
WITH flagged AS (
  SELECT *,
    {flags}
  FROM check_rows
), repeated AS (
  SELECT {key} AS _key, min({ROW_COLUMN}) FILTER (WHERE NOT ({passes})) AS _first_valid
  FROM flagged WHERE {key} IS NOT NULL GROUP BY {key} HAVING count(*) > 1
), later_copies AS (
  SELECT flagged.{ROW_COLUMN} AS _later_copy
  FROM flagged JOIN repeated ON flagged.{key} = repeated._key WHERE repeated._first_valid < flagged.{ROW_COLUMN}
), judged AS (
  SELECT *,
    {duplicates}
  FROM flagged LEFT JOIN later_copies ON flagged.{ROW_COLUMN} = later_copies._later_copy
), reasoned AS (
  SELECT *, CASE WHEN {" OR ".join(predicates)} THEN concat_ws(', ', {reason}) END AS reason FROM judged
)
SELECT {columns}, {ROW_COLUMN}, {DAY_COLUMN}, {", ".join(predicates)}, reason
FROM reasoned
"""


def rule_parameters(source: Source, now_us: int, max_amount: float) -> dict[str, object]:
    """The values of the parameters the source's rules use (an engine refuses a value no marker names)."""
    values = {"now_us": now_us, "max_amount": float(max_amount)}
    return {name: value for name, value in values.items() if f"${name}" in rules_query(source)}
