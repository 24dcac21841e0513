import builtins
import io
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.segment import rules
from segmentation_pipeline.core.segment.rules import (
    And,
    BoolColumn,
    Comparison,
    InList,
    IsNull,
    Literal,
    Not,
    Or,
    RuleError,
    RuleSegment,
    evaluate,
    load_manual_assignments,
    load_rule_segments,
    membership_lists,
    parse_rule_segments,
    schema_of,
)

RULES_DIR = Path(__file__).resolve().parents[1] / "segmentation_pipeline" / "rules"

SCHEMA = {
    "customer_id": "string",
    "monetary": "number",
    "frequency": "number",
    "m_score": "number",
    "nps": "number",
    "is_b2b": "bool",
    "has_survey": "bool",
    "company_size": "string",
    "primary_device": "string",
    "nps_group": "string",
    "lifecycle_stage": "string",
    "first_order_date": "date",
}

# The feature dictionary of the README plus the RFM and behavioural segment columns of customer_segments.
README_SCHEMA = {
    **{c: "string" for c in ("customer_id", "primary_device", "preferred_time_of_day", "top_feature", "nps_group")},
    **{c: "string" for c in ("primary_need", "preferred_contact_channel", "age_band", "gender", "country", "region")},
    **{c: "string" for c in ("income_band", "acquisition_channel", "company_size", "industry", "lifecycle_stage")},
    **{c: "string" for c in ("rfm_segment", "segment_name")},
    **{c: "date" for c in ("snapshot_date", "first_order_date", "last_order_date")},
    **{c: "bool" for c in ("has_orders", "has_usage", "has_survey", "is_b2b", "marketing_opt_in")},
    **{
        c: "number"
        for c in (
            "recency_days",
            "frequency",
            "purchase_days",
            "monetary",
            "avg_order_value",
            "lifetime_orders",
            "lifetime_spend",
            "cancelled_orders",
            "refunded_orders",
            "tenure_days",
            "repeat_purchases",
            "age_at_last_purchase_days",
            "customer_age_days",
            "mean_repeat_spend",
            "sessions",
            "active_days",
            "events",
            "events_per_session",
            "mean_session_minutes",
            "mobile_share",
            "desktop_share",
            "tablet_share",
            "night_share",
            "morning_share",
            "afternoon_share",
            "evening_share",
            "weekend_share",
            "distinct_features",
            "days_since_last_seen",
            "nps",
            "csat",
            "price_sensitivity",
            "r_score",
            "f_score",
            "m_score",
            "segment_id",
        )
    },
}


def parse(rule: str, schema: dict = SCHEMA):
    return parse_rule_segments([{"name": "s", "rule": rule}], schema, "test.yaml")[0].expression


def error(rule: str, schema: dict = SCHEMA) -> str:
    with pytest.raises(RuleError) as info:
        parse_rule_segments([{"name": "s", "rule": rule}], schema, "test.yaml")
    return str(info.value)


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": pd.Series(["c1", "c2", "c3", "c4", "c5", "c6"], dtype="str"),
            "monetary": [1500.0, 200.0, np.nan, 1000.0, 50.0, 3000.0],
            "frequency": pd.array([12, 3, 0, 10, 1, None], dtype="Int64"),
            "m_score": pd.array([5, 3, None, 4, 1, 5], dtype="Int64"),
            "nps": pd.array([10, None, None, 9, 2, 7], dtype="Int64"),
            "is_b2b": pd.array([False, True, None, True, False, True], dtype="boolean"),
            "has_survey": [True, False, False, True, True, True],
            "company_size": pd.Series([None, "201-1000", None, "1000+", None, "11-50"], dtype="str"),
            "primary_device": pd.Series(["mobile", "desktop", None, "mobile", "tablet", "mobile"], dtype="str"),
            "nps_group": pd.Series(["promoter", None, None, "promoter", "detractor", "passive"], dtype="str"),
            "lifecycle_stage": pd.Series(
                ["active", "at risk", "never purchased", "lapsed", "churned", "at risk"], dtype="str"
            ),
            "first_order_date": pd.to_datetime(
                ["2026-01-15 10:30", "2025-06-01", None, "2026-01-01 23:59", "2024-12-31", "2026-03-01"],
                format="ISO8601",
            ),
        }
    )


