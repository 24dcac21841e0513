"""Dataset-level checks: each source's Great Expectations suite (JSON in `segmentation_pipeline/core/validate/suites/`),
run in-process on every validated partition.

Row-level checks decide what is quarantined (`row_checks.py`); the suites judge the partition as a whole: column
set, row-count bounds, null and unique proportions, value ranges, distribution bounds and the quarantine rate. The
suite sees every input row with a `_quarantined` flag: the quarantine rate is the flag's mean, and value expectations
use a row condition to look at clean rows only. Great Expectations is imported only when a suite runs: its import is
slow, and loading the definitions must not pay for it.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.core.groupby import SeriesGroupBy

from segmentation_pipeline.core.validate.settings import ValidationSettings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SUITES_DIR = Path(__file__).resolve().parent / "suites"
CRITICAL, WARNING = "critical", "warning"


SUITE_PARAMETERS = (
    "max_quarantine_rate",
    "min_rows",
    "max_rows",
    "max_amount",
    "median_amount_min",
    "median_amount_max",
)
"""The settings the suites' `$PARAMETER` placeholders name."""


def suite_parameters(settings: ValidationSettings, rows_in: int) -> dict[str, float]:
    """The suite parameters for a partition; one bad row among a handful is no trend, so the quarantine rate is only
    judged on partitions of at least `min_rows_for_quarantine_rate` rows."""
    parameters = {name: getattr(settings, name) for name in SUITE_PARAMETERS}
    if rows_in < settings.min_rows_for_quarantine_rate:
        parameters["max_quarantine_rate"] = 1.0
    return parameters


ROW_WISE, AGGREGATE, PER_PARTITION = "row-wise", "aggregate", "per-partition"
PARTITION_COLUMN = "_partition"
"""The column naming each row's partition in a suite run over many partitions."""

_FIGURES: dict[str, Callable[[SeriesGroupBy], pd.Series]] = {
    "expect_column_mean_to_be_between": lambda values: values.mean(),
    "expect_column_median_to_be_between": lambda values: values.median(),
    "expect_column_proportion_of_unique_values_to_be_between": lambda values: values.nunique() / values.count(),
    "expect_column_values_to_not_be_null": lambda values: values.count() / values.size(),  # with `mostly`
}
"""Aggregate expectations as one figure per partition, computed as Great Expectations computes them (over the
non-null values; the filled share over all rows), then judged by `expect_column_values_to_be_between`."""
_ROW_COUNT = "expect_table_row_count_to_be_between"
_COMPARISONS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt}


@dataclass(frozen=True)
class ExpectationOutcome:
    """One expectation's verdict over a run's partitions; a failure names the partitions it failed on."""

    partitions: tuple[date | None, ...]
    name: str
    severity: str
    success: bool
    observed: Any
    unexpected_count: int | None
    error: str | None = None


