"""Read landing files into frames typed by the input contract, failing with messages a data engineer can act on."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.errors import PipelineError, bounded, examples, quoted
from segmentation_pipeline.core.ingest.contract import PERSONAL_DATA_COLUMNS, Column, Source

SUPPORTED_SUFFIXES = (".csv", ".parquet")
_DAY_FOLDER = re.compile(r"^date=([0-9]{4}-[0-9]{2}-[0-9]{2})$")
_IGNORED_FOLDER_PREFIXES = (".", "_")  # `.DS_Store`, `_SUCCESS`, `_tmp`: tool markers, never partitions
_TEMPORARY_SUFFIXES = (".tmp", ".part", ".crdownload", "~")  # downloads and editors still writing
_COMPRESSED = {  # magic bytes at the start of a file
    "gzip": re.compile(rb"\x1f\x8b"),
    "zip": re.compile(rb"PK\x03\x04"),
    "bz2": re.compile(rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)"),  # block size digit, then a block or end-of-stream marker
    "zstd": re.compile(rb"\x28\xb5\x2f\xfd"),
    "xz": re.compile(rb"\xfd7zXZ\x00"),
}
_MISSING_MARKERS = ["", "NaN", "nan", "NULL", "null"]  # not pandas' defaults: "NA" is Namibia, "N/A" a bad status
_INT64_LIMIT = 2**63
_TRUE = {"true", "t", "yes", "y", "1"}
_FALSE = {"false", "f", "no", "n", "0"}


class InputError(PipelineError, ValueError):
    """Landing input the pipeline cannot use. The message names the file, the column, what was expected and examples."""


@dataclass(frozen=True)
class SkippedFile:
    """A landing file left unread on purpose, and why; reported so nothing disappears silently."""

    file: str
    reason: str


@dataclass
class LandingRead:
    """A source's rows for one partition, typed by the contract, with where each row came from."""

    frame: pd.DataFrame
    files: list[str]
    warnings: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)

    def report(self) -> ReadReport:
        return ReadReport(self.files, self.warnings, self.skipped)


@dataclass(frozen=True)
class ReadReport:
    """What reading a partition found, without its rows: what run metadata needs over a long backfill."""

    files: list[str]
    warnings: list[str]
    skipped: list[SkippedFile]


BATCH_BYTES = 8 * 2**20
"""Landing bytes read, typed and checked at once. Days of a few kilobytes (the bundled sample) share a batch's fixed
costs; a day of a megabyte or more costs far more than those anyway, while memory grows with the batch: a batch of
usage events holds about 15 times its Parquet bytes, and at the reference scale (4 to 6 MB a day) 8 MB is one or two
days."""


def landing_days(landing_dir: Path, source: Source) -> list[date]:
    """The days for which a daily source has a `date=YYYY-MM-DD` folder, sorted.

    Any other folder (`date=2026-3-5`, `Date=…`, `archive`) stops the run, since its data would never be read;
    folders starting with `.` or `_` and plain files are ignored."""
    source_dir = landing_dir / source.landing_path
    if not source_dir.is_dir():
        return []
    days, malformed = [], []
    for child in source_dir.iterdir():
        if not child.is_dir() or child.name.startswith(_IGNORED_FOLDER_PREFIXES):
            continue
        day = _partition_day(child.name)
        if day is None:
            malformed.append(child.name)
        else:
            days.append(day)
    if malformed:
        names = ", ".join(quoted(name) for name in sorted(malformed))
        raise InputError(
            bounded(
                f"{source.landing_path}: {len(malformed)} folder(s) not named date=YYYY-MM-DD with a real day "
                f"(e.g. date=2026-03-01): {names}; rename them, or move them out of {source.landing_path} "
                "(folders starting with '_' or '.' are ignored)"
            )
        )
    return sorted(days)


def _partition_day(name: str) -> date | None:
    match = _DAY_FOLDER.match(name)
    if not match:
        return None
    try:
        return date.fromisoformat(match.group(1))
    except ValueError:
        return None


def landing_files(landing_dir: Path, source: Source, day: date | None = None) -> list[Path]:
    """The CSV and Parquet files of one partition (a daily source's day folder, or the CRM export), sorted by name;
    hidden and temporary files are left out."""
    return _partition_files(landing_dir, source, day)[0]


