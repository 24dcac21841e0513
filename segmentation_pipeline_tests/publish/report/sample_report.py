"""Tiny hand-written report inputs (three segments, eight customers, one name with HTML-special characters), so the
report tests can expect exact counts, and the PNG check the page and Markdown tests share."""

import base64
from datetime import date

import pandas as pd

from segmentation_pipeline.core.publish.report import ReportInputs
from segmentation_pipeline.core.publish.transitions import GONE, NEW

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


def assert_png(uri: str) -> bytes:
    assert uri.startswith(DATA_URI)
    png = base64.b64decode(uri.removeprefix(DATA_URI), validate=True)
    assert png.startswith(PNG_SIGNATURE)
    return png
