-- usage_events: validated rows (`day_rows`) counted per partition day (`day_index`), customer and UTC hour of the day.
SELECT day_index, customer_id, hour, count(*) AS events
FROM (SELECT day_index, customer_id, hour(make_timestamp(epoch_us(event_ts))) AS hour FROM day_rows)
GROUP BY day_index, customer_id, hour ORDER BY day_index, customer_id, hour
