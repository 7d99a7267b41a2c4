"""C4: r*(N) per spectrum family and variance form comes out of sympy, not a typed table."""

import pytest
import sympy as sp

from lrkd import theory
from lrkd.theory import rank
from lrkd.theory.proofs import is_identity, is_positive

N, alpha, beta = rank.N, rank.alpha, rank.beta
CASES = [(s, v) for s in rank.SPECTRA for v in rank.VARIANCES]

# docs/claims.md, C4 table (the spec the derivation must reproduce)
CLAIMS_MD_TABLE = {
    ("power_law", "fast"): N ** (1 / (2 * alpha)),
    ("power_law", "paper"): N ** (1 / (4 * alpha)),
    ("exponential", "fast"): sp.log(N) / (2 * beta),
    ("exponential", "paper"): sp.log(N) / (4 * beta),
}


@pytest.mark.parametrize("spectrum, variance", CASES)
def test_rstar_solves_first_order_condition_and_is_a_minimum(spectrum, variance):
    assert rank.check_rstar_candidate(spectrum, variance, theory.rstar_expression(spectrum, variance))
    assert rank.check_minimum(spectrum, variance)


@pytest.mark.parametrize("spectrum, variance", CASES)
def test_rstar_exponent_is_the_log_log_limit(spectrum, variance):
    rstar = theory.rstar_expression(spectrum, variance)
    slope = sp.limit(sp.log(rstar) / sp.log(N), N, sp.oo)
    assert is_identity(slope, theory.rstar_exponent(spectrum, variance))


@pytest.mark.parametrize("spectrum, variance", CASES)
def test_derived_table_reproduces_claims_md(spectrum, variance):
    derived = rank.rstar_table()[spectrum][variance]
    assert is_identity(derived, CLAIMS_MD_TABLE[spectrum, variance])
    ratio = sp.limit(theory.rstar_expression(spectrum, variance) / derived, N, sp.oo)
    assert ratio.is_finite and is_positive(ratio)


def test_exponential_spectrum_gives_exponent_zero():
    assert all(theory.rstar_exponent("exponential", v) == 0 for v in rank.VARIANCES)


def test_continuous_relaxation_matches_the_discrete_problem():
    assert all(rank.check_discrete_condition(s) for s in rank.SPECTRA)
    assert rank.check_power_law_sum()
    assert rank.check_exponential_sum()


def test_claimed_half_needs_alpha_one_fast_and_is_out_of_domain_for_paper_rate():
    fast, paper = rank.alpha_matching_claim("fast"), rank.alpha_matching_claim("paper")
    assert len(fast) == 1 and fast[0] > sp.Rational(1, 2)
    assert all(a <= sp.Rational(1, 2) for a in paper)  # alpha must exceed 1/2
    assert theory.get_claim("optimal_rank").claimed_exponents == {"N": sp.Rational(1, 2)}


def test_rejects_rstar_with_wrong_exponent():
    right = theory.rstar_expression("power_law", "fast")
    wrong = right**2  # N^(1/alpha): the factor 2 in 1/(2 alpha) dropped
    assert not rank.check_rstar_candidate("power_law", "fast", wrong)


def test_bad_family_names_raise_value_error():
    with pytest.raises(ValueError, match="spectrum"):
        theory.rstar_exponent("gaussian", "fast")
    with pytest.raises(ValueError, match="variance"):
        theory.rstar_exponent("power_law", "slow")
