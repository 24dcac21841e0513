"""The suggested next action of each segment persona: a small table of conditions on the persona's figures, read
top to bottom, the first rule whose conditions all hold wins, and the reason names the figures that made it hold.

The default table is `DEFAULT_NEXT_ACTIONS`; marketers replace it with `config/next_actions.yaml` under the data
root (or the file set as `next_actions_file` on the `publishing` resource), in the same form::

    next_actions:
      - action: win-back offer
        when: revenue_share >= 0.20 and high_churn_risk_share >= 0.30
      - action: nurture newsletter
        when: always

A condition whose figure is missing (no survey answers, no value model) never holds, so a rule never fires on a
number the data does not have.
"""

from __future__ import annotations

import difflib
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation_pipeline.core.errors import quoted
from segmentation_pipeline.core.segment.rules import MAX_SEGMENT_NAME_CHARS, RuleError, read_marketer_yaml

METRICS: dict[str, tuple[str, bool]] = {  # persona column -> (label in reasons, is a share shown as a percentage)
    "share": ("share of customers", True),
    "revenue_share": ("revenue share", True),
    "high_churn_risk_share": ("high churn risk share", True),
    "new_customer_share": ("new customer share", True),
    "marketing_opt_in_share": ("marketing opt-in share", True),
    "b2b_share": ("B2B share", True),
    "survey_share": ("survey response share", True),
    "detractor_share": ("detractor share", True),
    "promoter_share": ("promoter share", True),
    "weekend_share": ("weekend share of events", True),
    "mean_predicted_clv": ("mean predicted CLV", False),
    "orders_per_customer": ("orders per customer", False),
    "avg_order_value": ("average order value", False),
    "median_session_minutes": ("median session minutes", False),
    "mean_price_sensitivity": ("mean price sensitivity", False),
}
"""The persona figures a condition may test."""

_OPERATORS: dict[str, tuple[Callable[[float, float], bool], str]] = {
    ">=": (operator.ge, "≥"),
    "<=": (operator.le, "≤"),
    ">": (operator.gt, ">"),
    "<": (operator.lt, "<"),
}
_CONDITION_RE = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*(>=|<=|>|<)\s*([-+]?[0-9]*\.?[0-9]+)\s*(%?)\s*")
ALWAYS = "always"
FALLBACK_REASON = "no rule above it matched"
_RULE_KEYS = ("action", "when")


@dataclass(frozen=True)
class Condition:
    metric: str
    op: str
    threshold: float

    def holds(self, figures: Mapping[str, Any]) -> bool:
        value = figures.get(self.metric)
        return _known(value) and _OPERATORS[self.op][0](float(value), self.threshold)

    def reason(self, figures: Mapping[str, Any]) -> str:
        label, is_share = METRICS[self.metric]
        value, symbol = float(figures[self.metric]), _OPERATORS[self.op][1]
        shown, limit = _shown(value, is_share), _shown(self.threshold, is_share)
        if shown == limit and value != self.threshold:  # "19.6% < 20%", never "20% < 20%"
            shown, limit = _shown(value, is_share, digits=1), _shown(self.threshold, is_share, digits=1)
        return f"{label} {shown} {symbol} {limit}"


@dataclass(frozen=True)
class NextActionRule:
    action: str
    conditions: tuple[Condition, ...]
    """All must hold; none = always."""


def parse_rule(action: str, when: str) -> NextActionRule:
    """A rule from its action and its `when` text (conditions joined by `and`, or `always`); raises ValueError
    saying what is wrong."""
    if when.strip().casefold() == ALWAYS:
        return NextActionRule(action, ())
    conditions = []
    for part in re.split(r"\band\b", when):
        match = _CONDITION_RE.fullmatch(part)
        if match is None:
            raise ValueError(
                f"cannot read the condition {quoted(part.strip())}; write figure, operator and number, such as "
                "'revenue_share >= 0.2', join conditions with 'and', or write 'always'"
            )
        metric, op, number, percent = match.groups()
        if metric not in METRICS:
            close = difflib.get_close_matches(metric, METRICS, n=1)
            hint = f"did you mean {quoted(close[0])}? " if close else ""
            raise ValueError(f"unknown figure {quoted(metric)} ({hint}known: {', '.join(METRICS)})")
        threshold = float(number) / (100 if percent else 1)
        if not math.isfinite(threshold):
            raise ValueError(f"the number of {quoted(metric)} is out of range")
        conditions.append(Condition(metric, op, threshold))
    return NextActionRule(action, tuple(conditions))


