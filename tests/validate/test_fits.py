"""Exponent fits: interval coverage of planted exponents, exact-rate quantities, exclusions."""

import numpy as np
import pytest

from lrkd.errors import InputError
from lrkd.validate.engine.fits import ExponentFit, compare_exponent, empty_slices_expected, expanded_level, fit_exponent

X_GRID = 2.0 ** np.arange(3, 11)  # 8 x-values


def planted_curves(exponent: float, trial: int, n_groups: int = 8, noise: float = 0.3):
    """y = 3 x^p per group, times a per-group constant and per-point lognormal noise."""
    rng = np.random.default_rng(trial)
    x = np.tile(X_GRID, n_groups)
    groups = np.repeat(np.arange(n_groups), X_GRID.size)
    log_noise = noise * rng.standard_normal(x.size) + 0.3 * rng.standard_normal(n_groups)[groups]
    return x, 3.0 * x**exponent * np.exp(log_noise), groups


def test_group_bootstrap_covers_planted_exponent_in_at_least_90_of_100_trials():
    # Measured once at 1000 trials: 94.5% coverage for 8 groups (nominal 95%).
    covered = 0
    for trial in range(100):
        x, y, groups = planted_curves(-0.5, trial)
        fit = fit_exponent(x, y, groups, seed=trial)
        covered += fit.ci[0] <= -0.5 <= fit.ci[1]
    assert covered >= 90


def test_pairs_bootstrap_covers_planted_exponent_in_at_least_90_of_100_trials():
    covered = 0
    for trial in range(100):
        rng = np.random.default_rng(trial)
        y = 2.0 * X_GRID**1.5 * np.exp(0.2 * rng.standard_normal(X_GRID.size))
        fit = fit_exponent(X_GRID, y, seed=trial)
        covered += fit.ci[0] <= 1.5 <= fit.ci[1]
    assert covered >= 90


def test_fit_recovers_the_constant_and_predicts():
    fit = fit_exponent(X_GRID, 3.0 * X_GRID**-1.0)
    assert fit.exponent == pytest.approx(-1.0, abs=1e-12)
    assert fit.intercept == pytest.approx(np.log(3.0))
    np.testing.assert_allclose(fit.predict([2.0, 5.0]), [1.5, 0.6])


@pytest.mark.parametrize("order", [2, 4])
def test_exponent_of_quadrature_error_matches_the_known_order(order):
    # diffrax-style: error of the composite trapezoid (order 2) / Simpson (order 4) rule for
    # int_0^1 e^x dx against the exact value, for n = 2^k intervals; fit error ~ n^-order.
    # Roundoff sits at eps * (e - 1) ~ 4e-16, so the caller sets the floor well above it (the
    # default floor, relative to the largest error, is for quantities that reach exact zero).
    # The interval is not asserted: higher-order terms in a noise-free quantity can make a
    # ~1e-4-wide interval miss the asymptotic order, as diffrax's tolerance checks expect.
    exact = np.e - 1.0
    n = 2 ** np.arange(2, 15)
    errors = np.array([abs(_quadrature(order, int(m)) - exact) for m in n])
    fit = fit_exponent(n.astype(float), errors, floor=1e-13)
    assert fit.exponent == pytest.approx(-order, abs=0.01)
    if order == 4:  # Simpson reaches roundoff: those points must be dropped, and said so
        assert fit.excluded.get("floor", 0) > 0
        assert any("floor" in note for note in fit.notes)


def _quadrature(order: int, n: int) -> float:
    x = np.linspace(0.0, 1.0, n + 1)
    f, h = np.exp(x), 1.0 / n
    if order == 2:
        return h * (f.sum() - 0.5 * (f[0] + f[-1]))
    return h / 3 * (f[0] + f[-1] + 4 * f[1:-1:2].sum() + 2 * f[2:-1:2].sum())


def test_nonfinite_nonpositive_and_floor_points_are_excluded_and_reported():
    x = np.arange(1.0, 11.0)
    y = x**-2.0
    y[[1, 2, 3, 4]] = [np.nan, np.inf, -1.0, 0.0]
    y[9] = 1e-20  # below the default floor 100 * eps * max(y)
    fit = fit_exponent(x, y)
    assert fit.excluded == {"nonfinite": 2, "nonpositive": 2, "floor": 1}
    assert fit.n_points == 5
    assert fit.exponent == pytest.approx(-2.0)
    assert sum("Excluded" in note for note in fit.notes) == 3


