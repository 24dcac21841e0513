"""Builders shared by the row-check tests: one landing CSV per source read back typed, a check context, CSV rows
of each source, and the checks every outcome must pass."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from segmentation_pipeline.core.ingest.landing import read_landing
from segmentation_pipeline.core.validate.row_checks import CheckContext

DAY = date(2026, 3, 1)
NOW = pd.Timestamp("2026-03-01T22:00:00Z")
RUN_ID = "run-42"
KNOWN = pd.Index(["c1", "c2"], dtype="str")

ORDERS_HEADER = "order_id,customer_id,ordered_at,amount,status"
SURVEY_HEADER = "response_id,customer_id,submitted_at,nps,csat,price_sensitivity"
USAGE_HEADER = "customer_id,event_ts,session_id,device_type,duration_s"
USAGE_WITH_IDS_HEADER = f"event_id,{USAGE_HEADER}"
CUSTOMERS_HEADER = "customer_id,created_at,email,full_name,phone"


def land(tmp_path: Path, source, header: str, rows: list[str], name: str = "part-01.csv") -> pd.DataFrame:
    """Write one CSV landing file for the source (day folder for daily sources) and read it back typed."""
    if source.daily:
        path = tmp_path / source.landing_path / f"date={DAY.isoformat()}" / name
    else:
        path = tmp_path / f"{source.landing_path}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return read_landing(tmp_path, source, DAY if source.daily else None).frame


def land_day(landing: Path, source, day: date, header: str, rows: list[str], name: str = "part-01.csv") -> None:
    """Write one CSV landing file into the source's folder of `day`."""
    folder = landing / source.landing_path / f"date={day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")


def context(**overrides) -> CheckContext:
    values = {"partition_day": DAY, "now": NOW, "known_customers": KNOWN}
    values.update(overrides)
    return CheckContext(**values)


def reasons_by(outcome, key: str) -> dict[str, str]:
    return dict(zip(outcome.quarantine[key].tolist(), outcome.quarantine["reason"].tolist(), strict=True))


def check_partition(frame: pd.DataFrame, outcome) -> None:
    """Every input row is in exactly one of clean and quarantine, identified by file and line."""
    rows = lambda data: list(zip(data["_source_file"], data["_source_row"], strict=True))  # noqa: E731
    clean, quarantined, original = rows(outcome.clean), rows(outcome.quarantine), rows(frame)
    assert len(clean) + len(quarantined) == len(frame)
    assert not set(clean) & set(quarantined)
    assert sorted(clean + quarantined) == sorted(original)
    assert len(set(original)) == len(original)


def order_row(order_id="o1", customer_id="c1", ordered_at="2026-03-01T10:00:00Z", amount="10", status="completed"):
    return f"{order_id},{customer_id},{ordered_at},{amount},{status}"


def survey_row(response_id="r1", customer_id="c1", submitted_at="2026-03-01T09:00:00Z", nps="8", csat="4", price="3"):
    return f"{response_id},{customer_id},{submitted_at},{nps},{csat},{price}"


def usage_row(customer_id="c1", event_ts="2026-03-01T08:00:00Z", session_id="s1", device_type="desktop", duration="30"):
    return f"{customer_id},{event_ts},{session_id},{device_type},{duration}"


def usage_event_row(event_id="e1", **fields):
    """A usage event with an `event_id` (for `USAGE_WITH_IDS_HEADER`)."""
    return f"{event_id},{usage_row(**fields)}"


def customer_row(
    customer_id="c1", created_at="2025-06-01T12:00:00Z", email="ann@example.com", name="Ann Lee", phone="+4912345"
):
    return f"{customer_id},{created_at},{email},{name},{phone}"


def customer_context() -> CheckContext:
    return CheckContext(partition_day=None, now=NOW)
