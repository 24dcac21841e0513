"""Audience exports: per snapshot, one CSV per behavioural, RFM and rule or manual segment with the customers a
campaign may reach (opted in to marketing, not in the control group, with a usable e-mail), in the ad platforms'
customer-list format (SHA-256 of the trimmed, lower-cased e-mail).

They hold personal data, so they live in `exports/audiences/`, never in `published/`: folders 0700, files 0640, and
a snapshot's folder is swapped in as a whole with its publish (see `core/publish/snapshot.py`).
"""

from __future__ import annotations

import itertools
import os
import re
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from segmentation_pipeline.core.arrow_values import as_string_array
from segmentation_pipeline.core.publish.hashing import sha256_hex
from segmentation_pipeline.core.publish.memberships import SEGMENT_FAMILIES, FamilyMembers, family_members
from segmentation_pipeline.core.storage.atomic import remove_folders_atomically
from segmentation_pipeline.core.storage.durable import fsync, make_folders
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.row_checks import EMAIL_PATTERN

FOLDER_MODE, FILE_MODE = 0o700, 0o640
MANIFEST = "manifest.csv"
WRITTEN = pa.schema([("file", pa.string()), ("rows", pa.int64())])
"""What `write_sorted_files` yields: each file it wrote and its rows."""
CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
"""Values quoted only where needed; the header is written unquoted, as the ad platforms' examples show it."""


class SegmentFileWriter(Protocol):
    """How an export's segment files with customers are written: by the driver from the rows it holds
    (`DriverFiles`), or by Spark's executors (`spark_audiences.ExecutorFiles`)."""

    def write(self, folder: Path) -> set[str]:
        """Write segment files into the staged snapshot folder `folder`; returns those written (paths inside it)."""
        ...

    def release(self) -> None:
        """Free what the writer holds, once the export is written or given up."""
        ...


@dataclass(frozen=True)
class DriverFiles:
    """Segment files written by this process from the rows it holds (DuckDB's engine)."""

    rows: dict[str, pd.DataFrame]
    """Path inside the snapshot folder (`<family>/<segment-slug>.csv`) -> its rows, sorted by customer_id."""

    def write(self, folder: Path) -> set[str]:
        for path, rows in self.rows.items():
            _write_csv(folder / path, _table(rows))
        return set(self.rows)

    def release(self) -> None:
        pass


@dataclass(frozen=True)
class AudienceExport:
    """A snapshot's audiences: the manifest and figures, and the writer of its segment files (the one part that
    differs between engines)."""

    manifest: pd.DataFrame
    """family, segment, file, customers: one row per file."""
    customers: int
    """Distinct customers in any file."""
    left_out_without_email: int
    """Opted-in customers outside the control group left out for want of a usable e-mail."""
    plain_emails: bool
    segment_files: SegmentFileWriter

    @property
    def files(self) -> list[str]:
        """Every segment file (`<family>/<segment-slug>.csv`), in the manifest's order."""
        return self.manifest["file"].tolist()

    def write(self, folder: Path) -> None:
        """Write the snapshot folder at `folder` (a staged path): its family folders, the segment files (a file the
        writer did not write, a segment nobody in it can be reached, holds the header alone), the manifest;
        private, flushed to disk."""
        families = sorted({path.split("/")[0] for path in self.files})
        _private_folder(folder)
        for family in families:
            _private_folder(folder / family)
        written = self.segment_files.write(folder)
        for path in self.files:
            if path not in written:
                with private_file(folder / path, contact_columns(self.plain_emails)):
                    pass
        _write_csv(folder / MANIFEST, _table(self.manifest))
        for family in families:
            fsync(folder / family)
        fsync(folder)

    def release(self) -> None:
        self.segment_files.release()


def contact_columns(plain_emails: bool) -> list[str]:
    """The columns of a segment file."""
    return ["customer_id", "email_sha256", *(["email"] if plain_emails else [])]


