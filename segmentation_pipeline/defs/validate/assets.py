"""Validate: row-level rules split every raw partition into clean rows and quarantined rows with their reasons."""

from datetime import date

import dagster as dg
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.contract import CUSTOMERS, DAILY_SOURCES, Source, clean_schema, quarantine_schema
from segmentation_pipeline.core.history import keys_before, known_customer_ids
from segmentation_pipeline.core.storage import write_parquet_atomically
from segmentation_pipeline.core.validation import (
    RuleContext,
    ValidationOutcome,
    as_string_array,
    quarantine_examples,
    validate,
)
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days
from segmentation_pipeline.defs.resources import DataRoot


class ValidationConfig(dg.Config):
    max_amount: float = 1_000_000.0
    """Order amounts above this are quarantined as `amount_too_large`."""


def _validate_partition(
    data_root: DataRoot, source: Source, day: date | None, context: RuleContext, run_id: str
) -> ValidationOutcome:
    layout = data_root.layout
    raw = pq.read_table(layout.raw(source.name, day)).to_pandas()
    outcome = validate(raw, source, context, run_id)
    write_parquet_atomically(
        pa.Table.from_pandas(outcome.clean, schema=clean_schema(source), preserve_index=False),
        layout.validated(source.name, day),
    )
    write_parquet_atomically(
        pa.Table.from_pandas(outcome.quarantine, schema=quarantine_schema(source), preserve_index=False),
        layout.quarantined(source.name, day),
    )
    return outcome


def _report(outcomes: list[ValidationOutcome]) -> dg.MaterializeResult:
    rows_in = sum(outcome.rows_in for outcome in outcomes)
    clean = sum(len(outcome.clean) for outcome in outcomes)
    quarantined = sum(len(outcome.quarantine) for outcome in outcomes)
    by_rule = pd.DataFrame([outcome.rule_counts for outcome in outcomes]).sum() if outcomes else pd.Series()
    rule_table = "| rule | rows |\n| --- | --- |\n" + "\n".join(f"| {rule} | {int(n)} |" for rule, n in by_rule.items())
    examples = pd.concat([outcome.quarantine for outcome in outcomes]) if outcomes else pd.DataFrame()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": clean,
            "rows_in": rows_in,
            "rows_clean": clean,
            "rows_quarantined": quarantined,
            "quarantine_rate": quarantined / rows_in if rows_in else 0.0,
            "quarantined_by_rule": dg.MetadataValue.md(rule_table),
            "quarantine_examples": dg.MetadataValue.md(
                quarantine_examples(examples).to_markdown(index=False) if len(examples) else "none"
            ),
        }
    )


@dg.asset(
    group_name="validate",
    kinds={"parquet"},
    deps=["raw_customers"],
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="Valid CRM customers; bad rows go to `quarantine/customers/` with the rules they broke.",
)
def validated_customers(context: dg.AssetExecutionContext, data_root: DataRoot) -> dg.MaterializeResult:
    rule_context = RuleContext(partition_day=None, now=pd.Timestamp.now(tz="UTC"))
    outcome = _validate_partition(data_root, CUSTOMERS, None, rule_context, context.run.run_id)
    return _report([outcome])


def _daily_validated_asset(source: Source) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"validated_{source.name}",
        group_name="validate",
        kinds={"parquet"},
        deps=[f"raw_{source.name}", "validated_customers"],
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        description=f"Valid {source.name.replace('_', ' ')} per day; bad rows go to `quarantine/{source.name}/`.",
    )
    def validated_daily(context: dg.AssetExecutionContext, config: ValidationConfig, data_root: DataRoot) -> dg.MaterializeResult:
        layout = data_root.layout
        days = partition_days(context)
        customers = known_customer_ids(layout)
        earlier_keys = keys_before(layout, source, days[0])
        outcomes = []
        for day in days:
            rule_context = RuleContext(day, pd.Timestamp.now(tz="UTC"), customers, earlier_keys, config.max_amount)
            outcome = _validate_partition(data_root, source, day, rule_context, context.run.run_id)
            if source.key:
                earlier_keys = pa.concat_arrays([earlier_keys, as_string_array(outcome.clean[source.key])])
            outcomes.append(outcome)
        return _report(outcomes)

    return validated_daily


validated_orders, validated_survey_responses, validated_usage_events = (
    _daily_validated_asset(source) for source in DAILY_SOURCES
)