def _partition_files(landing_dir: Path, source: Source, day: date | None) -> tuple[list[Path], list[Path]]:
    """(CSV and Parquet files, hidden or temporary files) of one partition, each sorted by name."""
    if source.daily:
        folder = landing_dir / source.landing_path / f"date={day.isoformat()}"
        candidates = sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []
    else:
        base = landing_dir / source.landing_path
        candidates = [base.with_suffix(suffix) for suffix in SUPPORTED_SUFFIXES if base.with_suffix(suffix).is_file()]
    ignored = [path for path in candidates if _skip_reason(path.name)]
    data = [path for path in candidates if not _skip_reason(path.name) and path.suffix.lower() in SUPPORTED_SUFFIXES]
    return data, ignored


def _skip_reason(name: str) -> str | None:
    """Why a file is not landing data: hidden files (`.orders.csv`, macOS `._orders.csv`) and files still being
    written (`~$orders.csv`, `orders.csv.part`)."""
    if name.startswith("."):
        return "hidden file"
    if name.startswith("~") or name.lower().endswith(_TEMPORARY_SUFFIXES):
        return "temporary file"
    return None


def _drop_identical_copies(files: list[Path]) -> tuple[list[Path], list[tuple[Path, Path]]]:
    """The files to read, and (copy, original) pairs: a byte-identical copy of an earlier file (by name) would
    double that file's rows. Sizes are compared first, so only files of equal size are hashed; empty files add no
    rows and are never copies."""
    sizes = {path: path.stat().st_size for path in files}
    shared = {size for size, count in Counter(sizes.values()).items() if count > 1 and size > 0}
    originals: dict[tuple[int, str], Path] = {}
    kept, copies = [], []
    for path in files:
        if sizes[path] not in shared:
            kept.append(path)
            continue
        key = (sizes[path], _digest(path))
        if key in originals:
            copies.append((path, originals[key]))
        else:
            originals[key] = path
            kept.append(path)
    return kept, copies


def _digest(path: Path) -> str:
    with path.open("rb") as file:
        return hashlib.file_digest(file, "sha256").hexdigest()


def read_landing(landing_dir: Path, source: Source, day: date | None = None) -> LandingRead:
    """Read and type every file of one partition. A missing folder or an empty day is zero rows, not an error."""
    return next(read_landing_batches(landing_dir, source, [day], max_bytes=0))[day]


def read_landing_batches(
    landing_dir: Path, source: Source, days: Iterable[date | None], max_bytes: int
) -> Iterator[dict[date | None, LandingRead]]:
    """Read partitions in the order given, as batches of consecutive days holding up to `max_bytes` of landing files
    (at least one day each), each batch a read per day. A batch's files are cast together: a cast's fixed cost dwarfs
    the values of a small file, and the batch size bounds the memory held."""
    for batch in landing_batches(landing_dir, source, days, max_bytes):
        yield _read_batch(batch, source)


def landing_batches(
    landing_dir: Path, source: Source, days: Iterable[date | None], max_bytes: int
) -> Iterator[dict[date | None, _Partition]]:
    """The files to read of each day (`read_landing_batches`' batches), not yet read: the file-level decisions
    (skipped files, identical copies) are made here, on the driver; the Spark engine types the files on its
    executors (`type_file`)."""
    batch: dict[date | None, _Partition] = {}
    size = 0
    for day in days:
        partition = _partition(landing_dir, source, day)
        if batch and size + partition.size > max_bytes:
            yield batch
            batch, size = {}, 0
        batch[day] = partition
        size += partition.size
    if batch:
        yield batch


@dataclass(frozen=True)
class _Partition:
    """The files of one partition to read (relative name and path), and those left unread."""

    files: dict[str, Path]
    skipped: list[SkippedFile]
    size: int  # bytes of the files to read


@dataclass(frozen=True)
class _RawFile:
    """One file's contract columns as read; their values are cast with the other files of the batch."""

    path: Path
    relative: str
    values: pd.DataFrame


