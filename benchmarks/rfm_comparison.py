"""The per-customer RFM summary computed two ways on the same validated orders: by the feature SQL and by lifetimes.

Used by `bench_features.py` (timed in separate processes, and `crosscheck` for equality) and `run.py` (side by side).
Heavy libraries are imported inside the functions: a benchmark child measures its baseline memory before it calls
them, and lifetimes is optional (callers catch the ImportError).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

# lifetimes' summary column -> the feature SQL's column with the same meaning
LIFETIMES_TO_OURS = {
    "frequency": "repeat_purchases",
    "recency": "age_at_last_purchase_days",
    "T": "customer_age_days",
    "monetary_value": "mean_repeat_spend",
}


def rfm_sql() -> str:
    """The RFM part of the feature SQL: its purchase-period and order CTE groups, selecting the per-customer values."""
    from segmentation_pipeline.core.features.sql import sql

    return (
        "WITH\n"
        + sql("features/purchase_periods")
        + ",\n"
        + sql("features/orders")
        + """
SELECT customer_id,
    $snapshot - last_order_date AS recency_days, frequency, CAST(monetary AS DOUBLE) AS monetary,
    repeat_purchases, age_at_last_purchase_days, customer_age_days,
    CAST(mean_repeat_spend AS DOUBLE) AS mean_repeat_spend
FROM order_values
"""
    )


def duckdb_rfm(root: Path, snapshot: date):
    """Our RFM values per buyer as pandas, read from the daily order rollups as the feature stage reads them."""
    from segmentation_pipeline.core.features.customer_features import (
        FeatureSettings,
        open_history,
        query_parameters,
        to_pandas,
    )
    from segmentation_pipeline.core.ingest.contract import ORDERS
    from segmentation_pipeline.core.storage.layout import DataLayout

    sql = rfm_sql()
    parameters = {k: v for k, v in query_parameters(snapshot, FeatureSettings()).items() if f"${k}" in sql}
    with open_history(DataLayout(root), sources=(ORDERS,)) as con:
        return to_pandas(con.sql(sql, params=parameters).to_arrow_table())


def completed_orders(root: Path, snapshot: date):
    """Completed orders up to the snapshot day as pandas (customer_id, ordered_at as naive UTC, amount)."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    dataset = ds.dataset(
        root / "warehouse" / "validated" / "orders",
        format="parquet",
        partitioning=ds.partitioning(pa.schema([("date", pa.date32())]), flavor="hive"),
    )
    table = dataset.to_table(
        columns=["customer_id", "ordered_at", "amount"],
        filter=(ds.field("date") <= snapshot) & (ds.field("status") == "completed"),
    )
    orders = table.to_pandas()
    orders["ordered_at"] = orders["ordered_at"].dt.tz_convert(None)
    return orders


def lifetimes_summary(orders, snapshot: date):
    """lifetimes' RFM summary of `orders` (the peer baseline), in days as the feature SQL counts them."""
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    return summary_data_from_transaction_data(
        orders, "customer_id", "ordered_at", monetary_value_col="amount",
        observation_period_end=pd.Timestamp(snapshot), freq="D",
    )  # fmt: skip


def crosscheck(root: Path, snapshot: date) -> dict:
    """Do lifetimes and the feature SQL give the same per-customer summary on the same orders?"""
    import numpy as np

    ours = duckdb_rfm(root, snapshot).set_index("customer_id").sort_index()
    theirs = lifetimes_summary(completed_orders(root, snapshot), snapshot).sort_index()
    theirs.index = theirs.index.astype(str)
    same_customers = ours.index.equals(theirs.index)
    result = {"customers_ours": len(ours), "customers_lifetimes": len(theirs), "same_customers": bool(same_customers)}
    if not same_customers:
        result["agree"] = False
        return result
    for theirs_column, ours_column in LIFETIMES_TO_OURS.items():
        a = theirs[theirs_column].to_numpy(dtype="float64")
        b = ours[ours_column].to_numpy(dtype="float64")
        tolerance = 1e-9 * np.maximum(np.abs(a), 1.0)  # lifetimes sums floats, we sum exact decimals
        result[f"{theirs_column}_mismatches"] = int((np.abs(a - b) > tolerance).sum())
        result[f"{theirs_column}_max_abs_diff"] = float(np.max(np.abs(a - b))) if len(a) else 0.0
    result["agree"] = all(result[f"{name}_mismatches"] == 0 for name in LIFETIMES_TO_OURS)
    return result
