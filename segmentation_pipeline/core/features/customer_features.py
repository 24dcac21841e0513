"""Per-customer features as of a snapshot date, computed by DuckDB directly over the validated Parquet history.

All feature definitions live in the SQL below (one place, portable to another SQL engine). The history is read
out of core, so event tables far larger than memory are fine; only the per-customer result comes back to pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from segmentation_pipeline.core.features.rollups import ROLLUP_SCHEMAS, ROLLUPS_SQL, refresh_rollups
from segmentation_pipeline.core.ingest.contract import (
    CUSTOMERS,
    ORDERS,
    SURVEY_RESPONSES,
    USAGE_EVENTS,
    Source,
    clean_schema,
)
from segmentation_pipeline.core.storage.layout import DataLayout


@dataclass(frozen=True)
class FeatureSettings:
    """Windows and lifecycle thresholds, in days. README's data dictionary documents each."""

    lookback_days: int = 365
    usage_window_days: int = 90
    new_customer_days: int = 30
    active_days: int = 90
    at_risk_days: int = 180
    lapsed_days: int = 365


FEATURES_SQL = """
WITH
customers_known AS (
    SELECT * FROM customers WHERE CAST(created_at AS DATE) <= $snapshot
),
-- Orders and usage come from the daily rollups written with each validated day (core/warehouse.py); the partition
-- `date` is the UTC day of every row in it.
purchase_periods AS (  -- one row per customer and day with a completed order (lifetimes' daily periods)
    SELECT customer_id, date AS day, completed_orders AS orders, spend
    FROM order_day_customers WHERE date <= $snapshot AND completed_orders > 0
),
order_values AS (
    SELECT customer_id,
        min(day) AS first_order_date,
        max(day) AS last_order_date,
        CAST(sum(orders) AS BIGINT) AS lifetime_orders,
        sum(spend) AS lifetime_spend,
        CAST(coalesce(sum(orders) FILTER (WHERE day > $snapshot - $lookback), 0) AS BIGINT) AS frequency,
        count(*) FILTER (WHERE day > $snapshot - $lookback) AS purchase_days,
        coalesce(sum(spend) FILTER (WHERE day > $snapshot - $lookback), 0) AS monetary,
        -- lifetimes' summary_data_from_transaction_data (daily periods, observation end = snapshot date)
        count(*) - 1 AS repeat_purchases,
        max(day) - min(day) AS age_at_last_purchase_days,
        $snapshot - min(day) AS customer_age_days,
        coalesce((sum(spend) - arg_min(spend, day)) / nullif(count(*) - 1, 0), 0) AS mean_repeat_spend
    FROM purchase_periods GROUP BY customer_id
),
order_outcomes AS (
    SELECT customer_id,
        CAST(sum(cancelled_orders) AS BIGINT) AS cancelled_orders,
        CAST(sum(refunded_orders) AS BIGINT) AS refunded_orders
    FROM order_day_customers WHERE date <= $snapshot AND date > $snapshot - $lookback GROUP BY customer_id
),
sessions AS (  -- a session spanning midnight is in two days' rollups and counts once
    SELECT customer_id, count(*) AS sessions
    FROM (SELECT DISTINCT customer_id, session_id FROM usage_day_sessions
          WHERE date <= $snapshot AND date > $snapshot - $usage_window)
    GROUP BY customer_id
),
usage AS (  -- shares are exact integer ratios: events of the kind / all events
    SELECT customer_id,
        any_value(sessions) AS sessions,
        count(*) AS active_days,
        CAST(sum(events) AS BIGINT) AS events,
        sum(duration_s) / 60 AS usage_minutes,
        sum(mobile) / sum(events) AS mobile_share,
        sum(desktop) / sum(events) AS desktop_share,
        sum(tablet) / sum(events) AS tablet_share,
        sum(night) / sum(events) AS night_share,
        sum(morning) / sum(events) AS morning_share,
        sum(afternoon) / sum(events) AS afternoon_share,
        sum(evening) / sum(events) AS evening_share,
        sum(if(isodow(date) >= 6, events, 0)) / sum(events) AS weekend_share,
        $snapshot - max(date) AS days_since_last_seen
    FROM usage_day_customers JOIN sessions USING (customer_id)
    WHERE date <= $snapshot AND date > $snapshot - $usage_window
    GROUP BY customer_id
),
feature_use AS (
    SELECT customer_id, count(*) AS distinct_features, first(feature ORDER BY uses DESC, feature) AS top_feature
    FROM (SELECT customer_id, feature, sum(uses) AS uses FROM usage_day_features
          WHERE date <= $snapshot AND date > $snapshot - $usage_window GROUP BY ALL)
    GROUP BY customer_id
),
latest_survey AS (
    SELECT customer_id, nps, csat, price_sensitivity, primary_need, preferred_contact_channel
    FROM survey_responses WHERE date <= $snapshot
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY submitted_at DESC, response_id DESC) = 1
)
SELECT
    c.customer_id,
    $snapshot AS snapshot_date,
    -- value / RFM
    o.last_order_date IS NOT NULL AS has_orders,
    $snapshot - o.last_order_date AS recency_days,
    coalesce(o.frequency, 0) AS frequency,
    coalesce(o.purchase_days, 0) AS purchase_days,
    CAST(coalesce(o.monetary, 0) AS DOUBLE) AS monetary,
    CAST(round(o.monetary / nullif(o.frequency, 0), 2) AS DOUBLE) AS avg_order_value,
    o.first_order_date,
    o.last_order_date,
    coalesce(o.lifetime_orders, 0) AS lifetime_orders,
    CAST(coalesce(o.lifetime_spend, 0) AS DOUBLE) AS lifetime_spend,
    coalesce(x.cancelled_orders, 0) AS cancelled_orders,
    coalesce(x.refunded_orders, 0) AS refunded_orders,
    $snapshot - CAST(c.created_at AS DATE) AS tenure_days,
    -- lifetimes / btyd compatible (daily periods, observation end = snapshot date)
    o.repeat_purchases,
    o.age_at_last_purchase_days,
    o.customer_age_days,
    CAST(o.mean_repeat_spend AS DOUBLE) AS mean_repeat_spend,
    -- behavioural
    u.customer_id IS NOT NULL AS has_usage,
    coalesce(u.sessions, 0) AS sessions,
    coalesce(u.active_days, 0) AS active_days,
    coalesce(u.events, 0) AS events,
    u.events / u.sessions AS events_per_session,
    CAST(u.usage_minutes / u.sessions AS DOUBLE) AS mean_session_minutes,
    u.mobile_share, u.desktop_share, u.tablet_share,
    CASE WHEN u.customer_id IS NULL THEN NULL
         WHEN u.mobile_share >= u.desktop_share AND u.mobile_share >= u.tablet_share THEN 'mobile'
         WHEN u.desktop_share >= u.tablet_share THEN 'desktop' ELSE 'tablet' END AS primary_device,
    u.night_share, u.morning_share, u.afternoon_share, u.evening_share,
    CASE WHEN u.customer_id IS NULL THEN NULL
         WHEN u.night_share >= greatest(u.morning_share, u.afternoon_share, u.evening_share) THEN 'night'
         WHEN u.morning_share >= greatest(u.afternoon_share, u.evening_share) THEN 'morning'
         WHEN u.afternoon_share >= u.evening_share THEN 'afternoon' ELSE 'evening' END AS preferred_time_of_day,
    u.weekend_share,
    coalesce(f.distinct_features, 0) AS distinct_features,
    f.top_feature,
    u.days_since_last_seen,
    -- psychographic / needs (latest answer)
    s.customer_id IS NOT NULL AS has_survey,
    s.nps,
    CASE WHEN s.nps >= 9 THEN 'promoter' WHEN s.nps >= 7 THEN 'passive' WHEN s.nps >= 0 THEN 'detractor' END
        AS nps_group,
    s.csat, s.price_sensitivity, s.primary_need, s.preferred_contact_channel,
    -- demographic / geographic / acquisition
    CASE WHEN year($snapshot) - c.birth_year NOT BETWEEN 16 AND 110 THEN NULL
         WHEN year($snapshot) - c.birth_year < 25 THEN '16-24'
         WHEN year($snapshot) - c.birth_year < 35 THEN '25-34'
         WHEN year($snapshot) - c.birth_year < 45 THEN '35-44'
         WHEN year($snapshot) - c.birth_year < 55 THEN '45-54'
         WHEN year($snapshot) - c.birth_year < 65 THEN '55-64' ELSE '65+' END AS age_band,
    c.gender, upper(c.country) AS country, c.region, c.income_band, c.acquisition_channel,
    c.company_size IS NOT NULL OR c.industry IS NOT NULL AS is_b2b,
    c.company_size, c.industry,
    c.marketing_opt_in,
    -- lifecycle
    CASE WHEN o.last_order_date IS NULL THEN 'never purchased'
         WHEN $snapshot - o.first_order_date < $new_customer_days THEN 'new'
         WHEN $snapshot - o.last_order_date <= $active_days THEN 'active'
         WHEN $snapshot - o.last_order_date <= $at_risk_days THEN 'at risk'
         WHEN $snapshot - o.last_order_date <= $lapsed_days THEN 'lapsed'
         ELSE 'churned' END AS lifecycle_stage
FROM customers_known c
LEFT JOIN order_values o USING (customer_id)
LEFT JOIN order_outcomes x USING (customer_id)
LEFT JOIN usage u USING (customer_id)
LEFT JOIN feature_use f USING (customer_id)
LEFT JOIN latest_survey s USING (customer_id)
ORDER BY c.customer_id
"""


