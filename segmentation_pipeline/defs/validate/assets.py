"""Validate: row-level rules split every raw partition into clean and quarantined rows; each source's expectation
suite then judges every partition as blocking (critical) and warning checks."""

from datetime import date

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.features.rollups import write_validated_partition
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, DAILY_SOURCES, Source, clean_schema, quarantine_schema
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.validate.expectations import (
    CRITICAL,
    WARNING,
    ExpectationOutcome,
    SuiteRunner,
    failures_table,
)
from segmentation_pipeline.core.validate.history import keys_before, known_customer_ids
from segmentation_pipeline.core.validate.row_checks import (
    KeySet,
    OutcomeSummary,
    RuleContext,
    ValidationOutcome,
    validate,
)
from segmentation_pipeline.defs.partitions import backfill_priority, daily_partitions, partition_days
from segmentation_pipeline.defs.resources import DataRoot, ValidationSettings

SUITE_CHECKS = {
    CRITICAL: (
        "critical_expectations",
        dg.AssetCheckSeverity.ERROR,
        "Critical expectations of the source's suite; blocks everything downstream when it fails.",
    ),
    WARNING: (
        "warning_expectations",
        dg.AssetCheckSeverity.WARN,
        "Warning expectations of the source's suite; never blocks.",
    ),
}
REFERENTIAL_CHECK = "referential_integrity"


def _check_specs(asset_name: str, daily: bool) -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(
            name, asset=asset_name, blocking=severity is dg.AssetCheckSeverity.ERROR, description=description
        )
        for name, severity, description in SUITE_CHECKS.values()
    ]
    if daily:
        specs.append(
            dg.AssetCheckSpec(
                REFERENTIAL_CHECK,
                asset=asset_name,
                description="Share of rows whose customer is missing from the CRM export (they are quarantined).",
            )
        )
    return specs


def _validate_partition(
    data_root: DataRoot, source: Source, day: date | None, context: RuleContext, run_id: str
) -> ValidationOutcome:
    layout = data_root.layout
    raw = pq.read_table(layout.raw(source.name, day)).to_pandas()
    outcome = validate(raw, source, context, run_id)
    write_validated_partition(
        layout, source, day, pa.Table.from_pandas(outcome.clean, schema=clean_schema(source), preserve_index=False)
    )
    write_parquet_atomically(
        pa.Table.from_pandas(outcome.quarantine, schema=quarantine_schema(source), preserve_index=False),
        layout.quarantined(source.name, day),
    )
    return outcome


def _suite_check_results(outcomes: list[ExpectationOutcome]) -> list[dg.AssetCheckResult]:
    results = []
    for severity_name, (check_name, severity, _) in SUITE_CHECKS.items():
        selected = [outcome for outcome in outcomes if outcome.severity == severity_name]
        failed = [outcome for outcome in selected if not outcome.success]
        results.append(
            dg.AssetCheckResult(
                check_name=check_name,
                passed=not failed,
                severity=severity,
                metadata={
                    "expectations_evaluated": len(selected),
                    "expectations_failed": len(failed),
                    "failed_expectations": dg.MetadataValue.md(failures_table(failed)),
                },
            )
        )
    return results


def _referential_check_result(outcomes: list[OutcomeSummary], max_rate: float) -> dg.AssetCheckResult:
    rows_in = sum(outcome.rows_in for outcome in outcomes)
    unknown = sum(outcome.rule_counts.get("unknown_customer", 0) for outcome in outcomes)
    rate = unknown / rows_in if rows_in else 0.0
    return dg.AssetCheckResult(
        check_name=REFERENTIAL_CHECK,
        passed=rate <= max_rate,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"rows_with_unknown_customer": unknown, "unknown_customer_rate": rate, "max_rate": max_rate},
    )


def _materialization(outcomes: list[OutcomeSummary], check_results: list[dg.AssetCheckResult]) -> dg.MaterializeResult:
    rows_in = sum(outcome.rows_in for outcome in outcomes)
    clean = sum(outcome.rows_clean for outcome in outcomes)
    quarantined = sum(outcome.rows_quarantined for outcome in outcomes)
    by_rule = pd.DataFrame([outcome.rule_counts for outcome in outcomes]).sum()
    rule_table = "| rule | rows |\n| --- | --- |\n" + "\n".join(f"| {rule} | {int(n)} |" for rule, n in by_rule.items())
    examples = pd.concat([outcome.quarantine_examples for outcome in outcomes]).head(5)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": clean,
            "rows_in": rows_in,
            "rows_clean": clean,
            "rows_quarantined": quarantined,
            "quarantine_rate": quarantined / rows_in if rows_in else 0.0,
            "quarantined_by_rule": dg.MetadataValue.md(rule_table),
            "quarantine_examples": dg.MetadataValue.md(examples.to_markdown(index=False) if len(examples) else "none"),
        },
        check_results=check_results,
    )


@dg.asset(
    group_name="validate",
    kinds={"parquet"},
    deps=["raw_customers"],
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=_check_specs("validated_customers", daily=False),
    description="Valid CRM customers; bad rows go to `quarantine/customers/` with the rules they broke.",
)
def validated_customers(
    context: dg.AssetExecutionContext, data_root: DataRoot, validation: ValidationSettings
) -> dg.MaterializeResult:
    rule_context = RuleContext(partition_day=None, now=pd.Timestamp.now(tz="UTC"))
    outcome = _validate_partition(data_root, CUSTOMERS, None, rule_context, context.run.run_id)
    suite = SuiteRunner(CUSTOMERS.name, validation.thresholds())
    return _materialization(
        [outcome.summary()], _suite_check_results(suite.run(None, outcome.clean, outcome.quarantine))
    )


def _daily_validated_asset(source: Source) -> dg.AssetsDefinition:
    asset_name = f"validated_{source.name}"

    @dg.asset(
        name=asset_name,
        group_name="validate",
        kinds={"parquet"},
        deps=[f"raw_{source.name}", "validated_customers"],
        partitions_def=daily_partitions,
        op_tags=backfill_priority(source.name),
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=_check_specs(asset_name, daily=True),
        description=f"Valid {source.name.replace('_', ' ')} per day; bad rows go to `quarantine/{source.name}/`.",
    )
    def validated_daily(
        context: dg.AssetExecutionContext, data_root: DataRoot, validation: ValidationSettings
    ) -> dg.MaterializeResult:
        layout = data_root.layout
        days = partition_days(context)
        customers = KeySet(known_customer_ids(layout))
        earlier_keys = KeySet(keys_before(layout, source, days[0]))
        suite = SuiteRunner(source.name, validation.thresholds())
        outcomes, expectations = [], []
        for day in days:
            rule_context = RuleContext(day, pd.Timestamp.now(tz="UTC"), customers, earlier_keys, validation.max_amount)
            outcome = _validate_partition(data_root, source, day, rule_context, context.run.run_id)
            if source.key:
                earlier_keys.add(outcome.clean[source.key])
            outcomes.append(outcome.summary())
            expectations += suite.run(day, outcome.clean, outcome.quarantine)
        check_results = [
            *_suite_check_results(expectations),
            _referential_check_result(outcomes, validation.max_unknown_customer_rate),
        ]
        return _materialization(outcomes, check_results)

    return validated_daily


validated_orders, validated_survey_responses, validated_usage_events = (
    _daily_validated_asset(source) for source in DAILY_SOURCES
)
