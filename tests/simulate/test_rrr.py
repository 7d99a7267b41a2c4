"""Closed-form reduced-rank regression (simulate/rrr.py) and its excess-risk anchor.

1. fit_rrr equals an independent computation (numpy least squares, then a truncated SVD of the
   full fitted values) to 1e-10, including N < n (minimum-norm least squares).
2. Its mean excess risk over seeds matches the asymptotic value sigma^2 r (m + n - r)/N + tail
   (Bunea, She & Wegkamp 2011; docs/claims.md C2) within 10% when N >> m + n and the kept
   singular values are well separated from the tail. Why 10%: the seed average of 200 runs has a
   standard error of about 1.5% (the variance term is ~chi^2 with r(m+n-r) = 51 degrees of
   freedom), and the finite-N corrections are O((m+n)/N) = 2% (e.g. the OLS factor N/(N-n-1)).
"""

import numpy as np
import pytest
import torch

from lrkd import simulate
from lrkd.errors import InputError
from lrkd.sweep import SerialExecutor


def independent_rrr(x: np.ndarray, y: np.ndarray, rank: int) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)  # (n, m)
    _, _, vt = np.linalg.svd(x @ coef)
    v = vt[:rank].T
    return (coef @ v @ v.T).T


@pytest.mark.parametrize("shape", [(200, 8, 6), (50, 5, 9), (6, 10, 4)])
def test_fit_rrr_equals_least_squares_plus_truncated_svd(seed, shape):
    n_samples, n, m = shape
    g = np.random.default_rng(seed)
    x = g.standard_normal((n_samples, n))
    y = x @ g.standard_normal((n, m)) + 0.5 * g.standard_normal((n_samples, m))
    ranks = list(range(1, min(m, n) + 1))
    fits = simulate.fit_rrr(torch.from_numpy(x), torch.from_numpy(y), ranks)
    for r in ranks:
        reference = independent_rrr(x, y, r)
        assert np.abs(fits[r].numpy() - reference).max() <= 1e-10 * max(1.0, np.abs(reference).max())
        assert np.linalg.matrix_rank(fits[r].numpy(), tol=1e-8) <= r


@pytest.mark.parametrize("rank", [0, 7, -1])
def test_fit_rrr_rejects_a_rank_outside_1_to_min_mn(rank):
    x, y = torch.randn(20, 6, dtype=torch.float64), torch.randn(20, 4, dtype=torch.float64)
    with pytest.raises(InputError, match=r"rank: must be an integer in \[1, 4\]"):
        simulate.fit_rrr(x, y, [rank])


TEACHERS = {
    "exact low rank": simulate.LinearTeacher(12, 8, simulate.Explicit([3.0, 2.0, 1.5]), noise=0.5, seed=3),
    "low rank plus floor": simulate.LinearTeacher(12, 8, simulate.LowRankPlusFloor(3, 2.0, 0.05), noise=0.5, seed=4),
}


@pytest.mark.parametrize("name", list(TEACHERS))
def test_mean_excess_risk_matches_variance_plus_tail(name):
    teacher = TEACHERS[name]
    frame = simulate.rank_sweep(teacher, [3], [1000], seeds=range(200), executor=SerialExecutor())
    r, m, n, sigma2 = 3, teacher.m, teacher.n, teacher.noise**2
    tail = float(np.sum(teacher.singular_values[r:] ** 2))
    predicted = sigma2 * r * (m + n - r) / 1000 + tail
    assert frame.approx_error.iloc[0] == pytest.approx(tail, abs=1e-12)
    assert frame.excess_risk.mean() == pytest.approx(predicted, rel=0.10)
    np.testing.assert_allclose(frame.test_risk - frame.excess_risk, m * sigma2)


def test_excess_risk_is_exact_for_a_given_input_covariance():
    """With Sigma_x, excess risk = tr((W - W_T) Sigma_x (W - W_T)^T): check against a large sample."""
    g = np.random.default_rng(0)
    root = g.standard_normal((5, 5)) / 2
    teacher = simulate.LinearTeacher(4, 5, simulate.PowerLaw(1.0), 0.2, 1, input_cov=root @ root.T + 0.1 * np.eye(5))
    w = torch.as_tensor(teacher.weight + 0.3 * g.standard_normal((4, 5)))
    sample = teacher.sample(200_000, seed=0, stream="check")
    monte_carlo = np.mean(np.sum((sample.x @ w.numpy().T - sample.y) ** 2, axis=1))
    assert float(teacher.population_risk(w)) == pytest.approx(monte_carlo, rel=0.01)
    np.testing.assert_allclose(np.cov(sample.x.T), teacher.cov, atol=0.02)
