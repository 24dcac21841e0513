-- usage_events: a 64-bit hash of each validated event id per partition day (`day_index`), what the nightly duplicate
-- check searches before it reads any id (core/validate/key_sets.py).
SELECT day_index, hash(event_id) AS event_id_hash FROM day_rows WHERE event_id IS NOT NULL ORDER BY day_index
