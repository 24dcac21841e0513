"""Marketer-defined segments: a small declarative rule language over feature columns, plus manual assignments.

Segments live in a YAML file::

    segments:
      - name: VIP
        description: Big spenders who buy often
        rule: monetary >= 1000 and frequency >= 10

Rule grammar (keywords are case-insensitive; column names are exact)::

    rule       = or_expr END
    or_expr    = and_expr { "or" and_expr }
    and_expr   = not_expr { "and" not_expr }
    not_expr   = "not" not_expr | primary
    primary    = "(" or_expr ")" | condition
    condition  = column ( ("==" | "!=" | "<" | "<=" | ">" | ">=") literal
                        | [ "not" ] "in" "(" literal { "," literal } [ "," ] ")"
                        | "is" [ "not" ] "null"
                        | <nothing> )                  (* a bare true/false column means "== true" *)
    literal    = number | string | "true" | "false" | "null"
    number     = [ "-" ] digits [ "." digits ] [ ("e" | "E") [ "+" | "-" ] digits ]
    string     = '"' { char | '\\"' | "\\'" | "\\\\" } '"'   (or the same between single quotes)
    column     = letter_or_underscore { letter | digit | "_" }

Precedence: not > and > or. A condition always puts the column first and a constant second: columns are never
compared with each other and nothing is computed. Rules are tokenized and parsed by the code below into frozen
dataclasses and evaluated with numpy/pandas operations on whole columns; user text never reaches ``eval``.

Types, checked when the file is loaded against a schema of column kinds (see ``schema_of``):

- ``number`` columns compare with numbers (all six operators, ``in``);
- ``string`` columns compare with quoted text, with ``==``, ``!=``, ``in``, ``not in`` only (text has no order;
  comparisons are exact and case-sensitive);
- ``bool`` columns compare with ``true``/``false`` (``==``, ``!=``, ``in``) or stand alone (``is_b2b``);
- ``date`` columns compare with a quoted ``"YYYY-MM-DD"`` (all six operators, ``in``), on the calendar day:
  a timestamp column's time of day is ignored.
- ``null`` is only used as ``column is null`` / ``column is not null``.

Missing values follow SQL's three-valued logic: a comparison, ``in`` list or bare column on a missing value is
*unknown*; ``not unknown`` is unknown, ``unknown and false`` is false, ``unknown or true`` is true, and a customer
belongs to a segment only when its rule is definitely true. So ``not (m_score < 4)`` means exactly
``m_score >= 4`` and ``x != "a"`` means exactly ``not (x == "a")``: neither selects customers without a value.
To include them, say so: ``x != "a" or x is null``. ``is null`` / ``is not null`` are never unknown.

Manual assignments are a CSV maintained by account managers: ``customer_id,segment[,expires_on][,note]``.
``expires_on`` (YYYY-MM-DD, empty = never) is the first day the assignment no longer applies: it is active on
snapshot day D only when D < expires_on. ``note`` is free text for the account managers and ignored.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import operator
import re
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

__all__ = [
    "And",
    "BoolColumn",
    "Comparison",
    "Expression",
    "InList",
    "IsNull",
    "Literal",
    "ManualAssignments",
    "Not",
    "Or",
    "RuleError",
    "RuleSegment",
    "SEGMENT_LIST_TYPE",
    "columns_of",
    "evaluate",
    "load_manual_assignments",
    "load_rule_segments",
    "membership_lists",
    "parse_rule_segments",
    "schema_of",
]

NUMBER, STRING, BOOL, DATE = "number", "string", "bool", "date"
KINDS = (NUMBER, STRING, BOOL, DATE)
_KIND_LABEL = {NUMBER: "a number", STRING: "a text", BOOL: "a true/false", DATE: "a date"}

LONG_TABLE_COLUMNS = ("customer_id", "segment", "source")
SEGMENT_LIST_TYPE = pa.list_(pa.string())  # Parquet type of a column of membership_lists
RULE_SOURCE, MANUAL_SOURCE = "rule", "manual"

_SEGMENT_KEYS = ("name", "description", "rule")
_MANUAL_REQUIRED = ("customer_id", "segment")
_MANUAL_COLUMNS = ("customer_id", "segment", "expires_on", "note")
_MAX_LISTED_PROBLEMS = 25
_MAX_NESTING = 100


class RuleError(ValueError):
    """Invalid segment rules or manual assignments. `problems` lists every problem found, each a full message."""

    def __init__(self, problems: list[str] | str, source: str | None = None):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        self.source = source
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            shown = self.problems[:_MAX_LISTED_PROBLEMS]
            more = len(self.problems) - len(shown)
            message = f"{source or 'rules'}: {len(self.problems)} problems\n" + "\n".join(shown)
            if more:
                message += f"\n... and {more} more"
        super().__init__(message)


# --------------------------------------------------------------------------------------------------------------
# Syntax tree. Positions are 0-based offsets into the rule text, kept for error messages only (not compared).


@dataclass(frozen=True)
class Literal:
    value: int | float | str | bool | None
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Comparison:
    column: str
    op: str
    value: Literal
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class InList:
    column: str
    values: tuple[Literal, ...]
    negated: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class IsNull:
    column: str
    negated: bool = False
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BoolColumn:
    column: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Not:
    operand: Expression


@dataclass(frozen=True)
class And:
    operands: tuple[Expression, ...]


@dataclass(frozen=True)
class Or:
    operands: tuple[Expression, ...]


Expression = Union[Comparison, InList, IsNull, BoolColumn, Not, And, Or]  # noqa: UP007 (runtime alias)


def conditions_of(expression: Expression) -> Iterator[Expression]:
    """The single-column conditions under the and/or/not nodes of a rule, left to right."""
    if isinstance(expression, (And, Or)):
        for operand in expression.operands:
            yield from conditions_of(operand)
    elif isinstance(expression, Not):
        yield from conditions_of(expression.operand)
    else:
        yield expression


def columns_of(expression: Expression) -> list[str]:
    """The columns a rule reads, in order of first appearance."""
    return list(dict.fromkeys(condition.column for condition in conditions_of(expression)))


@dataclass(frozen=True)
class RuleSegment:
    name: str
    description: str
    rule: str
    expression: Expression = field(repr=False)

    @property
    def columns(self) -> list[str]:
        return columns_of(self.expression)


# --------------------------------------------------------------------------------------------------------------
# Tokenizer and recursive-descent parser.

_KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Checked in this order, before the real operators, so that '<>' is not read as '<' followed by '>'.
_MISTAKES = {
    "<>": "'<>' is not an operator; use '!='",
    "=>": "'=>' is not an operator; use '>='",
    "=<": "'=<' is not an operator; use '<='",
    "&&": "'&&' is not an operator; use 'and'",
    "||": "'||' is not an operator; use 'or'",
    "==": None,
    "!=": None,
    "=": "'=' is not an operator; use '==' to compare",
    "&": "'&' is not an operator; use 'and'",
    "|": "'|' is not an operator; use 'or'",
    "!": "'!' is not an operator; use 'not' (or '!=')",
}
_SMART_QUOTES = "\u201c\u201d\u2018\u2019\u00ab\u00bb"


class _SyntaxError(Exception):
    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True)
class _Token:
    kind: str  # number, string, name, keyword, op, "(", ")", ",", end
    value: Any
    pos: int
    text: str


def _tokenize(text: str) -> Iterator[_Token]:
    """Tokens on demand, so that a problem is reported at the first place it occurs in the text."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "(),":
            yield _Token(char, char, i, char)
            i += 1
            continue
        mistake = next((m for m in _MISTAKES if text.startswith(m, i)), None)
        if mistake and _MISTAKES[mistake]:
            raise _SyntaxError(_MISTAKES[mistake], i)
        operator_text = next((op for op in _OPERATORS if text.startswith(op, i)), None)
        if operator_text:
            yield _Token("op", operator_text, i, operator_text)
            i += len(operator_text)
            continue
        if char in "\"'":
            value, end = _read_string(text, i)
            yield _Token("string", value, i, text[i:end])
            i = end
            continue
        if char in _SMART_QUOTES:
            raise _SyntaxError(f"typographic quote {char}; write text between straight quotes \" or '", i)
        number = _NUMBER_RE.match(text, i) if (char.isdigit() or char in "-.") else None
        if number:
            end = number.end()
            if end < n and (text[end].isalnum() or text[end] in "_."):
                bad = re.match(r"[\w.\-+]*", text[i:]).group()
                raise _SyntaxError(f"'{bad}' is not a number", i)
            literal = number.group()
            is_int = not any(c in literal for c in ".eE")
            yield _Token("number", int(literal) if is_int else float(literal), i, literal)
            i = end
            continue
        name = _NAME_RE.match(text, i)
        if name:
            word = name.group()
            if word.lower() in _KEYWORDS:
                yield _Token("keyword", word.lower(), i, word)
            else:
                yield _Token("name", word, i, word)
            i = name.end()
            continue
        raise _SyntaxError(f"unexpected character {char!r}", i)
    yield _Token("end", None, n, "")


