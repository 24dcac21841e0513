"""The project's DuckDB SQL (core/features/sql/) as Spark SQL: one SQL source, transpiled by SQLGlot, plus the
project's own fixes for the translations SQLGlot gets silently wrong (each one checked on Spark by a test).

Translation happens in two passes over the typed syntax tree (types from the input tables' Arrow schemas):

1. DuckDB to explicit DuckDB: the same query with its implicit semantics spelled out, still valid DuckDB (a test
   runs both on DuckDB and compares): `a / b` is a DOUBLE division whatever the operand types (DuckDB never divides
   decimals or integers exactly), `a // b` on non-integers is that too, and `DATE - DATE` is a day count.
2. Explicit DuckDB to Spark: SQLGlot's output, with the constructs it mistranslates replaced:
   - `isodow(d)`: SQLGlot writes `DAYOFWEEK(d) % 7 + 1` (Saturday = 1); Spark's `WEEKDAY(d) + 1` is Monday = 1.
   - a DOUBLE division by zero: DuckDB gives ±inf or NaN (IEEE), Spark's ANSI mode raises.
   - `round(double, n)`: DuckDB rounds the double's exact binary value (`round(0.285, 2)` = 0.28, the double being
     0.28499...), Spark its shortest decimal text (0.29): the session's `duckdb_round` (spark_functions.sql).
   - `first(x ORDER BY k ...)`: Spark rejects the ordered aggregate; `MIN_BY(x, STRUCT(k IS NULL, k, ...))` keeps
     DuckDB's order and its NULLS LAST (a DESC key must be numeric: it is negated).
   - `arg_min(x, k)` / `arg_max(x, k)`: DuckDB skips rows whose `x` is NULL, Spark's `MIN_BY`/`MAX_BY` do not.
   - `epoch_us(ts)`: no such Spark function; `UNIX_MICROS(ts)`. `make_timestamp(us)` is a TIMESTAMP without time
     zone in DuckDB: `CAST(TIMESTAMP_MICROS(us) AS TIMESTAMP_NTZ)` (both in the session's UTC).
   - `hash(x)`: Spark's `HASH` is a different 32-bit hash; the session's `duckdb_hash` UDF (spark_engine.py) runs
     DuckDB's own `hash` and returns its 64 bits as a signed BIGINT.
   Any other function SQLGlot does not know stops the translation instead of reaching Spark unchecked.

Parameters (`$name` in DuckDB) become Spark's named markers (`:name`), typed by their Python values (a date is a
DATE, an int an INT, as Spark's date arithmetic needs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from functools import cache

import pyarrow as pa
import sqlglot
from sqlglot import exp
from sqlglot.optimizer.annotate_types import annotate_types
from sqlglot.optimizer.qualify import qualify

from segmentation_pipeline.core.errors import PipelineError

DUCKDB_HASH_UDF = "duckdb_hash"
"""The Spark session function that returns DuckDB's `hash` of a value (registered by spark_engine.py)."""
DUCKDB_ROUND = "duckdb_round"
"""The Spark session function that rounds a DOUBLE as DuckDB does (spark_functions.sql)."""
KNOWN_ANONYMOUS = frozenset({"weekday", "unix_micros", DUCKDB_ROUND, DUCKDB_HASH_UDF})
"""Functions SQLGlot has no node for that the translation itself writes (all exist in Spark)."""
MAX_PASSES = 8

Schema = Mapping[str, pa.Schema]


class UnsafeTranslation(PipelineError):
    """A construct of the DuckDB SQL whose Spark translation is not known to give the same result."""


def to_spark_sql(query: str, tables: Schema, parameters: Mapping[str, object]) -> str:
    """`query` (DuckDB SQL reading `tables`, with `$name` parameters) as Spark SQL with `:name` markers."""
    return _spark_sql(query, _schema_key(tables), _parameter_types(parameters))


def to_explicit_duckdb_sql(query: str, tables: Schema, parameters: Mapping[str, object]) -> str:
    """Pass 1 alone: the same query in DuckDB SQL with its implicit semantics spelled out (what the tests compare)."""
    tree = _typed(query, _schema_key(tables), _parameter_types(parameters))
    return tree.sql("duckdb")


@cache
def _spark_sql(query: str, schema: tuple, parameter_types: tuple) -> str:
    tree = _typed(query, schema, parameter_types)
    return _rewrite(tree, SPARK_FIXES).sql("spark")


def _typed(query: str, schema: tuple, parameter_types: tuple) -> exp.Expression:
    """The parsed query, qualified, with pass 1 applied until the types settle."""
    types = dict(parameter_types)
    tree = sqlglot.parse_one(query, read="duckdb")
    tree = tree.transform(lambda node: _typed_parameter(node, types))
    mapping = {table: dict(columns) for table, columns in schema}
    tree = qualify(tree, schema=mapping, dialect="duckdb", validate_qualify_columns=False)
    for _ in range(MAX_PASSES):
        tree = annotate_types(tree, schema=mapping, dialect="duckdb")
        rewritten = _rewrite(tree.copy(), EXPLICIT_FIXES)
        if rewritten == tree:
            return tree
        tree = rewritten
    raise UnsafeTranslation(f"the SQL's types did not settle after {MAX_PASSES} passes")


