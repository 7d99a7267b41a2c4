"""Property-based checks across layers on random teachers and settings (hypothesis).

Profiles: the default `fast` profile keeps these in the default test run; LRKD_HYPOTHESIS_PROFILE=
thorough (`make test-thorough`) runs 20x more examples. Monotonicity of every bound in T, r and N
is checked in tests/theory/test_bound_properties.py against the symbolic source.
"""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from lrkd import simulate
from lrkd import theory
from lrkd.validate.engine import mi

sizes = st.integers(min_value=2, max_value=8)
seeds = st.integers(min_value=0, max_value=2**31 - 1)
decays = st.floats(min_value=0.6, max_value=3.0)


@given(m=sizes, n=sizes, seed=seeds, data=st.data())
def test_eckart_young_truncated_svd_is_the_best_rank_r_approximation(m, n, seed, data):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((m, n))
    r = data.draw(st.integers(1, min(m, n)))
    u, s, vt = np.linalg.svd(w)
    best = (u[:, :r] * s[:r]) @ vt[:r]
    assert np.isclose(np.sum((w - best) ** 2), np.sum(s[r:] ** 2), rtol=1e-10, atol=1e-12)
    other = rng.standard_normal((m, r)) @ rng.standard_normal((r, n))  # any other rank-r matrix
    assert np.sum((w - best) ** 2) <= np.sum((w - other) ** 2) + 1e-12


@given(m=sizes, n=sizes, seed=seeds, data=st.data())
def test_rrr_with_an_orthonormal_design_is_the_truncated_svd_of_the_labels(m, n, seed, data):
    """With X^T X = I the rank-r least-squares fit is the best rank-r approximation of X^T Y."""
    rng = np.random.default_rng(seed)
    samples = n + data.draw(st.integers(0, 6))
    x, _ = np.linalg.qr(rng.standard_normal((samples, n)))
    y = rng.standard_normal((samples, m))
    r = data.draw(st.integers(1, min(m, n)))
    fitted = simulate.fit_rrr(torch.from_numpy(x), torch.from_numpy(y), [r])[r].numpy()
    u, s, vt = np.linalg.svd((x.T @ y).T)
    np.testing.assert_allclose(fitted, (u[:, :r] * s[:r]) @ vt[:r], atol=1e-9)


@given(m=sizes, n=sizes, alpha=decays, noise=st.floats(0.0, 2.0), seed=st.integers(0, 1000), data=st.data())
def test_linear_teacher_risk_formula(m, n, alpha, noise, seed, data):
    """Population risk = ||W - W_T||_F^2 + m sigma^2 (isotropic inputs); the best rank-r excess risk is
    the spectral tail, which is what theory's RRR reference adds as `tail`."""
    teacher = simulate.LinearTeacher(m, n, simulate.PowerLaw(alpha), noise=noise, seed=seed)
    w = torch.from_numpy(np.random.default_rng(seed).standard_normal((m, n)))
    w_t = torch.from_numpy(teacher.weight)
    assert np.isclose(float(teacher.population_risk(w)), float(((w - w_t) ** 2).sum()) + m * noise**2, rtol=1e-10)
    r = data.draw(st.integers(1, min(m, n)))
    tail = float(np.sum(np.asarray(teacher.singular_values)[r:] ** 2))
    assert np.isclose(teacher.approx_error(r), tail, rtol=1e-9, atol=1e-12)
    assert np.isclose(float(theory.rrr_excess_risk(r, m, n, 1e12, noise, tail)), tail, rtol=1e-6, atol=1e-9)


@given(d=st.integers(1, 6), seed=seeds)
def test_gaussian_mi_is_invariant_under_invertible_linear_maps(d, seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((4000, d))
    x = z + 0.5 * rng.standard_normal((4000, d))
    y = z @ rng.standard_normal((d, d)) + 0.5 * rng.standard_normal((4000, d))
    a = rng.standard_normal((d, d)) + 3 * np.eye(d)  # well-conditioned, invertible
    b = rng.standard_normal((d, d)) + 3 * np.eye(d)
    assert np.isclose(mi.gaussian(x @ a, y @ b), mi.gaussian(x, y), rtol=1e-7, atol=1e-9)


@given(d=st.integers(1, 5), k=st.integers(1, 5), seed=seeds, scale=st.floats(0.05, 3.0))
def test_c3_lower_bound_never_exceeds_the_exact_mi(d, k, seed, scale):
    """Population version: X = A z + e, Y = B z + e'; any linear f gives h(X) - h(E_gauss) <= I(X;Y)."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((d, k)), rng.standard_normal((d, k))
    f = rng.standard_normal((d, d)) * scale  # an arbitrary linear student map to teacher space
    joint = np.vstack([a, b])
    cov = joint @ joint.T + 0.1 * np.eye(2 * d)
    exact = float(theory.gaussian_mi_from_covariance(cov, d))
    cov_x, cov_xy, cov_y = cov[:d, :d], cov[:d, d:], cov[d:, d:]
    cov_e = cov_x - cov_xy @ f.T - f @ cov_xy.T + f @ cov_y @ f.T  # E = X - f Y
    bound = float(theory.mi_lower_bound(theory.gaussian_entropy(cov_x), np.linalg.slogdet(cov_e)[1], d))
    trace = float(theory.mi_lower_bound_trace(theory.gaussian_entropy(cov_x), np.trace(cov_e), d))
    assert trace <= bound + 1e-9
    assert bound <= exact + 1e-9
