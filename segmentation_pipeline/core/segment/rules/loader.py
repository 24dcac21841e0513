"""Loading the marketers' segments file: YAML with a list of ``name``/``description``/``rule`` entries::

    segments:
      - name: VIP
        description: Big spenders who buy often
        rule: monetary >= 1000 and frequency >= 10

Every rule is parsed and type-checked while the file is loaded, and every problem of the file is reported at
once (RuleError), so the marketer fixes the file in one round instead of one error per run.
"""

from __future__ import annotations

import difflib
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from segmentation_pipeline.core.errors import quoted
from segmentation_pipeline.core.segment.rules.parser import parse_rule
from segmentation_pipeline.core.segment.rules.syntax import MAX_SEGMENT_NAME_CHARS, Expression, RuleError, RuleSegment
from segmentation_pipeline.core.segment.rules.tokens import RuleSyntaxError
from segmentation_pipeline.core.segment.rules.type_checks import KINDS, type_problems, with_caret

_SEGMENT_KEYS = ("name", "description", "rule")


class _AliasRefused(yaml.YAMLError):
    """A YAML alias (``*name``) met while composing the document, before anything was expanded."""

    def __init__(self, mark: yaml.Mark):
        super().__init__("YAML aliases (*name) are not allowed in segment rules")
        self.mark = mark


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key repeated in one mapping is an error instead of silently winning, and
    that aliases are refused: a few hundred bytes of nested aliases ("billion laughs") expand to gigabytes."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise _AliasRefused(self.peek_event().start_mark)
        return super().compose_node(parent, index)


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, Hashable):
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def read_utf8_text(path: Path) -> str:
    """The text of a file the marketers or account managers keep; raises RuleError when it is missing or not UTF-8."""
    try:
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RuleError(f"{path}: file not found", str(path)) from None
    except UnicodeDecodeError as error:
        raise RuleError(f"{path}: not UTF-8 text (byte {error.start})", str(path)) from None


def load_rule_segments(path: Path, schema: dict[str, str]) -> list[RuleSegment]:
    """Read, parse and validate a segments YAML file; raises RuleError listing every problem of the file."""
    return parse_rule_segments(read_marketer_yaml(Path(path)), schema, str(path))


def read_marketer_yaml(path: Path) -> Any:
    """The data of a YAML file marketers keep, read safely (no aliases, no repeated keys); raises RuleError naming
    the file and line when it cannot be read."""
    text = read_utf8_text(path)
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except _AliasRefused as error:
        raise RuleError(f"{path} line {error.mark.line + 1}: {error}", str(path)) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RuleError(f"{path}: not valid YAML{where}: {problem}", str(path)) from None


def parse_rule_segments(data: dict | list | None, schema: dict[str, str], origin: str) -> list[RuleSegment]:
    """Validate already-loaded YAML data (a mapping with `segments:` or a bare list) against `schema`; `origin`
    names the file in messages."""
    bad_kinds = {column: kind for column, kind in schema.items() if kind not in KINDS}
    if bad_kinds:
        raise ValueError(f"schema kinds must be one of {KINDS}: {bad_kinds}")
    reader = _SegmentListReader(schema, origin)
    segments = []
    for number, item in enumerate(reader.items(data), start=1):
        segment = reader.segment(number, item)
        if segment is not None:
            segments.append(segment)
    if reader.problems:
        raise RuleError(reader.problems, origin)
    return segments


