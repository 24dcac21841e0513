"""Seeded, vectorised generator of a large synthetic history for benchmarks (customers, orders, surveys, usage events).

It writes either the pipeline's **validated warehouse** (what the feature stage reads)::

    warehouse/validated/customers/part-0.parquet
    warehouse/validated/<source>/date=YYYY-MM-DD/part-0.parquet      exactly clean_schema(source), lineage included

or a **landing zone** in the input contract (what `segmentation-pipeline run` reads)::

    landing/crm/customers.parquet
    landing/crm/orders/date=YYYY-MM-DD/orders.parquet
    landing/survey/responses/date=YYYY-MM-DD/responses.parquet
    landing/usage/events/date=YYYY-MM-DD/events.parquet

Everything is numpy + pyarrow, one day at a time (memory stays bounded by one day of events plus a few arrays per
customer), with no per-row Python. Every day draws from its own `SeedSequence([seed, stream, day])`, so a day's
file depends only on the parameters, not on the days generated before it.

Shapes (realistic enough for timing, not a simulation of any business):

* customers: ~65% created in the three years before the history, the rest during it at a growing rate; ids
  `C0000001`... in creation order. ~10% B2B; countries partly lower-case (the SQL upper-cases them).
* orders: 10% of customers never buy, 68% are occasional (about one order in the period), 22% regulars with
  lognormal-skewed rates (so most buyers buy once or twice, a few hundred times); ~30% of customers lapse at a
  random day (no orders or usage afterwards). Daily volume has a weekly pattern, a November/December peak and
  growth. Amounts lognormal around a per-customer level times a category factor; 90% completed, 6% cancelled,
  4% refunded.
* usage events: only in the last `event_days` days (default 90 = the feature stage's usage window, so every
  event is read: the worst case). 85% of customers use the product, at lognormal-skewed rates, more or less on
  weekends; sessions of 1 + Poisson events (mean ~5 per customer, varying), one device per session (usually the
  customer's preferred one), started around the customer's preferred hour, events 40 s apart on average; a
  favourite feature for ~45% of events, ~2% without a feature, ~1% without a duration.
* survey responses: customers drawn uniformly among those created, NPS around a per-customer mean.

Run `python benchmarks/synthetic.py --help`; `bench_features.py` calls `generate()` with the warehouse target.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from segmentation_pipeline.core.features.rollups import write_validated_partition
from segmentation_pipeline.core.ingest.contract import CUSTOMERS, ORDERS, SURVEY_RESPONSES, USAGE_EVENTS, Source
from segmentation_pipeline.core.storage.atomic import write_parquet_atomically
from segmentation_pipeline.core.storage.layout import DataLayout
from segmentation_pipeline.sample_data import (
    ACQUISITION,
    CATEGORIES,
    CATEGORY_PRICE_FACTOR,
    CHANNELS,
    COMPANY_SIZES,
    CONTACTS,
    DEVICES,
    FEATURES,
    INCOME_BANDS,
    INDUSTRIES,
    NEEDS,
    STATUS_P,
    STATUSES,
)

GENERATOR_VERSION = 2  # bump when the generated data changes, so cached data sets are regenerated
MARKER = "synthetic.json"

DAY_US = 86_400_000_000
EPOCH = date(1970, 1, 1)

FEATURE_P = (0.2, 0.26, 0.13, 0.07, 0.08, 0.07, 0.03, 0.05, 0.11)
CATEGORY_P = (0.18, 0.22, 0.15, 0.12, 0.1, 0.13, 0.1)
CHANNEL_P = (0.5, 0.38, 0.12)
CURRENCIES = ("EUR", "USD", "GBP")
CURRENCY_P = (0.8, 0.12, 0.08)
COUNTRIES = ("DE", "FR", "NL", "AT", "CH", "GB", "US", "ES", "IT", "PL")
COUNTRY_P = (0.3, 0.14, 0.08, 0.06, 0.05, 0.1, 0.1, 0.07, 0.06, 0.04)
REGIONS = ("north", "south", "east", "west", "central")
CITIES = tuple(f"city_{i:02d}" for i in range(40))
GENDERS = ("female", "male", "diverse")
FIRST_NAMES = ("anna", "ben", "clara", "david", "emma", "felix", "greta", "hugo", "ida", "jonas", "lea", "max",
               "mia", "noah", "olga", "paul", "rosa", "sam", "tara", "yusuf")  # fmt: skip
LAST_NAMES = ("schmidt", "martin", "jansen", "huber", "meier", "smith", "garcia", "rossi", "nowak", "dubois",
              "fischer", "weber", "brown", "lopez", "bianchi")  # fmt: skip
# Share of a day's orders per UTC hour (a daytime curve with an evening bump).
ORDER_HOUR_W = np.array([1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 4.5, 5, 5, 5, 4.8, 4.6, 4.6, 5, 5.5, 6, 6, 5, 3.5, 2])
WEEKDAY_ORDERS = (1.0, 0.97, 0.97, 1.0, 1.05, 1.12, 0.92)  # Monday..Sunday
WEEKDAY_EVENTS = (0.95, 0.93, 0.93, 0.95, 1.0, 1.17, 1.12)

# RNG streams: one per kind of draw, so adding a stream never changes another one's numbers.
_POPULATION, _ORDERS, _SURVEYS, _EVENTS = 0, 1, 2, 3


@dataclass(frozen=True)
class Scale:
    """What to generate. Defaults are the reference scale of the feature benchmark."""

    customers: int = 1_000_000
    orders: int = 10_000_000
    events: int = 100_000_000
    surveys: int = 200_000
    days: int = 365  # days of order and survey history, ending on end_date
    event_days: int = 90  # days of usage events, ending on end_date
    end_date: date = date(2026, 11, 22)
    seed: int = 42

    def scaled(self, factor: float) -> Scale:
        """Same shape with every row count multiplied by `factor` (days unchanged)."""
        return replace(
            self,
            customers=max(int(self.customers * factor), 10),
            orders=int(self.orders * factor),
            events=int(self.events * factor),
            surveys=int(self.surveys * factor),
        )

    def key(self) -> str:
        """A folder name that identifies the data set (and the generator version)."""
        return (
            f"c{self.customers}-o{self.orders}-e{self.events}-s{self.surveys}-d{self.days}-ed{self.event_days}"
            f"-{self.end_date.isoformat()}-seed{self.seed}-v{GENERATOR_VERSION}"
        )

    def as_json(self) -> dict:
        return {**asdict(self), "end_date": self.end_date.isoformat(), "generator_version": GENERATOR_VERSION}


# ---------------------------------------------------------------------------------------------------------------------
# helpers


def _rng(seed: int, stream: int, day: int = 0) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, day + 1_000_000]))  # day may be < 0


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integer counts proportional to weights that add up exactly to total (largest remainder)."""
    share = weights / weights.sum() * total
    counts = np.floor(share).astype(np.int64)
    remainder = int(total - counts.sum())
    counts[np.argsort(-(share - counts), kind="stable")[:remainder]] += 1
    return counts