def _write_csv(target: Path, rows: pa.Table) -> None:
    with private_file(target, rows.column_names) as handle:
        pa_csv.write_csv(rows, handle, CSV_OPTIONS)


@contextmanager
def private_file(target: Path, columns: list[str], replace: bool = False):
    """A new file of mode 0640 (whatever the umask) holding the CSV header of `columns`, to write the rows to;
    flushed to disk when closed. `replace`: a file already there is written over (a retried executor task's)."""
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if replace else os.O_EXCL), FILE_MODE)
    os.fchmod(descriptor, FILE_MODE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write((",".join(columns) + "\n").encode())
        yield handle
        handle.flush()
        os.fsync(handle.fileno())


def write_sorted_files(batches, folder: str, columns: list[str]):
    """The segment files of rows sorted by their `file` (a path inside `folder`), each written in one go as the
    rows stream by (an executor's task: Spark's `mapInArrow`); yields the files written and their rows."""
    current, handle, written, stack = None, None, {}, ExitStack()
    with stack:
        for batch in batches:
            files = batch["file"].to_numpy(zero_copy_only=False)
            starts = [0, *(np.flatnonzero(files[1:] != files[:-1]) + 1).tolist(), len(files)]
            for start, end in itertools.pairwise(starts):
                if files[start] != current:
                    stack.close()
                    current = files[start]
                    handle = stack.enter_context(private_file(Path(folder, current), columns, replace=True))
                    written[current] = 0
                pa_csv.write_csv(batch.slice(start, end - start).select(columns), handle, CSV_OPTIONS)
                written[current] += end - start
    yield pa.RecordBatch.from_pydict({"file": list(written), "rows": list(written.values())}, schema=WRITTEN)


def audience_export(customers: pd.DataFrame, emails: pd.DataFrame, plain_emails: bool) -> AudienceExport:
    """The audiences of a snapshot from its `customer_segments` rows with CRM ids (`marketing_opt_in`,
    `in_control_group` and the segment columns) and the validated CRM customers' `customer_id` and `email`. Every
    segment of the snapshot gets a file, empty if none of its customers may be reached."""
    ids = as_string_array(customers["customer_id"])
    found = pc.index_in(ids, value_set=as_string_array(emails["customer_id"]))
    reach, left_out, reached = _reach(customers, as_string_array(emails["email"]).take(found), plain_emails)
    by_id = pc.sort_indices(reached["customer_id"]).to_numpy()
    reached = reached.take(by_id)
    position = np.full(len(customers), -1)  # a customer's row in `reached`, -1 if not reached
    position[np.flatnonzero(reach)[by_id]] = np.arange(len(by_id))
    files, manifest = {}, []
    for members in family_members(customers):
        paths = segment_files(members.family, members.names)
        for segment, rows in zip(members.names, _by_segment(reached, members, position), strict=True):
            path = paths[segment]
            files[path] = rows
            manifest.append((members.family, segment, path, len(rows)))
    return AudienceExport(
        manifest=pd.DataFrame(manifest, columns=["family", "segment", "file", "customers"]),
        customers=reached.num_rows,
        left_out_without_email=int(left_out.sum()),
        plain_emails=plain_emails,
        segment_files=DriverFiles(files),
    )


def contact_rows(customers: pd.DataFrame, plain_emails: bool) -> pd.DataFrame:
    """Of a batch of customers (`customer_segments` rows with CRM ids and their CRM `email`), those reached (their
    contact columns, `reached`) and those left out for want of a usable e-mail (contacts null), with their segment
    columns: row by row, so any batch gives its own rows (Spark's executors)."""
    reach, left_out, reached = _reach(customers, as_string_array(customers["email"]), plain_emails)
    keep = reach | left_out
    rows = customers.loc[keep, list(SEGMENT_FAMILIES.values())].reset_index(drop=True)
    rows.insert(0, "reached", reach[keep])
    positions = np.flatnonzero(reach[keep])
    for name in reached.column_names:
        values = pd.Series(None, index=rows.index, dtype="str")
        values.iloc[positions] = reached[name].to_numpy(zero_copy_only=False)
        rows[name] = values
    return rows


def _reach(customers: pd.DataFrame, email: pa.Array, plain_emails: bool) -> tuple[np.ndarray, np.ndarray, pa.Table]:
    """Who of `customers` (their CRM `email` aligned) may be reached: opted in, outside the control group, with a
    usable e-mail; who is left out for want of one; the reached ones' contact columns in the customers' order."""
    normalised = pc.utf8_lower(pc.utf8_trim_whitespace(email))
    usable = pc.match_substring_regex(normalised, EMAIL_PATTERN).fill_null(False).to_numpy(zero_copy_only=False)
    eligible = (customers["marketing_opt_in"].fillna(False).astype(bool) & ~customers["in_control_group"]).to_numpy()
    reach = eligible & usable
    addresses = normalised.filter(pa.array(reach))
    contacts = {"customer_id": as_string_array(customers["customer_id"]).filter(pa.array(reach))}
    contacts["email_sha256"] = sha256_hex(addresses)
    if plain_emails:
        contacts["email"] = addresses
    return reach, eligible & ~usable, pa.table(contacts)


def validated_emails(layout: DataLayout) -> pd.DataFrame:
    """`customer_id` and `email` of the validated CRM customers (the only place e-mails are read for export)."""
    return pq.read_table(layout.validated("customers", None), columns=["customer_id", "email"]).to_pandas()


def remove_old_exports(layout: DataLayout, kept: int, written: date) -> int:
    """Delete the snapshot folders beyond the `kept` newest by date (0: keep all), oldest first, never that of
    `written`, each as a whole (`remove_folders_atomically`); returns how many were deleted."""
    if not kept:
        return 0
    old = [folder for day, folder in layout.audience_export_folders()[:-kept] if day != written]
    remove_folders_atomically(old, layout=layout)
    return len(old)


def private_folders(layout: DataLayout) -> None:
    """`exports/` and `exports/audiences/`, created readable by the pipeline's account only; an existing folder keeps
    its mode, so access granted on purpose (a group for the uploading job) stays."""
    make_folders(layout.root)
    for folder in (layout.exports, layout.audience_exports):
        _private_folder(folder)


def _private_folder(folder: Path) -> None:
    """Create `folder` with mode 0700 (whatever the umask), its entry flushed to disk; an existing one is left as is."""
    if not folder.is_dir():
        folder.mkdir(FOLDER_MODE)
        os.chmod(folder, FOLDER_MODE)
        fsync(folder.parent)


def _by_segment(reached: pa.Table, members: FamilyMembers, position: np.ndarray):
    """The rows of `reached` (sorted by customer_id) of each segment of the family, in name order, empty frames
    included."""
    reached_positions = position[members.rows]
    keep = reached_positions >= 0
    codes, reached_positions = members.codes[keep], reached_positions[keep]
    order = np.lexsort((reached_positions, codes))  # by segment, then by customer_id
    rows = reached.take(reached_positions[order])
    bounds = np.searchsorted(codes[order], np.arange(len(members.names) + 1))
    for start, end in itertools.pairwise(bounds.tolist()):
        yield rows.slice(start, end - start).to_pandas()


def _table(rows: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(rows, preserve_index=False)


def segment_files(family: str, segments: list[str]) -> dict[str, str]:
    """Each segment of a family (sorted names) -> its file in the snapshot folder."""
    return {segment: f"{family}/{slug}.csv" for segment, slug in _slugs(segments).items()}


def _slugs(segments: list[str]) -> dict[str, str]:
    """A file name per segment (sorted names): lower-case letters and digits joined by '-', numbered on a clash."""
    slugs, taken = {}, set()
    for segment in segments:
        base = re.sub(r"[^a-z0-9]+", "-", segment.lower()).strip("-") or "segment"
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        slugs[segment] = slug
        taken.add(slug)
    return slugs
