"""`generate_landing_zone`: draw every source from one seeded generator, then write the landing zone and its truth."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from segmentation_pipeline.sample_data.customers import draw_customers
from segmentation_pipeline.sample_data.orders import draw_orders
from segmentation_pipeline.sample_data.personas import PERSONA_NAMES
from segmentation_pipeline.sample_data.planted_errors import planted_counts, sorted_planted_errors
from segmentation_pipeline.sample_data.surveys import draw_survey_responses
from segmentation_pipeline.sample_data.usage import draw_usage_events
from segmentation_pipeline.sample_data.window import LandingWindow
from segmentation_pipeline.sample_data.writer import (
    clear_daily_folders,
    write_customers,
    write_ground_truth,
    write_orders,
    write_survey_responses,
    write_usage_events,
)


def generate_landing_zone(
    out_dir: Path | str,
    customers: int = 2000,
    days: int = 456,
    seed: int = 42,
    end_date: dt.date | None = None,
) -> dict:
    """Write a seeded, realistic landing zone (and its ground truth) under `out_dir`.

    Landing days are `end_date - days + 1 .. end_date`; `end_date` defaults to yesterday (UTC). Same arguments give
    byte-identical files. Returns a summary: rows written per source (bad rows included), planted bad rows per
    (source, rule), the date range and the persona counts.
    """
    if customers < 1:
        raise ValueError("customers must be >= 1")
    if days < 1:
        raise ValueError("days must be >= 1")
    if end_date is None:
        end_date = dt.datetime.now(dt.UTC).date() - dt.timedelta(days=1)
    window = LandingWindow.ending(end_date, days)
    rng = np.random.default_rng(seed)  # drawn in this order: customers, orders, survey responses, usage events
    crm = draw_customers(rng, window, customers)
    orders = draw_orders(rng, window, crm.active)
    responses = draw_survey_responses(rng, window, crm.active)
    events = draw_usage_events(rng, window, crm.active)

    out = Path(out_dir)
    landing = out / "landing"
    clear_daily_folders(landing)
    write_customers(landing, crm.file_rows)
    partitions = {
        "orders": write_orders(landing, orders, window.first_day),
        "survey_responses": write_survey_responses(landing, responses, window.first_day),
        "usage_events": write_usage_events(landing, events, window.first_day),
    }
    planted = sorted_planted_errors(
        [crm.planted_errors, orders.planted_errors, responses.planted_errors, events.planted_errors]
    )
    write_ground_truth(out / "ground_truth", crm.personas, planted)
    return {
        "out_dir": str(out),
        "seed": seed,
        "customers": customers,
        "days": days,
        "date_range": {"start": window.first_day.isoformat(), "end": end_date.isoformat()},
        "rows": {
            "customers": len(crm.file_rows),
            "orders": len(orders.rows),
            "survey_responses": len(responses.rows),
            "usage_events": len(events.rows),
        },
        "partitions": partitions,
        "planted_errors": planted_counts(planted),
        "personas": {name: int((crm.personas["persona"] == name).sum()) for name in PERSONA_NAMES},
    }
