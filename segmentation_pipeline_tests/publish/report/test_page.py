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
    # sizes, RFM grid, profiles, overlap, predicted value, churn risk, holdout, projection, migration x2
    assert len(sources) == 10
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
    assert len(images(page)) == 8
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
    assert len(images(page)) == 9
    assert "No holdout check: no model on the history up to 2026-04-03: too little data." in page


def test_without_a_value_model_the_section_says_why_and_draws_nothing():
    page = render_report(inputs(value=NO_VALUE_MODEL))
    assert len(images(page)) == 7
    assert (
        "No value model scored this snapshot (too little data: 6 customers with a purchase, at least 500 needed), so "
        "it has no predictions." in page
    )
    assert "Churn-risk mix" not in page


def section(page: str, title: str) -> str:
    return page.split(f"<h2>{title}</h2>", 1)[1].split("</section>", 1)[0]


def test_a_persona_card_per_segment_with_its_next_action_and_reason(report):
    cards = section(report, "Segment personas").split('<div class="card persona"')[1:]
    assert [re.search(r"<h3>([^<]*)</h3>", card).group(1) for card in cards] == [
        "Loyal spenders",
        "Bargain &lt;&amp;&gt; hunters",
        "Dormant",
    ]
    assert "4 customers (50% of all), largest country DE (75%), mostly on mobile in the evening." in cards[0]
    assert "<b>Next action:</b> loyalty / VIP programme<br><small>because revenue share 90% ≥ 20%</small>" in cards[0]
    assert "reactivation campaign<br><small>because high churn risk share 50% ≥ 30%" in cards[1]
    assert '<th scope="row">Top categories</th><td>–</td>' in cards[0]  # not in the data: a dash


def test_the_priority_view_ranks_by_its_score_with_growth_since_a_month_earlier(report):
    rows = re.findall(r'<tr class="priority">(.*?)</tr>', section(report, "Priorities"))
    cells = [re.findall(r"<td>([^<]*)</td>", row) for row in rows]
    # scores: 0.9 x (1 + 0) + 0.5 x 100%; 0.1 x (1 + 0.5) + 0; 0
    assert [(c[0], c[1], c[4]) for c in cells] == [
        ("Loyal spenders", "1.400", "+100%"),
        ("Bargain &lt;&amp;&gt; hunters", "0.150", "+0%"),
        ("Dormant", "0.000", "+0%"),
    ]
    assert "Growth since 2026-10-23" in report
    first = render_report(inputs(previous=False))
    assert "Growth (no snapshot 28-31 days earlier)" in first and first.count("<td>n/a</td>") == 3


def test_the_overlap_heatmap_is_in_the_page(report):
    body = section(report, "Segment overlap")
    assert "share of the row segment&#x27;s customers who are also in the column segment" in body
    assert_png(re.search(r'<img src="([^"]*)" alt="Segment overlap">', body).group(1))
