"""User claims of every kind the built-ins use go through validate.check_claim (issue 10).

Upper bound, lower bound and r* exponent claims written with theory.Claim.from_formula, bound to
an experiment by name, checked on what simulate.rank_sweep returns, and flipped by a planted
false version so that each verdict path can come out differently.
"""

import pytest

from lrkd import simulate
from lrkd import theory
from lrkd.errors import InputError
from lrkd.sweep import SerialExecutor
from lrkd.validate import check_claim
from lrkd.validate.engine.verdict import CODES

COLUMNS = {"r": "rank", "m": "m", "n": "n", "N": "n_samples", "sigma": "noise"}
# a user claim on the c2 gap, read in N (r, m, n bound to their columns)
GAP_IN_N = dict(
    rate_variables=("N",),
    experiment="c2_generalization",
    columns={k: COLUMNS[k] for k in ("r", "m", "n", "N")},
    measured_column="gen_gap",
)


@pytest.fixture(scope="module")
def sweep():
    teacher = simulate.LinearTeacher(24, 24, simulate.PowerLaw(1.0), noise=1.0, seed=0)
    return simulate.rank_sweep(
        teacher,
        list(range(1, 25)),
        [128, 256, 512, 1024, 2048, 4096],
        seeds=range(5),
        device="cpu",
        executor=SerialExecutor(),
        progress=False,
    )


def user(id, formula, kind, **fields):
    return theory.Claim.from_formula(id, formula, kind=kind, **fields)


def test_a_user_upper_bound_is_checked_and_can_fail(sweep):
    # the reduced-rank excess risk is about sigma^2 r (m+n-r)/N + tail: 4x that bounds it, 1/100 does not
    fields = dict(
        rate_variables=("N",),
        experiment="c2_generalization",
        columns=COLUMNS,
        measured_column="excess_risk",
        defaults={"K": 4.0, "A": 1.5},
    )
    loose = check_claim(user("mine_upper", "K*sigma**2*r*(m+n)/N + A", "upper_bound", **fields), sweep)
    assert loose.claim == "mine_upper" and loose.code in CODES and loose.code != "violated"
    tight = check_claim(
        user("mine_upper_low", "sigma**2*r*(m+n)/(100*N)", "upper_bound", **{**fields, "defaults": {}}), sweep
    )
    assert tight.code == "violated"


def test_a_user_lower_bound_is_checked_and_can_fail(sweep):
    fields = dict(experiment="c2_generalization", columns={"m": "m", "sigma": "noise"}, measured_column="test_risk")
    # no predictor beats the noise floor: population risk >= m sigma^2; twice the floor is false
    true = check_claim(user("mine_lower", "m*sigma**2", "lower_bound", **fields), sweep)
    assert true.claim == "mine_lower" and true.code in CODES and true.code != "violated"
    false = check_claim(user("mine_lower_high", "2*m*sigma**2", "lower_bound", **fields), sweep)
    assert false.code == "violated"


def test_a_user_rstar_exponent_claim_is_checked_and_can_fail(sweep):
    fields = dict(kind="exponent", rate_variables=("N",), defaults={"C": 1.0}, experiment="c4_rank")
    quarter = check_claim(theory.Claim.from_formula("mine", "C*N**(1/4)", **fields), sweep)
    assert quarter.claim == "mine" and quarter.experiment == "c4_rank" and quarter.code in CODES
    linear = check_claim(theory.Claim.from_formula("mine_linear", "C*N", **fields), sweep)
    assert linear.code in ("not_tight", "inconclusive")
    assert quarter.numbers["growth_law"] == linear.numbers["growth_law"]  # same evidence, another claim


def test_a_user_exponent_claim_is_broken_by_a_miss_on_either_side(sweep):
    """An exponent claim says the measured quantity grows like its expression (theory renders it "~"):
    the gap decays as 1/N, so a claimed 1/sqrt(N) is broken although it decays slower, where an upper
    bound would only be loose (issue 19: the generic path read exponent claims as upper bounds)."""
    fields = GAP_IN_N
    as_sqrt = check_claim(user("mine_gap_sqrt", "r*(m+n)/sqrt(N)", "exponent", **fields), sweep)
    assert as_sqrt.code == "violated", as_sqrt.explanation
    as_upper = check_claim(
        user("mine_gap_sqrt_O", "C*r*(m+n)/sqrt(N)", "upper_bound", free_constant="C", **fields), sweep
    )
    assert as_upper.code == "not_tight", as_upper.explanation


def test_an_exponent_in_n_alone_gets_the_offset_of_the_rank_averaged_gap(sweep):
    """Read in N alone on a rank x N grid, the gap's exponent is the rank-averaged gap's (the fit
    averages every run at each N), so theory's offset must be the rank-averaged prediction's slope:
    the same offset an upper bound in N gets, not the slope of each N's first rank."""
    fields = GAP_IN_N
    as_exponent = check_claim(user("mine_gap_N", "r*(m+n)/N", "exponent", **fields), sweep)
    as_bound = check_claim(user("mine_gap_N_O", "C*r*(m+n)/N", "upper_bound", free_constant="C", **fields), sweep)
    offset = as_exponent.numbers["finite_size_offset_N"]
    assert offset == pytest.approx(as_bound.numbers["finite_size_offset_N"], abs=1e-12)
    first_rank = check_claim(user("mine_gap_N_rank1", "r*(m+n)/N", "exponent", **fields), sweep[sweep["rank"] == 1])
    assert abs(offset - first_rank.numbers["finite_size_offset_N"]) > 0.02  # rank 1's slope alone is another


def test_an_exponent_claim_whose_rate_is_bound_to_no_column_is_an_input_error(sweep):
    """With N given a default value instead of a column, no exponent in N can be fitted: before,
    the claim came out `holds` on no evidence at all; now it is a one-line error naming the field."""
    fields = dict(
        rate_variables=("N",),
        experiment="c2_generalization",
        columns={k: COLUMNS[k] for k in ("r", "m", "n")},
        defaults={"N": 1000.0},
        measured_column="gen_gap",
    )
    with pytest.raises(InputError, match="rate_variables"):
        check_claim(user("mine_gap_unbound", "r*(m+n)/N", "exponent", **fields), sweep)
