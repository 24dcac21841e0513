"""Row-level checks: every input row ends in the clean data or in quarantine, with the checks it failed as its
`reason` (the names of the checks are README's validation rules).

The duplicate checks run last: a key (or a usage event's `event_id`) is a duplicate only when it already appeared on an
earlier row that passes every other check, or on an earlier day's validated data. So the first *valid* delivery of a
key wins, and an invalid first copy never costs the valid copy after it its place."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import DEVICE_TYPES, ORDER_STATUSES, PERSONAL_DATA_COLUMNS, Source
from segmentation_pipeline.core.validate.key_sets import DEDUP_COLUMNS, EarlierKeys, KeySet, ValidatedKeysBefore
from segmentation_pipeline.core.validate.settings import ValidationSettings

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
QUARANTINE_COLUMNS = ("reason", "partition_date", "run_id")


@dataclass(frozen=True)
class CheckContext:
    """What a check needs beyond the rows: the partition day, the run's clock and the other validated data. Rows of
    several days (`validate_by_day`) carry each row's day instead, as a `datetime64[D]` array in row order."""

    partition_day: date | None | np.ndarray
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


RowCheck = Callable[[pd.DataFrame, Source, CheckContext], pd.Series]
DuplicateCheck = Callable[[pd.DataFrame, Source, CheckContext, pd.Series], pd.Series]


def _missing_required_value(frame, source, context):
    return frame[source.required_columns].isna().any(axis=1)


def _duplicate_delivery(frame, source, context, passes_other_checks):
    """A row whose key (by file name, then line) appeared on an earlier row that passes every other check, or in an
    earlier day's validated data. Two invalid copies are no duplicates of each other: each is quarantined for its
    own reasons, and the first valid copy after them stays clean. A missing key is never a duplicate."""
    keys = frame[DEDUP_COLUMNS[source.name]]
    valid = passes_other_checks.astype("int64")
    earlier_valid_copies = valid.groupby(keys, sort=False).cumsum() - valid
    return keys.notna() & (earlier_valid_copies.gt(0) | context.earlier_keys.contains(keys))


def _unknown_customer(frame, source, context):
    customer_ids = frame["customer_id"]
    return customer_ids.notna() & ~context.known_customers.contains(customer_ids)


def _timestamp_outside_partition(frame, source, context):
    timestamps = frame[source.timestamp_column]
    utc_days = timestamps.to_numpy("datetime64[us]").astype("datetime64[D]")
    return timestamps.notna() & (utc_days != np.asarray(context.partition_day, dtype="datetime64[D]"))


def _timestamp_in_future(column: str) -> RowCheck:
    return lambda frame, source, context: frame[column].notna() & (frame[column] > context.now)


def _out_of_range(column: str, low: float, high: float) -> RowCheck:
    return lambda frame, source, context: frame[column].notna() & ~frame[column].between(low, high)


def _not_in(column: str, allowed: tuple[str, ...]) -> RowCheck:
    return lambda frame, source, context: frame[column].notna() & ~frame[column].str.lower().isin(allowed)


def _negative_amount(frame, source, context):
    return frame["amount"] < 0


def _amount_not_finite(frame, source, context):
    return pd.Series(np.isinf(frame["amount"].to_numpy()), index=frame.index)


def _amount_too_large(frame, source, context):
    amounts = frame["amount"]
    return np.isfinite(amounts) & (amounts > context.max_amount)


def _malformed_email(frame, source, context):
    emails = frame["email"]
    return emails.notna() & ~emails.str.fullmatch(EMAIL_PATTERN)


