"""Publishing on Spark (`core/engines/spark_publish.py`) against the DuckDB path, file for file: two snapshots of
generated warehouse tables full of tricky rows (spend tied across the value-tier boundaries, nulls, customers
missing from a side, an empty segment, memberships of unknown customers, customers who left and arrived between the
snapshots), with hashed ids, in many small batches."""

import shutil
from datetime import date

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.core.engines import spark_audiences
from segmentation_pipeline.core.engines.spark_frames import read_table, write_one_file
from segmentation_pipeline.core.publish.audiences import audience_export, validated_emails
from segmentation_pipeline.core.publish.drift import psi_bin_edges
from segmentation_pipeline.core.publish.memberships import SEGMENT_LIST_TYPE
from segmentation_pipeline.core.publish.personas import AGE_BANDS
from segmentation_pipeline.core.publish.settings import PublishSettings
from segmentation_pipeline.core.publish.snapshot import publish_snapshot
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import WAREHOUSE, DataLayout
from segmentation_pipeline.core.storage.tables import read_snapshot_table, write_snapshot_table
from segmentation_pipeline_tests.end_to_end.test_spark_pipeline import assert_same_values
from segmentation_pipeline_tests.engines.conftest import small_batches_of

PREVIOUS, DAY = date(2026, 10, 31), date(2026, 11, 30)
SEGMENTS = {1: "Night owls", 2: "Weekend desktop", 3: "Big baskets", 4: "Casual browsers", 5: "Nobody yet"}
"""Segment 5 has a profile but no customer."""
SETTINGS = PublishSettings(customer_id_salt="pepper", control_group_share=0.2)


def customer_ids(first: int, last: int) -> list[str]:
    return [f"C{number:05d}" for number in range(first, last + 1)]