def _partition(landing_dir: Path, source: Source, day: date | None) -> _Partition:
    data_files, ignored = _partition_files(landing_dir, source, day)
    if not source.daily and not data_files:
        raise InputError(
            f"{landing_dir / source.landing_path}.csv (or .parquet): the CRM customer export is missing; "
            "it is required for every run"
        )

    def relative(path: Path) -> str:
        return path.relative_to(landing_dir).as_posix()

    files, copies = _drop_identical_copies(data_files)
    skipped = [SkippedFile(relative(path), _skip_reason(path.name)) for path in ignored]
    skipped += [SkippedFile(relative(copy), f"byte-identical copy of {original.name}") for copy, original in copies]
    skipped.sort(key=lambda entry: entry.file)
    size = sum(path.stat().st_size for path in files)
    return _Partition({relative(path): path for path in files}, skipped, size)


def _read_batch(batch: dict[date | None, _Partition], source: Source) -> dict[date | None, LandingRead]:
    """Each file is read and its header checked on its own, in order; then all values are cast at once."""
    raws: dict[date | None, list[_RawFile]] = {}
    warnings: dict[date | None, list[str]] = {}
    try:
        for day, partition in batch.items():
            raws[day] = []
            warnings[day] = [bounded(f"skipped: {entry.file} ({entry.reason})") for entry in partition.skipped]
            for relative, path in partition.files.items():
                values, file_warnings = _conform(_read_raw(path, relative), source, relative)
                raws[day].append(_RawFile(path, relative, values))
                warnings[day].extend(file_warnings)
    except InputError:
        _typed(_flat(raws), source)  # a bad value in an earlier file is reported first, as reading file by file did
        raise
    frame = _typed(_flat(raws), source)
    reads, start = {}, 0
    for day, day_raws in raws.items():
        stop = start + sum(len(raw.values) for raw in day_raws)
        files = [raw.relative for raw in day_raws]
        day_frame = frame.iloc[start:stop].reset_index(drop=True)
        reads[day] = LandingRead(frame=day_frame, files=files, warnings=warnings[day], skipped=batch[day].skipped)
        start = stop
    return reads


def type_file(path: Path, relative: str, source: Source) -> tuple[pd.DataFrame, list[str]]:
    """One file read and typed on its own, with lineage, and its warnings; a bad file raises the InputError the
    batch's read gives (`_read_batch` reports the first file in error, and casting a file alone types its values as
    casting it with others does). Needs nothing but the file: an executor calls it."""
    values, warnings = _conform(_read_raw(path, relative), source, relative)
    return _typed([_RawFile(path, relative, values)], source), warnings


def no_rows(source: Source) -> pd.DataFrame:
    """The typed frame of a partition without rows."""
    return _typed([], source)


def _flat(raws: dict[date | None, list[_RawFile]]) -> list[_RawFile]:
    return [raw for day_raws in raws.values() for raw in day_raws]


def _typed(raws: list[_RawFile], source: Source) -> pd.DataFrame:
    """The files' rows, typed, with where each came from. If they cannot be cast together, they are cast one by one,
    as each file on its own: the error names the first file holding a bad value, and its first such column; values
    that fail only together (a timestamp column's unit is inferred from all its values) are read as before."""
    try:
        return _cast_files(raws, source)
    except _Uncastable as problem:
        if len(raws) > 1:
            return pd.concat([_typed([raw], source) for raw in raws], ignore_index=True)
        path, relative = raws[0].path, raws[0].relative
        short_rows = _short_rows(path) if path.suffix.lower() == ".csv" else set()
        raise InputError(_uncastable_message(problem, relative, short_rows)) from None


def _read_raw(path: Path, relative: str) -> pd.DataFrame:
    if path.stat().st_size == 0:
        return pd.DataFrame()
    with path.open("rb") as file:
        _fail_if_compressed(file.read(16), relative)
    if path.suffix.lower() == ".parquet":
        try:
            _fail_if_duplicate_columns(pq.read_schema(path).names, relative)
            return pq.read_table(path).to_pandas()
        except (pa.ArrowException, OSError) as error:
            raise InputError(bounded(f"{relative}: cannot be read as Parquet ({error})")) from None
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
    return _read_csv(text, relative)


