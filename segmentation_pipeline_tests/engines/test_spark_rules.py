"""The rule and manual segments on Spark (`core/engines/spark_rules.py`) against the DuckDB path: the marketers'
rules evaluated per batch on the executors, in batches of 700 rows over several partitions, over nulls, nullable
booleans, non-ASCII text, IN lists, NOT, exact boundaries, a date column without a date in whole batches, an empty
segment; manual assignments of unknown customers, of customers also matched by a rule, expired and repeated. The
written file is DuckDB's byte for byte, and the figures are the same."""

import datetime as dt
import shutil
from datetime import date

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.segment.marketer_files import MarketerFiles
from segmentation_pipeline.core.segment.snapshot import rule_memberships
from segmentation_pipeline.core.storage.layout import WAREHOUSE, DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table, write_snapshot_table
from segmentation_pipeline_tests.engines.test_spark_publish import customer_ids, write_warehouse

DAY = date(2026, 11, 30)
SEGMENTS = """
segments:
  - name: spend at least 80
    rule: monetary >= 80
  - name: spend above 80
    rule: monetary > 80
  - name: nobody
    rule: monetary < 0 and frequency >= 1
  - name: not low NPS
    rule: not (nps < 5)
  - name: no NPS or not passive
    rule: nps is null or nps_group != "passive"
  - name: business
    rule: is_b2b
  - name: not business
    rule: not is_b2b
  - name: opted out
    rule: marketing_opt_in == false
  - name: Städte 東京
    rule: city in ("Köln", "東京", "São Paulo", "😀ville")
  - name: not Köln
    rule: city not in ("Köln") and city is not null
  - name: recent first order
    rule: first_order_date >= "2026-06-01"
  - name: next order soon
    rule: expected_next_order_date <= "2026-12-10" and predicted_clv > 40
  - name: big baskets, low M
    rule: segment_name == "Big baskets" and m_score <= 3 or rfm_segment in ("at risk")
  - name: 😀 fans
    rule: frequency == 5
  - name: Ｚ wide
    rule: sessions >= 10 and not (primary_device == "mobile")
"""
"""Two names whose code point order (Ｚ U+FF3A before 😀 U+1F600) is not their UTF-16 order."""
MANUAL = """customer_id,segment,expires_on,note
{big},spend at least 80,,a rule member too
{small},spend at least 80,,
{other},Zeta ü,2027-01-01,
{other},Zeta ü,2026-06-30,the later expiry counts
{expired},key account,2026-11-30,expired on the day
C99999,key account,,unknown
Z-ünknown,key account,,unknown and non-ASCII
{unscored},key account,,in the features but without a value row: no customer of the snapshot
"""
CITIES = ["Köln", "東京", "São Paulo", "😀ville", "Koln", "Paris", None]


def write_tricky_warehouse(layout: DataLayout) -> dict[str, str]:
    """The warehouse tables of `DAY` with the rules' tricky columns; returns the customers of the manual file: a big
    and a small spender, two others, and one missing from customer_value (so from the snapshot's customers)."""
    ids = customer_ids(151, 2100)
    write_warehouse(layout, DAY, ids, seed=2)
    features = read_snapshot_table(layout, "customer_features", DAY)
    n, rng = len(features), np.random.default_rng(3)
    is_b2b = pd.array(rng.random(n) < 0.3, dtype="boolean")
    is_b2b[rng.random(n) < 0.2] = pd.NA
    first_orders = [None] * 1500 + [dt.date(2026, 5, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 90, n)]
    features = features.assign(
        is_b2b=is_b2b,
        city=pd.Series(rng.choice(np.array(CITIES, dtype=object), n), dtype="str"),
        first_order_date=pd.Series(first_orders[:n], dtype=object),  # no date in the first batches
    )
    write_snapshot_table(layout, "customer_features", DAY, features)
    value = read_snapshot_table(layout, "customer_value", DAY)
    next_order = pd.Timestamp("2026-12-01") + pd.to_timedelta(rng.integers(0, 20, len(value)), unit="D")
    value["expected_next_order_date"] = next_order.where(value["predicted_clv"].notna()).astype("datetime64[ms]")
    write_snapshot_table(layout, "customer_value", DAY, value)
    scored = features[features["customer_id"].isin(value["customer_id"])]
    big = scored[scored["monetary"] >= 80]["customer_id"]
    small = scored[scored["monetary"] < 80]["customer_id"]
    return {
        "big": big.iloc[0],
        "small": small.iloc[0],
        "other": small.iloc[1],
        "expired": small.iloc[2],
        "unscored": sorted(set(ids) - set(value["customer_id"]))[0],
    }


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    layout = DataLayout(tmp_path_factory.mktemp("zone"))
    manual_ids = write_tricky_warehouse(layout)
    layout.config_file("rule_segments.yaml").parent.mkdir(parents=True, exist_ok=True)
    layout.config_file("rule_segments.yaml").write_text(SEGMENTS, encoding="utf-8")
    layout.config_file("manual_assignments.csv").write_text(MANUAL.format(**manual_ids), encoding="utf-8")
    return layout, manual_ids


