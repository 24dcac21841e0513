"""Tests of the seeded landing-zone generator: layout, determinism, planted errors versus data, realism."""

from __future__ import annotations

import datetime as dt
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_pipeline.sample_data import (
    CUSTOMER_COLUMNS,
    EVENT_COLUMNS,
    ORDER_COLUMNS,
    PERSONAS,
    PLANTED_RULES,
    SURVEY_COLUMNS,
    generate_landing_zone,
)

END = dt.date(2025, 3, 10)
SMALL = {"customers": 300, "days": 40, "seed": 7, "end_date": END}
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
DEVICES = {"desktop", "mobile", "tablet"}
DAY_FOLDER = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")


# ----------------------------------------------------------------------------------------------------------------
# loading helpers


def _all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _day_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir())


def _read_daily_csv(folder: Path, name: str) -> pd.DataFrame:
    """All day files of a CSV source as raw strings, in folder order then line order, with their folder date."""
    frames = []
    for day_dir in _day_folders(folder):
        frame = pd.read_csv(day_dir / name, dtype=str, keep_default_na=False)
        frame["_date"] = DAY_FOLDER.match(day_dir.name).group(1)
        frame["_line"] = np.arange(len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _read_events(folder: Path) -> pd.DataFrame:
    frames = []
    for day_dir in _day_folders(folder):
        frame = pq.read_table(day_dir / "events.parquet").to_pandas()
        frame["_date"] = DAY_FOLDER.match(day_dir.name).group(1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _outside_day(timestamps: pd.Series, dates: pd.Series) -> pd.Series:
    start = pd.to_datetime(dates).dt.tz_localize("UTC")
    return (timestamps < start) | (timestamps >= start + pd.Timedelta(days=1))


class Landing:
    def __init__(self, root: Path, summary: dict):
        self.root = root
        self.summary = summary
        landing = root / "landing"
        self.customers = pd.read_csv(landing / "crm" / "customers.csv", dtype=str, keep_default_na=False)
        self.orders = _read_daily_csv(landing / "crm" / "orders", "orders.csv")
        self.survey = _read_daily_csv(landing / "survey" / "responses", "responses.csv")
        self.events = _read_events(landing / "usage" / "events")
        self.personas = pd.read_csv(root / "ground_truth" / "personas.csv", dtype=str, keep_default_na=False)
        self.planted = pd.read_csv(root / "ground_truth" / "planted_errors.csv", dtype=str, keep_default_na=False)
        self.orders["ts"] = pd.to_datetime(self.orders["ordered_at"], utc=True, format="ISO8601")
        self.orders["amount_f"] = pd.to_numeric(self.orders["amount"])
        self.survey["ts"] = pd.to_datetime(self.survey["submitted_at"], utc=True, format="ISO8601")
        for column in ("nps", "csat", "price_sensitivity"):
            self.survey[column + "_i"] = pd.to_numeric(self.survey[column])

    def planted_ids(self, source: str, rule: str | None = None) -> set[str]:
        rows = self.planted[self.planted["source"] == source]
        if rule is not None:
            rows = rows[rows["rule"] == rule]
        return set(rows["id"])

    def detected_errors(self) -> pd.DataFrame:
        """Every rule of the input contract applied independently to every row: (source, date, id, rule, row)."""
        known = set(self.customers["customer_id"])
        found = []

        def collect(source, frame, id_column, date_column, rules):
            flags = pd.DataFrame(rules, index=frame.index).fillna(False).astype(bool)
            for rule in flags.columns:
                hit = frame[flags[rule]]
                found.append(
                    pd.DataFrame(
                        {
                            "source": source,
                            "date": hit[date_column] if date_column else "",
                            "id": hit[id_column],
                            "rule": rule,
                            "row": hit.index,
                        }
                    )
                )

        c = self.customers.assign(_none="")
        created = pd.to_datetime(c["created_at"], utc=True, format="ISO8601")
        collect("customers", c, "customer_id", None, {
            "missing_required_value": (
                c[["customer_id", "created_at", "email", "full_name", "country"]] == ""
            ).any(axis=1),
            "duplicate_key": c["customer_id"].duplicated(keep="first"),
            "malformed_email": ~c["email"].str.match(EMAIL),
            "timestamp_in_future": created >= pd.Timestamp(END + dt.timedelta(days=1), tz="UTC"),
        })  # fmt: skip
        o = self.orders
        collect("orders", o, "order_id", "_date", {
            "missing_required_value": (o[list(ORDER_COLUMNS)] == "").any(axis=1),
            "duplicate_key": o["order_id"].duplicated(keep="first"),
            "unknown_customer": ~o["customer_id"].isin(known),
            "negative_amount": o["amount_f"] < 0,
            "timestamp_outside_partition": _outside_day(o["ts"], o["_date"]),
            "unknown_status": ~o["status"].isin(["completed", "cancelled", "refunded"]),
        })  # fmt: skip
        s = self.survey
        collect("survey_responses", s, "response_id", "_date", {
            "missing_required_value": (s[list(SURVEY_COLUMNS)] == "").any(axis=1),
            "duplicate_key": s["response_id"].duplicated(keep="first"),
            "unknown_customer": ~s["customer_id"].isin(known),
            "timestamp_outside_partition": _outside_day(s["ts"], s["_date"]),
            "nps_out_of_range": ~s["nps_i"].between(0, 10),
            "csat_out_of_range": ~s["csat_i"].between(1, 5),
            "price_sensitivity_out_of_range": ~s["price_sensitivity_i"].between(1, 5),
        })  # fmt: skip
        e = self.events
        collect("usage_events", e, "event_id", "_date", {
            "missing_required_value": e[list(EVENT_COLUMNS)].isna().any(axis=1)
            | (e[["event_id", "customer_id", "session_id", "device_type", "feature"]] == "").any(axis=1),
            "duplicate_key": e["event_id"].duplicated(keep="first"),
            "unknown_customer": ~e["customer_id"].isin(known),
            "timestamp_outside_partition": _outside_day(e["event_ts"], e["_date"]),
            "unknown_device_type": ~e["device_type"].isin(DEVICES),
            "negative_duration": e["duration_s"] < 0,
        })  # fmt: skip
        return pd.concat(found, ignore_index=True)


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Landing:
    root = tmp_path_factory.mktemp("landing_small")
    return Landing(root, generate_landing_zone(root, **SMALL))


# ----------------------------------------------------------------------------------------------------------------
# determinism


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path):
    first = _all_files(_generate(tmp_path / "a", **SMALL))
    second = _all_files(_generate(tmp_path / "b", **SMALL))
    assert first.keys() == second.keys()
    assert [name for name in first if first[name] != second[name]] == []

    other = _all_files(_generate(tmp_path / "c", **{**SMALL, "seed": 8}))
    for name in ("landing/crm/customers.csv", "ground_truth/personas.csv", "ground_truth/planted_errors.csv"):
        assert other[name] != first[name]
    common = sorted(set(first) & set(other) - {"ground_truth/personas.csv"})
    assert sum(first[name] != other[name] for name in common) > 0.9 * len(common)


def test_regenerating_into_same_dir_removes_stale_partitions(tmp_path):
    _generate(tmp_path, customers=60, days=30, seed=1, end_date=END)
    summary = generate_landing_zone(tmp_path, customers=60, days=10, seed=1, end_date=END)
    first_day = dt.date.fromisoformat(summary["date_range"]["start"])
    for dataset in ("crm/orders", "survey/responses", "usage/events"):
        folder = tmp_path / "landing" / dataset
        days = [dt.date.fromisoformat(DAY_FOLDER.match(p.name).group(1)) for p in _day_folders(folder)]
        assert days and min(days) >= first_day


def test_default_end_date_is_yesterday_utc(tmp_path):
    summary = generate_landing_zone(tmp_path, customers=20, days=3)
    yesterday = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    assert summary["date_range"] == {
        "start": (yesterday - dt.timedelta(days=2)).isoformat(),
        "end": yesterday.isoformat(),
    }


def _generate(root: Path, **kwargs) -> Path:
    generate_landing_zone(root, **kwargs)
    return root


# ----------------------------------------------------------------------------------------------------------------
# layout and contract


def test_layout_and_exact_columns(small):
    root = small.root / "landing"
    assert (root / "crm" / "customers.csv").read_text().splitlines()[0] == ",".join(CUSTOMER_COLUMNS)
    for dataset, name, columns in (
        ("crm/orders", "orders.csv", ORDER_COLUMNS),
        ("survey/responses", "responses.csv", SURVEY_COLUMNS),
    ):
        folders = _day_folders(root / dataset)
        assert folders
        for folder in folders:
            assert DAY_FOLDER.match(folder.name)
            assert [p.name for p in folder.iterdir()] == [name]
            assert (folder / name).read_text().splitlines()[0] == ",".join(columns)
    expected = pa.schema(
        [
            ("event_id", pa.string()),
            ("customer_id", pa.string()),
            ("event_ts", pa.timestamp("us", tz="UTC")),
            ("session_id", pa.string()),
            ("device_type", pa.string()),
            ("feature", pa.string()),
            ("duration_s", pa.float64()),
        ]
    )
    event_folders = _day_folders(root / "usage" / "events")
    assert len(event_folders) == SMALL["days"]
    for folder in event_folders:
        assert [p.name for p in folder.iterdir()] == ["events.parquet"]
        assert pq.read_schema(folder / "events.parquet").remove_metadata().equals(expected)
    assert tuple(expected.names) == EVENT_COLUMNS
    truth = small.root / "ground_truth"
    assert (truth / "personas.csv").read_text().splitlines()[0] == "customer_id,persona"
    assert (truth / "planted_errors.csv").read_text().splitlines()[0] == "source,date,id,rule"


def test_dates_and_summary(small):
    start = END - dt.timedelta(days=SMALL["days"] - 1)
    assert small.summary["date_range"] == {"start": start.isoformat(), "end": END.isoformat()}
    for frame in (small.orders, small.survey, small.events):
        assert frame["_date"].min() >= start.isoformat()
        assert frame["_date"].max() <= END.isoformat()
    assert small.summary["rows"] == {
        "customers": len(small.customers),
        "orders": len(small.orders),
        "survey_responses": len(small.survey),
        "usage_events": len(small.events),
    }
    counts = small.planted.groupby(["source", "rule"]).size()
    for source, rules in PLANTED_RULES.items():
        for rule in rules:
            assert small.summary["planted_errors"][source][rule] == counts.get((source, rule), 0) > 0
    assert small.summary["personas"] == small.personas["persona"].value_counts().to_dict()
    created = pd.to_datetime(small.customers["created_at"], utc=True, format="ISO8601")
    assert created.max() < pd.Timestamp(END + dt.timedelta(days=1), tz="UTC")
    assert created.min() >= pd.Timestamp(start - dt.timedelta(days=3 * 365 + 1), tz="UTC")
    assert (created < pd.Timestamp(start, tz="UTC")).mean() > 0.6


def test_customer_fields_are_plausible(small):
    c = small.customers
    assert c["customer_id"].str.fullmatch(r"C\d{6}").all()
    assert c["created_at"].str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").all()
    assert set(c["gender"]) <= {"female", "male", "other", ""}
    assert set(c["income_band"]) <= {"low", "lower_middle", "upper_middle", "high", ""}
    assert set(c["acquisition_channel"]) <= {
        "organic_search", "paid_search", "social", "referral", "email", "affiliate", "direct"
    }  # fmt: skip
    assert set(c["marketing_opt_in"]) == {"true", "false"}
    assert set(c["country"]) <= {"DE", "FR", "GB", "US", "NL", "ES", "IT", "PL", "SE"}
    assert (c[["full_name", "phone", "region", "city"]] != "").all().all()
    assert c["phone"].str.fullmatch(r"\+\d{1,2} \d{3} \d{7}").all()
    years = pd.to_numeric(c["birth_year"].replace("", None))
    assert years.isna().any() and years.dropna().between(1940, 2010).all()
    b2b = c["company_size"] != ""
    assert ((c["industry"] != "") == b2b).all()
    assert set(c.loc[b2b, "company_size"]) <= {"1-10", "11-50", "51-200", "201-1000", "1000+"}
    assert 0.03 < b2b.mean() < 0.2


def test_order_timestamp_formats_and_values(small):
    o = small.orders
    ordered_at = o["ordered_at"]
    zulu = ordered_at.str.endswith("Z")
    offset = ordered_at.str.contains(r"[+-]\d{2}:\d{2}$")
    naive = ordered_at.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
    assert (zulu | offset | naive).all()
    assert zulu.mean() > 0.5 and offset.mean() > 0.08 and naive.mean() > 0.03
    assert not ordered_at[offset].str.endswith("+00:00").any()
    assert o["amount"].str.fullmatch(r"-?\d+\.\d{2}").all()
    assert o["order_id"].str.fullmatch(r"O\d{8}").all()
    assert set(o["currency"]) <= {"EUR", "USD", "GBP"} and (o["currency"] == "EUR").mean() > 0.5
    status_share = o["status"].value_counts(normalize=True)
    assert status_share["completed"] > 0.8
    assert set(o["channel"]) <= {"web", "app", "store"}
    assert set(o["product_category"]) <= {"electronics", "fashion", "home", "beauty", "sports", "grocery", "books"}
    assert small.survey["response_id"].str.fullmatch(r"S\d{7}").all()


def test_valid_rows_inside_their_day_folder(small):
    for source, frame, key, ts in (
        ("orders", small.orders, "order_id", small.orders["ts"]),
        ("survey_responses", small.survey, "response_id", small.survey["ts"]),
        ("usage_events", small.events, "event_id", small.events["event_ts"]),
    ):
        bad = small.planted_ids(source, "timestamp_outside_partition")
        valid = ~frame[key].isin(bad)
        assert valid.sum() > 0
        assert not _outside_day(ts[valid], frame.loc[valid, "_date"]).any(), source
        assert _outside_day(ts[~valid], frame.loc[~valid, "_date"]).all(), source


# ----------------------------------------------------------------------------------------------------------------
# planted errors


def test_planted_errors_are_exactly_the_rule_breaking_rows(small):
    detected = small.detected_errors()
    per_row = detected.groupby(["source", "row"]).size()
    assert per_row.max() == 1, "a bad row breaks more than one rule"
    found = sorted(map(tuple, detected[["source", "date", "id", "rule"]].to_numpy().tolist()))
    planted = sorted(map(tuple, small.planted[["source", "date", "id", "rule"]].to_numpy().tolist()))
    assert found == planted
    assert set(small.planted["source"]) == set(PLANTED_RULES)
    for source, rules in PLANTED_RULES.items():
        assert set(small.planted.loc[small.planted["source"] == source, "rule"]) == set(rules)


def test_planted_errors_match_the_data(small):
    o, c = small.orders, small.customers
    negative = small.planted_ids("orders", "negative_amount")
    assert (o.loc[o["order_id"].isin(negative), "amount_f"] < 0).sum() == len(negative)
    assert (o.loc[~o["order_id"].isin(negative), "amount_f"] >= 0).all()

    unknown = o[o["order_id"].isin(small.planted_ids("orders", "unknown_customer"))]
    assert len(unknown) == len(small.planted_ids("orders", "unknown_customer"))
    assert not unknown["customer_id"].isin(set(c["customer_id"])).any()

    duplicates = small.planted[(small.planted["source"] == "orders") & (small.planted["rule"] == "duplicate_key")]
    same_day = later_day = 0
    for day, order_id in zip(duplicates["date"], duplicates["id"], strict=True):
        rows = o[o["order_id"] == order_id]  # in folder order, then line order
        assert len(rows) == 2
        original, copy = rows.iloc[0], rows.iloc[1]
        assert copy["_date"] == day >= original["_date"]
        if day == original["_date"]:
            assert copy["_line"] > original["_line"]
        same_day += original["_date"] == day
        later_day += original["_date"] < day
        # the copy breaks only the key rule
        assert copy["customer_id"] == original["customer_id"] and copy["amount_f"] >= 0
    assert same_day > 0 and later_day > 0

    dup_customers = small.planted_ids("customers", "duplicate_key")
    assert c["customer_id"].value_counts().loc[list(dup_customers)].eq(2).all()
    assert c["customer_id"].value_counts().drop(list(dup_customers)).eq(1).all()

    junk = small.planted_ids("customers", "malformed_email")
    assert not c.loc[c["customer_id"].isin(junk), "email"].str.match(EMAIL).any()
    assert c.loc[~c["customer_id"].isin(junk), "email"].str.match(EMAIL).all()
    for frame in (o, small.survey, small.events):
        assert not frame["customer_id"].isin(junk).any()
    assert not small.personas["customer_id"].isin(junk).any()

    bad_nps = small.survey[small.survey["response_id"].isin(small.planted_ids("survey_responses"))]
    assert len(bad_nps) > 0 and not bad_nps["nps_i"].between(0, 10).any()
    bad_devices = small.events[small.events["event_id"].isin(small.planted_ids("usage_events", "unknown_device_type"))]
    assert len(bad_devices) > 0 and not bad_devices["device_type"].isin(DEVICES).any()


def test_planted_error_shares_are_small(small):
    rows = small.summary["rows"]
    planted = small.summary["planted_errors"]
    assert sum(planted["orders"].values()) / rows["orders"] < 0.1
    assert sum(planted["usage_events"].values()) / rows["usage_events"] < 0.01
    assert sum(planted["customers"].values()) / rows["customers"] < 0.03


# ----------------------------------------------------------------------------------------------------------------
# personas and realism


def test_personas_cover_the_valid_customers(small):
    p = small.personas
    assert 6 <= p["persona"].nunique() <= 7
    assert set(p["persona"]) <= {persona.name for persona in PERSONAS}
    assert p["customer_id"].is_unique and p["customer_id"].is_monotonic_increasing
    assert len(p) == SMALL["customers"]
    junk = small.planted_ids("customers", "malformed_email")
    assert set(p["customer_id"]) == set(small.customers["customer_id"]) - junk


def test_order_counts_are_skewed(small):
    _assert_order_skew(small.orders, small.planted)


def _assert_order_skew(orders: pd.DataFrame, planted: pd.DataFrame) -> None:
    valid = orders[~orders["order_id"].isin(set(planted.loc[planted["source"] == "orders", "id"]))]
    completed = valid.assign(done=valid["status"] == "completed").groupby("customer_id")["done"].sum()
    assert (completed <= 2).mean() > 0.5
    assert completed.max() >= 5 * max(1, completed.median())


def test_personas_behave_differently(small):
    p = small.personas.set_index("customer_id")["persona"]
    planted = set(small.planted["id"])
    o = small.orders[~small.orders["order_id"].isin(planted)].assign(persona=lambda f: f["customer_id"].map(p))
    e = small.events[~small.events["event_id"].isin(planted)].assign(persona=lambda f: f["customer_id"].map(p))
    sizes = p.value_counts()

    orders_per_customer = o.groupby("persona").size().reindex(sizes.index, fill_value=0) / sizes
    assert orders_per_customer["high_value_loyalists"] > 3 * orders_per_customer.drop("high_value_loyalists").max()
    amount = o.groupby("persona")["amount_f"].median()
    assert amount["high_value_loyalists"] > 3 * amount["discount_occasional_buyers"]

    device = pd.crosstab(e["persona"], e["device_type"], normalize="index")
    assert device.loc["mobile_power_users", "mobile"] > 0.75
    assert device.loc["desktop_weekend_browsers", "desktop"] > 0.75
    assert device.loc["tablet_night_readers", "tablet"] > 0.75
    weekend = e.assign(w=e["event_ts"].dt.day_of_week >= 5).groupby("persona")["w"].mean()
    assert weekend["desktop_weekend_browsers"] > 0.6 > weekend.drop("desktop_weekend_browsers").max()
    hour = e["event_ts"].dt.hour
    night = e.assign(n=(hour >= 22) | (hour < 3)).groupby("persona")["n"].mean()
    assert night["tablet_night_readers"] > 0.5 > night.drop("tablet_night_readers").max()
    sessions = e.groupby("persona")["session_id"].nunique() / sizes
    established = sessions.drop(["mobile_power_users", "recent_signups"])  # sign-ups explore intensely, but briefly
    assert sessions["mobile_power_users"] > 1.5 * established.max()

    # lapsed customers stop early; recent sign-ups are recent and buy at most once
    start = END - dt.timedelta(days=SMALL["days"] - 1)
    late = (start + dt.timedelta(days=int(SMALL["days"] * 0.5))).isoformat()
    assert not (o.loc[o["persona"] == "lapsed_customers", "_date"] >= late).any()
    assert not (e.loc[e["persona"] == "lapsed_customers", "_date"] >= late).any()
    recent = p[p == "recent_signups"].index
    created = pd.to_datetime(small.customers.set_index("customer_id").loc[recent, "created_at"], utc=True)
    assert (created >= pd.Timestamp(END - dt.timedelta(days=45), tz="UTC")).all()
    assert o[o["persona"] == "recent_signups"].groupby("customer_id").size().max() <= 1

    survey = small.survey[~small.survey["response_id"].isin(planted)].assign(persona=lambda f: f["customer_id"].map(p))
    means = survey.groupby("persona")[["nps_i", "price_sensitivity_i"]].mean()
    assert means.loc["high_value_loyalists", "nps_i"] > 8.5 > 6 > means.loc["discount_occasional_buyers", "nps_i"]
    assert means.loc["discount_occasional_buyers", "price_sensitivity_i"] >= 4
    assert means.loc["high_value_loyalists", "price_sensitivity_i"] <= 2


def test_orders_after_creation_and_sessions_consistent(small):
    created = pd.to_datetime(small.customers.drop_duplicates("customer_id").set_index("customer_id")["created_at"],
                             utc=True)  # fmt: skip
    o = small.orders[small.orders["customer_id"].isin(created.index)]
    o = o[~o["order_id"].isin(small.planted_ids("orders", "timestamp_outside_partition"))]
    assert (o["ts"] > o["customer_id"].map(created)).all()

    e = small.events[~small.events["event_id"].isin(small.planted_ids("usage_events"))]
    per_session = e.groupby("session_id").agg(
        customers=("customer_id", "nunique"),
        devices=("device_type", "nunique"),
        events=("event_id", "size"),
        span=("event_ts", lambda s: s.max() - s.min()),
    )
    assert (per_session["customers"] == 1).all() and (per_session["devices"] == 1).all()
    assert per_session["events"].mean() > 2
    assert per_session["span"].max() < pd.Timedelta(hours=6)
    assert (e["duration_s"] >= 0).all()


def test_some_customers_have_no_activity(small):
    customers = set(small.personas["customer_id"])
    for frame in (small.orders, small.survey, small.events):
        assert len(customers - set(frame["customer_id"])) > 0.05 * len(customers)
    respondents = small.survey["customer_id"].nunique() / len(customers)
    assert 0.15 < respondents < 0.4
    assert small.survey["customer_id"].value_counts().max() > 1


# ----------------------------------------------------------------------------------------------------------------
# default size


def test_default_size_is_small_fast_and_realistic(tmp_path):
    started = time.perf_counter()
    summary = generate_landing_zone(tmp_path, end_date=END)
    elapsed = time.perf_counter() - started
    total = sum(p.stat().st_size for p in tmp_path.rglob("*") if p.is_file())
    assert total < 8_000_000
    assert elapsed < 60
    assert summary["customers"] == 2000 and summary["days"] == 456
    assert 150_000 <= summary["rows"]["usage_events"] <= 250_000
    assert len(summary["personas"]) == 7

    orders = _read_daily_csv(tmp_path / "landing" / "crm" / "orders", "orders.csv")
    planted = pd.read_csv(tmp_path / "ground_truth" / "planted_errors.csv", dtype=str, keep_default_na=False)
    _assert_order_skew(orders, planted)
    personas = pd.read_csv(tmp_path / "ground_truth" / "personas.csv").set_index("customer_id")["persona"]
    valid = orders[~orders["order_id"].isin(set(planted["id"]))]
    last = (
        pd.to_datetime(valid["ordered_at"], utc=True, format="ISO8601")
        .groupby(valid["customer_id"].map(personas))
        .max()
    )
    cutoff = pd.Timestamp(END - dt.timedelta(days=170), tz="UTC")
    assert last["lapsed_customers"] < cutoff < last.drop("lapsed_customers").min()
    month = pd.to_datetime(valid["_date"]).dt.month.value_counts()
    assert month[12] > 1.5 * month[6]
