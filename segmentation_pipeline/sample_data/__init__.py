"""Seeded generator of a realistic landing zone (CRM customers and orders, survey responses, usage events).

`generate_landing_zone(out_dir, customers=2000, days=456, seed=42, end_date=None)` writes::

    landing/crm/customers.csv                                    full CRM export
    landing/crm/orders/date=YYYY-MM-DD/orders.csv                one file per day with orders
    landing/survey/responses/date=YYYY-MM-DD/responses.csv       one file per day with responses
    landing/usage/events/date=YYYY-MM-DD/events.parquet          one file per day with events
    ground_truth/personas.csv                                    customer_id,persona (valid customers only)
    ground_truth/planted_errors.csv                              source,date,id,rule (one row per bad row)

Everything is drawn from one `numpy.random.Generator(seed)` with vectorised numpy code, in a fixed order
(customers, orders, survey responses, usage events), so the same arguments give byte-identical files. The only
wall-clock dependency is the default `end_date` (yesterday, UTC). Stale `date=*` folders of the three daily
datasets under `out_dir/landing` are removed before writing.

The modules follow the data: `personas`, `countries` and `vocabulary` describe who the customers are and which
values they use; `window` holds the landing days and `draws` the shared vectorised draws; `customers`, `orders`,
`surveys` and `usage` draw the sources in that order; `planted_errors` says which bad rows are planted; `files`
and `writer` lay the result out as the input contract expects; `generator` runs it all.

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

from segmentation_pipeline.sample_data.files import CUSTOMER_COLUMNS, EVENT_COLUMNS, ORDER_COLUMNS, SURVEY_COLUMNS
from segmentation_pipeline.sample_data.generator import generate_landing_zone
from segmentation_pipeline.sample_data.personas import PERSONAS, Persona
from segmentation_pipeline.sample_data.planted_errors import PLANTED_ERROR_COLUMNS, PLANTED_RULES

__all__ = [
    "CUSTOMER_COLUMNS",
    "EVENT_COLUMNS",
    "ORDER_COLUMNS",
    "PERSONAS",
    "PLANTED_ERROR_COLUMNS",
    "PLANTED_RULES",
    "SURVEY_COLUMNS",
    "Persona",
    "generate_landing_zone",
]
