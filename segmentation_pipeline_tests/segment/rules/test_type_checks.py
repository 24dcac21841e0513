"""Type checks of segment rules against column kinds, each problem shown with a caret, and kinds from dtypes."""

import pandas as pd

from segmentation_pipeline.core.segment.rules import Comparison, Literal, schema_of
from segmentation_pipeline_tests.segment.rules.helpers import SCHEMA, error, frame, members, parse


def test_unknown_column_suggests_close_names_with_a_caret():
    assert error("monetary >= 1000 and frequenzy >= 10") == (
        "segment 's': unknown column 'frequenzy' (did you mean 'frequency'?)\n"
        "    monetary >= 1000 and frequenzy >= 10\n"
        "                         ^"
    )
    assert error("Monetary > 1") == (
        "segment 's': unknown column 'Monetary' (did you mean 'monetary'?)\n    Monetary > 1\n    ^"
    )
    assert error("xyz is null") == "segment 's': unknown column 'xyz'\n    xyz is null\n    ^"


def test_unknown_column_lists_several_suggestions():
    schema = {"nps": "number", "nps_group": "string", "csat": "number"}
    assert error("nps_grp == 'a'", schema).startswith(
        "segment 's': unknown column 'nps_grp' (did you mean 'nps_group' or 'nps'?)"
    )


def test_number_column_compared_with_text():
    assert error('monetary >= "1000"') == (
        "segment 's': column 'monetary' is a number column, but \"1000\" is text; write numbers without quotes\n"
        '    monetary >= "1000"\n'
        "                ^"
    )
    assert error("m_score in (4, '5')") == (
        "segment 's': column 'm_score' is a number column, but \"5\" is text; write numbers without quotes\n"
        "    m_score in (4, '5')\n"
        "                   ^"
    )
    assert error("monetary == true").startswith(
        "segment 's': column 'monetary' is a number column, but true is true/false"
    )


def test_text_column_compared_with_a_number():
    assert error("company_size == 200") == (
        "segment 's': column 'company_size' is a text column, but 200 is a number; write text in quotes, "
        'e.g. "200"\n'
        "    company_size == 200\n"
        "                    ^"
    )


def test_bool_column_compared_with_a_number_or_ordered():
    assert error("is_b2b == 1").startswith(
        "segment 's': column 'is_b2b' is a true/false column, but 1 is a number; use true or false\n"
    )
    assert error("is_b2b >= true") == (
        "segment 's': '>=' cannot be used on the true/false column 'is_b2b'; use 'is_b2b', 'not is_b2b' or "
        "'is_b2b == false'\n"
        "    is_b2b >= true\n"
        "    ^"
    )


def test_text_columns_have_no_order():
    assert error('company_size < "201-1000"').startswith(
        "segment 's': '<' cannot be used on the text column 'company_size' (text has no order); "
        "use ==, !=, in or not in\n"
    )


def test_date_columns_need_a_quoted_iso_date():
    assert parse('first_order_date >= "2026-01-01"') == Comparison("first_order_date", ">=", Literal("2026-01-01"))
    for value in ('"2026-02-30"', '"01/02/2026"', "20260101"):
        assert error(f"first_order_date < {value}").startswith(
            "segment 's': column 'first_order_date' is a date column; compare it with a date in quotes written "
            f'"YYYY-MM-DD", not {value}\n'
        )


def test_bare_non_bool_column():
    assert error("is_b2b and monetary") == (
        "segment 's': column 'monetary' is a number column, so it cannot stand alone as a condition; "
        "compare it, e.g. 'monetary > 0'\n"
        "    is_b2b and monetary\n"
        "               ^"
    )
    assert error("(company_size)").startswith(
        "segment 's': column 'company_size' is a text column, so it cannot stand alone as a condition; "
        "compare it, e.g. 'company_size == \"...\"'"
    )


def test_null_is_only_for_is_null():
    assert error("nps == null").startswith(
        "segment 's': null is not a value to compare with; write 'nps is null' or 'nps is not null'\n"
    )


def test_all_problems_of_one_rule_are_reported():
    assert error("monetery > 1 and is_b2b > 0 and company_size == 5") == (
        "test.yaml: 3 problems\n"
        "segment 's': unknown column 'monetery' (did you mean 'monetary'?)\n"
        "    monetery > 1 and is_b2b > 0 and company_size == 5\n"
        "    ^\n"
        "segment 's': '>' cannot be used on the true/false column 'is_b2b'; use 'is_b2b', 'not is_b2b' or "
        "'is_b2b == false'\n"
        "    monetery > 1 and is_b2b > 0 and company_size == 5\n"
        "                     ^\n"
        "segment 's': column 'company_size' is a text column, but 5 is a number; write text in quotes, e.g. \"5\"\n"
        "    monetery > 1 and is_b2b > 0 and company_size == 5\n"
        "                                                    ^"
    )


def test_schema_of_derives_kinds_from_dtypes():
    features = frame().assign(
        category=pd.Categorical(["a", "b", "a", "b", "a", "b"]),
        flags=pd.Series([True, False, None, True, False, True], dtype=object),
        counts=pd.Series([1, 2, None, 4, 5, 6], dtype=object),
        lists=[[1], [2], [3], [4], [5], [6]],
    )
    features[("not", "text")] = 1
    assert schema_of(features) == {
        **SCHEMA,
        "category": "string",
        "flags": "bool",
        "counts": "number",
    }
    assert members('category == "b" and flags', features) == ["c4", "c6"]