def on_both_engines(spark, zone: DataLayout, root, without: tuple[str, ...] = ()):
    """Each engine's memberships of `DAY` and its `rule_segment_members` file, on copies of `zone` without the config
    files `without`."""
    results = {}
    for engine, session in (("duckdb", None), ("spark", spark)):
        layout = DataLayout(root / engine)
        shutil.copytree(zone.root, layout.root)
        for name in without:
            layout.config_file(name).unlink()
        memberships = rule_memberships(layout, DAY, MarketerFiles(), session)
        results[engine] = memberships, layout.snapshot_table(WAREHOUSE, "rule_segment_members", DAY)
    return results


def test_rule_and_manual_segments_on_spark_write_duckdbs_file_and_figures(spark, zone, tmp_path, small_batches):
    layout, ids = zone
    results = on_both_engines(spark, layout, tmp_path)
    (duckdb, duckdb_file), (spark_memberships, spark_file) = results["duckdb"], results["spark"]
    assert spark_file.read_bytes() == duckdb_file.read_bytes()
    assert spark_memberships.rows == duckdb.rows == pq.read_metadata(duckdb_file).num_rows
    pd.testing.assert_frame_equal(spark_memberships.per_segment, duckdb.per_segment, check_exact=True)
    assert spark_memberships.manual_unknown_customers == duckdb.manual_unknown_customers
    assert spark_memberships.manual_unknown_customers == sorted(["C99999", "Z-ünknown", ids["unscored"]])
    assert spark_memberships.manual_expired == duckdb.manual_expired == 1

    members = pq.read_table(spark_file).to_pandas()
    customers = read_snapshot_table(layout, "customer_features", DAY).merge(
        read_snapshot_table(layout, "customer_value", DAY), on="customer_id"
    )
    assert len(customers) > 2 * 700  # batches of 700: batch boundaries fall inside every large segment
    rules = members[members["source"] == "rule"]
    sizes = rules["segment"].value_counts()
    assert sizes["spend at least 80"] == (customers["monetary"] >= 80).sum() > sizes["spend above 80"] > 0
    assert "nobody" not in sizes.index
    assert sizes["business"] == customers["is_b2b"].fillna(False).sum()
    assert sizes["business"] + sizes["not business"] == customers["is_b2b"].notna().sum()
    assert sizes["not low NPS"] == (customers["nps"] >= 5).fillna(False).sum()
    assert sizes["Städte 東京"] == customers["city"].isin(["Köln", "東京", "São Paulo", "😀ville"]).sum()
    assert sizes["recent first order"] == sum(
        day is not None and day >= dt.date(2026, 6, 1) for day in customers["first_order_date"]
    )
    both = members[(members["customer_id"] == ids["big"]) & (members["segment"] == "spend at least 80")]
    assert both["source"].tolist() == ["rule", "manual"]
    first = members[members["customer_id"] == members["customer_id"].iloc[0]]["segment"].tolist()
    assert first == sorted(first)
    assert list(members["segment"].drop_duplicates().sort_values()) == sorted(set(members["segment"]))
    manual = members[members["source"] == "manual"]
    assert manual[["customer_id", "segment"]].values.tolist() == sorted(
        [[ids["big"], "spend at least 80"], [ids["small"], "spend at least 80"], [ids["other"], "Zeta ü"]]
    )


@pytest.mark.parametrize(
    "without", [("manual_assignments.csv",), ("rule_segments.yaml", "manual_assignments.csv")], ids=["rules", "none"]
)
def test_without_manual_assignments_or_any_file_spark_writes_duckdbs_file(spark, zone, tmp_path, without):
    layout, _ = zone
    results = on_both_engines(spark, layout, tmp_path, without)
    (duckdb, duckdb_file), (spark_memberships, spark_file) = results["duckdb"], results["spark"]
    assert spark_file.read_bytes() == duckdb_file.read_bytes()
    assert (spark_memberships.manual_unknown_customers, spark_memberships.manual_expired) == (None, None)
    assert spark_memberships.rows == duckdb.rows
    assert (duckdb.rows == 0) == ("rule_segments.yaml" in without)
    pd.testing.assert_frame_equal(spark_memberships.per_segment, duckdb.per_segment, check_exact=True)
