-- usage_events: one validated day (`day_rows`) rolled up.
SELECT customer_id,
    count(*) AS events,
    sum(CAST(coalesce(duration_s, 0) AS DECIMAL(18, 3))) AS duration_s,
    count(*) FILTER (WHERE device_type = 'mobile') AS mobile,
    count(*) FILTER (WHERE device_type = 'desktop') AS desktop,
    count(*) FILTER (WHERE device_type = 'tablet') AS tablet,
    count(*) FILTER (WHERE hour < 6) AS night,
    count(*) FILTER (WHERE hour >= 6 AND hour < 12) AS morning,
    count(*) FILTER (WHERE hour >= 12 AND hour < 18) AS afternoon,
    count(*) FILTER (WHERE hour >= 18) AS evening
FROM (SELECT *, hour(make_timestamp(epoch_us(event_ts))) AS hour FROM day_rows)
GROUP BY customer_id ORDER BY customer_id
