"""Hypothesis property tests: numeric bounds are finite, positive, monotone the right way, and
equal their symbolic source (sympy at 40 digits) to 1e-12 relative."""

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from lrkd import theory
from lrkd.theory import convergence as cv
from lrkd.theory import information as info
from lrkd.theory import rank
from lrkd.theory.numeric import evaluate_exact

REL = 1e-12


def positive(lo=1e-3, hi=1e3):
    """Log-uniform positive floats."""
    return st.floats(math.log(lo), math.log(hi)).map(math.exp)


def ratios():
    return st.floats(1.5, 50.0)


def assert_matches_symbolic(value, expr, values):
    """|numeric - exact| <= REL * scale, scale = the largest term of expr (cancellation-aware)."""
    exact = evaluate_exact(expr, values)
    terms = sp.Add.make_args(sp.sympify(expr))
    scale = max([abs(exact)] + [abs(evaluate_exact(t, values)) for t in terms])
    assert abs(float(value) - float(exact)) <= REL * float(scale), (value, exact)


def claim_symbols(claim, **params):
    return {claim.symbol(k): v for k, v in params.items() if k in claim.free_parameters}


# -- C1 --------------------------------------------------------------------------------------
@given(T=positive(1, 1e7), L=positive(), sigma=positive(), Delta=positive(), k=ratios())
def test_convergence_bound_positive_decreasing_in_T_and_exact(T, L, sigma, Delta, k):
    claim = theory.get_claim("convergence")
    value = claim.bound(T=T, L=L, sigma=sigma, Delta=Delta)
    assert np.isfinite(value) and value > 0
    assert claim.bound(T=k * T, L=L, sigma=sigma, Delta=Delta) < value
    assert_matches_symbolic(value, claim.expr, claim_symbols(claim, T=T, L=L, sigma=sigma, Delta=Delta))
    assert theory.convergence_bound(T, L, sigma, Delta) == value


@given(T=positive(1, 1e7), L=positive(), sigma=positive(), Delta=positive())
def test_optimal_step_is_the_min_form_and_at_most_one_over_L(T, L, sigma, Delta):
    step = theory.optimal_step_size(L, sigma, Delta, T)
    assert 0 < step <= 1 / L * (1 + 1e-15)
    min_form = sp.Min(1 / cv.L, cv.derive_optimal_step())
    assert_matches_symbolic(step, min_form, {cv.L: L, cv.sigma: sigma, cv.Delta: Delta, cv.T: T})


def test_optimal_step_at_zero_noise_is_one_over_L_and_vectorized():
    steps = theory.optimal_step_size(2.0, np.array([0.0, 1.0, 4.0]), 1.0, 100)
    assert steps.shape == (3,) and steps[0] == 0.5 and np.all(np.diff(steps) < 0)
    assert theory.convergence_bound(10, 1.0, 0.0, 1.0) == pytest.approx(0.4, rel=1e-15)


# -- C2 --------------------------------------------------------------------------------------
@given(r=positive(1, 100), m=positive(1, 1e4), n=positive(1, 1e4), N=positive(1, 1e9), C=positive(), k=ratios())
def test_generalization_increasing_in_r_decreasing_in_N_and_exact(r, m, n, N, C, k):
    claim = theory.get_claim("generalization")
    value = claim.bound(r=r, m=m, n=n, N=N, C=C)
    assert np.isfinite(value) and value > 0
    assert claim.bound(r=k * r, m=m, n=n, N=N, C=C) > value
    assert claim.bound(r=r, m=m, n=n, N=k * N, C=C) < value
    assert_matches_symbolic(value, claim.expr, claim_symbols(claim, r=r, m=m, n=n, N=N, C=C))


