"""The decision rules of issue 10, end to end through the public API: no rate tolerance, theory's
finite-size offset instead; O(.) claims judged scale-free; a decided variable never masked.

Every claim here goes through `validate.check_claim` on `get_experiment(name).run(config)`.
"""

from __future__ import annotations

import numpy as np
import pytest

from lrkd import simulate
from lrkd import theory
from lrkd import validate
from lrkd.simulate.experiments import get_experiment
from lrkd.theory.convergence import expected_average_grad_norm_sq
from lrkd.validate.claims import c1
from lrkd.simulate.experiments.c1 import ConvergenceRuns
from lrkd.validate.registry import with_evidence

C1_COLUMNS = {"T": "T", "L": "L", "Delta": "Delta", "sigma": "sigma"}


def _c1_claim(id: str, power: str) -> theory.Claim:
    """The Ghadimi-Lan bound with T replaced by T**power: rate T^(-power/2)."""
    return theory.Claim.from_formula(
        id,
        f"4*L*Delta/T**{power} + 2*sigma*sqrt(2*L*Delta/T**{power})",
        kind="upper_bound",
        rate_variables=("T",),
        experiment="c1_quadratic",
        columns=C1_COLUMNS,
        measured_column="avg_grad_norm_sq",
    )


@pytest.fixture(scope="module")
def c1_quick():
    experiment = get_experiment("c1_quadratic")
    return experiment.run(experiment.config("quick"), store=None, progress=False)


@pytest.fixture(scope="module")
def c2_runs():
    experiment = get_experiment("c2_generalization")
    return {
        noise: experiment.run(experiment.config("quick", noise=noise), store=None, progress=False)
        for noise in (1.0, 10.0)
    }


def test_expected_trajectory_matches_sgd_on_the_quadratic():
    """theory's exact E[(1/T) sum ||grad||^2] against 48 simulated seeds at two budgets."""
    problem = simulate.Quadratic(tuple(np.linspace(0.1, 1.0, 16)), 1.0)
    evidence = c1.quadratic_evidence(simulate.quadratic_sweep(problem, [100, 800], seeds=list(range(48)), device="cpu"))
    by_t = evidence.groupby("T")
    mean, sem = by_t["avg_grad_norm_sq"].mean(), by_t["avg_grad_norm_sq"].sem()
    exact = expected_average_grad_norm_sq(
        problem.eigenvalues, problem.x0, problem.sigma, by_t["lr"].first().to_numpy(), mean.index.to_numpy(float)
    )
    assert np.all(np.abs(mean.to_numpy() - exact) < 4 * sem.to_numpy())


def test_true_bound_holds_false_fast_rate_does_not_slow_rate_is_loose(c1_quick):
    """Quick preset, 8 seeds: the local slope -0.492 [-0.502, -0.481] misses -1/2 by less than
    theory's offset on this grid (+0.0045); T^-0.55 is excluded on the breaking side, T^-0.45 on
    the safe side."""
    true = validate.check_claim("convergence", c1_quick)
    assert true.code == "holds", true.explanation
    assert true.numbers["finite_size_offset_T"] > 0 and true.numbers["resolution_T"] < 0.05
    fast = validate.check_claim(_c1_claim("c1_fast", "1.1"), c1_quick)
    assert fast.code in ("violated", "inconclusive"), fast.explanation
    assert fast.code == "violated" and fast.numbers["outcome_T"] == "wrong"
    slow = validate.check_claim(_c1_claim("c1_slow", "0.9"), c1_quick)
    assert slow.code == "not_tight", slow.explanation


def test_without_theory_the_local_slope_is_compared_as_it_is(c1_quick):
    """The same runs without the quadratic they ran on: no offset, and the 8-seed interval
    alone still holds the true exponent (the offset is a correction, not a licence)."""
    bare = ConvergenceRuns(c1_quick.experiment, "", dict(c1_quick))
    verdict = validate.check_claim("convergence", bare)
    assert "finite_size_offset_T" not in verdict.numbers
    assert any("No exact prediction" in n for n in verdict.notes)


