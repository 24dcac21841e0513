"""Purchase histories simulated from the models with known parameters, shared by the value tests."""

from datetime import date
from functools import cache

import numpy as np
import pandas as pd

from segmentation_pipeline.core.value.bgnbd import BgNbdParams
from segmentation_pipeline.core.value.gamma_gamma import GammaGammaParams
from segmentation_pipeline.core.value.simulation import simulate_order_days, simulate_summaries
from segmentation_pipeline.core.value.summaries import summarize_order_days

PURCHASES = BgNbdParams(r=0.5, alpha=20.0, a=0.8, b=3.0)
"""About nine purchases a year while active, a fifth of customers dropping out after each repeat purchase."""
SPEND = GammaGammaParams(p=4.0, q=5.0, v=120.0)
"""A mean spend per purchase of p v / (q - 1) = 120."""
EVE = date(2026, 9, 30)


@cache
def summaries(customers: int = 50_000, seed: int = 7) -> pd.DataFrame:
    """Exact continuous-time summaries of customers whose first purchase was 30 to 730 days ago."""
    rng = np.random.default_rng(seed)
    return simulate_summaries(PURCHASES, SPEND, rng.uniform(30, 730, customers), rng)


@cache
def order_days(customers: int = 20_000, seed: int = 11) -> pd.DataFrame:
    """Daily purchase periods up to EVE of customers whose first purchase fell in the two years before it."""
    return simulate_order_days(PURCHASES, SPEND, customers, 730, EVE, np.random.default_rng(seed))


@cache
def features(customers: int = 20_000, seed: int = 11) -> pd.DataFrame:
    """The summary columns on EVE of `order_days`, plus 1,000 customers without a purchase (all null)."""
    buyers = summarize_order_days(order_days(customers, seed), EVE)
    never_bought = pd.DataFrame({"customer_id": [f"N{i:04d}" for i in range(1_000)]})
    return pd.concat([buyers, never_bought], ignore_index=True)