def _typed_parameter(node: exp.Expression, types: dict[str, str]) -> exp.Expression:
    if not isinstance(node, exp.Placeholder):
        return node
    if node.name not in types:
        raise UnsafeTranslation(f"SQL parameter ${node.name} has no value")
    return exp.cast(node, types[node.name])


def _rewrite(tree: exp.Expression, fixes: dict[type, Callable]) -> exp.Expression:
    """Each node after its children (so a fix sees its operands already fixed), replaced by its fix, if any."""
    for node in reversed(list(tree.walk(bfs=False))):
        fix = fixes.get(type(node))
        replacement = fix(node) if fix else None
        if replacement is not None and replacement is not node:
            replacement.type = replacement.type or node.type  # a fix keeps the value's type
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
    return tree


# -- pass 1: DuckDB's implicit semantics, explicit --------------------------------------------------------------------


def _explicit_division(node: exp.Div) -> exp.Expression | None:
    if all(_is_cast_to_double(side) for side in (node.this, node.expression)):
        return None
    return _double_division(node.this, node.expression)


def _explicit_integer_division(node: exp.IntDiv) -> exp.Expression | None:
    kinds = {_kind(node.this), _kind(node.expression)}
    if kinds == {"integer"}:
        return None
    if "unknown" in kinds:
        raise UnsafeTranslation(f"cannot tell the operand types of {node.sql('duckdb')}")
    return _double_division(node.this, node.expression)  # DuckDB's // divides non-integers exactly as / does


def _explicit_date_difference(node: exp.Sub) -> exp.Expression | None:
    kinds = [_kind(node.this), _kind(node.expression)]
    if kinds == ["date", "date"]:
        difference = exp.DateDiff(this=node.this, expression=node.expression, unit=exp.var("DAY"))
        return exp.cast(difference, "BIGINT")
    if "date" in kinds and "unknown" in kinds:
        raise UnsafeTranslation(f"cannot tell whether {node.sql('duckdb')} subtracts two dates")
    return None


EXPLICIT_FIXES: dict[type, Callable] = {
    exp.Div: _explicit_division,
    exp.IntDiv: _explicit_integer_division,
    exp.Sub: _explicit_date_difference,
}


# -- pass 2: explicit DuckDB to Spark ---------------------------------------------------------------------------------


def _iso_weekday(node: exp.DayOfWeekIso) -> exp.Expression:
    return exp.paren(exp.Add(this=exp.func("WEEKDAY", node.this), expression=exp.Literal.number(1)))


def _ieee_division(node: exp.Div) -> exp.Expression:
    """DOUBLE division with DuckDB's result for a zero divisor: x * +inf (+inf, -inf, or NaN for 0 and NaN)."""
    divisor = node.expression
    infinite = exp.Mul(this=node.this.copy(), expression=exp.cast(exp.Literal.string("Infinity"), "DOUBLE"))
    zero = exp.EQ(this=divisor.copy(), expression=exp.Literal.number(0))
    return exp.paren(exp.Case(ifs=[exp.If(this=zero, true=infinite)], default=node.copy()))


def _duckdb_round(node: exp.Round) -> exp.Expression | None:
    kind = _kind(node.this)
    if kind in ("integer", "decimal"):
        return None  # exact values: both round half away from zero
    if kind != "double":
        raise UnsafeTranslation(f"cannot tell the type of the value rounded by {node.sql('duckdb')}")
    digits = node.args.get("decimals") or exp.Literal.number(0)
    if not (digits.is_int and int(digits.name) >= 0):
        raise UnsafeTranslation(f"{node.sql('duckdb')}: only a constant, non-negative number of digits is translated")
    return exp.func(DUCKDB_ROUND, node.this.copy(), digits.copy())


def _ordered_first(node: exp.First) -> exp.Expression | None:
    if not isinstance(node.this, exp.Order):
        return None
    value, keys = node.this.this, node.this.expressions
    fields: list[exp.Expression] = []
    for key in keys:
        term = key.this
        nulls_first = bool(key.args.get("nulls_first"))
        fields.append(exp.Not(this=exp.Is(this=term.copy(), expression=exp.null())) if nulls_first else term.is_(None))
        if key.args.get("desc"):
            if _kind(term) not in ("integer", "decimal", "double"):
                raise UnsafeTranslation(f"{node.sql('duckdb')}: a DESC key must be numeric to translate to Spark")
            term = exp.Neg(this=exp.paren(term.copy()))
        fields.append(term.copy())
    return exp.func("MIN_BY", value.copy(), exp.func("STRUCT", *fields))


