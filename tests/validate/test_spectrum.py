"""Spectrum-family fits: planted power-law and exponential spectra are told apart and recovered."""
import numpy as np
import pytest

from lrkd.errors import InputError
from validate.spectrum import fit_spectrum


def noisy(values, seed, noise=0.05):
    return values * np.exp(noise * np.random.default_rng(seed).standard_normal(values.size))


@pytest.mark.parametrize("alpha", [0.6, 1.0, 2.0])
def test_planted_power_law_is_recognized_and_recovered(alpha, seed):
    k = np.arange(1, 201)
    fit = fit_spectrum(noisy(2.0 * k**-alpha, seed))
    assert fit.family == "power_law"
    assert fit.alpha == pytest.approx(alpha, abs=0.03)  # 5% lognormal noise over 200 indices
    assert fit.alpha_ci[0] <= alpha <= fit.alpha_ci[1]
    assert fit.c_power == pytest.approx(2.0, rel=0.1)
    assert fit.r2_power > fit.r2_exponential


@pytest.mark.parametrize("beta", [0.02, 0.1, 0.5])
def test_planted_exponential_is_recognized_and_recovered(beta, seed):
    k = np.arange(1, 101)
    fit = fit_spectrum(noisy(3.0 * np.exp(-beta * k), seed))
    assert fit.family == "exponential"
    assert fit.beta == pytest.approx(beta, rel=0.05, abs=0.002)
    assert fit.beta_ci[0] <= beta <= fit.beta_ci[1]
    assert fit.r2_exponential > fit.r2_power


def test_curve_reproduces_an_exact_spectrum():
    k = np.arange(1, 51)
    fit = fit_spectrum(5.0 * k**-1.5)
    np.testing.assert_allclose(fit.curve(k), 5.0 * k**-1.5, rtol=1e-10)
    np.testing.assert_allclose(fit.curve(k, "exponential"), fit.c_exponential * np.exp(-fit.beta * k))


def test_head_range_skips_a_noise_floor():
    # A power-law head followed by a flat noise floor: fitting the head recovers alpha.
    k = np.arange(1, 101)
    s = np.maximum(k**-1.0, 0.05)
    assert fit_spectrum(s).alpha < 0.8
    head = fit_spectrum(s, k_max=20)
    assert head.alpha == pytest.approx(1.0, abs=1e-9)
    assert head.k_range == (1, 20) and head.n_points == 20


def test_values_at_roundoff_are_left_out():
    s = np.exp(-0.3 * np.arange(1, 31))
    s = np.concatenate([s, np.zeros(10)])  # an exactly rank-30 matrix
    fit = fit_spectrum(s)
    assert fit.n_points == 30 and fit.beta == pytest.approx(0.3)


def test_predicted_rstar_exponent_follows_the_family():
    k = np.arange(1, 101)
    assert fit_spectrum(k**-1.0).rstar_exponent("fast") == pytest.approx(0.5)
    assert fit_spectrum(k**-1.0).rstar_exponent("paper") == pytest.approx(0.25)
    assert fit_spectrum(np.exp(-0.2 * k)).rstar_exponent("fast") == 0.0
    assert np.isnan(fit_spectrum(k**-0.4).rstar_exponent())  # alpha <= 1/2: table does not apply


@pytest.mark.parametrize(
    "values, kwargs, field",
    [
        (np.ones((3, 3)), {}, "singular_values"),
        (np.array([1.0, 0.5]), {}, "singular_values"),
        (np.array([1.0, -0.5, 0.1]), {}, "singular_values"),
        (np.array([1.0, np.nan, 0.1]), {}, "singular_values"),
        (np.ones(10), {"k_min": 0}, "k_min"),
        (np.ones(10), {"k_min": 5, "k_max": 3}, "k_max"),
        (np.array([1.0, 0.5, 0.0, 0.0]), {}, "singular_values"),
    ],
)
def test_bad_inputs_raise_input_error(values, kwargs, field):
    with pytest.raises(InputError) as info:
        fit_spectrum(values, **kwargs)
    assert info.value.field == field
