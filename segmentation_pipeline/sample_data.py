"""Seeded generator of a realistic landing zone (CRM customers and orders, survey responses, usage events).

`generate_landing_zone(out_dir, customers=2000, days=456, seed=42, end_date=None)` writes::

    landing/crm/customers.csv                                    full CRM export
    landing/crm/orders/date=YYYY-MM-DD/orders.csv                one file per day with orders
    landing/survey/responses/date=YYYY-MM-DD/responses.csv       one file per day with responses
    landing/usage/events/date=YYYY-MM-DD/events.parquet          one file per day with events
    ground_truth/personas.csv                                    customer_id,persona (valid customers only)
    ground_truth/planted_errors.csv                              source,date,id,rule (one row per bad row)

Everything is drawn from one `numpy.random.Generator(seed)` with vectorised numpy code, so the same arguments
give byte-identical files. The only wall-clock dependency is the default `end_date` (yesterday, UTC). Stale
`date=*` folders of the three daily datasets under `out_dir/landing` are removed before writing.

Personas (fixed shares; written to ground_truth/personas.csv):

* ``mobile_power_users`` (18%): many short mobile sessions, evenings (~20h UTC), app orders, moderate amounts.
* ``desktop_weekend_browsers`` (17%): desktop, Saturdays/Sundays, afternoons, long sessions, few orders.
* ``high_value_loyalists`` (12%): frequent high-amount orders up to the last day, NPS 9-10, low price sensitivity.
* ``discount_occasional_buyers`` (20%): rare cheap orders, price sensitivity 4-5, low NPS, short weekday-morning visits.
* ``lapsed_customers`` (13%): active only in the first months of the window, nothing in the last ~6 months.
* ``recent_signups`` (10%): created in the last ~45 days, 0-1 orders, exploring the product (frequent short sessions).
* ``tablet_night_readers`` (10%): tablet sessions around midnight, browse/reviews, books.

Planted bad rows (each listed in ground_truth/planted_errors.csv; each breaks exactly one rule, no other row
breaks any rule):

* customers ``duplicate_key`` (~0.3% of customers): a later line repeating an existing customer_id.
* customers ``malformed_email`` (~0.5%): extra junk customers with emails such as ``name.gmail.com`` or
  ``a@@b.com``; they have no orders, responses or events and are not in personas.csv.
* orders ``duplicate_key`` (~0.25% same day, later line; ~0.15% re-delivered on a later day, with an
  ``ordered_at`` inside that later day), ``unknown_customer`` (~0.3%, extra orders of customer ids missing from
  the CRM export), ``negative_amount`` (~0.3%), ``timestamp_outside_partition`` (~0.3%, ordered_at one UTC day
  off its folder).
* survey_responses ``nps_out_of_range`` (~1%, nps 11, 12 or -1).
* usage_events ``unknown_device_type`` (~0.1%, e.g. ``smart_tv``) and ``timestamp_outside_partition`` (~0.1%).

Order timestamps are mostly written with ``Z``; ~20% carry a local offset (``+01:00``, ``+02:00``, ``-05:00``,
...) and ~10% are naive (meaning UTC); all valid ones fall inside their folder's UTC day.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = [
    "CUSTOMER_COLUMNS",
    "EVENT_COLUMNS",
    "ORDER_COLUMNS",
    "PERSONAS",
    "PLANTED_ERROR_COLUMNS",
    "PLANTED_RULES",
    "SURVEY_COLUMNS",
    "generate_landing_zone",
]

CUSTOMER_COLUMNS = (
    "customer_id", "created_at", "email", "full_name", "phone", "birth_year", "gender", "country", "region",
    "city", "income_band", "acquisition_channel", "marketing_opt_in", "company_size", "industry",
)  # fmt: skip
ORDER_COLUMNS = ("order_id", "customer_id", "ordered_at", "amount", "currency", "status", "channel", "product_category")
SURVEY_COLUMNS = (
    "response_id", "customer_id", "submitted_at", "nps", "csat", "price_sensitivity", "primary_need",
    "preferred_contact_channel",
)  # fmt: skip
EVENT_COLUMNS = ("event_id", "customer_id", "event_ts", "session_id", "device_type", "feature", "duration_s")
PLANTED_ERROR_COLUMNS = ("source", "date", "id", "rule")

PLANTED_RULES: dict[str, tuple[str, ...]] = {
    "customers": ("duplicate_key", "malformed_email"),
    "orders": ("duplicate_key", "unknown_customer", "negative_amount", "timestamp_outside_partition"),
    "survey_responses": ("nps_out_of_range",),
    "usage_events": ("unknown_device_type", "timestamp_outside_partition"),
}

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("customer_id", pa.string()),
        ("event_ts", pa.timestamp("us", tz="UTC")),
        ("session_id", pa.string()),
        ("device_type", pa.string()),
        ("feature", pa.string()),
        ("duration_s", pa.float64()),
    ]
)

DAY_S = 86_400
DEVICES = ("desktop", "mobile", "tablet")
FEATURES = ("search", "browse", "cart", "checkout", "wishlist", "reviews", "support", "account", "recommendations")
CATEGORIES = ("electronics", "fashion", "home", "beauty", "sports", "grocery", "books")
CATEGORY_PRICE_FACTOR = np.array([1.7, 1.0, 1.25, 0.7, 1.0, 0.55, 0.45])
CHANNELS = ("web", "app", "store")
STATUSES = ("completed", "cancelled", "refunded")
STATUS_P = (0.90, 0.06, 0.04)
NEEDS = ("price", "quality", "convenience", "selection", "service")
CONTACTS = ("email", "sms", "phone", "app_push", "none")
INCOME_BANDS = ("low", "lower_middle", "upper_middle", "high")
ACQUISITION = ("organic_search", "paid_search", "social", "referral", "email", "affiliate", "direct")
COMPANY_SIZES = ("1-10", "11-50", "51-200", "201-1000", "1000+")
INDUSTRIES = (
    "retail",
    "manufacturing",
    "it_services",
    "healthcare",
    "education",
    "finance",
    "hospitality",
    "logistics",
)
BAD_DEVICES = ("smart_tv", "smart_watch", "console")

# Shares of the rows of a source that get each planted rule (at least one when the source has >= 10 rows).
RATES = {
    ("customers", "duplicate_key"): 0.003,
    ("customers", "malformed_email"): 0.005,
    ("orders", "duplicate_key_same_day"): 0.0025,
    ("orders", "duplicate_key_later_day"): 0.0015,
    ("orders", "unknown_customer"): 0.003,
    ("orders", "negative_amount"): 0.003,
    ("orders", "timestamp_outside_partition"): 0.003,
    ("survey_responses", "nps_out_of_range"): 0.01,
    ("usage_events", "unknown_device_type"): 0.001,
    ("usage_events", "timestamp_outside_partition"): 0.001,
}


@dataclass(frozen=True)
class Persona:
    name: str
    share: float
    new_share: float  # share created inside the window (not for lapsed/recent, which have their own rule)
    order_rate: float  # expected orders per active day
    order_shape: float  # gamma shape of the per-customer rate multiplier (smaller = more skewed)
    amount_mu: float  # lognormal parameters of the order amount before the category factor
    amount_sigma: float
    channel_p: tuple[float, float, float]  # web, app, store
    category_p: tuple[float, ...]  # CATEGORIES
    usage_p: float  # probability of having any usage at all
    session_rate: float  # expected sessions per active day
    events_per_session: float  # mean events per session (>= 1)
    duration_median_s: float  # median seconds spent on one event
    think_mean_s: float  # mean pause between two events of a session
    device_p: tuple[float, float, float]  # desktop, mobile, tablet
    hour_peak: float  # UTC hour of the activity peak
    hour_width: float
    weekday_w: tuple[float, ...]  # Monday..Sunday weights of activity
    feature_p: tuple[float, ...]  # FEATURES
    survey_p: float  # probability of answering the survey at least once
    extra_responses: float  # mean number of additional responses of a respondent
    nps_mean: float
    nps_sd: float
    csat_mean: float
    price_mean: float
    need_p: tuple[float, ...]  # NEEDS
    contact_p: tuple[float, ...]  # CONTACTS
    income_p: tuple[float, ...]  # INCOME_BANDS
    acquisition_p: tuple[float, ...]  # ACQUISITION
    opt_in_p: float
    age_range: tuple[int, int]
    b2b_p: float


FLAT_WEEK = (1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.05)

PERSONAS: tuple[Persona, ...] = (
    Persona(
        "mobile_power_users", 0.18, 0.15, order_rate=0.006, order_shape=1.0, amount_mu=3.8, amount_sigma=0.5,
        channel_p=(0.12, 0.83, 0.05), category_p=(0.28, 0.27, 0.07, 0.18, 0.1, 0.05, 0.05),
        usage_p=1.0, session_rate=0.14, events_per_session=3.0, duration_median_s=12, think_mean_s=25,
        device_p=(0.06, 0.9, 0.04), hour_peak=20.5, hour_width=1.8, weekday_w=FLAT_WEEK,
        feature_p=(0.22, 0.28, 0.13, 0.05, 0.1, 0.04, 0.02, 0.04, 0.12),
        survey_p=0.3, extra_responses=0.3, nps_mean=7.6, nps_sd=1.2, csat_mean=4.0, price_mean=3.0,
        need_p=(0.2, 0.15, 0.45, 0.15, 0.05), contact_p=(0.15, 0.2, 0.03, 0.57, 0.05),
        income_p=(0.25, 0.35, 0.3, 0.1), acquisition_p=(0.12, 0.15, 0.45, 0.1, 0.03, 0.1, 0.05),
        opt_in_p=0.55, age_range=(18, 38), b2b_p=0.03,
    ),
    Persona(
        "desktop_weekend_browsers", 0.17, 0.12, order_rate=0.004, order_shape=3.0, amount_mu=4.2, amount_sigma=0.5,
        channel_p=(0.85, 0.05, 0.1), category_p=(0.2, 0.08, 0.3, 0.04, 0.1, 0.03, 0.25),
        usage_p=0.99, session_rate=0.06, events_per_session=6.0, duration_median_s=80, think_mean_s=110,
        device_p=(0.88, 0.08, 0.04), hour_peak=15.0, hour_width=2.2, weekday_w=(0.3, 0.3, 0.3, 0.3, 0.5, 2.6, 2.4),
        feature_p=(0.2, 0.36, 0.05, 0.02, 0.1, 0.15, 0.02, 0.03, 0.07),
        survey_p=0.2, extra_responses=0.2, nps_mean=7.0, nps_sd=1.5, csat_mean=3.8, price_mean=3.0,
        need_p=(0.15, 0.25, 0.1, 0.4, 0.1), contact_p=(0.7, 0.05, 0.1, 0.05, 0.1),
        income_p=(0.1, 0.3, 0.4, 0.2), acquisition_p=(0.35, 0.15, 0.05, 0.1, 0.1, 0.05, 0.2),
        opt_in_p=0.4, age_range=(30, 62), b2b_p=0.15,
    ),
    Persona(
        "high_value_loyalists", 0.12, 0.05, order_rate=0.055, order_shape=3.0, amount_mu=5.1, amount_sigma=0.45,
        channel_p=(0.5, 0.35, 0.15), category_p=(0.25, 0.2, 0.2, 0.12, 0.1, 0.08, 0.05),
        usage_p=0.98, session_rate=0.08, events_per_session=4.0, duration_median_s=40, think_mean_s=50,
        device_p=(0.48, 0.44, 0.08), hour_peak=12.5, hour_width=3.5, weekday_w=(1.1, 1.05, 1.05, 1.05, 1.0, 0.85, 0.9),
        feature_p=(0.15, 0.18, 0.2, 0.16, 0.05, 0.05, 0.04, 0.05, 0.12),
        survey_p=0.45, extra_responses=0.6, nps_mean=9.3, nps_sd=0.6, csat_mean=4.6, price_mean=1.5,
        need_p=(0.03, 0.45, 0.2, 0.12, 0.2), contact_p=(0.45, 0.1, 0.15, 0.25, 0.05),
        income_p=(0.02, 0.13, 0.4, 0.45), acquisition_p=(0.2, 0.1, 0.05, 0.3, 0.1, 0.02, 0.23),
        opt_in_p=0.7, age_range=(32, 66), b2b_p=0.18,
    ),
    Persona(
        "discount_occasional_buyers", 0.20, 0.18, order_rate=0.005, order_shape=4.0, amount_mu=2.5,
        amount_sigma=0.45, channel_p=(0.55, 0.35, 0.1), category_p=(0.1, 0.25, 0.1, 0.15, 0.1, 0.25, 0.05),
        usage_p=0.98, session_rate=0.07, events_per_session=3.0, duration_median_s=25, think_mean_s=40,
        device_p=(0.35, 0.6, 0.05), hour_peak=8.5, hour_width=2.0, weekday_w=(1.4, 1.4, 1.4, 1.4, 1.2, 0.3, 0.3),
        feature_p=(0.3, 0.3, 0.12, 0.04, 0.12, 0.05, 0.02, 0.02, 0.03),
        survey_p=0.3, extra_responses=0.2, nps_mean=4.2, nps_sd=1.7, csat_mean=2.9, price_mean=4.6,
        need_p=(0.75, 0.03, 0.1, 0.1, 0.02), contact_p=(0.55, 0.25, 0.02, 0.08, 0.1),
        income_p=(0.4, 0.38, 0.18, 0.04), acquisition_p=(0.1, 0.25, 0.1, 0.05, 0.2, 0.25, 0.05),
        opt_in_p=0.75, age_range=(19, 72), b2b_p=0.04,
    ),
    Persona(
        "lapsed_customers", 0.13, 0.0, order_rate=0.017, order_shape=1.0, amount_mu=4.0, amount_sigma=0.5,
        channel_p=(0.6, 0.3, 0.1), category_p=(0.18, 0.22, 0.15, 0.12, 0.13, 0.12, 0.08),
        usage_p=0.85, session_rate=0.06, events_per_session=4.0, duration_median_s=35, think_mean_s=50,
        device_p=(0.5, 0.42, 0.08), hour_peak=19.0, hour_width=3.0, weekday_w=FLAT_WEEK,
        feature_p=(0.2, 0.28, 0.1, 0.05, 0.05, 0.05, 0.15, 0.07, 0.05),
        survey_p=0.15, extra_responses=0.1, nps_mean=5.0, nps_sd=2.0, csat_mean=3.0, price_mean=3.5,
        need_p=(0.3, 0.2, 0.2, 0.15, 0.15), contact_p=(0.5, 0.1, 0.05, 0.1, 0.25),
        income_p=(0.25, 0.3, 0.3, 0.15), acquisition_p=(0.15, 0.2, 0.15, 0.1, 0.1, 0.15, 0.15),
        opt_in_p=0.35, age_range=(22, 70), b2b_p=0.08,
    ),
    Persona(
        "recent_signups", 0.10, 0.0, order_rate=0.0, order_shape=1.0, amount_mu=3.7, amount_sigma=0.5,
        channel_p=(0.5, 0.45, 0.05), category_p=(0.2, 0.25, 0.15, 0.15, 0.1, 0.05, 0.1),
        usage_p=1.0, session_rate=0.25, events_per_session=3.0, duration_median_s=30, think_mean_s=40,
        device_p=(0.35, 0.6, 0.05), hour_peak=19.5, hour_width=3.0, weekday_w=FLAT_WEEK,
        feature_p=(0.2, 0.25, 0.08, 0.03, 0.05, 0.05, 0.08, 0.2, 0.06),
        survey_p=0.25, extra_responses=0.05, nps_mean=7.4, nps_sd=1.5, csat_mean=3.9, price_mean=3.2,
        need_p=(0.25, 0.2, 0.25, 0.2, 0.1), contact_p=(0.45, 0.15, 0.05, 0.25, 0.1),
        income_p=(0.25, 0.3, 0.3, 0.15), acquisition_p=(0.15, 0.25, 0.25, 0.1, 0.05, 0.1, 0.1),
        opt_in_p=0.6, age_range=(18, 55), b2b_p=0.08,
    ),
    Persona(
        "tablet_night_readers", 0.10, 0.10, order_rate=0.005, order_shape=2.0, amount_mu=3.5, amount_sigma=0.45,
        channel_p=(0.3, 0.65, 0.05), category_p=(0.08, 0.07, 0.12, 0.08, 0.03, 0.02, 0.6),
        usage_p=0.99, session_rate=0.07, events_per_session=5.0, duration_median_s=70, think_mean_s=80,
        device_p=(0.06, 0.08, 0.86), hour_peak=23.5, hour_width=1.5, weekday_w=FLAT_WEEK,
        feature_p=(0.08, 0.44, 0.04, 0.02, 0.06, 0.31, 0.01, 0.02, 0.02),
        survey_p=0.25, extra_responses=0.2, nps_mean=7.6, nps_sd=1.2, csat_mean=4.0, price_mean=2.7,
        need_p=(0.15, 0.3, 0.15, 0.35, 0.05), contact_p=(0.6, 0.05, 0.05, 0.2, 0.1),
        income_p=(0.15, 0.3, 0.35, 0.2), acquisition_p=(0.3, 0.1, 0.1, 0.15, 0.15, 0.05, 0.15),
        opt_in_p=0.45, age_range=(38, 76), b2b_p=0.02,
    ),
)  # fmt: skip

P_MOBILE, P_DESKTOP, P_LOYAL, P_DISCOUNT, P_LAPSED, P_RECENT, P_TABLET = range(len(PERSONAS))

# country, weight, calling code, currency, (female names), (male names), (last names), (mail domains), (city, region)
# The shop prices in EUR everywhere except GB (GBP) and the US (USD).
_COUNTRIES = (
    ("DE", 0.25, "+49", "EUR",
     ("Anna", "Lena", "Laura", "Julia", "Sophie", "Katharina", "Sabine", "Petra"),
     ("Lukas", "Jonas", "Felix", "Maximilian", "Thomas", "Michael", "Stefan", "Jürgen"),
     ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann", "Schulz"),
     ("gmx.de", "web.de", "t-online.de"),
     (("Berlin", "Berlin"), ("Hamburg", "Hamburg"), ("Munich", "Bavaria"), ("Nuremberg", "Bavaria"),
      ("Cologne", "North Rhine-Westphalia"), ("Düsseldorf", "North Rhine-Westphalia"), ("Frankfurt", "Hesse"),
      ("Stuttgart", "Baden-Württemberg"), ("Leipzig", "Saxony"))),
    ("FR", 0.15, "+33", "EUR",
     ("Camille", "Léa", "Manon", "Chloé", "Julie", "Marie", "Nathalie", "Isabelle"),
     ("Lucas", "Hugo", "Louis", "Thomas", "Nicolas", "Julien", "Pierre", "Antoine"),
     ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau"),
     ("orange.fr", "free.fr", "laposte.net"),
     (("Paris", "Île-de-France"), ("Lyon", "Auvergne-Rhône-Alpes"), ("Marseille", "Provence-Alpes-Côte d'Azur"),
      ("Toulouse", "Occitanie"), ("Lille", "Hauts-de-France"), ("Nantes", "Pays de la Loire"),
      ("Bordeaux", "Nouvelle-Aquitaine"))),
    ("GB", 0.13, "+44", "GBP",
     ("Olivia", "Amelia", "Emily", "Sophie", "Charlotte", "Sarah", "Emma", "Rachel"),
     ("Oliver", "George", "Harry", "Jack", "James", "William", "Daniel", "Thomas"),
     ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Evans", "O'Brien"),
     ("btinternet.com", "sky.com", "yahoo.co.uk"),
     (("London", "England"), ("Manchester", "England"), ("Birmingham", "England"), ("Leeds", "England"),
      ("Glasgow", "Scotland"), ("Edinburgh", "Scotland"), ("Cardiff", "Wales"), ("Belfast", "Northern Ireland"))),
    ("US", 0.10, "+1", "USD",
     ("Emma", "Olivia", "Ava", "Madison", "Jessica", "Ashley", "Jennifer", "Megan"),
     ("Liam", "Noah", "Ethan", "Michael", "Christopher", "Matthew", "Joshua", "Tyler"),
     ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez"),
     ("yahoo.com", "aol.com", "icloud.com"),
     (("New York", "New York"), ("Los Angeles", "California"), ("San Francisco", "California"),
      ("Chicago", "Illinois"), ("Houston", "Texas"), ("Seattle", "Washington"), ("Boston", "Massachusetts"),
      ("Miami", "Florida"), ("Denver", "Colorado"))),
    ("NL", 0.10, "+31", "EUR",
     ("Emma", "Sanne", "Lotte", "Fleur", "Anouk", "Iris"),
     ("Daan", "Sem", "Bram", "Thijs", "Jeroen", "Ruben"),
     ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer"),
     ("ziggo.nl", "kpnmail.nl", "hetnet.nl"),
     (("Amsterdam", "North Holland"), ("Haarlem", "North Holland"), ("Rotterdam", "South Holland"),
      ("The Hague", "South Holland"), ("Utrecht", "Utrecht"), ("Eindhoven", "North Brabant"),
      ("Groningen", "Groningen"))),
    ("ES", 0.08, "+34", "EUR",
     ("Lucía", "María", "Paula", "Carmen", "Laura", "Marta"),
     ("Hugo", "Pablo", "Alejandro", "Javier", "Carlos", "Daniel"),
     ("García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Ruiz"),
     ("telefonica.net", "yahoo.es", "movistar.es"),
     (("Madrid", "Community of Madrid"), ("Barcelona", "Catalonia"), ("Valencia", "Valencian Community"),
      ("Seville", "Andalusia"), ("Málaga", "Andalusia"), ("Bilbao", "Basque Country"))),
    ("IT", 0.08, "+39", "EUR",
     ("Giulia", "Sofia", "Martina", "Chiara", "Francesca", "Alessia"),
     ("Lorenzo", "Matteo", "Andrea", "Marco", "Luca", "Giuseppe"),
     ("Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco"),
     ("libero.it", "virgilio.it", "alice.it"),
     (("Rome", "Lazio"), ("Milan", "Lombardy"), ("Bergamo", "Lombardy"), ("Naples", "Campania"),
      ("Turin", "Piedmont"), ("Bologna", "Emilia-Romagna"), ("Florence", "Tuscany"))),
    ("PL", 0.06, "+48", "EUR",
     ("Zuzanna", "Julia", "Maja", "Anna", "Katarzyna", "Agnieszka"),
     ("Jakub", "Jan", "Piotr", "Tomasz", "Krzysztof", "Paweł"),
     ("Nowak", "Kowalczyk", "Wójcik", "Kamiński", "Lewandowski",
      "Zieliński", "Szymański", "Woźniak", "Mazur", "Krawczyk"),
     ("wp.pl", "onet.pl", "o2.pl"),
     (("Warsaw", "Masovia"), ("Kraków", "Lesser Poland"), ("Wrocław", "Lower Silesia"), ("Gdańsk", "Pomerania"),
      ("Poznań", "Greater Poland"), ("Łódź", "Łódź"))),
    ("SE", 0.05, "+46", "EUR",
     ("Alice", "Maja", "Elsa", "Astrid", "Ebba", "Karin"),
     ("William", "Oscar", "Lucas", "Erik", "Johan", "Anders"),
     ("Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson",
      "Larsson", "Olsson", "Persson", "Svensson", "Gustafsson"),
     ("telia.com", "bredband.net", "spray.se"),
     (("Stockholm", "Stockholm"), ("Gothenburg", "Västra Götaland"), ("Malmö", "Skåne"), ("Uppsala", "Uppsala"),
      ("Västerås", "Västmanland"))),
)  # fmt: skip
_GENERIC_DOMAINS = ("gmail.com", "outlook.com", "hotmail.com", "icloud.com", "yahoo.com")
_COMPANY_WORDS = ("nordwind", "bluepeak", "lumen", "vertex", "kestrel", "orbit", "greenfield", "ironbridge", "sunline",
                  "brightpath", "northstar", "quarry", "meridian", "alder", "copperleaf")  # fmt: skip
_COMPANY_TLD = {"DE": "de", "FR": "fr", "GB": "co.uk", "US": "com", "NL": "nl", "ES": "es", "IT": "it", "PL": "pl",
                "SE": "se"}  # fmt: skip
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "é": "e", "è": "e", "á": "a", "í": "i",
                           "ó": "o", "ú": "u", "ñ": "n", "ç": "c", "ł": "l", "ś": "s", "ź": "z", "ż": "z", "ń": "n",
                           "ą": "a", "ę": "e", "ć": "c", "å": "a", " ": "", "'": ""})  # fmt: skip
_DAILY_DATASETS = ("crm/orders", "survey/responses", "usage/events")
_DAY_DIR = re.compile(r"^date=\d{4}-\d{2}-\d{2}$")


# --------------------------------------------------------------------------------------------------------------------
# small vectorised helpers


def _p(values) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr / arr.sum(axis=-1, keepdims=True)


def _cat_by_group(rng: np.random.Generator, probs: np.ndarray, group: np.ndarray) -> np.ndarray:
    """One categorical draw per row, with the probabilities of the row's group (probs[group] rows sum to 1)."""
    cum = np.cumsum(_p(probs), axis=1)
    cum[:, -1] = 1.0
    u = rng.random(group.shape[0])
    out = np.zeros(group.shape[0], dtype=np.int64)
    for g in range(probs.shape[0]):
        mask = group == g
        if mask.any():
            out[mask] = np.searchsorted(cum[g], u[mask], side="right")
    return np.minimum(out, probs.shape[1] - 1)


