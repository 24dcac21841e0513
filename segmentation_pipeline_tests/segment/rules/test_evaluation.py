"""Evaluating segment rules on whole columns: every kind of condition, SQL's three-valued logic for missing values,
and the sorted long table of members."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.segment.rules import RuleError, evaluate, parse_rule_segments, schema_of
from segmentation_pipeline_tests.segment.rules.helpers import SCHEMA, frame, members


@pytest.mark.parametrize(
    ("op", "expected"),
    [
        ("==", ["c4"]),
        ("!=", ["c1", "c2", "c5", "c6"]),
        ("<", ["c2", "c5"]),
        ("<=", ["c2", "c4", "c5"]),
        (">", ["c1", "c6"]),
        (">=", ["c1", "c4", "c6"]),
    ],
)
def test_number_operators_skip_missing_values(op, expected):
    assert members(f"monetary {op} 1000") == expected
    assert members(f"monetary {op} 1000.0") == expected


def test_negative_and_float_literals_evaluate():
    assert members("monetary > -1") == ["c1", "c2", "c4", "c5", "c6"]
    assert members("monetary <= 200.5") == ["c2", "c5"]
    assert members("m_score in (1, 4.0)") == ["c4", "c5"]


def test_text_conditions():
    assert members('primary_device == "mobile"') == ["c1", "c4", "c6"]
    assert members("primary_device == 'Mobile'") == []
    assert members('company_size in ("201-1000", "1000+")') == ["c2", "c4"]
    assert members('company_size not in ("201-1000", "1000+")') == ["c6"]
    assert members("lifecycle_stage == 'never purchased'") == ["c3"]


def test_bool_conditions_with_a_missing_value():
    assert members("is_b2b") == ["c2", "c4", "c6"]
    assert members("is_b2b == true") == ["c2", "c4", "c6"]
    assert members("not is_b2b") == ["c1", "c5"]
    assert members("is_b2b == false") == ["c1", "c5"]
    assert members("is_b2b != true") == ["c1", "c5"]
    assert members("is_b2b in (false)") == ["c1", "c5"]
    assert members("is_b2b is null") == ["c3"]
    assert members("has_survey and not is_b2b") == ["c1", "c5"]


def test_date_conditions_compare_calendar_days():
    assert members('first_order_date >= "2026-01-01"') == ["c1", "c4", "c6"]
    assert members('first_order_date == "2026-01-01"') == ["c4"]
    assert members('first_order_date < "2025-01-01"') == ["c5"]
    assert members('first_order_date in ("2026-03-01", "2024-12-31")') == ["c5", "c6"]
    assert members("first_order_date is null") == ["c3"]


def test_dates_in_object_and_timezone_aware_columns():
    features = pd.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "day": [date(2026, 1, 1), None, date(2026, 2, 1)],
            "at": pd.to_datetime(["2026-01-01 23:00", "2026-01-02 01:00", None]).tz_localize("UTC"),
        }
    )
    assert schema_of(features) == {"customer_id": "string", "day": "date", "at": "date"}
    assert members('day > "2026-01-15"', features) == ["c"]
    assert members('at == "2026-01-01" or day is null', features) == ["a", "b"]


def test_three_valued_logic_for_missing_values():
    # a condition on a missing value is unknown: neither it nor its negation selects the customer
    assert members("not (m_score < 4)") == ["c1", "c4", "c6"]
    assert members("m_score >= 4") == ["c1", "c4", "c6"]
    assert members("not (m_score < 4) or m_score is null") == ["c1", "c3", "c4", "c6"]
    assert members('primary_device != "mobile"') == ["c2", "c5"]
    assert members('not (primary_device == "mobile")') == ["c2", "c5"]
    assert members('primary_device not in ("mobile")') == ["c2", "c5"]
    assert members('not primary_device in ("mobile")') == ["c2", "c5"]
    assert members('primary_device != "mobile" or primary_device is null') == ["c2", "c3", "c5"]
    # unknown or true = true; unknown and false = false, so its negation is true
    assert members("monetary > 100 or lifecycle_stage == 'never purchased'") == ["c1", "c2", "c3", "c4", "c6"]
    assert members("not (monetary > 100 and lifecycle_stage == 'active')") == ["c2", "c3", "c4", "c5", "c6"]
    # unknown and true = unknown, so its negation is unknown too
    assert members("not (monetary > 100 and lifecycle_stage == 'never purchased')") == ["c1", "c2", "c4", "c5", "c6"]
    assert members("not (monetary > 100 or is_b2b)") == ["c5"]


def test_three_valued_logic_matches_a_row_by_row_reference():
    rng = np.random.default_rng(7)
    size = 400
    features = pd.DataFrame(
        {
            "customer_id": pd.Series([f"x{i:03d}" for i in range(size)], dtype="str"),
            "a": pd.array(np.where(rng.random(size) < 0.3, None, rng.integers(0, 5, size)), dtype="Int64"),
            "b": pd.Series(np.where(rng.random(size) < 0.3, None, rng.choice(["p", "q", "r"], size)), dtype="str"),
            "c": pd.array(np.where(rng.random(size) < 0.3, None, rng.random(size) < 0.5), dtype="boolean"),
        }
    )
    rules_text = [
        "not (a > 2 and b == 'p') or c",
        "not (a in (1, 3) or not c) and b != 'q'",
        "(a is null or b not in ('p', 'r')) and not (c and a <= 1)",
        "not not (a == 4) or (b == 'r' and not c)",
    ]

    def value(row, rule):  # None is unknown
        a, b, c = (None if pd.isna(row[k]) else row[k] for k in ("a", "b", "c"))

        def cmp(x, f):
            return None if x is None else f(x)

        def n(x):
            return None if x is None else not x

        def both(x, y):
            return False if x is False or y is False else (None if x is None or y is None else True)

        def either(x, y):
            return True if x is True or y is True else (None if x is None or y is None else False)

        return [
            either(n(both(cmp(a, lambda v: v > 2), cmp(b, lambda v: v == "p"))), c),
            both(n(either(cmp(a, lambda v: v in (1, 3)), n(c))), cmp(b, lambda v: v != "q")),
            both(either(a is None, cmp(b, lambda v: v not in ("p", "r"))), n(both(c, cmp(a, lambda v: v <= 1)))),
            either(n(n(cmp(a, lambda v: v == 4))), both(cmp(b, lambda v: v == "r"), n(c))),
        ][rule]

    for number, rule in enumerate(rules_text):
        expected = [row["customer_id"] for _, row in features.iterrows() if value(row, number) is True]
        assert members(rule, features) == expected, rule


def test_long_table_is_sorted_by_customer_then_segment_whatever_the_row_order():
    segments = parse_rule_segments(
        [
            {"name": "mobile", "rule": "primary_device == 'mobile'"},
            {"name": "B2B", "rule": "is_b2b"},
            {"name": "big", "rule": "monetary >= 1000"},
        ],
        SCHEMA,
        "x",
    )
    expected = [
        ["c1", "big", "rule"],
        ["c1", "mobile", "rule"],
        ["c2", "B2B", "rule"],
        ["c4", "B2B", "rule"],
        ["c4", "big", "rule"],
        ["c4", "mobile", "rule"],
        ["c6", "B2B", "rule"],
        ["c6", "big", "rule"],
        ["c6", "mobile", "rule"],
    ]
    shuffled = frame().iloc[[5, 2, 0, 4, 1, 3]].set_axis([10, 11, 12, 13, 14, 15])
    for features in (frame(), shuffled):
        table = evaluate(segments, features)
        assert table.values.tolist() == expected
        assert list(table.columns) == ["customer_id", "segment", "source"]
        assert table.dtypes.tolist() == [pd.StringDtype(na_value=np.nan)] * 3
        assert table.index.tolist() == list(range(9))


def test_no_segments_or_no_members_give_an_empty_long_table():
    assert evaluate([], frame()).columns.tolist() == ["customer_id", "segment", "source"]
    assert evaluate([], frame()).empty
    segments = parse_rule_segments([{"name": "none", "rule": "monetary > 1e9"}], SCHEMA, "x")
    assert evaluate(segments, frame()).empty


def test_evaluate_checks_the_features_against_the_rules():
    segments = parse_rule_segments([{"name": "promoters", "rule": "nps >= 9 and has_survey"}], SCHEMA, "x")
    with pytest.raises(RuleError) as info:
        evaluate(segments, frame().drop(columns="has_survey"))
    assert str(info.value) == (
        "segment 'promoters': unknown column 'has_survey'\n    nps >= 9 and has_survey\n                 ^"
    )
    with pytest.raises(RuleError, match="'>=' cannot be used on the text column 'nps'"):
        evaluate(segments, frame().astype({"nps": "str"}))


def test_evaluate_needs_unique_customer_ids():
    segments = parse_rule_segments([{"name": "b2b", "rule": "is_b2b"}], SCHEMA, "x")
    features = frame()
    with pytest.raises(ValueError, match="duplicate customer_id values, e.g. 'c1'"):
        evaluate(segments, pd.concat([features, features.iloc[[0]]]))
    with pytest.raises(ValueError, match="rows without a customer_id"):
        evaluate(segments, features.assign(customer_id=["c1", None, "c3", "c4", "c5", "c6"]))
    with pytest.raises(ValueError, match="no customer_id column"):
        evaluate(segments, features.drop(columns="customer_id"))


def test_evaluation_is_vectorised_on_a_large_frame():
    size = 200_000
    rng = np.random.default_rng(1)
    features = pd.DataFrame(
        {
            "customer_id": pd.Series([f"C{i:07d}" for i in range(size)], dtype="str"),
            "monetary": rng.gamma(1.0, 300.0, size),
            "frequency": rng.integers(0, 20, size),
            "primary_device": pd.Series(rng.choice(["mobile", "desktop", "tablet"], size), dtype="str"),
            "is_b2b": rng.random(size) < 0.1,
        }
    )
    segments = parse_rule_segments(
        [
            {"name": "VIP", "rule": "monetary >= 1000 and frequency >= 10"},
            {"name": "mobile", "rule": "primary_device == 'mobile' and not is_b2b"},
        ],
        schema_of(features),
        "x",
    )
    table = evaluate(segments, features)
    vip = (features["monetary"] >= 1000) & (features["frequency"] >= 10)
    mobile = (features["primary_device"] == "mobile") & ~features["is_b2b"]
    assert (table["segment"] == "VIP").sum() == vip.sum()
    assert (table["segment"] == "mobile").sum() == mobile.sum()
    assert table["customer_id"].is_monotonic_increasing