def _non_null_argument(node: exp.ArgMin | exp.ArgMax) -> exp.Expression:
    value, key = node.this, node.expression
    kept = exp.Case(ifs=[exp.If(this=value.copy().is_(None), true=exp.null())], default=key.copy())
    return exp.func("MIN_BY" if isinstance(node, exp.ArgMin) else "MAX_BY", value.copy(), kept)


def _naive_timestamp(node: exp.UnixToTime) -> exp.Expression:
    scale = node.args.get("scale")
    if not (scale is not None and scale.is_int and int(scale.name) == 6):
        raise UnsafeTranslation(f"{node.sql('duckdb')}: only make_timestamp(microseconds) is translated")
    naive = exp.DataType.build("TIMESTAMP_NTZ", dialect="spark")
    return exp.cast(exp.func("TIMESTAMP_MICROS", node.this.copy()), naive)


def _anonymous(node: exp.Anonymous) -> exp.Expression | None:
    name = node.name.lower()
    if name == "epoch_us":
        return exp.func("UNIX_MICROS", *node.expressions)
    if name == "hash":
        return exp.func(DUCKDB_HASH_UDF, *node.expressions)
    if name in KNOWN_ANONYMOUS:
        return None
    raise UnsafeTranslation(f"DuckDB function {node.name}() has no checked Spark translation")


SPARK_FIXES: dict[type, Callable] = {
    exp.DayOfWeekIso: _iso_weekday,
    exp.Div: _ieee_division,
    exp.Round: _duckdb_round,
    exp.First: _ordered_first,
    exp.ArgMin: _non_null_argument,
    exp.ArgMax: _non_null_argument,
    exp.UnixToTime: _naive_timestamp,
    exp.Anonymous: _anonymous,
}


# -- types ------------------------------------------------------------------------------------------------------------


def _double_division(dividend: exp.Expression, divisor: exp.Expression) -> exp.Expression:
    division = exp.Div(this=_as_double(dividend), expression=_as_double(divisor))
    division.type = exp.DataType.build("DOUBLE")
    return division


def _as_double(node: exp.Expression) -> exp.Expression:
    return node.copy() if _is_cast_to_double(node) else exp.cast(node.copy(), "DOUBLE")


def _is_cast_to_double(node: exp.Expression) -> bool:
    return isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DOUBLE)


def _kind(node: exp.Expression) -> str:
    """The DuckDB type class of a typed node: integer, decimal, double, date, other or unknown."""
    data_type = node.type
    while data_type is None and isinstance(node, exp.Paren):
        node = node.this
        data_type = node.type
    if data_type is None or data_type.is_type(exp.DataType.Type.UNKNOWN, exp.DataType.Type.NULL):
        return "unknown"
    if data_type.is_type(*exp.DataType.INTEGER_TYPES):
        return "integer"
    if data_type.is_type(exp.DataType.Type.DECIMAL):
        return "decimal"
    if data_type.is_type(*exp.DataType.REAL_TYPES):
        return "double"
    if data_type.is_type(exp.DataType.Type.DATE):
        return "date"
    return "other"


def _schema_key(tables: Schema) -> tuple:
    columns = {name: tuple((field.name, _sql_type(field.type)) for field in schema) for name, schema in tables.items()}
    return tuple(sorted(columns.items()))


def _sql_type(arrow: pa.DataType) -> str:
    if pa.types.is_string(arrow) or pa.types.is_large_string(arrow):
        return "VARCHAR"
    if pa.types.is_timestamp(arrow):
        return "TIMESTAMPTZ" if arrow.tz else "TIMESTAMP"
    if pa.types.is_decimal(arrow):
        return f"DECIMAL({arrow.precision}, {arrow.scale})"
    names = {
        pa.bool_(): "BOOLEAN",
        pa.int8(): "TINYINT",
        pa.int16(): "SMALLINT",
        pa.int32(): "INT",
        pa.int64(): "BIGINT",
        pa.uint64(): "UBIGINT",
        pa.float32(): "FLOAT",
        pa.float64(): "DOUBLE",
        pa.date32(): "DATE",
    }
    if arrow not in names:
        raise UnsafeTranslation(f"no SQL type for the Arrow type {arrow}")
    return names[arrow]


def _parameter_types(parameters: Mapping[str, object]) -> tuple:
    def sql_type(value: object) -> str:
        if isinstance(value, date):
            return "DATE"
        if isinstance(value, int) and not isinstance(value, bool):
            return "INT" if -(2**31) <= value < 2**31 else "BIGINT"
        if isinstance(value, float):
            return "DOUBLE"
        raise UnsafeTranslation(f"SQL parameter of type {type(value).__name__} is not translated")

    return tuple(sorted((name, sql_type(value)) for name, value in parameters.items()))