def _days_in_interval(
    rng: np.random.Generator, weights: np.ndarray, group: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """One day per row in [lo, hi] (inclusive), drawn proportionally to weights[group, day]."""
    cum = np.concatenate([np.zeros((weights.shape[0], 1)), np.cumsum(weights, axis=1)], axis=1)
    u = rng.random(group.shape[0])
    out = np.zeros(group.shape[0], dtype=np.int64)
    for g in range(weights.shape[0]):
        mask = group == g
        if not mask.any():
            continue
        c = cum[g]
        a, b = c[lo[mask]], c[hi[mask] + 1]
        out[mask] = np.searchsorted(c, a + u[mask] * (b - a), side="right") - 1
    return np.clip(out, lo, hi)


def _n_planted(rate: float, n_rows: int) -> int:
    if n_rows < 10:
        return 0
    return max(1, int(round(rate * n_rows)))


def _zfill(numbers: np.ndarray, width: int) -> np.ndarray:
    """Non-negative integers as zero-padded strings (object array)."""
    if numbers.size == 0:
        return np.zeros(0, dtype=object)
    return np.char.zfill(np.asarray(numbers, dtype=np.int64).astype(str), width).astype(object)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> np.ndarray:
    return prefix + _zfill(numbers, width)


def _iso(seconds: np.ndarray) -> np.ndarray:
    """'YYYY-MM-DDTHH:MM:SS' for integer epoch seconds."""
    return np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s").astype(object)


def _circular_hour_weights(peak: float, width: float) -> np.ndarray:
    hours = np.arange(24) + 0.5
    dist = np.abs(hours - peak)
    dist = np.minimum(dist, 24 - dist)
    return 0.04 + np.exp(-0.5 * (dist / width) ** 2)


def _strs(values: tuple[str, ...]) -> np.ndarray:
    return np.array(values, dtype=object)


# --------------------------------------------------------------------------------------------------------------------
# the generator


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
    start_date = end_date - dt.timedelta(days=days - 1)
    out = Path(out_dir)
    rng = np.random.default_rng(seed)
    ctx = _Context(rng=rng, n=customers, days=days, start=start_date, end=end_date)

    crm = _customers(ctx)
    orders, order_errors = _orders(ctx, crm)
    survey, survey_errors = _survey(ctx, crm)
    events, event_errors = _events(ctx, crm)

    _clear_daily_folders(out / "landing")
    crm_path = out / "landing" / "crm" / "customers.csv"
    crm_path.parent.mkdir(parents=True, exist_ok=True)
    crm["file"].to_csv(crm_path, index=False, lineterminator="\n")
    order_days = _write_daily_csv(out / "landing" / "crm" / "orders", "orders.csv", orders, ORDER_COLUMNS, start_date)
    survey_days = _write_daily_csv(
        out / "landing" / "survey" / "responses", "responses.csv", survey, SURVEY_COLUMNS, start_date
    )
    event_days = _write_daily_parquet(out / "landing" / "usage" / "events", events, start_date)

    truth = out / "ground_truth"
    truth.mkdir(parents=True, exist_ok=True)
    crm["personas"].to_csv(truth / "personas.csv", index=False, lineterminator="\n")
    planted = pd.concat([crm["errors"], order_errors, survey_errors, event_errors], ignore_index=True)
    source_rank = {name: i for i, name in enumerate(PLANTED_RULES)}
    planted = (
        planted.assign(_rank=planted["source"].map(source_rank))
        .sort_values(["_rank", "date", "id", "rule"], kind="stable")
        .drop(columns="_rank")
        .reset_index(drop=True)
    )
    planted.to_csv(truth / "planted_errors.csv", index=False, lineterminator="\n")

    counts = planted.groupby(["source", "rule"], sort=False).size()
    return {
        "out_dir": str(out),
        "seed": seed,
        "customers": customers,
        "days": days,
        "date_range": {"start": start_date.isoformat(), "end": end_date.isoformat()},
        "rows": {
            "customers": len(crm["file"]),
            "orders": len(orders),
            "survey_responses": len(survey),
            "usage_events": len(events["table"]),
        },
        "partitions": {"orders": order_days, "survey_responses": survey_days, "usage_events": event_days},
        "planted_errors": {
            source: {rule: int(counts.get((source, rule), 0)) for rule in rules}
            for source, rules in PLANTED_RULES.items()
        },
        "personas": {p.name: int((crm["personas"]["persona"] == p.name).sum()) for p in PERSONAS},
    }


@dataclass
class _Context:
    rng: np.random.Generator
    n: int
    days: int
    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        self.start_s = int((self.start - dt.date(1970, 1, 1)).days) * DAY_S  # epoch seconds of the first day
        self.end_s = self.start_s + self.days * DAY_S  # exclusive
        day_dates = np.datetime64(self.start.isoformat(), "D") + np.arange(self.days)
        self.weekday = ((day_dates.astype(np.int64) + 3) % 7).astype(np.int64)  # Monday=0
        doy = (day_dates - day_dates.astype("datetime64[Y]")).astype(np.int64) + 1
        self.month = (day_dates.astype("datetime64[M]").astype(np.int64) % 12) + 1
        dist = np.abs(doy - 345)
        dist = np.minimum(dist, 365 - dist)
        bf = np.minimum(np.abs(doy - 331), 365 - np.abs(doy - 331))
        self.season = 1 + 0.9 * np.exp(-0.5 * (dist / 16) ** 2) + 0.6 * np.exp(-0.5 * (bf / 2.5) ** 2)
        self.season += 0.12 * np.cos(2 * np.pi * (doy - 15) / 365)


def _customers(ctx: _Context) -> dict:
    rng, n, days = ctx.rng, ctx.n, ctx.days
    n_junk = _n_planted(RATES[("customers", "malformed_email")], n) if n >= 10 else 0
    total = n + n_junk

    # personas: fixed shares (largest-remainder rounding), assigned in shuffled order
    quota = np.array([p.share for p in PERSONAS]) * n
    counts = np.floor(quota).astype(int)
    counts[np.argsort(-(quota - counts), kind="stable")[: n - counts.sum()]] += 1
    persona = rng.permutation(np.repeat(np.arange(len(PERSONAS)), counts))
    attr_persona = np.concatenate([persona, rng.integers(0, len(PERSONAS), n_junk)])  # junk: attributes only
    is_junk = np.concatenate([np.zeros(n, bool), np.ones(n_junk, bool)])

    # creation day relative to the first landing day (negative = before the window)
    before = -rng.integers(1, 3 * 365 + 1, total)
    new_share = np.array([p.new_share for p in PERSONAS])[attr_persona]
    inside = rng.integers(0, max(1, days - 45), total)
    created_day = np.where(rng.random(total) < new_share, inside, before)
    recent = (attr_persona == P_RECENT) & ~is_junk
    created_day[recent] = rng.integers(max(0, days - 45), days, recent.sum())
    lapsed = (attr_persona == P_LAPSED) & ~is_junk
    created_day[lapsed] = -rng.integers(30, 3 * 365, lapsed.sum())
    created_day[is_junk] = rng.integers(-3 * 365, days, n_junk)
    created_s = ctx.start_s + created_day * DAY_S + rng.integers(0, DAY_S, total)

    # ids in order of creation, like a real CRM sequence
    order = np.argsort(created_s, kind="stable")
    number = np.empty(total, dtype=np.int64)
    number[order] = np.arange(1, total + 1)
    customer_id = _ids("C", number, 6)

    # demography and contact data
    country_idx = rng.choice(len(_COUNTRIES), size=total, p=_p([c[1] for c in _COUNTRIES]))
    gender = rng.choice(np.array(["female", "male", "other", ""], dtype=object), size=total, p=[0.48, 0.46, 0.02, 0.04])
    female_name = (gender == "female") | ((gender != "male") & (rng.random(total) < 0.5))
    first = np.empty(total, dtype=object)
    last = np.empty(total, dtype=object)
    domain = np.empty(total, dtype=object)
    city = np.empty(total, dtype=object)
    region = np.empty(total, dtype=object)
    calling = np.empty(total, dtype=object)
    for ci, (_, _, code, _, females, males, lasts, domains, places) in enumerate(_COUNTRIES):
        m = country_idx == ci
        k = int(m.sum())
        if not k:
            continue
        fm = female_name[m]
        first[m] = np.where(fm, _strs(females)[rng.integers(0, len(females), k)],
                            _strs(males)[rng.integers(0, len(males), k)])  # fmt: skip
        last[m] = _strs(lasts)[rng.integers(0, len(lasts), k)]
        domain[m] = _strs(domains)[rng.integers(0, len(domains), k)]
        place = rng.integers(0, len(places), k)
        city[m] = _strs(tuple(p[0] for p in places))[place]
        region[m] = _strs(tuple(p[1] for p in places))[place]
        calling[m] = code
    generic = rng.random(total) < 0.6
    domain = np.where(generic, _strs(_GENERIC_DOMAINS)[rng.integers(0, len(_GENERIC_DOMAINS), total)], domain)

    b2b = rng.random(total) < np.array([p.b2b_p for p in PERSONAS])[attr_persona]
    company = _strs(_COMPANY_WORDS)[rng.integers(0, len(_COMPANY_WORDS), total)]
    tld = pd.Series(np.array([c[0] for c in _COUNTRIES])[country_idx]).map(_COMPANY_TLD).to_numpy(dtype=object)
    domain = np.where(b2b, company + "." + tld, domain)

    first_s = pd.Series(first, dtype="str")
    last_s = pd.Series(last, dtype="str")
    first_mail = first_s.str.lower().str.translate(_TRANSLIT)
    last_mail = last_s.str.lower().str.translate(_TRANSLIT)
    style = rng.integers(0, 4, total)
    local = np.select(
        [style == 0, style == 1, style == 2],
        [first_mail + "." + last_mail, first_mail + last_mail, first_mail.str[0] + "." + last_mail],
        default=first_mail + "_" + last_mail,
    )
    local = pd.Series(local, dtype="str")
    with_digits = rng.random(total) < 0.45
    digits = pd.Series(rng.integers(1, 100, total)).astype(str)
    local = local.where(~with_digits, local + digits)
    email = local + "@" + pd.Series(domain, dtype="str")
    dup_mail = email.duplicated(keep="first")
    email = email.where(~dup_mail, local + pd.Series(number).astype(str) + "@" + pd.Series(domain, dtype="str"))

    # malformed emails of the junk customers
    junk_idx = np.flatnonzero(is_junk)
    broken_style = rng.integers(0, 5, n_junk)
    jl = local.iloc[junk_idx].reset_index(drop=True)
    jd = pd.Series(domain[junk_idx], dtype="str")
    spaced = first_mail.iloc[junk_idx].reset_index(drop=True) + " " + last_mail.iloc[junk_idx].reset_index(drop=True)
    broken = np.select(
        [broken_style == 0, broken_style == 1, broken_style == 2, broken_style == 3],
        [jl + "." + jd, jl + "@@" + jd, jl + "@" + jd.str.replace(".", "", regex=False), spaced + "@" + jd],
        default=jl + "@",
    )
    email = email.to_numpy(dtype=object)
    email[junk_idx] = broken

    full_name = (first_s + " " + last_s).to_numpy(dtype=object)
    phone = (
        pd.Series(calling, dtype="str") + " " + pd.Series(rng.integers(100, 1000, total)).astype(str) + " "
        + pd.Series(rng.integers(0, 10_000_000, total)).astype(str).str.zfill(7)
    ).to_numpy(dtype=object)  # fmt: skip

    age_lo = np.array([p.age_range[0] for p in PERSONAS])[attr_persona]
    age_hi = np.array([p.age_range[1] for p in PERSONAS])[attr_persona]
    age = age_lo + np.floor(rng.random(total) * (age_hi - age_lo + 1)).astype(int)
    birth_year = pd.array(ctx.end.year - age, dtype="Int64")
    birth_year[rng.random(total) < 0.06] = pd.NA

    income = _strs(INCOME_BANDS)[_cat_by_group(rng, np.array([p.income_p for p in PERSONAS]), attr_persona)]
    income[rng.random(total) < 0.05] = ""
    acquisition = _strs(ACQUISITION)[_cat_by_group(rng, np.array([p.acquisition_p for p in PERSONAS]), attr_persona)]
    opt_in = np.where(rng.random(total) < np.array([p.opt_in_p for p in PERSONAS])[attr_persona], "true", "false")
    company_size = np.where(b2b, _strs(COMPANY_SIZES)[rng.choice(5, total, p=[0.35, 0.3, 0.18, 0.12, 0.05])], "")
    industry = np.where(b2b, _strs(INDUSTRIES)[rng.integers(0, len(INDUSTRIES), total)], "")
    country = np.array([c[0] for c in _COUNTRIES], dtype=object)[country_idx]

    frame = pd.DataFrame(
        {
            "customer_id": customer_id,
            "created_at": _iso(created_s) + "Z",
            "email": email,
            "full_name": full_name,
            "phone": phone,
            "birth_year": birth_year,
            "gender": gender,
            "country": country,
            "region": region,
            "city": city,
            "income_band": income,
            "acquisition_channel": acquisition,
            "marketing_opt_in": opt_in,
            "company_size": company_size,
            "industry": industry,
        }
    )
    for column in ("gender", "income_band", "company_size", "industry"):
        frame[column] = frame[column].astype("str").replace("", pd.NA)

    # file order: by customer_id, duplicates inserted at a random later position than their original
    n_dup = _n_planted(RATES[("customers", "duplicate_key")], n)
    dup_src = rng.choice(n, size=n_dup, replace=False) if n_dup else np.zeros(0, dtype=np.int64)
    pos = (number - 1).astype(float)  # position of the original rows when sorted by id
    dup_pos = pos[dup_src] + 0.5 + rng.random(n_dup) * (total - 1 - pos[dup_src])
    file = pd.concat([frame, frame.iloc[dup_src]], ignore_index=True)
    key = np.concatenate([pos, dup_pos])
    file = file.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)

    valid = ~is_junk
    personas = pd.DataFrame(
        {"customer_id": customer_id[valid], "persona": _strs(tuple(p.name for p in PERSONAS))[persona]}
    ).sort_values("customer_id", kind="stable", ignore_index=True)
    errors = pd.DataFrame(
        {
            "source": "customers",
            "date": "",
            "id": np.concatenate([customer_id[dup_src], customer_id[junk_idx]]),
            "rule": ["duplicate_key"] * n_dup + ["malformed_email"] * n_junk,
        }
    )

    # what the daily sources need, for the valid customers only (indices 0..n-1)
    created_day_v = created_day[:n]
    lo = np.maximum(created_day_v, 0)
    hi = np.full(n, days - 1)
    if days >= 270:
        lapse_hi, lapse_lo = days - 181, 60
    else:
        lapse_hi = max(0, int(days * 0.4))
        lapse_lo = max(0, int(lapse_hi * 0.25))
    lapsed_v = persona == P_LAPSED
    hi[lapsed_v] = rng.integers(lapse_lo, lapse_hi + 1, lapsed_v.sum())
    hi = np.maximum(hi, lo)
    return {
        "file": file,
        "personas": personas,
        "errors": errors,
        "persona": persona,
        "customer_id": customer_id[:n],
        "created_s": created_s[:n],
        "currency": np.array([c[3] for c in _COUNTRIES], dtype=object)[country_idx[:n]],
        "country": country[:n],
        "lo": lo,
        "hi": hi,
        "n_total": total,
    }


