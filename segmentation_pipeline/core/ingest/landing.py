"""Read landing files into frames typed by the input contract, failing with messages a data engineer can act on."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.errors import PipelineError
from segmentation_pipeline.core.ingest.contract import Column, Source

SUPPORTED_SUFFIXES = (".csv", ".parquet")
_DAY_FOLDER = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
_MISSING_MARKERS = ["", "NaN", "nan", "NULL", "null"]  # not pandas' defaults: "NA" is Namibia, "N/A" a bad status
_INT64_LIMIT = 2**63
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class InputError(PipelineError, ValueError):
    """Landing input the pipeline cannot use. The message names the file, the column, what was expected and examples."""


@dataclass
class LandingRead:
    """A source's rows for one partition, typed by the contract, with where each row came from."""

    frame: pd.DataFrame
    files: list[str]
    warnings: list[str] = field(default_factory=list)


def landing_days(landing_dir: Path, source: Source) -> list[date]:
    """The days for which a daily source has a `date=YYYY-MM-DD` folder, sorted."""
    source_dir = landing_dir / source.landing_path
    if not source_dir.is_dir():
        return []
    days = []
    for child in source_dir.iterdir():
        match = _DAY_FOLDER.match(child.name)
        if child.is_dir() and match:
            try:
                days.append(date.fromisoformat(match.group(1)))
            except ValueError:
                raise InputError(f"{child}: folder name is not a real day (expected date=YYYY-MM-DD)") from None
    return sorted(days)


def landing_files(landing_dir: Path, source: Source, day: date | None = None) -> list[Path]:
    """The CSV and Parquet files of one partition (a daily source's day folder, or the CRM export), sorted by name."""
    if source.daily:
        folder = landing_dir / source.landing_path / f"date={day.isoformat()}"
        candidates = folder.iterdir() if folder.is_dir() else []
    else:
        base = landing_dir / source.landing_path
        candidates = [base.with_suffix(suffix) for suffix in SUPPORTED_SUFFIXES]
    return sorted(path for path in candidates if path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES)


def read_landing(landing_dir: Path, source: Source, day: date | None = None) -> LandingRead:
    """Read and type every file of one partition. A missing folder or an empty day is zero rows, not an error."""
    files = landing_files(landing_dir, source, day)
    if not source.daily and not files:
        raise InputError(
            f"{landing_dir / source.landing_path}.csv (or .parquet): the CRM customer export is missing; "
            "it is required for every run"
        )
    frames, warnings = [], []
    for path in files:
        relative = path.relative_to(landing_dir).as_posix()
        raw = _read_raw(path, relative)
        frame, file_warnings = _conform(raw, source, relative)
        frames.append(frame)
        warnings.extend(file_warnings)
    frame = pd.concat(frames, ignore_index=True) if frames else _empty_frame(source)
    return LandingRead(
        frame=frame, files=[path.relative_to(landing_dir).as_posix() for path in files], warnings=warnings
    )


def _read_raw(path: Path, relative: str) -> pd.DataFrame:
    if path.stat().st_size == 0:
        return pd.DataFrame()
    if path.suffix.lower() == ".parquet":
        try:
            return pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError) as error:
            raise InputError(f"{relative}: cannot be read as Parquet ({error})") from None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(
            f"{relative}: is not valid UTF-8 "
            f"(byte 0x{data[error.start]:02x} on line {line}, byte offset {error.start}); "
            "re-export the file as UTF-8"
        ) from None
    try:
        return pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, na_values=_MISSING_MARKERS, skipinitialspace=True
        )
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as error:
        raise InputError(f"{relative}: cannot be parsed as CSV ({str(error).strip()})") from None


def _conform(raw: pd.DataFrame, source: Source, relative: str) -> tuple[pd.DataFrame, list[str]]:
    """Select the contract's columns and cast them; unknown columns are dropped with a warning."""
    warnings = []
    if raw.shape == (0, 0):
        warnings.append(f"{relative}: empty file, read as zero rows")
        raw = pd.DataFrame(columns=source.column_names)
    raw.columns = [str(name).strip() for name in raw.columns]
    missing = [name for name in source.required_columns if name not in raw.columns]
    if missing:
        raise InputError(
            f"{relative}: required column(s) {', '.join(repr(name) for name in missing)} missing; "
            f"found columns: {', '.join(raw.columns) or '(none)'}"
        )
    unknown = [name for name in raw.columns if name not in source.column_names]
    if unknown:
        warnings.append(f"{relative}: unknown column(s) ignored: {', '.join(unknown)}")
    typed = pd.DataFrame(
        {
            column.name: _cast(raw[column.name], column, relative)
            if column.name in raw.columns
            else _nulls(column, len(raw))
            for column in source.columns
        }
    )
    typed["_source_file"] = pd.Series([relative] * len(raw), dtype="str")
    typed["_source_row"] = np.arange(1, len(raw) + 1, dtype="int64")
    return typed, warnings


def _cast(values: pd.Series, column: Column, relative: str) -> pd.Series:
    values = values.reset_index(drop=True)
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        values = values.astype("str").str.strip().replace("", np.nan) if len(values) else values.astype("str")
    missing = values.isna()
    if column.type == "string":
        return values.astype("str")
    if column.type == "float":
        result = pd.to_numeric(values, errors="coerce").astype("float64")
        _fail_if_uncastable(values, missing | result.notna(), column, relative, "a number")
        return result
    if column.type == "int":
        numbers = pd.to_numeric(values, errors="coerce")
        integral = numbers.notna() & (numbers.abs() < _INT64_LIMIT) & (numbers == np.round(numbers))
        _fail_if_uncastable(values, missing | integral, column, relative, "a whole number")
        return numbers.where(integral).astype("Int64")
    if column.type == "bool":
        if pd.api.types.is_bool_dtype(values.dtype):
            return values.astype("boolean")
        lowered = values.astype("str").str.lower()
        result = pd.Series(pd.NA, index=values.index, dtype="boolean")
        result[lowered.isin(_TRUE)] = True
        result[lowered.isin(_FALSE)] = False
        _fail_if_uncastable(values, missing | result.notna(), column, relative, "true or false")
        return result
    if column.type == "timestamp":
        return _to_utc(values, missing, column, relative)
    raise AssertionError(f"unknown contract type {column.type}")


def _to_utc(values: pd.Series, missing: pd.Series, column: Column, relative: str) -> pd.Series:
    """Offsets are converted to UTC; naive timestamps are taken as UTC."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        result = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        result = values.dt.tz_localize("UTC")
    else:
        result = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
        _fail_if_uncastable(values, missing | result.notna(), column, relative, "an ISO-8601 timestamp")
    return result.dt.as_unit("us")


def _fail_if_uncastable(values: pd.Series, ok: pd.Series, column: Column, relative: str, expected: str) -> None:
    bad = values[~ok]
    if len(bad):
        sample = ", ".join(repr(value) for value in bad.drop_duplicates().head(5).tolist())
        raise InputError(
            f"{relative}: column '{column.name}' must hold {expected} ({column.type}); "
            f"{len(bad)} value(s) cannot be read, e.g. {sample}"
        )


def _nulls(column: Column, length: int) -> pd.Series:
    empty = pd.Series([None] * length, dtype="object")
    return _cast(empty, column, "")


def _empty_frame(source: Source) -> pd.DataFrame:
    frame, _ = _conform(pd.DataFrame(columns=source.column_names), source, "")
    return frame
