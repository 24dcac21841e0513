"""Reading a generated sample back as raw strings, and the contract's rules applied to it independently.

The tests check the generator against this second, deliberately simple reading of the same files.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from segmentation_pipeline.sample_data import EVENT_COLUMNS, ORDER_COLUMNS, SURVEY_COLUMNS, generate_landing_zone

END = dt.date(2025, 3, 10)
SMALL = {"customers": 300, "days": 40, "seed": 7, "end_date": END}
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
DEVICES = {"desktop", "mobile", "tablet"}
DAY_FOLDER = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")


def generate_into(root: Path, **kwargs) -> Path:
    generate_landing_zone(root, **kwargs)
    return root


def all_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def day_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir())


def read_daily_csv(folder: Path, name: str) -> pd.DataFrame:
    """All day files of a CSV source as raw strings, in folder order then line order, with their folder date."""
    frames = []
    for day_dir in day_folders(folder):
        frame = pd.read_csv(day_dir / name, dtype=str, keep_default_na=False)
        frame["_date"] = DAY_FOLDER.match(day_dir.name).group(1)
        frame["_line"] = np.arange(len(frame))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def read_events(folder: Path) -> pd.DataFrame:
    frames = []
    for day_dir in day_folders(folder):
        frame = pq.read_table(day_dir / "events.parquet").to_pandas()
        frame["_date"] = DAY_FOLDER.match(day_dir.name).group(1)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def outside_day(timestamps: pd.Series, dates: pd.Series) -> pd.Series:
    start = pd.to_datetime(dates).dt.tz_localize("UTC")
    return (timestamps < start) | (timestamps >= start + pd.Timedelta(days=1))


def assert_order_skew(orders: pd.DataFrame, planted: pd.DataFrame) -> None:
    valid = orders[~orders["order_id"].isin(set(planted.loc[planted["source"] == "orders", "id"]))]
    completed = valid.assign(done=valid["status"] == "completed").groupby("customer_id")["done"].sum()
    assert (completed <= 2).mean() > 0.5
    assert completed.max() >= 5 * max(1, completed.median())


class Landing:
    def __init__(self, root: Path, summary: dict):
        self.root = root
        self.summary = summary
        landing = root / "landing"
        self.customers = pd.read_csv(landing / "crm" / "customers.csv", dtype=str, keep_default_na=False)
        self.orders = read_daily_csv(landing / "crm" / "orders", "orders.csv")
        self.survey = read_daily_csv(landing / "survey" / "responses", "responses.csv")
        self.events = read_events(landing / "usage" / "events")
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
        found = [
            _rule_hits("customers", self.customers, "customer_id", None, self._customer_rules()),
            _rule_hits("orders", self.orders, "order_id", "_date", self._order_rules(known)),
            _rule_hits("survey_responses", self.survey, "response_id", "_date", self._survey_rules(known)),
            _rule_hits("usage_events", self.events, "event_id", "_date", self._event_rules(known)),
        ]
        return pd.concat([hit for hits in found for hit in hits], ignore_index=True)

    def _customer_rules(self) -> dict[str, pd.Series]:
        c = self.customers
        created = pd.to_datetime(c["created_at"], utc=True, format="ISO8601")
        return {
            "missing_required_value": (
                c[["customer_id", "created_at", "email", "full_name", "country"]] == ""
            ).any(axis=1),
            "duplicate_key": c["customer_id"].duplicated(keep="first"),
            "malformed_email": ~c["email"].str.match(EMAIL),
            "timestamp_in_future": created >= pd.Timestamp(END + dt.timedelta(days=1), tz="UTC"),
        }  # fmt: skip

    def _order_rules(self, known: set[str]) -> dict[str, pd.Series]:
        o = self.orders
        return {
            "missing_required_value": (o[list(ORDER_COLUMNS)] == "").any(axis=1),
            "duplicate_key": o["order_id"].duplicated(keep="first"),
            "unknown_customer": ~o["customer_id"].isin(known),
            "negative_amount": o["amount_f"] < 0,
            "timestamp_outside_partition": outside_day(o["ts"], o["_date"]),
            "unknown_status": ~o["status"].isin(["completed", "cancelled", "refunded"]),
        }

    def _survey_rules(self, known: set[str]) -> dict[str, pd.Series]:
        s = self.survey
        return {
            "missing_required_value": (s[list(SURVEY_COLUMNS)] == "").any(axis=1),
            "duplicate_key": s["response_id"].duplicated(keep="first"),
            "unknown_customer": ~s["customer_id"].isin(known),
            "timestamp_outside_partition": outside_day(s["ts"], s["_date"]),
            "nps_out_of_range": ~s["nps_i"].between(0, 10),
            "csat_out_of_range": ~s["csat_i"].between(1, 5),
            "price_sensitivity_out_of_range": ~s["price_sensitivity_i"].between(1, 5),
        }

    def _event_rules(self, known: set[str]) -> dict[str, pd.Series]:
        e = self.events
        return {
            "missing_required_value": e[list(EVENT_COLUMNS)].isna().any(axis=1)
            | (e[["event_id", "customer_id", "session_id", "device_type", "feature"]] == "").any(axis=1),
            "duplicate_key": e["event_id"].duplicated(keep="first"),
            "unknown_customer": ~e["customer_id"].isin(known),
            "timestamp_outside_partition": outside_day(e["event_ts"], e["_date"]),
            "unknown_device_type": ~e["device_type"].isin(DEVICES),
            "negative_duration": e["duration_s"] < 0,
        }


def _rule_hits(
    source: str, frame: pd.DataFrame, id_column: str, date_column: str | None, rules: dict[str, pd.Series]
) -> list[pd.DataFrame]:
    """One frame per rule with the rows of `frame` that break it."""
    flags = pd.DataFrame(rules, index=frame.index).fillna(False).astype(bool)
    found = []
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
    return found
