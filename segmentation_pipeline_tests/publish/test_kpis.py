"""Value tiers and segment KPIs, checked against values worked out by hand on small frames."""

from datetime import date

import numpy as np
import pandas as pd
import pandas.testing as pdt

from segmentation_pipeline.core.publish.kpis import (
    KPI_COLUMNS,
    KPI_FIGURES,
    TOTAL_KEYS,
    TOTALS,
    VALUE_TIERS,
    kpi_totals,
    kpis_from_totals,
    segment_kpis,
    segment_value_figures,
    value_tiers,
)
from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS
from segmentation_pipeline.core.tiers import tier_thresholds

SNAPSHOT = date(2026, 11, 22)
NAN = float("nan")


def tiers(monetary, has_orders=None):
    monetary = pd.Series(monetary, dtype="float64")
    has_orders = pd.Series([True] * len(monetary)) if has_orders is None else pd.Series(has_orders)
    return value_tiers(monetary, has_orders).tolist()


def test_ten_distinct_buyers_split_20_30_50():
    assert tiers([100, 90, 80, 70, 60, 50, 40, 30, 20, 10]) == ["high"] * 2 + ["medium"] * 3 + ["low"] * 5


def test_tier_sizes_use_exact_integer_ranks():
    # 15 buyers: ceil(20% of 15) = 3 high (0.2 * 15 is 3.0000000000000004 in floats, which would make it 4);
    # ceil(50% of 15) = 8, so the 8th highest (8) is the medium threshold: 8..12 medium, 1..7 low
    assert tiers(range(1, 16)) == ["low"] * 7 + ["medium"] * 5 + ["high"] * 3


def test_ties_share_a_tier_and_take_the_better_one_at_a_boundary():
    # 6 buyers: H = 2nd highest = 30 and M = 3rd highest = 30, so all three 30s are high and no one is medium
    assert tiers([40, 30, 30, 30, 20, 10]) == ["high", "high", "high", "high", "low", "low"]
    # 10 buyers, eight tied at 10: H = 2nd highest = 10, M = 5th highest = 10
    assert tiers([10] * 8 + [5, 1]) == ["high"] * 8 + ["low", "low"]


def test_customers_without_spend_or_orders_are_none_and_do_not_count_as_buyers():
    # buyers are 50, 40, 30, 20, 10 only: H = 1st highest, M = ceil(2.5) = 3rd highest
    monetary = [50, 40, 30, 20, 10, 0, NAN, 999]
    has_orders = [True, True, True, True, True, False, False, False]
    assert tiers(monetary, has_orders) == ["high", "medium", "medium", "low", "low", "none", "none", "none"]


def test_tiers_do_not_depend_on_row_order():
    rng = np.random.default_rng(7)
    monetary = pd.Series(rng.choice([0.0, 5.0, 12.5, 12.5, 40.0, 80.0], size=200), index=[f"c{i}" for i in range(200)])
    has_orders = monetary > 0
    expected = value_tiers(monetary, has_orders)
    order = rng.permutation(len(monetary))
    shuffled = value_tiers(monetary.iloc[order], has_orders.iloc[order])
    pdt.assert_series_equal(shuffled.sort_index(), expected.sort_index())
    assert set(expected) <= set(VALUE_TIERS)