def write_warehouse(layout: DataLayout, day: date, ids: list[str], seed: int) -> None:
    """The warehouse tables a publish reads, in the dtypes the pipeline writes them."""
    rng, n = np.random.default_rng(seed), len(ids)
    frequency = rng.choice([0, 0, 1, 2, 5], n)
    monetary = np.where(frequency > 0, rng.choice([10.0, 20.0, 20.0, 50.0, 80.0, 80.0, 250.0], n), 0.0)
    has_orders = frequency > 0
    has_orders[:7] = ~has_orders[:7]  # a few disagree with the window's orders: the two spend tiers' populations differ
    lifetime_orders = frequency + rng.integers(0, 3, n)
    nps = pd.Series(rng.integers(0, 11, n), dtype="Int64").mask(rng.random(n) < 0.4)
    surveyed = nps.notna().to_numpy()
    channel = pd.Series(rng.choice(["email", "social", "organic_search", None], n), dtype="str")
    segment_ids = rng.choice([1, 2, 3, 4], n, p=[0.4, 0.3, 0.2, 0.1])
    features = pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype="str"),
            "snapshot_date": pd.Timestamp(day).as_unit("us"),
            "has_orders": has_orders,
            "recency_days": pd.Series(rng.integers(0, 90, n), dtype="Int64").where(has_orders).array,
            "frequency": frequency,
            "monetary": monetary,
            "purchase_days": frequency,
            "avg_order_value": np.where(frequency > 0, monetary / np.maximum(frequency, 1), np.nan),
            "lifetime_spend": monetary + lifetime_orders * 5.0,
            "lifetime_orders": lifetime_orders,
            "repeat_purchases": pd.array(np.maximum(lifetime_orders - 1, 0), dtype="Int64"),
            "age_at_last_purchase_days": pd.array(rng.integers(0, 400, n), dtype="Int64"),
            "customer_age_days": pd.array(rng.integers(0, 800, n), dtype="Int64"),
            "mean_repeat_spend": np.where(lifetime_orders > 1, 12.5, np.nan),
            "sessions": rng.integers(0, 20, n),
            "primary_device": pd.Series(rng.choice(["mobile", "desktop", None], n), dtype="str"),
            "preferred_time_of_day": pd.Series(rng.choice(["morning", "evening"], n), dtype="str"),
            "country": pd.Series(rng.choice(["DE", "FR", "GB"], n), dtype="str"),
            "acquisition_channel": channel,
            "marketing_opt_in": rng.random(n) < 0.7,
            "has_survey": surveyed,
            "nps": nps.array,
            "nps_group": pd.Series(np.where(surveyed, "passive", None), dtype="str"),
            "lifecycle_stage": pd.Series(rng.choice(["new", "active", "lapsed", "never purchased"], n), dtype="str"),
            **persona_features(rng, segment_ids),
        }
    )
    if seed == 2:  # the later snapshot's spend and recency partly outside the earlier one's range
        features["lifetime_spend"] *= np.where(rng.random(n) < 0.1, 40.0, 1.0)
        features.loc[features.index[:5], "recency_days"] = 400
    write_snapshot_table(layout, "customer_features", day, features)
    scores = pd.array(np.where(has_orders, rng.integers(1, 6, n), 0), dtype="Int64")
    scores[~has_orders] = pd.NA
    rfm_segment = pd.Series(
        np.where(has_orders, rng.choice(["champions", "at risk", "hibernating"], n), "no purchases")
    )
    write_snapshot_table(
        layout,
        "rfm_scores",
        day,
        pd.DataFrame(
            {
                "customer_id": features["customer_id"],
                "r_score": scores,
                "f_score": scores,
                "m_score": scores,
                "rfm_segment": rfm_segment.astype("str"),
            }
        ),
    )
    write_snapshot_table(
        layout,
        "segment_assignments",
        day,
        pd.DataFrame(
            {
                "customer_id": features["customer_id"],
                "segment_id": segment_ids,
                "segment_name": pd.Series([SEGMENTS[i] for i in segment_ids], dtype="str"),
                "model_version": pd.Series(["2026-10-01-model"] * n, dtype="str"),
            }
        ),
    )
    write_snapshot_table(layout, "segment_profiles", day, profiles(segment_ids))
    scored = rng.random(n) < 0.8  # the rest have no value row at all: missing from that side
    clv = np.where(has_orders, rng.choice([5.0, 40.0, 40.0, 300.0], n), np.nan)[scored]
    write_snapshot_table(
        layout,
        "customer_value",
        day,
        pd.DataFrame(
            {
                "customer_id": features["customer_id"][scored].reset_index(drop=True),
                "p_alive": np.where(np.isnan(clv), np.nan, 0.5),
                "expected_orders_90d": clv / 100,
                "expected_orders_365d": clv / 25,
                "predicted_clv": clv,
                "churn_risk": pd.Series(
                    np.where(np.isnan(clv), None, rng.choice(["high", "low"], len(clv))), dtype="str"
                ),
                "expected_next_order_date": pd.Series(pd.NaT, index=range(len(clv)), dtype="datetime64[ms]"),
                "predicted_value_tier": pd.Series(np.where(np.isnan(clv), None, "medium"), dtype="str"),
            }
        ),
    )
    write_snapshot_table(
        layout,
        "rfm_cut_points",
        day,
        pd.DataFrame(
            {
                "metric": pd.Series(["monetary"], dtype="str"),
                "score": [1],
                "min_value": [0.0],
                "max_value": [10.0],
                "customers": [n],
                "fitted_on": [day],
                "snapshot_date": [day],
            }
        ),
    )
    members = [(ids[i], "VIP", "rule") for i in range(0, n, 3)] + [(ids[i], "Lapsed", "rule") for i in range(0, n, 5)]
    members += [(ids[i], "VIP", "manual") for i in range(0, n, 6)]  # VIP by both kinds: listed once
    members += [("C99999", "VIP", "manual"), (ids[1], "Zeta ü", "manual")]  # an unknown customer; non-ASCII name
    write_snapshot_table(
        layout,
        "rule_segment_members",
        day,
        pd.DataFrame(members, columns=["customer_id", "segment", "source"])
        .astype("str")
        .sort_values(["customer_id", "segment"], ignore_index=True),  # as `rule_memberships` writes them
    )