class SuiteRunner:
    """Judges the partitions of one source with its suite in a few suite runs, however many partitions a run has: a
    suite run has a large fixed cost, and an initial load has hundreds of partitions per source.

    Every expectation keeps its per-partition meaning:
    - row-wise expectations (the column set; values not null, in a set or in a range on every row) hold on each
      partition exactly when they hold on all their rows together, so they run once over every row, and a failure
      names the partitions of its first unexpected rows;
    - aggregate expectations (row count, mean, median, share of unique values, a `mostly` share of filled values)
      run over a table of one figure per partition, so a failure names each failing partition and its figure;
    - any other expectation runs on each partition on its own.
    A Great Expectations context must not be shared between threads, so each runner owns an ephemeral one.

    With a Spark session, Great Expectations' Spark engine judges the rows as a Spark DataFrame and Spark computes the
    aggregates' figures (`_SparkRows`); the suite, the grouping of expectations and the verdicts are the same.
    """

    def __init__(self, source_name: str, settings: ValidationSettings, spark: SparkSession | None = None):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _skip_batch_fingerprints()
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._suite = partial(gx.ExpectationSuite, name=source_name)
        sources = context.data_sources
        datasource = sources.add_pandas(source_name) if spark is None else sources.add_spark(source_name)
        self._batch = datasource.add_dataframe_asset(source_name).add_batch_definition_whole_dataframe(source_name)
        self._expectations = load_suite(source_name)["expectations"]
        self._settings = settings
        self._spark, self._source_name = spark, source_name

    def run(self, partitions: Mapping[date | None, tuple[pd.DataFrame, pd.DataFrame]]) -> list[ExpectationOutcome]:
        """Judge each partition's (clean, quarantined) rows. Outcomes come in suite order, a failed aggregate once per
        failing partition; an expectation that applies to no partition (a value expectation when no row is clean, an
        aggregate of a column without values) has none."""
        rows, labels = _suite_rows(partitions)
        counts = {
            label: (len(clean) + len(quarantined), len(clean))
            for label, (clean, quarantined) in zip(labels, partitions.values(), strict=True)
        }
        if self._spark is None:
            return self._outcomes(rows, labels, counts, None)
        import pyarrow as pa

        table = pa.Table.from_pandas(rows.astype({PARTITION_COLUMN: "str"}), preserve_index=False)
        frame = self._spark.createDataFrame(table).persist()
        try:
            return self.run_on_spark(frame, {day: counts[label] for label, day in labels.items()})
        finally:
            frame.unpersist()

    def run_on_spark(self, rows: DataFrame, counts: Mapping[date | None, tuple[int, int]]) -> list[ExpectationOutcome]:
        """`run` for partitions whose suite rows are a Spark DataFrame already (as `_suite_rows` makes them: the
        clean rows first, in day order, then the quarantined ones), with each partition's (rows, clean rows)."""
        from segmentation_pipeline.core.engines.spark_engine import spark_failures

        labels = {_label(day): day for day in counts}
        with spark_failures(f"expectation suite {self._source_name}"):
            return self._outcomes(None, labels, dict(zip(labels, counts.values(), strict=True)), _SparkRows(rows))

    def _outcomes(
        self,
        rows: pd.DataFrame | None,
        labels: dict[str, date | None],
        counts: dict[str, tuple[int, int]],
        spark_rows: _SparkRows | None,
    ) -> list[ExpectationOutcome]:
        """The verdicts over `rows` (None on Spark: `spark_rows`), each partition's (rows, clean rows) `counts` by
        label."""
        kinds: dict[str, list[tuple[int, dict]]] = {ROW_WISE: [], AGGREGATE: [], PER_PARTITION: []}
        for index, expectation in enumerate(self._expectations):
            kinds[_kind(expectation)].append((index, expectation))
        outcomes = [
            *self._row_wise(rows, labels, counts, kinds[ROW_WISE], spark_rows),
            *self._aggregates(rows, labels, counts, kinds[AGGREGATE], spark_rows),
            *self._per_partition(rows, labels, counts, kinds[PER_PARTITION], spark_rows),
        ]
        return [outcome for _, outcome in sorted(outcomes, key=lambda item: item[0])]

    def _validate(self, rows: Any, expectations: list[dict], parameters: dict, result_format: str) -> list:
        """`rows` (a pandas frame, or with Spark a Spark DataFrame) judged by `expectations`."""
        if not expectations:
            return []
        result = self._batch.get_batch(batch_parameters={"dataframe": rows}).validate(
            self._suite(expectations=expectations),
            expectation_parameters=parameters,
            result_format={"result_format": result_format, "unexpected_index_column_names": [PARTITION_COLUMN]},
        )
        return result.results

    def _row_wise(
        self, rows: pd.DataFrame | None, labels: dict, counts: dict, expectations: list, spark_rows: _SparkRows | None
    ) -> list[tuple[int, ExpectationOutcome]]:
        """One suite run per row condition, over the rows it selects: Great Expectations filters a copy of every
        column for each conditioned expectation, which cost more than the checks themselves."""
        total, clean = (sum(values) for values in zip(*counts.values(), strict=True))
        parameters = suite_parameters(self._settings, total)
        outcomes = []
        for condition, group in _by_row_condition(_applicable(expectations, total, clean)).items():
            configs = [_with_partition_column(_unconditioned(expectation)) for _, expectation in group]
            if spark_rows is not None:
                selected = spark_rows.where(None if condition is None else json.loads(condition))
            elif condition is None:
                selected = rows
            else:
                selected = _columns_of(rows, configs)[_matches(rows, json.loads(condition))]
            results = self._validate(selected, configs, parameters, "SUMMARY")
            for (index, expectation), item in zip(group, results, strict=True):
                failed_in = [row[PARTITION_COLUMN] for row in item.result.get("partial_unexpected_index_list") or []]
                observed = item.result.get("observed_value")
                if isinstance(observed, list):
                    observed = [name for name in observed if name != PARTITION_COLUMN]
                failed = tuple(labels[label] for label in dict.fromkeys(failed_in))
                outcomes.append((index, _outcome(expectation, item, failed, observed)))
        return outcomes

    def _aggregates(
        self, rows: pd.DataFrame | None, labels: dict, counts: dict, expectations: list, spark_rows: _SparkRows | None
    ) -> list[tuple[int, ExpectationOutcome]]:
        figures = pd.DataFrame({PARTITION_COLUMN: list(labels)})
        judged = []
        for index, expectation in expectations:
            if spark_rows is not None:
                figure = spark_rows.figure(expectation, list(labels))
            else:
                figure = _figure(rows, expectation, list(labels))
            if figure.notna().any():
                figures[f"figure_{index}"] = figure.to_numpy(dtype="float64", na_value=np.nan)
                judged.append((index, expectation))
        # the parameters can differ between partitions (small ones are not judged on their quarantine rate)
        parameter_sets = [tuple(suite_parameters(self._settings, counts[label][0]).items()) for label in labels]
        configs = [_as_figure_check(index, expectation) for index, expectation in judged]
        failures: dict[int, list[tuple[date | None, Any]]] = {index: [] for index, _ in judged}
        for parameters in dict.fromkeys(parameter_sets):
            group = figures[[candidate == parameters for candidate in parameter_sets]]
            data = group if spark_rows is None else spark_rows.table(group)
            results = self._validate(data, configs, dict(parameters), "COMPLETE")
            for (index, _), item in zip(judged, results, strict=True):
                failures[index] += _failing_figures(item, f"figure_{index}", group, labels)
        outcomes = []
        for index, expectation in judged:
            failed = sorted(failures[index], key=lambda failure: str(failure[0]))
            outcomes += [(index, _judged(expectation, (day,), observed)) for day, observed in failed]
            if not failed:
                outcomes.append((index, _judged(expectation, (), None)))
        return outcomes

    def _per_partition(
        self, rows: pd.DataFrame | None, labels: dict, counts: dict, expectations: list, spark_rows: _SparkRows | None
    ) -> list[tuple[int, ExpectationOutcome]]:
        if not expectations:
            return []
        verdicts: dict[int, list[ExpectationOutcome]] = {}
        for label, day in labels.items():
            applicable = _applicable(expectations, *counts[label])
            if spark_rows is None:
                data = rows[rows[PARTITION_COLUMN] == label].reset_index(drop=True)
            else:
                data = spark_rows.partition(label)
            results = self._validate(
                data, [item for _, item in applicable], suite_parameters(self._settings, counts[label][0]), "SUMMARY"
            )
            for (index, expectation), item in zip(applicable, results, strict=True):
                verdicts.setdefault(index, []).append(_outcome(expectation, item, (day,), None))
        outcomes = []
        for index, results in verdicts.items():
            failed = [outcome for outcome in results if not outcome.success]
            outcomes += [(index, outcome) for outcome in failed] or [(index, replace(results[0], partitions=()))]
        return outcomes