def members(rule: str, features: pd.DataFrame | None = None) -> list[str]:
    features = frame() if features is None else features
    segments = parse_rule_segments([{"name": "s", "rule": rule}], schema_of(features), "test.yaml")
    return evaluate(segments, features)["customer_id"].tolist()


# ---------------------------------------------------------------------------------------------- parsing


def test_precedence_not_binds_tighter_than_and_than_or():
    assert parse("is_b2b or has_survey and not is_b2b") == Or(
        (BoolColumn("is_b2b"), And((BoolColumn("has_survey"), Not(BoolColumn("is_b2b")))))
    )
    assert parse("not is_b2b and has_survey") == And((Not(BoolColumn("is_b2b")), BoolColumn("has_survey")))


def test_parentheses_override_precedence_and_chains_are_flat():
    assert parse("(is_b2b or has_survey) and not (m_score < 4)") == And(
        (Or((BoolColumn("is_b2b"), BoolColumn("has_survey"))), Not(Comparison("m_score", "<", Literal(4))))
    )
    assert parse("is_b2b and has_survey and is_b2b or has_survey or is_b2b") == Or(
        (And((BoolColumn("is_b2b"), BoolColumn("has_survey"), BoolColumn("is_b2b"))), BoolColumn("has_survey"),
         BoolColumn("is_b2b"))
    )  # fmt: skip
    assert parse("not not ((is_b2b))") == Not(Not(BoolColumn("is_b2b")))


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_every_comparison_operator(op):
    assert parse(f"monetary {op} 1000") == Comparison("monetary", op, Literal(1000))
    assert parse(f"monetary{op}1000") == Comparison("monetary", op, Literal(1000))


def test_in_and_not_in_lists():
    assert parse('company_size in ("201-1000", "1000+")') == InList(
        "company_size", (Literal("201-1000"), Literal("1000+")), negated=False
    )
    assert parse("m_score not in (1, 2,)") == InList("m_score", (Literal(1), Literal(2)), negated=True)
    assert parse("not m_score in (1)") == Not(InList("m_score", (Literal(1),)))


def test_is_null_and_is_not_null():
    assert parse("nps is null") == IsNull("nps", negated=False)
    assert parse("nps is not null") == IsNull("nps", negated=True)


def test_strings_in_either_quotes_with_escapes_and_spaces():
    assert parse("lifecycle_stage == 'at risk'") == Comparison("lifecycle_stage", "==", Literal("at risk"))
    assert parse(r'nps_group == "say \"hi\" "') == Comparison("nps_group", "==", Literal('say "hi" '))
    assert parse(r"nps_group == 'it\'s'") == Comparison("nps_group", "==", Literal("it's"))
    assert parse(r'nps_group == "a\\b"') == Comparison("nps_group", "==", Literal("a\\b"))
    assert parse('nps_group == "it\'s"') == Comparison("nps_group", "==", Literal("it's"))
    assert parse('nps_group == ""') == Comparison("nps_group", "==", Literal(""))


@pytest.mark.parametrize(
    ("text", "value"),
    [("10", 10), ("-5", -5), ("3.5", 3.5), ("-0.25", -0.25), ("1e3", 1000.0), (".5", 0.5), ("0", 0)],
)
def test_numbers(text, value):
    literal = parse(f"monetary > {text}").value
    assert literal.value == value
    assert type(literal.value) is type(value)


