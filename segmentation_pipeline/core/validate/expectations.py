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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from segmentation_pipeline.core.validate.settings import ValidationSettings

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


@dataclass(frozen=True)
class ExpectationOutcome:
    partition: date | None
    name: str
    severity: str
    success: bool
    observed: Any
    unexpected_count: int | None
    error: str | None = None


class SuiteRunner:
    """Runs one source's suite on partition after partition, sequentially: a Great Expectations context must not
    be shared between threads, so each runner owns its own ephemeral context."""

    def __init__(self, source_name: str, settings: ValidationSettings):
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        _skip_batch_fingerprints()
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        self._batch = (
            context.data_sources.add_pandas(source_name)
            .add_dataframe_asset(source_name)
            .add_batch_definition_whole_dataframe(source_name)
        )
        suite = load_suite(source_name)
        # Expectations on clean rows (a row condition) need some; those on all rows need at least one row. A day
        # without rows is valid and only the table-level expectations (column set, row count) apply to it.
        applicable = {
            "all": suite["expectations"],
            "no_clean_rows": [item for item in suite["expectations"] if "row_condition" not in item["kwargs"]],
            "no_rows": [item for item in suite["expectations"] if item["type"].startswith("expect_table_")],
        }
        self._suites = {
            tier: context.suites.add(gx.ExpectationSuite(name=f"{source_name}_{tier}", expectations=expectations))
            for tier, expectations in applicable.items()
        }
        self._settings = settings

    def run(self, partition: date | None, clean: pd.DataFrame, quarantine: pd.DataFrame) -> list[ExpectationOutcome]:
        rows = pd.concat(
            [clean.assign(_quarantined=False), quarantine[clean.columns].assign(_quarantined=True)], ignore_index=True
        )
        tier = "all" if len(clean) else "no_clean_rows" if len(rows) else "no_rows"
        result = self._batch.get_batch(batch_parameters={"dataframe": rows}).validate(
            self._suites[tier],
            expectation_parameters=suite_parameters(self._settings, len(rows)),
            result_format={"result_format": "SUMMARY"},
        )
        return [_outcome(partition, item) for item in result.results]


def _skip_batch_fingerprints() -> None:
    """Great Expectations fingerprints every in-memory pandas batch under 1 GB by hashing all of its rows, twice per
    validation, which is most of a large day's suite time (README: Performance). The fingerprint is only a batch marker
    in the result, which nothing here reads, and there is no setting for it, so the size limit is set to zero."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def load_suite(source_name: str) -> dict:
    return json.loads((SUITES_DIR / f"{source_name}.json").read_text())


def _outcome(partition: date | None, item) -> ExpectationOutcome:
    config = item.expectation_config
    raised = (item.exception_info or {}).get("raised_exception")
    return ExpectationOutcome(
        partition=partition,
        name=config.meta.get("name") or f"{config.type}({config.kwargs.get('column', '')})",
        severity=str(getattr(config.severity, "value", config.severity)).lower(),
        success=bool(item.success) and not raised,
        observed=item.result.get("observed_value"),
        unexpected_count=item.result.get("unexpected_count"),
        error=(item.exception_info or {}).get("exception_message") if raised else None,
    )


def failures_table(outcomes: list[ExpectationOutcome], limit: int = 20) -> str:
    """Markdown rows for the failed expectations: enough to act on, never the full result JSON."""
    failed = [outcome for outcome in outcomes if not outcome.success]
    if not failed:
        return "all expectations passed"
    lines = ["| partition | expectation | observed | unexpected rows |", "| --- | --- | --- | --- |"]
    for outcome in failed[:limit]:
        observed = outcome.error or _short(outcome.observed)
        lines.append(f"| {outcome.partition or '-'} | {outcome.name} | {observed} | {outcome.unexpected_count or ''} |")
    if len(failed) > limit:
        lines.append(f"| … | {len(failed) - limit} more failures | | |")
    return "\n".join(lines)


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    text = "" if value is None else str(value)
    return text if len(text) <= 80 else text[:77] + "..."
