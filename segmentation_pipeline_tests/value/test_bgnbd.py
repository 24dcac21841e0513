import numpy as np
import pytest
from scipy.optimize import approx_fprime

from segmentation_pipeline.core.value import bgnbd
from segmentation_pipeline.core.value.bgnbd import BgNbdParams
from segmentation_pipeline.core.value.simulation import simulate_summaries
from segmentation_pipeline.core.value.summaries import AGE, RECENCY, REPEATS, Triplets
from segmentation_pipeline_tests.value.builders import PURCHASES, SPEND, summaries


def triplets_of(frame):
    return Triplets.of(frame[REPEATS], frame[RECENCY], frame[AGE])


def relative_errors(fitted: dict, truth) -> dict:
    return {name: abs(value / getattr(truth, name) - 1) for name, value in fitted.items()}


def test_fit_recovers_the_parameters_of_simulated_customers():
    # 50,000 customers drawn from the BG/NBD process: r and alpha are pinned down to 1-2%, a and b to a few %
    fitted = bgnbd.fit(triplets_of(summaries()))
    assert fitted.converged
    errors = relative_errors(fitted.params, PURCHASES)
    assert errors["r"] < 0.03 and errors["alpha"] < 0.03, errors
    assert errors["a"] < 0.10 and errors["b"] < 0.10, errors


def test_fit_is_deterministic_and_independent_of_row_order():
    frame = summaries()
    shuffled = frame.sample(frac=1.0, random_state=3)
    assert bgnbd.fit(triplets_of(frame)) == bgnbd.fit(triplets_of(shuffled))


def test_gradient_is_the_derivative_of_the_likelihood():
    triplets = triplets_of(summaries(2_000))
    log_params = np.log([0.7, 30.0, 1.2, 2.5])
    _, gradient = bgnbd.log_likelihood(log_params, triplets)
    numeric = approx_fprime(log_params, lambda point: bgnbd.log_likelihood(point, triplets)[0], 1e-7)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-7)


def test_triplet_weights_give_the_likelihood_of_every_customer():
    # ten customers with three distinct histories: the weighted likelihood equals the one summed customer by customer
    x, t_x, T = (
        np.array([0, 0, 0, 2, 2, 2, 2, 5, 5, 5.0]),
        np.array([0, 0, 0, 8, 8, 8, 8, 30, 30, 30.0]),
        np.full(10, 40.0),
    )
    grouped = Triplets.of(x, t_x, T)
    assert len(grouped) == 3 and grouped.weight.tolist() == [3, 4, 3]
    log_params = np.log([0.5, 10.0, 0.8, 3.0])
    one_by_one = [bgnbd.log_likelihood(log_params, Triplets.of(x[[i]], t_x[[i]], T[[i]]))[0] for i in range(10)]
    assert bgnbd.log_likelihood(log_params, grouped)[0] == pytest.approx(np.mean(one_by_one), rel=1e-12)


def test_heavy_buyers_and_decades_of_history_stay_finite():
    # a hundred purchases before dropping out on average, customers up to 40 years old: x runs into the thousands
    heavy = BgNbdParams(r=2.0, alpha=20.0, a=1.5, b=150.0)
    rng = np.random.default_rng(5)
    frame = simulate_summaries(heavy, SPEND, rng.uniform(1, 40 * 365.25, 5_000), rng)
    assert frame[REPEATS].max() > 1_000
    fitted = bgnbd.fit(triplets_of(frame))
    assert fitted.converged and np.isfinite(fitted.log_likelihood)
    assert relative_errors(fitted.params, heavy)["r"] < 0.1
    params = BgNbdParams(**fitted.params)
    x, t_x, T = (frame[column].to_numpy() for column in (REPEATS, RECENCY, AGE))
    alive = bgnbd.p_alive(params, x, t_x, T)
    assert np.isfinite(alive).all() and ((alive >= 0) & (alive <= 1)).all()
    for days in (1, 90, 365, 3650):
        expected = bgnbd.expected_purchases(params, days, x, t_x, T)
        assert np.isfinite(expected).all() and (expected >= 0).all()
        # an active customer buys at most at the rate seen so far, and no faster than the population allows
        assert (expected <= alive * (x + params.r) / (T + params.alpha) * days * 1.001 + 1e-12).all()


@pytest.mark.parametrize("x", [1, 300, 5_000])
def test_predictions_at_the_extremes_are_finite(x):
    params = BgNbdParams(r=0.9, alpha=35.0, a=0.7, b=4.0)
    T = np.array([14_600.0, 14_600.0, float(x)])
    t_x = np.array([14_600.0, 10.0, float(x)])  # bought yesterday; quiet for 40 years; every day since the first
    alive = bgnbd.p_alive(params, np.full(3, x), t_x, T)
    expected = bgnbd.expected_purchases(params, 365, np.full(3, x), t_x, T)
    assert np.isfinite(alive).all() and np.isfinite(expected).all()
    assert alive[1] < 1e-3 and expected[1] < 1e-3  # long gone
    # bought at T: alive unless that very purchase was the last, P = 1 / (1 + a / (b + x - 1))
    assert alive[0] == pytest.approx(1 / (1 + params.a / (params.b + x - 1))) and expected[0] > 0


def test_expected_wait_is_the_posterior_mean_of_one_over_the_rate():
    params = BgNbdParams(r=0.5, alpha=20.0, a=0.8, b=3.0)
    wait = bgnbd.expected_wait_if_alive(params, np.array([0.0, 1.0, 9.0]), np.array([100.0, 100.0, 100.0]))
    assert wait[0] == np.inf  # r + x = 0.5: 1 / lambda has no finite mean
    assert wait[1:].tolist() == pytest.approx([120 / 0.5, 120 / 8.5])


@pytest.mark.parametrize("a, b", [(0.8, 2.5), (0.5, 0.7), (0.04, 0.47), (0.3, 0.5)])
def test_expected_purchases_of_a_live_customer_match_direct_integration(a, b):
    # a + b < 1 (the bundled sample's holdout fit: a = 0.04, b = 0.47) makes the series negative for x = 0, where a
    # log of it gave NaN. Without a repeat purchase p ~ Beta(a, b), lambda ~ Gamma(r, alpha + T), and the expected
    # purchases in t days are E[(1 - ((alpha + T) / (alpha + T + p t))^r) / p]
    from scipy import integrate
    from scipy.special import beta

    params, T, t = BgNbdParams(r=0.68, alpha=34.5, a=a, b=b), 100.0, 180.0

    def purchases(p: float) -> float:
        if p == 0:
            return params.r * t / (params.alpha + T)  # the limit: a customer who never drops out
        return (1 - ((params.alpha + T) / (params.alpha + T + p * t)) ** params.r) / p

    integral, _ = integrate.quad(purchases, 0, 1, weight="alg", wvar=(a - 1, b - 1))
    ours = bgnbd.purchases_if_alive(params, t, np.array([0.0]), np.array([T]))
    np.testing.assert_allclose(ours, integral / beta(a, b), rtol=1e-9)