def test_keywords_are_case_insensitive():
    assert parse("NOT is_b2b AND m_score IN (1, 2) Or nps IS NOT NULL OR has_survey == TRUE") == Or(
        (
            And((Not(BoolColumn("is_b2b")), InList("m_score", (Literal(1), Literal(2))))),
            IsNull("nps", negated=True),
            Comparison("has_survey", "==", Literal(True)),
        )
    )
    assert parse("is_b2b == False") == Comparison("is_b2b", "==", Literal(False))
    assert parse("m_score Not In (3)") == InList("m_score", (Literal(3),), negated=True)


def test_segment_keeps_text_description_and_columns():
    [segment] = parse_rule_segments(
        {"segments": [{"name": " VIP ", "description": " Big spenders ", "rule": "  monetary >= 1000 and is_b2b \n"}]},
        SCHEMA,
        "test.yaml",
    )
    assert segment == RuleSegment(
        "VIP", "Big spenders", "monetary >= 1000 and is_b2b", parse("monetary >= 1000 and is_b2b")
    )
    assert segment.columns == ["monetary", "is_b2b"]


# ---------------------------------------------------------------------------------------------- validation


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


@pytest.mark.parametrize(
    ("rule", "message", "caret"),
    [
        ("monetary >= and is_b2b", "position 13: expected a value after '>=', found 'and'", 12),
        ("monetary >=", "position 12: expected a value after '>=', found the end of the rule", 11),
        ("monetary = 3", "position 10: '=' is not an operator; use '==' to compare", 9),
        ("monetary <> 3", "position 10: '<>' is not an operator; use '!='", 9),
        ("monetary => 3", "position 10: '=>' is not an operator; use '>='", 9),
        ("is_b2b && has_survey", "position 8: '&&' is not an operator; use 'and'", 7),
        ("! is_b2b", "position 1: '!' is not an operator; use 'not' (or '!=')", 0),
        ('primary_device == "mobile', 'position 19: text starting here has no closing "', 18),
        ("primary_device == 'a\\n'", "position 21: unknown escape in text; only \\\", \\' and \\\\ are allowed", 20),
        ("primary_device == \u201cmobile\u201d", "position 19: typographic quote \u201c; write text between straight "
         "quotes \" or '", 18),
        ("monetary > 10k", "position 12: '10k' is not a number", 11),
        ("monetary > 1.2.3", "position 12: '1.2.3' is not a number", 11),
        ("monetary > 1,000", "position 13: expected 'and', 'or' or the end of the rule, found ','", 12),
        ("primary_device == mobile", "position 19: expected a value after '==', found 'mobile'; write text in quotes "
         "(\"mobile\"), columns cannot be compared with each other", 18),
        ("1000 <= monetary", "position 1: expected a column name, found number 1000 (a condition starts with the "
         "column, e.g. monetary >= 1000)", 0),
        ("(is_b2b or has_survey", "position 22: expected ')' to close the '(' at position 1, found the end of the "
         "rule", 21),
        ("is_b2b)", "position 7: ')' without a matching '('", 6),
        ("is_b2b and", "position 11: expected a column name, found the end of the rule", 10),
        ("is_b2b has_survey", "position 8: expected an operator (==, !=, <, <=, >, >=, in, not in, is null) after "
         "'is_b2b', found 'has_survey'", 7),
        ("m_score in ()", "position 13: the list after 'in' is empty", 12),
        ("m_score in 1, 2", "position 12: expected '(' after 'in', found number 1, e.g. in (\"a\", \"b\")", 11),
        ("m_score in (1 2)", "position 15: expected ',' or ')' in the list, found number 2", 14),
        ("m_score not 3", "position 13: expected 'in' after 'm_score not', found number 3 (to negate a condition, "
         "put 'not' before it)", 12),
        ("nps is 3", "position 8: expected 'null' after 'is', found number 3", 7),
        ("nps is not nothing", "position 12: expected 'null' after 'is not', found 'nothing'", 11),
        ("monetary > 5 $", "position 14: unexpected character '$'", 13),
    ],
)  # fmt: skip
def test_syntax_errors_show_the_rule_with_a_caret(rule, message, caret):
    assert error(rule) == f"segment 's': syntax error at {message}\n    {rule}\n    {' ' * caret}^"


