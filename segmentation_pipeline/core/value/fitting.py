"""Maximum likelihood over log-parameters, shared by the BG/NBD and Gamma-Gamma fits.

The optimiser (L-BFGS-B with analytic gradients, from a fixed start: deterministic) is not trusted on its word:
a fit counts as converged only when every figure is finite, no parameter ran to the edge of the search box (the
likelihood then has no maximum) and the gradient of the mean log-likelihood is all but zero."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from threadpoolctl import threadpool_limits

LOG_PARAM_BOUND = 30.0
"""Parameters are searched in [e^-30, e^30]: wide enough for any sensible fit, narrow enough that nothing overflows."""
GRADIENT_TOLERANCE = 1e-6
"""Largest |d mean log-likelihood / d log-parameter| of a converged fit."""


@dataclass(frozen=True)
class Fit:
    params: dict[str, float]
    log_likelihood: float
    """Summed over the customers fitted on."""
    converged: bool
    message: str
    """Why the fit did not converge, or the optimiser's closing message."""
    iterations: int


def maximise(
    mean_log_likelihood: Callable[[np.ndarray], tuple[float, np.ndarray]],
    start: np.ndarray,
    names: tuple[str, ...],
    customers: float,
) -> Fit:
    """Maximise `mean_log_likelihood(log_params) -> (value, gradient)`, starting at `start` (log-parameters)."""

    def negative(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        value, gradient = mean_log_likelihood(log_params)
        return -value, -gradient

    bounds = [(-LOG_PARAM_BOUND, LOG_PARAM_BOUND)] * len(start)
    # One BLAS thread: the likelihoods' dot products are short, and a multi-threaded BLAS waiting for a core that
    # other work holds made whole fits 5-10x slower (measured on 2 shared cores). Numpy's errors are off because a
    # trial step may leave the domain; its non-finite value makes the line search step back.
    with threadpool_limits(1, user_api="blas"), np.errstate(all="ignore"):
        result = minimize(
            negative, start, jac=True, method="L-BFGS-B", bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-15, "gtol": 1e-10},
        )  # fmt: skip
        value, gradient = mean_log_likelihood(result.x)
    params = dict(zip(names, np.exp(result.x).tolist(), strict=True))
    at_bound = [
        name for name, log_param in zip(names, result.x, strict=True) if abs(log_param) >= LOG_PARAM_BOUND - 1e-6
    ]
    largest_gradient = float(np.max(np.abs(gradient))) if np.all(np.isfinite(gradient)) else np.inf
    if not np.isfinite(value) or not np.isfinite(largest_gradient):
        message = "the likelihood is not finite at the optimiser's last point"
    elif at_bound:
        message = f"{', '.join(at_bound)} ran to the edge of the search range: the likelihood has no maximum"
    elif largest_gradient > GRADIENT_TOLERANCE:
        message = f"the optimiser stopped off the maximum ({result.message}; largest gradient {largest_gradient:.1e})"
    else:
        message = ""
    return Fit(
        params=params,
        log_likelihood=float(value * customers),
        converged=not message,
        message=message or str(result.message),
        iterations=int(result.nit),
    )
