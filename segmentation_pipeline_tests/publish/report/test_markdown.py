"""The compact charts for Dagster metadata: exactly the requested images, small, and a sentence where none apply."""

import re

import pytest

from segmentation_pipeline.core.publish.report import NO_PREVIOUS_SENTENCE, report_markdown
from segmentation_pipeline_tests.publish.report.sample_report import assert_png, inputs


def test_markdown_holds_exactly_the_requested_small_images():
    markdown = report_markdown(inputs())
    found = re.findall(r"!\[([^\]]*)\]\(([^)]*)\)", markdown)
    assert [title for title, _ in found] == ["Segment sizes and revenue shares", "RFM grid"]
    assert markdown.count("![") == 2
    for _, uri in found:
        png = assert_png(uri)
        assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (480, 280)  # 6x3.5 in, 80 dpi

    first = report_markdown(inputs(previous=False), chart_names=("migration_behavioural",))
    assert "![" not in first and NO_PREVIOUS_SENTENCE in first
    with pytest.raises(ValueError, match="unknown report charts"):
        report_markdown(inputs(), chart_names=("pie",))
