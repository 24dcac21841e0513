"""Validate: row-level checks split every raw partition into clean and quarantined rows; each source's expectation
suite then judges every partition as blocking (critical) and warning checks."""

import dagster as dg
import pandas as pd

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, DAILY_SOURCES, Source
from segmentation_pipeline.core.validate.expectations import SuiteRunner
from segmentation_pipeline.core.validate.key_sets import EarlierKeys, KeySet, known_customer_ids
from segmentation_pipeline.core.validate.partitions import validate_partition
from segmentation_pipeline.core.validate.row_checks import CheckContext, OutcomeSummary
from segmentation_pipeline.defs.partitions import backfill_priority, daily_partitions, partition_days, per_day_metadata
from segmentation_pipeline.defs.resources import DATA_ROOT_POOL, DataRoot
from segmentation_pipeline.defs.validate.checks import check_specs, referential_check_result, suite_check_results
from segmentation_pipeline.defs.validate.resources import ValidationResource


def _outcome_metadata(summaries: list[OutcomeSummary]) -> dict:
    """Rows in, clean and quarantined, rows per check, and the first quarantined examples."""
    rows_in = sum(outcome.rows_in for outcome in summaries)
    clean = sum(outcome.rows_clean for outcome in summaries)
    quarantined = sum(outcome.rows_quarantined for outcome in summaries)
    by_check = pd.DataFrame([outcome.check_counts for outcome in summaries]).sum()
    check_table = "| rule | rows |\n| --- | --- |\n" + "\n".join(
        f"| {name} | {int(n)} |" for name, n in by_check.items()
    )
    examples = pd.concat([outcome.quarantine_examples for outcome in summaries]).head(5)
    return {
        "dagster/row_count": clean,
        "rows_in": rows_in,
        "rows_clean": clean,
        "rows_quarantined": quarantined,
        "quarantine_rate": quarantined / rows_in if rows_in else 0.0,
        "quarantined_by_rule": dg.MetadataValue.md(check_table),
        "quarantine_examples": dg.MetadataValue.md(examples.to_markdown(index=False) if len(examples) else "none"),
    }


@dg.asset(
    pool=DATA_ROOT_POOL,
    group_name="validate",
    kinds={"parquet"},
    deps=["raw_customers"],
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=check_specs("validated_customers", daily=False),
    description=(
        "Valid CRM customers; bad rows go to `quarantine/customers/` with the rules they broke. An export without a "
        "valid customer stops the run before anything is written."
    ),
)
def validated_customers(
    context: dg.AssetExecutionContext, data_root: DataRoot, validation: ValidationResource
) -> dg.MaterializeResult:
    settings = validation.settings()
    check_context = CheckContext(partition_day=None, now=pd.Timestamp.now(tz="UTC"))
    outcome = validate_partition(data_root.layout, CUSTOMERS, None, check_context, context.run.run_id)
    suite = SuiteRunner(CUSTOMERS.name, settings)
    return dg.MaterializeResult(
        metadata=_outcome_metadata([outcome.summary()]),
        check_results=suite_check_results(suite.run(None, outcome.clean, outcome.quarantine)),
    )


def _daily_validated_asset(source: Source) -> dg.AssetsDefinition:
    asset_name = f"validated_{source.name}"

    @dg.asset(
        pool=DATA_ROOT_POOL,
        name=asset_name,
        group_name="validate",
        kinds={"parquet"},
        deps=[f"raw_{source.name}", "validated_customers"],
        partitions_def=daily_partitions,
        op_tags=backfill_priority(source.name),
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=check_specs(asset_name, daily=True),
        description=f"Valid {source.name.replace('_', ' ')} per day; bad rows go to `quarantine/{source.name}/`.",
    )
    def validated_daily(
        context: dg.AssetExecutionContext, data_root: DataRoot, validation: ValidationResource
    ) -> dg.MaterializeResult:
        layout, settings = data_root.layout, validation.settings()
        days = partition_days(context)
        customers = KeySet(known_customer_ids(layout))
        earlier_keys = EarlierKeys(layout, source, days[0])
        suite = SuiteRunner(source.name, settings)
        outcomes, expectations = {}, []
        for day in days:
            now = pd.Timestamp.now(tz="UTC")
            check_context = CheckContext(day, now, customers, earlier_keys, settings.max_amount)
            outcome = validate_partition(layout, source, day, check_context, context.run.run_id)
            earlier_keys.add_validated(outcome.clean)
            outcomes[day] = outcome.summary()
            expectations += suite.run(day, outcome.clean, outcome.quarantine)
        check_results = [
            *suite_check_results(expectations),
            referential_check_result(list(outcomes.values()), settings.max_unknown_customer_rate),
        ]
        per_day = {
            day: {"rows_clean": outcome.rows_clean, "rows_quarantined": outcome.rows_quarantined}
            for day, outcome in outcomes.items()
        }
        metadata = {**_outcome_metadata(list(outcomes.values())), **per_day_metadata(per_day, row_count="rows_clean")}
        return dg.MaterializeResult(metadata=metadata, check_results=check_results)

    return validated_daily


validated_orders, validated_survey_responses, validated_usage_events = (
    _daily_validated_asset(source) for source in DAILY_SOURCES
)