def compute_features(
    layout: DataLayout, snapshot_date: date, settings: FeatureSettings = FeatureSettings()
) -> pd.DataFrame:
    """One row per customer known (created) by the end of `snapshot_date`, from validated history up to that day."""
    refresh_rollups(layout)
    with open_history(layout) as con:
        return to_pandas(con.sql(FEATURES_SQL, params=query_parameters(snapshot_date, settings)).to_arrow_table())


def open_history(
    layout: DataLayout, sources: tuple[Source, ...] = (CUSTOMERS, ORDERS, SURVEY_RESPONSES, USAGE_EVENTS)
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection (time zone UTC) with the tables FEATURES_SQL reads: `customers`, and a view over every
    validated day of `orders`, `survey_responses` and `usage_events` and of their daily rollups (or only those of
    `sources`)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for source in sources:
        if not source.daily:
            con.register(source.name, _read_single(layout.validated(source.name, None), source))
            continue
        files = layout.validated_files(source.name)
        _register_days(con, source.name, files, layout.validated_glob(source.name), clean_schema(source))
        for name in ROLLUPS_SQL.get(source.name, {}):
            _register_days(con, name, layout.rollup_files(name), layout.rollup_glob(name), ROLLUP_SCHEMAS[name])
    return con


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """Arrow to pandas with the dtypes DuckDB's own `.df()` gives (nullable Int64 and boolean where a column has
    nulls, dates as datetime64), about seven times faster than `.df()` on a million customers."""
    nullable = {pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
    frame = table.to_pandas(types_mapper=nullable.get, date_as_object=False)
    for field, column in zip(table.schema, table.columns, strict=True):
        if field.type in nullable and column.null_count == 0:
            frame[field.name] = frame[field.name].astype(field.type.to_pandas_dtype())
        elif pa.types.is_date(field.type):
            frame[field.name] = frame[field.name].astype("datetime64[us]")
    return frame


def query_parameters(snapshot_date: date, settings: FeatureSettings) -> dict:
    """The named parameters of FEATURES_SQL."""
    return {
        "snapshot": snapshot_date,
        "lookback": settings.lookback_days,
        "usage_window": settings.usage_window_days,
        "new_customer_days": settings.new_customer_days,
        "active_days": settings.active_days,
        "at_risk_days": settings.at_risk_days,
        "lapsed_days": settings.lapsed_days,
    }


def _read_single(path: Path, source: Source) -> pa.Table:
    return pq.read_table(path, schema=clean_schema(source)) if path.exists() else clean_schema(source).empty_table()


def _register_days(
    con: duckdb.DuckDBPyConnection, name: str, files: list[Path], pattern: Path, schema: pa.Schema
) -> None:
    """A view over daily partition files, with their `date` partition column; an empty table without days."""
    if files:
        con.execute(
            f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{_sql_string(pattern.as_posix())}', "
            "hive_partitioning = true, hive_types = {'date': DATE})"
        )
    else:
        con.register(name, schema.append(pa.field("date", pa.date32())).empty_table())


def _sql_string(text: str) -> str:
    return text.replace("'", "''")
