"""The seven personas of the sample: fixed shares of the customers, each with its own behaviour in every source.

They are the ground truth a segmentation should rediscover (ground_truth/personas.csv), so each persona differs
from the others in at least one thing the features measure: device, hour, weekday, order rate and amount,
recency, survey answers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Persona:
    """How customers of one persona look and behave; `*_shares` tuples follow the vocabulary they name."""

    name: str
    share: float  # of all valid customers
    share_created_in_window: float  # not for lapsed customers and recent sign-ups, which have their own rule
    orders_per_active_day: float
    order_rate_gamma_shape: float  # of the per-customer rate multiplier (smaller = more skewed)
    amount_log_mean: float  # lognormal order amount before the category's price factor
    amount_log_sd: float
    channel_shares: tuple[float, float, float]  # ORDER_CHANNELS
    category_shares: tuple[float, ...]  # PRODUCT_CATEGORIES
    usage_probability: float  # of having any usage at all
    sessions_per_active_day: float
    events_per_session: float  # mean, >= 1
    event_duration_median_s: float
    pause_mean_s: float  # between two events of a session
    device_shares: tuple[float, float, float]  # DEVICE_TYPES
    peak_hour_utc: float
    peak_width_hours: float
    weekday_weights: tuple[float, ...]  # Monday..Sunday
    feature_shares: tuple[float, ...]  # PRODUCT_FEATURES
    survey_probability: float  # of answering the survey at least once
    extra_responses_mean: float  # additional responses of a respondent
    nps_mean: float
    nps_sd: float
    csat_mean: float
    price_sensitivity_mean: float
    need_shares: tuple[float, ...]  # PRIMARY_NEEDS
    contact_shares: tuple[float, ...]  # CONTACT_CHANNELS
    income_shares: tuple[float, ...]  # INCOME_BANDS
    acquisition_shares: tuple[float, ...]  # ACQUISITION_CHANNELS
    opt_in_probability: float
    age_range: tuple[int, int]
    b2b_probability: float


FLAT_WEEK = (1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.05)

PERSONAS: tuple[Persona, ...] = (
    Persona(
        "mobile_power_users", 0.18, 0.15, orders_per_active_day=0.006, order_rate_gamma_shape=1.0,
        amount_log_mean=3.8, amount_log_sd=0.5,
        channel_shares=(0.12, 0.83, 0.05), category_shares=(0.28, 0.27, 0.07, 0.18, 0.1, 0.05, 0.05),
        usage_probability=1.0, sessions_per_active_day=0.14, events_per_session=3.0, event_duration_median_s=12,
        pause_mean_s=25, device_shares=(0.06, 0.9, 0.04), peak_hour_utc=20.5, peak_width_hours=1.8,
        weekday_weights=FLAT_WEEK, feature_shares=(0.22, 0.28, 0.13, 0.05, 0.1, 0.04, 0.02, 0.04, 0.12),
        survey_probability=0.3, extra_responses_mean=0.3, nps_mean=7.6, nps_sd=1.2, csat_mean=4.0,
        price_sensitivity_mean=3.0, need_shares=(0.2, 0.15, 0.45, 0.15, 0.05),
        contact_shares=(0.15, 0.2, 0.03, 0.57, 0.05), income_shares=(0.25, 0.35, 0.3, 0.1),
        acquisition_shares=(0.12, 0.15, 0.45, 0.1, 0.03, 0.1, 0.05),
        opt_in_probability=0.55, age_range=(18, 38), b2b_probability=0.03,
    ),
    Persona(
        "desktop_weekend_browsers", 0.17, 0.12, orders_per_active_day=0.004, order_rate_gamma_shape=3.0,
        amount_log_mean=4.2, amount_log_sd=0.5,
        channel_shares=(0.85, 0.05, 0.1), category_shares=(0.2, 0.08, 0.3, 0.04, 0.1, 0.03, 0.25),
        usage_probability=0.99, sessions_per_active_day=0.06, events_per_session=6.0, event_duration_median_s=80,
        pause_mean_s=110, device_shares=(0.88, 0.08, 0.04), peak_hour_utc=15.0, peak_width_hours=2.2,
        weekday_weights=(0.3, 0.3, 0.3, 0.3, 0.5, 2.6, 2.4),
        feature_shares=(0.2, 0.36, 0.05, 0.02, 0.1, 0.15, 0.02, 0.03, 0.07),
        survey_probability=0.2, extra_responses_mean=0.2, nps_mean=7.0, nps_sd=1.5, csat_mean=3.8,
        price_sensitivity_mean=3.0, need_shares=(0.15, 0.25, 0.1, 0.4, 0.1),
        contact_shares=(0.7, 0.05, 0.1, 0.05, 0.1), income_shares=(0.1, 0.3, 0.4, 0.2),
        acquisition_shares=(0.35, 0.15, 0.05, 0.1, 0.1, 0.05, 0.2),
        opt_in_probability=0.4, age_range=(30, 62), b2b_probability=0.15,
    ),
    Persona(
        "high_value_loyalists", 0.12, 0.05, orders_per_active_day=0.055, order_rate_gamma_shape=3.0,
        amount_log_mean=5.1, amount_log_sd=0.45,
        channel_shares=(0.5, 0.35, 0.15), category_shares=(0.25, 0.2, 0.2, 0.12, 0.1, 0.08, 0.05),
        usage_probability=0.98, sessions_per_active_day=0.08, events_per_session=4.0, event_duration_median_s=40,
        pause_mean_s=50, device_shares=(0.48, 0.44, 0.08), peak_hour_utc=12.5, peak_width_hours=3.5,
        weekday_weights=(1.1, 1.05, 1.05, 1.05, 1.0, 0.85, 0.9),
        feature_shares=(0.15, 0.18, 0.2, 0.16, 0.05, 0.05, 0.04, 0.05, 0.12),
        survey_probability=0.45, extra_responses_mean=0.6, nps_mean=9.3, nps_sd=0.6, csat_mean=4.6,
        price_sensitivity_mean=1.5, need_shares=(0.03, 0.45, 0.2, 0.12, 0.2),
        contact_shares=(0.45, 0.1, 0.15, 0.25, 0.05), income_shares=(0.02, 0.13, 0.4, 0.45),
        acquisition_shares=(0.2, 0.1, 0.05, 0.3, 0.1, 0.02, 0.23),
        opt_in_probability=0.7, age_range=(32, 66), b2b_probability=0.18,
    ),
    Persona(
        "discount_occasional_buyers", 0.20, 0.18, orders_per_active_day=0.005, order_rate_gamma_shape=4.0,
        amount_log_mean=2.5, amount_log_sd=0.45,
        channel_shares=(0.55, 0.35, 0.1), category_shares=(0.1, 0.25, 0.1, 0.15, 0.1, 0.25, 0.05),
        usage_probability=0.98, sessions_per_active_day=0.07, events_per_session=3.0, event_duration_median_s=25,
        pause_mean_s=40, device_shares=(0.35, 0.6, 0.05), peak_hour_utc=8.5, peak_width_hours=2.0,
        weekday_weights=(1.4, 1.4, 1.4, 1.4, 1.2, 0.3, 0.3),
        feature_shares=(0.3, 0.3, 0.12, 0.04, 0.12, 0.05, 0.02, 0.02, 0.03),
        survey_probability=0.3, extra_responses_mean=0.2, nps_mean=4.2, nps_sd=1.7, csat_mean=2.9,
        price_sensitivity_mean=4.6, need_shares=(0.75, 0.03, 0.1, 0.1, 0.02),
        contact_shares=(0.55, 0.25, 0.02, 0.08, 0.1), income_shares=(0.4, 0.38, 0.18, 0.04),
        acquisition_shares=(0.1, 0.25, 0.1, 0.05, 0.2, 0.25, 0.05),
        opt_in_probability=0.75, age_range=(19, 72), b2b_probability=0.04,
    ),
    Persona(
        "lapsed_customers", 0.13, 0.0, orders_per_active_day=0.017, order_rate_gamma_shape=1.0,
        amount_log_mean=4.0, amount_log_sd=0.5,
        channel_shares=(0.6, 0.3, 0.1), category_shares=(0.18, 0.22, 0.15, 0.12, 0.13, 0.12, 0.08),
        usage_probability=0.85, sessions_per_active_day=0.06, events_per_session=4.0, event_duration_median_s=35,
        pause_mean_s=50, device_shares=(0.5, 0.42, 0.08), peak_hour_utc=19.0, peak_width_hours=3.0,
        weekday_weights=FLAT_WEEK, feature_shares=(0.2, 0.28, 0.1, 0.05, 0.05, 0.05, 0.15, 0.07, 0.05),
        survey_probability=0.15, extra_responses_mean=0.1, nps_mean=5.0, nps_sd=2.0, csat_mean=3.0,
        price_sensitivity_mean=3.5, need_shares=(0.3, 0.2, 0.2, 0.15, 0.15),
        contact_shares=(0.5, 0.1, 0.05, 0.1, 0.25), income_shares=(0.25, 0.3, 0.3, 0.15),
        acquisition_shares=(0.15, 0.2, 0.15, 0.1, 0.1, 0.15, 0.15),
        opt_in_probability=0.35, age_range=(22, 70), b2b_probability=0.08,
    ),
    Persona(
        "recent_signups", 0.10, 0.0, orders_per_active_day=0.0, order_rate_gamma_shape=1.0,
        amount_log_mean=3.7, amount_log_sd=0.5,
        channel_shares=(0.5, 0.45, 0.05), category_shares=(0.2, 0.25, 0.15, 0.15, 0.1, 0.05, 0.1),
        usage_probability=1.0, sessions_per_active_day=0.25, events_per_session=3.0, event_duration_median_s=30,
        pause_mean_s=40, device_shares=(0.35, 0.6, 0.05), peak_hour_utc=19.5, peak_width_hours=3.0,
        weekday_weights=FLAT_WEEK, feature_shares=(0.2, 0.25, 0.08, 0.03, 0.05, 0.05, 0.08, 0.2, 0.06),
        survey_probability=0.25, extra_responses_mean=0.05, nps_mean=7.4, nps_sd=1.5, csat_mean=3.9,
        price_sensitivity_mean=3.2, need_shares=(0.25, 0.2, 0.25, 0.2, 0.1),
        contact_shares=(0.45, 0.15, 0.05, 0.25, 0.1), income_shares=(0.25, 0.3, 0.3, 0.15),
        acquisition_shares=(0.15, 0.25, 0.25, 0.1, 0.05, 0.1, 0.1),
        opt_in_probability=0.6, age_range=(18, 55), b2b_probability=0.08,
    ),
    Persona(
        "tablet_night_readers", 0.10, 0.10, orders_per_active_day=0.005, order_rate_gamma_shape=2.0,
        amount_log_mean=3.5, amount_log_sd=0.45,
        channel_shares=(0.3, 0.65, 0.05), category_shares=(0.08, 0.07, 0.12, 0.08, 0.03, 0.02, 0.6),
        usage_probability=0.99, sessions_per_active_day=0.07, events_per_session=5.0, event_duration_median_s=70,
        pause_mean_s=80, device_shares=(0.06, 0.08, 0.86), peak_hour_utc=23.5, peak_width_hours=1.5,
        weekday_weights=FLAT_WEEK, feature_shares=(0.08, 0.44, 0.04, 0.02, 0.06, 0.31, 0.01, 0.02, 0.02),
        survey_probability=0.25, extra_responses_mean=0.2, nps_mean=7.6, nps_sd=1.2, csat_mean=4.0,
        price_sensitivity_mean=2.7, need_shares=(0.15, 0.3, 0.15, 0.35, 0.05),
        contact_shares=(0.6, 0.05, 0.05, 0.2, 0.1), income_shares=(0.15, 0.3, 0.35, 0.2),
        acquisition_shares=(0.3, 0.1, 0.1, 0.15, 0.15, 0.05, 0.15),
        opt_in_probability=0.45, age_range=(38, 76), b2b_probability=0.02,
    ),
)  # fmt: skip

PERSONA_NAMES = tuple(persona.name for persona in PERSONAS)
LAPSED_CUSTOMERS = PERSONA_NAMES.index("lapsed_customers")
RECENT_SIGNUPS = PERSONA_NAMES.index("recent_signups")


def persona_values(field: str) -> np.ndarray:
    """One `Persona` field of every persona, indexable by persona code (`persona_values("nps_mean")[persona]`)."""
    return np.array([getattr(persona, field) for persona in PERSONAS])