def _choice(rng: np.random.Generator, p, size: int) -> np.ndarray:
    """Category codes (int8) drawn with probabilities p."""
    return np.searchsorted(np.cumsum(p) / np.sum(p), rng.random(size), side="right").astype(np.int8)


def _labels(values, codes: np.ndarray, null: np.ndarray | None = None) -> pa.Array:
    """String array of values[codes]; null where `null` is True."""
    indices = pa.array(codes.astype(np.int32), mask=null)
    return pc.take(pa.array(values, pa.string()), indices)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """`prefix` + zero-padded numbers, e.g. C0000042."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _timestamps(microseconds: np.ndarray) -> pa.Array:
    return pa.array(microseconds.astype(np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _day_us(day: date) -> int:
    return (day - EPOCH).days * DAY_US


def _daily_weights(days: list[date], weekday_w) -> np.ndarray:
    """Weekly pattern x a November/December peak x 30% growth over the period."""
    weekday = np.array([weekday_w[d.weekday()] for d in days])
    day_of_year = np.array([d.timetuple().tm_yday for d in days])
    season = 1 + 0.35 * np.exp(-(((day_of_year - 335) / 22.0) ** 2))
    growth = 1 + 0.3 * np.linspace(0, 1, len(days))
    return weekday * season * growth


# ---------------------------------------------------------------------------------------------------------------------
# customers: one row per customer plus the per-customer parameters the daily draws use


@dataclass
class Population:
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
        return int(np.searchsorted(self.created_us, _day_us(day), side="left"))

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


def _population(scale: Scale, first_day: date) -> tuple[Population, pa.Table]:
    rng = _rng(scale.seed, _POPULATION)
    n = scale.customers
    start_us, end_us = _day_us(first_day), _day_us(scale.end_date) + DAY_US
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

    # orders: 10% never, 68% occasional (about one order in the period), 22% regulars (lognormal rates)
    group = rng.random(n)
    regular = group >= 0.78
    occasional = (group >= 0.1) & ~regular
    order_w = np.where(occasional, 1.5, 0.0)
    heavy = np.minimum(rng.lognormal(0.0, 1.2, n), 30.0)
    if regular.any():
        order_w[regular] = heavy[regular] / heavy[regular].sum() * max(scale.orders - order_w.sum(), 0)
    amount_mu = rng.normal(3.7, 0.5, n) + np.where(regular, 0.2, 0.0)

    uses = rng.random(n) < 0.85
    usage_w = np.where(uses, np.minimum(rng.lognormal(0.0, 1.0, n), 40.0), 0.0)
    weekend_affinity = rng.lognormal(0.0, 0.6, n)
    device = _choice(rng, (0.33, 0.55, 0.12), n)  # desktop, mobile, tablet
    peak_centre = np.array([11.5, 19.5, 22.5])[device]  # desktop late morning, mobile evening, tablet late night
    peak_hour = (peak_centre + rng.normal(0, np.array([3.0, 2.5, 2.0])[device])) % 24
    events_per_session = 1 + rng.gamma(2.0, 2.0, n)
    favourite = _choice(rng, FEATURE_P, n)
    nps_mean = np.clip(rng.normal(7.3, 1.8, n), 0, 10)

    population = Population(
        ids=_ids("C", np.arange(1, n + 1), 7),
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

    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    first_names = _labels(FIRST_NAMES, first)
    last_names = _labels(LAST_NAMES, last)
    serial = pc.cast(pa.array(np.arange(1, n + 1)), pa.string())
    country = _choice(rng, COUNTRY_P, n)
    lower_country = rng.random(n) < 0.05
    countries = pc.if_else(
        pa.array(lower_country), pc.utf8_lower(_labels(COUNTRIES, country)), _labels(COUNTRIES, country)
    )
    b2b = rng.random(n) < 0.1
    age = np.clip(rng.normal(42, 14, n), 16, 92).astype(np.int64)
    birth_year = pa.array(scale.end_date.year - age, mask=rng.random(n) < 0.03)
    customers = pa.table(
        {
            "customer_id": population.ids,
            "created_at": _timestamps(created),
            "email": pc.binary_join_element_wise(first_names, ".", last_names, serial, "@example.com", ""),
            "full_name": pc.binary_join_element_wise(
                pc.utf8_capitalize(first_names), pc.utf8_capitalize(last_names), " "
            ),
            "phone": pc.binary_join_element_wise("+49 151 ", pc.utf8_lpad(serial, width=8, padding="0"), ""),
            "birth_year": birth_year,
            "gender": _labels(GENDERS, _choice(rng, (0.49, 0.48, 0.03), n), rng.random(n) < 0.08),
            "country": countries,
            "region": _labels(REGIONS, rng.integers(0, len(REGIONS), n), rng.random(n) < 0.05),
            "city": _labels(CITIES, rng.integers(0, len(CITIES), n), rng.random(n) < 0.05),
            "income_band": _labels(INCOME_BANDS, _choice(rng, (0.2, 0.35, 0.3, 0.15), n), rng.random(n) < 0.2),
            "acquisition_channel": _labels(ACQUISITION, _choice(rng, (0.25, 0.15, 0.2, 0.1, 0.08, 0.07, 0.15), n)),
            "marketing_opt_in": pa.array(rng.random(n) < 0.55, mask=rng.random(n) < 0.02),
            "company_size": _labels(COMPANY_SIZES, rng.integers(0, len(COMPANY_SIZES), n), ~b2b),
            "industry": _labels(INDUSTRIES, rng.integers(0, len(INDUSTRIES), n), ~b2b | (rng.random(n) < 0.1)),
        }
    )
    return population, customers


# ---------------------------------------------------------------------------------------------------------------------
# one day of each daily source


def _orders_day(
    scale: Scale, population: Population, day: date, day_index: int, count: int, first_id: int
) -> tuple[pa.Table, np.ndarray]:
    rng = _rng(scale.seed, _ORDERS, day_index)
    who = population.draw(rng, population.order_cdf, day, day_index, count)
    n = len(who)
    seconds = (_choice(rng, ORDER_HOUR_W, n) + rng.random(n)) * 3600
    ordered_us = np.sort(_day_us(day) + (seconds * 1e6).astype(np.int64))
    category = _choice(rng, CATEGORY_P, n)
    amount = np.round(np.exp(population.amount_mu[who] + rng.normal(0, 0.6, n)) * CATEGORY_PRICE_FACTOR[category], 2)
    table = pa.table(
        {
            "order_id": _ids("O", np.arange(first_id, first_id + n), 9),
            "customer_id": population.ids.take(pa.array(who)),
            "ordered_at": _timestamps(ordered_us),
            "amount": pa.array(np.maximum(amount, 0.01)),
            "currency": _labels(CURRENCIES, _choice(rng, CURRENCY_P, n)),
            "status": _labels(STATUSES, _choice(rng, STATUS_P, n)),
            "channel": _labels(CHANNELS, _choice(rng, CHANNEL_P, n)),
            "product_category": _labels(CATEGORIES, category, rng.random(n) < 0.01),
        }
    )
    return table, who


def _surveys_day(
    scale: Scale, population: Population, day: date, day_index: int, count: int, first_id: int
) -> pa.Table:
    rng = _rng(scale.seed, _SURVEYS, day_index)
    eligible = population.eligible(day)
    who = rng.integers(0, eligible, count) if eligible else np.zeros(0, np.int64)
    n = len(who)
    submitted_us = np.sort(_day_us(day) + (rng.random(n) * DAY_US).astype(np.int64))
    nps = np.clip(np.rint(population.nps_mean[who] + rng.normal(0, 1.2, n)), 0, 10).astype(np.int64)
    csat = np.clip(np.rint(1 + nps / 2.5 + rng.normal(0, 0.7, n)), 1, 5).astype(np.int64)
    return pa.table(
        {
            "response_id": _ids("R", np.arange(first_id, first_id + n), 8),
            "customer_id": population.ids.take(pa.array(who)),
            "submitted_at": _timestamps(submitted_us),
            "nps": pa.array(nps, mask=rng.random(n) < 0.03),
            "csat": pa.array(csat, mask=rng.random(n) < 0.05),
            "price_sensitivity": pa.array(rng.integers(1, 6, n), mask=rng.random(n) < 0.05),
            "primary_need": _labels(NEEDS, rng.integers(0, len(NEEDS), n), rng.random(n) < 0.1),
            "preferred_contact_channel": _labels(
                CONTACTS, _choice(rng, (0.4, 0.15, 0.1, 0.25, 0.1), n), rng.random(n) < 0.1
            ),
        }
    )


def _events_day(scale: Scale, population: Population, day: date, day_index: int, count: int) -> pa.Table:
    rng = _rng(scale.seed, _EVENTS, day_index)
    cdf = population.usage_cdf_weekend if day.weekday() >= 5 else population.usage_cdf_weekday
    # sessions: draw customers until their sessions hold `count` events, then cut the last session short
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
        return _empty(USAGE_EVENTS)
    who, lengths = np.concatenate(who_parts), np.concatenate(length_parts)
    ends = np.cumsum(lengths)
    sessions = int(np.searchsorted(ends, count, side="left")) + 1
    who, lengths = who[:sessions], lengths[:sessions].copy()
    lengths[-1] -= int(ends[sessions - 1]) - count
    session = np.repeat(np.arange(sessions), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])

    device = np.where(rng.random(sessions) < 0.85, population.device[who], rng.integers(0, 3, sessions)).astype(np.int8)
    start_s = ((population.peak_hour[who] + rng.normal(0, 2.0, sessions)) % 24) * 3600
    gaps = rng.exponential(40.0, count)
    gaps[starts] = 0
    elapsed = np.cumsum(gaps)
    offset = elapsed - elapsed[starts][session]
    seconds = np.minimum(start_s[session] + offset, 86_399.999_999)
    event_us = _day_us(day) + (seconds * 1e6).astype(np.int64)

    order = np.argsort(event_us, kind="stable")  # a log is written in time order
    session, event_us = session[order], event_us[order]
    customer = who[session]
    favourite = rng.random(count) < 0.45
    feature = np.where(favourite, population.favourite_feature[customer], _choice(rng, FEATURE_P, count))
    duration = np.round(rng.lognormal(np.log(25.0), 1.0, count), 3)
    return pa.table(
        {
            "customer_id": population.ids.take(pa.array(customer)),
            "event_ts": _timestamps(event_us),
            "session_id": _ids(f"S{(day - EPOCH).days:05d}", session, 7),
            "device_type": _labels(DEVICES, device[session]),
            "feature": _labels(FEATURES, feature, rng.random(count) < 0.02),
            "duration_s": pa.array(duration, mask=rng.random(count) < 0.01),
            "event_id": _ids(f"E{(day - EPOCH).days:05d}", np.arange(count), 8),
        }
    )


def _empty(source: Source) -> pa.Table:
    return source.arrow_schema().empty_table()


# ---------------------------------------------------------------------------------------------------------------------
# writing


class _Writer:
    """Writes a source's table for a day either as the validated warehouse or as a landing file."""

    FILE_NAMES = {
        "customers": "customers",
        "orders": "orders",
        "survey_responses": "responses",
        "usage_events": "events",
    }

    def __init__(self, root: Path, target: str):
        if target not in ("warehouse", "landing"):
            raise ValueError(f"target must be 'warehouse' or 'landing', not {target!r}")
        self.layout = DataLayout(root)
        self.target = target

    def landing_relative(self, source: Source, day: date | None) -> str:
        if day is None:
            return f"{source.landing_path}.parquet"
        return f"{source.landing_path}/date={day.isoformat()}/{self.FILE_NAMES[source.name]}.parquet"

    def write(self, source: Source, day: date | None, table: pa.Table) -> int:
        relative = self.landing_relative(source, day)
        table = table.select(source.column_names).cast(source.arrow_schema())
        if self.target == "landing":
            path = self.layout.landing / relative
        else:
            n = table.num_rows
            table = table.append_column("_source_file", pa.array([relative]).take(pa.array(np.zeros(n, np.int32))))
            table = table.append_column("_source_row", pa.array(np.arange(1, n + 1, dtype=np.int64)))
            path = self.layout.validated(source.name, day)
            write_validated_partition(self.layout, source, day, table)  # with the usage rollups, as validation does
            return path.stat().st_size
        write_parquet_atomically(table, path)
        return path.stat().st_size


