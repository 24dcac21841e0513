import json
from itertools import product

import numpy as np
import pandas as pd
import pytest

from segmentation_pipeline.core.features.rfm import (
    DEFAULT_SEGMENT_MAP,
    METRICS,
    NO_PURCHASES,
    cut_points_from_table,
    cut_points_table,
    fit_cut_points,
    load_segment_map,
    score_customers,
    segment_grid,
)

RECENCY, FREQUENCY, MONETARY = METRICS


def scores(values, metric):
    series = pd.Series(values, dtype="float64")
    return fit_cut_points(series, metric).score(series).tolist()


def test_ten_distinct_values_fall_into_quintiles():
    assert scores([10, 20, 30, 40, 50, 60, 70, 80, 90, 100], MONETARY) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_recency_scores_reward_recent_customers():
    assert scores([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], RECENCY) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_heavy_ties_still_use_every_score_when_five_values_exist():
    # half the customers bought once: the cuts closest to 20/40/60/80% that keep every score non-empty
    frequencies = [1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 8]
    assert scores(frequencies, FREQUENCY) == [1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 5, 5]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([1, 1, 2], [1, 1, 5]),
        ([1, 2, 3], [1, 3, 5]),
        ([1, 2, 3, 4], [1, 2, 4, 5]),
        ([7, 7, 7], [3, 3, 3]),
    ],
)
def test_fewer_than_five_distinct_values_spread_over_the_range(values, expected):
    assert scores(values, FREQUENCY) == expected


def test_equal_values_always_share_a_score_and_row_order_does_not_matter():
    rng = np.random.default_rng(7)
    features = pd.DataFrame(
        {
            "customer_id": [f"C{i:04d}" for i in range(2000)],
            "has_orders": True,
            "recency_days": rng.integers(0, 400, 2000),
            "frequency": rng.geometric(0.6, 2000),
            "monetary": rng.integers(1, 50, 2000) * 10.0,
        }
    )
    scored, _ = score_customers(features)
    shuffled, _ = score_customers(features.sample(frac=1, random_state=3).reset_index(drop=True))
    pd.testing.assert_frame_equal(
        scored.sort_values("customer_id", ignore_index=True), shuffled.sort_values("customer_id", ignore_index=True)
    )
    merged = features.merge(scored, on="customer_id")
    for metric in METRICS:
        assert merged.groupby(metric.value_column)[metric.score_column].nunique().max() == 1
        assert sorted(merged[metric.score_column].unique()) == [1, 2, 3, 4, 5]


def test_customers_without_a_purchase_get_no_score_and_their_own_segment():
    features = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E", "F"],
            "has_orders": [True, True, True, True, True, False],
            "recency_days": [1, 10, 40, 100, 300, None],
            "frequency": [9, 5, 3, 2, 1, 0],
            "monetary": [900.0, 500.0, 300.0, 200.0, 100.0, 0.0],
        }
    )
    scored, _ = score_customers(features)
    assert scored["r_score"].tolist()[:5] == [5, 4, 3, 2, 1]
    assert scored["f_score"].tolist()[:5] == [5, 4, 3, 2, 1]
    assert scored.loc[5, ["r_score", "f_score", "m_score"]].isna().all()
    assert scored["rfm_segment"].tolist() == [
        "champions",
        "loyal customers",
        "need attention",
        "hibernating",
        "hibernating",
        NO_PURCHASES,
    ]


def test_cut_points_table_gives_the_value_range_of_each_score():
    features = pd.DataFrame({"monetary": [10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100]})
    table = cut_points_table([fit_cut_points(features["monetary"], MONETARY)], features)
    assert table.to_dict("records") == [
        {"metric": "monetary", "score": 1, "min_value": 10.0, "max_value": 20.0, "customers": 2},
        {"metric": "monetary", "score": 2, "min_value": 30.0, "max_value": 40.0, "customers": 2},
        {"metric": "monetary", "score": 3, "min_value": 50.0, "max_value": 60.0, "customers": 2},
        {"metric": "monetary", "score": 4, "min_value": 70.0, "max_value": 80.0, "customers": 2},
        {"metric": "monetary", "score": 5, "min_value": 90.0, "max_value": 100.0, "customers": 2},
    ]


