-- usage_events: validated rows (`day_rows`) rolled up per partition day (`day_index`).
SELECT day_index, customer_id, feature, count(*) AS uses FROM day_rows WHERE feature IS NOT NULL
GROUP BY day_index, customer_id, feature ORDER BY day_index, customer_id, feature
