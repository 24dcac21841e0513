"""The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV: using iso-value curves"; Hardie's note 025).

Each purchase's spend is Gamma(p, nu) with nu ~ Gamma(q, v) per customer, independent of the purchase process. It is
fitted on the repeat buyers with spend (x > 0, m > 0) by lifetimes' `GammaGammaFitter` likelihood (penalizer 0),
over log-parameters with analytic gradients; the terms of x alone are evaluated once per distinct x."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, gammaln

from segmentation_pipeline.core.value.fitting import Fit, maximise


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    v: float


@dataclass(frozen=True)
class RepeatSpend:
    """Repeat buyers' x and m, with what the likelihood needs precomputed."""

    x: np.ndarray
    total_spend: np.ndarray
    """x * m."""
    x_values: np.ndarray
    x_code: np.ndarray
    customers_per_x: np.ndarray
    log_spend_per_x: np.ndarray
    """Sum of log m over the customers of each distinct x."""

    @classmethod
    def of(cls, x: np.ndarray, m: np.ndarray) -> RepeatSpend:
        x, m = np.asarray(x, dtype="float64"), np.asarray(m, dtype="float64")
        x_values, x_code = np.unique(x, return_inverse=True)
        return cls(
            x=x,
            total_spend=x * m,
            x_values=x_values,
            x_code=x_code,
            customers_per_x=np.bincount(x_code, minlength=len(x_values)).astype("float64"),
            log_spend_per_x=np.bincount(x_code, weights=np.log(m), minlength=len(x_values)),
        )


def log_likelihood(log_params: np.ndarray, spend: RepeatSpend) -> tuple[float, np.ndarray]:
    """Mean log-likelihood per repeat buyer and its gradient in (log p, log q, log v).

    Per customer: log G(px+q) - log G(px) - log G(q) + q log v + (px-1) log m + px log x - (px+q) log(xm+v)."""
    p, q, v = np.exp(log_params)
    x, n, log_m = spend.x_values, spend.customers_per_x, spend.log_spend_per_x
    log_total = np.log(spend.total_spend + v)
    value = (
        n @ (gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(v) + p * x * np.log(x))
        + (p * x - 1) @ log_m
        - (p * spend.x + q) @ log_total
    )
    d_p = n @ (x * (digamma(p * x + q) - digamma(p * x) + np.log(x))) + x @ log_m - spend.x @ log_total
    d_q = n @ (digamma(p * x + q) - digamma(q) + np.log(v)) - log_total.sum()
    d_v = n.sum() * q / v - ((p * spend.x + q) / (spend.total_spend + v)).sum()
    customers = len(spend.x)
    return value / customers, np.array([d_p * p, d_q * q, d_v * v]) / customers


def fit(spend: RepeatSpend) -> Fit:
    """The maximum-likelihood parameters, from a fixed start: p = 1, q = 2 and v = mean spend (a population mean
    spend p v / (q - 1) equal to the observed one)."""
    start = np.array([0.0, np.log(2.0), np.log(np.mean(spend.total_spend / spend.x))])
    return maximise(lambda log_params: log_likelihood(log_params, spend), start, ("p", "q", "v"), len(spend.x))


def expected_spend(params: GammaGammaParams, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, m], lifetimes' `conditional_expected_average_profit`: p (v + x m) / (p x + q - 1),
    the population mean p v / (q - 1) without a repeat purchase (needs q > 1)."""
    p, q, v = params.p, params.q, params.v
    return p * (v + x * m) / (p * x + q - 1)