def _read_string(text: str, start: int) -> tuple[str, int]:
    quote, chars, j = text[start], [], start + 1
    while j < len(text):
        char = text[j]
        if char == "\\":
            if j + 1 < len(text) and text[j + 1] in "\\\"'":
                chars.append(text[j + 1])
                j += 2
                continue
            raise _SyntaxError("unknown escape in text; only \\\", \\' and \\\\ are allowed", j)
        if char == quote:
            return "".join(chars), j + 1
        chars.append(char)
        j += 1
    raise _SyntaxError(f"text starting here has no closing {quote}", start)


def _describe(token: _Token) -> str:
    if token.kind == "end":
        return "the end of the rule"
    if token.kind == "number":
        return f"number {token.text}"
    if token.kind == "string":
        return f"text {token.text}"
    return f"'{token.text}'"


class _Parser:
    def __init__(self, text: str):
        self.source = _tokenize(text)
        self.tokens: list[_Token] = []
        self.index = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> _Token:
        while len(self.tokens) <= self.index + ahead and (not self.tokens or self.tokens[-1].kind != "end"):
            self.tokens.append(next(self.source))
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> _Token:
        token = self.peek()
        self.index += 1
        return token

    @staticmethod
    def is_keyword(token: _Token, *words: str) -> bool:
        return token.kind == "keyword" and token.value in words

    def parse(self) -> Expression:
        if self.peek().kind == "end":
            raise _SyntaxError("the rule is empty", 0)
        expression = self.or_expr()
        token = self.peek()
        if token.kind == ")":
            raise _SyntaxError("')' without a matching '('", token.pos)
        if token.kind != "end":
            raise _SyntaxError(f"expected 'and', 'or' or the end of the rule, found {_describe(token)}", token.pos)
        return expression

    def nest(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > _MAX_NESTING:
            raise _SyntaxError(f"the rule nests more than {_MAX_NESTING} levels deep", token.pos)

    def or_expr(self) -> Expression:
        return self.chain("or", self.and_expr, Or)

    def and_expr(self) -> Expression:
        return self.chain("and", self.not_expr, And)

    def chain(self, keyword: str, operand: Callable[[], Expression], node: type) -> Expression:
        """One or more operands joined by `keyword`; a single operand stands on its own."""
        operands = [operand()]
        while self.is_keyword(self.peek(), keyword):
            self.take()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else node(tuple(operands))

    def not_expr(self) -> Expression:
        token = self.peek()
        if self.is_keyword(token, "not"):
            self.take()
            self.nest(token)
            operand = self.not_expr()
            self.depth -= 1
            return Not(operand)
        return self.primary()

    def primary(self) -> Expression:
        token = self.peek()
        if token.kind == "(":
            self.take()
            self.nest(token)
            expression = self.or_expr()
            self.depth -= 1
            closing = self.peek()
            if closing.kind != ")":
                raise _SyntaxError(
                    f"expected ')' to close the '(' at position {token.pos + 1}, found {_describe(closing)}",
                    closing.pos,
                )
            self.take()
            return expression
        if token.kind == "name":
            self.take()
            return self.condition(token)
        hint = ""
        if token.kind in ("number", "string") or self.is_keyword(token, "true", "false", "null"):
            hint = " (a condition starts with the column, e.g. monetary >= 1000)"
        raise _SyntaxError(f"expected a column name, found {_describe(token)}{hint}", token.pos)

    def condition(self, name: _Token) -> Expression:
        column, token = name.value, self.peek()
        if token.kind == "op":
            self.take()
            return Comparison(column, token.value, self.literal(f"after '{token.value}'"), name.pos)
        if self.is_keyword(token, "in"):
            self.take()
            return InList(column, self.literal_list(), False, name.pos)
        if self.is_keyword(token, "not"):
            following = self.peek(1)
            if not self.is_keyword(following, "in"):
                raise _SyntaxError(
                    f"expected 'in' after '{column} not', found {_describe(following)} "
                    f"(to negate a condition, put 'not' before it)",
                    following.pos,
                )
            self.take()
            self.take()
            return InList(column, self.literal_list(), True, name.pos)
        if self.is_keyword(token, "is"):
            self.take()
            negated = self.is_keyword(self.peek(), "not")
            if negated:
                self.take()
            null = self.peek()
            if not self.is_keyword(null, "null"):
                words = "is not" if negated else "is"
                raise _SyntaxError(f"expected 'null' after '{words}', found {_describe(null)}", null.pos)
            self.take()
            return IsNull(column, negated, name.pos)
        if token.kind in ("end", ")") or self.is_keyword(token, "and", "or"):
            return BoolColumn(column, name.pos)
        raise _SyntaxError(
            f"expected an operator (==, !=, <, <=, >, >=, in, not in, is null) after '{column}', "
            f"found {_describe(token)}",
            token.pos,
        )

    def literal(self, where: str) -> Literal:
        token = self.peek()
        if token.kind in ("number", "string") or self.is_keyword(token, "true", "false", "null"):
            self.take()
            if token.kind == "keyword":
                return Literal({"true": True, "false": False, "null": None}[token.value], token.pos)
            return Literal(token.value, token.pos)
        if token.kind == "name":
            raise _SyntaxError(
                f"expected a value {where}, found '{token.text}'; write text in quotes (\"{token.text}\"), "
                f"columns cannot be compared with each other",
                token.pos,
            )
        raise _SyntaxError(f"expected a value {where}, found {_describe(token)}", token.pos)

    def literal_list(self) -> tuple[Literal, ...]:
        opening = self.peek()
        if opening.kind != "(":
            raise _SyntaxError(
                f"expected '(' after 'in', found {_describe(opening)}, e.g. in (\"a\", \"b\")", opening.pos
            )
        self.take()
        if self.peek().kind == ")":
            raise _SyntaxError("the list after 'in' is empty", self.peek().pos)
        values = [self.literal("in the list")]
        while True:
            token = self.take()
            if token.kind == ")":
                return tuple(values)
            if token.kind != ",":
                raise _SyntaxError(f"expected ',' or ')' in the list, found {_describe(token)}", token.pos)
            if self.peek().kind == ")":  # trailing comma
                self.take()
                return tuple(values)
            values.append(self.literal("in the list"))


def _parse(text: str) -> Expression:
    return _Parser(text).parse()


# --------------------------------------------------------------------------------------------------------------
# Validation against a schema of column kinds.


def schema_of(frame: pd.DataFrame) -> dict[str, str]:
    """Column kind (number, string, bool, date) of every column a rule can use; other columns are left out."""
    schema = {}
    for name, series in frame.items():
        if isinstance(name, str):
            kind = _kind_of(series)
            if kind:
                schema[name] = kind
    return schema


def _kind_of(series: pd.Series) -> str | None:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _kind_of(pd.Series(dtype.categories))
    if pd.api.types.is_bool_dtype(dtype):
        return BOOL
    if pd.api.types.is_numeric_dtype(dtype):
        return NUMBER
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return DATE
    if dtype == object:  # noqa: E721 (object columns: look at the values)
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        return {
            "string": STRING,
            "empty": STRING,
            "boolean": BOOL,
            "integer": NUMBER,
            "floating": NUMBER,
            "mixed-integer-float": NUMBER,
            "decimal": NUMBER,
            "date": DATE,
            "datetime": DATE,
            "datetime64": DATE,
        }.get(inferred)
    if pd.api.types.is_string_dtype(dtype):
        return STRING
    return None


def _check(expression: Expression, schema: dict[str, str]) -> list[tuple[str, int]]:
    """Every type problem of a parsed rule, as (message, position)."""
    problems: list[tuple[str, int]] = []

    def kind(column: str, pos: int) -> str | None:
        if column in schema:
            return schema[column]
        problems.append((_unknown_column(column, schema), pos))
        return None

    for node in conditions_of(expression):
        if isinstance(node, IsNull):
            kind(node.column, node.pos)
        elif isinstance(node, BoolColumn):
            column_kind = kind(node.column, node.pos)
            if column_kind and column_kind != BOOL:
                problems.append(
                    (
                        f"column '{node.column}' is {_KIND_LABEL[column_kind]} column, so it cannot stand alone as a "
                        f"condition; compare it, e.g. {_example(node.column, column_kind)}",
                        node.pos,
                    )
                )
        elif isinstance(node, Comparison):
            column_kind = kind(node.column, node.pos)
            if column_kind:
                problem = _check_literal(node.column, column_kind, node.op, node.value, node.pos)
                if problem:
                    problems.append(problem)
        elif isinstance(node, InList):
            column_kind = kind(node.column, node.pos)
            if column_kind:
                for value in node.values:
                    problem = _check_literal(node.column, column_kind, "in", value, node.pos)
                    if problem:
                        problems.append(problem)

    return problems


def _unknown_column(column: str, schema: dict[str, str]) -> str:
    by_folded = {}
    for name in schema:
        by_folded.setdefault(name.casefold(), name)
    close = [by_folded[m] for m in difflib.get_close_matches(column.casefold(), list(by_folded), n=3, cutoff=0.6)]
    if not close:
        return f"unknown column '{column}'"
    quoted = [f"'{name}'" for name in close]
    options = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f"unknown column '{column}' (did you mean {options}?)"


def _example(column: str, kind: str) -> str:
    return {NUMBER: f"'{column} > 0'", STRING: f"'{column} == \"...\"'", DATE: f"'{column} >= \"2026-01-01\"'"}[kind]


def _literal_text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return repr(value)


def _literal_kind(value: Any) -> str:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, (int, float)):
        return NUMBER
    return STRING


