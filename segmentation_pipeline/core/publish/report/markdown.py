"""The report's key charts as Markdown, for the asset's metadata in the Dagster UI."""

from __future__ import annotations

from collections.abc import Iterable

from segmentation_pipeline.core.publish.report.charts import (
    CHARTS,
    NO_PREVIOUS_SENTENCE,
    chart_captions,
    png_data_uri,
    report_charts,
)
from segmentation_pipeline.core.publish.report.inputs import ReportInputs


def report_markdown(inputs: ReportInputs, chart_names: Iterable[str] = ("sizes", "rfm_grid")) -> str:
    """Compact charts as Markdown images with their captions, small enough for Dagster's event log. A migration
    chart asked for without a previous snapshot becomes the sentence saying so."""
    names = list(chart_names)
    charts, captions = report_charts(inputs, names, compact=True), chart_captions(inputs)
    parts = []
    for name in names:
        title = CHARTS[name].title
        if name in charts:
            parts.append(f"**{title}**\n\n![{title}]({png_data_uri(charts[name])})\n\n{captions[name]}")
        else:
            parts.append(
                f"**{title}**\n\n{NO_PREVIOUS_SENTENCE if inputs.previous_snapshot_date is None else 'No data.'}"
            )
    return "\n\n".join(parts) + "\n"
