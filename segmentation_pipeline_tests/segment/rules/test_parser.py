"""Tokenizing and parsing segment rules: the syntax tree of every construct, and syntax errors with a caret."""

import builtins

import pandas as pd
import pytest

from segmentation_pipeline.core.segment.rules import And, BoolColumn, Comparison, InList, IsNull, Literal, Not, Or
from segmentation_pipeline_tests.segment.rules.helpers import error, members, parse


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


OUT_OF_RANGE = "number out of range (numbers in rules lie between -1.7e308 and 1.7e308)"


@pytest.mark.parametrize("number", ["1e999", "-1e999", "1" + "0" * 309, "1" + "0" * 5000, "1" + "0" * 5000 + ".5"])
def test_numbers_beyond_a_float_are_out_of_range(number):
    rule = f"monetary >= {number}"
    shown = rule if len(rule) <= 100 else rule[:100] + "…"
    assert error(rule) == f"segment 's': syntax error at position 13: {OUT_OF_RANGE}\n    {shown}\n    {' ' * 12}^"


def test_the_largest_numbers_of_a_float_are_accepted():
    assert parse("monetary < 1e308").value == Literal(1e308)
    assert parse("monetary < " + "9" * 308).value == Literal(int("9" * 308))
    assert parse("monetary > 0." + "0" * 5000 + "1").value == Literal(0.0)


def test_inf_and_nan_are_not_numbers_but_names():
    assert error("monetary < inf") == (
        "segment 's': syntax error at position 12: expected a value after '<', found 'inf'; write text in quotes "
        '("inf"), columns cannot be compared with each other\n'
        "    monetary < inf\n"
        "               ^"
    )
    assert error("monetary != nan").startswith("segment 's': syntax error at position 13: expected a value")


def test_a_long_rule_is_shown_only_around_the_caret():
    before, after = "monetary >= 1 and " * 30000, "monetary >= 1 and " * 30000 + "is_b2b"
    rule = before + "monetary = 3 and " + after
    pos = len(before) + len("monetary ")
    message = error(rule)
    assert message == (
        f"segment 's': syntax error at position {pos + 1}: '=' is not an operator; use '==' to compare\n"
        f"    …{rule[pos - 50 : pos + 50]}…\n"
        f"    {' ' * 51}^"
    )
    assert len(rule) > 1_000_000 and len(message) < 1100


def test_the_end_of_a_long_rule_is_shown_up_to_its_last_character():
    rule = "is_b2b and " * 20 + "monetary >="
    assert error(rule) == (
        f"segment 's': syntax error at position {len(rule) + 1}: expected a value after '>=', found the end of the "
        f"rule\n    …{rule[-100:]}\n    {' ' * 101}^"
    )