def _check_literal(column: str, kind: str, op: str, literal: Literal, column_pos: int) -> tuple[str, int] | None:
    """A problem with comparing `column` to `literal` with `op`; the caret goes under the value, or under the
    column when the operator itself cannot be used on it."""
    value, pos = literal.value, literal.pos
    if value is None:
        return (f"null is not a value to compare with; write '{column} is null' or '{column} is not null'", pos)
    if op in ("<", "<=", ">", ">=") and kind == BOOL:
        return (
            f"'{op}' cannot be used on the true/false column '{column}'; use '{column}', 'not {column}' "
            f"or '{column} == false'",
            column_pos,
        )
    if op in ("<", "<=", ">", ">=") and kind == STRING:
        return (
            f"'{op}' cannot be used on the text column '{column}' (text has no order); use ==, !=, in or not in",
            column_pos,
        )
    value_kind, shown = _literal_kind(value), _literal_text(value)
    what = {NUMBER: "a number", STRING: "text", BOOL: "true/false"}[value_kind]
    if kind == NUMBER and value_kind != NUMBER:
        hint = "; write numbers without quotes" if value_kind == STRING else ""
        return (f"column '{column}' is a number column, but {shown} is {what}{hint}", pos)
    if kind == STRING and value_kind != STRING:
        return (
            f"column '{column}' is a text column, but {shown} is {what}; write text in quotes, e.g. \"{shown}\"",
            pos,
        )
    if kind == BOOL and value_kind != BOOL:
        return (f"column '{column}' is a true/false column, but {shown} is {what}; use true or false", pos)
    if kind == DATE and (value_kind != STRING or _parse_date(value) is None):
        return (
            f"column '{column}' is a date column; compare it with a date in quotes written \"YYYY-MM-DD\", not {shown}",
            pos,
        )
    return None


