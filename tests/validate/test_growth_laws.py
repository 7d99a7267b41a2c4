"""The growth laws of r*(N) on planted curves, against exact answers (validate.engine.growth).

Integer staircases of known laws (what an empirical r* looks like): the criterion (constant or
growing by the slope's interval, power law or logarithm by AICc) names the law, and refuses to
when the range is too short. Then the fits themselves against independent computations: the power
law's Gauss-Newton optimum and its Birge-widened interval against scipy's curve_fit (which scales
the covariance by chi^2/dof itself), the logarithm's against closed-form weighted least squares.
These run fast and are the engine tests scripts/mutate.py runs a growth mutant against (ENGINE_TESTS).
The nested test has its own file, test_nested_laws.py; the laws on real rank sweeps, test_growth.py.
"""

import numpy as np
import pytest
from scipy import optimize, stats

from lrkd.errors import InputError
from lrkd.validate.engine.growth import IDENTIFY_DELTA, ROUNDING_VARIANCE, fit_growth_laws

SIZES = np.geomspace(256, 262144, 11)


def staircase(values):
    return np.floor(values).astype(float)


@pytest.mark.parametrize("q", [0.25, 0.5, 2 / 3])
def test_a_power_law_staircase_is_identified_with_its_exponent(q):
    r = staircase(2 * (SIZES / SIZES[0]) ** q)
    fit = fit_growth_laws(SIZES, r, np.zeros_like(r))
    assert fit.best == "power_law" and fit.identified
    assert fit.exponent_ci[0] <= q + 0.05 and fit.exponent_ci[1] >= q - 0.05  # floor() bends small r*
    assert fit.laws["power_law"].chi2 < fit.laws["logarithm"].chi2


def test_a_logarithmic_staircase_is_identified():
    r = staircase(1 + np.log(SIZES / SIZES[0]) / (2 * 0.3))
    fit = fit_growth_laws(SIZES, r, np.zeros_like(r))
    assert fit.best == "logarithm" and fit.identified and fit.strength == "decisive"
    assert fit.laws["logarithm"].params["b"] == pytest.approx(1 / 0.6, rel=0.1)


def test_a_flat_curve_is_a_constant_and_a_short_range_is_not_identified():
    flat = fit_growth_laws(SIZES, np.full(SIZES.size, 5.0), np.full(SIZES.size, 0.3))
    assert flat.best == "constant" and flat.nested == "constant" and flat.identified
    short = np.geomspace(1000, 2000, 5)  # one octave: N^0.5 and log N are the same line here
    fit = fit_growth_laws(short, staircase(0.2 * short**0.5), np.full(5, 0.25))
    assert fit.grows and not fit.identified and fit.delta_aicc < IDENTIFY_DELTA
    assert np.isfinite(fit.separation_size())  # says how far N must reach to tell them apart


def test_bootstrap_replicates_give_the_share_of_wins():
    r = staircase(2 * (SIZES / SIZES[0]) ** 0.5)
    rng = np.random.default_rng(0)
    reps = np.clip(r[:, None] + rng.integers(-1, 2, size=(r.size, 200)), 1, None)
    fit = fit_growth_laws(SIZES, r, np.full(r.size, 0.5), reps)
    assert set(fit.bootstrap_wins) == {"power_law", "logarithm", "constant"}
    assert fit.bootstrap_wins["power_law"] > 0.8 and sum(fit.bootstrap_wins.values()) == pytest.approx(1)


@pytest.mark.parametrize("rstar, field", [([1, 2, 3], "n_samples"), ([0, 1, 2, 3, 4], "rstar")])
def test_bad_curves_raise_input_error(rstar, field):
    with pytest.raises(InputError, match=field):
        fit_growth_laws(SIZES[: len(rstar)], rstar, np.zeros(len(rstar)))


def _curve_fit_power(sizes, rstar, variance):
    """scipy's weighted fit of r* = exp(log c + q log N): the optimum and the chi^2/dof-scaled
    covariance (absolute_sigma=False), the reference the engine's Gauss-Newton and Birge rule meet."""
    x = np.log(sizes)
    sigma = np.sqrt(variance + ROUNDING_VARIANCE)
    start = np.polyfit(x, np.log(rstar), 1)[::-1]
    theta, cov = optimize.curve_fit(
        lambda x, log_c, q: np.exp(log_c + q * x), x, rstar, p0=start, sigma=sigma, absolute_sigma=False, xtol=1e-14
    )
    return theta, cov


# a curve whose residuals exceed the stated variances tenfold: chi^2/dof >> 1, so the interval is
# Birge-widened; it bends away from a power law, so Gauss-Newton has work to do from the log-log start
NOISY_SIZES = np.geomspace(512, 65536, 8)
NOISY_RSTAR = np.array([3.0, 5.0, 4.0, 9.0, 8.0, 15.0, 13.0, 24.0])