def test_two_seeds_cannot_decide(c1_quick):
    two = c1_quick.replace(tables={k: v[v["seed"] < 2] for k, v in c1_quick.items()})
    verdict = validate.check_claim("convergence", two)
    assert verdict.code == "inconclusive" and "At least 3 seeds" in verdict.explanation


@pytest.mark.slow
def test_true_bound_holds_at_32_seeds_on_the_full_grid():
    """The case the old tolerance was added for: -0.494 [-0.498, -0.489] at 32 seeds. Theory's
    slope on this grid is -0.497, so the corrected interval covers -1/2 and T^-0.55 is excluded."""
    experiment = get_experiment("c1_quadratic")
    runs = experiment.run(experiment.config("full"), store=None, progress=False)
    true = validate.check_claim("convergence", runs)
    assert true.code == "holds", true.explanation
    assert validate.check_claim(_c1_claim("c1_fast", "1.1"), runs).code == "violated"
    assert validate.check_claim(_c1_claim("c1_slow", "0.9"), runs).code == "not_tight"


def test_o_claim_verdict_does_not_depend_on_the_units(c2_runs):
    """`generalization` has no stated constant: the gap scales with sigma^2, the verdict must not."""
    low, high = (validate.check_claim("generalization", c2_runs[noise]) for noise in (1.0, 10.0))
    assert low.code == high.code, (low.explanation, high.explanation)
    assert low.numbers["scale_free"] and high.numbers["best_fit_constant"] > 10 * low.numbers["best_fit_constant"]


def test_decided_n_leads_when_r_is_undecided(c2_runs):
    """8 seeds: the N interval excludes -1/2 on the safe side, the r interval is too wide to
    confirm 1. The code is inconclusive (not_tight would assert the claim holds in r), and the
    explanation leads with the decided N."""
    runs = c2_runs[1.0]
    eight = runs.replace(tables={k: v[v["seed"] < 8] if "seed" in v else v for k, v in runs.items()})
    verdict = validate.check_claim("generalization", eight)
    assert verdict.code == "inconclusive"
    assert verdict.explanation.startswith("Decided: Not tight in N")
    assert verdict.numbers["outcome_N"] == "loose" and verdict.numbers["outcome_r"] == "undecided"
    assert "seeds (now 8)" in verdict.would_change


def test_gap_grows_like_r_not_sqrt_r(c2_runs):
    """Issue 14: the r-exponent of the gap, against r (the paper) and sqrt(r) (Kratsios et al.)."""
    runs = c2_runs[1.0]
    paper = validate.check_claim("generalization", runs)
    counter = validate.check_claim("generalization_lora_sqrt", runs)
    assert paper.numbers["outcome_r"] == "ok"
    assert counter.code == "violated" and counter.numbers["outcome_r"] == "wrong"
    by_n = paper.numbers["r_exponent_by_N"]
    assert len(by_n) == runs["sweep"]["n_samples"].nunique()
    assert all("sqrt" not in row["supports"] for row in by_n)
    assert any(row["supports"] == "r (the paper)" for row in by_n)


def test_smoothness_transfer_is_measured_not_recomputed():
    experiment = get_experiment("c1_lowrank")
    runs = experiment.run(experiment.config("quick", seeds=[0, 1, 2], steps=[50, 100]), store=None, progress=False)
    transfer = with_evidence(runs)["transfer"]
    formula = transfer["W_norm"] ** 2 * transfer["L_g"]
    assert np.allclose(transfer["L_f"], formula, rtol=1e-8)  # tight: the Hessian is a Kronecker product
    assert validate.check_claim("smoothness_transfer", runs).code == "holds"
    too_small = theory.get_claim("smoothness_transfer").with_constant(0.9, id="transfer_x0.9")
    assert c1.transfer_verdict(too_small, transfer, experiment="c1_lowrank").code == "violated"
    assert set(transfer["W_norm"].round(6)) == {1.0, 3.0}
    first_power = theory.Claim.from_formula("transfer_norm_once", "W_norm*L_g", kind="upper_bound")
    assert c1.transfer_verdict(first_power, transfer, experiment="c1_lowrank").code == "violated"


