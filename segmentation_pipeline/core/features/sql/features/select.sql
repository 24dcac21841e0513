-- One row per known customer: every feature column of README's data dictionary (columns.yaml).
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
    g.top_category,
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
    CAST(h.most_active_hour AS BIGINT) AS most_active_hour,
    CASE w.weekday WHEN 1 THEN 'Monday' WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday' WHEN 4 THEN 'Thursday'
        WHEN 5 THEN 'Friday' WHEN 6 THEN 'Saturday' WHEN 7 THEN 'Sunday' END AS most_active_weekday,
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
LEFT JOIN order_categories g USING (customer_id)
LEFT JOIN usage u USING (customer_id)
LEFT JOIN feature_use f USING (customer_id)
LEFT JOIN active_hour h USING (customer_id)
LEFT JOIN active_weekday w USING (customer_id)
LEFT JOIN latest_survey s USING (customer_id)
ORDER BY c.customer_id
