"""Segment uplift between two hand-built snapshots, against values worked out by hand."""

from datetime import date
from math import sqrt

import pandas as pd
import pytest

from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS, to_arrow
from segmentation_pipeline.core.publish.uplift import (
    AGGREGATIONS,
    NOW,
    Z_95,
    customer_outcomes,
    segment_uplift,
    uplift_from_statistics,
)

BASELINE_DAY, DAY = date(2026, 10, 31), date(2026, 11, 30)
COLUMNS = ["customer_id", "segment_name", "rfm_segment", "rule_segments", "in_control_group"]
COLUMNS += ["lifetime_orders", "lifetime_spend"]
BASELINE = pd.DataFrame(
    [
        ("t1", "A", "champions", ["VIP"], False, 2, 100.0),
        ("t2", "A", "champions", [], False, 1, 50.0),
        ("t3", "A", "hibernating", ["VIP"], False, 0, 0.0),
        ("k1", "A", "champions", ["VIP"], True, 3, 30.0),
        ("k2", "A", "hibernating", [], True, 1, 10.0),
        ("gone", "A", "champions", [], False, 5, 500.0),  # not in this snapshot: not counted
    ],
    columns=COLUMNS,
)
# orders since the baseline: t1 +2, t2 0, t3 +1 (treated); k1 +1, k2 0 (control); revenue +60, 0, +40; +20, 0
CURRENT = pd.DataFrame(
    [
        ("t1", "B", "champions", [], False, 4, 160.0),  # counted in its baseline segments, A / champions / VIP
        ("t2", "A", "champions", [], False, 1, 50.0),
        ("t3", "A", "champions", [], False, 1, 40.0),
        ("k1", "A", "champions", [], True, 4, 50.0),
        ("k2", "A", "hibernating", [], True, 1, 10.0),
        ("new", "A", "champions", [], True, 1, 10.0),  # not in the baseline: not counted
    ],
    columns=COLUMNS,
)


def interval(uplift, error):
    return pytest.approx([uplift, uplift - Z_95 * error, uplift + Z_95 * error], rel=1e-12)


def test_uplift_of_treated_against_control_customers_with_welch_and_proportion_intervals():
    table = segment_uplift(BASELINE, CURRENT, DAY, BASELINE_DAY)
    assert table[["segment_type", "segment", "treated_customers", "control_customers"]].values.tolist() == [
        ["behavioural", "A", 3, 2],
        ["rfm", "champions", 2, 1],
        ["rfm", "hibernating", 1, 1],
        ["rule", "VIP", 2, 1],
    ]
    assert set(table["snapshot_date"]) == {DAY} and set(table["baseline_snapshot_date"]) == {BASELINE_DAY}
    a = table.iloc[0]
    # orders: treated 2, 0, 1 (mean 1, variance 1), control 1, 0 (mean 0.5, variance 0.5)
    assert (a["treated_orders_per_customer"], a["control_orders_per_customer"]) == (1.0, 0.5)
    assert a[["orders_uplift", "orders_uplift_ci_low", "orders_uplift_ci_high"]].tolist() == interval(
        0.5, sqrt(1 / 3 + 0.5 / 2)
    )
    # revenue: treated 60, 0, 40 (mean 100/3, variance 2800/3), control 20, 0 (mean 10, variance 200)
    assert a["treated_revenue_per_customer"] == pytest.approx(100 / 3) and a["control_revenue_per_customer"] == 10.0
    assert a[["revenue_uplift", "revenue_uplift_ci_low", "revenue_uplift_ci_high"]].tolist() == interval(
        100 / 3 - 10, sqrt(2800 / 3 / 3 + 200 / 2)
    )
    # retention (ordered since the baseline): treated 2 of 3, control 1 of 2; difference of proportions
    assert a["treated_retention_rate"] == pytest.approx(2 / 3) and a["control_retention_rate"] == 0.5
    ci = ["retention_rate_uplift", "retention_rate_uplift_ci_low", "retention_rate_uplift_ci_high"]
    assert a[ci].tolist() == interval(1 / 6, sqrt(2 / 9 / 3 + 1 / 4 / 2))
    # a single control customer: the difference, but no interval
    vip = table.iloc[3]
    assert vip["orders_uplift"] == 0.5 and vip["revenue_uplift"] == 30.0 and vip["retention_rate_uplift"] == 0.0
    assert table.loc[1:, ["orders_uplift_ci_low", "revenue_uplift_ci_high"]].isna().all().all()
    to_arrow(table, "segment_uplift")  # in the contract schema


def test_a_segment_without_control_customers_has_no_uplift():
    baseline = BASELINE[BASELINE["customer_id"] != "k2"]
    hibernating = segment_uplift(baseline, CURRENT, DAY, BASELINE_DAY).iloc[2]
    assert (hibernating["segment"], hibernating["control_customers"]) == ("hibernating", 0)
    assert hibernating["treated_orders_per_customer"] == 1.0
    assert pd.isna(hibernating["control_orders_per_customer"]) and pd.isna(hibernating["orders_uplift"])


def test_no_rows_without_a_baseline_or_with_one_published_before_the_control_group():
    for baseline in (None, BASELINE.drop(columns="in_control_group")):
        table = segment_uplift(baseline, CURRENT, DAY, None)
        assert table.empty and list(table.columns) == PUBLISHED_SCHEMAS["segment_uplift"].names
        assert to_arrow(table, "segment_uplift").num_rows == 0


def test_customer_outcomes_are_row_by_row_and_their_statistics_are_the_uplift():
    """Spark's executors make `customer_outcomes` per batch of customers in both snapshots: each customer alone
    gives its own rows, and the size, mean and variance of each segment's rows give `segment_uplift`."""
    now = CURRENT[["customer_id", "lifetime_orders", "lifetime_spend"]]
    both = BASELINE.merge(now, on="customer_id", suffixes=("", NOW))
    outcomes = customer_outcomes(both)
    one_by_one = pd.concat([customer_outcomes(both.iloc[[i]]) for i in range(len(both))], ignore_index=True)
    keys = ["segment_type", "segment", "group", "orders", "revenue"]
    pd.testing.assert_frame_equal(
        one_by_one.sort_values(keys, ignore_index=True), outcomes.sort_values(keys, ignore_index=True), check_exact=True
    )
    assert customer_outcomes(both.iloc[[0]]).values.tolist() == [  # t1: +2 orders, +60 revenue, treated
        [2.0, 60.0, 1.0, "behavioural", "A", "treated"],
        [2.0, 60.0, 1.0, "rfm", "champions", "treated"],
        [2.0, 60.0, 1.0, "rule", "VIP", "treated"],
    ]
    statistics = outcomes.groupby(["segment_type", "segment", "group"]).agg(
        customers=("orders", "size"), **AGGREGATIONS
    )
    pd.testing.assert_frame_equal(
        uplift_from_statistics(statistics.reset_index(), DAY, BASELINE_DAY),
        segment_uplift(BASELINE, CURRENT, DAY, BASELINE_DAY),
        check_exact=True,
    )