def test_sqrt_bound_is_tested_only_where_its_assumptions_hold(c2_runs):
    """Gaussian data: no finite R_x, R_y, so 'not tested'. Bounded data (Rademacher inputs, uniform
    noise): the sure norms make the bound checkable; here it is vacuous (far above the zero
    predictor's risk), and the same bound scaled below the data is violated."""
    gaussian = validate.check_claim("generalization_sqrt", c2_runs[1.0])
    assert gaussian.code == "not_tested" and not gaussian.tested and gaussian.label == "not tested"
    experiment = get_experiment("c2_generalization")
    bounded = experiment.run(experiment.config("quick_bounded", seeds=list(range(8))), store=None, progress=False)
    norms = with_evidence(bounded)["norms"].iloc[0]
    assert norms["bounded"] and norms["R_x"] == pytest.approx(np.sqrt(32))
    x = bounded["sweep"]
    verdict = validate.check_claim("generalization_sqrt", bounded)
    assert verdict.code == "vacuous", verdict.explanation
    assert verdict.numbers["outcome_r"] == "wrong_capped"  # steeper in r, but r <= min(m, n)
    from lrkd.validate.claims import c2

    tiny = theory.get_claim("generalization_sqrt").with_constant(1e-4, id="sqrt_tiny")
    assert c2.sqrt_form_verdict(tiny, x, norms, experiment=bounded.name).code == "violated"


def test_scaling_an_o_claim_makes_it_explicit():
    claim = theory.get_claim("generalization")
    assert claim.free_constant == "C" and claim.with_constant(0.01).free_constant is None


def test_a_leading_order_reference_is_not_rejected_while_the_data_still_approach_it():
    from lrkd.validate.claims.c2 import _still_approaching
    import pandas as pd

    assert _still_approaching(pd.Series([1.23, 1.14, 1.09], index=[1024, 2048, 4096]))
    assert not _still_approaching(pd.Series([1.09, 1.14, 1.23], index=[1024, 2048, 4096]))  # moving away
    assert not _still_approaching(pd.Series([1.2, 1.1, 0.7], index=[1024, 2048, 4096]))  # passed through 1


@pytest.mark.slow
def test_lowrank_rate_verdict_is_the_same_on_disjoint_seed_sets():
    """c1_lowrank has no prediction of its mean (LOWRANK_NO_PREDICTION). Its local slope is about -0.49 and
    O(T^-0.45) sits at the edge of a 6-seed interval: compared as it is, seeds 0-5 say not tight and seeds
    6-11 say holds (issue 19). Widened by the local slope's drift, both say holds; T^-1 stays violated."""
    experiment = get_experiment("c1_lowrank")
    runs = experiment.run(experiment.config("quick", seeds=list(range(12))), store=None, progress=False)
    evidence = with_evidence(runs)["evidence"]
    slow = theory.Claim.from_formula(
        "c1_O_0.45",
        "C*sigma*sqrt(L*Delta)*T**(-9/20)",
        kind="upper_bound",
        rate_variables=("T",),
        free_constant="C",
        defaults={"C": 1.0},
    )
    fast = theory.Claim.from_formula(
        "c1_O_1",
        "C*sigma*sqrt(L*Delta)/T",
        kind="upper_bound",
        rate_variables=("T",),
        free_constant="C",
        defaults={"C": 1.0},
    )
    raw, widened = [], []
    for seeds in (range(0, 6), range(6, 12)):
        part = runs.replace(tables={**runs, "evidence": evidence[evidence["seed"].isin(seeds)]})
        raw.append(c1.convergence_verdict(slow, part["evidence"], experiment="c1_lowrank").code)
        verdict = c1.convergence_check(slow, part)  # the production check: the experiment's declaration
        widened.append(verdict.code)
        assert verdict.numbers["offset_bound_T"] > 0 and "No prediction" in " ".join(verdict.notes)
        assert c1.convergence_check(fast, part).code == "violated"
    assert len(set(raw)) == 2, raw  # the flip the widening removes
    assert widened == ["holds", "holds"], widened
