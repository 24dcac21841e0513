"""Manual segment assignments: a CSV maintained by account managers, ``customer_id,segment[,expires_on][,note]``.

``expires_on`` (YYYY-MM-DD, empty = never) is the first day the assignment no longer applies: it is active on
snapshot day D only when D < expires_on. ``note`` is free text for the account managers and ignored. Every
problem of the file is reported at once, naming file, line and column, so one round of fixes is enough.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from segmentation_pipeline.core.errors import quoted
from segmentation_pipeline.core.segment.rules.evaluation import (
    MANUAL_MEMBERSHIP,
    MEMBERSHIP_KIND_COLUMN,
    empty_memberships,
)
from segmentation_pipeline.core.segment.rules.loader import read_utf8_text
from segmentation_pipeline.core.segment.rules.syntax import RuleError
from segmentation_pipeline.core.segment.rules.type_checks import parse_date

_REQUIRED_COLUMNS = ("customer_id", "segment")
_ALLOWED_COLUMNS = ("customer_id", "segment", "expires_on", "note")


@dataclass(frozen=True)
class ManualAssignments:
    assignments: pd.DataFrame  # active ones: customer_id, segment, source="manual", sorted
    unknown_customers: list[str]  # ids not among the known customers (their rows are left out)
    expired: int  # (customer_id, segment) pairs of known customers left out because they expired by as_of


def load_manual_assignments(path: Path, known_customers: pd.Index | set, as_of: dt.date) -> ManualAssignments:
    """Read the account managers' CSV; raises RuleError naming file, line and column of every problem."""
    table = read_manual_assignments(path)
    known = known_customers if isinstance(known_customers, pd.Index) else pd.Index(list(known_customers))
    is_known = table["customer_id"].isin(known).to_numpy(dtype=bool) if len(table) else np.zeros(0, dtype=bool)
    return active_assignments(table, sorted(set(table.loc[~is_known, "customer_id"])), as_of)


def read_manual_assignments(path: Path) -> pd.DataFrame:
    """Every row of the account managers' CSV as (customer_id, segment, expires_on; `date.max` for none), before the
    known customers and `as_of` are applied; raises RuleError naming file, line and column of every problem."""
    label = str(path)
    text = read_utf8_text(Path(path))
    try:
        records = _read_manual_rows(text, label)
    except csv.Error as error:
        raise RuleError(f"{label}: not valid CSV: {error}", label) from None
    return pd.DataFrame(records, columns=["customer_id", "segment", "expires_on"])


def active_assignments(table: pd.DataFrame, unknown_customers: list[str], as_of: dt.date) -> ManualAssignments:
    """The assignments of `table` (`read_manual_assignments`) in force on `as_of`, leaving out `unknown_customers`
    (sorted ids of the table not among the snapshot's customers)."""
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    is_known = ~table["customer_id"].isin(unknown_customers).to_numpy(dtype=bool)
    latest = table[is_known].groupby(["customer_id", "segment"], sort=True)["expires_on"].max()
    active = latest[latest > as_of]
    assignments = pd.DataFrame(
        {
            "customer_id": pd.Series(active.index.get_level_values(0), dtype="str"),
            "segment": pd.Series(active.index.get_level_values(1), dtype="str"),
        }
    )
    assignments[MEMBERSHIP_KIND_COLUMN] = pd.Series(MANUAL_MEMBERSHIP, index=assignments.index, dtype="str")
    if assignments.empty:
        assignments = empty_memberships()
    return ManualAssignments(assignments, unknown_customers, int(len(latest) - len(active)))


def _read_manual_rows(text: str, label: str) -> list[tuple[str, str, dt.date]]:
    """(customer_id, segment, expires_on) of every non-blank row; a missing expiry is `date.max`."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _read_header(reader, label)
    problems, records = [], []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        if len(row) > len(header):
            problems.append(f"{label}, line {line}: {len(row)} fields, but the header has {len(header)}")
            continue
        # missing trailing fields count as empty
        values = dict(zip(header, (cell.strip() for cell in row), strict=False))
        records.append(_record(values, f"{label}, line {line}", problems))
    if problems:
        raise RuleError(problems, label)
    return records


def _read_header(reader: csv.reader, label: str) -> list[str]:
    """The lower-cased column names of the first non-blank row; raises RuleError listing every header problem."""
    header = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
            break
    if header is None:
        raise RuleError(f"{label}: the file is empty; expected the header 'customer_id,segment,expires_on'", label)
    where = f"{label}, line {reader.line_num}"
    problems = []
    missing = [column for column in _REQUIRED_COLUMNS if column not in header]
    if missing:
        names = " and ".join(f"'{column}'" for column in missing)
        problems.append(
            f"{where}: missing column {names} "
            f"(the header must name customer_id, segment and optionally expires_on, note)"
        )
    for column in header:
        if column not in _ALLOWED_COLUMNS:
            close = difflib.get_close_matches(column, _ALLOWED_COLUMNS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            allowed = f"{hint}allowed: {', '.join(_ALLOWED_COLUMNS)}"
            problems.append(f"{where}: unknown column {quoted(column)} ({allowed})")
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        problems.append(f"{where}: column {', '.join(quoted(column) for column in repeated)} appears twice")
    if problems:
        raise RuleError(problems, label)
    return header


def _record(values: dict[str, str], where: str, problems: list[str]) -> tuple[str, str, dt.date]:
    """One row's (customer_id, segment, expires_on); its problems are appended to `problems`."""
    customer_id, segment = values.get("customer_id", ""), values.get("segment", "")
    expires_text = values.get("expires_on", "")
    if not customer_id:
        problems.append(f"{where}, column 'customer_id': empty customer id")
    if not segment:
        problems.append(f"{where}, column 'segment': empty segment name")
    expires_on = dt.date.max
    if expires_text:
        parsed = parse_date(expires_text)
        if parsed is None:
            problems.append(
                f"{where}, column 'expires_on': {quoted(expires_text)} is not a date written "
                f"YYYY-MM-DD (leave it empty for no expiry)"
            )
        else:
            expires_on = parsed
    return customer_id, segment, expires_on
