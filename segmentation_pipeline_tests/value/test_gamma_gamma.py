import numpy as np
import pytest
from scipy.optimize import approx_fprime

from segmentation_pipeline.core.value import gamma_gamma
from segmentation_pipeline.core.value.gamma_gamma import GammaGammaParams, RepeatSpend
from segmentation_pipeline.core.value.summaries import REPEATS, SPEND
from segmentation_pipeline_tests.value.builders import SPEND as TRUE_SPEND
from segmentation_pipeline_tests.value.builders import summaries


def repeat_spend(frame) -> RepeatSpend:
    repeaters = frame[frame[REPEATS] > 0]
    return RepeatSpend.of(repeaters[REPEATS], repeaters[SPEND])


def test_fit_recovers_the_parameters_of_simulated_spend():
    # the ~37,000 repeat buyers of 50,000 simulated customers: p, q, v within 15%, the mean spend p v / (q - 1)
    # (what CLV depends on) within 3%
    fitted = gamma_gamma.fit(repeat_spend(summaries()))
    assert fitted.converged
    for name, value in fitted.params.items():
        assert value == pytest.approx(getattr(TRUE_SPEND, name), rel=0.15), name
    p, q, v = fitted.params.values()
    assert p * v / (q - 1) == pytest.approx(TRUE_SPEND.p * TRUE_SPEND.v / (TRUE_SPEND.q - 1), rel=0.03)


def test_gradient_is_the_derivative_of_the_likelihood():
    spend = repeat_spend(summaries(2_000))
    log_params = np.log([2.0, 3.0, 50.0])
    _, gradient = gamma_gamma.log_likelihood(log_params, spend)
    numeric = approx_fprime(log_params, lambda point: gamma_gamma.log_likelihood(point, spend)[0], 1e-7)
    np.testing.assert_allclose(gradient, numeric, rtol=1e-4, atol=1e-7)


def test_expected_spend_shrinks_a_customers_mean_towards_the_population_mean():
    params = GammaGammaParams(p=4.0, q=5.0, v=120.0)  # population mean 4 * 120 / 4 = 120
    expected = gamma_gamma.expected_spend(params, np.array([0.0, 1.0, 1_000.0]), np.array([0.0, 300.0, 300.0]))
    assert expected[0] == pytest.approx(120.0)  # no repeat purchase: the population mean
    assert expected[1] == pytest.approx((4 / 8) * 300 + (4 / 8) * 120)  # weight p x / (p x + q - 1) = 1/2
    assert 299 < expected[2] < 300  # a thousand purchases: almost the customer's own mean
