"""The synthetic customers: one CRM row each, plus the per-customer parameters the daily draws use.

All of it comes from the population stream, drawn once before any day, so every day can pick customers from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from synthetic_arrays import (
    DAY_US,
    POPULATION_STREAM,
    day_start_us,
    draw_codes,
    id_array,
    label_array,
    stream_rng,
    timestamp_array,
)
from synthetic_scale import Scale

from segmentation_pipeline.sample_data.vocabulary import (
    ACQUISITION_CHANNELS,
    COMPANY_SIZES,
    INCOME_BANDS,
    INDUSTRIES,
)

# Shares of the sample data's vocabularies (segmentation_pipeline.sample_data.vocabulary), in their order.
FEATURE_P = (0.2, 0.26, 0.13, 0.07, 0.08, 0.07, 0.03, 0.05, 0.11)
DEVICE_P = (0.33, 0.55, 0.12)  # of the contract's DEVICE_TYPES: desktop, mobile, tablet
INCOME_P = (0.2, 0.35, 0.3, 0.15)
ACQUISITION_P = (0.25, 0.15, 0.2, 0.1, 0.08, 0.07, 0.15)
COUNTRIES = ("DE", "FR", "NL", "AT", "CH", "GB", "US", "ES", "IT", "PL")
COUNTRY_P = (0.3, 0.14, 0.08, 0.06, 0.05, 0.1, 0.1, 0.07, 0.06, 0.04)
REGIONS = ("north", "south", "east", "west", "central")
CITIES = tuple(f"city_{i:02d}" for i in range(40))
GENDERS = ("female", "male", "diverse")
FIRST_NAMES = ("anna", "ben", "clara", "david", "emma", "felix", "greta", "hugo", "ida", "jonas", "lea", "max",
               "mia", "noah", "olga", "paul", "rosa", "sam", "tara", "yusuf")  # fmt: skip
LAST_NAMES = ("schmidt", "martin", "jansen", "huber", "meier", "smith", "garcia", "rossi", "nowak", "dubois",
              "fischer", "weber", "brown", "lopez", "bianchi")  # fmt: skip


@dataclass
class Population:
    """Per-customer arrays, indexed by customer number in creation order, that the daily draws sample from."""

    ids: pa.Array  # customer_id strings, in creation order
    created_us: np.ndarray  # created_at, sorted ascending
    lapse_day: np.ndarray  # first day index (0 = first history day) with no activity; days+event_days if never
    order_cdf: np.ndarray  # cumulative order weights (prefix = customers created so far)
    amount_mu: np.ndarray
    usage_cdf_weekday: np.ndarray
    usage_cdf_weekend: np.ndarray
    device: np.ndarray  # preferred device code
    peak_hour: np.ndarray
    events_per_session: np.ndarray
    favourite_feature: np.ndarray
    nps_mean: np.ndarray

    def eligible(self, day: date) -> int:
        """How many customers were created before `day` starts (they are a prefix of the creation order)."""
        return int(np.searchsorted(self.created_us, day_start_us(day), side="left"))

    def draw(self, rng: np.random.Generator, cdf: np.ndarray, day: date, day_index: int, size: int) -> np.ndarray:
        """`size` customer indices drawn with replacement by weight among customers created and not lapsed."""
        eligible = self.eligible(day)
        if size == 0 or eligible == 0 or cdf[eligible - 1] <= 0:
            return np.zeros(0, np.int64)
        chosen: list[np.ndarray] = []
        missing, attempts = size, 0
        while missing > 0 and attempts < 50:  # (tiny scales: everyone eligible may have lapsed)
            batch = np.searchsorted(
                cdf[:eligible], rng.random(int(missing * 1.5) + 16) * cdf[eligible - 1], side="right"
            )
            batch = batch[self.lapse_day[batch] > day_index][:missing]
            chosen.append(batch)
            missing -= len(batch)
            attempts += 1
        return np.concatenate(chosen)


def draw_population(scale: Scale, first_day: date) -> tuple[Population, pa.Table]:
    """The population and its customers table, both from the population stream (in this order of draws)."""
    rng = stream_rng(scale.seed, POPULATION_STREAM)
    n = scale.customers
    created, lapse_day = _sign_ups_and_lapses(rng, scale, first_day)
    order_w, regular = _order_weights(rng, scale)
    amount_mu = rng.normal(3.7, 0.5, n) + np.where(regular, 0.2, 0.0)

    uses = rng.random(n) < 0.85
    usage_w = np.where(uses, np.minimum(rng.lognormal(0.0, 1.0, n), 40.0), 0.0)
    weekend_affinity = rng.lognormal(0.0, 0.6, n)
    device = draw_codes(rng, DEVICE_P, n)
    peak_centre = np.array([11.5, 19.5, 22.5])[device]  # desktop late morning, mobile evening, tablet late night
    peak_hour = (peak_centre + rng.normal(0, np.array([3.0, 2.5, 2.0])[device])) % 24
    events_per_session = 1 + rng.gamma(2.0, 2.0, n)
    favourite = draw_codes(rng, FEATURE_P, n)
    nps_mean = np.clip(rng.normal(7.3, 1.8, n), 0, 10)

    population = Population(
        ids=id_array("C", np.arange(1, n + 1), 7),
        created_us=created,
        lapse_day=lapse_day,
        order_cdf=np.cumsum(order_w),
        amount_mu=amount_mu,
        usage_cdf_weekday=np.cumsum(usage_w),
        usage_cdf_weekend=np.cumsum(usage_w * weekend_affinity),
        device=device,
        peak_hour=peak_hour,
        events_per_session=events_per_session,
        favourite_feature=favourite,
        nps_mean=nps_mean,
    )
    return population, _customer_table(rng, scale, population)


def _sign_ups_and_lapses(rng: np.random.Generator, scale: Scale, first_day: date) -> tuple[np.ndarray, np.ndarray]:
    """Creation times (sorted) and lapse days: ~65% sign up in the three years before, ~30% lapse at some day."""
    n = scale.customers
    start_us, end_us = day_start_us(first_day), day_start_us(scale.end_date) + DAY_US
    existing = rng.random(n) < 0.65
    before = start_us - rng.random(n) * 3 * 365 * DAY_US
    during = start_us + np.sqrt(rng.random(n)) * (end_us - start_us)  # growing sign-up rate
    created = np.sort(np.where(existing, before, during).astype(np.int64))
    created_day = (created - start_us) // DAY_US  # negative before the history
    horizon = scale.days + scale.event_days
    lapses = rng.random(n) < 0.3
    lapse_day = np.where(
        lapses,
        np.maximum(created_day, 0) + (rng.random(n) * (scale.days - np.maximum(created_day, 0))).astype(np.int64),
        horizon,
    )
    return created, lapse_day


def _order_weights(rng: np.random.Generator, scale: Scale) -> tuple[np.ndarray, np.ndarray]:
    """Order weights (10% never, 68% occasional: about one order in the period, 22% regulars with lognormal rates)
    and which customers are regulars."""
    n = scale.customers
    group = rng.random(n)
    regular = group >= 0.78
    occasional = (group >= 0.1) & ~regular
    order_w = np.where(occasional, 1.5, 0.0)
    heavy = np.minimum(rng.lognormal(0.0, 1.2, n), 30.0)
    if regular.any():
        order_w[regular] = heavy[regular] / heavy[regular].sum() * max(scale.orders - order_w.sum(), 0)
    return order_w, regular


def _customer_table(rng: np.random.Generator, scale: Scale, population: Population) -> pa.Table:
    """The CRM rows of the population, drawn after its parameters from the same stream."""
    n = scale.customers
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    first_names = label_array(FIRST_NAMES, first)
    last_names = label_array(LAST_NAMES, last)
    serial = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    country = draw_codes(rng, COUNTRY_P, n)
    lower_country = rng.random(n) < 0.05
    countries = pc.if_else(
        pa.array(lower_country), pc.utf8_lower(label_array(COUNTRIES, country)), label_array(COUNTRIES, country)
    )
    b2b = rng.random(n) < 0.1
    age = np.clip(rng.normal(42, 14, n), 16, 92).astype(np.int64)
    birth_year = pa.array(scale.end_date.year - age, mask=rng.random(n) < 0.03)
    return pa.table(
        {
            "customer_id": population.ids,
            "created_at": timestamp_array(population.created_us),
            "email": pc.binary_join_element_wise(first_names, ".", last_names, serial, "@example.com", ""),
            "full_name": pc.binary_join_element_wise(
                pc.utf8_capitalize(first_names), pc.utf8_capitalize(last_names), " "
            ),
            "phone": pc.binary_join_element_wise("+49 151 ", pc.utf8_lpad(serial, width=8, padding="0"), ""),
            "birth_year": birth_year,
            "gender": label_array(GENDERS, draw_codes(rng, (0.49, 0.48, 0.03), n), rng.random(n) < 0.08),
            "country": countries,
            "region": label_array(REGIONS, rng.integers(0, len(REGIONS), n), rng.random(n) < 0.05),
            "city": label_array(CITIES, rng.integers(0, len(CITIES), n), rng.random(n) < 0.05),
            "income_band": label_array(INCOME_BANDS, draw_codes(rng, INCOME_P, n), rng.random(n) < 0.2),
            "acquisition_channel": label_array(ACQUISITION_CHANNELS, draw_codes(rng, ACQUISITION_P, n)),
            "marketing_opt_in": pa.array(rng.random(n) < 0.55, mask=rng.random(n) < 0.02),
            "company_size": label_array(COMPANY_SIZES, rng.integers(0, len(COMPANY_SIZES), n), ~b2b),
            "industry": label_array(INDUSTRIES, rng.integers(0, len(INDUSTRIES), n), ~b2b | (rng.random(n) < 0.1)),
        }
    )
