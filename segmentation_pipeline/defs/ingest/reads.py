"""What the validated assets report about reading their landing files: files, skipped files and warnings, and how
fresh each landing source is. Reading and checking a source are one step (`defs/validate/assets.py`): a step of its
own per source and day cost Dagster an event-log write per day for rows it would only hand on (README: Dagster)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import dagster as dg

from segmentation_pipeline.core.ingest.contract import Source
from segmentation_pipeline.core.ingest.crm_database import CrmDatabase, CrmDatabaseError, newest_day
from segmentation_pipeline.core.ingest.landing import ReadReport
from segmentation_pipeline.core.storage.layout import DataLayout

FRESHNESS_CHECK = "landing_freshness"
RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=2, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)
"""A CRM database that refused or dropped the connection gets three more tries, about 2, 6 and 14 s after the first."""


@contextmanager
def retried_only_if_transient() -> Iterator[None]:
    """Only a transient database error is worth another try: any other failure of the block fails the step at once
    (a bad landing file or a missing table reads no better the next time)."""
    try:
        yield
    except CrmDatabaseError as error:
        if error.transient:
            raise
        raise dg.Failure(str(error), allow_retries=False) from error
    except Exception as error:
        raise dg.Failure(str(error), allow_retries=False) from error


def read_metadata(context: dg.AssetExecutionContext, reads: list[ReadReport]) -> dict:
    """Files read and skipped over the run's partitions; every warning is logged and kept on the materialization."""
    warnings = [warning for read in reads for warning in read.warnings]
    for warning in warnings:
        context.log.warning(warning)
    return {
        "files": sum(len(read.files) for read in reads),
        "skipped_files": sum(len(read.skipped) for read in reads),
        "warnings": dg.MetadataValue.md("\n".join(f"- {w}" for w in warnings) or "none"),
    }


def freshness_check_spec(asset_name: str) -> dg.AssetCheckSpec:
    return dg.AssetCheckSpec(
        FRESHNESS_CHECK, asset=asset_name, description="Warns when the newest landing day is older than expected."
    )


def freshness_result(
    layout: DataLayout, database: CrmDatabase | None, source: Source, max_lag_days: int
) -> dg.AssetCheckResult:
    """Warn when the newest landing day is older than expected: an upstream export may have stopped."""
    newest = newest_day(layout.landing, database, source)
    if newest is None:
        metadata = {"newest_landing_day": "none: the source has no landing data"}
    else:
        lag = (datetime.now(UTC).date() - newest).days
        metadata = {"newest_landing_day": newest.isoformat(), "lag_days": lag, "max_lag_days": max_lag_days}
    return dg.AssetCheckResult(
        check_name=FRESHNESS_CHECK,
        passed=newest is not None and lag <= max_lag_days,
        severity=dg.AssetCheckSeverity.WARN,
        metadata=metadata,
    )
