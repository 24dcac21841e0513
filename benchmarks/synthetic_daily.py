"""One day of each daily synthetic source: orders, survey responses and usage events.

Each day draws from its own stream (`stream_rng(seed, stream, day_index)`), so a day's table depends only on the
parameters and the population, not on the days generated before it.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
from synthetic_arrays import (
    DAY_US,
    EPOCH,
    EVENTS_STREAM,
    ORDERS_STREAM,
    SURVEYS_STREAM,
    day_start_us,
    draw_codes,
    id_array,
    label_array,
    stream_rng,
    timestamp_array,
)
from synthetic_population import FEATURE_P, Population
from synthetic_scale import Scale

from segmentation_pipeline.core.ingest.contract import DEVICE_TYPES, ORDER_STATUSES, USAGE_EVENTS
from segmentation_pipeline.sample_data.vocabulary import (
    CATEGORY_PRICE_FACTORS,
    CONTACT_CHANNELS,
    ORDER_CHANNELS,
    ORDER_STATUS_SHARES,
    PRIMARY_NEEDS,
    PRODUCT_CATEGORIES,
    PRODUCT_FEATURES,
)

# Shares of the sample data's vocabularies (segmentation_pipeline.sample_data.vocabulary), in their order.
CATEGORY_P = (0.18, 0.22, 0.15, 0.12, 0.1, 0.13, 0.1)
CHANNEL_P = (0.5, 0.38, 0.12)
CONTACT_P = (0.4, 0.15, 0.1, 0.25, 0.1)
CURRENCIES = ("EUR", "USD", "GBP")
CURRENCY_P = (0.8, 0.12, 0.08)
# Share of a day's orders per UTC hour (a daytime curve with an evening bump).
ORDER_HOUR_W = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4.5, 5, 5, 5, 4.8, 4.6, 4.6, 5, 5.5, 6, 6, 5, 3.5, 2])
WEEKDAY_ORDERS = (1.0, 0.97, 0.97, 1.0, 1.05, 1.12, 0.92)  # Monday..Sunday
WEEKDAY_EVENTS = (0.95, 0.93, 0.93, 0.95, 1.0, 1.17, 1.12)


def orders_of_day(
    scale: Scale, population: Population, day: date, day_index: int, count: int, first_id: int
) -> tuple[pa.Table, np.ndarray]:
    """The day's orders and the customer index of each (to tally orders per buyer)."""
    rng = stream_rng(scale.seed, ORDERS_STREAM, day_index)
    who = population.draw(rng, population.order_cdf, day, day_index, count)
    n = len(who)
    seconds = (draw_codes(rng, ORDER_HOUR_W, n) + rng.random(n)) * 3600
    ordered_us = np.sort(day_start_us(day) + (seconds * 1e6).astype(np.int64))
    category = draw_codes(rng, CATEGORY_P, n)
    amount = np.round(np.exp(population.amount_mu[who] + rng.normal(0, 0.6, n)) * CATEGORY_PRICE_FACTORS[category], 2)
    table = pa.table(
        {
            "order_id": id_array("O", np.arange(first_id, first_id + n), 9),
            "customer_id": population.ids.take(pa.array(who)),
            "ordered_at": timestamp_array(ordered_us),
            "amount": pa.array(np.maximum(amount, 0.01)),
            "currency": label_array(CURRENCIES, draw_codes(rng, CURRENCY_P, n)),
            "status": label_array(ORDER_STATUSES, draw_codes(rng, ORDER_STATUS_SHARES, n)),
            "channel": label_array(ORDER_CHANNELS, draw_codes(rng, CHANNEL_P, n)),
            "product_category": label_array(PRODUCT_CATEGORIES, category, rng.random(n) < 0.01),
        }
    )
    return table, who


