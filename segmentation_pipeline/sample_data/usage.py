"""Usage events (landing/usage/events/date=*/events.parquet) with their planted bad device types and timestamps.

Customers have sessions on their active days; a session has one device and a run of events separated by the time
spent on each event plus a pause, so sessions look like the logs of a real app.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from segmentation_pipeline.core.ingest.contract import DEVICE_TYPES, TIMESTAMP
from segmentation_pipeline.sample_data.customers import ActiveCustomers
from segmentation_pipeline.sample_data.draws import (
    categorical_by_group,
    days_in_interval,
    object_array,
    prefixed_ids,
    seconds_of_day,
    take_rows,
)
from segmentation_pipeline.sample_data.files import EVENT_SCHEMA, DailyRows
from segmentation_pipeline.sample_data.personas import PERSONAS, persona_values
from segmentation_pipeline.sample_data.planted_errors import UNKNOWN_DEVICE_TYPES, planted_count, planted_rows
from segmentation_pipeline.sample_data.vocabulary import PRODUCT_FEATURES
from segmentation_pipeline.sample_data.window import SECONDS_PER_DAY, LandingWindow

_MICROSECONDS = 1_000_000


@dataclass(frozen=True)
class _Sessions:
    """One entry per session, as parallel arrays."""

    customer: np.ndarray  # index into ActiveCustomers
    persona: np.ndarray
    start_second: np.ndarray
    device: np.ndarray  # index into DEVICE_TYPES
    event_count: np.ndarray


@dataclass(frozen=True)
class _Events:
    """One entry per event, as parallel arrays."""

    session: np.ndarray  # index into _Sessions
    duration_ms: np.ndarray
    microsecond: np.ndarray  # epoch microseconds
    feature: np.ndarray  # index into PRODUCT_FEATURES


def draw_usage_events(rng: np.random.Generator, window: LandingWindow, customers: ActiveCustomers) -> DailyRows:
    """Events in time order as one Arrow table, and their planted bad device types and timestamps."""
    sessions = _sessions(rng, window, customers)
    events = _events(rng, window, sessions)
    events = take_rows(events, np.argsort(events.microsecond, kind="stable"))  # a log is written in time order
    event_count = events.session.size
    day = (events.microsecond // _MICROSECONDS - window.first_second) // SECONDS_PER_DAY
    event_id = prefixed_ids("E", np.arange(1, event_count + 1), 9)
    session_number = np.empty(sessions.start_second.size, dtype=np.int64)  # session ids in order of session start
    session_number[np.argsort(sessions.start_second, kind="stable")] = np.arange(1, sessions.start_second.size + 1)
    device = object_array(DEVICE_TYPES)[sessions.device[events.session]]

    planted = rng.permutation(event_count)
    device_count = planted_count("usage_events", "unknown_device_type", event_count)
    outside_count = planted_count("usage_events", "timestamp_outside_partition", event_count) if window.days >= 2 else 0
    bad_device, outside = planted[:device_count], planted[device_count : device_count + outside_count]
    device[bad_device] = rng.choice(object_array(UNKNOWN_DEVICE_TYPES), device_count)
    written_microsecond = events.microsecond.copy()
    shift = np.where(day[outside] > 0, -1, 1)
    written_microsecond[outside] = events.microsecond[outside] + shift * SECONDS_PER_DAY * _MICROSECONDS

    table = pa.table(
        {
            "event_id": pa.array(event_id, pa.string()),
            "customer_id": pa.array(customers.customer_id[sessions.customer][events.session], pa.string()),
            "event_ts": pa.array(written_microsecond, TIMESTAMP),
            "session_id": pa.array(prefixed_ids("SES", session_number[events.session], 8), pa.string()),
            "device_type": pa.array(device, pa.string()),
            "feature": pa.array(object_array(PRODUCT_FEATURES)[events.feature], pa.string()),
            "duration_s": pa.array(events.duration_ms / 1000.0, pa.float64()),
        },
        schema=EVENT_SCHEMA,
    )
    errors = planted_rows(
        "usage_events",
        np.concatenate([window.dates(day[bad_device]), window.dates(day[outside])]),
        np.concatenate([event_id[bad_device], event_id[outside]]),
        ["unknown_device_type"] * device_count + ["timestamp_outside_partition"] * outside_count,
    )
    return DailyRows(rows=table, day=day, planted_errors=errors)


def _sessions(rng: np.random.Generator, window: LandingWindow, customers: ActiveCustomers) -> _Sessions:
    """Sessions at a gamma-skewed multiple of the persona's rate, on its weekdays and hours, mildly seasonal."""
    persona = customers.persona
    active_days = customers.last_active_day - customers.first_active_day + 1
    uses = rng.random(customers.count) < persona_values("usage_probability")[persona]
    rate_multiplier = rng.gamma(4.0, 0.25, customers.count)
    expected = persona_values("sessions_per_active_day")[persona] * active_days * rate_multiplier
    customer = np.repeat(np.arange(customers.count), np.where(uses, rng.poisson(expected), 0))
    session_persona = persona[customer]
    usage_season = 1 + 0.3 * (window.season - 1)
    day_weights = np.array(
        [usage_season * np.array(behaviour.weekday_weights)[window.weekday] for behaviour in PERSONAS]
    )
    first_day, last_day = customers.first_active_day[customer], customers.last_active_day[customer]
    day = days_in_interval(rng, day_weights, session_persona, first_day, last_day)
    start_second = window.day_start(day) + seconds_of_day(rng, session_persona)
    start_second = window.after_creation(rng, start_second, day, customers.created_second[customer])
    device = categorical_by_group(rng, persona_values("device_shares"), session_persona)
    event_count = 1 + rng.poisson(persona_values("events_per_session")[session_persona] - 1)
    return _Sessions(customer, session_persona, start_second, device, event_count)


def _events(rng: np.random.Generator, window: LandingWindow, sessions: _Sessions) -> _Events:
    """Each session's events, one after the other (time on the event plus a pause), cut at the window's end."""
    session = np.repeat(np.arange(sessions.start_second.size), sessions.event_count)
    event_persona = sessions.persona[session]
    duration_median_s = persona_values("event_duration_median_s")[event_persona]
    duration_ms = np.round(duration_median_s * np.exp(0.7 * rng.standard_normal(session.size)) * 1000)
    duration_ms = duration_ms.astype(np.int64)
    pause_ms = np.round(rng.exponential(persona_values("pause_mean_s")[event_persona] * 1000)).astype(np.int64)
    step = duration_ms + pause_ms
    elapsed_before = np.cumsum(step) - step
    session_first_event = (
        np.concatenate([[0], np.cumsum(sessions.event_count)[:-1]])
        if sessions.event_count.size
        else np.zeros(0, dtype=np.int64)
    )
    offset_ms = elapsed_before - elapsed_before[session_first_event][session]
    start_ms = sessions.start_second * 1000 + rng.integers(0, 1000, sessions.start_second.size)
    microsecond = (start_ms[session] + offset_ms) * 1000
    keep = microsecond < window.end_second * _MICROSECONDS
    session, event_persona = session[keep], event_persona[keep]
    feature = categorical_by_group(rng, persona_values("feature_shares"), event_persona)
    return _Events(session, duration_ms[keep], microsecond[keep], feature)