@given(
    r=positive(1, 100),
    m=positive(1, 1e4),
    n=positive(1, 1e4),
    N=positive(1, 1e9),
    R_x=positive(),
    R_W=positive(),
    R_y=positive(),
    delta=st.floats(1e-6, 0.999),
    k=ratios(),
)
def test_generalization_sqrt_monotone_and_exact(r, m, n, N, R_x, R_W, R_y, delta, k):
    claim = theory.get_claim("generalization_sqrt")
    p = dict(r=r, m=m, n=n, N=N, R_x=R_x, R_W=R_W, R_y=R_y, delta=delta)
    value = claim.bound(**p)
    assert np.isfinite(value) and value > 0
    assert claim.bound(**(p | {"r": k * r})) > value
    assert claim.bound(**(p | {"N": k * N})) < value
    assert_matches_symbolic(value, claim.expr, claim_symbols(claim, **p))


@given(
    m=st.integers(1, 500),
    n=st.integers(1, 500),
    frac=st.floats(0, 1),
    N=positive(10, 1e9),
    sigma=positive(),
    tail=st.floats(0, 100),
    k=ratios(),
)
def test_rrr_excess_risk_decreasing_in_N_and_exact(m, n, frac, N, sigma, tail, k):
    r = round(frac * min(m, n))
    value = theory.rrr_excess_risk(r, m, n, N, sigma, tail)
    assert np.isfinite(value) and value >= tail
    if r > 0:
        assert theory.rrr_excess_risk(r, m, n, k * N, sigma, tail) < value
    claim = theory.get_claim("rrr_excess_risk")
    assert_matches_symbolic(value, claim.expr, claim_symbols(claim, r=r, m=m, n=n, N=N, sigma=sigma, tail=tail))


# -- C3 --------------------------------------------------------------------------------------
@given(eigs=st.lists(positive(1e-3, 1e2), min_size=1, max_size=8), extra=st.floats(0, 10), h_x=st.floats(-50, 50))
def test_mi_bounds_exact_and_trace_form_weaker(eigs, extra, h_x):
    d, logdet = len(eigs), float(np.sum(np.log(eigs)))
    D = float(np.sum(eigs)) + extra  # D = E||X - f(Y)||^2 >= tr Sigma_E
    logdet_form = theory.mi_lower_bound(h_x, logdet, d)
    trace_form = theory.mi_lower_bound_trace(h_x, D, d)
    assert trace_form <= logdet_form + 1e-12 * (abs(logdet_form) + d * 10)
    assert_matches_symbolic(logdet_form, info.MI_LOGDET_BOUND, {info.h_x: h_x, info.logdet_cov_e: logdet, info.d: d})
    assert_matches_symbolic(trace_form, info.MI_TRACE_BOUND, {info.h_x: h_x, info.D: D, info.d: d})


@given(rho=st.lists(st.floats(0, 0.999), min_size=1, max_size=6), bump=st.floats(0, 0.999))
def test_gaussian_mi_nonnegative_monotone_and_matches_covariance_form(rho, bump):
    rho = np.array(rho)
    mi = theory.gaussian_mi_from_correlations(rho)
    assert mi >= 0
    larger = np.maximum(rho, bump)
    assert theory.gaussian_mi_from_correlations(larger) >= mi
    d = len(rho)
    cov = np.block([[np.eye(d), np.diag(rho)], [np.diag(rho), np.eye(d)]])
    assert theory.gaussian_mi_from_covariance(cov, d) == pytest.approx(mi, rel=1e-9, abs=1e-12)
    exact = sum(evaluate_exact(info.GAUSSIAN_MI_TERM, {info.rho: x}) for x in rho)
    assert abs(mi - float(exact)) <= REL * max(float(exact), 1e-300) + 1e-15


@given(eigs=st.lists(positive(1e-3, 1e3), min_size=1, max_size=6), seed=st.integers(0, 2**31))
def test_gaussian_entropy_matches_symbolic(eigs, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(len(eigs), len(eigs))))
    cov = q @ np.diag(eigs) @ q.T
    h = theory.gaussian_entropy(cov)
    logdet = float(np.sum(np.log(eigs)))
    exact = evaluate_exact(info.GAUSSIAN_ENTROPY, {info.d: len(eigs), info.logdet: logdet})
    assert abs(h - float(exact)) <= 1e-10 * max(1.0, abs(float(exact)))  # slogdet of a rotated matrix


