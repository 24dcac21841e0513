"""Ingest: read each landing source with the input contract's types and keep a typed raw copy per partition."""

from datetime import UTC, datetime

import dagster as dg

from segmentation_pipeline.core.ingest.contract import CUSTOMERS, DAILY_SOURCES, Source
from segmentation_pipeline.core.ingest.landing import LandingRead
from segmentation_pipeline.core.ingest.raw import ingest_partition, landing_lag
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.defs.ingest.resources import IngestResource
from segmentation_pipeline.defs.partitions import backfill_priority, daily_partitions, partition_days, per_day_metadata
from segmentation_pipeline.defs.resources import DATA_ROOT_POOL, DataRoot

FRESHNESS_CHECK = "landing_freshness"


def _warnings_metadata(context: dg.AssetExecutionContext, warnings: list[str]) -> dict:
    """The warnings of every file read, logged and kept on the materialization."""
    for warning in warnings:
        context.log.warning(warning)
    return {"warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "none")}


def _counts(read: LandingRead) -> dict[str, int]:
    return {"rows": len(read.frame), "files": len(read.files), "skipped_files": len(read.skipped)}


@dg.asset(
    pool=DATA_ROOT_POOL,
    group_name="ingest",
    kinds={"csv", "parquet"},
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="The CRM customer export, typed by the input contract.",
)
def raw_customers(context: dg.AssetExecutionContext, data_root: DataRoot) -> dg.MaterializeResult:
    read = ingest_partition(data_root.layout, CUSTOMERS, None)
    counts = _counts(read)
    metadata = {
        "dagster/row_count": counts["rows"],
        "files": counts["files"],
        **_warnings_metadata(context, read.warnings),
    }
    return dg.MaterializeResult(metadata=metadata)


def _freshness(layout: DataLayout, source: Source, max_lag_days: int) -> dg.AssetCheckResult:
    """Warn when the newest landing day is older than expected: an upstream export may have stopped."""
    newest, lag = landing_lag(layout, source, datetime.now(UTC).date())
    if newest is None:
        metadata = {"newest_landing_day": "none: the source has no landing data"}
    else:
        metadata = {"newest_landing_day": newest.isoformat(), "lag_days": lag, "max_lag_days": max_lag_days}
    return dg.AssetCheckResult(
        check_name=FRESHNESS_CHECK,
        passed=newest is not None and lag <= max_lag_days,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )


def _daily_raw_asset(source: Source) -> dg.AssetsDefinition:
    asset_name = f"raw_{source.name}"

    @dg.asset(
        pool=DATA_ROOT_POOL,
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
        context: dg.AssetExecutionContext, data_root: DataRoot, ingest: IngestResource
    ) -> dg.MaterializeResult:
        layout = data_root.layout
        counts, warnings = {}, []
        for day in partition_days(context):
            read = ingest_partition(layout, source, day)
            counts[day], warnings = _counts(read), warnings + read.warnings
        return dg.MaterializeResult(
            metadata={**per_day_metadata(counts), **_warnings_metadata(context, warnings)},
            check_results=[_freshness(layout, source, ingest.settings().max_landing_lag_days)],
        )

    return raw_daily


raw_orders, raw_survey_responses, raw_usage_events = (_daily_raw_asset(source) for source in DAILY_SOURCES)
