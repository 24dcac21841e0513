"""A self-contained HTML report of a snapshot's segments for marketers, and its key charts as Markdown for Dagster.

The folders follow the data: `inputs` reads the published snapshot and shapes the tables, `charts` draws them,
`page` and `markdown` lay them out. Importing this package imports matplotlib, so callers that only load definitions
import it where a report is drawn.
"""

from segmentation_pipeline.core.publish.report.charts import (
    NO_PREVIOUS_SENTENCE,
    available_charts,
    report_charts,
    segment_colours,
)
from segmentation_pipeline.core.publish.report.inputs import (
    ReportInputs,
    customer_counts,
    migration_matrix,
    pca_2d,
    project_customers,
    rfm_grid_counts,
    snapshot_report_inputs,
)
from segmentation_pipeline.core.publish.report.markdown import report_markdown
from segmentation_pipeline.core.publish.report.page import profiles_table, render_report

__all__ = [
    "NO_PREVIOUS_SENTENCE",
    "ReportInputs",
    "available_charts",
    "customer_counts",
    "migration_matrix",
    "pca_2d",
    "profiles_table",
    "project_customers",
    "render_report",
    "report_charts",
    "report_markdown",
    "rfm_grid_counts",
    "segment_colours",
    "snapshot_report_inputs",
]
