"""The tables behind the charts: exact RFM grid and migration matrix, a deterministic projection."""

from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.publish.report import customer_counts, migration_matrix, pca_2d, rfm_grid_counts
from segmentation_pipeline.core.publish.report.inputs import (
    churn_risk_mix,
    month_earlier,
    predicted_value_by_segment,
)
from segmentation_pipeline.core.publish.transitions import GONE, NEW
from segmentation_pipeline_tests.publish.report.sample_report import customers, inputs


def test_rfm_grid_counts_are_exact():
    expected = pd.DataFrame(
        [[1, 0, 0, 0, 2], [0, 1, 0, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]],
        index=pd.Index([5, 4, 3, 2, 1], name="r_score"),
        columns=pd.Index([1, 2, 3, 4, 5], name="f_score"),
    )
    pd.testing.assert_frame_equal(rfm_grid_counts(customer_counts(customers())), expected)


def test_rfm_grid_counts_without_buyers_is_all_zero():
    grid = rfm_grid_counts(customer_counts(customers().assign(r_score=None, f_score=None)))
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


def test_pca_2d_is_deterministic():
    matrix = np.random.default_rng(0).normal(size=(50, 6))
    first = pca_2d(matrix)
    assert first.shape == (50, 2)
    np.testing.assert_array_equal(first, pca_2d(matrix))


def test_churn_risk_mix_is_exact_and_counts_customers_without_a_prediction():
    mix = churn_risk_mix(inputs())
    assert list(mix.index) == ["All customers", "Loyal spenders", "Bargain <&> hunters", "Dormant"]
    assert list(mix.columns) == ["low", "medium", "high", "no prediction"]
    assert mix.to_numpy().tolist() == [
        [3 / 8, 2 / 8, 1 / 8, 2 / 8],
        [3 / 4, 1 / 4, 0.0, 0.0],
        [0.0, 1 / 3, 1 / 3, 1 / 3],
        [0.0, 0.0, 0.0, 1.0],
    ]


def test_predicted_value_by_segment_sets_clv_shares_beside_revenue_shares():
    value = predicted_value_by_segment(inputs())
    assert value["segment_name"].tolist() == ["Loyal spenders", "Bargain <&> hunters", "Dormant"]
    assert value["clv_share"].tolist() == [1000 / 1050, 50 / 1050, 0.0]
    assert value["revenue_share"].tolist() == [0.9, 0.1, 0.0]
    assert value["mean_predicted_clv"].tolist()[:2] == [250.0, 25.0] and np.isnan(value["mean_predicted_clv"].iloc[2])


def test_the_month_earlier_snapshot_is_28_to_31_days_back_nearest_to_30():
    day = date(2026, 11, 30)
    assert month_earlier(day, [date(2026, 10, 29), date(2026, 11, 2), date(2026, 11, 29)]) == date(2026, 11, 2)
    assert month_earlier(day, [date(2026, 10, 29), date(2026, 10, 31)]) == date(2026, 10, 31)  # 31 and 30 days: 30
    assert month_earlier(day, [date(2026, 10, 30), date(2026, 11, 1)]) == date(2026, 10, 30)  # 31 and 29: the earlier
    assert month_earlier(day, [date(2026, 10, 1), date(2026, 11, 3), date(2026, 11, 29)]) is None


def test_customer_counts_read_from_the_published_file_match_the_frames_and_ignore_row_order(tmp_path):
    frame = customers()
    path = tmp_path / "part-0.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    counts = customer_counts(path)
    pd.testing.assert_frame_equal(counts, customer_counts(frame))
    pd.testing.assert_frame_equal(counts, customer_counts(frame.iloc[::-1].reset_index(drop=True)))
    assert counts["customers"].sum() == len(frame)
    champions = counts[(counts["r_score"] == 5) & (counts["f_score"] == 5)]
    assert champions[["segment_id", "churn_risk", "customers", "with_prediction", "predicted_clv"]].to_dict(
        "records"
    ) == [{"segment_id": 0, "churn_risk": "low", "customers": 2, "with_prediction": 2, "predicted_clv": 700.0}]
    unscored = counts[counts["r_score"].isna()]
    assert unscored[["segment_id", "customers", "with_prediction"]].to_dict("records") == [
        {"segment_id": 1, "customers": 1, "with_prediction": 0},
        {"segment_id": 3, "customers": 1, "with_prediction": 0},
    ]
    assert unscored["predicted_clv"].isna().all()