def _parse_date(text: str) -> dt.date | None:
    if not _DATE_RE.fullmatch(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def _with_caret(prefix: str, message: str, text: str, pos: int) -> str:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    line = text[start : end if end >= 0 else len(text)].replace("\t", " ")
    return f"{prefix}: {message}\n    {line}\n    {' ' * (pos - start)}^"


def _where(text: str, pos: int) -> str:
    if "\n" not in text:
        return f"position {pos + 1}"
    line = text.count("\n", 0, pos) + 1
    return f"line {line}, position {pos - (text.rfind(chr(10), 0, pos) + 1) + 1}"


def _rule_problems(prefix: str, text: str, schema: dict[str, str]) -> tuple[Expression | None, list[str]]:
    try:
        expression = _parse(text)
    except _SyntaxError as error:
        return None, [
            _with_caret(prefix, f"syntax error at {_where(text, error.pos)}: {error.message}", text, error.pos)
        ]
    problems = [_with_caret(prefix, message, text, pos) for message, pos in _check(expression, schema)]
    return expression, problems


# --------------------------------------------------------------------------------------------------------------
# Loading segment files.


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's safe loader, except that a key repeated in one mapping is an error instead of silently winning."""


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


def load_rule_segments(path: Path, schema: dict[str, str]) -> list[RuleSegment]:
    """Read, parse and validate a segments YAML file; raises RuleError listing every problem of the file."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RuleError(f"{path}: file not found", str(path)) from None
    except UnicodeDecodeError as error:
        raise RuleError(f"{path}: not UTF-8 text (byte {error.start})", str(path)) from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        raise RuleError(f"{path}: not valid YAML{where}: {problem}", str(path)) from None
    return parse_rule_segments(data, schema, str(path))


def parse_rule_segments(data: dict | list | None, schema: dict[str, str], source: str) -> list[RuleSegment]:
    """Validate already-loaded YAML data (a mapping with `segments:` or a bare list) against `schema`."""
    bad_kinds = {column: kind for column, kind in schema.items() if kind not in KINDS}
    if bad_kinds:
        raise ValueError(f"schema kinds must be one of {KINDS}: {bad_kinds}")
    problems: list[str] = []
    if data is None:
        raise RuleError(f"{source}: the file is empty; expected 'segments:' followed by a list of segments", source)
    if isinstance(data, dict):
        for key in data:
            if key != "segments":
                problems.append(f"{source}: unknown top-level key {key!r}; expected only 'segments'")
        if "segments" not in data:
            problems.append(f"{source}: expected 'segments:' followed by a list of segments")
            raise RuleError(problems, source)
        items = data["segments"] if data["segments"] is not None else []
    else:
        items = data
    if not isinstance(items, list):
        problems.append(
            f"{source}: 'segments' must be a list of segments, each starting with '- name:', found {_yaml_kind(items)}"
        )
        raise RuleError(problems, source)

    segments, seen = [], {}
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(
                f"{source}: segment #{number} must be a mapping with 'name' and 'rule', found {_yaml_kind(item)}"
            )
            continue
        name = item.get("name")
        prefix = f"{source}: segment #{number}"
        if name is None or (isinstance(name, str) and not name.strip()):
            problems.append(f"{prefix} has {'an empty' if 'name' in item else 'no'} name")
            name = None
        elif not isinstance(name, str):
            problems.append(f"{prefix}: the name must be text, found {name!r}; put it in quotes")
            name = None
        else:
            name = name.strip()
            prefix = f"segment '{name}'"
            folded = name.casefold()
            if folded in seen:
                other_number, other_name = seen[folded]
                problems.append(
                    f"{prefix}: duplicate segment name (segment #{other_number} is also named '{other_name}')"
                )
            else:
                seen[folded] = (number, name)
        for key in item:
            if key not in _SEGMENT_KEYS:
                close = difflib.get_close_matches(str(key), _SEGMENT_KEYS, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                problems.append(f"{prefix}: unknown key {str(key)!r} ({hint}allowed: name, description, rule)")
        description = item.get("description")
        if description is None:
            description = ""
        elif not isinstance(description, str):
            problems.append(f"{prefix}: the description must be text, found {description!r}")
            description = str(description)
        rule = item.get("rule")
        if rule is None:
            problems.append(f"{prefix}: {'empty' if 'rule' in item else 'missing'} 'rule'")
            continue
        if not isinstance(rule, str):
            problems.append(f"{prefix}: 'rule' must be text, found {rule!r}; put the rule in quotes")
            continue
        text = rule.strip()
        if not text:
            problems.append(f"{prefix}: empty 'rule'")
            continue
        expression, rule_problems = _rule_problems(prefix, text, schema)
        problems.extend(rule_problems)
        if expression is not None and name is not None:
            segments.append(RuleSegment(name, description.strip(), text, expression))
    if problems:
        raise RuleError(problems, source)
    return segments


def _yaml_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"{value!r}"


# --------------------------------------------------------------------------------------------------------------
# Evaluation: every node yields two boolean arrays, (definitely true, definitely false); unknown is neither.

_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _Columns:
    """Each column converted once per evaluation: values ready to compare and a mask of known (non-null) values."""

    def __init__(self, frame: pd.DataFrame, schema: dict[str, str]):
        self.frame, self.schema, self.cache = frame, schema, {}

    def get(self, column: str) -> tuple[Any, np.ndarray]:
        if column not in self.cache:
            series = self.frame[column]
            known = series.notna().to_numpy(dtype=bool)
            kind = self.schema[column]
            if kind == NUMBER:
                values = series.to_numpy(dtype="float64", na_value=np.nan)
            elif kind == BOOL:
                values = series.astype("boolean").to_numpy(dtype=bool, na_value=False)
            elif kind == DATE:
                days = series if pd.api.types.is_datetime64_any_dtype(series.dtype) else pd.to_datetime(series)
                values = days.dt.normalize()
            else:
                values = series
            self.cache[column] = (values, known)
        return self.cache[column]

    def literal(self, column: str, value: Any) -> Any:
        if self.schema[column] == DATE:
            timestamp = pd.Timestamp(value)
            tz = self.get(column)[0].dt.tz
            return timestamp.tz_localize(tz) if tz is not None else timestamp
        return value


def _evaluate(node: Expression, columns: _Columns) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(node, And):
        results = [_evaluate(operand, columns) for operand in node.operands]
        return np.logical_and.reduce([t for t, _ in results]), np.logical_or.reduce([f for _, f in results])
    if isinstance(node, Or):
        results = [_evaluate(operand, columns) for operand in node.operands]
        return np.logical_or.reduce([t for t, _ in results]), np.logical_and.reduce([f for _, f in results])
    if isinstance(node, Not):
        is_true, is_false = _evaluate(node.operand, columns)
        return is_false, is_true
    values, known = columns.get(node.column)
    if isinstance(node, IsNull):
        hit = known if node.negated else ~known
        return hit, ~hit
    if isinstance(node, BoolColumn):
        hit = values
    elif isinstance(node, Comparison):
        hit = _as_bool(_COMPARE[node.op](values, columns.literal(node.column, node.value.value)))
    else:
        wanted = [columns.literal(node.column, literal.value) for literal in node.values]
        hit = _as_bool(np.isin(values, wanted) if isinstance(values, np.ndarray) else values.isin(wanted))
        if node.negated:
            hit = ~hit
    return hit & known, ~hit & known


def _as_bool(result: Any) -> np.ndarray:
    if isinstance(result, np.ndarray):
        return result.astype(bool, copy=False)
    return result.to_numpy(dtype=bool, na_value=False)


def _empty_long_table() -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series([], dtype="str") for column in LONG_TABLE_COLUMNS})


def evaluate(segments: Iterable[RuleSegment], features: pd.DataFrame) -> pd.DataFrame:
    """Members of every segment as a long table (customer_id, segment, source="rule") sorted by customer, segment.

    The features are checked again against the rules (a column may be missing or of another kind than in the
    schema the rules were loaded with); every customer_id must be present and unique."""
    segments = sorted(segments, key=lambda segment: segment.name)
    ids, order = _sorted_customer_ids(features)
    used = sorted({column for segment in segments for column in segment.columns if column in features.columns})
    schema = schema_of(features[used])
    problems = []
    for segment in segments:
        problems.extend(
            _with_caret(f"segment '{segment.name}'", message, segment.rule, pos)
            for message, pos in _check(segment.expression, schema)
        )
    if problems:
        raise RuleError(problems, "features")
    if not segments:
        return _empty_long_table()
    columns = _Columns(features, schema)
    matrix = np.column_stack([_evaluate(segment.expression, columns)[0] for segment in segments])
    # row-major nonzero of the matrix in customer_id order yields pairs sorted by customer, then segment name
    rows, which = np.nonzero(matrix if order is None else matrix[order])
    positions = rows if order is None else order[rows]
    return pd.DataFrame(
        {
            "customer_id": pd.Series(ids.array.take(positions), dtype="str"),
            "segment": pd.Series(pd.array([s.name for s in segments], dtype="str").take(which), dtype="str"),
            "source": pd.Series(RULE_SOURCE, index=range(len(rows)), dtype="str"),
        }
    )


def _sorted_customer_ids(features: pd.DataFrame) -> tuple[pd.Series, np.ndarray | None]:
    """The customer ids as text and the positions that sort them (None when already sorted); checks uniqueness."""
    if "customer_id" not in features.columns:
        raise ValueError("features have no customer_id column")
    ids = features["customer_id"].reset_index(drop=True)
    if ids.isna().any():
        raise ValueError("features have rows without a customer_id")
    ids = ids.astype("str")
    order = None if ids.is_monotonic_increasing else np.asarray(ids.array.argsort())
    in_order = ids.to_numpy(dtype=object) if order is None else ids.to_numpy(dtype=object)[order]
    repeated = np.flatnonzero(in_order[1:] == in_order[:-1])
    if len(repeated):
        raise ValueError(f"features have duplicate customer_id values, e.g. {in_order[repeated[0]]!r}")
    return ids, order


# --------------------------------------------------------------------------------------------------------------
# Manual assignments.


@dataclass(frozen=True)
class ManualAssignments:
    assignments: pd.DataFrame  # active ones: customer_id, segment, source="manual", sorted
    unknown_customers: list[str]  # ids not among the known customers (their rows are left out)
    expired: int  # (customer_id, segment) pairs of known customers left out because they expired by as_of


def load_manual_assignments(path: Path, known_customers: pd.Index | set, as_of: dt.date) -> ManualAssignments:
    """Read the account managers' CSV; raises RuleError naming file, line and column of every problem."""
    path = Path(path)
    label = str(path)
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise RuleError(f"{label}: file not found", label) from None
    except UnicodeDecodeError as error:
        raise RuleError(f"{label}: not UTF-8 text (byte {error.start})", label) from None
    try:
        records = _read_manual_rows(text, label)
    except csv.Error as error:
        raise RuleError(f"{label}: not valid CSV: {error}", label) from None

    table = pd.DataFrame(records, columns=["customer_id", "segment", "expires_on"])
    known = known_customers if isinstance(known_customers, pd.Index) else pd.Index(list(known_customers))
    is_known = table["customer_id"].isin(known).to_numpy(dtype=bool) if len(table) else np.zeros(0, dtype=bool)
    unknown = sorted(set(table.loc[~is_known, "customer_id"]))
    latest = table[is_known].groupby(["customer_id", "segment"], sort=True)["expires_on"].max()
    active = latest[latest > as_of]
    assignments = pd.DataFrame(
        {
            "customer_id": pd.Series(active.index.get_level_values(0), dtype="str"),
            "segment": pd.Series(active.index.get_level_values(1), dtype="str"),
        }
    )
    assignments["source"] = pd.Series(MANUAL_SOURCE, index=assignments.index, dtype="str")
    if assignments.empty:
        assignments = _empty_long_table()
    return ManualAssignments(assignments, unknown, int(len(latest) - len(active)))


def _read_manual_rows(text: str, label: str) -> list[tuple[str, str, dt.date]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip().lower() for cell in row]
            break
    if header is None:
        raise RuleError(f"{label}: the file is empty; expected the header 'customer_id,segment,expires_on'", label)
    header_line = reader.line_num
    problems = []
    missing = [column for column in _MANUAL_REQUIRED if column not in header]
    if missing:
        names = " and ".join(f"'{column}'" for column in missing)
        problems.append(
            f"{label}, line {header_line}: missing column {names} "
            f"(the header must name customer_id, segment and optionally expires_on, note)"
        )
    for column in header:
        if column not in _MANUAL_COLUMNS:
            close = difflib.get_close_matches(column, _MANUAL_COLUMNS, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(
                f"{label}, line {header_line}: unknown column '{column}' ({hint}allowed: {', '.join(_MANUAL_COLUMNS)})"
            )
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        problems.append(f"{label}, line {header_line}: column {', '.join(map(repr, repeated))} appears twice")
    if problems:
        raise RuleError(problems, label)

    records = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        line = reader.line_num
        if len(row) > len(header):
            problems.append(f"{label}, line {line}: {len(row)} fields, but the header has {len(header)}")
            continue
        # missing trailing fields count as empty
        values = dict(zip(header, (cell.strip() for cell in row), strict=False))
        customer_id, segment = values.get("customer_id", ""), values.get("segment", "")
        expires_text = values.get("expires_on", "")
        if not customer_id:
            problems.append(f"{label}, line {line}, column 'customer_id': empty customer id")
        if not segment:
            problems.append(f"{label}, line {line}, column 'segment': empty segment name")
        expires_on = dt.date.max
        if expires_text:
            parsed = _parse_date(expires_text)
            if parsed is None:
                problems.append(
                    f"{label}, line {line}, column 'expires_on': {expires_text!r} is not a date written "
                    f"YYYY-MM-DD (leave it empty for no expiry)"
                )
            else:
                expires_on = parsed
        records.append((customer_id, segment, expires_on))
    if problems:
        raise RuleError(problems, label)
    return records


# --------------------------------------------------------------------------------------------------------------
# Membership lists.


def membership_lists(long_table: pd.DataFrame, customer_ids: pd.Series) -> pd.Series:
    """Per customer, the sorted distinct segment names of `long_table` (an empty list when none), aligned with
    `customer_ids` (same order and index). Rows of customers not in `customer_ids` are ignored, and a segment named
    by several sources (rule and manual) is listed once.

    The result holds plain Python lists (object dtype), because pandas cannot read back a Parquet file written from
    an ArrowDtype list column (pandas-dev/pandas#57411). Write it with the type `SEGMENT_LIST_TYPE`, e.g.
    `pa.Table.from_pandas(frame, preserve_index=False).cast(schema)`: pyarrow infers list<null> for a column whose
    lists are all empty."""
    if not isinstance(customer_ids, pd.Series):
        customer_ids = pd.Series(customer_ids)
    count = len(customer_ids)
    # one factorization of both id columns: ids first seen in customer_ids get the codes 0 .. known - 1
    both = pd.concat(
        [customer_ids.reset_index(drop=True), long_table["customer_id"].reset_index(drop=True)], ignore_index=True
    )
    codes, _ = pd.factorize(both)
    customer_codes, owner_codes = codes[:count], codes[count:]
    known = int(customer_codes.max(initial=-1)) + 1
    customer_codes = np.where(customer_codes < 0, known, customer_codes)  # missing ids: the extra, empty slot
    segment_codes, names = pd.factorize(long_table["segment"], sort=True)
    names = [str(name) for name in names]
    keep = (owner_codes >= 0) & (owner_codes < known) & (segment_codes >= 0)
    width = max(len(names), 1)
    keys = np.sort(owner_codes[keep].astype(np.int64) * width + segment_codes[keep])
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
    owners, which = np.divmod(keys, width)
    if len(names) <= 63:
        # few segments: one bit per segment, so each distinct combination of segments is built only once
        bits = np.zeros(known + 1, dtype=np.uint64)
        np.bitwise_or.at(bits, owners, np.left_shift(np.uint64(1), which.astype(np.uint64)))
        combination_codes, combinations = pd.factorize(bits[customer_codes])
        templates = [[name for i, name in enumerate(names) if (int(mask) >> i) & 1] for mask in combinations]
        lists = [list(templates[code]) for code in combination_codes.tolist()]
    else:
        ends = np.cumsum(np.bincount(owners, minlength=known + 1)).tolist()
        starts = [0, *ends[:-1]]
        segment_names = [names[i] for i in which.tolist()]
        per_owner = [segment_names[a:b] for a, b in zip(starts, ends, strict=True)]
        lists = [list(per_owner[code]) for code in customer_codes.tolist()]
    return pd.Series(np.fromiter(lists, dtype=object, count=count), index=customer_ids.index, dtype=object)
