"""check_claim: built-in dispatch, a user claim bound to an experiment, and clear errors."""

from __future__ import annotations

import pytest

from lrkd import theory
from lrkd.errors import InputError
from lrkd.simulate.experiments import get_experiment
from lrkd.sweep import SerialExecutor
from lrkd.validate import check_claim


@pytest.fixture(scope="module")
def quadratic_runs():
    experiment = get_experiment("c1_quadratic")
    config = experiment.config("quick", steps=[100, 200, 400, 800], seeds=[0, 1, 2, 3], device="cpu")
    return experiment.run(config, executor=SerialExecutor(), progress=False)


def test_builtin_claim_on_its_experiment(quadratic_runs):
    verdict = check_claim("convergence", quadratic_runs)
    assert verdict.code in ("holds", "not_tight") and verdict.experiment == "c1_quadratic"
    assert verdict.figures and verdict.numbers["points_beyond_bound"] == 0


def test_user_claim_flows_through_the_generic_path(quadratic_runs):
    claim = theory.Claim.from_formula(
        "user_fast_rate",
        "K * L * Delta / T",
        kind="upper_bound",
        rate_variables=("T",),
        defaults={"K": 1.0},
        experiment="c1_quadratic",
        columns={"T": "T", "L": "L", "Delta": "Delta"},
        measured_column="avg_grad_norm_sq",
    )
    theory.register_claim(claim, replace=True)
    try:
        verdict = check_claim("user_fast_rate", quadratic_runs)
    finally:
        theory.unregister_claim("user_fast_rate")
    assert verdict.code == "violated"  # noisy SGD does not reach O(1/T)
    assert verdict.numbers["claimed_exponent"] == -1.0


def test_unbound_claim_is_a_clear_error(quadratic_runs):
    with pytest.raises(InputError, match="no check binds claim 'optimal_rank'"):
        check_claim("optimal_rank", quadratic_runs)


def test_check_claim_takes_simulate_frames_directly():
    from lrkd import simulate

    teacher = simulate.LinearTeacher(24, 24, simulate.PowerLaw(1.0), noise=1.0, seed=0)
    sweep = simulate.rank_sweep(
        teacher,
        list(range(1, 25)),
        [128, 256, 512, 1024, 2048],
        seeds=range(4),
        executor=SerialExecutor(),
        progress=False,
    )
    rank = check_claim("optimal_rank", sweep)
    assert rank.experiment == "c4_rank" and rank.numbers["asymptotic_exponent"] == 0.5
    gap = check_claim("generalization", sweep)
    assert gap.experiment == "c2_generalization" and gap.code in ("holds", "not_tight", "inconclusive", "vacuous")
    with pytest.raises(InputError, match="runs"):
        check_claim("convergence", {"not": "runs"})
