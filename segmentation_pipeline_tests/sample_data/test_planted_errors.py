"""Planted bad rows: exactly the rows that break a rule, each breaking one, and matching what the data shows."""

from __future__ import annotations

from segmentation_pipeline.sample_data import PLANTED_RULES
from segmentation_pipeline_tests.sample_data.landing_reader import DEVICES, EMAIL


def test_planted_errors_are_exactly_the_rule_breaking_rows(small):
    detected = small.detected_errors()
    per_row = detected.groupby(["source", "row"]).size()
    assert per_row.max() == 1, "a bad row breaks more than one rule"
    found = sorted(map(tuple, detected[["source", "date", "id", "rule"]].to_numpy().tolist()))
    planted = sorted(map(tuple, small.planted[["source", "date", "id", "rule"]].to_numpy().tolist()))
    assert found == planted
    assert set(small.planted["source"]) == set(PLANTED_RULES)
    for source, rules in PLANTED_RULES.items():
        assert set(small.planted.loc[small.planted["source"] == source, "rule"]) == set(rules)


def test_planted_errors_match_the_data(small):
    o, c = small.orders, small.customers
    negative = small.planted_ids("orders", "negative_amount")
    assert (o.loc[o["order_id"].isin(negative), "amount_f"] < 0).sum() == len(negative)
    assert (o.loc[~o["order_id"].isin(negative), "amount_f"] >= 0).all()

    unknown = o[o["order_id"].isin(small.planted_ids("orders", "unknown_customer"))]
    assert len(unknown) == len(small.planted_ids("orders", "unknown_customer"))
    assert not unknown["customer_id"].isin(set(c["customer_id"])).any()

    duplicates = small.planted[(small.planted["source"] == "orders") & (small.planted["rule"] == "duplicate_key")]
    same_day = later_day = 0
    for day, order_id in zip(duplicates["date"], duplicates["id"], strict=True):
        rows = o[o["order_id"] == order_id]  # in folder order, then line order
        assert len(rows) == 2
        original, copy = rows.iloc[0], rows.iloc[1]
        assert copy["_date"] == day >= original["_date"]
        if day == original["_date"]:
            assert copy["_line"] > original["_line"]
        same_day += original["_date"] == day
        later_day += original["_date"] < day
        # the copy breaks only the key rule
        assert copy["customer_id"] == original["customer_id"] and copy["amount_f"] >= 0
    assert same_day > 0 and later_day > 0

    dup_customers = small.planted_ids("customers", "duplicate_key")
    assert c["customer_id"].value_counts().loc[list(dup_customers)].eq(2).all()
    assert c["customer_id"].value_counts().drop(list(dup_customers)).eq(1).all()

    junk = small.planted_ids("customers", "malformed_email")
    assert not c.loc[c["customer_id"].isin(junk), "email"].str.match(EMAIL).any()
    assert c.loc[~c["customer_id"].isin(junk), "email"].str.match(EMAIL).all()
    for frame in (o, small.survey, small.events):
        assert not frame["customer_id"].isin(junk).any()
    assert not small.personas["customer_id"].isin(junk).any()

    bad_nps = small.survey[small.survey["response_id"].isin(small.planted_ids("survey_responses"))]
    assert len(bad_nps) > 0 and not bad_nps["nps_i"].between(0, 10).any()
    bad_devices = small.events[small.events["event_id"].isin(small.planted_ids("usage_events", "unknown_device_type"))]
    assert len(bad_devices) > 0 and not bad_devices["device_type"].isin(DEVICES).any()


def test_planted_error_shares_are_small(small):
    rows = small.summary["rows"]
    planted = small.summary["planted_errors"]
    assert sum(planted["orders"].values()) / rows["orders"] < 0.1
    assert sum(planted["usage_events"].values()) / rows["usage_events"] < 0.01
    assert sum(planted["customers"].values()) / rows["customers"] < 0.03