def _within_day_after(ctx: _Context, rng, ts: np.ndarray, day: np.ndarray, created_s: np.ndarray) -> np.ndarray:
    """Move timestamps that fall before the customer's creation to a random later second of the same day."""
    day_end = ctx.start_s + (day + 1) * DAY_S
    early = ts <= created_s
    if early.any():
        room = day_end[early] - created_s[early] - 1
        ts = ts.copy()
        ts[early] = created_s[early] + 1 + np.floor(rng.random(early.sum()) * np.maximum(room, 0)).astype(np.int64)
    return ts


def _times_of_day(rng, persona_of_row: np.ndarray, width_scale: float = 1.0) -> np.ndarray:
    hours = np.array([_circular_hour_weights(p.hour_peak, p.hour_width * width_scale) for p in PERSONAS])
    hour = _cat_by_group(rng, hours, persona_of_row)
    return hour * 3600 + rng.integers(0, 3600, persona_of_row.shape[0])


def _orders(ctx: _Context, crm: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng, n, days = ctx.rng, ctx.n, ctx.days
    persona, lo, hi = crm["persona"], crm["lo"], crm["hi"]
    active = hi - lo + 1

    rate = np.array([p.order_rate for p in PERSONAS])[persona]
    shape = np.array([p.order_shape for p in PERSONAS])[persona]
    mult = rng.gamma(shape, 1.0 / shape)
    n_orders = rng.poisson(rate * active * mult)
    recent = persona == P_RECENT
    n_orders[recent] = (rng.random(recent.sum()) < 0.55).astype(np.int64)

    cust = np.repeat(np.arange(n), n_orders)
    op = persona[cust]
    weekday_order = np.array([1.05, 1.0, 1.0, 1.0, 0.95, 0.9, 1.15])
    weights = np.array([ctx.season * weekday_order[ctx.weekday] * np.array(p.weekday_w)[ctx.weekday] for p in PERSONAS])
    day = _days_in_interval(rng, weights, op, lo[cust], hi[cust])
    ts = ctx.start_s + day * DAY_S + _times_of_day(rng, op, width_scale=1.3)
    ts = _within_day_after(ctx, rng, ts, day, crm["created_s"][cust])

    category = _cat_by_group(rng, np.array([p.category_p for p in PERSONAS]), op)
    mu = np.array([p.amount_mu for p in PERSONAS])[op]
    sigma = np.array([p.amount_sigma for p in PERSONAS])[op]
    amount = np.round(np.exp(mu + sigma * rng.standard_normal(cust.size)) * CATEGORY_PRICE_FACTOR[category], 2)
    channel = _cat_by_group(rng, np.array([p.channel_p for p in PERSONAS]), op)
    customer_id = crm["customer_id"][cust]
    currency = crm["currency"][cust]
    country = crm["country"][cust]

    # extra orders of customers that are not in the CRM export
    n_unknown = _n_planted(RATES[("orders", "unknown_customer")], cust.size)
    u_day = rng.integers(0, days, n_unknown)
    u_ts = ctx.start_s + u_day * DAY_S + rng.integers(0, DAY_S, n_unknown)
    u_cat = rng.integers(0, len(CATEGORIES), n_unknown)
    u_amount = np.round(np.exp(3.9 + 0.5 * rng.standard_normal(n_unknown)) * CATEGORY_PRICE_FACTOR[u_cat], 2)
    u_id = _ids("C", crm["n_total"] + 1 + rng.choice(max(50_000, 10 * n_unknown), n_unknown, replace=False), 6)

    day = np.concatenate([day, u_day])
    ts = np.concatenate([ts, u_ts])
    category = np.concatenate([category, u_cat])
    amount = np.concatenate([amount, u_amount])
    channel = np.concatenate([channel, rng.choice(3, n_unknown, p=[0.6, 0.3, 0.1])])
    customer_id = np.concatenate([customer_id, u_id])
    currency = np.concatenate([currency, np.full(n_unknown, "EUR", dtype=object)])
    country = np.concatenate([country, np.full(n_unknown, "DE", dtype=object)])
    is_unknown = np.concatenate([np.zeros(cust.size, bool), np.ones(n_unknown, bool)])
    status = rng.choice(3, ts.size, p=STATUS_P)

    # ids in time order
    order = np.argsort(ts, kind="stable")
    day, ts, category, amount, channel, customer_id, currency, country, is_unknown, status = (
        a[order] for a in (day, ts, category, amount, channel, customer_id, currency, country, is_unknown, status)
    )
    m = ts.size
    order_id = _ids("O", np.arange(1, m + 1), 8)

    # planted errors on distinct known-customer orders
    candidates = rng.permutation(np.flatnonzero(~is_unknown))
    n_neg = _n_planted(RATES[("orders", "negative_amount")], m)
    n_out = _n_planted(RATES[("orders", "timestamp_outside_partition")], m) if days >= 2 else 0
    n_same = _n_planted(RATES[("orders", "duplicate_key_same_day")], m)
    later_ok = candidates[day[candidates] < days - 1]
    n_later = _n_planted(RATES[("orders", "duplicate_key_later_day")], m) if days >= 2 else 0
    neg_idx, rest = candidates[:n_neg], candidates[n_neg:]
    out_idx, rest = rest[:n_out], rest[n_out:]
    same_idx, rest = rest[:n_same], rest[n_same:]
    later_idx = np.setdiff1d(later_ok, np.concatenate([neg_idx, out_idx, same_idx]), assume_unique=True)
    later_idx = later_idx[rng.permutation(later_idx.size)[:n_later]]

    amount[neg_idx] = -np.maximum(amount[neg_idx], 1.0)
    shift = np.where(day[out_idx] > 0, -1, 1)
    written_ts = ts.copy()
    written_ts[out_idx] = ts[out_idx] + shift * (DAY_S // 2 + rng.integers(0, DAY_S // 2, n_out))
    # the shifted second must be on another UTC day
    written_ts[out_idx] = np.where(
        (written_ts[out_idx] - ctx.start_s) // DAY_S == day[out_idx], written_ts[out_idx] + shift * DAY_S,
        written_ts[out_idx],
    )  # fmt: skip

    # timestamp format: Z (70%), local offset (20%), naive (10%)
    fmt = rng.choice(3, m, p=[0.7, 0.2, 0.1])
    summer = np.isin(((written_ts // DAY_S).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12) + 1,
                     np.arange(4, 11))  # fmt: skip
    offset_min = np.select(
        [country == "US", country == "GB"],
        [np.where(summer, -240, -300), np.where(summer, 60, 0)],
        default=np.where(summer, 120, 60),
    )
    offset_min = np.where(is_unknown, np.where(rng.random(m) < 0.5, -300, 120), offset_min)
    fmt = np.where((fmt == 1) & (offset_min == 0), 0, fmt)
    local_str = _iso(written_ts + offset_min * 60)
    sign = np.where(offset_min < 0, "-", "+").astype(object)
    off = np.abs(offset_min)
    off_str = sign + _zfill(off // 60, 2) + ":" + _zfill(off % 60, 2)
    utc_str = _iso(written_ts)
    ordered_at = np.where(fmt == 0, utc_str + "Z", np.where(fmt == 1, local_str + off_str, utc_str))

    frame = pd.DataFrame(
        {
            "order_id": order_id,
            "customer_id": customer_id,
            "ordered_at": ordered_at,
            "amount": amount,
            "currency": currency,
            "status": _strs(STATUSES)[status],
            "channel": _strs(CHANNELS)[channel],
            "product_category": _strs(CATEGORIES)[category],
            "_day": day,
            "_key": (ts - ctx.start_s).astype(float),
        }
    )
    # same-day duplicates: exact copies at a random later line of the same file
    same = frame.iloc[same_idx].copy()
    day_end_key = (same["_day"].to_numpy() + 1) * DAY_S
    same["_key"] = same["_key"].to_numpy() + 0.5 + rng.random(n_same) * (day_end_key - same["_key"].to_numpy())
    # later-day re-deliveries: the copy's timestamp lies inside the later day it is delivered with
    later = frame.iloc[later_idx].copy()
    gap = rng.integers(1, 4, later_idx.size)
    new_day = np.minimum(later["_day"].to_numpy() + gap, days - 1)
    new_ts = ctx.start_s + new_day * DAY_S + rng.integers(0, DAY_S, later_idx.size)
    later["_day"] = new_day
    later["_key"] = (new_ts - ctx.start_s).astype(float)
    later["ordered_at"] = _iso(new_ts) + "Z"
    frame = pd.concat([frame, same, later], ignore_index=True)
    frame = frame.sort_values(["_day", "_key"], kind="stable", ignore_index=True)

    date_of = lambda d: (np.datetime64(ctx.start.isoformat(), "D") + d).astype(str).astype(object)  # noqa: E731
    errors = pd.DataFrame(
        {
            "source": "orders",
            "date": np.concatenate(
                [
                    date_of(day[same_idx]),
                    date_of(new_day),
                    date_of(day[is_unknown]),
                    date_of(day[neg_idx]),
                    date_of(day[out_idx]),
                ]  # fmt: skip
            ),
            "id": np.concatenate(
                [order_id[same_idx], order_id[later_idx], order_id[is_unknown], order_id[neg_idx], order_id[out_idx]]
            ),
            "rule": ["duplicate_key"] * (n_same + later_idx.size)
            + ["unknown_customer"] * n_unknown
            + ["negative_amount"] * n_neg
            + ["timestamp_outside_partition"] * n_out,
        }
    )
    return frame, errors


def _survey(ctx: _Context, crm: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng, n = ctx.rng, ctx.n
    persona, lo, hi = crm["persona"], crm["lo"], crm["hi"]
    answers = rng.random(n) < np.array([p.survey_p for p in PERSONAS])[persona]
    extra = rng.poisson(np.array([p.extra_responses for p in PERSONAS])[persona])
    n_resp = np.where(answers, 1 + extra, 0)
    cust = np.repeat(np.arange(n), n_resp)
    sp = persona[cust]
    weights = np.tile(np.ones(ctx.days), (len(PERSONAS), 1)) * np.array([p.weekday_w for p in PERSONAS])[:, ctx.weekday]
    day = _days_in_interval(rng, weights, sp, lo[cust], hi[cust])
    ts = ctx.start_s + day * DAY_S + _times_of_day(rng, sp, width_scale=1.5)
    ts = _within_day_after(ctx, rng, ts, day, crm["created_s"][cust])

    # per-customer attitudes plus a little noise per response
    nps_mean = np.array([p.nps_mean for p in PERSONAS])[persona]
    nps_base = nps_mean + np.array([p.nps_sd for p in PERSONAS])[persona] * rng.standard_normal(n)
    price_base = np.array([p.price_mean for p in PERSONAS])[persona] + 0.5 * rng.standard_normal(n)
    csat_base = np.array([p.csat_mean for p in PERSONAS])[persona] + 0.4 * rng.standard_normal(n)
    k = cust.size
    nps = np.clip(np.round(nps_base[cust] + 0.6 * rng.standard_normal(k)), 0, 10).astype(np.int64)
    csat = np.clip(np.round(csat_base[cust] + 0.5 * rng.standard_normal(k)), 1, 5).astype(np.int64)
    price = np.clip(np.round(price_base[cust] + 0.4 * rng.standard_normal(k)), 1, 5).astype(np.int64)
    need = _cat_by_group(rng, np.array([p.need_p for p in PERSONAS]), sp)
    contact = _cat_by_group(rng, np.array([p.contact_p for p in PERSONAS]), sp)

    order = np.argsort(ts, kind="stable")
    cust, day, ts, nps, csat, price, need, contact = (
        a[order] for a in (cust, day, ts, nps, csat, price, need, contact)
    )
    response_id = _ids("S", np.arange(1, k + 1), 7)

    n_bad = _n_planted(RATES[("survey_responses", "nps_out_of_range")], k)
    bad = rng.choice(k, n_bad, replace=False) if n_bad else np.zeros(0, dtype=np.int64)
    nps[bad] = rng.choice(np.array([11, 12, -1]), n_bad)

    frame = pd.DataFrame(
        {
            "response_id": response_id,
            "customer_id": crm["customer_id"][cust],
            "submitted_at": _iso(ts) + "Z",
            "nps": nps,
            "csat": csat,
            "price_sensitivity": price,
            "primary_need": _strs(NEEDS)[need],
            "preferred_contact_channel": _strs(CONTACTS)[contact],
            "_day": day,
        }
    )
    errors = pd.DataFrame(
        {
            "source": "survey_responses",
            "date": (np.datetime64(ctx.start.isoformat(), "D") + day[bad]).astype(str).astype(object),
            "id": response_id[bad],
            "rule": "nps_out_of_range",
        }
    )
    return frame, errors


def _events(ctx: _Context, crm: dict) -> tuple[dict, pd.DataFrame]:
    rng, n, days = ctx.rng, ctx.n, ctx.days
    persona, lo, hi = crm["persona"], crm["lo"], crm["hi"]
    active = hi - lo + 1

    uses = rng.random(n) < np.array([p.usage_p for p in PERSONAS])[persona]
    mult = rng.gamma(4.0, 0.25, n)
    n_sess = np.where(uses, rng.poisson(np.array([p.session_rate for p in PERSONAS])[persona] * active * mult), 0)
    scust = np.repeat(np.arange(n), n_sess)
    sp = persona[scust]
    usage_season = 1 + 0.3 * (ctx.season - 1)
    weights = np.array([usage_season * np.array(p.weekday_w)[ctx.weekday] for p in PERSONAS])
    sday = _days_in_interval(rng, weights, sp, lo[scust], hi[scust])
    sstart = ctx.start_s + sday * DAY_S + _times_of_day(rng, sp)
    sstart = _within_day_after(ctx, rng, sstart, sday, crm["created_s"][scust])
    sdevice = _cat_by_group(rng, np.array([p.device_p for p in PERSONAS]), sp)
    n_ev = 1 + rng.poisson(np.array([p.events_per_session for p in PERSONAS])[sp] - 1)

    # session ids in order of session start
    sorder = np.argsort(sstart, kind="stable")
    snum = np.empty(sstart.size, dtype=np.int64)
    snum[sorder] = np.arange(1, sstart.size + 1)

    sess = np.repeat(np.arange(sstart.size), n_ev)
    ep = sp[sess]
    dur_ms = np.round(
        np.array([p.duration_median_s for p in PERSONAS])[ep] * np.exp(0.7 * rng.standard_normal(sess.size)) * 1000
    ).astype(np.int64)
    think_ms = np.round(rng.exponential(np.array([p.think_mean_s for p in PERSONAS])[ep] * 1000)).astype(np.int64)
    step = dur_ms + think_ms
    excl = np.cumsum(step) - step
    first = np.concatenate([[0], np.cumsum(n_ev)[:-1]]) if n_ev.size else np.zeros(0, dtype=np.int64)
    offset_ms = excl - excl[first][sess]
    start_ms = sstart * 1000 + rng.integers(0, 1000, sstart.size)
    ts_us = (start_ms[sess] + offset_ms) * 1000
    keep = ts_us < ctx.end_s * 1_000_000
    sess, ep, dur_ms, ts_us = sess[keep], ep[keep], dur_ms[keep], ts_us[keep]
    feature = _cat_by_group(rng, np.array([p.feature_p for p in PERSONAS]), ep)

    order = np.argsort(ts_us, kind="stable")
    sess, dur_ms, ts_us, feature = sess[order], dur_ms[order], ts_us[order], feature[order]
    k = ts_us.size
    day = (ts_us // 1_000_000 - ctx.start_s) // DAY_S
    event_id = _ids("E", np.arange(1, k + 1), 9)
    device = _strs(DEVICES)[sdevice[sess]]

    perm = rng.permutation(k)
    n_dev = _n_planted(RATES[("usage_events", "unknown_device_type")], k)
    n_out = _n_planted(RATES[("usage_events", "timestamp_outside_partition")], k) if days >= 2 else 0
    dev_idx, out_idx = perm[:n_dev], perm[n_dev : n_dev + n_out]
    device[dev_idx] = rng.choice(_strs(BAD_DEVICES), n_dev)
    written_us = ts_us.copy()
    shift = np.where(day[out_idx] > 0, -1, 1)
    written_us[out_idx] = ts_us[out_idx] + shift * DAY_S * 1_000_000

    table = pa.table(
        {
            "event_id": pa.array(event_id, pa.string()),
            "customer_id": pa.array(crm["customer_id"][scust][sess], pa.string()),
            "event_ts": pa.array(written_us, pa.timestamp("us", tz="UTC")),
            "session_id": pa.array(_ids("SES", snum[sess], 8), pa.string()),
            "device_type": pa.array(device, pa.string()),
            "feature": pa.array(_strs(FEATURES)[feature], pa.string()),
            "duration_s": pa.array(dur_ms / 1000.0, pa.float64()),
        },
        schema=EVENT_SCHEMA,
    )
    date_of = lambda d: (np.datetime64(ctx.start.isoformat(), "D") + d).astype(str).astype(object)  # noqa: E731
    errors = pd.DataFrame(
        {
            "source": "usage_events",
            "date": np.concatenate([date_of(day[dev_idx]), date_of(day[out_idx])]),
            "id": np.concatenate([event_id[dev_idx], event_id[out_idx]]),
            "rule": ["unknown_device_type"] * n_dev + ["timestamp_outside_partition"] * n_out,
        }
    )
    return {"table": table, "day": day}, errors


# --------------------------------------------------------------------------------------------------------------------
# writing


def _clear_daily_folders(landing: Path) -> None:
    for dataset in _DAILY_DATASETS:
        folder = landing / dataset
        if folder.is_dir():
            for child in folder.iterdir():
                if child.is_dir() and _DAY_DIR.match(child.name):
                    shutil.rmtree(child)


def _day_bounds(day: np.ndarray, n_days_total: int) -> tuple[np.ndarray, np.ndarray]:
    present = np.unique(day)
    bounds = np.searchsorted(day, np.append(present, n_days_total + 1), side="left")
    return present, bounds


def _write_daily_csv(folder: Path, filename: str, frame: pd.DataFrame, columns: tuple[str, ...], start: dt.date) -> int:
    if frame.empty:
        return 0
    # the generated values contain no quotes, commas or newlines, so one render split by line is exact
    text = frame.to_csv(index=False, header=False, columns=list(columns), lineterminator="\n", float_format="%.2f")
    lines = text.splitlines(keepends=True)
    header = ",".join(columns) + "\n"
    day = frame["_day"].to_numpy()
    present, bounds = _day_bounds(day, int(day.max()))
    for i, d in enumerate(present):
        target = folder / f"date={(start + dt.timedelta(days=int(d))).isoformat()}"
        target.mkdir(parents=True, exist_ok=True)
        (target / filename).write_text(header + "".join(lines[bounds[i] : bounds[i + 1]]), encoding="utf-8")
    return int(present.size)


def _write_daily_parquet(folder: Path, events: dict, start: dt.date) -> int:
    table, day = events["table"], events["day"]
    if table.num_rows == 0:
        return 0
    present, bounds = _day_bounds(day, int(day.max()))
    for i, d in enumerate(present):
        target = folder / f"date={(start + dt.timedelta(days=int(d))).isoformat()}"
        target.mkdir(parents=True, exist_ok=True)
        part = table.slice(int(bounds[i]), int(bounds[i + 1] - bounds[i]))
        pq.write_table(part, target / "events.parquet", compression="zstd", write_statistics=True)
    return int(present.size)
