-- orders: one validated day (`day_rows`) rolled up.
SELECT customer_id,
    count(*) FILTER (WHERE status = 'completed') AS completed_orders,
    coalesce(sum(CAST(amount AS DECIMAL(18, 2))) FILTER (WHERE status = 'completed'), 0) AS spend,
    count(*) FILTER (WHERE status = 'cancelled') AS cancelled_orders,
    count(*) FILTER (WHERE status = 'refunded') AS refunded_orders
FROM day_rows GROUP BY customer_id ORDER BY customer_id
