"""The HTML segment report: self-contained, escaped, deterministic bytes, and honest about a first snapshot."""

import re

import pytest

from segmentation_pipeline.core.publish.report import NO_PREVIOUS_SENTENCE, render_report
from segmentation_pipeline_tests.publish.report.sample_report import NAMES, assert_png, inputs


@pytest.fixture(scope="module")
def report() -> str:
    return render_report(inputs())


def images(page: str) -> list[str]:
    sources = re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', page)
    assert len(sources) == page.count("<img")
    return sources


def test_report_is_self_contained(report):
    assert report.startswith("<!DOCTYPE html>")
    assert "://" not in report  # no http(s) src or href, no external font or stylesheet
    assert "<script" not in report and "<link" not in report and "url(" not in report
    sources = images(report)
    assert len(sources) == 6  # sizes, RFM grid, profiles, projection, two migration heatmaps
    for source in sources:
        assert_png(source)


def test_report_escapes_every_segment_name_and_description(report):
    assert "Bargain &lt;&amp;&gt; hunters" in report and "Bargain <&> hunters" not in report
    for name in NAMES.values():
        assert name.replace("<&>", "&lt;&amp;&gt;") in report
    assert "Only buy on &lt;script&gt;sale&lt;/script&gt;" in report
    assert "Snapshot 2026-11-22 · model 2026-09-30-abc" in report
    assert "2 customers without a purchase are not in the grid" in report
    assert NO_PREVIOUS_SENTENCE not in report


def test_same_inputs_render_byte_identical_html(report):
    assert render_report(inputs()) == report


def test_first_snapshot_says_so_instead_of_migration_charts():
    page = render_report(inputs(previous=False))
    assert NO_PREVIOUS_SENTENCE in page
    assert len(images(page)) == 4
    assert "segment migration" not in page