class _SparkRows:
    """The suite rows as a Spark DataFrame (its owner caches it), and the figures of the aggregate expectations
    computed by Spark exactly as `_figure` computes them with pandas."""

    def __init__(self, rows: DataFrame):
        self._rows = rows

    def table(self, frame: pd.DataFrame) -> DataFrame:
        """A small driver-side table (the aggregates' figures, one row per partition) as a Spark DataFrame."""
        import pyarrow as pa

        return self._rows.sparkSession.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))

    def where(self, condition: dict | None) -> DataFrame:
        if condition is None:
            return self._rows
        return self._rows.filter(_COMPARISONS[condition["operator"]](self._column(condition), condition["parameter"]))

    def partition(self, label: str) -> DataFrame:
        from pyspark.sql import functions as F

        return self._rows.filter(F.col(PARTITION_COLUMN) == label)

    def figure(self, expectation: dict, labels: list[str]) -> pd.Series:
        from pyspark.sql import functions as F

        kind, kwargs = expectation["type"], expectation["kwargs"]
        rows = self.where(kwargs.get("row_condition"))
        groups = rows.groupBy(PARTITION_COLUMN)
        if kind == _ROW_COUNT:
            figures = groups.agg(F.count(F.lit(1)).alias("figure"))
        elif kind == "expect_column_median_to_be_between":
            figures = _median(rows, kwargs["column"])
        else:
            value = F.col(kwargs["column"])
            figure = {
                "expect_column_mean_to_be_between": F.avg(value.cast("double")),
                "expect_column_proportion_of_unique_values_to_be_between": F.try_divide(
                    F.count_distinct(value).cast("double"), F.count(value)
                ),
                "expect_column_values_to_not_be_null": F.count(value) / F.count(F.lit(1)),
            }[kind]
            figures = groups.agg(figure.alias("figure"))
        found = {row[PARTITION_COLUMN]: row["figure"] for row in figures.collect()}
        default = 0 if kind == _ROW_COUNT else np.nan
        return pd.Series([found.get(label, default) for label in labels], index=labels, dtype="float64")

    @staticmethod
    def _column(condition: dict):
        from pyspark.sql import functions as F

        return F.col(condition["column"]["name"])