ROW_CHECKS: dict[str, list[tuple[str, RowCheck | DuplicateCheck]]] = {
    "customers": [
        ("missing_required_value", _missing_required_value),
        ("duplicate_key", _duplicate_delivery),
        ("timestamp_in_future", _timestamp_in_future("created_at")),
        ("malformed_email", _malformed_email),
    ],
    "orders": [
        ("missing_required_value", _missing_required_value),
        ("duplicate_key", _duplicate_delivery),
        ("unknown_customer", _unknown_customer),
        ("timestamp_outside_partition", _timestamp_outside_partition),
        ("timestamp_in_future", _timestamp_in_future("ordered_at")),
        ("negative_amount", _negative_amount),
        ("amount_not_finite", _amount_not_finite),
        ("amount_too_large", _amount_too_large),
        ("unknown_status", _not_in("status", ORDER_STATUSES)),
    ],
    "survey_responses": [
        ("missing_required_value", _missing_required_value),
        ("duplicate_key", _duplicate_delivery),
        ("unknown_customer", _unknown_customer),
        ("timestamp_outside_partition", _timestamp_outside_partition),
        ("timestamp_in_future", _timestamp_in_future("submitted_at")),
        ("nps_out_of_range", _out_of_range("nps", 0, 10)),
        ("csat_out_of_range", _out_of_range("csat", 1, 5)),
        ("price_sensitivity_out_of_range", _out_of_range("price_sensitivity", 1, 5)),
    ],
    "usage_events": [
        ("missing_required_value", _missing_required_value),
        ("duplicate_event_id", _duplicate_delivery),
        ("unknown_customer", _unknown_customer),
        ("timestamp_outside_partition", _timestamp_outside_partition),
        ("timestamp_in_future", _timestamp_in_future("event_ts")),
        ("unknown_device_type", _not_in("device_type", DEVICE_TYPES)),
        ("negative_duration", lambda frame, source, context: frame["duration_s"] < 0),
    ],
}


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
    row_days = np.repeat(np.array(list(rows_per_day), dtype="datetime64[D]"), counts)
    failures = _failures(frame, source, replace(context, partition_day=row_days))
    failed = failures.any(axis=1).to_numpy()
    clean = _normalise(frame[~failed], source)
    quarantine = frame[failed].copy()
    quarantine["reason"] = _reasons(failures[failed]).astype("str")
    quarantine["partition_date"] = pd.Series(row_days[failed].astype(object), index=quarantine.index, dtype="object")
    quarantine["run_id"] = pd.Series(run_id, index=quarantine.index, dtype="str")
    bounds = np.cumsum([0, *counts])
    clean_at = np.r_[0, np.cumsum(~failed)][bounds]
    quarantined_at, flags = bounds - clean_at, failures.to_numpy()
    return {
        day: ValidationOutcome(
            clean.iloc[clean_at[index] : clean_at[index + 1]].reset_index(drop=True),
            quarantine.iloc[quarantined_at[index] : quarantined_at[index + 1]].reset_index(drop=True),
            dict(zip(failures.columns, flags[bounds[index] : bounds[index + 1]].sum(axis=0).tolist(), strict=True)),
        )
        for index, day in enumerate(rows_per_day)
    }


def _failures(frame: pd.DataFrame, source: Source, context: CheckContext) -> pd.DataFrame:
    """One boolean column per check, in rule order; the duplicate check sees which rows pass all the others."""
    checks = ROW_CHECKS[source.name]
    flags = {name: _flags(check(frame, source, context)) for name, check in checks if check is not _duplicate_delivery}
    passes_other_checks = ~pd.DataFrame(flags, index=frame.index).any(axis=1)
    for name, check in checks:
        if check is _duplicate_delivery:
            flags[name] = _flags(check(frame, source, context, passes_other_checks))
    return pd.DataFrame({name: flags[name] for name, _ in checks}, index=frame.index)


def _flags(failed: pd.Series) -> pd.Series:
    return failed.fillna(False).astype(bool)


def _reasons(failures: pd.DataFrame) -> pd.Series:
    names = np.array(failures.columns)
    return pd.Series([", ".join(names[row]) for row in failures.to_numpy()], index=failures.index, dtype="str")


def _normalise(clean: pd.DataFrame, source: Source) -> pd.DataFrame:
    """Documented defaults for clean rows: a missing order status means completed; enums are lower-case."""
    clean = clean.copy()
    if source.name == "orders":
        clean["status"] = clean["status"].str.lower().fillna("completed")
    if source.name == "usage_events":
        clean["device_type"] = clean["device_type"].str.lower()
    return clean


def quarantine_examples(quarantine: pd.DataFrame, limit: int = 5) -> pd.DataFrame:
    """The first quarantined rows without personal data, for run metadata."""
    columns = [name for name in quarantine.columns if name not in PERSONAL_DATA_COLUMNS and name != "run_id"]
    return quarantine.head(limit)[columns]
