"""Segment memberships encoded for publishing: one sorted list of segment names per customer, written to Parquet."""

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.publish.memberships import SEGMENT_LIST_TYPE, membership_lists
from segmentation_pipeline.core.segment.rules import evaluate, parse_rule_segments
from segmentation_pipeline_tests.segment.rules.helpers import SCHEMA, frame, manual


def test_membership_lists_align_with_the_customers():
    long_table = pd.DataFrame(
        {
            "customer_id": ["c3", "c1", "c1", "c3", "c9", "c1"],
            "segment": ["vip", "vip", "beta", "VIP", "vip", "vip"],
            "source": ["rule", "rule", "manual", "manual", "rule", "manual"],
        }
    )
    customers = pd.Series(["c1", "c2", "c3", None, "c1"], index=[10, 20, 30, 40, 50])
    lists = membership_lists(long_table, customers)
    assert lists.tolist() == [["beta", "vip"], [], ["VIP", "vip"], [], ["beta", "vip"]]
    assert lists.index.tolist() == [10, 20, 30, 40, 50]
    assert lists.dtype == object
    assert lists.iloc[0] is not lists.iloc[4]  # every customer gets a list of its own


def test_membership_lists_of_many_segments():
    names = [f"s{i:03d}" for i in range(100)]
    long_table = pd.DataFrame({"customer_id": ["a"] * 100 + ["b"], "segment": names[::-1] + ["s050"]})
    lists = membership_lists(long_table, pd.Series(["b", "c", "a"]))
    assert lists.tolist() == [["s050"], [], names]


def test_membership_lists_write_to_parquet_as_list_of_strings():
    features = frame()
    for long_table in (evaluate([], features), pd.DataFrame({"customer_id": ["c2"], "segment": ["vip"]})):
        published = pd.DataFrame(
            {"customer_id": features["customer_id"], "segments": membership_lists(long_table, features["customer_id"])}
        )
        table = pa.Table.from_pandas(published, preserve_index=False)
        table = table.cast(pa.schema([("customer_id", pa.string()), ("segments", SEGMENT_LIST_TYPE)]))
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        buffer.seek(0)
        assert pq.read_schema(buffer).field("segments").type == pa.list_(pa.field("element", pa.string()))
        buffer.seek(0)
        assert pd.read_parquet(buffer)["segments"].map(list).tolist() == published["segments"].tolist()


def test_membership_lists_of_rule_and_manual_segments_together(tmp_path):
    segments = parse_rule_segments(
        [{"name": "VIP", "rule": "monetary >= 1000"}, {"name": "B2B", "rule": "is_b2b"}], SCHEMA, "x"
    )
    manual_result = manual(tmp_path, "customer_id,segment\nc2,VIP\nc3,key account\nc1,VIP\n")
    both = pd.concat([evaluate(segments, frame()), manual_result.assignments], ignore_index=True)
    assert membership_lists(both, frame()["customer_id"]).tolist() == [
        ["VIP"],
        ["B2B", "VIP"],
        ["key account"],
        ["B2B", "VIP"],
        [],
        ["B2B", "VIP"],
    ]
    assert membership_lists(both, pd.Series([], dtype="str")).tolist() == []
