"""C2: the explicit uniform-convergence bound is rederived by sympy; RRR reference facts."""

import pytest
import sympy as sp

from lrkd import theory
from lrkd.theory import generalization as gen
from lrkd.theory.proofs import is_identity

r, m, n, N, delta = gen.r, gen.m, gen.n, gen.N, gen.delta


def test_hoeffding_union_deviation_solves_the_tail_equation():
    t, M, B = sp.symbols("t M B", positive=True)
    deviation = gen.derive_hoeffding_deviation()
    tail = 2 * M * sp.exp(-2 * N * t**2 / B**2)
    assert is_identity(
        sp.expand_log(sp.log(tail.subs(t, deviation)), force=True), sp.expand_log(sp.log(delta), force=True)
    )


def test_explicit_bound_matches_its_derivation():
    assert gen.check_generalization_sqrt(theory.get_claim("generalization_sqrt").expr)


def test_explicit_bound_rate_is_sqrt_log_over_N():
    claim = theory.get_claim("generalization_sqrt")
    assert claim.claimed_exponents == {"N": sp.Rational(-1, 2), "r": sp.Rational(1, 2)}
    # sqrt(N / log N) * bound tends to a finite positive constant
    limit = sp.limit(claim.expr * sp.sqrt(N / sp.log(N)), N, sp.oo)
    assert limit.is_finite and limit.is_positive


def test_paper_form_is_looser_than_parameter_counting_rate():
    assert is_identity(gen.paper_over_sqrt_ratio(), sp.sqrt(r * (m + n)))


@pytest.mark.parametrize("shape", [(3, 2, 1), (4, 3, 2), (3, 3, 3)])
def test_rank_r_matrices_have_dimension_r_times_m_plus_n_minus_r(shape):
    m_, n_, r_ = shape
    count = gen.rrr_parameter_count().subs({m: m_, n: n_, r: r_})
    assert gen.rank_manifold_dimension(m_, n_, r_) == count


def test_rrr_reference_reduces_to_ols_parameter_count_at_full_rank():
    expr = theory.get_claim("rrr_excess_risk").expr
    assert is_identity(expr.subs(r, n) - gen.tail, gen.sigma**2 * m * n / N)


def test_rrr_claimed_exponent_is_the_estimation_term_slope():
    assert theory.get_claim("rrr_excess_risk").claimed_exponents["N"] == gen.rrr_estimation_exponent()


def test_rejects_wrong_confidence_term():
    planted = gen.STATED_SQRT_BOUND.subs(sp.log(2 / delta), sp.log(1 / delta))
    assert not gen.check_generalization_sqrt(planted)


def test_rejects_discretization_term_with_factor_two_dropped():
    planted = gen.STATED_SQRT_BOUND - 2 * gen.R_x * gen.R_W * (gen.R_y + gen.R_W * gen.R_x) / sp.sqrt(N)
    assert not gen.check_generalization_sqrt(planted)