def persona_features(rng, segment_ids: np.ndarray) -> dict[str, object]:
    """The features the personas read, with nulls, ties and a segment (4) without any usage."""
    n = len(segment_ids)

    def text(values: list, missing: float = 0.1) -> pd.Series:
        return pd.Series(rng.choice(values, n), dtype="str").mask(rng.random(n) < missing)

    usage = (rng.random(n) < 0.8) & (segment_ids != 4)
    minutes = np.where(rng.random(n) < 0.5, rng.choice([1.0, 2.5, 2.5, 4.0, 7.25], n), np.round(rng.gamma(2, 3, n), 3))
    return {
        "age_band": text(["16-24", "25-34", "35-44", "45-54", "55-64", "65+"]),
        "gender": text(["f", "m", "d"]),
        "is_b2b": pd.Series(rng.random(n) < 0.2, dtype="boolean").mask(rng.random(n) < 0.05),
        "has_usage": usage,
        "mean_session_minutes": pd.Series(minutes).where(usage & (rng.random(n) < 0.9)).to_numpy(),
        "top_feature": text(["search", "cart", "wishlist"]).where(usage),
        "weekend_share": pd.Series(rng.choice([0.0, 0.25, 0.5, 1.0], n)).where(usage).to_numpy(),
        "most_active_hour": pd.Series(rng.choice([9, 9, 20, 21], n), dtype="Int64").where(usage).array,  # ties
        "most_active_weekday": text(["Saturday", "Tuesday", "Monday", "Sunday"]).where(usage),
        "top_category": text(["books", "toys", "games"], 0.3),
        "primary_need": text(["price", "speed", "quality"], 0.6),
        "price_sensitivity": pd.Series(rng.integers(1, 6, n), dtype="Int64").where(rng.random(n) < 0.4).array,
        "preferred_contact_channel": text(["email", "sms"], 0.6),
    }


def profiles(segment_ids: np.ndarray) -> pd.DataFrame:
    counts = pd.Series(segment_ids).value_counts()
    rows = len(SEGMENTS)
    return pd.DataFrame(
        {
            "segment_id": list(SEGMENTS),
            "segment_name": pd.Series(SEGMENTS.values(), dtype="str"),
            "description": pd.Series(["a segment"] * rows, dtype="str"),
            "customers": [int(counts.get(i, 0)) for i in SEGMENTS],
            "share": [counts.get(i, 0) / len(segment_ids) for i in SEGMENTS],
            **{name: np.linspace(0.1, 0.5, rows) for name in ("revenue", "revenue_share", "mean_frequency")},
            **{name: pd.array([1.5] * rows, dtype="Float64") for name in ("mean_recency_days", "median_recency_days")},
            **{name: np.linspace(1, 2, rows) for name in ("median_frequency", "mean_monetary", "median_monetary")},
            "mean_sessions": np.linspace(3, 4, rows),
            **{name: pd.Series(["x"] * rows, dtype="str") for name in ("dominant_device", "dominant_time_of_day")},
            **{name: pd.Series(["DE"] * rows, dtype="str") for name in ("top_country", "top_acquisition_channel")},
            **{name: np.full(rows, 1 / 3) for name in ("promoter_share", "passive_share", "detractor_share")},
            "model_version": pd.Series(["2026-10-01-model"] * rows, dtype="str"),
        }
    )


def write_crm(layout: DataLayout, ids: list[str]) -> None:
    emails = [f" {customer.lower()}@Example.com " if i % 9 else "not an e-mail" for i, customer in enumerate(ids)]
    frame = pd.DataFrame({"customer_id": ids, "email": emails}).astype("str")
    layout.validated("customers", None).parent.mkdir(parents=True, exist_ok=True)
    write_parquet_atomically(pa_table(frame), layout.validated("customers", None))


def pa_table(frame: pd.DataFrame):
    return pa.Table.from_pandas(frame, preserve_index=False)


