-- usage_events: validated rows (`day_rows`) rolled up per partition day (`day_index`).
SELECT DISTINCT day_index, customer_id, session_id FROM day_rows ORDER BY day_index, customer_id, session_id
