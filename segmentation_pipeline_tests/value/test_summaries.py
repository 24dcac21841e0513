from datetime import date

import duckdb
import numpy as np
import pandas as pd

from segmentation_pipeline.core.features.customer_features import compute_features
from segmentation_pipeline.core.features.rollups import refresh_rollups
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.core.value.summaries import (
    SUMMARY_COLUMNS,
    Triplets,
    calibration_and_holdout,
    summarize_order_days,
)
from segmentation_pipeline_tests.features.builders import order
from segmentation_pipeline_tests.helpers import write_validated, write_validated_by_day

SNAPSHOT = date(2026, 3, 31)


def order_days(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["customer_id", "day", "spend"]).assign(day=lambda f: pd.to_datetime(f["day"]))


def test_triplets_keep_each_distinct_history_once_and_map_back_to_every_customer():
    x, t_x, T = np.array([2, 0, 2, 2, 0.0]), np.array([5, 0, 5, 6, 0.0]), np.array([9, 9, 9, 9, 3.0])
    triplets = Triplets.of(x, t_x, T)
    assert len(triplets) == 4
    assert triplets.weight.sum() == 5
    np.testing.assert_array_equal(triplets.x[triplets.of_customer], x)
    np.testing.assert_array_equal(triplets.t_x[triplets.of_customer], t_x)
    np.testing.assert_array_equal(triplets.T[triplets.of_customer], T)
    pair_of_triplet, pair_x, pair_T = triplets.pairs()
    assert len(pair_x) == 3  # (2, 9), (0, 9), (0, 3)
    np.testing.assert_array_equal(pair_x[pair_of_triplet], triplets.x)
    np.testing.assert_array_equal(pair_T[pair_of_triplet], triplets.T)


def test_calibration_and_holdout_split_each_customers_purchase_days_at_the_cutoff():
    days = order_days(
        [
            ("A", "2026-01-01", 10.0),
            ("A", "2026-01-11", 20.0),
            ("B", "2026-01-20", 5.0),
            ("A", "2026-02-01", 30.0),
            ("C", "2026-02-05", 9.0),  # first purchase after the cut-off: not in the calibration
            ("A", "2026-02-15", 40.0),
            ("A", "2026-03-03", 50.0),  # after the end: not read
        ]
    )
    split = calibration_and_holdout(days, cutoff=date(2026, 1, 31), end=date(2026, 2, 28)).set_index("customer_id")
    assert split.index.tolist() == ["A", "B"]
    assert split.loc["A"].tolist() == [1, 10, 30, 20.0, 2]  # x, t_x, T, m on the cut-off; holdout purchase days
    assert split.loc["B"].tolist() == [0, 0, 11, 0.0, 0]


def test_summaries_of_order_days_equal_the_feature_query(tmp_path):
    layout = DataLayout(tmp_path)
    write_validated(layout, "customers", [{"customer_id": c, "created_at": "2025-12-01T00:00:00Z"} for c in "PQRS"])
    write_validated_by_day(
        layout,
        "orders",
        [
            order("o1", "P", "2026-01-05T10:00:00Z", 40.00),
            order("o2", "P", "2026-02-10T09:00:00Z", 10.00),  # two orders, one purchase day
            order("o3", "P", "2026-02-10T19:00:00Z", 15.00),
            order("o4", "P", "2026-03-01T12:00:00Z", 35.00),
            order("o5", "P", "2026-03-10T12:00:00Z", 80.00, "cancelled"),
            order("o6", "P", "2026-04-02T12:00:00Z", 99.00),  # after the snapshot
            order("o7", "Q", "2026-03-20T12:00:00Z", 12.00),
            order("o8", "R", "2026-03-30T12:00:00Z", 5.00),
            order("o9", "R", "2026-03-31T23:00:00Z", 7.00),  # on the snapshot day
        ],
        "ordered_at",
    )
    refresh_rollups(layout)
    features = compute_features(layout, SNAPSHOT).set_index("customer_id")
    rollup = duckdb.sql(
        f"SELECT customer_id, date AS day, CAST(spend AS DOUBLE) AS spend "
        f"FROM read_parquet('{layout.rollup_glob('order_day_customers')}', hive_partitioning = true) "
        "WHERE completed_orders > 0"
    ).df()
    ours = summarize_order_days(rollup, SNAPSHOT).set_index("customer_id")
    assert ours.loc["P"].tolist() == [2, 55, 85, 30.0]
    assert ours.loc["Q"].tolist() == [0, 0, 11, 0.0]
    assert ours.loc["R"].tolist() == [1, 1, 1, 7.0]
    assert "S" not in ours.index  # never bought: null in the features
    expected = features.loc[ours.index, list(SUMMARY_COLUMNS)].astype("float64")
    pd.testing.assert_frame_equal(ours.astype("float64"), expected)
    assert features.loc["S", list(SUMMARY_COLUMNS)].isna().all()
