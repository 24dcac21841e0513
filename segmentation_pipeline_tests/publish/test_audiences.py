"""Audience exports: who is in them, the e-mail hash, where they are written, how they are swapped in, and how old
snapshots are deleted."""

import csv
import hashlib
import os
import stat
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from segmentation_pipeline.core.publish.audiences import (
    audience_export,
    contact_rows,
    private_folders,
    remove_old_exports,
    segment_files,
    write_sorted_files,
)
from segmentation_pipeline.core.publish.memberships import SEGMENT_FAMILIES
from segmentation_pipeline.core.publish.settings import PublishSettings, SettingsError
from segmentation_pipeline.core.storage import atomic
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.storage.staging import recover
from segmentation_pipeline.defs.publish.resources import PublishingResource

DAY = date(2026, 11, 22)
CUSTOMERS = pd.DataFrame(
    [
        # id, opted in, in control group, behavioural, RFM, rule segments
        ("c1", True, False, "Night owls", "champions", ["VIP", "key account"]),
        ("c2", True, True, "Night owls", "champions", ["VIP"]),  # control group: never exported
        ("c3", False, False, "Night owls", "hibernating", []),  # not opted in
        ("c4", None, False, "Weekend / desktop", "hibernating", []),  # opt-in unknown: not opted in
        ("c5", True, False, "Weekend / desktop", "hibernating", ["VIP"]),  # no usable e-mail
        ("c6", True, False, "Weekend / desktop", "champions", []),
    ],
    columns=["customer_id", "marketing_opt_in", "in_control_group", "segment_name", "rfm_segment", "rule_segments"],
)
EMAILS = pd.DataFrame(
    {
        "customer_id": ["c1", "c2", "c3", "c4", "c5", "c6"],
        "email": [" Foo@Example.COM ", "k@x.org", "o@x.org", "u@x.org", "not-an-email", "six@x.org"],
    }
)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_only_opted_in_customers_outside_the_control_group_with_an_email_are_exported_hashed():
    export = audience_export(CUSTOMERS, EMAILS, plain_emails=False)
    assert export.segment_files.rows["behavioural/night-owls.csv"].to_dict("records") == [
        {"customer_id": "c1", "email_sha256": sha("foo@example.com")}
    ]
    assert export.segment_files.rows["behavioural/weekend-desktop.csv"]["customer_id"].tolist() == ["c6"]
    assert export.segment_files.rows["rfm/hibernating.csv"].empty  # c3, c4 not opted in, c5 without e-mail
    assert export.segment_files.rows["rule/vip.csv"]["customer_id"].tolist() == ["c1"]
    assert export.manifest.values.tolist() == [
        ["behavioural", "Night owls", "behavioural/night-owls.csv", 1],
        ["behavioural", "Weekend / desktop", "behavioural/weekend-desktop.csv", 1],
        ["rfm", "champions", "rfm/champions.csv", 2],
        ["rfm", "hibernating", "rfm/hibernating.csv", 0],
        ["rule", "VIP", "rule/vip.csv", 1],
        ["rule", "key account", "rule/key-account.csv", 1],
    ]
    assert (export.customers, export.left_out_without_email, export.plain_emails) == (2, 1, False)
    assert all("email" not in rows.columns for rows in export.segment_files.rows.values())


def test_the_plain_email_is_exported_only_when_the_setting_allows_it():
    export = audience_export(CUSTOMERS, EMAILS, plain_emails=True)
    assert export.segment_files.rows["rfm/champions.csv"].to_dict("records") == [
        {"customer_id": "c1", "email_sha256": sha("foo@example.com"), "email": "foo@example.com"},
        {"customer_id": "c6", "email_sha256": sha("six@x.org"), "email": "six@x.org"},
    ]


@pytest.mark.parametrize("plain_emails", [False, True])
def test_segment_files_streamed_from_batches_of_contact_rows_are_the_exports_bytes(tmp_path, plain_emails):
    """Spark's way, here in pandas: `contact_rows` per batch of customers, the reached ones' rows sorted by file
    and streamed one row per batch to `write_sorted_files`; every file it writes is the export's, byte for byte."""
    export = audience_export(CUSTOMERS, EMAILS, plain_emails)
    export.write(tmp_path / "expected")
    with_email = CUSTOMERS.merge(EMAILS, on="customer_id")
    rows = pd.concat([contact_rows(with_email.iloc[i : i + 2], plain_emails) for i in (0, 2, 4)], ignore_index=True)
    reached = rows[rows["reached"]]
    assert (len(reached), len(rows) - len(reached)) == (export.customers, export.left_out_without_email)
    columns = ["customer_id", "email_sha256", *(["email"] if plain_emails else [])]
    members = []
    for family, column in SEGMENT_FAMILIES.items():
        names = sorted(export.manifest.loc[export.manifest["family"] == family, "segment"])
        segments = (reached.explode(column) if column == "rule_segments" else reached).dropna(subset=[column])
        members.append(segments.assign(file=segments[column].map(segment_files(family, names))))
    members = pd.concat(members)[["file", *columns]].sort_values(["file", "customer_id"])
    folder = tmp_path / "streamed"
    for family in SEGMENT_FAMILIES:
        (folder / family).mkdir(parents=True)
    batches = pa.Table.from_pandas(members, preserve_index=False).to_batches(max_chunksize=1)
    written = next(write_sorted_files(iter(batches), str(folder), columns)).to_pydict()
    with_customers = export.manifest[export.manifest["customers"] > 0].sort_values("file")
    assert written == {"file": with_customers["file"].tolist(), "rows": with_customers["customers"].tolist()}
    for path in written["file"]:
        assert (folder / path).read_bytes() == (tmp_path / "expected" / path).read_bytes(), path
        assert stat.S_IMODE((folder / path).stat().st_mode) == 0o640


