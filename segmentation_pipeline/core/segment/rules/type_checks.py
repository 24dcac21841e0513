"""Type checks of parsed segment rules against a schema of column kinds, so a wrong rule fails when it is loaded.

Kinds (see ``schema_of``):

- ``number`` columns compare with numbers (all six operators, ``in``);
- ``string`` columns compare with quoted text, with ``==``, ``!=``, ``in``, ``not in`` only (text has no order;
  comparisons are exact and case-sensitive);
- ``bool`` columns compare with ``true``/``false`` (``==``, ``!=``, ``in``) or stand alone (``is_b2b``);
- ``date`` columns compare with a quoted ``"YYYY-MM-DD"`` (all six operators, ``in``), on the calendar day:
  a timestamp column's time of day is ignored.
- ``null`` is only used as ``column is null`` / ``column is not null``.

Every message names the problem in the marketers' terms and `with_caret` shows the rule with a caret under it.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any

import pandas as pd

from segmentation_pipeline.core.errors import MAX_PROBLEM_CHARS, bounded
from segmentation_pipeline.core.segment.rules.syntax import (
    BoolColumn,
    Comparison,
    Expression,
    InList,
    IsNull,
    Literal,
    conditions_of,
)

NUMBER, STRING, BOOL, DATE = "number", "string", "bool", "date"
KINDS = (NUMBER, STRING, BOOL, DATE)
_KIND_LABEL = {NUMBER: "a number", STRING: "a text", BOOL: "a true/false", DATE: "a date"}
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
CARET_WINDOW = 100
"""At most this many characters of a rule's line are shown above the caret, so a 1 MB rule is not echoed whole."""


def schema_of(frame: pd.DataFrame) -> dict[str, str]:
    """Column kind (number, string, bool, date) of every column a rule can use; other columns are left out."""
    schema = {}
    for name, series in frame.items():
        if isinstance(name, str):
            kind = _kind_of(series)
            if kind:
                schema[name] = kind
    return schema


def _kind_of(series: pd.Series) -> str | None:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _kind_of(pd.Series(dtype.categories))
    if pd.api.types.is_bool_dtype(dtype):
        return BOOL
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMBER
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATE
    if dtype == object:  # noqa: E721 (object columns: look at the values)
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return {
            "string": STRING,
            "empty": STRING,
            "boolean": BOOL,
            "integer": NUMBER,
            "floating": NUMBER,
            "mixed-integer-float": NUMBER,
            "decimal": NUMBER,
            "date": DATE,
            "datetime": DATE,
            "datetime64": DATE,
        }.get(inferred)
    if pd.api.types.is_string_dtype(dtype):
        return STRING
    return None


def type_problems(expression: Expression, schema: dict[str, str]) -> list[tuple[str, int]]:
    """Every type problem of a parsed rule, as (message, position)."""
    problems: list[tuple[str, int]] = []

    def kind(column: str, pos: int) -> str | None:
        if column in schema:
            return schema[column]
        problems.append((_unknown_column(column, schema), pos))
        return None

    for node in conditions_of(expression):
        if isinstance(node, IsNull):
            kind(node.column, node.pos)
        elif isinstance(node, BoolColumn):
            column_kind = kind(node.column, node.pos)
            if column_kind and column_kind != BOOL:
                problems.append(
                    (
                        f"column '{node.column}' is {_KIND_LABEL[column_kind]} column, so it cannot stand alone as a "
                        f"condition; compare it, e.g. {_example(node.column, column_kind)}",
                        node.pos,
                    )
                )
        elif isinstance(node, Comparison):
            column_kind = kind(node.column, node.pos)
            if column_kind:
                problem = _check_literal(node.column, column_kind, node.op, node.value, node.pos)
                if problem:
                    problems.append(problem)
        elif isinstance(node, InList):
            column_kind = kind(node.column, node.pos)
            if column_kind:
                for value in node.values:
                    problem = _check_literal(node.column, column_kind, "in", value, node.pos)
                    if problem:
                        problems.append(problem)

    return problems


