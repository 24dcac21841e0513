"""Ingest: read each landing source with the input contract's types and keep a typed raw copy per partition."""

from datetime import UTC, datetime

import dagster as dg
import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, DAILY_SOURCES, Source, clean_schema
from segmentation_pipeline.core.ingest.landing import LandingRead, landing_days, read_landing
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.defs.partitions import backfill_priority, daily_partitions, partition_days
from segmentation_pipeline.defs.resources import DataRoot, ValidationSettings

FRESHNESS_CHECK = "landing_freshness"


def _store_raw(data_root: DataRoot, source: Source, day, read: LandingRead) -> None:
    table = pa.Table.from_pandas(read.frame, schema=clean_schema(source), preserve_index=False)
    write_parquet_atomically(table, data_root.layout.raw(source.name, day))


def _metadata(context: dg.AssetExecutionContext, rows: int, files: list[str], warnings: list[str]) -> dict:
    for warning in warnings:
        context.log.warning(warning)
    return {
        "dagster/row_count": rows,
        "files": len(files),
        "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "none"),
    }


@dg.asset(
    group_name="ingest",
    kinds={"csv", "parquet"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="The CRM customer export, typed by the input contract.",
)
def raw_customers(context: dg.AssetExecutionContext, data_root: DataRoot) -> dg.MaterializeResult:
    read = read_landing(data_root.layout.landing, CUSTOMERS)
    _store_raw(data_root, CUSTOMERS, None, read)
    return dg.MaterializeResult(metadata=_metadata(context, len(read.frame), read.files, read.warnings))


def _freshness(data_root: DataRoot, source: Source, max_lag_days: int) -> dg.AssetCheckResult:
    """Warn when the newest landing day is older than expected: an upstream export may have stopped."""
    days = landing_days(data_root.layout.landing, source)
    if not days:
        return dg.AssetCheckResult(
            check_name=FRESHNESS_CHECK,
            passed=False,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"newest_landing_day": "none: the source has no landing data"},
        )
    lag = (datetime.now(UTC).date() - days[-1]).days
    return dg.AssetCheckResult(
        check_name=FRESHNESS_CHECK,
        passed=lag <= max_lag_days,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"newest_landing_day": days[-1].isoformat(), "lag_days": lag, "max_lag_days": max_lag_days},
    )


def _daily_raw_asset(source: Source) -> dg.AssetsDefinition:
    asset_name = f"raw_{source.name}"

    @dg.asset(
        name=asset_name,
        group_name="ingest",
        kinds={"csv", "parquet"},
        partitions_def=daily_partitions,
        op_tags=backfill_priority(source.name),
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[
            dg.AssetCheckSpec(
                FRESHNESS_CHECK,
                asset=asset_name,
                description="Warns when the newest landing day is older than expected.",
            )
        ],
        description=f"Landing `{source.landing_path}/date=YYYY-MM-DD/` files, typed by the input contract.",
    )
    def raw_daily(
        context: dg.AssetExecutionContext, data_root: DataRoot, validation: ValidationSettings
    ) -> dg.MaterializeResult:
        rows, files, warnings = 0, [], []
        for day in partition_days(context):
            read = read_landing(data_root.layout.landing, source, day)
            _store_raw(data_root, source, day, read)
            rows, files, warnings = rows + len(read.frame), files + read.files, warnings + read.warnings
        return dg.MaterializeResult(
            metadata=_metadata(context, rows, files, warnings),
            check_results=[_freshness(data_root, source, validation.max_landing_lag_days)],
        )

    return raw_daily


raw_orders, raw_survey_responses, raw_usage_events = (_daily_raw_asset(source) for source in DAILY_SOURCES)
