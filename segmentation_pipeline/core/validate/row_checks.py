"""Row-level checks: every input row ends in the clean data or in quarantine, with the checks it failed as its
`reason` (the names of the checks are README's validation rules). The rules are SQL (`rules.py`), run here by DuckDB
and on the Spark engine by Spark (core/engines/spark_validation.py); both split their verdicts with `split_by_day`.

The duplicate checks run last: a key (or a usage event's `event_id`) is a duplicate only when it already appeared on an
earlier row that passes every other check, or on an earlier day's validated data. So the first *valid* delivery of a
key wins, and an invalid first copy never costs the valid copy after it its place."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.duckdb_session import duckdb_cursor
from segmentation_pipeline.core.ingest.contract import PERSONAL_DATA_COLUMNS, Source, clean_schema
from segmentation_pipeline.core.validate.key_sets import DEDUP_COLUMNS, EarlierKeys, KeySet, ValidatedKeysBefore
from segmentation_pipeline.core.validate.rules import (
    DAY_COLUMN,
    NORMALISED,
    ROW_COLUMN,
    rule_names,
    rule_parameters,
    rules_query,
)
from segmentation_pipeline.core.validate.settings import ValidationSettings

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
QUARANTINE_COLUMNS = ("reason", "partition_date", "run_id")


@dataclass(frozen=True)
class CheckContext:
    """What a check needs beyond the rows: the partition day (for `validate`), the run's clock and the other
    validated data."""

    partition_day: date | None
    now: pd.Timestamp
    known_customers: KeySet | pa.Array | Collection[str] = ()
    earlier_keys: KeySet | EarlierKeys | ValidatedKeysBefore | pa.Array | Collection[str] = ()
    max_amount: float = ValidationSettings.max_amount

    def __post_init__(self) -> None:
        for name in ("known_customers", "earlier_keys"):
            if not isinstance(getattr(self, name), KeySet | EarlierKeys | ValidatedKeysBefore):
                object.__setattr__(self, name, KeySet(getattr(self, name)))


@dataclass
class ValidationOutcome:
    clean: pd.DataFrame
    quarantine: pd.DataFrame
    check_counts: dict[str, int] = field(default_factory=dict)

    @property
    def rows_in(self) -> int:
        return len(self.clean) + len(self.quarantine)

    def summary(self) -> OutcomeSummary:
        return OutcomeSummary(
            self.rows_in, len(self.clean), len(self.quarantine), self.check_counts, quarantine_examples(self.quarantine)
        )


@dataclass(frozen=True)
class OutcomeSummary:
    """A partition's counts and a few quarantined examples: what run metadata needs, without holding every row
    (a year's backfill of usage events would otherwise keep 100M rows in memory)."""

    rows_in: int
    rows_clean: int
    rows_quarantined: int
    check_counts: dict[str, int]
    quarantine_examples: pd.DataFrame


def validate(frame: pd.DataFrame, source: Source, context: CheckContext, run_id: str) -> ValidationOutcome:
    """Apply every check of the source to all rows of one partition at once and split them into clean and
    quarantined."""
    return validate_by_day(frame, {context.partition_day: len(frame)}, source, context, run_id)[context.partition_day]


def validate_by_day(
    frame: pd.DataFrame, rows_per_day: dict[date | None, int], source: Source, context: CheckContext, run_id: str
) -> dict[date | None, ValidationOutcome]:
    """Check the rows of consecutive days at once and split them per day: `rows_per_day[day]` rows of each day, in
    day order (by file, then line, within a day), each row checked against its own day. Each day's outcome is the one
    validating the days one after another gives: a key is a duplicate when `context.earlier_keys` (the days before
    these) holds it or an earlier row of these days that passes every other check has it."""
    frame = frame.reset_index(drop=True)
    counts = list(rows_per_day.values())
    if sum(counts) != len(frame):
        raise ValueError(f"{source.name}: {len(frame)} rows, but {sum(counts)} rows for the days")
    checked = _checked_on_duckdb(frame, rows_per_day, source, context)
    return split_by_day(frame, checked, rows_per_day, source, run_id)


def split_by_day(
    frame: pd.DataFrame,
    checked: pa.Table,
    rows_per_day: dict[date | None, int],
    source: Source,
    run_id: str,
) -> dict[date | None, ValidationOutcome]:
    """The rows of `frame` (consecutive days, `rows_per_day[day]` rows each) split into each day's clean and
    quarantined rows by `checked`, the rules' verdicts on them in any order (`rules_query`'s rule columns, `reason`,
    the normalised columns and `_row`, each row's position in `frame`)."""
    names = rule_names(source)
    positions = np.empty(len(frame), dtype=np.int64)
    positions[checked[ROW_COLUMN].to_numpy()] = np.arange(len(frame))
    checked = checked.take(positions)
    flags = np.column_stack([checked[name].to_numpy(zero_copy_only=False) for name in names])
    failed = checked["reason"].is_valid().to_numpy(zero_copy_only=False)
    frame = frame.assign(**{column: checked[column].to_pandas() for column in NORMALISED.get(source.name, {})})
    clean = frame[~failed].reset_index(drop=True)
    quarantine = frame[failed].copy()
    quarantine["reason"] = checked["reason"].filter(pa.array(failed)).to_pandas().set_axis(quarantine.index)
    row_days = _row_days(rows_per_day)
    quarantine["partition_date"] = pd.Series(row_days[failed].astype(object), index=quarantine.index, dtype="object")
    quarantine["run_id"] = pd.Series(run_id, index=quarantine.index, dtype="str")
    bounds = np.cumsum([0, *rows_per_day.values()])
    clean_at = np.r_[0, np.cumsum(~failed)][bounds]
    quarantined_at = bounds - clean_at
    return {
        day: ValidationOutcome(
            clean.iloc[clean_at[index] : clean_at[index + 1]].reset_index(drop=True),
            quarantine.iloc[quarantined_at[index] : quarantined_at[index + 1]].reset_index(drop=True),
            dict(zip(names, flags[bounds[index] : bounds[index + 1]].sum(axis=0).tolist(), strict=True)),
        )
        for index, day in enumerate(rows_per_day)
    }


def _row_days(rows_per_day: dict[date | None, int]) -> np.ndarray:
    return np.repeat(np.array(list(rows_per_day), dtype="datetime64[D]"), list(rows_per_day.values()))


def check_rows(
    frame: pd.DataFrame, rows_per_day: dict[date | None, int], source: Source, look_ups: dict[str, np.ndarray]
) -> pa.Table:
    """The table the rules read (`rules.rules_query`): the typed rows in the clean schema (a NaN amount is a missing
    one; a column the frame lacks is all missing), each row's position and day, and the engine's look-ups."""
    schema = clean_schema(source)
    missing = {field.name: pa.nulls(len(frame), field.type) for field in schema if field.name not in frame}
    table = pa.Table.from_pandas(frame[[name for name in schema.names if name in frame]], preserve_index=False)
    table = pa.Table.from_arrays(
        [table[name] if name in table.column_names else missing[name] for name in schema.names], schema=schema
    )
    table = table.append_column(ROW_COLUMN, pa.array(np.arange(len(frame), dtype=np.int64)))
    table = table.append_column(DAY_COLUMN, pa.array(_row_days(rows_per_day), pa.date32()))
    for name, found in look_ups.items():
        table = table.append_column(name, pa.array(found, pa.bool_()))
    return table


def _checked_on_duckdb(
    frame: pd.DataFrame, rows_per_day: dict[date | None, int], source: Source, context: CheckContext
) -> pa.Table:
    """The rules' verdicts on every row, by DuckDB; the look-ups come from the context's key sets."""
    key = frame[DEDUP_COLUMNS[source.name]]
    look_ups = {
        "_known_customer": (
            context.known_customers.contains(frame["customer_id"]).to_numpy()
            if "customer_id" in frame and source.daily
            else np.ones(len(frame), dtype=bool)
        ),
        "_seen_before": context.earlier_keys.contains(key).to_numpy(),
    }
    wanted = ", ".join([*rule_names(source), "reason", *NORMALISED.get(source.name, {}), ROW_COLUMN])
    query = f"SELECT {wanted} FROM ({rules_query(source)})"
    with duckdb_cursor() as con:
        con.register("check_rows", check_rows(frame, rows_per_day, source, look_ups))
        return con.sql(
            query, params=rule_parameters(source, now_microseconds(context.now), context.max_amount)
        ).to_arrow_table()


def now_microseconds(now: pd.Timestamp) -> int:
    """The run's start in whole microseconds: a timestamp (in microseconds) is later exactly when its count is."""
    return pd.Timestamp(now).as_unit("ns").value // 1000


def quarantine_examples(quarantine: pd.DataFrame, limit: int = 5) -> pd.DataFrame:
    """The first quarantined rows without personal data, for run metadata."""
    columns = [name for name in quarantine.columns if name not in PERSONAL_DATA_COLUMNS and name != "run_id"]
    return quarantine.head(limit)[columns]
