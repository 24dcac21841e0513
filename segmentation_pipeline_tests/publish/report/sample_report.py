"""Tiny hand-written report inputs (three segments, eight customers, one name with HTML-special characters), so the
report tests can expect exact counts, and the PNG check the page and Markdown tests share."""

import base64
from dataclasses import asdict
from datetime import date

import pandas as pd

from segmentation_pipeline.core.publish.next_actions import DEFAULT_NEXT_ACTIONS
from segmentation_pipeline.core.publish.overlap import segment_overlap
from segmentation_pipeline.core.publish.personas import segment_personas
from segmentation_pipeline.core.publish.report import ReportInputs, customer_counts
from segmentation_pipeline.core.publish.transitions import GONE, NEW
from segmentation_pipeline.core.value.model import NoValueModel
from segmentation_pipeline.core.value.settings import ValueSettings

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
            "mean_predicted_clv": [250.0, 25.0, None],
            "mean_p_alive": [0.8, 0.4, None],
            "high_churn_risk_share": [0.0, 0.5, None],
            "model_version": "2026-09-30-abc",
            "snapshot_date": date(2026, 11, 22),
        }
    )


def customers() -> pd.DataFrame:
    scores = [(5, 5), (5, 5), (5, 1), (4, 2), (1, 1), (3, 4), (None, None), (None, None)]
    segment_ids = [0, 0, 0, 0, 1, 1, 1, 3]
    p_alive = [0.9, 0.8, 1.0, 0.5, 0.2, 0.6, None, None]  # c2 bought once: alive under BG/NBD
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(scores))],
            "r_score": pd.array([r for r, _ in scores], dtype="Int64"),
            "f_score": pd.array([f for _, f in scores], dtype="Int64"),
            "rfm_segment": ["Champions", "Champions", "New", "Loyal", "Lost", "Loyal", "no purchases", "no purchases"],
            "segment_id": segment_ids,
            "segment_name": [NAMES[i] for i in segment_ids],
            "p_alive": pd.array(p_alive, dtype="float64"),
            "churn_risk": pd.array(["low", "low", "low", "medium", "high", "medium", None, None], dtype="str"),
            "predicted_clv": pd.array([400.0, 300.0, 100.0, 200.0, 10.0, 40.0, None, None], dtype="float64"),
        }
    )


def value_card(holdout: bool = True) -> dict:
    """A fitted value model's card, with or without its holdout check."""
    check = {
        "cutoff": "2026-04-03",
        "end": "2026-09-30",
        "predicted_purchases": 110.0,
        "actual_purchases": 100,
        "relative_error": 0.1,
        "error_threshold": 0.2,
        "exceeds_threshold": False,
        "by_frequency": [
            {"repeat_purchases": "0", "customers": 40, "predicted_mean": 0.5, "actual_mean": 0.4},
            {"repeat_purchases": "1", "customers": 20, "predicted_mean": 1.2, "actual_mean": 1.0},
            {"repeat_purchases": "2+", "customers": 10, "predicted_mean": 3.0, "actual_mean": 3.4},
        ],
    }
    return {
        "fitted": True,
        "fitted_on": "2026-09-30",
        "customers": 70,
        "repeat_buyers": 30,
        "holdout": check if holdout else {"skipped": "no model on the history up to 2026-04-03: too little data"},
        "settings": asdict(ValueSettings()),
    }


NO_VALUE_MODEL = NoValueModel("too little data: 6 customers with a purchase, at least 500 needed").card()


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


DAY, MONTH_AGO = date(2026, 11, 22), date(2026, 10, 23)


def personas() -> pd.DataFrame:
    """The sample's personas from a few features of its customers (the others missing, so null)."""
    features = pd.DataFrame(
        {
            "customer_id": customers()["customer_id"],
            "frequency": [6, 5, 1, 2, 1, 3, 0, 0],
            "monetary": [300.0, 250.0, 50.0, 100.0, 20.0, 30.0, 0.0, 0.0],
            "country": ["DE", "DE", "FR", "DE", "FR", "FR", "FR", "DE"],
        }
    )
    return segment_personas(features, customers()["segment_id"], profiles(), DAY, DEFAULT_NEXT_ACTIONS)


def overlap() -> pd.DataFrame:
    """The sample's segments, with one rule segment of two Loyal spenders."""
    rule_segments = [["VIP"], ["VIP"], [], [], [], [], [], []]
    return segment_overlap(customers().assign(rule_segments=rule_segments), DAY)


def inputs(previous: bool = True, value: dict | None = None) -> ReportInputs:
    """The sample, with `value_card()` unless another value card is given."""
    projection = pd.DataFrame({"x": [0.0, 0.5, 1.0, 3.0, 3.5, 6.0], "y": [0.0, 1.0, 0.5, 3.0, 2.5, 0.0]})
    projection["segment_id"] = [0, 0, 0, 1, 1, 3]
    return ReportInputs(
        snapshot_date=date(2026, 11, 22),
        profiles=profiles(),
        customers=customer_counts(customers()),
        projection=projection,
        value_card=value_card() if value is None else value,
        transitions=transitions() if previous else None,
        previous_snapshot_date=date(2026, 11, 21) if previous else None,
        personas=personas(),
        overlap=overlap(),
        month_ago=(MONTH_AGO, profiles().assign(customers=[2, 3, 1])) if previous else None,
    )


def assert_png(uri: str) -> bytes:
    assert uri.startswith(DATA_URI)
    png = base64.b64decode(uri.removeprefix(DATA_URI), validate=True)
    assert png.startswith(PNG_SIGNATURE)
    return png