def surveys_of_day(
    scale: Scale, population: Population, day: date, day_index: int, count: int, first_id: int
) -> pa.Table:
    """The day's survey responses, from customers drawn uniformly among those created."""
    rng = stream_rng(scale.seed, SURVEYS_STREAM, day_index)
    eligible = population.eligible(day)
    who = rng.integers(0, eligible, count) if eligible else np.zeros(0, np.int64)
    n = len(who)
    submitted_us = np.sort(day_start_us(day) + (rng.random(n) * DAY_US).astype(np.int64))
    nps = np.clip(np.rint(population.nps_mean[who] + rng.normal(0, 1.2, n)), 0, 10).astype(np.int64)
    csat = np.clip(np.rint(1 + nps / 2.5 + rng.normal(0, 0.7, n)), 1, 5).astype(np.int64)
    return pa.table(
        {
            "response_id": id_array("R", np.arange(first_id, first_id + n), 8),
            "customer_id": population.ids.take(pa.array(who)),
            "submitted_at": timestamp_array(submitted_us),
            "nps": pa.array(nps, mask=rng.random(n) < 0.03),
            "csat": pa.array(csat, mask=rng.random(n) < 0.05),
            "price_sensitivity": pa.array(rng.integers(1, 6, n), mask=rng.random(n) < 0.05),
            "primary_need": label_array(PRIMARY_NEEDS, rng.integers(0, len(PRIMARY_NEEDS), n), rng.random(n) < 0.1),
            "preferred_contact_channel": label_array(
                CONTACT_CHANNELS, draw_codes(rng, CONTACT_P, n), rng.random(n) < 0.1
            ),
        }
    )


def events_of_day(scale: Scale, population: Population, day: date, day_index: int, count: int) -> pa.Table:
    """The day's `count` usage events, in sessions of customers weighted by their (weekday or weekend) usage."""
    rng = stream_rng(scale.seed, EVENTS_STREAM, day_index)
    sessions = _draw_sessions(rng, population, day, day_index, count)
    if sessions is None:
        return USAGE_EVENTS.arrow_schema().empty_table()
    who, lengths = sessions
    n_sessions = len(who)
    session = np.repeat(np.arange(n_sessions), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    keeps_preferred = rng.random(n_sessions) < 0.85
    other_device = rng.integers(0, len(DEVICE_TYPES), n_sessions)
    device = np.where(keeps_preferred, population.device[who], other_device).astype(np.int8)
    start_s = ((population.peak_hour[who] + rng.normal(0, 2.0, n_sessions)) % 24) * 3600
    gaps = rng.exponential(40.0, count)
    gaps[starts] = 0
    elapsed = np.cumsum(gaps)
    offset = elapsed - elapsed[starts][session]
    seconds = np.minimum(start_s[session] + offset, 86_399.999_999)
    event_us = day_start_us(day) + (seconds * 1e6).astype(np.int64)

    order = np.argsort(event_us, kind="stable")  # a log is written in time order
    session, event_us = session[order], event_us[order]
    customer = who[session]
    favourite = rng.random(count) < 0.45
    feature = np.where(favourite, population.favourite_feature[customer], draw_codes(rng, FEATURE_P, count))
    duration = np.round(rng.lognormal(np.log(25.0), 1.0, count), 3)
    return pa.table(
        {
            "customer_id": population.ids.take(pa.array(customer)),
            "event_ts": timestamp_array(event_us),
            "session_id": id_array(f"S{(day - EPOCH).days:05d}", session, 7),
            "device_type": label_array(DEVICE_TYPES, device[session]),
            "feature": label_array(PRODUCT_FEATURES, feature, rng.random(count) < 0.02),
            "duration_s": pa.array(duration, mask=rng.random(count) < 0.01),
            "event_id": id_array(f"E{(day - EPOCH).days:05d}", np.arange(count), 8),
        }
    )


def _draw_sessions(
    rng: np.random.Generator, population: Population, day: date, day_index: int, count: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Customers and lengths of sessions that hold exactly `count` events (the last one cut short); None if nobody
    can use the product that day."""
    cdf = population.usage_cdf_weekend if day.weekday() >= 5 else population.usage_cdf_weekday
    who_parts, length_parts, total = [], [], 0
    while total < count:
        who = population.draw(rng, cdf, day, day_index, int((count - total) / 4.5) + 16)
        if len(who) == 0:
            break
        lengths = 1 + rng.poisson(population.events_per_session[who] - 1)
        who_parts.append(who)
        length_parts.append(lengths)
        total += int(lengths.sum())
    if not who_parts:
        return None
    who, lengths = np.concatenate(who_parts), np.concatenate(length_parts)
    ends = np.cumsum(lengths)
    sessions = int(np.searchsorted(ends, count, side="left")) + 1
    who, lengths = who[:sessions], lengths[:sessions].copy()
    lengths[-1] -= int(ends[sessions - 1]) - count
    return who, lengths