def write(layout: DataLayout, customers: pd.DataFrame, day: date = DAY) -> None:
    """The export written as the publish writes it: with a `runs` file, swapped in by one journaled write."""
    export, runs = layout.audience_export(day), layout.published_table("runs", day)
    private_folders(layout)
    write_parquet_files_atomically(
        {runs: pa.table({"n": [len(customers)]})},
        layout=layout,
        completion_markers=[export, runs],
        others={export: audience_export(customers, EMAILS, plain_emails=False).write},
    )


def test_the_export_folder_is_private_and_a_rerun_replaces_it_as_a_whole(tmp_path):
    layout = DataLayout(tmp_path)
    write(layout, CUSTOMERS)
    folder = layout.audience_export(DAY)
    files = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.csv"))
    assert files == [
        "behavioural/night-owls.csv",
        "behavioural/weekend-desktop.csv",
        "manifest.csv",
        "rfm/champions.csv",
        "rfm/hibernating.csv",
        "rule/key-account.csv",
        "rule/vip.csv",
    ]
    for path in [layout.exports, layout.audience_exports, folder, *folder.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o640
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    with open(folder / "rule" / "vip.csv", newline="") as handle:
        assert list(csv.reader(handle)) == [["customer_id", "email_sha256"], ["c1", sha("foo@example.com")]]

    write(layout, CUSTOMERS.assign(rule_segments=[[]] * len(CUSTOMERS), segment_name="Everyone"))

    files = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*.csv"))
    assert files == ["behavioural/everyone.csv", "manifest.csv", "rfm/champions.csv", "rfm/hibernating.csv"]
    assert list(layout.staging.iterdir()) == []  # the old folder went with the write's staging folder


def exported_days(layout: DataLayout) -> list[int]:
    return [day.day for day, _ in layout.audience_export_folders()]


def test_exports_beyond_the_kept_snapshots_are_deleted_oldest_first_never_the_one_just_written(tmp_path, monkeypatch):
    layout = DataLayout(tmp_path)
    for day in range(18, 23):
        write(layout, CUSTOMERS, date(2026, 11, day))
    others = [layout.audience_exports / "notes.txt", layout.audience_exports / "snapshot_date=2026-11-31"]
    others[0].write_text("not a snapshot")
    others[1].mkdir()
    real_replace, deleted = os.replace, []

    def note_deletions(source, destination):
        real_replace(source, destination)
        if Path(source).parent == layout.audience_exports:
            deleted.append(Path(source).name)

    monkeypatch.setattr(atomic.os, "replace", note_deletions)
    assert remove_old_exports(layout, 2, date(2026, 11, 18)) == 2  # a re-published old day stays, with the 2 newest
    assert deleted == ["snapshot_date=2026-11-19", "snapshot_date=2026-11-20"]
    assert exported_days(layout) == [18, 21, 22]
    assert remove_old_exports(layout, 0, DAY) == 0  # 0 keeps every snapshot
    assert remove_old_exports(layout, 3, DAY) == 0
    assert remove_old_exports(layout, 1, DAY) == 2
    assert exported_days(layout) == [22] and all(path.exists() for path in others)
    assert list(layout.staging.iterdir()) == []


KILLER = """
import os, shutil, signal, sys
from datetime import date
from pathlib import Path
from segmentation_pipeline.core.publish.audiences import remove_old_exports
from segmentation_pipeline.core.storage import atomic, staging
from segmentation_pipeline.core.storage.layout import DataLayout

root, point = Path(sys.argv[1]), sys.argv[2]
real_replace = os.replace

def replace(source, destination):
    real_replace(source, destination)
    if point == "after the first rename":
        os.kill(os.getpid(), signal.SIGKILL)

def rmtree(path, **options):
    next(Path(path).rglob("*.csv")).unlink()  # half deleted
    os.kill(os.getpid(), signal.SIGKILL)

atomic.os.replace, staging.shutil.rmtree = replace, rmtree
remove_old_exports(DataLayout(root), 1, date(2026, 11, 22))
"""


@pytest.mark.parametrize(("point", "left"), [("after the first rename", [21, 22]), ("while removing", [22])])
def test_a_kill_while_deleting_old_exports_never_leaves_a_partial_export_and_the_next_run_finishes(
    tmp_path, point, left
):
    layout = DataLayout(tmp_path)
    for day in (20, 21, 22):
        write(layout, CUSTOMERS, date(2026, 11, day))

    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(tmp_path), point],
        capture_output=True,
        text=True,
        cwd=Path(__file__).parents[2],
    )

    assert killed.returncode == -9, killed.stderr
    assert exported_days(layout) == left  # each snapshot whole or gone: the deleted ones went in one rename each
    for _, folder in layout.audience_export_folders():
        assert len(list(folder.rglob("*.csv"))) == 7
    assert len(list(layout.staging.iterdir())) == 1
    assert recover(layout) == 1  # the next run starts by removing what the killed one left in the staging area
    assert remove_old_exports(layout, 1, DAY) == len(left) - 1  # and its publish deletes what is still too old
    assert exported_days(layout) == [22] and list(layout.staging.iterdir()) == []


def test_a_negative_or_fractional_number_of_kept_exports_is_refused_naming_the_setting():
    for kept in (-1, 1.5, True):
        with pytest.raises(
            SettingsError,
            match=rf"^publishing setting audience_exports_kept must be a whole number "
            rf"at least 0 \(0 keeps every snapshot\), got {kept!r}$",
        ):
            PublishSettings(audience_exports_kept=kept)
    with pytest.raises(SettingsError, match="audience_exports_kept"):
        PublishingResource(audience_exports_kept=-3).settings()
