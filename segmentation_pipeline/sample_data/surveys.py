"""Survey responses (landing/survey/responses/date=*/responses.csv) with their planted out-of-range NPS values.

Each respondent has a stable attitude from their persona (NPS, satisfaction, price sensitivity); every response
adds a little noise to it, so repeated answers of one customer agree roughly, as real ones do.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from segmentation_pipeline.sample_data.customers import ActiveCustomers
from segmentation_pipeline.sample_data.draws import (
    categorical_by_group,
    days_in_interval,
    iso_seconds,
    object_array,
    prefixed_ids,
    seconds_of_day,
    take_rows,
)
from segmentation_pipeline.sample_data.files import DailyRows
from segmentation_pipeline.sample_data.personas import PERSONAS, persona_values
from segmentation_pipeline.sample_data.planted_errors import out_of_range_nps, planted_count, planted_rows
from segmentation_pipeline.sample_data.vocabulary import CONTACT_CHANNELS, PRIMARY_NEEDS
from segmentation_pipeline.sample_data.window import LandingWindow


@dataclass(frozen=True)
class _Responses:
    """One entry per response, as parallel arrays."""

    customer: np.ndarray  # index into ActiveCustomers
    day: np.ndarray
    second: np.ndarray
    nps: np.ndarray
    csat: np.ndarray
    price_sensitivity: np.ndarray
    primary_need: np.ndarray  # index into PRIMARY_NEEDS
    contact_channel: np.ndarray  # index into CONTACT_CHANNELS


def draw_survey_responses(rng: np.random.Generator, window: LandingWindow, customers: ActiveCustomers) -> DailyRows:
    """Responses in time order with ids in that order, and their planted out-of-range NPS values."""
    responses = _responses(rng, window, customers)
    responses = take_rows(responses, np.argsort(responses.second, kind="stable"))
    response_count = responses.customer.size
    response_id = prefixed_ids("S", np.arange(1, response_count + 1), 7)

    bad_count = planted_count("survey_responses", "nps_out_of_range", response_count)
    bad = rng.choice(response_count, bad_count, replace=False) if bad_count else np.zeros(0, dtype=np.int64)
    nps = responses.nps.copy()
    nps[bad] = out_of_range_nps(rng, bad_count)

    frame = pd.DataFrame(
        {
            "response_id": response_id,
            "customer_id": customers.customer_id[responses.customer],
            "submitted_at": iso_seconds(responses.second) + "Z",
            "nps": nps,
            "csat": responses.csat,
            "price_sensitivity": responses.price_sensitivity,
            "primary_need": object_array(PRIMARY_NEEDS)[responses.primary_need],
            "preferred_contact_channel": object_array(CONTACT_CHANNELS)[responses.contact_channel],
        }
    )
    errors = planted_rows("survey_responses", window.dates(responses.day[bad]), response_id[bad], "nps_out_of_range")
    return DailyRows(rows=frame, day=responses.day, planted_errors=errors)


def _responses(rng: np.random.Generator, window: LandingWindow, customers: ActiveCustomers) -> _Responses:
    """Who answers how often and when (on active days, by the persona's weekdays and hours), and what."""
    persona = customers.persona
    answers = rng.random(customers.count) < persona_values("survey_probability")[persona]
    extra = rng.poisson(persona_values("extra_responses_mean")[persona])
    customer = np.repeat(np.arange(customers.count), np.where(answers, 1 + extra, 0))
    response_persona = persona[customer]
    day_weights = (
        np.tile(np.ones(window.days), (len(PERSONAS), 1)) * persona_values("weekday_weights")[:, window.weekday]
    )
    first_day, last_day = customers.first_active_day[customer], customers.last_active_day[customer]
    day = days_in_interval(rng, day_weights, response_persona, first_day, last_day)
    second = window.day_start(day) + seconds_of_day(rng, response_persona, width_scale=1.5)
    second = window.after_creation(rng, second, day, customers.created_second[customer])

    # per-customer attitudes plus a little noise per response
    nps_sd = persona_values("nps_sd")[persona]
    nps_attitude = persona_values("nps_mean")[persona] + nps_sd * rng.standard_normal(customers.count)
    price_attitude = persona_values("price_sensitivity_mean")[persona] + 0.5 * rng.standard_normal(customers.count)
    csat_attitude = persona_values("csat_mean")[persona] + 0.4 * rng.standard_normal(customers.count)
    response_count = customer.size
    nps = np.clip(np.round(nps_attitude[customer] + 0.6 * rng.standard_normal(response_count)), 0, 10)
    csat = np.clip(np.round(csat_attitude[customer] + 0.5 * rng.standard_normal(response_count)), 1, 5)
    price = np.clip(np.round(price_attitude[customer] + 0.4 * rng.standard_normal(response_count)), 1, 5)
    need = categorical_by_group(rng, persona_values("need_shares"), response_persona)
    contact = categorical_by_group(rng, persona_values("contact_shares"), response_persona)
    return _Responses(
        customer=customer,
        day=day,
        second=second,
        nps=nps.astype(np.int64),
        csat=csat.astype(np.int64),
        price_sensitivity=price.astype(np.int64),
        primary_need=need,
        contact_channel=contact,
    )
