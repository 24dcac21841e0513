"""Loading segments files: names, keys and rules are checked, and every problem of a file is reported at once."""

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
