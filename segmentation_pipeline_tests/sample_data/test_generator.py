"""The generator as a whole: determinism, stale partitions, the default end date, the summary and the default size."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd

from segmentation_pipeline.sample_data import PLANTED_RULES, generate_landing_zone
from segmentation_pipeline_tests.sample_data.landing_reader import (
    DAY_FOLDER,
    END,
    SMALL,
    all_files,
    assert_order_skew,
    day_folders,
    generate_into,
    read_daily_csv,
)


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    first = all_files(generate_into(tmp_path / "a", **SMALL))
    second = all_files(generate_into(tmp_path / "b", **SMALL))
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []

    other = all_files(generate_into(tmp_path / "c", **{**SMALL, "seed": 8}))
    for name in ("landing/crm/customers.csv", "ground_truth/personas.csv", "ground_truth/planted_errors.csv"):
        assert other[name] != first[name]
    common = sorted(set(first) & set(other) - {"ground_truth/personas.csv"})
    assert sum(first[name] != other[name] for name in common) > 0.9 * len(common)


def test_regenerating_into_same_dir_removes_stale_partitions(tmp_path):
    generate_into(tmp_path, customers=60, days=30, seed=1, end_date=END)
    summary = generate_landing_zone(tmp_path, customers=60, days=10, seed=1, end_date=END)
    first_day = dt.date.fromisoformat(summary["date_range"]["start"])
    for dataset in ("crm/orders", "survey/responses", "usage/events"):
        folder = tmp_path / "landing" / dataset
        days = [dt.date.fromisoformat(DAY_FOLDER.match(p.name).group(1)) for p in day_folders(folder)]
        assert days and min(days) >= first_day


def test_default_end_date_is_yesterday_utc(tmp_path):
    summary = generate_landing_zone(tmp_path, customers=20, days=3)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert summary["date_range"] == {
        "start": (yesterday - dt.timedelta(days=2)).isoformat(),
        "end": yesterday.isoformat(),
    }


def test_dates_and_summary(small):
    start = END - dt.timedelta(days=SMALL["days"] - 1)
    assert small.summary["date_range"] == {"start": start.isoformat(), "end": END.isoformat()}
    for frame in (small.orders, small.survey, small.events):
        assert frame["_date"].min() >= start.isoformat()
        assert frame["_date"].max() <= END.isoformat()
    assert small.summary["rows"] == {
        "customers": len(small.customers),
        "orders": len(small.orders),
        "survey_responses": len(small.survey),
        "usage_events": len(small.events),
    }
    counts = small.planted.groupby(["source", "rule"]).size()
    for source, rules in PLANTED_RULES.items():
        for rule in rules:
            assert small.summary["planted_errors"][source][rule] == counts.get((source, rule), 0) > 0
    assert small.summary["personas"] == small.personas["persona"].value_counts().to_dict()
    created = pd.to_datetime(small.customers["created_at"], utc=True, format="ISO8601")
    assert created.max() < pd.Timestamp(END + dt.timedelta(days=1), tz="UTC")
    assert created.min() >= pd.Timestamp(start - dt.timedelta(days=3 * 365 + 1), tz="UTC")
    assert (created < pd.Timestamp(start, tz="UTC")).mean() > 0.6


def test_default_size_is_small_fast_and_realistic(tmp_path):
    started = time.perf_counter()
    summary = generate_landing_zone(tmp_path, end_date=END)
    elapsed = time.perf_counter() - started
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert total < 8_000_000
    assert elapsed < 60
    assert summary["customers"] == 2000 and summary["days"] == 456
    assert 150_000 <= summary["rows"]["usage_events"] <= 250_000
    assert len(summary["personas"]) == 7

    orders = read_daily_csv(tmp_path / "landing" / "crm" / "orders", "orders.csv")
    planted = pd.read_csv(tmp_path / "ground_truth" / "planted_errors.csv", dtype=str, keep_default_na=False)
    assert_order_skew(orders, planted)
    personas = pd.read_csv(tmp_path / "ground_truth" / "personas.csv").set_index("customer_id")["persona"]
    valid = orders[~orders["order_id"].isin(set(planted["id"]))]
    last = (
        pd.to_datetime(valid["ordered_at"], utc=True, format="ISO8601")
        .groupby(valid["customer_id"].map(personas))
        .max()
    )
    cutoff = pd.Timestamp(END - dt.timedelta(days=170), tz="UTC")
    assert last["lapsed_customers"] < cutoff < last.drop("lapsed_customers").min()
    month = pd.to_datetime(valid["_date"]).dt.month.value_counts()
    assert month[12] > 1.5 * month[6]
