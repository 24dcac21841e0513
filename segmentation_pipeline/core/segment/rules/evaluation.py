"""Evaluation of segment rules on whole feature columns with numpy/pandas, into a long table of memberships.

Missing values follow SQL's three-valued logic: a comparison, ``in`` list or bare column on a missing value is
*unknown*; ``not unknown`` is unknown, ``unknown and false`` is false, ``unknown or true`` is true, and a customer
belongs to a segment only when its rule is definitely true. So ``not (m_score < 4)`` means exactly
``m_score >= 4`` and ``x != "a"`` means exactly ``not (x == "a")``: neither selects customers without a value.
To include them, say so: ``x != "a" or x is null``. ``is null`` / ``is not null`` are never unknown.
Every node therefore yields two boolean arrays, (definitely true, definitely false); unknown is neither.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from segmentation_pipeline.core.segment.rules.syntax import (
    And,
    BoolColumn,
    Comparison,
    Expression,
    IsNull,
    Not,
    Or,
    RuleError,
    RuleSegment,
)
from segmentation_pipeline.core.segment.rules.type_checks import (
    BOOL,
    DATE,
    NUMBER,
    schema_of,
    type_problems,
    with_caret,
)

# The published column `source` says how a customer came into a segment: by a segment rule or by hand.
MEMBERSHIP_KIND_COLUMN = "source"
MEMBERSHIP_COLUMNS = ("customer_id", "segment", MEMBERSHIP_KIND_COLUMN)
RULE_MEMBERSHIP, MANUAL_MEMBERSHIP = "rule", "manual"

_COMPARE = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class _PreparedColumns:
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


def _truth(node: Expression, columns: _PreparedColumns) -> tuple[np.ndarray, np.ndarray]:
    """Per row, whether `node` is definitely true and whether it is definitely false."""
    if isinstance(node, And):
        results = [_truth(operand, columns) for operand in node.operands]
        return np.logical_and.reduce([t for t, _ in results]), np.logical_or.reduce([f for _, f in results])
    if isinstance(node, Or):
        results = [_truth(operand, columns) for operand in node.operands]
        return np.logical_or.reduce([t for t, _ in results]), np.logical_and.reduce([f for _, f in results])
    if isinstance(node, Not):
        is_true, is_false = _truth(node.operand, columns)
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


def empty_memberships() -> pd.DataFrame:
    """A long table of memberships without rows, with the columns and text dtypes of a full one."""
    return pd.DataFrame({column: pd.Series([], dtype="str") for column in MEMBERSHIP_COLUMNS})


def evaluate(
    segments: Iterable[RuleSegment], features: pd.DataFrame, kinds: dict[str, str] | None = None
) -> pd.DataFrame:
    """Members of every segment as a long table (customer_id, segment, source="rule") sorted by customer, segment.

    Row-wise: the members of any subset of customers are that subset's rows of the whole table's members, given
    the whole table's column `kinds` (`schema_of`) when `features` is a batch of it (an object column's kind is read
    from its values, so a batch without any says nothing). The features are checked again against the rules (a
    column may be missing or of another kind than in the schema the rules were loaded with); every customer_id must
    be present and unique."""
    segments = sorted(segments, key=lambda segment: segment.name)
    ids, order = _sorted_customer_ids(features)
    used = sorted({column for segment in segments for column in segment.columns if column in features.columns})
    schema = (
        schema_of(features[used]) if kinds is None else {column: kinds[column] for column in used if column in kinds}
    )
    problems = []
    for segment in segments:
        problems.extend(
            with_caret(f"segment '{segment.name}'", message, segment.rule, pos)
            for message, pos in type_problems(segment.expression, schema)
        )
    if problems:
        raise RuleError(problems, "features")
    if not segments:
        return empty_memberships()
    columns = _PreparedColumns(features, schema)
    matrix = np.column_stack([_truth(segment.expression, columns)[0] for segment in segments])
    # row-major nonzero of the matrix in customer_id order yields pairs sorted by customer, then segment name
    rows, which = np.nonzero(matrix if order is None else matrix[order])
    positions = rows if order is None else order[rows]
    return pd.DataFrame(
        {
            "customer_id": pd.Series(ids.array.take(positions), dtype="str"),
            "segment": pd.Series(pd.array([s.name for s in segments], dtype="str").take(which), dtype="str"),
            MEMBERSHIP_KIND_COLUMN: pd.Series(RULE_MEMBERSHIP, index=range(len(rows)), dtype="str"),
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
