"""Mutual-information estimators against exact Gaussian MI (the only ground truth there is).

Reference values are computed here from covariances, I = (1/2) log(det Sx det Sy / det S),
independently of `theory`. Tolerances are set from the estimators' sampling error: the Gaussian
MI estimate has asymptotic standard deviation sqrt(sum_i rho_i^2 / N) (delta method on the
canonical correlations), which is <= 0.5% of I for I >= 2 nats at N = 20000 and any d here, so
a 2% tolerance there is >= 4 standard deviations.
"""

import numpy as np
import pytest
import torch

from lrkd.errors import InputError
from lrkd.validate.engine import mi
from lrkd.validate.engine.mi import _count_strictly_within


def exact_mi(cov: np.ndarray, dx: int) -> float:
    logdet = lambda c: np.linalg.slogdet(c)[1]
    return 0.5 * (logdet(cov[:dx, :dx]) + logdet(cov[dx:, dx:]) - logdet(cov))


def planted_pair(d: int, total_mi: float, n: int, seed: int):
    """x, y with d equal canonical correlations giving `total_mi`, mixed by random invertible maps.

    Returns x, y, exact MI and the canonical correlations.
    """
    rng = np.random.default_rng(seed)
    rho = np.full(d, np.sqrt(1.0 - np.exp(-2.0 * total_mi / d)))
    zx = rng.standard_normal((n, d))
    zy = rho * zx + np.sqrt(1.0 - rho**2) * rng.standard_normal((n, d))
    a, b = rng.standard_normal((d, d)), rng.standard_normal((d, d))
    exact = exact_mi(np.block([[np.eye(d), np.diag(rho)], [np.diag(rho), np.eye(d)]]), d)
    return zx @ a, zy @ b, exact, rho