def _median(rows: DataFrame, column: str) -> DataFrame:
    """Each partition's median of the non-null values as pandas computes it: the middle value, or the mean of the two
    middle ones."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    values = rows.filter(F.col(column).isNotNull()).select(PARTITION_COLUMN, F.col(column).cast("double").alias("v"))
    ordered = Window.partitionBy(PARTITION_COLUMN).orderBy("v")
    counted = values.withColumn("i", F.row_number().over(ordered)).withColumn(
        "n", F.count(F.lit(1)).over(Window.partitionBy(PARTITION_COLUMN))
    )
    middle = (F.col("i") == F.floor((F.col("n") + 1) / 2)) | (F.col("i") == F.ceil((F.col("n") + 1) / 2))
    return counted.filter(middle).groupBy(PARTITION_COLUMN).agg(F.avg("v").alias("figure"))


def _kind(expectation: dict) -> str:
    kind, kwargs = expectation["type"], expectation["kwargs"]
    mostly = kwargs.get("mostly", 1.0)
    if kind == "expect_table_columns_to_match_set":
        return ROW_WISE
    if kind.startswith(("expect_column_values_to_", "expect_column_value_")) and kind != (
        "expect_column_values_to_be_unique"  # compares rows with each other
    ):
        if mostly == 1.0:
            return ROW_WISE
    if (kind in _FIGURES or kind == _ROW_COUNT) and _simple_condition(kwargs.get("row_condition")):
        if kind != "expect_column_values_to_not_be_null" or isinstance(mostly, float):
            return AGGREGATE
    return PER_PARTITION


def _simple_condition(condition: dict | None) -> bool:
    """A condition the figures can apply themselves: none, or a column compared with a value."""
    return condition is None or (condition.get("type") == "comparison" and condition.get("operator") in _COMPARISONS)


def _by_row_condition(expectations: list[tuple[int, dict]]) -> dict[str | None, list[tuple[int, dict]]]:
    """The expectations by the simple row condition that we apply for them (as JSON); None: the whole table, any
    other condition left to Great Expectations."""
    groups: dict[str | None, list[tuple[int, dict]]] = {}
    for index, expectation in expectations:
        condition = expectation["kwargs"].get("row_condition")
        key = json.dumps(condition, sort_keys=True) if condition and _simple_condition(condition) else None
        groups.setdefault(key, []).append((index, expectation))
    return groups


def _columns_of(rows: pd.DataFrame, expectations: list[dict]) -> pd.DataFrame:
    """The partition label and the columns the expectations check (all columns for a table-level one, none for a row
    count): filtering only those is what makes a row condition cheap."""
    columns = [expectation["kwargs"].get("column") for expectation in expectations if expectation["type"] != _ROW_COUNT]
    if None in columns:
        return rows
    return rows[[PARTITION_COLUMN, *dict.fromkeys(columns)]]


def _matches(rows: pd.DataFrame, condition: dict) -> pd.Series:
    return _COMPARISONS[condition["operator"]](rows[condition["column"]["name"]], condition["parameter"])


def _unconditioned(expectation: dict) -> dict:
    """The expectation without a simple row condition, for rows that condition already selected."""
    condition = expectation["kwargs"].get("row_condition")
    if not condition or not _simple_condition(condition):
        return expectation
    return {**expectation, "kwargs": {k: v for k, v in expectation["kwargs"].items() if k != "row_condition"}}


def _suite_rows(partitions: Mapping) -> tuple[pd.DataFrame, dict[str, date | None]]:
    """Every input row of the partitions, as the suite sees them: a `_quarantined` flag and the partition's label.
    Clean rows come first, each kind stacked once: building a frame per partition cost more than judging it."""
    labels = {_label(day): day for day in partitions}
    columns = next(iter(partitions.values()))[0].columns
    stacks = [
        pd.concat(frames, ignore_index=True)[columns].assign(
            _quarantined=flag, **{PARTITION_COLUMN: _labels(list(labels), [len(frame) for frame in frames])}
        )
        for frames, flag in zip(zip(*partitions.values(), strict=True), (False, True), strict=True)
    ]
    return pd.concat(stacks, ignore_index=True), labels


def _label(day: date | None) -> str:
    """A partition's label in the suite rows (`-`: the CRM export)."""
    return day.isoformat() if day else "-"