def customers(control=()) -> pd.DataFrame:
    # buyers by spend: 500 (c1), 300 (c2, c8), 100 (c3), 50 (c7): H = 500 (1st of 5), M = 300 (3rd) -> c1 high
    rows = [
        # id, rfm_segment, segment_id, segment_name, channel, lifecycle_stage, frequency, monetary, lifetime, nps,
        # p_alive, churn_risk, predicted_clv (c6 never bought: no prediction)
        ("c1", "champions", 1, "Night owls", "social", "active", 5, 500.0, 12, 9, 0.5, "medium", 200.0),
        ("c2", "champions", 1, "Night owls", "social", "new", 2, 300.0, 2, None, 1.0, "low", 100.0),
        ("c3", "champions", 2, "Weekend desktop", None, "at risk", 1, 100.0, 1, 7, 0.25, "high", 50.0),
        ("c4", "hibernating", 1, "Night owls", "email", "lapsed", 0, 0.0, 3, 2, 0.25, "high", 10.0),
        ("c5", "hibernating", 2, "Weekend desktop", "social", "churned", 0, 0.0, 1, None, 0.75, "low", 6.0),
        ("c6", "no purchases", 2, "Weekend desktop", "email", "never purchased", 0, 0.0, 0, None, None, None, None),
        ("c7", "hibernating", 2, "Weekend desktop", None, "at risk", 1, 50.0, 1, 10, 0.5, "medium", 20.0),
        ("c8", "champions", 1, "Night owls", "email", "active", 3, 300.0, 5, 6, 0.75, "low", 300.0),
    ]
    columns = ["customer_id", "rfm_segment", "segment_id", "segment_name", "acquisition_channel"]
    columns += ["lifecycle_stage", "frequency", "monetary", "lifetime_orders", "nps", "p_alive", "churn_risk"]
    frame = pd.DataFrame(rows, columns=[*columns, "predicted_clv"])
    types = {
        "segment_id": "int64",
        "nps": "Int64",
        "p_alive": "float64",
        "churn_risk": "str",
        "predicted_clv": "float64",
    }
    return frame.astype(types).assign(snapshot_date=SNAPSHOT, in_control_group=frame["customer_id"].isin(control))


def test_segment_kpis_per_segment_and_channel():
    b, r, na, all_, unknown = "behavioural", "rfm", pd.NA, "(all channels)", "(unknown)"
    owls, desktop = "Night owls", "Weekend desktop"
    rows = [
        # segment_type, segment, id, channel, customers, active, orders, revenue, aov, repeat, nps, high,
        # mean predicted CLV, mean p_alive, high churn risk share (of the customers with a prediction)
        (b, owls, 1, all_, 4, 3 / 4, 10, 1100.0, 110.0, 1.0, 17 / 3, 1 / 4, 152.5, 0.625, 1 / 4),  # c1 c2 c4 c8
        (b, owls, 1, "email", 2, 1 / 2, 3, 300.0, 100.0, 1.0, 4.0, 0.0, 155.0, 0.5, 1 / 2),  # c4 c8
        (b, owls, 1, "social", 2, 1.0, 7, 800.0, 800 / 7, 1.0, 9.0, 1 / 2, 150.0, 0.75, 0.0),  # c1 c2
        (
            b,
            desktop,
            2,
            all_,
            4,
            0.0,
            2,
            150.0,
            75.0,
            0.0,
            8.5,
            0.0,
            76 / 3,
            0.5,
            1 / 3,
        ),  # c3 c5 c6 c7; c6 never bought
        (b, desktop, 2, unknown, 2, 0.0, 2, 150.0, 75.0, 0.0, 8.5, 0.0, 35.0, 0.375, 1 / 2),  # c3 c7
        (b, desktop, 2, "email", 1, 0.0, 0, 0.0, NAN, NAN, NAN, 0.0, NAN, NAN, NAN),  # c6: no orders, nothing predicted
        (b, desktop, 2, "social", 1, 0.0, 0, 0.0, NAN, 0.0, NAN, 0.0, 6.0, 0.75, 0.0),  # c5: one lifetime order
        (r, "champions", na, all_, 4, 3 / 4, 11, 1200.0, 1200 / 11, 3 / 4, 22 / 3, 1 / 4, 162.5, 0.625, 1 / 4),
        (r, "champions", na, unknown, 1, 0.0, 1, 100.0, 100.0, 0.0, 7.0, 0.0, 50.0, 0.25, 1.0),  # c3
        (r, "champions", na, "email", 1, 1.0, 3, 300.0, 100.0, 1.0, 6.0, 0.0, 300.0, 0.75, 0.0),  # c8
        (r, "champions", na, "social", 2, 1.0, 7, 800.0, 800 / 7, 1.0, 9.0, 1 / 2, 150.0, 0.75, 0.0),  # c1 c2
        (r, "hibernating", na, all_, 3, 0.0, 1, 50.0, 50.0, 1 / 3, 6.0, 0.0, 12.0, 0.5, 1 / 3),  # c4 c5 c7
        (r, "hibernating", na, unknown, 1, 0.0, 1, 50.0, 50.0, 0.0, 10.0, 0.0, 20.0, 0.5, 0.0),  # c7
        (r, "hibernating", na, "email", 1, 0.0, 0, 0.0, NAN, 1.0, 2.0, 0.0, 10.0, 0.25, 1.0),  # c4
        (r, "hibernating", na, "social", 1, 0.0, 0, 0.0, NAN, 0.0, NAN, 0.0, 6.0, 0.75, 0.0),  # c5
        (r, "no purchases", na, all_, 1, 0.0, 0, 0.0, NAN, NAN, NAN, 0.0, NAN, NAN, NAN),  # c6
        (r, "no purchases", na, "email", 1, 0.0, 0, 0.0, NAN, NAN, NAN, 0.0, NAN, NAN, NAN),  # c6
    ]
    no_control = (0, NAN, 0, 0.0, *[NAN] * 7)  # nobody in the control group: counts 0, shares and means null
    expected = pd.DataFrame([(SNAPSHOT, *row, *no_control) for row in rows], columns=list(KPI_COLUMNS))

    result = segment_kpis(customers(), SNAPSHOT)

    pdt.assert_frame_equal(result, expected.astype(KPI_COLUMNS), check_exact=True)


