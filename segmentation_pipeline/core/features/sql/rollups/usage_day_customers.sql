-- usage_events: validated rows (`day_rows`) rolled up per partition day (`day_index`).
SELECT day_index, customer_id,
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
GROUP BY day_index, customer_id ORDER BY day_index, customer_id