def _unknown_column(column: str, schema: dict[str, str]) -> str:
    by_folded = {}
    for name in schema:
        by_folded.setdefault(name.casefold(), name)
    close = [by_folded[m] for m in difflib.get_close_matches(column.casefold(), list(by_folded), n=3, cutoff=0.6)]
    if not close:
        return f"unknown column '{column}'"
    quoted = [f"'{name}'" for name in close]
    options = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"unknown column '{column}' (did you mean {options}?)"


def _example(column: str, kind: str) -> str:
    return {NUMBER: f"'{column} > 0'", STRING: f"'{column} == \"...\"'", DATE: f"'{column} >= \"2026-01-01\"'"}[kind]


def _literal_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _literal_kind(value: Any) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    return STRING


def _check_literal(column: str, kind: str, op: str, literal: Literal, column_pos: int) -> tuple[str, int] | None:
    """A problem with comparing `column` to `literal` with `op`; the caret goes under the value, or under the
    column when the operator itself cannot be used on it."""
    value, pos = literal.value, literal.pos
    if value is None:
        return (f"null is not a value to compare with; write '{column} is null' or '{column} is not null'", pos)
    if op in ("<", "<=", ">", ">=") and kind == BOOL:
        return (
            f"'{op}' cannot be used on the true/false column '{column}'; use '{column}', 'not {column}' "
            f"or '{column} == false'",
            column_pos,
        )
    if op in ("<", "<=", ">", ">=") and kind == STRING:
        return (
            f"'{op}' cannot be used on the text column '{column}' (text has no order); use ==, !=, in or not in",
            column_pos,
        )
    value_kind, shown = _literal_kind(value), _literal_text(value)
    what = {NUMBER: "a number", STRING: "text", BOOL: "true/false"}[value_kind]
    if kind == NUMBER and value_kind != NUMBER:
        hint = "; write numbers without quotes" if value_kind == STRING else ""
        return (f"column '{column}' is a number column, but {shown} is {what}{hint}", pos)
    if kind == STRING and value_kind != STRING:
        return (
            f"column '{column}' is a text column, but {shown} is {what}; write text in quotes, e.g. \"{shown}\"",
            pos,
        )
    if kind == BOOL and value_kind != BOOL:
        return (f"column '{column}' is a true/false column, but {shown} is {what}; use true or false", pos)
    if kind == DATE and (value_kind != STRING or parse_date(value) is None):
        return (
            f"column '{column}' is a date column; compare it with a date in quotes written \"YYYY-MM-DD\", not {shown}",
            pos,
        )
    return None


def parse_date(text: str) -> dt.date | None:
    """The day written strictly as YYYY-MM-DD, or None: the one date format of rules and manual assignments."""
    if not _DATE_RE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def with_caret(prefix: str, message: str, text: str, pos: int) -> str:
    """The message followed by the rule's line at `pos` with a caret under it, so the reader sees where; a long
    line is shown only around the caret and a long message is cut, so the problem stays within 1,000 characters."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : end if end >= 0 else len(text)].replace("\t", " ")
    shown, column = _window(line, pos - start)
    caret = f"\n    {shown}\n    {' ' * column}^"
    return bounded(f"{prefix}: {message}", MAX_PROBLEM_CHARS - len(caret)) + caret


def _window(line: str, column: int) -> tuple[str, int]:
    """At most CARET_WINDOW characters of `line` around `column`, '…' marking each cut end, and the caret's
    column within what is shown."""
    if len(line) <= CARET_WINDOW:
        return line, column
    first = min(max(column - CARET_WINDOW // 2, 0), len(line) - CARET_WINDOW)
    last = first + CARET_WINDOW
    before, after = ("…" if first > 0 else ""), ("…" if last < len(line) else "")
    return before + line[first:last] + after, column - first + len(before)
