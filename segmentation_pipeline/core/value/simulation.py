"""Purchase histories drawn from the models' own generative processes, with known parameters: what the parameter
recovery tests and the benchmark fit on."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from segmentation_pipeline.core.value.bgnbd import BgNbdParams
from segmentation_pipeline.core.value.gamma_gamma import GammaGammaParams
from segmentation_pipeline.core.value.summaries import AGE, RECENCY, REPEATS, SPEND


def repeat_purchase_times(
    params: BgNbdParams, T: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """(customer index, time since the first purchase) of every repeat purchase in (0, T] of customers whose first
    purchase was T ago: Poisson purchases at rate lambda ~ Gamma(r, alpha) until, after a repeat purchase, the
    customer drops out with probability p ~ Beta(a, b) (the lifetimes generator's process)."""
    rate = rng.gamma(params.r, 1 / params.alpha, len(T))
    dropout = rng.beta(params.a, params.b, len(T))
    clock = np.zeros(len(T))
    active = np.arange(len(T))
    customers, times = [], []
    while len(active):
        clock[active] += rng.exponential(1 / rate[active])
        active = active[clock[active] <= T[active]]
        customers.append(active)
        times.append(clock[active])
        active = active[rng.random(len(active)) >= dropout[active]]
    return np.concatenate(customers), np.concatenate(times)


def purchase_spends(
    params: GammaGammaParams, customers: np.ndarray, count: int, rng: np.random.Generator
) -> np.ndarray:
    """A spend for each purchase of `customers` (indices below `count`): Gamma(p, nu) with nu ~ Gamma(q, v) per
    customer."""
    nu = rng.gamma(params.q, 1 / params.v, count)
    return rng.gamma(params.p, 1 / nu[customers])


def simulate_summaries(
    purchases: BgNbdParams, spend: GammaGammaParams, T: np.ndarray, rng: np.random.Generator
) -> pd.DataFrame:
    """The exact continuous-time summary columns of customers whose first purchase was T ago."""
    customers, times = repeat_purchase_times(purchases, T, rng)
    x = np.bincount(customers, minlength=len(T))
    t_x = np.zeros(len(T))
    np.maximum.at(t_x, customers, times)
    total = np.bincount(customers, weights=purchase_spends(spend, customers, len(T), rng), minlength=len(T))
    m = np.divide(total, x, out=np.zeros(len(T)), where=x > 0)
    return pd.DataFrame({REPEATS: x, RECENCY: t_x, AGE: np.asarray(T, dtype="float64"), SPEND: m})


def simulate_order_days(
    purchases: BgNbdParams,
    spend: GammaGammaParams,
    customers: int,
    history_days: int,
    end: date,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per customer and day with a purchase (`customer_id`, `day`, `spend`), like the order rollup, for
    `customers` whose first purchase falls on a uniformly drawn day of the `history_days` days up to `end`. Time
    runs from the start of the first purchase day to the end of `end`; purchases on one day make one purchase day."""
    first_day = rng.integers(0, history_days, customers)  # days before `end`
    buyer, times = repeat_purchase_times(purchases, first_day + 1.0, rng)
    who = np.concatenate([np.arange(customers), buyer])
    days_before_end = np.concatenate([first_day, first_day[buyer] - np.floor(times).astype(np.int64)])
    amounts = purchase_spends(spend, who, customers, rng)
    per_day = (
        pd.DataFrame({"who": who, "days_before_end": days_before_end, "spend": amounts})
        .groupby(["who", "days_before_end"], sort=True, as_index=False)["spend"]
        .sum()
    )
    ids = np.char.add("C", np.char.zfill(np.arange(customers).astype(str), 7))
    return pd.DataFrame(
        {
            "customer_id": pd.array(ids[per_day["who"].to_numpy()], dtype="str"),
            "day": np.datetime64(end, "D") - per_day["days_before_end"].to_numpy().astype("timedelta64[D]"),
            "spend": per_day["spend"].to_numpy(),
        }
    )
