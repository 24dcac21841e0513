-- Customers created by the end of the snapshot day.
customers_known AS (
    SELECT * FROM customers WHERE CAST(created_at AS DATE) <= $snapshot
)
