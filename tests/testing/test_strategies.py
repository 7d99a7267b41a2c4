"""lrkd.testing's strategies and assertions, and property tests built only from lrkd.testing (the
way a user's suite would write them).

Profiles (tests/conftest.py): the default `fast` profile keeps these in the default run;
LRKD_HYPOTHESIS_PROFILE=thorough runs 20x more examples.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings

from lrkd import testing, theory
from lrkd.testing import (
    assert_bound_holds,
    assert_verdict,
    claims,
    experiment_runs,
    linear_teachers,
    quadratic_problems,
    quadratic_runs,
    teacher_runs,
)

# A user claim of a rate for SGD's averaged squared gradient on a noisy quadratic: O(T^-a)
QUADRATIC_RATE = dict(
    kind="upper_bound",
    rate_variables=("T",),
    free_constant="C",
    experiment="c1_quadratic",
    columns={"T": "T", "L": "L", "sigma": "sigma", "Delta": "Delta"},
    measured_column="avg_grad_norm_sq",
)
RATE_FAMILY = "C*sigma*sqrt(L*Delta)*T**(-{a})"
# Tiny c1_quadratic runs for the assertions' own tests (the experiment's problem, where the rate
# T^-1 is violated by far).
STEPS, SEEDS = (100, 200, 400, 800), (0, 1, 2, 3)
# A lower bound on a linear teacher's population risk: a fraction k <= 1 of the noise floor m sigma^2
NOISE_FLOOR = dict(
    kind="lower_bound",
    experiment="c2_generalization",
    columns={"m": "m", "sigma": "noise"},
    measured_column="test_risk",
)


@given(
    problem=quadratic_problems(),
    slow=claims(RATE_FAMILY, {"a": (0.05, 0.25)}, **QUADRATIC_RATE),
    fast=claims(RATE_FAMILY, {"a": (0.75, 1.0)}, **QUADRATIC_RATE),
)
def test_on_every_noisy_quadratic_a_slower_rate_is_loose_and_a_faster_one_violated(problem, slow, fast):
    # On the quick preset's grid (1.8 decades of T, 8 seeds) every rate 1/4 or more away from the
    # true T^-1/2 is decided. Shorter grids are not enough: on T = 100..800 with 4 seeds hypothesis
    # finds noisy problems (sigma^2 >> Delta) whose interval is too wide, or whose finite-size
    # offset is large enough, to leave T^-3/4 undecided or even confirmed.
    runs = quadratic_runs(problem)
    assert_verdict(slow, runs, "not_tight")
    assert_verdict(fast, runs, "violated")


@given(teacher=linear_teachers(m=(2, 8), n=(2, 8)), claim=claims("{k}*m*sigma**2", {"k": (0.05, 1)}, **NOISE_FLOOR))
def test_no_student_of_any_teacher_beats_the_noise_floor(teacher, claim):
    assert_bound_holds(claim, teacher_runs(teacher, sample_sizes=(32, 64), seeds=(0, 1)))


STRATEGIES = {
    "power_law_spectra": lambda s: 0.6 <= s.alpha <= 3 and 0.5 <= s.scale <= 2,
    "exponential_spectra": lambda s: 0.05 <= s.beta <= 2 and 0.5 <= s.scale <= 2,
    "low_rank_plus_floor_spectra": lambda s: 0 <= s.rank <= 8 and 0 <= s.floor <= s.value / 2,
    "spectra": lambda s: s.first(4).shape == (4,) and (s.first(4) >= 0).all(),
    "linear_teachers": lambda t: 2 <= t.m <= 16 and 2 <= t.n <= 16 and t.noise >= 0.1,
    "quadratic_problems": lambda q: 1 <= q.dim <= 8 and 0.1 <= min(q.eigenvalues) and q.L <= 4 and q.sigma >= 0.5,
}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_passes_the_health_checks_and_keeps_to_its_ranges(name):
    in_range = STRATEGIES[name]

    # every health check on (the profiles of tests/conftest.py suppress too_slow)
    @settings(suppress_health_check=(), max_examples=50, database=None)
    @given(getattr(testing, name)())
    def draw(value):
        assert in_range(value), value

    draw()


@settings(suppress_health_check=(), max_examples=50, database=None)
@given(claims(RATE_FAMILY, {"a": (0.25, 0.75)}, **QUADRATIC_RATE))
def test_a_claim_family_draws_exact_exponents_in_its_range(claim):
    exponent = -claim.claimed_exponents["T"]
    assert 0.25 <= exponent <= 0.75 and exponent.q <= 20
    assert claim.title == RATE_FAMILY.format(a=f"({exponent})") and claim.defaults == {"C": 1.0}


def test_a_claim_family_must_name_its_placeholders():
    with pytest.raises(ValueError, match="parameters: must name the formula's placeholders"):
        claims(RATE_FAMILY, {"b": (0, 1)}, kind="upper_bound")


@pytest.fixture(scope="module")
def quadratic():
    return experiment_runs("c1_quadratic", steps=list(STEPS), seeds=list(SEEDS), device="cpu")


def test_assert_verdict_fails_with_the_verdict_explanation(quadratic):
    fast = theory.Claim.from_formula("drawn", RATE_FAMILY.format(a=1), defaults={"C": 1.0}, **QUADRATIC_RATE)
    assert assert_verdict(fast, quadratic, ("violated", "vacuous")).code == "violated"
    with pytest.raises(AssertionError, match=r"drawn on c1_quadratic: expected holds or not_tight, got violated\. "):
        assert_bound_holds(fast, quadratic)
    with pytest.raises(ValueError, match="expected: must be verdict codes"):
        assert_verdict(fast, quadratic, "fine")


def test_the_package_loads_its_names_lazily():
    assert set(testing.__all__) <= set(dir(testing))
    with pytest.raises(AttributeError):
        testing.no_such_name  # noqa: B018
