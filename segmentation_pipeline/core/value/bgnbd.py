"""The BG/NBD purchase model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"), in daily periods.

While alive a customer buys as a Poisson process of rate lambda ~ Gamma(r, alpha) and, after each repeat purchase,
drops out for good with probability p ~ Beta(a, b). The likelihood is lifetimes' `BetaGeoFitter` one (penalizer 0),
maximised over log-parameters, so both fits land on the same maximum; it is evaluated on distinct (x, t_x, T)
triplets with their customer counts as weights, in log space with analytic gradients.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import digamma, expit, gammaln, hyp2f1

from segmentation_pipeline.core.value.fitting import Fit, maximise
from segmentation_pipeline.core.value.summaries import Triplets


@dataclass(frozen=True)
class BgNbdParams:
    r: float
    alpha: float
    """In days, like t_x and T."""
    a: float
    b: float


def log_likelihood(log_params: np.ndarray, triplets: Triplets) -> tuple[float, np.ndarray]:
    """Mean log-likelihood per customer and its gradient in (log r, log alpha, log a, log b).

    Per customer: log[B(a, b+x)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+T)^(r+x))
    + [x > 0] B(a+1, b+x-1)/B(a, b) G(r+x) alpha^r / (G(r) (alpha+t_x)^(r+x))]."""
    r, alpha, a, b = np.exp(log_params)
    x = triplets.x_values
    # terms of x alone, on the distinct x
    log_gamma_ratio = gammaln(r + x) - gammaln(r)
    log_beta_ratio = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    d_beta_ratio_da = digamma(a + b) - digamma(a + b + x)
    d_beta_ratio_db = d_beta_ratio_da + digamma(b + x) - digamma(b)
    b_plus_x_minus_1 = b + np.maximum(x, 1) - 1
    log_dropout = np.where(x > 0, np.log(a) - np.log(b_plus_x_minus_1), -np.inf)
    # the two ways to have seen the history: alive at T, or dropped out right after the purchase at t_x
    r_plus_x = r + x[triplets.x_code]
    log_alpha_T, log_alpha_t_x = np.log(alpha + triplets.T_values), np.log(alpha + triplets.t_x_values)
    alive = -r_plus_x * log_alpha_T[triplets.T_code]
    dropped = log_dropout[triplets.x_code] - r_plus_x * log_alpha_t_x[triplets.t_x_code]
    # log(e^alive + e^dropped), written out: twice as fast as np.logaddexp, which is most of an evaluation's time
    log_either = np.maximum(alive, dropped) + np.log(1 + np.exp(-np.abs(alive - dropped)))
    w_dropped = triplets.weight * np.exp(dropped - log_either)  # customers weighted by P(dropped out | history)
    w_alive = triplets.weight - w_dropped
    total = triplets.weight.sum()

    value = (
        triplets.x_weight @ (log_gamma_ratio + log_beta_ratio)
        + total * r * np.log(alpha)
        + triplets.weight @ log_either
    )
    d_r = (
        triplets.x_weight @ (digamma(r + x) - digamma(r))
        + total * np.log(alpha)
        - w_alive @ log_alpha_T[triplets.T_code]
        - w_dropped @ log_alpha_t_x[triplets.t_x_code]
    )
    d_alpha = (
        total * r / alpha
        - (w_alive * r_plus_x) @ (1 / (alpha + triplets.T_values))[triplets.T_code]
        - (w_dropped * r_plus_x) @ (1 / (alpha + triplets.t_x_values))[triplets.t_x_code]
    )
    d_a = triplets.x_weight @ d_beta_ratio_da + w_dropped.sum() / a
    d_b = triplets.x_weight @ d_beta_ratio_db - w_dropped @ (1 / b_plus_x_minus_1)[triplets.x_code]
    gradient = np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])
    return value / total, gradient / total


def fit(triplets: Triplets) -> Fit:
    """The maximum-likelihood parameters, from a fixed start: r = a = b = 1 and alpha = the longest customer age
    (close to lifetimes' start of 1.1 for all four, alpha in units of the longest age)."""
    start = np.array([0.0, np.log(max(triplets.T_values.max(), 1.0)), 0.0, 0.0])
    return maximise(
        lambda log_params: log_likelihood(log_params, triplets), start, ("r", "alpha", "a", "b"), triplets.weight.sum()
    )


def p_alive(params: BgNbdParams, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """P(still alive at T | x, t_x, T), lifetimes' `conditional_probability_alive` (1 without a repeat purchase:
    in BG/NBD a customer can only drop out right after a repeat purchase)."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_odds_dropped = np.log(a / (b + np.maximum(x, 1) - 1)) + (r + x) * np.log((alpha + T) / (alpha + t_x))
    return np.where(x > 0, expit(-log_odds_dropped), 1.0)


def purchases_if_alive(params: BgNbdParams, t: float, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[purchases in (T, T + t] | alive at T, x, T]: equation (10) of the paper without its P(alive) factor.

    Uses Euler's transformation 2F1(r+x, b+x; c; z) = (1-z)^(a-1-r-x) 2F1(a+b-1-r, a-1; c; z), c = a+b+x-1,
    so the hypergeometric series has bounded parameters and stays finite for heavy buyers and long histories. With
    a + b < 1, c is negative for x = 0 and so can be the series (the formula still holds, by analytic continuation):
    1 - (1-z)^(a-1) 2F1 is then computed as it stands, the log form (exact near 1) only where the series is positive."""
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    z = t / (alpha + T + t)
    hypergeometric = hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    log_power = (a - 1) * np.log1p(-z)
    with np.errstate(invalid="ignore", divide="ignore"):
        near_one = -np.expm1(log_power + np.log(hypergeometric))
    complement = np.where(hypergeometric > 0, near_one, 1 - np.exp(log_power) * hypergeometric)
    return (a + b + x - 1) / (a - 1) * complement


def expected_purchases(params: BgNbdParams, t: float, x: np.ndarray, t_x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """Expected purchases in the next t days, lifetimes' `conditional_expected_number_of_purchases_up_to_time`."""
    return p_alive(params, x, t_x, T) * purchases_if_alive(params, t, x, T)


def expected_wait_if_alive(params: BgNbdParams, x: np.ndarray, T: np.ndarray) -> np.ndarray:
    """E[days from T to the next purchase | alive at T, x, T] = E[1 / lambda] = (alpha + T) / (r + x - 1), since
    lambda | alive, x, T ~ Gamma(r + x, alpha + T); infinite (no finite mean) when r + x <= 1."""
    shape = params.r + x - 1
    return np.divide(params.alpha + T, shape, out=np.full(np.shape(shape), np.inf), where=shape > 0)
