"""Ingest and validate, one step per source: read the landing partitions with the input contract's types, split their
rows into clean and quarantined rows by the row-level checks, and judge every partition by the source's expectation
suite as blocking (critical) and warning checks."""

import dagster as dg
import pandas as pd

from segmentation_pipeline.core.ingest.contract import DAILY_SOURCES, Source
from segmentation_pipeline.core.validate.expectations import SuiteRunner
from segmentation_pipeline.core.validate.export import validate_export
from segmentation_pipeline.core.validate.partitions import judged, validate_days
from segmentation_pipeline.core.validate.row_checks import OutcomeSummary
from segmentation_pipeline.defs.ingest.reads import (
    RETRY_POLICY,
    freshness_check_spec,
    freshness_result,
    read_metadata,
    retried_only_if_transient,
)
from segmentation_pipeline.defs.ingest.resources import CrmDatabaseResource, IngestResource
from segmentation_pipeline.defs.partitions import daily_partitions, partition_days, per_day_metadata
from segmentation_pipeline.defs.progress import DayProgress
from segmentation_pipeline.defs.resources import DATA_ROOT_POOL, DataRoot, EngineResource, SparkResource
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
    kinds={"csv", "parquet", "spark"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=check_specs("validated_customers", daily=False),
    retry_policy=RETRY_POLICY,
    description=(
        "The CRM customer export (or the CRM database's customers table), typed by the input contract; bad rows go "
        "to `quarantine/customers/` with the rules they broke. An export without a valid customer stops the run "
        "before anything is validated. An export unchanged since its last validation reuses that validation's "
        "findings (`core/validate/export.py`)."
    ),
)
def validated_customers(
    context: dg.AssetExecutionContext,
    data_root: DataRoot,
    validation: ValidationResource,
    crm_database: CrmDatabaseResource,
    engine: EngineResource,
    spark: SparkResource,
) -> dg.MaterializeResult:
    now, database = pd.Timestamp.now(tz="UTC"), crm_database.database()
    with retried_only_if_transient():
        export = validate_export(
            data_root.layout, validation.settings(), context.run.run_id, now, database, _session(engine, spark)
        )
    if export.reused_from:
        context.log.info(f"the CRM export is unchanged since run {export.reused_from}: its validation is reused")
    metadata = {
        **_outcome_metadata([export.summary]),
        **read_metadata(context, [export.read]),
        "validation": f"reused from run {export.reused_from}" if export.reused_from else "validated in this run",
        "engine": engine.engine,
    }
    return dg.MaterializeResult(metadata=metadata, check_results=suite_check_results(export.expectations))


def _session(engine: EngineResource, spark: SparkResource):
    """The run's Spark session with the Spark engine (started on first use), else None: DuckDB and pandas."""
    return spark.session() if engine.is_spark else None


def _daily_validated_asset(source: Source) -> dg.AssetsDefinition:
    asset_name = f"validated_{source.name}"

    @dg.asset(
        pool=DATA_ROOT_POOL,
        name=asset_name,
        group_name="validate",
        kinds={"csv", "parquet", "spark"},
        deps=["validated_customers"],
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[*check_specs(asset_name, daily=True), freshness_check_spec(asset_name)],
        retry_policy=RETRY_POLICY,
        description=(
            f"Landing `{source.landing_path}/date=YYYY-MM-DD/` files typed by the input contract, valid rows per day; "
            f"bad rows go to `quarantine/{source.name}/`."
        ),
    )
    def validated_daily(
        context: dg.AssetExecutionContext,
        data_root: DataRoot,
        validation: ValidationResource,
        ingest: IngestResource,
        crm_database: CrmDatabaseResource,
        engine: EngineResource,
        spark: SparkResource,
    ) -> dg.MaterializeResult:
        layout, settings, days = data_root.layout, validation.settings(), partition_days(context)
        session = _session(engine, spark)
        suite, progress = SuiteRunner(source.name, settings, session), DayProgress(context, len(days), "check")
        reads, outcomes, expectations = [], {}, []
        now, database = pd.Timestamp.now(tz="UTC"), crm_database.database()
        run_id = context.run.run_id
        with retried_only_if_transient():
            for batch_reads, batch in validate_days(layout, source, days, settings, run_id, now, database, session):
                expectations += judged(suite, batch)
                reads += batch_reads.values()
                outcomes |= {day: outcome.summary() for day, outcome in batch.items()}
                progress.advance(len(batch), sum(outcome.rows_in for outcome in batch.values()))
        check_results = [
            *suite_check_results(expectations),
            referential_check_result(list(outcomes.values()), settings.max_unknown_customer_rate),
            freshness_result(layout, database, source, ingest.settings().max_landing_lag_days),
        ]
        per_day = {
            day: {"rows_clean": outcome.rows_clean, "rows_quarantined": outcome.rows_quarantined}
            for day, outcome in outcomes.items()
        }
        metadata = {
            **_outcome_metadata(list(outcomes.values())),
            **per_day_metadata(per_day, row_count="rows_clean"),
            **read_metadata(context, reads),
            "engine": engine.engine,
        }
        return dg.MaterializeResult(metadata=metadata, check_results=check_results)

    return validated_daily


validated_orders, validated_survey_responses, validated_usage_events = (
    _daily_validated_asset(source) for source in DAILY_SOURCES
)