def linear_pair(d: int, target_mi: float, n: int, seed: int):
    """x ~ N(0, I_d), y = x A + noise with the noise scaled so that the exact MI is `target_mi`."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((d, d))
    gram = np.linalg.eigvalsh(a.T @ a)  # I = (1/2) sum log(1 + g_i / s2)
    log_s2 = _bisect(lambda ls: 0.5 * np.sum(np.log1p(gram / np.exp(ls))) - target_mi, -30.0, 30.0)
    s2 = np.exp(log_s2)
    x = rng.standard_normal((n, d))
    y = x @ a + np.sqrt(s2) * rng.standard_normal((n, d))
    cov = np.block([[np.eye(d), a], [a.T, a.T @ a + s2 * np.eye(d)]])
    return x, y, exact_mi(cov, d)


def _bisect(f, lo, hi, iters=200):
    for _ in range(iters):  # f decreasing in its argument
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


# ---------------------------------------------------------------- Gaussian / CCA


@pytest.mark.parametrize("d", [2, 4, 8, 16, 32])
@pytest.mark.parametrize("total_mi", [2.0, 5.0])
def test_gaussian_within_two_percent_of_exact(d, total_mi, seed):
    x, y, exact, _ = planted_pair(d, total_mi, 20_000, seed)
    assert mi.gaussian(x, y) == pytest.approx(exact, rel=0.02)


@pytest.mark.parametrize("d", [2, 8, 32])
@pytest.mark.parametrize("total_mi", [0.5, 1.0])
def test_gaussian_small_mi_within_sampling_error(d, total_mi, seed):
    # At I = 0.5 nats and N = 20000 the standard deviation is ~1.3% of I: 2% is not reachable
    # by any estimator there, so the check is 4 standard deviations of the delta-method error.
    x, y, exact, rho = planted_pair(d, total_mi, 20_000, seed)
    sd = np.sqrt(np.sum(rho**2) / x.shape[0])
    assert abs(mi.gaussian(x, y) - exact) < 4 * sd


@pytest.mark.parametrize("d", [2, 8, 32])
def test_gaussian_linear_model(d, seed):
    x, y, exact = linear_pair(d, 3.0, 20_000, seed)
    assert mi.gaussian(x, y) == pytest.approx(exact, rel=0.02)


def test_bias_correction_removes_the_wishart_bias():
    # d = 8 + 8 at N = 400: the plug-in bias ~ dx*dy/(2N) = 0.08 nats is ~8 standard errors of
    # the mean over 40 replicates; the corrected mean must sit within 3 of them of the truth.
    runs = [planted_pair(8, 1.0, 400, s) for s in range(40)]
    exact = runs[0][2]
    corrected = np.array([mi.gaussian(x, y) for x, y, _, _ in runs])
    plug_in = np.array([mi.gaussian(x, y, bias_correction=False) for x, y, _, _ in runs])
    se = corrected.std(ddof=1) / np.sqrt(len(runs))
    assert abs(corrected.mean() - exact) < 3 * se
    assert plug_in.mean() - exact > 5 * se
    assert plug_in.mean() - corrected.mean() == pytest.approx(mi.wishart_mi_bias(400, 8, 8))


def test_wishart_bias_matches_leading_order_for_large_n():
    assert mi.wishart_mi_bias(200_000, 16, 16) == pytest.approx(16 * 16 / (2 * 200_000), rel=0.01)


def test_gaussian_is_not_clipped_at_zero():
    rng = np.random.default_rng(0)
    values = [mi.gaussian(rng.standard_normal((300, 3)), rng.standard_normal((300, 3))) for _ in range(20)]
    assert min(values) < 0 < max(values)
    # Unbiased at I = 0: 2N I_plugin ~ chi2(9), so the plug-in mean would be 0.015 and the
    # corrected mean of 20 runs has sd ~0.002.
    assert abs(np.mean(values)) < 0.008


def test_gaussian_ignores_constant_and_duplicate_columns():
    x, y, _, _ = planted_pair(3, 1.0, 2000, 0)
    padded = np.hstack([x, x[:, :1] * 2.0, np.ones((2000, 1))])
    assert mi.gaussian(padded, y) == pytest.approx(mi.gaussian(x, y), rel=1e-9)


def test_gaussian_accepts_torch_and_one_dimensional_inputs():
    x, y, _, _ = planted_pair(1, 1.0, 5000, 0)
    expected = mi.gaussian(x, y)
    assert mi.gaussian(torch.from_numpy(x), torch.from_numpy(y[:, 0])) == pytest.approx(expected)
    assert isinstance(expected, float)


def test_ridge_shrinks_the_estimate():
    x, y, _, _ = planted_pair(4, 3.0, 5000, 0)
    assert mi.gaussian(x, y, ridge=0.1) < mi.gaussian(x, y)


@pytest.mark.parametrize(
    "x, y, field",
    [
        (np.zeros((10, 2)), np.zeros((9, 2)), "y"),
        (np.full((10, 2), np.nan), np.zeros((10, 2)), "x"),
        (np.zeros((1, 2)), np.zeros((1, 2)), "x"),
        (np.zeros((10, 2, 2)), np.zeros((10, 2)), "x"),
    ],
)
def test_bad_inputs_raise_input_error(x, y, field):
    for estimator in (mi.gaussian, mi.ksg):
        with pytest.raises(InputError) as info:
            estimator(x, y)
        assert info.value.field == field


def test_gaussian_needs_more_samples_than_dimensions():
    rng = np.random.default_rng(0)
    with pytest.raises(InputError, match="more samples"):
        mi.gaussian(rng.standard_normal((8, 4)), rng.standard_normal((8, 4)))


# ---------------------------------------------------------------- KSG


@pytest.mark.parametrize("d", [1, 2, 3])
@pytest.mark.parametrize("target_mi", [0.5, 1.5])
def test_ksg_within_ten_percent_in_low_dimension(d, target_mi, seed):
    x, y, exact = linear_pair(d, target_mi, 8000, seed)
    assert mi.ksg(x, y, k=3) == pytest.approx(exact, rel=0.10)


def test_ksg_whitening_handles_ill_conditioned_mixing():
    x, y, exact, _ = planted_pair(3, 1.0, 5000, 3)  # seed 3: strongly correlated columns
    assert mi.ksg(x, y, whiten=True) == pytest.approx(exact, rel=0.10)


def test_ksg_counts_strictly_inside_the_radius():
    z = np.array([[0.0], [1.0], [2.0], [2.5]])
    counts = _count_strictly_within(z, np.array([1.0, 1.0, 0.5, 0.5]))
    np.testing.assert_array_equal(counts, [0, 0, 0, 0])
    counts = _count_strictly_within(z, np.array([1.5, 1.5, 1.5, 1.5]))
    np.testing.assert_array_equal(counts, [1, 2, 2, 1])


def test_ksg_returns_negative_estimates_unclipped():
    rng = np.random.default_rng(1)
    values = [mi.ksg(rng.standard_normal((400, 1)), rng.standard_normal((400, 1))) for _ in range(10)]
    assert min(values) < 0


def test_ksg_rejects_duplicate_samples():
    x = np.repeat(np.arange(20.0)[:, None], 2, axis=0)
    with pytest.raises(InputError, match="duplicate"):
        mi.ksg(x, x.copy(), k=1)


@pytest.mark.slow
def test_ksg_is_biased_low_in_high_dimension():
    # The claims.md example: 32-d Gaussian, true MI 2.30 nats, N = 5000, k = 5, estimate ~0.7.
    x, y, exact, _ = planted_pair(32, 2.30, 5000, 0)
    estimate = mi.ksg(x, y, k=5, whiten=True)
    assert exact == pytest.approx(2.30)
    assert estimate < 0.5 * exact


# ---------------------------------------------------------------- InfoNCE


@pytest.mark.parametrize("d, total_mi", [(2, 0.5), (2, 2.0), (8, 0.5), (8, 2.0)])
def test_infonce_is_a_tight_lower_bound_when_mi_is_below_log_batch(d, total_mi):
    # Held-out evaluation makes the value a lower bound in expectation; 3 standard errors of
    # Monte-Carlo slack. With MI << log(512) = 6.2 the quadratic critic gets within 10%.
    x, y, exact, _ = planted_pair(d, total_mi, 20_000, 0)
    result = mi.infonce(x, y, batch_size=512, seed=0)
    assert result.value <= exact + 3 * result.stderr
    assert result.value >= 0.9 * exact
    assert not result.saturated
    assert result.cap == pytest.approx(np.log(512))


def test_infonce_saturates_at_log_batch_when_mi_is_large():
    x, y, exact, _ = planted_pair(8, 20.0, 8000, 0)
    result = mi.infonce(x, y, batch_size=64, seed=0)
    assert exact == pytest.approx(20.0)
    assert result.saturated
    assert result.cap - result.margin <= result.value <= result.cap
    assert result.value < exact - 10


def test_infonce_is_deterministic_given_a_seed():
    x, y, _, _ = planted_pair(3, 1.0, 4000, 1)
    first, second = (mi.infonce(x, y, batch_size=256, steps=100, seed=7) for _ in range(2))
    assert first == second
    assert float(first) == first.value
    assert mi.infonce(x, y, batch_size=256, steps=100, seed=8).value != first.value


def test_infonce_mlp_critic_is_also_a_lower_bound():
    x, y, exact, _ = planted_pair(2, 1.0, 8000, 2)
    result = mi.infonce(x, y, critic="mlp", batch_size=256, steps=300, seed=0)
    assert 0.5 * exact < result.value <= exact + 3 * result.stderr


def test_infonce_rejects_a_batch_larger_than_the_split():
    x, y, _, _ = planted_pair(2, 1.0, 300, 0)
    with pytest.raises(InputError, match="batch_size"):
        mi.infonce(x, y, batch_size=256)


# ---------------------------------------------------------------- noise and the C3 bound


def test_with_noise_adds_stated_variance_and_makes_mi_finite():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20_000, 2))
    noisy = mi.with_noise(x, 0.5, seed=3)
    np.testing.assert_array_equal(noisy, mi.with_noise(x, 0.5, seed=3))
    assert np.var(noisy - x) == pytest.approx(0.25, rel=0.03)
    # I(X; X + Z) = (d/2) log(1 + 1/sigma^2) for X ~ N(0, I_d), Z ~ N(0, sigma^2 I_d).
    assert mi.gaussian(x, noisy) == pytest.approx(np.log(1 + 1 / 0.25), rel=0.02)
    np.testing.assert_array_equal(mi.with_noise(x, 0.0, seed=1), x)


def _joint_gaussian(d: int, n: int, seed: int):
    rng = np.random.default_rng(seed)
    root = rng.standard_normal((2 * d, 2 * d))
    cov = root @ root.T + 0.5 * np.eye(2 * d)
    z = rng.multivariate_normal(np.zeros(2 * d), cov, size=n)
    regression = cov[:d, d:] @ np.linalg.inv(cov[d:, d:])  # E[X | Y] = regression @ y
    return z[:, :d], z[:, d:], exact_mi(cov, d), regression


def test_clone_bound_is_tight_for_the_conditional_mean(seed):
    # f(Y) = E[X|Y] for Gaussian data: h(X|Y) = h(E), so the log-det bound equals the MI
    # (up to sampling error of two log-determinants, ~1% here).
    x, y, exact, regression = _joint_gaussian(4, 20_000, seed)
    bound = mi.clone_lower_bound(x, y @ regression.T)
    assert bound.logdet_bound == pytest.approx(exact, rel=0.03)
    assert bound.logdet_bound == pytest.approx(mi.gaussian(x, y), rel=0.02)
    assert bound.trace_bound <= bound.logdet_bound


def test_clone_bound_lies_below_the_mi_for_a_worse_student(seed):
    x, y, exact, regression = _joint_gaussian(4, 20_000, seed)
    rng = np.random.default_rng(seed + 100)
    worse = y @ (0.6 * regression.T) + 0.3 * rng.standard_normal(x.shape)
    bound = mi.clone_lower_bound(x, worse)
    estimate = mi.gaussian(x, y)
    assert bound.trace_bound <= bound.logdet_bound < exact - 0.1
    assert bound.logdet_bound < estimate
    assert float(bound) == bound.logdet_bound


def test_clone_bound_of_a_perfect_clone_is_infinite():
    x = np.random.default_rng(0).standard_normal((100, 2))
    bound = mi.clone_lower_bound(x, x.copy())
    assert bound.logdet_bound == np.inf and bound.trace_bound == np.inf


def test_clone_bound_needs_matching_shapes():
    with pytest.raises(InputError, match="y_pred"):
        mi.clone_lower_bound(np.zeros((10, 2)), np.zeros((10, 3)))
