"""Orders: timestamp formats and value sets as real exports have them, and skewed order counts."""

from __future__ import annotations

from segmentation_pipeline_tests.sample_data.landing_reader import assert_order_skew


def test_order_timestamp_formats_and_values(small):
    o = small.orders
    ordered_at = o["ordered_at"]
    zulu = ordered_at.str.endswith("Z")
    offset = ordered_at.str.contains(r"[+-]\d{2}:\d{2}$")
    naive = ordered_at.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
    assert (zulu | offset | naive).all()
    assert zulu.mean() > 0.5 and offset.mean() > 0.08 and naive.mean() > 0.03
    assert not ordered_at[offset].str.endswith("+00:00").any()
    assert o["amount"].str.fullmatch(r"-?\d+\.\d{2}").all()
    assert o["order_id"].str.fullmatch(r"O\d{8}").all()
    assert set(o["currency"]) <= {"EUR", "USD", "GBP"} and (o["currency"] == "EUR").mean() > 0.5
    status_share = o["status"].value_counts(normalize=True)
    assert status_share["completed"] > 0.8
    assert set(o["channel"]) <= {"web", "app", "store"}
    assert set(o["product_category"]) <= {"electronics", "fashion", "home", "beauty", "sports", "grocery", "books"}
    assert small.survey["response_id"].str.fullmatch(r"S\d{7}").all()


def test_order_counts_are_skewed(small):
    assert_order_skew(small.orders, small.planted)