@pytest.fixture(scope="module")
def published(spark, tmp_path_factory):
    """Both snapshots published by each engine (Spark in batches of 700 rows over several partitions)."""
    zone = DataLayout(tmp_path_factory.mktemp("zone"))
    write_warehouse(zone, PREVIOUS, customer_ids(1, 1900), seed=1)
    write_warehouse(zone, DAY, customer_ids(151, 2100), seed=2)  # 150 left, 200 arrived
    write_crm(zone, customer_ids(1, 2100))
    layouts, snapshots = {}, {}
    with small_batches_of(spark):
        for engine, session in (("duckdb", None), ("spark", spark)):
            layouts[engine] = DataLayout(tmp_path_factory.mktemp(engine))
            shutil.copytree(zone.root, layouts[engine].root, dirs_exist_ok=True)
            snapshots[engine] = [publish_snapshot(layouts[engine], day, SETTINGS, session) for day in (PREVIOUS, DAY)]
    return layouts, snapshots


def test_both_engines_publish_the_same_files_and_exports(published):
    layouts, _ = published
    duckdb_root, spark_root = layouts["duckdb"].root, layouts["spark"].root
    files = sorted(path.relative_to(duckdb_root) for path in (duckdb_root / "published").rglob("*.parquet"))
    assert files == sorted(path.relative_to(spark_root) for path in (spark_root / "published").rglob("*.parquet"))
    assert len(files) == 2 * 10
    for path in files:
        if path.parts[1] == "runs":
            continue
        duckdb_table, spark_table = pq.read_table(duckdb_root / path), pq.read_table(spark_root / path)
        assert spark_table.schema.equals(duckdb_table.schema, check_metadata=True), path
        assert_same_values(spark_table, duckdb_table, path)
    exports = sorted(path.relative_to(duckdb_root) for path in (duckdb_root / "exports").rglob("*.csv"))
    assert exports and exports == sorted(
        path.relative_to(spark_root) for path in (spark_root / "exports").rglob("*.csv")
    )
    for path in exports:
        assert (spark_root / path).read_bytes() == (duckdb_root / path).read_bytes(), path


def test_the_runs_rows_and_the_drift_are_the_same(published):
    layouts, snapshots = published
    runs = {
        engine: pq.read_table(layouts[engine].published_table("runs", DAY)).to_pandas().drop(columns=RUN_SPECIFIC)
        for engine in ("duckdb", "spark")
    }
    pd.testing.assert_frame_equal(runs["spark"], runs["duckdb"], check_exact=True)
    assert runs["spark"].loc[0, "customer_segments_rows"] == 1950
    assert runs["spark"].loc[0, "hashed_customer_ids"] and runs["spark"].loc[0, "control_group_customers"] > 0
    for duckdb_snapshot, spark_snapshot in zip(snapshots["duckdb"], snapshots["spark"], strict=True):
        assert spark_snapshot.rows == duckdb_snapshot.rows
        assert flat(spark_snapshot.drift) == pytest.approx(flat(duckdb_snapshot.drift), rel=1e-12, abs=0, nan_ok=True)
    assert 0 < snapshots["spark"][1].drift["changed_segment_share"]["segment_id"] < 1


RUN_SPECIFIC = ["published_at", "code_version"]


def flat(drift: dict, prefix: str = "") -> dict:
    """The drift figures keyed by their path, None as NaN (so `pytest.approx` compares them)."""
    figures = {}
    for key, value in drift.items():
        if isinstance(value, dict):
            figures |= flat(value, f"{prefix}{key}/")
        else:
            figures[prefix + key] = np.nan if value is None else value
    return figures


