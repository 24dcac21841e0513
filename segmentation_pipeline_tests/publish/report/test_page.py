"""The HTML segment report: self-contained, escaped, deterministic bytes, and honest about a first snapshot."""

import re

import pytest

from segmentation_pipeline.core.publish.report import NO_PREVIOUS_SENTENCE, render_report
from segmentation_pipeline_tests.publish.report.sample_report import (
    NAMES,
    NO_VALUE_MODEL,
    assert_png,
    inputs,
    value_card,
)


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
    assert (
        len(sources) == 9
    )  # sizes, RFM grid, profiles, predicted value, churn risk, holdout, projection, migration x2
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
    assert len(images(page)) == 7
    assert "segment migration" not in page


def test_the_value_section_shows_the_model_and_its_holdout_check(report):
    section = report.split("<h2>Predicted customer value</h2>", 1)[1].split("</section>", 1)[0]
    assert [title for title in re.findall(r"<h3>([^<]*)</h3>", section)] == [
        "Predicted customer value by segment",
        "Churn-risk mix",
        "Holdout validation",
    ]
    assert "fitted on the snapshot of 2026-09-30, on 70 customers with a purchase (30 of them bought again)" in section
    assert "2 customers without a purchase have no prediction" in section
    assert "110 in total against 100 actual (+10.0%, within the 20% tolerance)" in section
    assert "Customers who bought once count as active" in section
    assert "<td>250.00</td><td>25.00</td><td>–</td>" in report  # mean predicted CLV in the profiles table


def test_without_a_holdout_check_the_section_says_why():
    page = render_report(inputs(value=value_card(holdout=False)))
    assert len(images(page)) == 8
    assert "No holdout check: no model on the history up to 2026-04-03: too little data." in page


def test_without_a_value_model_the_section_says_why_and_draws_nothing():
    page = render_report(inputs(value=NO_VALUE_MODEL))
    assert len(images(page)) == 6
    assert (
        "No value model scored this snapshot (too little data: 6 customers with a purchase, at least 500 needed), so "
        "it has no predictions." in page
    )
    assert "Churn-risk mix" not in page