def test_control_kpis_are_the_kpis_of_the_rows_control_customers_with_tiers_ranked_on_everyone():
    c2 = (1, 1.0, 2, 300.0, 150.0, 1.0, NAN, 0.0, 100.0, 1.0, 0.0)  # medium tier on everyone (high among c2, c7)
    c7 = (1, 0.0, 1, 50.0, 50.0, 0.0, 10.0, 0.0, 20.0, 0.5, 0.0)
    nobody = (0, NAN, 0, 0.0, *[NAN] * 7)
    expected = [c2, nobody, c2, c7, c7, nobody, nobody, c2, nobody, nobody, c2, c7, c7, nobody, nobody, nobody, nobody]
    control_columns = [f"control_{name}" for name in KPI_FIGURES]

    result = segment_kpis(customers(control={"c2", "c7"}), SNAPSHOT)

    expected_frame = pd.DataFrame(expected, columns=control_columns).astype(
        {c: KPI_COLUMNS[c] for c in control_columns}
    )
    pdt.assert_frame_equal(result[control_columns], expected_frame, check_exact=True)
    pdt.assert_frame_equal(result[list(KPI_FIGURES)], segment_kpis(customers(), SNAPSHOT)[list(KPI_FIGURES)])


def test_segment_kpis_do_not_depend_on_row_order():
    frame = customers()
    shuffled = frame.sample(frac=1.0, random_state=3).reset_index(drop=True)
    pdt.assert_frame_equal(segment_kpis(shuffled, SNAPSHOT), segment_kpis(frame, SNAPSHOT), check_exact=True)


def test_segment_kpis_of_an_empty_snapshot_is_an_empty_table_with_the_columns():
    result = segment_kpis(customers().iloc[0:0], SNAPSHOT)
    assert list(result.columns) == PUBLISHED_SCHEMAS["segment_kpis"].names
    assert result.empty


def test_segment_value_figures_are_the_behavioural_rows_of_the_kpis():
    figures = segment_value_figures(customers()).sort_values("segment_id", ignore_index=True)
    assert figures["segment_id"].tolist() == [1, 2]
    assert figures["mean_predicted_clv"].tolist() == [152.5, 76 / 3]
    assert figures["mean_p_alive"].tolist() == [0.625, 0.5]
    assert figures["high_churn_risk_share"].tolist() == [1 / 4, 1 / 3]


def test_the_totals_of_batches_summed_give_the_kpis_of_all_customers():
    """Spark's way: each batch's `kpi_totals` (spend tiers from the whole snapshot), summed per key."""
    frame = customers(control={"c2", "c7"})
    high_value = tier_thresholds(frame.loc[frame["frequency"] > 0, "monetary"].to_numpy())
    batches = [kpi_totals(frame.iloc[rows], high_value) for rows in ([0, 5], [1, 2, 3], [4], [6, 7])]
    summed = pd.concat(batches).groupby(TOTAL_KEYS, dropna=False)[TOTALS].sum().reset_index()
    pdt.assert_frame_equal(kpis_from_totals(summed, SNAPSHOT), segment_kpis(frame, SNAPSHOT), check_exact=True)
