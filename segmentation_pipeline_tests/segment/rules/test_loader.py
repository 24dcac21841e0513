"""Loading segments files: names, keys and rules are checked, and every problem of a file is reported at once."""

import time

import pytest

from segmentation_pipeline.core.segment.rules import RuleError, RuleSegment, load_rule_segments, parse_rule_segments
from segmentation_pipeline_tests.segment.rules.helpers import SCHEMA, parse, write


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


BILLION_LAUGHS = """segments:
  - name: VIP
    rule: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    description: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  - name: c
    rule: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  - name: d
    rule: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  - name: e
    rule: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
"""


def test_yaml_aliases_are_refused_before_anything_is_expanded(tmp_path):
    path = write(tmp_path, BILLION_LAUGHS, "rule_segments.yaml")
    started = time.perf_counter()
    with pytest.raises(RuleError) as info:
        load_rule_segments(path, SCHEMA)
    assert time.perf_counter() - started < 1
    assert str(info.value) == f"{path} line 4: YAML aliases (*name) are not allowed in segment rules"
    assert len(str(info.value)) < 1100


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("segments:\n  - name: &n VIP\n    rule: is_b2b\n  - name: *n\n    rule: is_b2b\n", 4),
        ("base: &base {rule: is_b2b}\nsegments:\n  - name: VIP\n    <<: *base\n", 4),
    ],
)
def test_any_alias_is_refused_naming_its_line(tmp_path, text, line):
    path = write(tmp_path, text)
    with pytest.raises(RuleError) as info:
        load_rule_segments(path, SCHEMA)
    assert str(info.value) == f"{path} line {line}: YAML aliases (*name) are not allowed in segment rules"


def test_an_anchor_without_alias_is_harmless(tmp_path):
    path = write(tmp_path, "segments:\n  - name: VIP\n    rule: &r is_b2b\n")
    assert [segment.rule for segment in load_rule_segments(path, SCHEMA)] == ["is_b2b"]


def test_a_1_mb_rule_line_is_shown_only_around_the_caret(tmp_path):
    rule = "monetary >= 1 and " * 55_000 + "frequenzy >= 10"
    path = write(tmp_path, f"segments:\n  - name: VIP\n    rule: {rule}\n")
    with pytest.raises(RuleError) as info:
        load_rule_segments(path, SCHEMA)
    assert str(info.value) == (
        f"segment 'VIP': unknown column 'frequenzy' (did you mean 'frequency'?)\n    …{rule[-100:]}\n    {' ' * 86}^"
    )
    assert len(rule) > 990_000 and len(str(info.value)) < 1100


def test_a_5000_digit_number_is_out_of_range(tmp_path):
    rule = "monetary >= 1" + "0" * 5000
    path = write(tmp_path, f"segments:\n  - name: VIP\n    rule: {rule}\n")
    with pytest.raises(RuleError) as info:
        load_rule_segments(path, SCHEMA)
    assert str(info.value) == (
        "segment 'VIP': syntax error at position 13: number out of range (numbers in rules lie between -1.7e308 and "
        f"1.7e308)\n    {rule[:100]}…\n    {' ' * 12}^"
    )


def test_every_problem_is_capped_at_1000_characters_keeping_its_caret():
    column = "x" * 1_000_000
    with pytest.raises(RuleError) as info:
        parse_rule_segments([{"name": "VIP", "rule": f"{column} >= 10"}], SCHEMA, "s.yaml")
    head = f"segment 'VIP': unknown column '{column}'"
    caret = f"\n    {'x' * 100}…\n    ^"
    tail = f"… ({len(head) - (1000 - len(caret))} more characters)"
    assert str(info.value) == f"{head[: 1000 - len(caret) - len(tail)]}{tail}{caret}"
    assert len(str(info.value)) == 1000


def test_segment_names_longer_than_100_characters_are_refused():
    with pytest.raises(RuleError) as info:
        parse_rule_segments(
            [{"name": "n" * 1_000_000, "rule": "is_b2b"}, {"name": "n" * 100, "rule": "is_b2b"}], SCHEMA, "s.yaml"
        )
    assert str(info.value) == "s.yaml: segment #1: the name is 1,000,000 characters long; at most 100 are allowed"


def test_long_values_in_messages_are_cut_and_the_hint_kept():
    with pytest.raises(RuleError) as info:
        parse_rule_segments([{"name": "VIP", "rule": ["x" * 100_000]}], SCHEMA, "s.yaml")
    assert str(info.value) == (
        f"segment 'VIP': 'rule' must be text, found ['{'x' * 53}… (99924 more characters); put the rule in quotes"
    )


def test_many_problems_list_25_of_them():
    items = [{"name": f"s{i}", "rule": "x" * 100_000} for i in range(30)]
    with pytest.raises(RuleError) as info:
        parse_rule_segments(items, SCHEMA, "s.yaml")
    lines = str(info.value).split("\n")
    assert lines[0] == "s.yaml: 30 problems" and lines[-1] == "... and 5 more"
    assert len(lines) == 1 + 25 * 3 + 1
    assert all(len(problem) <= 1000 for problem in info.value.problems)
    assert len(str(info.value)) < 26 * 1100
