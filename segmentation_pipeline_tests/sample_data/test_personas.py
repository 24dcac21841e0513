"""Personas: they cover the valid customers and behave as described, so a segmentation can rediscover them."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from segmentation_pipeline.sample_data import PERSONAS
from segmentation_pipeline_tests.sample_data.landing_reader import END, SMALL


def test_personas_cover_the_valid_customers(small):
    p = small.personas
    assert 6 <= p["persona"].nunique() <= 7
    assert set(p["persona"]) <= {persona.name for persona in PERSONAS}
    assert p["customer_id"].is_unique and p["customer_id"].is_monotonic_increasing
    assert len(p) == SMALL["customers"]
    junk = small.planted_ids("customers", "malformed_email")
    assert set(p["customer_id"]) == set(small.customers["customer_id"]) - junk


def test_personas_behave_differently(small):
    p = small.personas.set_index("customer_id")["persona"]
    planted = set(small.planted["id"])
    o = small.orders[~small.orders["order_id"].isin(planted)].assign(persona=lambda f: f["customer_id"].map(p))
    e = small.events[~small.events["event_id"].isin(planted)].assign(persona=lambda f: f["customer_id"].map(p))
    sizes = p.value_counts()

    orders_per_customer = o.groupby("persona").size().reindex(sizes.index, fill_value=0) / sizes
    assert orders_per_customer["high_value_loyalists"] > 3 * orders_per_customer.drop("high_value_loyalists").max()
    amount = o.groupby("persona")["amount_f"].median()
    assert amount["high_value_loyalists"] > 3 * amount["discount_occasional_buyers"]

    device = pd.crosstab(e["persona"], e["device_type"], normalize="index")
    assert device.loc["mobile_power_users", "mobile"] > 0.75
    assert device.loc["desktop_weekend_browsers", "desktop"] > 0.75
    assert device.loc["tablet_night_readers", "tablet"] > 0.75
    weekend = e.assign(w=e["event_ts"].dt.day_of_week >= 5).groupby("persona")["w"].mean()
    assert weekend["desktop_weekend_browsers"] > 0.6 > weekend.drop("desktop_weekend_browsers").max()
    hour = e["event_ts"].dt.hour
    night = e.assign(n=(hour >= 22) | (hour < 3)).groupby("persona")["n"].mean()
    assert night["tablet_night_readers"] > 0.5 > night.drop("tablet_night_readers").max()
    sessions = e.groupby("persona")["session_id"].nunique() / sizes
    established = sessions.drop(["mobile_power_users", "recent_signups"])  # sign-ups explore intensely, but briefly
    assert sessions["mobile_power_users"] > 1.5 * established.max()

    # lapsed customers stop early; recent sign-ups are recent and buy at most once
    start = END - dt.timedelta(days=SMALL["days"] - 1)
    late = (start + dt.timedelta(days=int(SMALL["days"] * 0.5))).isoformat()
    assert not (o.loc[o["persona"] == "lapsed_customers", "_date"] >= late).any()
    assert not (e.loc[e["persona"] == "lapsed_customers", "_date"] >= late).any()
    recent = p[p == "recent_signups"].index
    created = pd.to_datetime(small.customers.set_index("customer_id").loc[recent, "created_at"], utc=True)
    assert (created >= pd.Timestamp(END - dt.timedelta(days=45), tz="UTC")).all()
    assert o[o["persona"] == "recent_signups"].groupby("customer_id").size().max() <= 1

    survey = small.survey[~small.survey["response_id"].isin(planted)].assign(persona=lambda f: f["customer_id"].map(p))
    means = survey.groupby("persona")[["nps_i", "price_sensitivity_i"]].mean()
    assert means.loc["high_value_loyalists", "nps_i"] > 8.5 > 6 > means.loc["discount_occasional_buyers", "nps_i"]
    assert means.loc["discount_occasional_buyers", "price_sensitivity_i"] >= 4
    assert means.loc["high_value_loyalists", "price_sensitivity_i"] <= 2


def test_orders_after_creation_and_sessions_consistent(small):
    created = pd.to_datetime(small.customers.drop_duplicates("customer_id").set_index("customer_id")["created_at"],
                             utc=True)  # fmt: skip
    o = small.orders[small.orders["customer_id"].isin(created.index)]
    o = o[~o["order_id"].isin(small.planted_ids("orders", "timestamp_outside_partition"))]
    assert (o["ts"] > o["customer_id"].map(created)).all()

    e = small.events[~small.events["event_id"].isin(small.planted_ids("usage_events"))]
    per_session = e.groupby("session_id").agg(
        customers=("customer_id", "nunique"),
        devices=("device_type", "nunique"),
        events=("event_id", "size"),
        span=("event_ts", lambda s: s.max() - s.min()),
    )
    assert (per_session["customers"] == 1).all() and (per_session["devices"] == 1).all()
    assert per_session["events"].mean() > 2
    assert per_session["span"].max() < pd.Timedelta(hours=6)
    assert (e["duration_s"] >= 0).all()


def test_some_customers_have_no_activity(small):
    customers = set(small.personas["customer_id"])
    for frame in (small.orders, small.survey, small.events):
        assert len(customers - set(frame["customer_id"])) > 0.05 * len(customers)
    respondents = small.survey["customer_id"].nunique() / len(customers)
    assert 0.15 < respondents < 0.4
    assert small.survey["customer_id"].value_counts().max() > 1