def test_the_power_laws_fit_and_widened_interval_match_scipy():
    variance = np.zeros(NOISY_RSTAR.size)
    fit = fit_growth_laws(NOISY_SIZES, NOISY_RSTAR, variance)
    (log_c, q), cov = _curve_fit_power(NOISY_SIZES, NOISY_RSTAR, variance)
    dof = NOISY_RSTAR.size - 2
    assert fit.laws["power_law"].chi2 / dof > 1.5  # the Birge factor is in play
    assert fit.exponent == pytest.approx(q, abs=1e-7)
    assert np.log(fit.laws["power_law"].params["c"]) == pytest.approx(log_c, abs=1e-6)
    half = stats.t.ppf(0.975, dof) * np.sqrt(cov[1, 1])  # curve_fit scales by chi^2/dof: Birge's widening
    assert fit.exponent_ci == pytest.approx((q - half, q + half), rel=1e-5)


def test_a_fit_within_its_variances_is_not_narrowed():
    # residuals smaller than the stated variances (chi^2/dof < 1): the interval stays at the stated
    # variances' width; the Birge rule only ever widens
    sizes = np.geomspace(512, 65536, 8)
    rstar = np.round(2.0 * (sizes / 512) ** 0.5, 1)
    variance = np.full(sizes.size, 4.0)
    fit = fit_growth_laws(sizes, rstar, variance)
    x, w = np.log(sizes), 1.0 / (variance + ROUNDING_VARIANCE)
    f = fit.laws["power_law"].predict(sizes)
    jac = np.column_stack([f, f * x])
    half = stats.t.ppf(0.975, sizes.size - 2) * np.sqrt(np.linalg.inv(jac.T @ (w[:, None] * jac))[1, 1])
    assert fit.laws["power_law"].chi2 < sizes.size - 2
    assert fit.exponent_ci == pytest.approx((fit.exponent - half, fit.exponent + half), rel=1e-9)


def test_the_logarithms_fit_is_closed_form_weighted_least_squares():
    variance = np.linspace(0.0, 3.0, NOISY_RSTAR.size)
    fit = fit_growth_laws(NOISY_SIZES, NOISY_RSTAR, variance)
    x, w = np.log(NOISY_SIZES), 1.0 / (variance + ROUNDING_VARIANCE)
    design = np.column_stack([np.ones_like(x), x])
    a, b = np.linalg.solve(design.T @ (w[:, None] * design), design.T @ (w * NOISY_RSTAR))
    assert fit.laws["logarithm"].params == pytest.approx({"a": a, "b": b}, rel=1e-10)
    chi2 = float(np.sum(w * (NOISY_RSTAR - a - b * x) ** 2))
    assert fit.laws["logarithm"].chi2 == pytest.approx(chi2, rel=1e-10)


def test_a_decreasing_curve_is_not_growing():
    # r* falling with N (not what theory predicts, but what a user's sweep can show): the nested test
    # finds it not constant, and it does not grow, so a bounded-r* claim is not violated by it
    rstar = staircase(40 * (SIZES / SIZES[0]) ** -0.3)
    fit = fit_growth_laws(SIZES, rstar, np.zeros_like(rstar))
    assert fit.nested == "not_constant" and fit.slope_ci[1] < 0
    assert not fit.grows and fit.decays


def test_a_decreasing_curve_bounds_growth_claims_whatever_its_law():
    # r* falling gently (N^-0.2, rounded): power law and logarithm fit about as well (no law named),
    # but a claim that r* stays bounded or grows holds with room either way: not tight, not "undecided";
    # a claimed rate of decay still waits for the law
    from lrkd.validate.claims import c4

    sizes = SIZES[:7]  # six octaves: too short to tell the laws apart
    rstar = np.rint(12 * (sizes / sizes[0]) ** -0.2)
    fit = fit_growth_laws(sizes, rstar, np.zeros_like(rstar))
    assert fit.decays and not fit.identified
    assert c4._judge(fit, ("constant", 0.0))[0] == "not_tight"
    assert c4._judge(fit, ("power_law", 0.5))[0] == "not_tight"
    assert c4._judge(fit, ("power_law", -0.1))[0] == "inconclusive"


def test_rank_one_is_a_valid_rstar():
    # a rank-1 teacher's r* is 1 at every N: a valid curve (r* >= 1), a constant
    fit = fit_growth_laws(SIZES, np.ones(SIZES.size), np.zeros(SIZES.size))
    assert fit.nested == "constant" and fit.best == "constant" and fit.identified


def test_gauss_newton_halves_a_step_that_overshoots():
    # a jump (r* 1 then 40): the full Gauss-Newton step from the log-log start raises chi^2, so only
    # halving it reaches the optimum; the fit must be at least as good as scipy's
    rstar = np.array([1.0, 1.0, 1.0, 1.0, 40.0, 40.0, 40.0, 40.0])
    variance = np.zeros(rstar.size)
    fit = fit_growth_laws(NOISY_SIZES, rstar, variance)
    (log_c, q), _ = _curve_fit_power(NOISY_SIZES, rstar, variance)
    w = 1.0 / (variance + ROUNDING_VARIANCE)
    scipy_chi2 = float(np.sum(w * (rstar - np.exp(log_c + q * np.log(NOISY_SIZES))) ** 2))
    assert fit.laws["power_law"].chi2 <= scipy_chi2 * (1 + 1e-9)
    assert fit.exponent == pytest.approx(q, abs=1e-4)
