"""Tests of the key sets that find keys seen in earlier partitions."""

import pandas as pd

from segmentation_pipeline.core.validate.key_sets import KeySet


def test_key_sets_answer_the_same_through_every_lookup_and_remember_keys_added_during_a_run():
    keys = KeySet([f"k{i}" for i in range(100)])
    few = pd.Series(["k1", "x", None, "k99"], dtype="str")  # a small partition
    many = pd.Series(["k1", "x", None, "k99"] * 5, dtype="str")  # about as large as the set: one Arrow pass
    assert keys.contains(few).tolist() == [True, False, False, True]  # first look-up: the set is scanned
    assert keys._index is None  # a nightly run never hashes the whole set
    assert keys.contains(few).tolist() == [True, False, False, True]  # from the second on: the hashed index
    assert keys._index is not None
    assert keys.contains(many).tolist() == [True, False, False, True] * 5
    keys.add(pd.Series(["x", None], dtype="str"))
    assert keys.contains(few).tolist() == [True, True, False, True]
    assert keys.contains(many).tolist() == [True, True, False, True] * 5
