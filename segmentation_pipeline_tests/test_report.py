"""The HTML segment report: self-contained, escaped, exact RFM grid and migration matrix, deterministic bytes."""

import base64
import re
from datetime import date

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.publish.movement import GONE, NEW
from segmentation_pipeline.core.publish.report import (
    NO_PREVIOUS_SENTENCE,
    ReportInputs,
    migration_matrix,
    pca_2d,
    render_report,
    report_markdown,
    rfm_grid_counts,
    segment_colours,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DATA_URI = "data:image/png;base64,"
NAMES = {0: "Loyal spenders", 1: "Bargain <&> hunters", 3: "Dormant"}


def profiles() -> pd.DataFrame:
    ids = list(NAMES)
    return pd.DataFrame(
        {
            "segment_id": ids,
            "segment_name": [NAMES[i] for i in ids],
            "description": ["Buy often", "Only buy on <script>sale</script>", "Gone quiet"],
            "customers": [4, 3, 1],
            "share": [0.5, 0.375, 0.125],
            "revenue": [900.0, 100.0, 0.0],
            "revenue_share": [0.9, 0.1, 0.0],
            "mean_recency_days": [10.0, 60.0, 700.0],
            "median_recency_days": [8.0, 50.0, 700.0],
            "mean_frequency": [6.0, 2.0, 0.0],
            "median_frequency": [5.0, 2.0, 0.0],
            "mean_monetary": [225.0, 33.3, 0.0],
            "median_monetary": [200.0, 30.0, 0.0],
            "mean_sessions": [12.0, 4.0, 0.0],
            "dominant_device": ["mobile", "desktop", None],
            "dominant_time_of_day": ["evening", "morning", None],
            "top_country": ["DE", "FR", "DE"],
            "top_acquisition_channel": ["search", "social", "email"],
            "promoter_share": [0.5, 0.0, None],
            "passive_share": [0.5, 0.0, None],
            "detractor_share": [0.0, 1.0, None],
            "model_version": "2026-09-30-abc",
            "snapshot_date": date(2026, 11, 22),
        }
    )


def customers() -> pd.DataFrame:
    scores = [(5, 5), (5, 5), (5, 1), (4, 2), (1, 1), (3, 4), (None, None), (None, None)]
    segment_ids = [0, 0, 0, 0, 1, 1, 1, 3]
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(scores))],
            "r_score": pd.array([r for r, _ in scores], dtype="Int64"),
            "f_score": pd.array([f for _, f in scores], dtype="Int64"),
            "rfm_segment": ["Champions", "Champions", "New", "Loyal", "Lost", "Loyal", "no purchases", "no purchases"],
            "segment_id": segment_ids,
            "segment_name": [NAMES[i] for i in segment_ids],
        }
    )


def transitions() -> pd.DataFrame:
    rows = [  # from, to, customers, share_of_from
        ("behavioural", "Loyal spenders", "Loyal spenders", 3, 0.75),
        ("behavioural", "Loyal spenders", GONE, 1, 0.25),
        ("behavioural", "Dormant", "Bargain <&> hunters", 2, 1.0),
        ("behavioural", NEW, "Dormant", 1, 0.5),
        ("behavioural", NEW, "Loyal spenders", 1, 0.5),
        ("rfm", "Champions", "Champions", 2, 1.0),
        ("rfm", NEW, "Loyal", 1, 1.0),
    ]
    table = pd.DataFrame(rows, columns=["segment_type", "from_segment", "to_segment", "customers", "share_of_from"])
    return table.assign(snapshot_date=date(2026, 11, 22), previous_snapshot_date=date(2026, 11, 21))


def inputs(previous: bool = True) -> ReportInputs:
    projection = pd.DataFrame({"x": [0.0, 0.5, 1.0, 3.0, 3.5, 6.0], "y": [0.0, 1.0, 0.5, 3.0, 2.5, 0.0]})
    projection["segment_id"] = [0, 0, 0, 1, 1, 3]
    return ReportInputs(
        snapshot_date=date(2026, 11, 22),
        profiles=profiles(),
        customers=customers(),
        projection=projection,
        transitions=transitions() if previous else None,
        previous_snapshot_date=date(2026, 11, 21) if previous else None,
    )


@pytest.fixture(scope="module")
def report() -> str:
    return render_report(inputs())


def images(page: str) -> list[str]:
    sources = re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', page)
    assert len(sources) == page.count("<img")
    return sources


def assert_png(uri: str) -> bytes:
    assert uri.startswith(DATA_URI)
    png = base64.b64decode(uri.removeprefix(DATA_URI), validate=True)
    assert png.startswith(PNG_SIGNATURE)
    return png


def test_rfm_grid_counts_are_exact():
    expected = pd.DataFrame(
        [[1, 0, 0, 0, 2], [0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]],
        index=pd.Index([5, 4, 3, 2, 1], name="r_score"),
        columns=pd.Index([1, 2, 3, 4, 5], name="f_score"),
    )
    pd.testing.assert_frame_equal(rfm_grid_counts(customers()), expected)


def test_rfm_grid_counts_without_buyers_is_all_zero():
    grid = rfm_grid_counts(customers().assign(r_score=pd.NA, f_score=pd.NA).astype({"r_score": "Int64"}))
    assert grid.shape == (5, 5) and int(grid.to_numpy().sum()) == 0
    assert list(grid.index) == [5, 4, 3, 2, 1]


def test_migration_matrix_puts_new_customers_last_and_leavers_last():
    matrix = migration_matrix(inputs(), "behavioural")
    # segments in profile order (largest first), then the new-customer row and the leavers column
    assert list(matrix.index) == ["Loyal spenders", "Bargain <&> hunters", "Dormant", NEW]
    assert list(matrix.columns) == ["Loyal spenders", "Bargain <&> hunters", "Dormant", GONE]
    assert matrix.loc["Loyal spenders", "Loyal spenders"] == 0.75
    assert matrix.loc["Loyal spenders", GONE] == 0.25
    assert matrix.loc["Dormant", "Bargain <&> hunters"] == 1.0
    assert matrix.loc[NEW, "Dormant"] == 0.5
    assert int(matrix.notna().to_numpy().sum()) == 5
    # square over every segment on either side, so staying is the diagonal; no leavers here, so no GONE column
    rfm = migration_matrix(inputs(), "rfm")
    assert (list(rfm.index), list(rfm.columns)) == (["Champions", "Loyal", NEW], ["Champions", "Loyal"])
    assert rfm.loc["Loyal"].isna().all() and rfm.loc[NEW, "Loyal"] == 1.0


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


def test_segment_colours_follow_ids_and_never_collide():
    assert segment_colours([0, 1, 3])[3] == segment_colours([3, 5])[3]
    assert len(set(segment_colours([0, 10, 20]).values())) == 3


def test_pca_2d_is_deterministic():
    matrix = np.random.default_rng(0).normal(size=(50, 6))
    first = pca_2d(matrix)
    assert first.shape == (50, 2)
    np.testing.assert_array_equal(first, pca_2d(matrix))