def test_default_segment_map_names_every_cell_exactly_once():
    grid = segment_grid(DEFAULT_SEGMENT_MAP)
    assert sorted(grid) == list(product(range(1, 6), range(1, 6), range(1, 6)))
    for r, f, m in grid:
        owners = [
            name
            for name, blocks in DEFAULT_SEGMENT_MAP.items()
            for block in blocks
            if r in block["r"] and f in block["f"] and m in block.get("m", range(1, 6))
        ]
        assert owners == [grid[(r, f, m)]]
    assert set(grid.values()) == set(DEFAULT_SEGMENT_MAP)
    assert grid[(5, 5, 1)] == "champions" and grid[(1, 1, 5)] == "hibernating" and grid[(1, 5, 3)] == "can't lose them"


def test_incomplete_or_overlapping_segment_maps_are_rejected():
    with pytest.raises(ValueError, match=r"unnamed cells \(R, F, M\): \[\(5, 5, 1\), \(5, 5, 2\)"):
        segment_grid({"everyone": [{"r": [1, 2, 3, 4], "f": [1, 2, 3, 4, 5]}, {"r": [5], "f": [1, 2, 3, 4]}]})
    with pytest.raises(ValueError, match="cells named twice"):
        segment_grid({"a": [{"r": [1, 2, 3, 4, 5], "f": [1, 2, 3, 4, 5]}], "b": [{"r": [1], "f": [1], "m": [5]}]})
    with pytest.raises(ValueError, match="segment 'a' names R=6 F=1 M=1, outside 1-5"):
        segment_grid({"a": [{"r": [6], "f": [1], "m": [1]}]})
    with pytest.raises(ValueError, match="use keys r, f and optionally m"):
        segment_grid({"a": [{"recency": [1]}]})


def test_a_map_may_split_cells_by_monetary_score(tmp_path):
    by_spend = {
        **{name: blocks for name, blocks in DEFAULT_SEGMENT_MAP.items() if name != "champions"},
        "champions": [{"r": [5], "f": [4, 5], "m": [3, 4, 5]}],
        "frequent small spenders": [{"r": [5], "f": [4, 5], "m": [1, 2]}],
    }
    path = tmp_path / "segments.json"
    path.write_text(json.dumps(by_spend))
    features = pd.DataFrame(
        {
            "customer_id": ["A", "B", "C", "D", "E"],
            "has_orders": True,
            "recency_days": [1, 1, 50, 100, 200],
            "frequency": [9, 9, 3, 2, 1],
            "monetary": [10.0, 900.0, 300.0, 200.0, 100.0],
        }
    )
    scored, _ = score_customers(features, load_segment_map(path))
    assert scored.set_index("customer_id").loc[["A", "B"], "rfm_segment"].tolist() == [
        "frequent small spenders",
        "champions",
    ]


def test_a_map_file_that_is_not_json_gives_a_clear_error(tmp_path):
    path = tmp_path / "segments.json"
    path.write_text("champions: r=5")
    with pytest.raises(ValueError, match=f"RFM segment map {path}: cannot be read as JSON"):
        load_segment_map(path)


def test_frozen_cut_points_score_a_new_population_with_the_reference_thresholds():
    reference = pd.DataFrame(
        {
            "customer_id": [f"C{i}" for i in range(10)],
            "has_orders": True,
            "recency_days": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
            "frequency": [1, 1, 1, 2, 2, 3, 4, 5, 6, 7],
            "monetary": [10.0, 20, 30, 40, 50, 60, 70, 80, 90, 100],
        }
    )
    scored, cut_points = score_customers(reference)
    frozen = cut_points_from_table(cut_points_table(cut_points, reference))
    rescored, _ = score_customers(reference, cut_points=frozen)
    pd.testing.assert_frame_equal(rescored, scored)
    # a month later everyone spends twice as much: with frozen cut points the scores say so
    later = reference.assign(monetary=reference["monetary"] * 2)
    assert score_customers(later, cut_points=frozen)[0]["m_score"].tolist() == [1, 2, 3, 4, 5, 5, 5, 5, 5, 5]
    assert score_customers(later)[0]["m_score"].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