class _SegmentListReader:
    """Reads the entries of one segments file, collecting every problem instead of stopping at the first."""

    def __init__(self, schema: dict[str, str], origin: str):
        self.schema, self.origin = schema, origin
        self.problems: list[str] = []
        self.numbers_by_folded_name: dict[str, tuple[int, str]] = {}

    def items(self, data: dict | list | None) -> list:
        """The list of segment entries; raises RuleError when the file has no such list."""
        origin = self.origin
        if data is None:
            raise RuleError(f"{origin}: the file is empty; expected 'segments:' followed by a list of segments", origin)
        if isinstance(data, dict):
            for key in data:
                if key != "segments":
                    self.problems.append(f"{origin}: unknown top-level key {quoted(key)}; expected only 'segments'")
            if "segments" not in data:
                self.problems.append(f"{origin}: expected 'segments:' followed by a list of segments")
                raise RuleError(self.problems, origin)
            items = data["segments"] if data["segments"] is not None else []
        else:
            items = data
        if not isinstance(items, list):
            self.problems.append(
                f"{origin}: 'segments' must be a list of segments, each starting with '- name:', "
                f"found {_yaml_kind(items)}"
            )
            raise RuleError(self.problems, origin)
        return items

    def segment(self, number: int, item: Any) -> RuleSegment | None:
        """The segment of entry #`number`, or None when the entry has a problem."""
        if not isinstance(item, dict):
            self.problems.append(
                f"{self.origin}: segment #{number} must be a mapping with 'name' and 'rule', found {_yaml_kind(item)}"
            )
            return None
        name, prefix = self.name(number, item)
        for key in item:
            if key not in _SEGMENT_KEYS:
                close = difflib.get_close_matches(str(key), _SEGMENT_KEYS, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                allowed = f"{hint}allowed: name, description, rule"
                self.problems.append(f"{prefix}: unknown key {quoted(str(key))} ({allowed})")
        description = item.get("description")
        if description is None:
            description = ""
        elif not isinstance(description, str):
            self.problems.append(f"{prefix}: the description must be text, found {quoted(description)}")
            description = str(description)
        text = self.rule_text(item, prefix)
        if text is None:
            return None
        expression, rule_problems = _parsed_rule(prefix, text, self.schema)
        self.problems.extend(rule_problems)
        if expression is None or name is None:
            return None
        return RuleSegment(name, description.strip(), text, expression)

    def name(self, number: int, item: dict) -> tuple[str | None, str]:
        """The entry's name (None when missing or invalid) and the prefix of its messages."""
        name = item.get("name")
        prefix = f"{self.origin}: segment #{number}"
        if name is None or (isinstance(name, str) and not name.strip()):
            self.problems.append(f"{prefix} has {'an empty' if 'name' in item else 'no'} name")
            return None, prefix
        if not isinstance(name, str):
            self.problems.append(f"{prefix}: the name must be text, found {quoted(name)}; put it in quotes")
            return None, prefix
        name = name.strip()
        if len(name) > MAX_SEGMENT_NAME_CHARS:
            self.problems.append(
                f"{prefix}: the name is {len(name):,} characters long; at most {MAX_SEGMENT_NAME_CHARS} are allowed"
            )
            return None, prefix
        prefix = f"segment '{name}'"
        folded = name.casefold()
        if folded in self.numbers_by_folded_name:
            other_number, other_name = self.numbers_by_folded_name[folded]
            self.problems.append(
                f"{prefix}: duplicate segment name (segment #{other_number} is also named '{other_name}')"
            )
        else:
            self.numbers_by_folded_name[folded] = (number, name)
        return name, prefix

    def rule_text(self, item: dict, prefix: str) -> str | None:
        """The entry's rule without surrounding blanks, or None when it is missing, empty or not text."""
        rule = item.get("rule")
        if rule is None:
            self.problems.append(f"{prefix}: {'empty' if 'rule' in item else 'missing'} 'rule'")
            return None
        if not isinstance(rule, str):
            self.problems.append(f"{prefix}: 'rule' must be text, found {quoted(rule)}; put the rule in quotes")
            return None
        text = rule.strip()
        if not text:
            self.problems.append(f"{prefix}: empty 'rule'")
            return None
        return text


def _parsed_rule(prefix: str, text: str, schema: dict[str, str]) -> tuple[Expression | None, list[str]]:
    """The rule's syntax tree (None on a syntax error) and its problems, each shown with a caret."""
    try:
        expression = parse_rule(text)
    except RuleSyntaxError as error:
        return None, [
            with_caret(prefix, f"syntax error at {_where(text, error.pos)}: {error.message}", text, error.pos)
        ]
    problems = [with_caret(prefix, message, text, pos) for message, pos in type_problems(expression, schema)]
    return expression, problems


def _where(text: str, pos: int) -> str:
    """A position as the marketer counts it: 1-based, and within its line when the rule spans several."""
    if "\n" not in text:
        return f"position {pos + 1}"
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, position {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _yaml_kind(value: Any) -> str:
    """How a YAML value that is not what was expected is named in a message."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {quoted(value)}"
    return quoted(value)
