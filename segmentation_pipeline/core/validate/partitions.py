"""Validating one partition: its typed raw rows in, clean rows (with the day's rollups) and quarantined rows out."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.errors import bounded
from segmentation_pipeline.core.features.rollups import rollup_files
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, Source, clean_schema, quarantine_schema
from segmentation_pipeline.core.ingest.landing import InputError, landing_files
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically, write_parquet_files_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.validate.row_checks import CheckContext, ValidationOutcome, validate


def validate_partition(
    layout: DataLayout, source: Source, day: date | None, context: CheckContext, run_id: str
) -> ValidationOutcome:
    """Check the raw partition's rows and write its clean and quarantined rows."""
    raw = pq.read_table(layout.raw(source.name, day)).to_pandas()
    outcome = validate(raw, source, context, run_id)
    if source == CUSTOMERS:
        require_valid_customers(layout, outcome)
    write_validated_partition(
        layout, source, day, pa.Table.from_pandas(outcome.clean, schema=clean_schema(source), preserve_index=False)
    )
    write_parquet_atomically(
        pa.Table.from_pandas(outcome.quarantine, schema=quarantine_schema(source), preserve_index=False),
        layout.quarantined(source.name, day),
    )
    return outcome


def write_validated_partition(layout: DataLayout, source: Source, day: date | None, clean: pa.Table) -> None:
    """The validated rows of one partition, in the clean schema, together with the day's rollups."""
    clean = clean.cast(clean_schema(source))
    # the rollups are renamed into place after the rows, so a rollup is never older than its rows
    write_parquet_files_atomically(
        {layout.validated(source.name, day): clean} | rollup_files(layout, source, day, clean)
    )


class NoValidCustomers(InputError):
    """The CRM export has no valid customer: every order and event would be quarantined as an unknown customer and
    the segmentation would have nobody to cluster, so the run stops before anything downstream."""


def require_valid_customers(layout: DataLayout, outcome: ValidationOutcome) -> None:
    """Stop before the validated customers are written: an empty export must not replace the previous good one."""
    if len(outcome.clean):
        return
    files = " + ".join(path.relative_to(layout.landing).as_posix() for path in landing_files(layout.landing, CUSTOMERS))
    broken = ", ".join(f"{name} {count}" for name, count in outcome.check_counts.items() if count)
    counts = f"{outcome.rows_in} rows; 0 clean, {len(outcome.quarantine)} quarantined" + (
        f": {broken}" if broken else ""
    )
    raise NoValidCustomers(
        bounded(
            f"{files or CUSTOMERS.landing_path}: the CRM export has no valid customers ({counts}); "
            "nothing was validated or published"
        )
    )
