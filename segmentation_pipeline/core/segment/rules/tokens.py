"""The tokenizer of the segment rule language: rule text into numbers, quoted text, names, keywords and operators.

Common mistakes of people used to other languages ('=', '<>', '&&', typographic quotes) get a message that says
what to write instead, at the position where they occur.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "true", "false"})
OPERATORS = ("==", "!=", "<=", ">=", "<", ">")
_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
MAX_NUMBER = "1.7e308"  # about the largest float
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
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


class RuleSyntaxError(Exception):
    """A rule that cannot be tokenized or parsed; `pos` is where the caret of the message goes."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, keyword, op, "(", ")", ",", end
    value: Any
    pos: int
    text: str


def tokenize(text: str) -> Iterator[Token]:
    """Tokens on demand, so that a problem is reported at the first place it occurs in the text."""
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "(),":
            token = Token(char, char, i, char)
        elif char in "\"'":
            value, end = _read_string(text, i)
            token = Token("string", value, i, text[i:end])
        else:
            token = _operator_or_word(text, i)
        yield token
        i += len(token.text)
    yield Token("end", None, n, "")


def _operator_or_word(text: str, i: int) -> Token:
    """The operator, number, name or keyword starting at `i`."""
    char = text[i]
    mistake = next((m for m in _MISTAKES if text.startswith(m, i)), None)
    if mistake and _MISTAKES[mistake]:
        raise RuleSyntaxError(_MISTAKES[mistake], i)
    operator_text = next((op for op in OPERATORS if text.startswith(op, i)), None)
    if operator_text:
        return Token("op", operator_text, i, operator_text)
    if char in _SMART_QUOTES:
        raise RuleSyntaxError(f"typographic quote {char}; write text between straight quotes \" or '", i)
    number = _NUMBER_RE.match(text, i) if (char.isdigit() or char in "-.") else None
    if number:
        end = number.end()
        if end < len(text) and (text[end].isalnum() or text[end] in "_."):
            bad = re.match(r"[\w.\-+]*", text[i:]).group()
            raise RuleSyntaxError(f"'{bad}' is not a number", i)
        literal = number.group()
        return Token("number", _number_value(literal, i), i, literal)
    name = _NAME_RE.match(text, i)
    if name:
        word = name.group()
        if word.lower() in KEYWORDS:
            return Token("keyword", word.lower(), i, word)
        return Token("name", word, i, word)
    raise RuleSyntaxError(f"unexpected character {char!r}", i)


def _number_value(literal: str, pos: int) -> int | float:
    """The value of a number literal; one beyond what a float column can hold (1e999, a 5,000-digit number) is an
    error here rather than an overflow when the rule is evaluated."""
    if not math.isfinite(float(literal)):  # float() of text has no digit limit, unlike int()
        raise RuleSyntaxError(f"number out of range (numbers in rules lie between -{MAX_NUMBER} and {MAX_NUMBER})", pos)
    return float(literal) if any(c in literal for c in ".eE") else int(literal)


def _read_string(text: str, start: int) -> tuple[str, int]:
    """The value of the quoted text starting at `start`, and the position just after its closing quote."""
    quote, chars, j = text[start], [], start + 1
    while j < len(text):
        char = text[j]
        if char == "\\":
            if j + 1 < len(text) and text[j + 1] in "\\\"'":
                chars.append(text[j + 1])
                j += 2
                continue
            raise RuleSyntaxError("unknown escape in text; only \\\", \\' and \\\\ are allowed", j)
        if char == quote:
            return "".join(chars), j + 1
        chars.append(char)
        j += 1
    raise RuleSyntaxError(f"text starting here has no closing {quote}", start)


def describe(token: Token) -> str:
    """How a token is named in a syntax error."""
    if token.kind == "end":
        return "the end of the rule"
    if token.kind == "number":
        return f"number {token.text}"
    if token.kind == "string":
        return f"text {token.text}"
    return f"'{token.text}'"
