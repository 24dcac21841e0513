-- usage_events: one validated day (`day_rows`) rolled up.
SELECT customer_id, feature, count(*) AS uses FROM day_rows WHERE feature IS NOT NULL
GROUP BY customer_id, feature ORDER BY customer_id, feature