def test_syntax_error_in_a_multi_line_rule_points_into_its_line():
    assert error("is_b2b\n  and monetary >\n  and has_survey") == (
        "segment 's': syntax error at line 3, position 3: expected a value after '>', found 'and'\n"
        "      and has_survey\n"
        "      ^"
    )


def test_deep_nesting_is_a_clean_error():
    assert error("(" * 150 + "is_b2b" + ")" * 150).startswith(
        "segment 's': syntax error at position 101: the rule nests more than 100 levels deep"
    )
    assert error("not " * 150 + "is_b2b").startswith("segment 's': syntax error at position 401: the rule nests")


def test_rules_are_never_run_as_python(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("user text must never be evaluated as code")

    # (compile stays: pytest needs it to report failures)
    for owner, name in [(builtins, "eval"), (builtins, "exec"), (pd, "eval"), (pd.DataFrame, "query")]:
        monkeypatch.setattr(owner, name, forbidden)
    monkeypatch.setattr(pd.DataFrame, "eval", forbidden)

    assert error('__import__("os").system("touch /tmp/pwned")') == (
        "segment 's': syntax error at position 11: expected an operator (==, !=, <, <=, >, >=, in, not in, "
        "is null) after '__import__', found '('\n"
        '    __import__("os").system("touch /tmp/pwned")\n'
        "              ^"
    )
    assert error("__import__") == "segment 's': unknown column '__import__'\n    __import__\n    ^"
    assert error("monetary.__class__ == 1").startswith(
        "segment 's': syntax error at position 9: unexpected character '.'"
    )
    # code inside a string literal is just text to compare with
    assert members("primary_device == \"__import__('os').system('x')\" or monetary > 2000") == ["c6"]


# ---------------------------------------------------------------------------------------------- files


def write(tmp_path: Path, text: str, name: str = "segments.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        """
segments:
  - name: VIP
    rule: monetery >= 1000
  - name: vip
    rule: frequency > 1
  - rule: is_b2b
  - name: no rule
  - just a string
  - name: bad syntax
    rule: monetary >=
    colour: red
  - name: "  "
    rule: is_b2b
  - name: 2024
    rule: is_b2b
  - name: empty
    rule: ""
  - name: flag
    rule: true
  - name: VIP
    rules: is_b2b
""",
    )
    with pytest.raises(RuleError) as info:
        load_rule_segments(path, SCHEMA)
    assert str(info.value) == (
        f"{path}: 14 problems\n"
        "segment 'VIP': unknown column 'monetery' (did you mean 'monetary'?)\n"
        "    monetery >= 1000\n"
        "    ^\n"
        "segment 'vip': duplicate segment name (segment #1 is also named 'VIP')\n"
        f"{path}: segment #3 has no name\n"
        "segment 'no rule': missing 'rule'\n"
        f"{path}: segment #5 must be a mapping with 'name' and 'rule', found the text 'just a string'\n"
        "segment 'bad syntax': unknown key 'colour' (allowed: name, description, rule)\n"
        "segment 'bad syntax': syntax error at position 12: expected a value after '>=', found the end of the rule\n"
        "    monetary >=\n"
        "               ^\n"
        f"{path}: segment #7 has an empty name\n"
        f"{path}: segment #8: the name must be text, found 2024; put it in quotes\n"
        "segment 'empty': empty 'rule'\n"
        "segment 'flag': 'rule' must be text, found True; put the rule in quotes\n"
        "segment 'VIP': duplicate segment name (segment #1 is also named 'VIP')\n"
        "segment 'VIP': unknown key 'rules' (did you mean 'rule'? allowed: name, description, rule)\n"
        "segment 'VIP': missing 'rule'"
    )
    assert len(info.value.problems) == 14


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the file is empty; expected 'segments:' followed by a list of segments"),
        ("# nothing yet\n", "the file is empty; expected 'segments:' followed by a list of segments"),
        ("segments: VIP\n", "'segments' must be a list of segments, each starting with '- name:', found the "
         "text 'VIP'"),
        ("segments:\n  VIP: monetary > 1\n", "'segments' must be a list of segments, each starting with '- name:', "
         "found a mapping"),
        ("just text\n", "'segments' must be a list of segments, each starting with '- name:', found the text "
         "'just text'"),
        ("segments:\n  - name: VIP\n    rule: is_b2b\n    rule: has_survey\n", "not valid YAML at line 4, column 5: "
         "duplicate key 'rule'"),
        ("segments:\n  - name: VIP\n    rule: x: y\n", "not valid YAML at line 3, column 12: mapping values are not "
         "allowed here"),
    ],
)  # fmt: skip
def test_file_level_problems_name_the_file(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(RuleError) as info:
        load_rule_segments(path, SCHEMA)
    assert str(info.value).split("\n")[0] == f"{path}: {message}"


def test_missing_segments_key_and_unknown_key_are_both_reported():
    with pytest.raises(RuleError) as info:
        parse_rule_segments({"segment": []}, SCHEMA, "s.yaml")
    assert info.value.problems == [
        "s.yaml: unknown top-level key 'segment'; expected only 'segments'",
        "s.yaml: expected 'segments:' followed by a list of segments",
    ]


def test_bare_list_and_empty_segments_are_accepted():
    assert [s.name for s in parse_rule_segments([{"name": "a", "rule": "is_b2b"}], SCHEMA, "x")] == ["a"]
    assert parse_rule_segments({"segments": []}, SCHEMA, "x") == []
    assert parse_rule_segments({"segments": None}, SCHEMA, "x") == []


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(RuleError, match=r"nope\.yaml: file not found$"):
        load_rule_segments(tmp_path / "nope.yaml", SCHEMA)
    (tmp_path / "latin1.yaml").write_bytes("segments:\n  - name: caf\xe9\n".encode("latin-1"))
    with pytest.raises(RuleError, match=r"latin1\.yaml: not UTF-8 text \(byte 23\)$"):
        load_rule_segments(tmp_path / "latin1.yaml", SCHEMA)


def test_bad_schema_kinds_are_a_programming_error():
    with pytest.raises(ValueError, match="schema kinds must be one of"):
        parse_rule_segments([], {"x": "integer"}, "x")


def test_example_segments_load_against_the_published_columns():
    segments = load_rule_segments(RULES_DIR / "example_segments.yaml", README_SCHEMA)
    assert [(s.name, s.rule) for s in segments] == [
        ("VIP", "monetary >= 1000 and frequency >= 10"),
        ("mobile-first promoters", 'primary_device == "mobile" and nps_group == "promoter"'),
        ("B2B enterprise", 'is_b2b and company_size in ("201-1000", "1000+")'),
        ("at-risk high value", 'lifecycle_stage in ("at risk", "lapsed") and not (m_score < 4)'),
        ("first-year buyers outside the US", 'first_order_date >= "2026-01-01" and country not in ("US")'),
        ("champions to survey", 'rfm_segment == "champions" and not has_survey and marketing_opt_in'),
    ]
    assert segments[0].description == "Big spenders who buy often"


def test_example_segments_evaluate_on_the_test_frame():
    segments = load_rule_segments(RULES_DIR / "example_segments.yaml", README_SCHEMA)[:4]
    assert evaluate(segments, frame()).values.tolist() == [
        ["c1", "VIP", "rule"],
        ["c1", "mobile-first promoters", "rule"],
        ["c2", "B2B enterprise", "rule"],
        ["c4", "B2B enterprise", "rule"],
        ["c4", "VIP", "rule"],
        ["c4", "at-risk high value", "rule"],
        ["c4", "mobile-first promoters", "rule"],
        ["c6", "at-risk high value", "rule"],
    ]


def test_example_manual_assignments_load():
    result = load_manual_assignments(
        RULES_DIR / "example_manual_assignments.csv", {"C000001", "C000002", "C000003"}, date(2026, 11, 22)
    )
    assert result.assignments.values.tolist() == [
        ["C000001", "key account", "manual"],
        ["C000002", "VIP", "manual"],
        ["C000002", "key account", "manual"],
    ]
    assert (result.unknown_customers, result.expired) == ([], 1)


# ---------------------------------------------------------------------------------------------- evaluation


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


# ---------------------------------------------------------------------------------------------- manual assignments

KNOWN = pd.Index(["c1", "c2", "c3", "c4"])


def manual(tmp_path: Path, text: str, known=KNOWN, as_of=date(2026, 6, 30)):
    path = write(tmp_path, text, "manual.csv")
    return load_manual_assignments(path, known, as_of)


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


# ---------------------------------------------------------------------------------------------- membership lists


def test_membership_lists_align_with_the_customers():
    long_table = pd.DataFrame(
        {
            "customer_id": ["c3", "c1", "c1", "c3", "c9", "c1"],
            "segment": ["vip", "vip", "beta", "VIP", "vip", "vip"],
            "source": ["rule", "rule", "manual", "manual", "rule", "manual"],
        }
    )
    customers = pd.Series(["c1", "c2", "c3", None, "c1"], index=[10, 20, 30, 40, 50])
    lists = membership_lists(long_table, customers)
    assert lists.tolist() == [["beta", "vip"], [], ["VIP", "vip"], [], ["beta", "vip"]]
    assert lists.index.tolist() == [10, 20, 30, 40, 50]
    assert lists.dtype == object
    assert lists.iloc[0] is not lists.iloc[4]  # every customer gets a list of its own


def test_membership_lists_of_many_segments():
    names = [f"s{i:03d}" for i in range(100)]
    long_table = pd.DataFrame({"customer_id": ["a"] * 100 + ["b"], "segment": names[::-1] + ["s050"]})
    lists = membership_lists(long_table, pd.Series(["b", "c", "a"]))
    assert lists.tolist() == [["s050"], [], names]


def test_membership_lists_write_to_parquet_as_list_of_strings():
    features = frame()
    for long_table in (evaluate([], features), pd.DataFrame({"customer_id": ["c2"], "segment": ["vip"]})):
        published = pd.DataFrame(
            {"customer_id": features["customer_id"], "segments": membership_lists(long_table, features["customer_id"])}
        )
        table = pa.Table.from_pandas(published, preserve_index=False)
        table = table.cast(pa.schema([("customer_id", pa.string()), ("segments", rules.SEGMENT_LIST_TYPE)]))
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        assert pq.read_schema(buffer).field("segments").type == pa.list_(pa.field("element", pa.string()))
        buffer.seek(0)
        assert pd.read_parquet(buffer)["segments"].map(list).tolist() == published["segments"].tolist()


def test_membership_lists_of_rule_and_manual_segments_together(tmp_path):
    segments = parse_rule_segments(
        [{"name": "VIP", "rule": "monetary >= 1000"}, {"name": "B2B", "rule": "is_b2b"}], SCHEMA, "x"
    )
    manual_result = manual(tmp_path, "customer_id,segment\nc2,VIP\nc3,key account\nc1,VIP\n")
    both = pd.concat([evaluate(segments, frame()), manual_result.assignments], ignore_index=True)
    assert membership_lists(both, frame()["customer_id"]).tolist() == [
        ["VIP"],
        ["B2B", "VIP"],
        ["key account"],
        ["B2B", "VIP"],
        [],
        ["B2B", "VIP"],
    ]
    assert membership_lists(both, pd.Series([], dtype="str")).tolist() == []
