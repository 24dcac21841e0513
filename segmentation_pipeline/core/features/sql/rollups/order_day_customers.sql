-- orders: validated rows (`day_rows`) rolled up per partition day (`day_index`).
SELECT day_index, customer_id,
    count(*) FILTER (WHERE status = 'completed') AS completed_orders,
    coalesce(sum(CAST(amount AS DECIMAL(18, 2))) FILTER (WHERE status = 'completed'), 0) AS spend,
    count(*) FILTER (WHERE status = 'cancelled') AS cancelled_orders,
    count(*) FILTER (WHERE status = 'refunded') AS refunded_orders
FROM day_rows GROUP BY day_index, customer_id ORDER BY day_index, customer_id
