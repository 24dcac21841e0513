"""CRM orders (landing/crm/orders/date=*/orders.csv) with their planted bad rows.

Orders follow each persona's rate, amount, channel and category; timestamps are written in three formats (UTC with
`Z`, a local offset, naive UTC) as exports from different shop systems would be.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from segmentation_pipeline.core.ingest.contract import ORDER_STATUSES
from segmentation_pipeline.sample_data.customers import ActiveCustomers
from segmentation_pipeline.sample_data.draws import (
    categorical_by_group,
    days_in_interval,
    iso_seconds,
    object_array,
    prefixed_ids,
    seconds_of_day,
    take_rows,
    zero_padded,
)
from segmentation_pipeline.sample_data.files import DailyRows
from segmentation_pipeline.sample_data.personas import PERSONAS, RECENT_SIGNUPS, persona_values
from segmentation_pipeline.sample_data.planted_errors import planted_count, planted_rows
from segmentation_pipeline.sample_data.vocabulary import (
    CATEGORY_PRICE_FACTORS,
    ORDER_CHANNELS,
    ORDER_STATUS_SHARES,
    PRODUCT_CATEGORIES,
)
from segmentation_pipeline.sample_data.window import SECONDS_PER_DAY, LandingWindow

ORDER_WEEKDAY_WEIGHTS = np.array([1.05, 1.0, 1.0, 1.0, 0.95, 0.9, 1.15])  # Monday..Sunday, on top of the persona's
RECENT_SIGNUP_BUYER_SHARE = 0.55  # recent sign-ups order once or not at all
UNKNOWN_CUSTOMER_CHANNEL_SHARES = (0.6, 0.3, 0.1)
ZULU, LOCAL_OFFSET, NAIVE = range(3)  # how `ordered_at` is written
TIMESTAMP_FORMAT_SHARES = (0.7, 0.2, 0.1)  # of ZULU, LOCAL_OFFSET, NAIVE
SUMMER_MONTHS = np.arange(4, 11)  # April..October: daylight saving time, near enough for offsets


@dataclass(frozen=True)
class _OrderLines:
    """Orders as parallel arrays, before ids, planted errors and timestamp formatting."""

    day: np.ndarray
    second: np.ndarray
    category: np.ndarray
    amount: np.ndarray
    channel: np.ndarray
    customer_id: np.ndarray
    currency: np.ndarray
    country: np.ndarray
    is_unknown_customer: np.ndarray

    def followed_by(self, other: _OrderLines) -> _OrderLines:
        return _OrderLines(*(np.concatenate([getattr(self, f.name), getattr(other, f.name)]) for f in fields(self)))


@dataclass(frozen=True)
class _PlantedOrders:
    """Indices (into the time-ordered orders) of the distinct known-customer orders that get a planted error."""

    negative_amount: np.ndarray
    outside_partition: np.ndarray
    same_day_copy: np.ndarray
    later_day_copy: np.ndarray


def draw_orders(rng: np.random.Generator, window: LandingWindow, customers: ActiveCustomers) -> DailyRows:
    """Orders in file order (by day, then time, planted copies at later lines) and their planted errors."""
    known = _known_customer_orders(rng, window, customers)
    unknown_count = planted_count("orders", "unknown_customer", known.day.size)
    lines = known.followed_by(_unknown_customer_orders(rng, window, unknown_count, customers.ids_issued))
    status = rng.choice(len(ORDER_STATUSES), lines.day.size, p=ORDER_STATUS_SHARES)
    time_order = np.argsort(lines.second, kind="stable")  # order ids follow time
    lines, status = take_rows(lines, time_order), status[time_order]
    order_id = prefixed_ids("O", np.arange(1, lines.day.size + 1), 8)

    planted = _choose_planted(rng, lines, window.days)
    amount = lines.amount.copy()
    amount[planted.negative_amount] = -np.maximum(amount[planted.negative_amount], 1.0)
    written_second = _outside_partition(rng, window, lines, planted.outside_partition)
    ordered_at = _ordered_at(rng, written_second, lines.country, lines.is_unknown_customer)
    frame = pd.DataFrame(
        {
            "order_id": order_id,
            "customer_id": lines.customer_id,
            "ordered_at": ordered_at,
            "amount": amount,
            "currency": lines.currency,
            "status": object_array(ORDER_STATUSES)[status],
            "channel": object_array(ORDER_CHANNELS)[lines.channel],
            "product_category": object_array(PRODUCT_CATEGORIES)[lines.category],
            "_day": lines.day,
            "_key": (lines.second - window.first_second).astype(float),  # seconds into the window: line order
        }
    )
    frame, redelivery_day = _with_duplicates(rng, window, frame, planted)
    errors = planted_rows(
        "orders",
        np.concatenate(
            [
                window.dates(lines.day[planted.same_day_copy]),
                window.dates(redelivery_day),
                window.dates(lines.day[lines.is_unknown_customer]),
                window.dates(lines.day[planted.negative_amount]),
                window.dates(lines.day[planted.outside_partition]),
            ]
        ),
        np.concatenate(
            [
                order_id[planted.same_day_copy],
                order_id[planted.later_day_copy],
                order_id[lines.is_unknown_customer],
                order_id[planted.negative_amount],
                order_id[planted.outside_partition],
            ]
        ),
        ["duplicate_key"] * (planted.same_day_copy.size + planted.later_day_copy.size)
        + ["unknown_customer"] * unknown_count
        + ["negative_amount"] * planted.negative_amount.size
        + ["timestamp_outside_partition"] * planted.outside_partition.size,
    )
    return DailyRows(rows=frame.drop(columns=["_day", "_key"]), day=frame["_day"].to_numpy(), planted_errors=errors)


def _known_customer_orders(rng: np.random.Generator, window: LandingWindow, customers: ActiveCustomers) -> _OrderLines:
    """Each customer's orders at a gamma-skewed multiple of the persona's rate, on the days they are active."""
    persona = customers.persona
    active_days = customers.last_active_day - customers.first_active_day + 1
    gamma_shape = persona_values("order_rate_gamma_shape")[persona]
    rate_multiplier = rng.gamma(gamma_shape, 1.0 / gamma_shape)
    order_count = rng.poisson(persona_values("orders_per_active_day")[persona] * active_days * rate_multiplier)
    recent = persona == RECENT_SIGNUPS
    order_count[recent] = (rng.random(recent.sum()) < RECENT_SIGNUP_BUYER_SHARE).astype(np.int64)

    customer = np.repeat(np.arange(customers.count), order_count)
    order_persona = persona[customer]
    day_weights = np.array(
        [
            window.season * ORDER_WEEKDAY_WEIGHTS[window.weekday] * np.array(behaviour.weekday_weights)[window.weekday]
            for behaviour in PERSONAS
        ]
    )
    first_day, last_day = customers.first_active_day[customer], customers.last_active_day[customer]
    day = days_in_interval(rng, day_weights, order_persona, first_day, last_day)
    second = window.day_start(day) + seconds_of_day(rng, order_persona, width_scale=1.3)
    second = window.after_creation(rng, second, day, customers.created_second[customer])

    category = categorical_by_group(rng, persona_values("category_shares"), order_persona)
    log_mean = persona_values("amount_log_mean")[order_persona]
    log_sd = persona_values("amount_log_sd")[order_persona]
    price = np.exp(log_mean + log_sd * rng.standard_normal(customer.size))
    amount = np.round(price * CATEGORY_PRICE_FACTORS[category], 2)
    channel = categorical_by_group(rng, persona_values("channel_shares"), order_persona)
    return _OrderLines(
        day=day,
        second=second,
        category=category,
        amount=amount,
        channel=channel,
        customer_id=customers.customer_id[customer],
        currency=customers.currency[customer],
        country=customers.country[customer],
        is_unknown_customer=np.zeros(customer.size, bool),
    )


def _unknown_customer_orders(
    rng: np.random.Generator, window: LandingWindow, count: int, ids_issued: int
) -> _OrderLines:
    """Planted orders of customer ids the CRM export lacks (numbers above every issued one)."""
    day = rng.integers(0, window.days, count)
    second = window.day_start(day) + rng.integers(0, SECONDS_PER_DAY, count)
    category = rng.integers(0, len(PRODUCT_CATEGORIES), count)
    amount = np.round(np.exp(3.9 + 0.5 * rng.standard_normal(count)) * CATEGORY_PRICE_FACTORS[category], 2)
    number = ids_issued + 1 + rng.choice(max(50_000, 10 * count), count, replace=False)
    channel = rng.choice(len(ORDER_CHANNELS), count, p=UNKNOWN_CUSTOMER_CHANNEL_SHARES)
    return _OrderLines(
        day=day,
        second=second,
        category=category,
        amount=amount,
        channel=channel,
        customer_id=prefixed_ids("C", number, 6),
        currency=np.full(count, "EUR", dtype=object),
        country=np.full(count, "DE", dtype=object),
        is_unknown_customer=np.ones(count, bool),
    )


def _choose_planted(rng: np.random.Generator, lines: _OrderLines, days: int) -> _PlantedOrders:
    """Distinct known-customer orders for each planted rule; re-deliveries need a later day to go to."""
    order_count = lines.day.size
    candidates = rng.permutation(np.flatnonzero(~lines.is_unknown_customer))
    negative_count = planted_count("orders", "negative_amount", order_count)
    outside_count = planted_count("orders", "timestamp_outside_partition", order_count) if days >= 2 else 0
    same_day_count = planted_count("orders", "duplicate_key_same_day", order_count)
    redeliverable = candidates[lines.day[candidates] < days - 1]
    later_day_count = planted_count("orders", "duplicate_key_later_day", order_count) if days >= 2 else 0
    negative, rest = candidates[:negative_count], candidates[negative_count:]
    outside, rest = rest[:outside_count], rest[outside_count:]
    same_day = rest[:same_day_count]
    later_day = np.setdiff1d(redeliverable, np.concatenate([negative, outside, same_day]), assume_unique=True)
    later_day = later_day[rng.permutation(later_day.size)[:later_day_count]]
    return _PlantedOrders(negative, outside, same_day, later_day)


def _outside_partition(
    rng: np.random.Generator, window: LandingWindow, lines: _OrderLines, outside: np.ndarray
) -> np.ndarray:
    """Order seconds as written: the planted ones moved half a day or more into a neighbouring UTC day."""
    shift = np.where(lines.day[outside] > 0, -1, 1)
    written = lines.second.copy()
    written[outside] = lines.second[outside] + shift * (
        SECONDS_PER_DAY // 2 + rng.integers(0, SECONDS_PER_DAY // 2, outside.size)
    )
    still_inside = (written[outside] - window.first_second) // SECONDS_PER_DAY == lines.day[outside]
    written[outside] = np.where(still_inside, written[outside] + shift * SECONDS_PER_DAY, written[outside])
    return written


def _ordered_at(
    rng: np.random.Generator, second: np.ndarray, country: np.ndarray, is_unknown_customer: np.ndarray
) -> np.ndarray:
    """`ordered_at` strings: UTC with Z, the customer's local time with its offset, or naive UTC."""
    timestamp_format = rng.choice(len(TIMESTAMP_FORMAT_SHARES), second.size, p=TIMESTAMP_FORMAT_SHARES)
    month = (second // SECONDS_PER_DAY).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12 + 1
    summer = np.isin(month, SUMMER_MONTHS)
    offset_minutes = np.select(
        [country == "US", country == "GB"],
        [np.where(summer, -240, -300), np.where(summer, 60, 0)],
        default=np.where(summer, 120, 60),
    )
    unknown_offset = np.where(rng.random(second.size) < 0.5, -300, 120)
    offset_minutes = np.where(is_unknown_customer, unknown_offset, offset_minutes)
    timestamp_format = np.where((timestamp_format == LOCAL_OFFSET) & (offset_minutes == 0), ZULU, timestamp_format)
    sign = np.where(offset_minutes < 0, "-", "+").astype(object)
    offset = np.abs(offset_minutes)
    offset_text = sign + zero_padded(offset // 60, 2) + ":" + zero_padded(offset % 60, 2)
    local_text = iso_seconds(second + offset_minutes * 60)
    utc_text = iso_seconds(second)
    return np.where(
        timestamp_format == ZULU,
        utc_text + "Z",
        np.where(timestamp_format == LOCAL_OFFSET, local_text + offset_text, utc_text),
    )


def _with_duplicates(
    rng: np.random.Generator, window: LandingWindow, frame: pd.DataFrame, planted: _PlantedOrders
) -> tuple[pd.DataFrame, np.ndarray]:
    """Orders in file order with the planted copies added, and the day each later-day copy is re-delivered on.

    A same-day copy is an exact copy at a random later line of the same file; a later-day re-delivery lands one to
    three days later with a timestamp inside that later day.
    """
    same_day = frame.iloc[planted.same_day_copy].copy()
    key = same_day["_key"].to_numpy()
    day_end_key = (same_day["_day"].to_numpy() + 1) * SECONDS_PER_DAY
    same_day["_key"] = key + 0.5 + rng.random(planted.same_day_copy.size) * (day_end_key - key)

    later_day = frame.iloc[planted.later_day_copy].copy()
    gap = rng.integers(1, 4, planted.later_day_copy.size)
    redelivery_day = np.minimum(later_day["_day"].to_numpy() + gap, window.days - 1)
    redelivered_second = window.day_start(redelivery_day) + rng.integers(
        0, SECONDS_PER_DAY, planted.later_day_copy.size
    )
    later_day["_day"] = redelivery_day
    later_day["_key"] = (redelivered_second - window.first_second).astype(float)
    later_day["ordered_at"] = iso_seconds(redelivered_second) + "Z"
    frame = pd.concat([frame, same_day, later_day], ignore_index=True)
    return frame.sort_values(["_day", "_key"], kind="stable", ignore_index=True), redelivery_day
