-- orders: completed orders and spend of validated rows (`day_rows`) per partition day (`day_index`), customer and
-- product category (rows without a category are left out).
SELECT day_index, customer_id, product_category,
    count(*) AS completed_orders,
    sum(CAST(amount AS DECIMAL(18, 2))) AS spend
FROM day_rows WHERE status = 'completed' AND product_category IS NOT NULL
GROUP BY day_index, customer_id, product_category ORDER BY day_index, customer_id, product_category
