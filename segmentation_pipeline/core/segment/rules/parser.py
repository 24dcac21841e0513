"""The recursive-descent parser of the segment rule language: rule text into the syntax tree of `syntax.py`.

Grammar (keywords are case-insensitive; column names are exact)::

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
compared with each other and nothing is computed, so user text never reaches ``eval``.
"""

from __future__ import annotations

from collections.abc import Callable

from segmentation_pipeline.core.segment.rules.syntax import (
    And,
    BoolColumn,
    Comparison,
    Expression,
    InList,
    IsNull,
    Literal,
    Not,
    Or,
)
from segmentation_pipeline.core.segment.rules.tokens import RuleSyntaxError, Token, describe, tokenize

MAX_NESTING = 100


def parse_rule(text: str) -> Expression:
    """The syntax tree of one rule; raises RuleSyntaxError at the first problem."""
    return _RuleParser(text).parse()


class _RuleParser:
    """One pass over the tokens of a rule; `depth` guards against nesting deep enough to exhaust the stack."""

    def __init__(self, text: str):
        self.upcoming = tokenize(text)
        self.tokens: list[Token] = []
        self.index = 0
        self.depth = 0

    def peek(self, ahead: int = 0) -> Token:
        while len(self.tokens) <= self.index + ahead and (not self.tokens or self.tokens[-1].kind != "end"):
            self.tokens.append(next(self.upcoming))
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    @staticmethod
    def is_keyword(token: Token, *words: str) -> bool:
        return token.kind == "keyword" and token.value in words

    def parse(self) -> Expression:
        if self.peek().kind == "end":
            raise RuleSyntaxError("the rule is empty", 0)
        expression = self.or_expr()
        token = self.peek()
        if token.kind == ")":
            raise RuleSyntaxError("')' without a matching '('", token.pos)
        if token.kind != "end":
            raise RuleSyntaxError(f"expected 'and', 'or' or the end of the rule, found {describe(token)}", token.pos)
        return expression

    def nest(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise RuleSyntaxError(f"the rule nests more than {MAX_NESTING} levels deep", token.pos)

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
                raise RuleSyntaxError(
                    f"expected ')' to close the '(' at position {token.pos + 1}, found {describe(closing)}",
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
        raise RuleSyntaxError(f"expected a column name, found {describe(token)}{hint}", token.pos)

    def condition(self, name: Token) -> Expression:
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
                raise RuleSyntaxError(
                    f"expected 'in' after '{column} not', found {describe(following)} "
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
                raise RuleSyntaxError(f"expected 'null' after '{words}', found {describe(null)}", null.pos)
            self.take()
            return IsNull(column, negated, name.pos)
        if token.kind in ("end", ")") or self.is_keyword(token, "and", "or"):
            return BoolColumn(column, name.pos)
        raise RuleSyntaxError(
            f"expected an operator (==, !=, <, <=, >, >=, in, not in, is null) after '{column}', "
            f"found {describe(token)}",
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
            raise RuleSyntaxError(
                f"expected a value {where}, found '{token.text}'; write text in quotes (\"{token.text}\"), "
                f"columns cannot be compared with each other",
                token.pos,
            )
        raise RuleSyntaxError(f"expected a value {where}, found {describe(token)}", token.pos)

    def literal_list(self) -> tuple[Literal, ...]:
        opening = self.peek()
        if opening.kind != "(":
            raise RuleSyntaxError(
                f"expected '(' after 'in', found {describe(opening)}, e.g. in (\"a\", \"b\")", opening.pos
            )
        self.take()
        if self.peek().kind == ")":
            raise RuleSyntaxError("the list after 'in' is empty", self.peek().pos)
        values = [self.literal("in the list")]
        while True:
            token = self.take()
            if token.kind == ")":
                return tuple(values)
            if token.kind != ",":
                raise RuleSyntaxError(f"expected ',' or ')' in the list, found {describe(token)}", token.pos)
            if self.peek().kind == ")":  # trailing comma
                self.take()
                return tuple(values)
            values.append(self.literal("in the list"))