def _read_csv(text: str, relative: str) -> pd.DataFrame:
    """Every value as text; the header is read once on its own, as pandas renames a repeated name (`amount.1`)."""
    options = {"dtype": str, "keep_default_na": False, "skipinitialspace": True}
    try:
        header = pd.read_csv(io.StringIO(text), header=None, nrows=1, **options)
        _fail_if_duplicate_columns(header.iloc[0].tolist() if len(header) else [], relative)
        return pd.read_csv(io.StringIO(text), na_values=_MISSING_MARKERS, **options)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except pd.errors.ParserError as error:
        raise InputError(bounded(f"{relative}: cannot be parsed as CSV ({str(error).strip()})")) from None


def _fail_if_compressed(head: bytes, relative: str) -> None:
    for name, magic in _COMPRESSED.items():
        if magic.match(head):
            raise InputError(
                f"{relative}: is {name}-compressed; decompress it (landing files are plain CSV or Parquet)"
            )


def _fail_if_duplicate_columns(names: list[object], relative: str) -> None:
    """Two columns of one name cannot both be read; pandas would keep one and rename or drop the other silently."""
    counts = Counter(str(name).strip() for name in names)
    repeated = [name for name, count in counts.items() if count > 1 and name]
    if repeated:
        listed = ", ".join(quoted(name) for name in repeated)
        raise InputError(
            bounded(f"{relative}: column name(s) {listed} appear more than once in the header; keep one of each")
        )


def _conform(raw: pd.DataFrame, source: Source, relative: str) -> tuple[pd.DataFrame, list[str]]:
    """The contract's columns of one file, by its header; unknown columns are dropped with a warning."""
    warnings = []
    if raw.shape == (0, 0):
        warnings.append(f"{relative}: empty file, read as zero rows")
        raw = pd.DataFrame(columns=source.column_names)
    raw.columns = [str(name).strip() for name in raw.columns]
    missing = [name for name in source.required_columns if name not in raw.columns]
    if missing:
        raise InputError(
            bounded(
                f"{relative}: required column(s) {', '.join(repr(name) for name in missing)} missing; "
                f"found columns: {_found_columns(raw.columns, source)}"
            )
        )
    unknown = [name for name in raw.columns if name not in source.column_names]
    if unknown:
        warnings.append(bounded(f"{relative}: unknown column(s) ignored: {', '.join(unknown)}"))
    return raw.drop(columns=unknown) if unknown else raw, warnings


def _cast_files(raws: list[_RawFile], source: Source) -> pd.DataFrame:
    """All files' rows, typed, with where each came from. Consecutive files with the same columns and dtypes are
    cast together; a Parquet file's typed values joined to a CSV file's text would become text, cast otherwise."""
    with_rows = [raw.values for raw in raws if len(raw.values)]
    runs = [pd.concat(list(run), ignore_index=True) for _, run in groupby(with_rows, key=_dtypes)]
    typed = pd.concat([cast_frame(values, source) for values in runs or [pd.DataFrame()]], ignore_index=True)
    lengths = np.array([len(raw.values) for raw in raws], dtype="int64")
    relatives = pd.Series([raw.relative for raw in raws], dtype="str")
    typed["_source_file"] = relatives.repeat(lengths).reset_index(drop=True)
    typed["_source_row"] = np.arange(1, lengths.sum() + 1) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return typed


def _dtypes(values: pd.DataFrame) -> list[tuple[str, object]]:
    return list(values.dtypes.items())


def cast_frame(values: pd.DataFrame, source: Source) -> pd.DataFrame:
    """The contract's columns cast; a column the files lack is all missing."""
    return pd.DataFrame(
        {
            column.name: _cast(values[column.name], column) if column.name in values else _nulls(column, len(values))
            for column in source.columns
        }
    )


def _found_columns(names: list[str], source: Source) -> str:
    """The header's names, unless none is the contract's in a source with personal data: then the header line is
    probably missing and the "names" are a customer's values."""
    holds_personal_data = any(name in PERSONAL_DATA_COLUMNS for name in source.column_names)
    if holds_personal_data and len(names) and not set(names) & set(source.column_names):
        return f"none of the contract's ({len(names)} names, not shown: is the header line missing?)"
    return ", ".join(names) or "(none)"


