"""C1: every step of the convergence derivation is a sympy fact, and wrong steps are rejected."""

import sympy as sp

from lrkd import theory
from lrkd.theory import convergence as cv
from lrkd.theory.proofs import is_identity, is_positive

T, L, sigma, Delta, eta = cv.T, cv.L, cv.sigma, cv.Delta, cv.eta


def test_descent_lemma_telescopes_to_ghadimi_lan_average_bound():
    assert cv.check_average_bound(cv.STATED_AVERAGE_BOUND)


def test_optimal_step_solves_first_order_condition_and_is_a_minimum():
    eta_star = cv.derive_optimal_step()
    slope = sp.diff(cv.STATED_AVERAGE_BOUND, eta)
    assert is_identity(slope.subs(eta, eta_star), 0)
    assert is_positive(sp.diff(cv.STATED_AVERAGE_BOUND, eta, 2).subs(eta, eta_star))
    # the claims.md form sqrt(2 Delta / (L sigma^2 T)) is the same root
    assert cv.check_optimal_step(sp.sqrt(2 * Delta / (L * sigma**2 * T)))


def test_stated_bound_is_implied_by_the_derivation():
    assert cv.check_bound(theory.get_claim("convergence").expr)
    assert is_identity(theory.get_claim("convergence").expr, cv.STATED_BOUND)
    # the slack is exactly 2 L Delta / T: the derivation gives the tighter constant 2
    assert is_identity(cv.STATED_BOUND - cv.derive_bound(), 2 * L * Delta / T)


def test_sqrt_T_times_bound_has_finite_positive_limit():
    limit = cv.rate_constant(theory.get_claim("convergence").expr)
    assert limit.is_finite and is_positive(limit)
    assert not sp.limit(T * cv.STATED_BOUND, T, sp.oo).is_finite  # so the rate is not 1/T


def test_step_rule_forms_agree_and_match_min_form():
    assert cv.check_step_rule()


def test_transfer_constants_follow_from_chain_rule():
    for shape in [(2, 2, 1), (3, 2, 2)]:
        constants = cv.derive_transfer(*shape)
        assert is_identity(constants["L_f"], theory.get_claim("smoothness_transfer").expr)
        assert is_identity(constants["sigma_f"], cv.S.W_norm * cv.S.sigma_g)


# -- planted errors: the checks must reject a wrong step ----------------------------------------
def test_rejects_descent_lemma_with_factor_two_dropped():
    wrong_lemma = cv.descent_change(smoothness_factor=1)  # L eta^2 instead of (L/2) eta^2
    try:
        cv.derive_average_bound(wrong_lemma)
    except ValueError as err:
        assert "eta/2" in str(err)
    else:
        raise AssertionError("a descent lemma with a dropped 1/2 was accepted")


def test_rejects_average_bound_with_factor_two_dropped():
    assert not cv.check_average_bound(Delta / (eta * T) + L * eta * sigma**2)


def test_rejects_optimal_step_with_factor_two_dropped():
    assert not cv.check_optimal_step(sp.sqrt(Delta / (L * sigma**2 * T)))


def test_rejects_bound_with_factor_two_dropped():
    assert not cv.check_bound(4 * L * Delta / T + sigma * sp.sqrt(2 * L * Delta / T))