DEFAULT_NEXT_ACTIONS: tuple[NextActionRule, ...] = tuple(
    parse_rule(action, when)
    for action, when in (
        ("win-back offer", "revenue_share >= 0.20 and high_churn_risk_share >= 0.30"),
        ("loyalty / VIP programme", "revenue_share >= 0.20"),
        ("reactivation campaign", "high_churn_risk_share >= 0.30"),
        ("onboarding series", "new_customer_share >= 0.30"),
        ("service recovery: ask detractors for feedback", "detractor_share >= 0.30"),
        ("grow opt-in on owned channels", "marketing_opt_in_share < 0.40"),
        ("cross-sell to raise basket size", "orders_per_customer >= 2"),
        ("regular newsletter", ALWAYS),
    )
)
"""The default next-action table, first match wins (README: Published tables, `segment_personas`)."""


def next_action(rules: tuple[NextActionRule, ...], figures: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The action of the first rule whose conditions all hold on `figures` (a persona row), and why; (None, None)
    when no rule does."""
    for rule in rules:
        if all(condition.holds(figures) for condition in rule.conditions):
            reason = " and ".join(condition.reason(figures) for condition in rule.conditions)
            return rule.action, reason or FALLBACK_REASON
    return None, None


def load_next_actions(path: Path | None) -> tuple[NextActionRule, ...]:
    """The marketers' table from `path`, or the defaults without one; raises RuleError with one line per problem,
    each naming the file, the rule's number and the rule."""
    if path is None:
        return DEFAULT_NEXT_ACTIONS
    origin = str(path)
    data = read_marketer_yaml(Path(path))
    items = data.get("next_actions") if isinstance(data, dict) and set(data) == {"next_actions"} else None
    if not isinstance(items, list) or not items:
        raise RuleError(
            f"{origin}: expected 'next_actions:' followed by a list of rules, each with 'action' and 'when'", origin
        )
    rules, problems = [], []
    for number, item in enumerate(items, start=1):
        try:
            rules.append(_rule(item))
        except ValueError as error:
            shown = f" ({quoted(item.get('action'))} when {quoted(item.get('when'))})" if isinstance(item, dict) else ""
            problems.append(f"{origin}: rule {number}{shown}: {error}")
    if problems:
        raise RuleError(problems, origin)
    return tuple(rules)


def _rule(item: Any) -> NextActionRule:
    if not isinstance(item, dict):
        raise ValueError(f"must be a mapping with 'action' and 'when', found {quoted(item)}")
    if unknown := sorted(map(str, set(item) - set(_RULE_KEYS))):
        raise ValueError(f"unknown key {quoted(unknown[0])} (allowed: action, when)")
    action, when = item.get("action"), item.get("when")
    if not isinstance(action, str) or not action.strip():
        raise ValueError("'action' must be non-empty text")
    if len(action.strip()) > MAX_SEGMENT_NAME_CHARS:
        raise ValueError(f"'action' is longer than {MAX_SEGMENT_NAME_CHARS} characters")
    if not isinstance(when, str) or not when.strip():
        raise ValueError("'when' must be text: conditions such as 'revenue_share >= 0.2', or 'always'")
    return parse_rule(action.strip(), when)


def _known(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (isinstance(value, float) and math.isnan(value))


def _shown(value: float, is_share: bool, digits: int = 0) -> str:
    """A share as a whole percentage, another figure with two decimals below 10 and none above (trailing zeros
    dropped); `digits` more when a comparison would otherwise look wrong."""
    if is_share:
        return f"{value * 100:.{digits}f}%"
    text = f"{value:,.{(2 if abs(value) < 10 else 0) + digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
