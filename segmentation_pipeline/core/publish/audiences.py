"""Audience exports: per snapshot, one CSV per behavioural, RFM and rule or manual segment with the customers a
campaign may reach (opted in to marketing, not in the control group, with a usable e-mail), in the ad platforms'
customer-list format (SHA-256 of the trimmed, lower-cased e-mail).

They hold personal data, so they live in `exports/audiences/`, never in `published/`: folders 0700, files 0640, and
a snapshot's folder is swapped in as a whole with its publish (see `core/publish/snapshot.py`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from segmentation_pipeline.core.publish.memberships import SEGMENT_FAMILIES
from segmentation_pipeline.core.storage.durable import fsync, make_folders
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.row_checks import EMAIL_PATTERN

FOLDER_MODE, FILE_MODE = 0o700, 0o640
MANIFEST = "manifest.csv"
CSV_OPTIONS = pa_csv.WriteOptions(include_header=False, quoting_style="needed")
"""Values quoted only where needed; the header is written unquoted, as the ad platforms' examples show it."""


@dataclass(frozen=True)
class AudienceExport:
    files: dict[str, pd.DataFrame]
    """Path inside the snapshot folder (`<family>/<segment-slug>.csv`) -> its rows, sorted by customer_id."""
    manifest: pd.DataFrame
    """family, segment, file, customers: one row per file."""
    customers: int
    """Distinct customers in any file."""
    left_out_without_email: int
    """Opted-in customers outside the control group left out for want of a usable e-mail."""
    plain_emails: bool

    def write(self, folder: Path) -> None:
        """Write the snapshot folder at `folder` (a staged path), private and flushed to disk."""
        _private_folder(folder)
        for path, rows in {MANIFEST: self.manifest, **self.files}.items():
            target = folder / path
            for parent in reversed([*target.relative_to(folder).parents][:-1]):
                _private_folder(folder / parent)
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
            os.fchmod(descriptor, FILE_MODE)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write((",".join(rows.columns) + "\n").encode())
                pa_csv.write_csv(pa.Table.from_pandas(rows, preserve_index=False), handle, CSV_OPTIONS)
                handle.flush()
                os.fsync(handle.fileno())
        for family in {path.split("/")[0] for path in self.files}:
            fsync(folder / family)
        fsync(folder)


def audience_export(customers: pd.DataFrame, emails: pd.DataFrame, plain_emails: bool) -> AudienceExport:
    """The audiences of a snapshot from its `customer_segments` rows with CRM ids (`marketing_opt_in`,
    `in_control_group` and the segment columns) and the validated CRM customers' `customer_id` and `email`. Every
    segment of the snapshot gets a file, empty if none of its customers may be reached."""
    email = customers[["customer_id"]].merge(emails, on="customer_id", how="left")["email"]
    normalised = pc.utf8_lower(pc.utf8_trim_whitespace(pa.array(email, type=pa.string(), from_pandas=True)))
    usable = pc.match_substring_regex(normalised, EMAIL_PATTERN).fill_null(False).to_numpy(zero_copy_only=False)
    eligible = (customers["marketing_opt_in"].fillna(False).astype(bool) & ~customers["in_control_group"]).to_numpy()
    reach = eligible & usable
    addresses = normalised.filter(pa.array(reach)).to_pylist()
    contacts = {"email_sha256": [hashlib.sha256(value.encode()).hexdigest() for value in addresses]}
    if plain_emails:
        contacts["email"] = addresses
    reached = customers[reach].assign(**contacts)
    files, manifest = {}, []
    for family, column in SEGMENT_FAMILIES.items():
        slugs = _slugs(sorted(_memberships(customers, column, [])["segment"].unique()))
        for segment, rows in _by_segment(_memberships(reached, column, list(contacts)), slugs):
            path = f"{family}/{slugs[segment]}.csv"
            files[path] = rows
            manifest.append((family, segment, path, len(rows)))
    return AudienceExport(
        files=files,
        manifest=pd.DataFrame(manifest, columns=["family", "segment", "file", "customers"]),
        customers=len(reached),
        left_out_without_email=int((eligible & ~usable).sum()),
        plain_emails=plain_emails,
    )


def validated_emails(layout: DataLayout) -> pd.DataFrame:
    """`customer_id` and `email` of the validated CRM customers (the only place e-mails are read for export)."""
    return pq.read_table(layout.validated("customers", None), columns=["customer_id", "email"]).to_pandas()


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


def _memberships(customers: pd.DataFrame, column: str, contacts: list[str]) -> pd.DataFrame:
    """(customer_id, segment, *contacts) rows of a family; a customer has one behavioural and one RFM segment, any
    number of rule or manual segments (each listed once)."""
    pairs = customers[["customer_id", column, *contacts]].rename(columns={column: "segment"})
    if column == "rule_segments":
        pairs = pairs.explode("segment").dropna(subset=["segment"])
    return pairs.astype({"segment": "str"})


def _by_segment(members: pd.DataFrame, slugs: dict[str, str]):
    """Each segment (in name order) with its rows sorted by customer_id; segments without any rows included."""
    members = members.sort_values(["segment", "customer_id"], ignore_index=True)
    grouped = dict(tuple(members.groupby("segment", sort=True)))
    empty = members.iloc[0:0]
    for segment in slugs:
        yield segment, grouped.get(segment, empty).drop(columns="segment").reset_index(drop=True)


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