def _labels(labels: list[str], lengths: list[int]) -> pd.Categorical:
    """Each row's partition label, categorical: the figures group by it once per aggregate expectation."""
    return pd.Categorical.from_codes(np.repeat(np.arange(len(labels)), lengths), categories=labels)


def _applicable(expectations: list[tuple[int, dict]], rows: int, clean: int) -> list[tuple[int, dict]]:
    """Expectations on clean rows (a row condition) need some; those on all rows need at least one row. Without rows,
    only the table-level expectations (column set, row count) apply."""
    return [
        (index, expectation)
        for index, expectation in expectations
        if expectation["type"].startswith("expect_table_")
        or (rows and ("row_condition" not in expectation["kwargs"] or clean))
    ]


def _with_partition_column(expectation: dict) -> dict:
    if expectation["type"] != "expect_table_columns_to_match_set":
        return expectation
    kwargs = {**expectation["kwargs"], "column_set": [*expectation["kwargs"]["column_set"], PARTITION_COLUMN]}
    return {**expectation, "kwargs": kwargs}


def _figure(rows: pd.DataFrame, expectation: dict, labels: list[str]) -> pd.Series:
    kwargs, condition = expectation["kwargs"], expectation["kwargs"].get("row_condition")
    selected = _columns_of(rows, [expectation])
    if condition is not None:
        selected = selected[_matches(rows, condition)]
    groups = selected.groupby(PARTITION_COLUMN, sort=False)
    if expectation["type"] == _ROW_COUNT:
        return groups.size().reindex(labels, fill_value=0)
    return _FIGURES[expectation["type"]](groups[kwargs["column"]]).reindex(labels)