def test_too_few_units_give_an_infinite_interval_and_say_so():
    fit = fit_exponent([1.0, 2.0, 4.0], [1.0, 0.5, 0.25])
    assert fit.ci == (-np.inf, np.inf)
    assert any("No confidence interval" in note for note in fit.notes)


def test_fit_is_deterministic_given_a_seed():
    x, y, groups = planted_curves(0.7, 3)
    assert fit_exponent(x, y, groups, seed=5) == fit_exponent(x, y, groups, seed=5)


@pytest.mark.parametrize(
    "kwargs, field",
    [
        (dict(x=[1.0], y=[1.0]), "x"),
        (dict(x=[1.0, 2.0], y=[1.0]), "y"),
        (dict(x=[0.0, 1.0, 2.0], y=[1.0, 1.0, 1.0]), "x"),
        (dict(x=[1.0, 1.0, 1.0], y=[1.0, 2.0, 3.0]), "x"),
        (dict(x=[1.0, 2.0, 3.0], y=[np.nan, np.nan, 1.0]), "y"),
        (dict(x=[1.0, 2.0], y=[1.0, 2.0], groups=[0]), "groups"),
        (dict(x=[1.0, 2.0], y=[1.0, 2.0], confidence=1.5), "confidence"),
    ],
)
def test_bad_inputs_raise_input_error(kwargs, field):
    with pytest.raises(InputError) as info:
        fit_exponent(**kwargs)
    assert info.value.field == field


def _fit_with_ci(low: float, high: float) -> ExponentFit:
    return ExponentFit(exponent=(low + high) / 2, ci=(low, high), intercept=0.0, n_points=8, n_groups=8)


@pytest.mark.parametrize(
    "ci, claimed, direction, expected",
    [
        ((-0.6, -0.4), -0.5, "decay", "consistent"),
        ((-1.1, -0.9), -0.5, "decay", "faster"),  # decays like 1/T against a claimed 1/sqrt(T)
        ((-0.3, -0.2), -0.5, "decay", "slower"),
        ((0.4, 0.6), 0.5, "growth", "consistent"),
        ((0.7, 0.9), 0.5, "growth", "faster"),
        ((0.1, 0.3), 0.5, "growth", "slower"),
        ((-0.5, -0.4), -0.5, "decay", "consistent"),  # ends included
        # an exact fit's zero-width interval one ulp off the claim (a deterministic T^-1/2): round-off
        ((-0.5000000000000001, -0.5000000000000001), -0.5, "decay", "consistent"),
        ((0.5000000000000001, 0.5000000000000001), 0.5, "growth", "consistent"),
        ((-0.5000001, -0.5000001), -0.5, "decay", "faster"),  # 1e-7 off is another exponent
        ((-0.4999999, -0.4999999), -0.5, "decay", "slower"),
    ],
)
def test_compare_exponent(ci, claimed, direction, expected):
    assert compare_exponent(_fit_with_ci(*ci), claimed, direction) == expected


def test_compare_exponent_rejects_an_unknown_direction():
    with pytest.raises(InputError, match="direction"):
        compare_exponent(_fit_with_ci(0.0, 1.0), 0.5, "up")


def test_expanded_level_widens_small_samples_and_vanishes_for_large():
    assert expanded_level(0.95, 8, 7) > 0.98
    assert expanded_level(0.95, 10_000, 9_999) == pytest.approx(0.95, abs=1e-3)


def test_empty_slices_expected_silences_only_numpy_empty_slice_warnings():
    empty = np.full((2, 3), np.nan)
    with empty_slices_expected():  # the default run turns warnings into errors: these would raise
        assert np.isnan(np.nanmean(empty, axis=1)).all()
        assert np.isnan(np.nanstd(empty[:, :1], axis=1, ddof=1)).all()
        assert np.isnan(np.nanpercentile(empty, 50, axis=1)).all()
    with empty_slices_expected(), pytest.raises(RuntimeWarning, match="overflow"):
        np.exp(np.float64(1000.0))