def test_the_tricky_cases_reach_the_published_tables(published):
    layouts, _ = published
    layout = layouts["spark"]
    customers = pq.read_table(layout.published_table("customer_segments", DAY)).to_pandas()
    assert customers["customer_id"].str.fullmatch("[0-9a-f]{64}").all()  # hashed
    assert customers["customer_id"].is_monotonic_increasing
    assert customers["p_alive"].isna().sum() > 0 and customers["acquisition_channel"].isna().sum() > 0
    lists = customers["rule_segments"].map(list)
    assert lists.map(len).max() == 2 and (lists.map(len) == 0).sum() > 0
    assert ["Lapsed", "VIP"] in lists.tolist() and ["Zeta ü"] in lists.tolist()
    buyers = customers[customers["value_tier"] != "none"]
    assert set(buyers["value_tier"]) == {"high", "medium", "low"}
    assert buyers.groupby("monetary")["value_tier"].nunique().max() == 1  # ties share a tier
    transitions = pq.read_table(layout.published_table("segment_transitions", DAY)).to_pandas()
    moved = transitions.groupby("segment_type")["customers"].sum()
    assert moved.to_dict() == {"behavioural": 2100, "rfm": 2100}  # 1,750 stayed, 150 left, 200 arrived
    arrived = transitions[transitions["from_segment"] == "(new customer)"].groupby("segment_type")["customers"].sum()
    left = transitions[transitions["to_segment"] == "(left)"].groupby("segment_type")["customers"].sum()
    assert arrived.to_dict() == {"behavioural": 200, "rfm": 200} and left.to_dict() == {"behavioural": 150, "rfm": 150}
    uplift = pq.read_table(layout.published_table("segment_uplift", DAY)).to_pandas()
    assert set(uplift["segment_type"]) == {"behavioural", "rfm", "rule"}
    assert (
        uplift[["treated_customers", "control_customers"]]
        .sum(axis=1)
        .groupby(uplift["segment_type"])
        .sum()["behavioural"]
        == 1750
    )
    profiles = pq.read_table(layout.published_table("segment_profiles", DAY)).to_pandas().set_index("segment_id")
    assert np.isnan(profiles.loc[5, "mean_predicted_clv"]) and not np.isnan(profiles.loc[1, "mean_predicted_clv"])
    kpis = pq.read_table(layout.published_table("segment_kpis", DAY)).to_pandas()
    assert "(unknown)" in set(kpis["acquisition_channel"]) and kpis["control_customers"].sum() > 0
    overlap = pq.read_table(layout.published_table("segment_overlap", DAY)).to_pandas()
    vip = overlap[(overlap["segment_a"] == "VIP") & (overlap["segment_b"] == "Lapsed")]
    assert vip["shared_customers"].tolist() == [len(range(0, 1950, 15))]  # the rows both every 3rd and every 5th


def test_the_personas_and_the_drift_meet_their_tricky_cases(published):
    """Medians of even and odd counts with ties and nulls, a segment without usage, an empty one; bin edges that
    deduplicate and later values outside the earlier range: Spark's figures equal pandas' own, medians exactly."""
    layouts, snapshots = published
    parities = set()
    for day in (PREVIOUS, DAY):
        features = read_snapshot_table(layouts["duckdb"], "customer_features", day)
        segments = read_snapshot_table(layouts["duckdb"], "segment_assignments", day)["segment_id"]
        minutes = features["mean_session_minutes"].where(features["has_usage"])
        medians = minutes.groupby(segments.to_numpy()).median()
        personas = {
            engine: pq.read_table(layouts[engine].published_table("segment_personas", day)).to_pandas()
            for engine in ("duckdb", "spark")
        }
        for engine, table in personas.items():
            table = table.set_index("segment_id")
            assert table.loc[[1, 2, 3], "median_session_minutes"].tolist() == medians.loc[[1, 2, 3]].tolist(), engine
            assert (
                table.loc[[4, 5], ["median_session_minutes", "most_active_hour", "top_features"]].isna().all(axis=None)
            )
            assert table.loc[5, "customers"] == 0 and pd.isna(table.loc[5, "age_band_mix"])
            assert table.loc[1, "most_active_hour"] == 9 and table.loc[4, "median_age_band"] in AGE_BANDS
        pd.testing.assert_frame_equal(personas["spark"], personas["duckdb"], check_exact=True)
        parities |= set(minutes.groupby(segments.to_numpy()).count().loc[[1, 2, 3]] % 2)
    assert parities == {0, 1}
    previous = pq.read_table(layouts["duckdb"].published_table("customer_segments", PREVIOUS)).to_pandas()
    current = pq.read_table(layouts["duckdb"].published_table("customer_segments", DAY)).to_pandas()
    assert (
        len(psi_bin_edges(previous["frequency"])) < 9
        and previous["recency_days"].isna().any()
        and previous["avg_order_value"].isna().any()
    )
    assert current["lifetime_spend"].max() > previous["lifetime_spend"].max()
    assert current["recency_days"].max() > previous["recency_days"].max()
    drift = snapshots["spark"][1].drift
    assert drift["psi"]["lifetime_spend"] > 0.01 and drift["psi"]["recency_days"] > 0