def _as_figure_check(index: int, expectation: dict) -> dict:
    """The aggregate expectation as a range check of its figure column (a `mostly` share: at least `mostly`)."""
    kwargs = expectation["kwargs"]
    if expectation["type"] == "expect_column_values_to_not_be_null":
        bounds = {"min_value": kwargs["mostly"]}
    else:
        bounds = {
            name: kwargs[name] for name in ("min_value", "max_value", "strict_min", "strict_max") if name in kwargs
        }
    return {
        "type": "expect_column_values_to_be_between",
        "kwargs": {"column": f"figure_{index}", **bounds},
        "meta": expectation.get("meta", {}),
        "severity": expectation["severity"],
    }


def _failing_figures(item, column: str, group: pd.DataFrame, labels: dict) -> list[tuple[date | None, Any]]:
    """(partition, figure) of each failing row of a figure check; every partition of the group, with the error, if
    the check itself raised."""
    raised = (item.exception_info or {}).get("raised_exception")
    if raised:
        error = (item.exception_info or {}).get("exception_message")
        return [(labels[label], error) for label in group[PARTITION_COLUMN]]
    return [(labels[row[PARTITION_COLUMN]], row[column]) for row in item.result.get("unexpected_index_list") or []]


def _judged(expectation: dict, partitions: tuple, observed: Any) -> ExpectationOutcome:
    return ExpectationOutcome(
        partitions, _name(expectation), expectation["severity"], not partitions, observed, unexpected_count=None
    )


def _outcome(expectation: dict, item, failed_in: tuple, observed: Any) -> ExpectationOutcome:
    raised = (item.exception_info or {}).get("raised_exception")
    success = bool(item.success) and not raised
    return ExpectationOutcome(
        partitions=() if success else failed_in,
        name=_name(expectation),
        severity=expectation["severity"],
        success=success,
        observed=item.result.get("observed_value") if observed is None else observed,
        unexpected_count=item.result.get("unexpected_count"),
        error=(item.exception_info or {}).get("exception_message") if raised else None,
    )


def _name(expectation: dict) -> str:
    return (
        expectation.get("meta", {}).get("name") or f"{expectation['type']}({expectation['kwargs'].get('column', '')})"
    )


def _skip_batch_fingerprints() -> None:
    """Great Expectations fingerprints every in-memory pandas batch under 1 GB by hashing all of its rows, twice per
    validation, which is most of a large day's suite time (README: Performance). The fingerprint is only a batch marker
    in the result, which nothing here reads, and there is no setting for it, so the size limit is set to zero."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def load_suite(source_name: str) -> dict:
    return json.loads((SUITES_DIR / f"{source_name}.json").read_text())


def failures_table(outcomes: list[ExpectationOutcome], limit: int = 20) -> str:
    """Markdown rows for the failed expectations: enough to act on, never the full result JSON."""
    failed = [outcome for outcome in outcomes if not outcome.success]
    if not failed:
        return "all expectations passed"
    lines = ["| partition | expectation | observed | unexpected rows |", "| --- | --- | --- | --- |"]
    for outcome in failed[:limit]:
        observed = outcome.error or _short(outcome.observed)
        partitions = _partitions(outcome.partitions)
        lines.append(f"| {partitions} | {outcome.name} | {observed} | {outcome.unexpected_count or ''} |")
    if len(failed) > limit:
        lines.append(f"| … | {len(failed) - limit} more failures | | |")
    return "\n".join(lines)


def _partitions(days: tuple[date | None, ...], shown: int = 3) -> str:
    named = ", ".join(str(day or "-") for day in days[:shown]) or "-"
    return named + (f" and {len(days) - shown} more" if len(days) > shown else "")


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
