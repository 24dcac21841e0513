-- Value / RFM and lifetimes-compatible order features, from the purchase periods (purchase_periods.sql) and the daily
-- order rollups written with each validated day (rollups/*.sql); the partition `date` is the UTC day of every row in it.
order_values AS (
    SELECT customer_id,
        min(day) AS first_order_date,
        max(day) AS last_order_date,
        CAST(sum(orders) AS BIGINT) AS lifetime_orders,
        sum(spend) AS lifetime_spend,
        CAST(coalesce(sum(orders) FILTER (WHERE day > $snapshot - $lookback), 0) AS BIGINT) AS frequency,
        count(*) FILTER (WHERE day > $snapshot - $lookback) AS purchase_days,
        coalesce(sum(spend) FILTER (WHERE day > $snapshot - $lookback), 0) AS monetary,
        -- lifetimes' summary_data_from_transaction_data (daily periods, observation end = snapshot date)
        count(*) - 1 AS repeat_purchases,
        max(day) - min(day) AS age_at_last_purchase_days,
        $snapshot - min(day) AS customer_age_days,
        coalesce((sum(spend) - arg_min(spend, day)) / nullif(count(*) - 1, 0), 0) AS mean_repeat_spend
    FROM purchase_periods GROUP BY customer_id
),
order_outcomes AS (
    SELECT customer_id,
        CAST(sum(cancelled_orders) AS BIGINT) AS cancelled_orders,
        CAST(sum(refunded_orders) AS BIGINT) AS refunded_orders
    FROM order_day_customers WHERE date <= $snapshot AND date > $snapshot - $lookback GROUP BY customer_id
),
order_categories AS (  -- the category with the most completed orders in the window (ties: alphabetical)
    SELECT customer_id, first(product_category ORDER BY completed_orders DESC, product_category) AS top_category
    FROM (SELECT customer_id, product_category, sum(completed_orders) AS completed_orders FROM order_day_categories
          WHERE date <= $snapshot AND date > $snapshot - $lookback GROUP BY ALL)
    GROUP BY customer_id
)