def generate(root: Path, scale: Scale = Scale(), target: str = "warehouse", log: Callable[[str], None] = print) -> dict:
    """Write the data set under `root` and return statistics (rows, bytes and seconds per source).

    A `synthetic.json` marker with the parameters and the statistics is written last, so a data set with a
    marker is complete. Existing files of the same day are replaced.
    """
    root = Path(root)
    writer = _Writer(root, target)
    first_day = scale.end_date - timedelta(days=scale.days - 1)
    history = [first_day + timedelta(days=i) for i in range(scale.days)]
    first_event_day = scale.end_date - timedelta(days=scale.event_days - 1)
    event_days = [first_event_day + timedelta(days=i) for i in range(scale.event_days)]
    stats: dict = {"scale": scale.as_json(), "target": target, "sources": {}}
    started = time.perf_counter()

    clock = time.perf_counter()
    population, customers = _population(scale, first_day)
    size = writer.write(CUSTOMERS, None, customers)
    stats["sources"]["customers"] = {"rows": customers.num_rows, "bytes": size, "seconds": time.perf_counter() - clock}
    log(f"customers: {customers.num_rows:,} rows in {time.perf_counter() - clock:.1f} s")
    del customers

    orders_per_customer = np.zeros(scale.customers, np.int64)
    for source, days, total, weekday_w in (
        (ORDERS, history, scale.orders, WEEKDAY_ORDERS),
        (SURVEY_RESPONSES, history, scale.surveys, WEEKDAY_ORDERS),
        (USAGE_EVENTS, event_days, scale.events, WEEKDAY_EVENTS),
    ):
        clock = time.perf_counter()
        counts = _allocate(total, _daily_weights(days, weekday_w))
        first_ids = np.concatenate([[1], 1 + np.cumsum(counts)[:-1]])
        rows = size = 0
        for i, (day, count) in enumerate(zip(days, counts, strict=True)):
            day_index = (day - first_day).days  # event days may start before the order history
            if source is ORDERS:
                table, who = _orders_day(scale, population, day, day_index, int(count), int(first_ids[i]))
                orders_per_customer += np.bincount(who, minlength=scale.customers)
            elif source is SURVEY_RESPONSES:
                table = _surveys_day(scale, population, day, day_index, int(count), int(first_ids[i]))
            else:
                table = _events_day(scale, population, day, day_index, int(count))
            rows += table.num_rows
            size += writer.write(source, day, table)
            if source is USAGE_EVENTS and (i + 1) % 10 == 0:
                log(f"  usage_events: {i + 1}/{len(days)} days, {rows:,} rows, {time.perf_counter() - clock:.0f} s")
        seconds = time.perf_counter() - clock
        stats["sources"][source.name] = {"rows": rows, "days": len(days), "bytes": size, "seconds": seconds}
        log(f"{source.name}: {rows:,} rows over {len(days)} days, {size / 1e6:,.0f} MB in {seconds:.1f} s")

    buyers = orders_per_customer[orders_per_customer > 0]
    if len(buyers):
        stats["orders_per_buyer"] = {
            "buyers": int(len(buyers)),
            "share_buying_once_or_twice": round(float(np.mean(buyers <= 2)), 3),
            "median": float(np.median(buyers)),
            "p99": float(np.percentile(buyers, 99)),
            "max": int(buyers.max()),
        }
    stats["seconds"] = time.perf_counter() - started
    stats["bytes"] = sum(source["bytes"] for source in stats["sources"].values())
    (root / MARKER).write_text(json.dumps(stats, indent=2) + "\n")
    log(f"generated {stats['bytes'] / 1e9:.2f} GB in {stats['seconds']:.0f} s under {root}")
    return stats


