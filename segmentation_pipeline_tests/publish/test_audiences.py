"""Audience exports: who is in them, the e-mail hash, where they are written and how they are swapped in."""

import csv
import hashlib
import stat
from datetime import date

import pandas as pd
import pyarrow as pa

from segmentation_pipeline.core.publish.audiences import audience_export, private_folders
from segmentation_pipeline.core.storage.atomic import write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout

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
    assert export.files["behavioural/night-owls.csv"].to_dict("records") == [
        {"customer_id": "c1", "email_sha256": sha("foo@example.com")}
    ]
    assert export.files["behavioural/weekend-desktop.csv"]["customer_id"].tolist() == ["c6"]
    assert export.files["rfm/hibernating.csv"].empty  # c3, c4 not opted in, c5 without e-mail
    assert export.files["rule/vip.csv"]["customer_id"].tolist() == ["c1"]
    assert export.manifest.values.tolist() == [
        ["behavioural", "Night owls", "behavioural/night-owls.csv", 1],
        ["behavioural", "Weekend / desktop", "behavioural/weekend-desktop.csv", 1],
        ["rfm", "champions", "rfm/champions.csv", 2],
        ["rfm", "hibernating", "rfm/hibernating.csv", 0],
        ["rule", "VIP", "rule/vip.csv", 1],
        ["rule", "key account", "rule/key-account.csv", 1],
    ]
    assert (export.customers, export.left_out_without_email, export.plain_emails) == (2, 1, False)
    assert all("email" not in rows.columns for rows in export.files.values())


def test_the_plain_email_is_exported_only_when_the_setting_allows_it():
    export = audience_export(CUSTOMERS, EMAILS, plain_emails=True)
    assert export.files["rfm/champions.csv"].to_dict("records") == [
        {"customer_id": "c1", "email_sha256": sha("foo@example.com"), "email": "foo@example.com"},
        {"customer_id": "c6", "email_sha256": sha("six@x.org"), "email": "six@x.org"},
    ]


def write(layout: DataLayout, customers: pd.DataFrame) -> None:
    """The export written as the publish writes it: with a `runs` file, swapped in by one journaled write."""
    export, runs = layout.audience_export(DAY), layout.published_table("runs", DAY)
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