def test_audience_files_written_by_the_executors_with_plain_emails_are_the_drivers_bytes(spark, tmp_path):
    """The export on Spark with `export_plain_emails`, its first customers unreachable and without rule segments
    (the rows' schema comes from one row), a segment nobody in it can be reached (not opted in), against the pandas
    export, file for file."""
    layout = DataLayout(tmp_path / "zone")
    ids = customer_ids(1, 40)
    write_crm(layout, ids)
    customers = pd.DataFrame(
        {
            "customer_id": pd.Series(ids, dtype="str"),
            "marketing_opt_in": pd.Series([i >= 5 and i % 4 != 0 for i in range(40)], dtype="boolean"),
            "in_control_group": [i % 7 == 6 for i in range(40)],
            "segment_name": pd.Series([SEGMENTS[1 + i % 3] for i in range(40)], dtype="str"),
            "rfm_segment": pd.Series(["hibernating"] * 5 + ["champions", "at risk"] * 17 + ["x"], dtype="str"),
            "rule_segments": [[] if i < 10 else ["VIP", "Zeta ü"][: i % 3] for i in range(40)],
        }
    )
    table = pa_table(customers).cast(pa_table(customers).schema.set(5, pa.field("rule_segments", SEGMENT_LIST_TYPE)))
    frame = spark.createDataFrame(table)
    on_spark = spark_audiences.audience_export(spark, layout, frame, table.schema, plain_emails=True)
    on_pandas = audience_export(customers, validated_emails(layout), plain_emails=True)
    assert on_spark.manifest.to_dict("records") == on_pandas.manifest.to_dict("records")
    assert (on_spark.customers, on_spark.left_out_without_email) == (
        on_pandas.customers,
        on_pandas.left_out_without_email,
    )
    for export, folder in ((on_spark, tmp_path / "spark"), (on_pandas, tmp_path / "pandas")):
        export.write(folder)
    files = sorted(path.relative_to(tmp_path / "pandas") for path in (tmp_path / "pandas").rglob("*.csv"))
    assert len(files) == len(on_pandas.files) + 1 and on_pandas.manifest["customers"].min() == 0
    for path in files:
        assert (tmp_path / "spark" / path).read_bytes() == (tmp_path / "pandas" / path).read_bytes(), path
    on_spark.release()


def test_an_empty_table_written_by_an_executor_is_an_empty_file_of_its_schema(spark, tmp_path):
    """An empty membership table has no partition, so no task writes it: the file is still there, empty."""
    layout = DataLayout(tmp_path)
    empty = pd.DataFrame({"customer_id": [], "segment": [], "source": []}).astype("str")
    write_snapshot_table(layout, "rule_segment_members", DAY, empty)
    frame, schema = read_table(spark, layout.snapshot_table(WAREHOUSE, "rule_segment_members", DAY))
    target = tmp_path / "written.parquet"
    assert write_one_file(frame, target, schema, ["customer_id"]) == 0
    assert pq.read_table(target).schema.equals(schema, check_metadata=True)
    assert pq.read_table(target).num_rows == 0
