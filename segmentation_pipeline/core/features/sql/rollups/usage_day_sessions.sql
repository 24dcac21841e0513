-- usage_events: one validated day (`day_rows`) rolled up.
SELECT DISTINCT customer_id, session_id FROM day_rows ORDER BY customer_id, session_id
