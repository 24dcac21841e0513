"""Manual assignments: expiry, unknown customers, duplicates, and problems named by file, line and column."""

from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.segment.rules import RuleError, load_manual_assignments
from segmentation_pipeline_tests.segment.rules.helpers import KNOWN, manual


def manual_error(tmp_path: Path, text: str) -> RuleError:
    with pytest.raises(RuleError) as info:
        manual(tmp_path, text)
    return info.value


def test_manual_assignment_expires_on_its_expiry_day(tmp_path):
    result = manual(
        tmp_path,
        "customer_id,segment,expires_on\n"
        "c1,key account,\n"
        "c2,key account,2026-06-29\n"
        "c3,key account,2026-06-30\n"
        "c4,key account,2026-07-01\n",
    )
    assert result.assignments.values.tolist() == [["c1", "key account", "manual"], ["c4", "key account", "manual"]]
    assert result.assignments.dtypes.tolist() == [pd.StringDtype(na_value=np.nan)] * 3
    assert (result.expired, result.unknown_customers) == (2, [])


def test_expires_on_column_is_optional_and_as_of_may_be_a_datetime(tmp_path):
    result = manual(tmp_path, "segment,customer_id\nbeta,c2\n", as_of=datetime(2026, 6, 30, 12, 0))
    assert result.assignments.values.tolist() == [["c2", "beta", "manual"]]


def test_unknown_customers_are_reported_and_left_out(tmp_path):
    result = manual(
        tmp_path,
        "customer_id,segment,expires_on\nc9,vip,\nc1,vip,\nc0,vip,2020-01-01\nc9,beta,\n",
        known={"c1", "c2"},
    )
    assert result.assignments.values.tolist() == [["c1", "vip", "manual"]]
    assert (result.unknown_customers, result.expired) == (["c0", "c9"], 0)


def test_duplicate_assignments_collapse_and_the_latest_expiry_wins(tmp_path):
    result = manual(
        tmp_path,
        "customer_id,segment,expires_on\n"
        "c1,vip,\n"
        "c1,vip,\n"
        "c2,vip,2026-01-01\n"
        "c2,vip,2027-01-01\n"
        "c3,vip,2026-01-01\n"
        "c3,vip,2026-02-01\n"
        "c4,vip,2026-12-31\n"
        "c4,vip,\n",
    )
    assert result.assignments.values.tolist() == [
        ["c1", "vip", "manual"],
        ["c2", "vip", "manual"],
        ["c4", "vip", "manual"],
    ]
    assert result.expired == 1


def test_manual_cells_are_trimmed_and_blank_lines_and_bom_ignored(tmp_path):
    path = tmp_path / "manual.csv"
    path.write_bytes(
        '\ufeff Customer_ID , Segment ,expires_on,note\n\n c1 , key account ,,"a, note"\nc2,vip\n'.encode()
    )
    result = load_manual_assignments(path, KNOWN, date(2026, 6, 30))
    assert result.assignments.values.tolist() == [["c1", "key account", "manual"], ["c2", "vip", "manual"]]


def test_header_only_file_gives_no_assignments(tmp_path):
    result = manual(tmp_path, "customer_id,segment,expires_on\n")
    assert result.assignments.empty
    assert result.assignments.columns.tolist() == ["customer_id", "segment", "source"]
    assert (result.unknown_customers, result.expired) == ([], 0)


def test_manual_file_problems_name_file_line_and_column(tmp_path):
    problem = manual_error(
        tmp_path,
        "customer_id,segment,expires_on\n"
        "c1,vip,2026-02-30\n"
        "c2,,\n"
        ",vip,\n"
        "c3,vip,31/12/2026\n"
        "c4,vip,,extra\n"
        "c1,beta,2026-12-31\n",
    )
    path = tmp_path / "manual.csv"
    assert str(problem) == (
        f"{path}: 5 problems\n"
        f"{path}, line 2, column 'expires_on': '2026-02-30' is not a date written YYYY-MM-DD (leave it empty for "
        "no expiry)\n"
        f"{path}, line 3, column 'segment': empty segment name\n"
        f"{path}, line 4, column 'customer_id': empty customer id\n"
        f"{path}, line 5, column 'expires_on': '31/12/2026' is not a date written YYYY-MM-DD (leave it empty for "
        "no expiry)\n"
        f"{path}, line 6: 4 fields, but the header has 3"
    )


def test_manual_header_problems(tmp_path):
    path = tmp_path / "manual.csv"
    assert manual_error(tmp_path, "customer,segment,expires\nc1,vip,\n").problems == [
        f"{path}, line 1: missing column 'customer_id' (the header must name customer_id, segment and optionally "
        "expires_on, note)",
        f"{path}, line 1: unknown column 'customer' (did you mean 'customer_id'? allowed: customer_id, segment, "
        "expires_on, note)",
        f"{path}, line 1: unknown column 'expires' (did you mean 'expires_on'? allowed: customer_id, segment, "
        "expires_on, note)",
    ]
    assert manual_error(tmp_path, "customer_id,segment,segment\n").problems == [
        f"{path}, line 1: column 'segment' appears twice"
    ]
    assert str(manual_error(tmp_path, "\n \n")) == (
        f"{path}: the file is empty; expected the header 'customer_id,segment,expires_on'"
    )


def test_manual_file_missing_or_not_utf8(tmp_path):
    with pytest.raises(RuleError, match=r"absent\.csv: file not found$"):
        load_manual_assignments(tmp_path / "absent.csv", KNOWN, date(2026, 1, 1))
    (tmp_path / "manual.csv").write_bytes(b"customer_id,segment\nc1,caf\xe9\n")
    with pytest.raises(RuleError, match=r"manual\.csv: not UTF-8 text \(byte 26\)$"):
        load_manual_assignments(tmp_path / "manual.csv", KNOWN, date(2026, 1, 1))


def test_long_cells_and_column_names_are_cut_in_messages(tmp_path):
    path = tmp_path / "manual.csv"
    problem = manual_error(tmp_path, "customer_id,segment,expires_on\nc1,vip," + "2" * 100_000 + "\n")
    assert str(problem) == (
        f"{path}, line 2, column 'expires_on': '{'2' * 54}… (99922 more characters) is not a date written "
        "YYYY-MM-DD (leave it empty for no expiry)"
    )
    problem = manual_error(tmp_path, "customer_id,segment," + "n" * 100_000 + "\n")
    assert str(problem) == (
        f"{path}, line 1: unknown column '{'n' * 54}… (99922 more characters) (allowed: customer_id, segment, "
        "expires_on, note)"
    )


def test_a_1_mb_line_is_not_echoed(tmp_path):
    path = tmp_path / "manual.csv"
    problem = manual_error(tmp_path, "customer_id,segment,note\nc1,vip," + "a note " * 150_000 + "\n")
    assert str(problem) == f"{path}: not valid CSV: field larger than field limit (131072)"
