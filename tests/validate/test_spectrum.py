"""Spectrum-family fits: planted power-law and exponential spectra are told apart and recovered;
against the random-matrix null, Gaussian matrices are bulk only and planted spikes are counted."""

import numpy as np
import pytest

from lrkd import theory
from lrkd.errors import InputError
from lrkd.validate.claims.c4 import spectrum_verdict
from lrkd.validate.engine.spectrum import compare_with_null, fit_spectrum


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


# -- the random-matrix null ---------------------------------------------------------------------
SHAPES = [(64, 64), (96, 288), (300, 100)]


def gaussian(shape, seed, scale=0.02):
    return scale * np.random.default_rng(seed).standard_normal(shape)


def planted_low_rank(shape, seed, rank=8, scale=0.02):
    """rank spikes of strength x = 6 .. 2.5 noise units (x sigma sqrt(max(m, n))) plus Gaussian noise."""
    rng = np.random.default_rng(1000 + seed)
    m, n = shape
    u = np.linalg.qr(rng.standard_normal((m, rank)))[0]
    v = np.linalg.qr(rng.standard_normal((n, rank)))[0]
    strengths = np.linspace(6.0, 2.5, rank) * scale * np.sqrt(max(shape))
    return u @ np.diag(strengths) @ v.T + gaussian(shape, seed, scale)


def svdvals(matrix):
    return np.linalg.svd(matrix, compute_uv=False)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(5))
def test_a_gaussian_matrix_is_bulk_only(shape, seed):
    s = svdvals(gaussian(shape, seed))
    null = compare_with_null(s, shape)
    assert null.bulk_only and null.family == "bulk_only" and null.summary() == "no structure beyond the bulk"
    assert null.scale == pytest.approx(0.02, rel=0.05)  # median-based scale estimate
    assert null.mp_edge == pytest.approx(0.02 * (np.sqrt(shape[0]) + np.sqrt(shape[1])), rel=0.05)
    assert compare_with_null(s).bulk_only  # also with the shape inferred from the bulk
    assert fit_spectrum(s).family in ("power_law", "exponential")  # the old whole-spectrum fit names a family


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", range(5))
def test_a_planted_rank_8_signal_has_8_spikes(shape, seed):
    null = compare_with_null(svdvals(planted_low_rank(shape, seed)), shape)
    assert null.n_spikes == 8 and not null.bulk_only
    assert null.family_fit is not None and null.family_fit.n_points == 8  # the family is fitted to spikes only


def test_spikes_carry_the_planted_decay_family():
    m, n = 128, 128
    rng = np.random.default_rng(7)
    u, v = (np.linalg.qr(rng.standard_normal((d, 20)))[0] for d in (m, n))
    k = np.arange(1, 21)
    signal = u @ np.diag(40.0 * 0.02 * np.sqrt(n) * k**-1.5) @ v.T
    null = compare_with_null(svdvals(signal + gaussian((m, n), 7)), (m, n))
    assert 3 <= null.n_spikes < 20 and null.family == "power_law"


def test_spectrum_verdict_does_not_read_r_star_from_a_random_matrix():
    claim = theory.get_claim("optimal_rank")
    values = {f"g{i}": svdvals(gaussian(shape, i)) for i, shape in enumerate(SHAPES)}
    shapes = {f"g{i}": shape for i, shape in enumerate(SHAPES)}
    verdict = spectrum_verdict(claim, values, experiment="x", shapes=shapes)
    assert verdict.code == "inconclusive" and "Not tested" in verdict.explanation
    assert verdict.numbers["matrices_with_structure"] == 0 and verdict.numbers["tested"] is False
    assert verdict.figures[0].kind == "spectrum_null"
    planted = {**values, "low_rank": svdvals(planted_low_rank((64, 64), 0))}
    tested = spectrum_verdict(claim, planted, experiment="x", shapes={**shapes, "low_rank": (64, 64)})
    assert tested.numbers["matrices_with_structure"] == 1 and tested.numbers["tested"] is True
    assert tested.code in ("holds", "not_tight", "violated")


def test_shape_must_match_the_number_of_singular_values():
    with pytest.raises(InputError, match="shape"):
        compare_with_null(svdvals(gaussian((64, 64), 0)), (32, 64))


def test_flat_spikes_fall_outside_the_rstar_table():
    m, n = 128, 128
    rng = np.random.default_rng(3)
    u, v = (np.linalg.qr(rng.standard_normal((d, 30)))[0] for d in (m, n))
    k = np.arange(1, 31)
    signal = u @ np.diag(8.0 * 0.02 * np.sqrt(n) * k**-0.3) @ v.T  # spikes decaying as k^-0.3
    values = {"flat": svdvals(signal + gaussian((m, n), 3))}
    verdict = spectrum_verdict(theory.get_claim("optimal_rank"), values, experiment="x", shapes={"flat": (m, n)})
    assert verdict.numbers["matrices_with_family"] == 1 and verdict.numbers["matrices_outside_table"] == 1
    assert verdict.code == "inconclusive" and "r* table" in verdict.explanation