def read_marker(root: Path) -> dict | None:
    """The statistics of a completely generated data set under root, or None."""
    marker = Path(root) / MARKER
    return json.loads(marker.read_text()) if marker.exists() else None


def ensure_warehouse(scale: Scale, root: Path | None = None) -> tuple[Path, dict]:
    """The data root of `scale` (default: a cache folder keyed by the scale) and its statistics, generating the
    warehouse first unless a complete one of the same scale is there."""
    root = root or Path(__file__).resolve().parent / "output" / "data" / scale.key()
    marker = read_marker(root)
    if marker is None or marker.get("scale") != scale.as_json():
        print(f"generating the synthetic warehouse under {root} ...", flush=True)
        return root, generate(root, scale, "warehouse")
    print(f"reusing the synthetic warehouse under {root} (generated in {marker['seconds']:.0f} s)")
    return root, marker


def add_scale_arguments(parser: argparse.ArgumentParser) -> None:
    """The scale options shared by this generator and the benchmarks that use it."""
    defaults = Scale()
    parser.add_argument("--customers", type=int, default=defaults.customers)
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--events", type=int, default=defaults.events)
    parser.add_argument("--surveys", type=int, default=defaults.surveys)
    parser.add_argument("--days", type=int, default=defaults.days, help="days of order/survey history")
    parser.add_argument("--event-days", type=int, default=defaults.event_days, help="days of usage events")
    parser.add_argument("--end-date", type=date.fromisoformat, default=defaults.end_date, help="also the snapshot date")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every row count by this factor")


def scale_from_arguments(args: argparse.Namespace, factor: float | None = None) -> Scale:
    scale = Scale(
        args.customers, args.orders, args.events, args.surveys, args.days, args.event_days, args.end_date, args.seed
    )
    return scale.scaled(args.scale if factor is None else factor)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="data root to write under")
    parser.add_argument("--target", choices=("warehouse", "landing"), default="warehouse")
    add_scale_arguments(parser)
    args = parser.parse_args(argv)
    generate(args.out, scale_from_arguments(args), args.target)


if __name__ == "__main__":
    main()
