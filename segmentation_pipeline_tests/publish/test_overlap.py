"""Segment overlap: exact shared customers and shares of hand-built memberships, every ordered pair once."""

from datetime import date

import pandas as pd

from segmentation_pipeline.core.publish.overlap import PAIR_KEYS, overlap_from_counts, segment_overlap, shared_counts
from segmentation_pipeline.core.publish.schemas import to_arrow

DAY = date(2026, 11, 22)


def overlap() -> pd.DataFrame:
    customers = pd.DataFrame(
        {
            "customer_id": ["c1", "c2", "c3", "c4"],
            "segment_name": ["Owls", "Owls", "Larks", "Larks"],
            "rfm_segment": ["champions", "at risk", "champions", "champions"],
            "rule_segments": [["VIP", "key account"], ["key account"], ["VIP"], []],
        }
    )
    return segment_overlap(customers, DAY)


def pair(table: pd.DataFrame, a: str, b: str) -> dict:
    row = table[(table["segment_a"] == a) & (table["segment_b"] == b)]
    assert len(row) == 1
    return row.iloc[0].to_dict()


def test_every_ordered_pair_of_distinct_segments_is_listed_once_in_a_stable_order():
    table = overlap()
    n = 6  # Larks, Owls; at risk, champions; VIP, key account
    assert len(table) == n * (n - 1)
    assert table[["segment_type_a", "segment_a"]].drop_duplicates().apply(tuple, axis=1).tolist() == [
        ("behavioural", "Larks"),
        ("behavioural", "Owls"),
        ("rfm", "at risk"),
        ("rfm", "champions"),
        ("rule", "VIP"),
        ("rule", "key account"),
    ]
    assert not (table["segment_a"] == table["segment_b"]).any()
    to_arrow(table, "segment_overlap")


def test_shared_customers_and_shares_are_exact():
    table = overlap()
    owls_champions = pair(table, "Owls", "champions")
    assert (owls_champions["customers_a"], owls_champions["customers_b"], owls_champions["shared_customers"]) == (
        2,
        3,
        1,
    )
    assert owls_champions["share_of_a"] == 0.5 and owls_champions["share_of_b"] == 1 / 3
    vip_larks = pair(table, "VIP", "Larks")
    assert (vip_larks["customers_a"], vip_larks["shared_customers"], vip_larks["share_of_b"]) == (2, 1, 0.5)
    assert pair(table, "key account", "Owls")["share_of_a"] == 1.0
    assert pair(table, "VIP", "key account")["shared_customers"] == 1  # rule segments can overlap each other
    assert pair(table, "Owls", "Larks")["shared_customers"] == 0  # a family's segments are disjoint
    assert (table["snapshot_date"] == DAY).all()


def test_the_counts_of_batches_summed_give_the_overlap_of_all_customers():
    """Spark's way: each batch's `shared_counts`, summed per pair; a pair whose segments are never in one batch
    together is still listed, with 0 shared."""
    customers = pd.DataFrame(
        {
            "segment_name": ["Owls", "Owls", "Larks", "Larks"],
            "rfm_segment": ["champions", "at risk", "champions", "champions"],
            "rule_segments": [["VIP", "key account"], ["key account"], ["VIP"], []],
        }
    )
    batches = [shared_counts(customers.iloc[rows]) for rows in ([0], [1, 3], [2])]
    summed = pd.concat(batches).groupby(PAIR_KEYS, as_index=False)["shared_customers"].sum()
    pd.testing.assert_frame_equal(overlap_from_counts(summed, DAY), segment_overlap(customers, DAY), check_exact=True)
    assert pair(overlap_from_counts(summed, DAY), "at risk", "Larks")["shared_customers"] == 0