def _cast(values: pd.Series, column: Column) -> pd.Series:
    values = values.reset_index(drop=True)
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        values = values.astype("str").str.strip().replace("", np.nan) if len(values) else values.astype("str")
    missing = values.isna()
    if column.type == "string":
        return values.astype("str")
    if column.type == "float":
        result = pd.to_numeric(values, errors="coerce").astype("float64")
        _fail_if_uncastable(values, missing | result.notna(), column, "a number")
        return result
    if column.type == "int":
        numbers = pd.to_numeric(values, errors="coerce")
        integral = numbers.notna() & (numbers.abs() < _INT64_LIMIT) & (numbers == np.round(numbers))
        _fail_if_uncastable(values, missing | integral, column, "a whole number")
        return numbers.where(integral).astype("Int64")
    if column.type == "bool":
        if pd.api.types.is_bool_dtype(values.dtype):
            return values.astype("boolean")
        lowered = values.astype("str").str.lower()
        result = pd.Series(pd.NA, index=values.index, dtype="boolean")
        result[lowered.isin(_TRUE)] = True
        result[lowered.isin(_FALSE)] = False
        _fail_if_uncastable(values, missing | result.notna(), column, "true or false")
        return result
    if column.type == "timestamp":
        return _to_utc(values, missing, column)
    raise AssertionError(f"unknown contract type {column.type}")


def _to_utc(values: pd.Series, missing: pd.Series, column: Column) -> pd.Series:
    """Offsets are converted to UTC; naive timestamps are taken as UTC."""
    if isinstance(values.dtype, pd.DatetimeTZDtype):
        result = values.dt.tz_convert("UTC")
    elif pd.api.types.is_datetime64_dtype(values.dtype):
        result = values.dt.tz_localize("UTC")
    else:
        result = pd.to_datetime(values, utc=True, format="ISO8601", errors="coerce")
        _fail_if_uncastable(values, missing | result.notna(), column, "an ISO-8601 timestamp")
    return result.dt.as_unit("us")


class _Uncastable(Exception):
    """Values of a column that cannot be read as its type; turned into an InputError where the file is known."""

    def __init__(self, column: Column, expected: str, bad: pd.Series) -> None:
        super().__init__(column.name)
        self.column, self.expected, self.bad = column, expected, bad


def _fail_if_uncastable(values: pd.Series, ok: pd.Series, column: Column, expected: str) -> None:
    bad = values[~ok]
    if len(bad):
        raise _Uncastable(column, expected, bad)


def _uncastable_message(problem: _Uncastable, relative: str, short_rows: set[int] | None) -> str:
    """Count and examples of the bad values. A value on a row with fewer fields than the header is not shown: the
    missing field shifted the later values, so a "created_at" may hold an email address."""
    bad, column = problem.bad, problem.column
    hidden = bad.index.isin(list(short_rows)) if short_rows is not None else np.ones(len(bad), dtype=bool)
    message = (
        f"{relative}: column '{column.name}' must hold {problem.expected} ({column.type}); "
        f"{len(bad)} value(s) cannot be read"
    )
    if not hidden.all():
        message += f", e.g. {examples(bad[~hidden].drop_duplicates().tolist(), column.name)}"
    if short_rows is None:
        message += "; values not shown (the file's rows could not be checked for missing fields)"
    elif hidden.any():
        rows = ", ".join(str(position + 1) for position in bad.index[hidden][:10])
        message += (
            f"; row(s) {rows} have fewer fields than the header, so their values are shifted into the wrong "
            "columns (not shown)"
        )
    return bounded(message)


def _short_rows(path: Path) -> set[int] | None:
    """Positions of the data rows with fewer fields than the header (pandas fills them with empty values);
    None if Python's CSV reader cannot split the file the way pandas did."""
    text = path.read_text("utf-8")
    previous_limit = csv.field_size_limit(len(text) + 1)  # a 1 MB field is read, not refused; only on this error path
    try:
        rows = [row for row in csv.reader(io.StringIO(text), skipinitialspace=True) if _has_fields(row)]
    except csv.Error:
        return None
    finally:
        csv.field_size_limit(previous_limit)
    width = len(rows[0]) if rows else 0
    return {position for position, row in enumerate(rows[1:]) if len(row) < width}


def _has_fields(row: list[str]) -> bool:
    """False for the blank and whitespace-only lines pandas skips, so positions match pandas' rows."""
    return len(row) > 1 or bool(row and row[0].strip())


def _nulls(column: Column, length: int) -> pd.Series:
    empty = pd.Series([None] * length, dtype="object")
    return _cast(empty, column)