def test_gaussian_entropy_batched_and_rejects_indefinite():
    covs = np.stack([np.eye(3), 2 * np.eye(3)])
    assert theory.gaussian_entropy(covs).shape == (2,)
    with pytest.raises(ValueError, match="positive definite"):
        theory.gaussian_entropy(-np.eye(2))


# -- C4 --------------------------------------------------------------------------------------
@given(
    spectrum=st.sampled_from(rank.SPECTRA),
    variance=st.sampled_from(rank.VARIANCES),
    N=positive(10, 1e9),
    m=positive(1, 1e3),
    n=positive(1, 1e3),
    decay=st.floats(0.6, 3.0),
    k=ratios(),
)
def test_rstar_value_increasing_in_N_and_exact(spectrum, variance, N, m, n, decay, k):
    key = "alpha" if spectrum == "power_law" else "beta"
    value = theory.rstar_value(spectrum, variance, N=N, m=m, n=n, **{key: decay})
    assert np.isfinite(value)
    assert theory.rstar_value(spectrum, variance, N=k * N, m=m, n=n, **{key: decay}) > value
    expr = theory.rstar_expression(spectrum, variance)
    values = {rank.N: N, rank.m: m, rank.n: n, rank.c: 1.0, rank.s0: 1.0, rank._DECAY[spectrum]: decay}
    assert_matches_symbolic(value, expr, values)


# -- every registered claim, including user claims ----------------------------------------------
def _draw(data, info_):
    """A value inside the symbol's interval, kept within [1e-3, 1e3] in magnitude where open."""
    iv = info_.interval
    lo = -1e3 if iv.start == -sp.oo else float(iv.start)
    lo = 1e-3 if (lo == 0 and iv.left_open) else lo
    hi = 1e3 if iv.end == sp.oo else float(iv.end)
    return data.draw(st.floats(lo, hi, exclude_max=bool(iv.right_open) and iv.end != sp.oo), label=info_.name)


@given(data=st.data())
def test_every_registered_claim_matches_its_expression(data):
    claim = data.draw(st.sampled_from([c for c in theory.all_claims() if not c.constraints]))
    params = {p: _draw(data, claim.info(p)) for p in claim.free_parameters}
    value = claim.bound(**params)
    assert np.isfinite(value)
    assert_matches_symbolic(value, claim.expr, {claim.symbol(p): v for p, v in params.items()})


def test_bounds_are_vectorized_and_broadcast():
    claim = theory.get_claim("convergence")
    T = np.array([10.0, 100.0, 1000.0])
    out = claim.bound(T=T, L=1.0, sigma=np.array([[0.5], [1.0]]), Delta=2.0)
    assert out.shape == (2, 3)
    for i, sigma in enumerate([0.5, 1.0]):
        for j, t in enumerate(T):
            assert out[i, j] == claim.bound(T=t, L=1.0, sigma=sigma, Delta=2.0)
    assert theory.get_claim("optimal_rank").bound(N=np.array([4.0, 9.0])).tolist() == [2.0, 3.0]


def test_torch_tensors_agree_with_numpy_and_carry_gradients():
    torch = pytest.importorskip("torch")
    claim = theory.get_claim("generalization_sqrt")
    N = torch.tensor([10.0, 1e3, 1e5], dtype=torch.float64, requires_grad=True)
    out = claim.bound(r=4, m=8, n=6, N=N)
    assert torch.is_tensor(out) and out.dtype == torch.float64
    np.testing.assert_allclose(out.detach().numpy(), claim.bound(r=4, m=8, n=6, N=N.detach().numpy()), rtol=1e-14)
    out.sum().backward()
    assert torch.all(N.grad < 0)  # decreasing in N
    conv = theory.convergence_bound(torch.tensor([10.0, 100.0]), 1.0, 1.0, 1.0)
    np.testing.assert_allclose(
        conv.numpy(), theory.convergence_bound(np.array([10.0, 100.0]), 1, 1, 1), rtol=1e-6
    )  # float32 tensors stay float32
