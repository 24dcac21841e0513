-- Lifetimes' daily purchase periods up to the snapshot, from the daily order rollups written with each validated day
-- (rollups/*.sql; the partition `date` is the UTC day of every row in it): what the order features and the value
-- model (core/value) both count.
purchase_periods AS (  -- one row per customer and day with a completed order (lifetimes' daily periods)
    SELECT customer_id, date AS day, completed_orders AS orders, spend
    FROM order_day_customers WHERE date <= $snapshot AND completed_orders > 0
)
