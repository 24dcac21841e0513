"""Segment transitions between snapshots, checked against values worked out by hand."""

import pandas as pd
import pandas.testing as pdt

from segmentation_pipeline.core.publish.schemas import PUBLISHED_SCHEMAS
from segmentation_pipeline.core.publish.transitions import (
    GONE,
    MOVE_KEYS,
    NEW,
    TRANSITION_COLUMNS,
    customer_moves,
    customer_pairs,
    segment_transitions,
    transitions_from_counts,
)
from segmentation_pipeline_tests.publish.snapshots import CURRENT, DESKTOP, OWLS, PREVIOUS, PREVIOUS_DATE, SNAPSHOT


def transitions_table(rows, previous_date) -> pd.DataFrame:
    rows = [(SNAPSHOT, previous_date, *row) for row in rows]
    assert list(TRANSITION_COLUMNS) == PUBLISHED_SCHEMAS["segment_transitions"].names
    return pd.DataFrame(rows, columns=list(TRANSITION_COLUMNS)).astype(TRANSITION_COLUMNS)


def test_transitions_between_two_snapshots():
    # previous sizes: champions 2, hibernating 2, at risk 1 | Night owls 3, Weekend desktop 2
    # current sizes: champions 2, hibernating 2, new customers 1 | Night owls 2, Weekend desktop 3; one left
    expected = transitions_table(
        [
            ("behavioural", NEW, OWLS, 1, 1.0, 1 / 2),  # c6
            ("behavioural", OWLS, GONE, 1, 1 / 3, 1.0),  # c1
            ("behavioural", OWLS, OWLS, 1, 1 / 3, 1 / 2),  # c2
            ("behavioural", OWLS, DESKTOP, 1, 1 / 3, 1 / 3),  # c4
            ("behavioural", DESKTOP, DESKTOP, 2, 1.0, 2 / 3),  # c3 c5
            ("rfm", NEW, "new customers", 1, 1.0, 1.0),  # c6
            ("rfm", "at risk", "hibernating", 1, 1.0, 1 / 2),  # c5
            ("rfm", "champions", GONE, 1, 1 / 2, 1.0),  # c1
            ("rfm", "champions", "champions", 1, 1 / 2, 1 / 2),  # c2
            ("rfm", "hibernating", "champions", 1, 1 / 2, 1 / 2),  # c3
            ("rfm", "hibernating", "hibernating", 1, 1 / 2, 1 / 2),  # c4
        ],
        PREVIOUS_DATE,
    )
    result = segment_transitions(PREVIOUS, CURRENT, SNAPSHOT, PREVIOUS_DATE)
    pdt.assert_frame_equal(result, expected, check_exact=True)

    shuffled = segment_transitions(PREVIOUS.iloc[::-1], CURRENT.iloc[[3, 0, 4, 2, 1]], SNAPSHOT, PREVIOUS_DATE)
    pdt.assert_frame_equal(shuffled, expected, check_exact=True)


def test_without_a_previous_snapshot_every_customer_is_new():
    expected = transitions_table(
        [
            ("behavioural", NEW, OWLS, 2, 2 / 5, 1.0),
            ("behavioural", NEW, DESKTOP, 3, 3 / 5, 1.0),
            ("rfm", NEW, "champions", 2, 2 / 5, 1.0),
            ("rfm", NEW, "hibernating", 2, 2 / 5, 1.0),
            ("rfm", NEW, "new customers", 1, 1 / 5, 1.0),
        ],
        None,
    )
    result = segment_transitions(None, CURRENT, SNAPSHOT, None)
    pdt.assert_frame_equal(result, expected, check_exact=True)


def test_customer_moves_are_row_by_row_and_their_counts_are_the_transitions():
    """Spark's executors make `customer_moves` per batch of joined customers: each customer alone gives its own
    moves, and counting every customer's gives `segment_transitions`."""
    pairs = customer_pairs(PREVIOUS, CURRENT)
    moves = customer_moves(pairs)
    one_by_one = pd.concat([customer_moves(pairs.iloc[[i]]) for i in range(len(pairs))], ignore_index=True)
    ordered = moves.sort_values(MOVE_KEYS, ignore_index=True)
    pdt.assert_frame_equal(one_by_one.sort_values(MOVE_KEYS, ignore_index=True), ordered, check_exact=True)
    left = pairs.index[pairs["customer_id"] == "c1"].tolist()
    assert customer_moves(pairs.iloc[left]).values.tolist() == [["rfm", "champions", GONE], ["behavioural", OWLS, GONE]]
    counts = moves.groupby(MOVE_KEYS).size().rename("customers").reset_index()
    pdt.assert_frame_equal(
        transitions_from_counts(counts, SNAPSHOT, PREVIOUS_DATE),
        segment_transitions(PREVIOUS, CURRENT, SNAPSHOT, PREVIOUS_DATE),
        check_exact=True,
    )
