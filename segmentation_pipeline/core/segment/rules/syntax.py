"""The parsed form of a segment rule: frozen dataclasses a rule's text becomes, and the error every check raises.

Positions are 0-based offsets into the rule text, kept for error messages only (not compared), so two rules that
differ only in spacing parse to equal trees.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union

from segmentation_pipeline.core.errors import PipelineError, bounded

MAX_LISTED_PROBLEMS = 25
MAX_SEGMENT_NAME_CHARS = 100
"""A segment name is published on every member's row: a 1 MB one would flood the tables."""


class RuleError(PipelineError, ValueError):
    """Invalid marketer configuration: segment rules, manual assignments or segment names. `problems` lists every
    problem found, each a full message capped at 1,000 characters (whatever the input); `origin` names the file (or
    table) they were found in."""

    def __init__(self, problems: list[str] | str, origin: str | None = None):
        self.problems = [bounded(problem) for problem in ([problems] if isinstance(problems, str) else problems)]
        self.origin = origin
        if len(self.problems) == 1:
            message = self.problems[0]
        else:
            shown = self.problems[:MAX_LISTED_PROBLEMS]
            more = len(self.problems) - len(shown)
            message = f"{origin or 'rules'}: {len(self.problems)} problems\n" + "\n".join(shown)
            if more:
                message += f"\n... and {more} more"
        super().__init__(message)


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
    """One marketer-defined segment: its name, description, the rule as written and the rule parsed."""

    name: str
    description: str
    rule: str
    expression: Expression = field(repr=False)

    @property
    def columns(self) -> list[str]:
        return columns_of(self.expression)
