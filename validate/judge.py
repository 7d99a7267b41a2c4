"""check_claim: one verdict for one claim on one experiment's Runs.

Built-in claims are read by the check registered for their experiment (validate.registry: the
`@check` decorators in validate/claims/c1.py ... validate/claims/real.py). A claim registered by a user
(theory.register_claim) that names an experiment, its columns and its measured column is read by
the generic path: validate.bounds for bound claims, an exponent fit for exponent claims. Every
number comes from the runs; nothing here is written by hand.
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from lrkd import simulate
from lrkd import theory
from lrkd.errors import InputError
from lrkd.simulate.experiments import Runs
from lrkd.simulate.experiments.c1 import C1_LOWRANK, C1_QUADRATIC, ConvergenceRuns
from lrkd.simulate.experiments.c2 import C2_GENERALIZATION, GeneralizationRuns
from lrkd.simulate.experiments.c3 import C3_INFORMATION, InformationRuns
from lrkd.simulate.experiments.c4 import C4_RANK, RankRuns
from lrkd.validate.claims import c1, c3  # importing the package registers every family's checks and evidence
from lrkd.validate.engine.bounds import BoundSpec, bound_verdict
from lrkd.validate.engine.checks import decide, exponent_outcome, finite_size_offsets, fit_mean_power_law
from lrkd.validate.registry import CHECKS, GROWTH_CHECKS, check_for, predictions, with_evidence
from lrkd.validate.engine.verdict import Verdict

Check = Callable[[theory.Claim, Runs], Verdict]


def register_check(experiment: str, claim_id: str, check: Check) -> None:
    """Bind a claim to an experiment's evidence with a check of your own (the same as decorating it
    with validate.registry.check(experiment, claim_id)).

    Args:
        experiment: the experiment's name.
        claim_id: the claim's id.
        check: check(claim, runs) -> Verdict.

    Returns:
        None.
    """
    CHECKS[(experiment, claim_id)] = check


def check_claim(claim_id: str | theory.Claim, runs) -> Verdict:
    """The verdict of one claim on one experiment's runs.

    Args:
        claim_id: a claim id or a theory.Claim.
        runs: the `Runs` of an experiment, or what simulate/ returns directly (a rank_sweep,
            convergence_sweep or quadratic_sweep frame, a DeepSweep or a CloneSweep).

    Returns:
        The Verdict.

    Raises:
        InputError: no check binds the claim to the runs' experiment, or the runs are of no known kind.
    """
    claim = claim_id if isinstance(claim_id, theory.Claim) else theory.get_claim(claim_id)
    runs = runs if isinstance(runs, Runs) else as_runs(runs, claim.id, rank_claim=claim.experiment in GROWTH_CHECKS)
    with_evidence(runs)
    check = check_for(runs.experiment, claim.id)
    if check is None and claim.kind == "exponent":
        check = GROWTH_CHECKS.get(runs.experiment)  # any r* growth claim: the C4 growth-law check
    if check is not None:
        return check(claim, runs)
    if claim.experiment == runs.experiment and claim.measured_column:
        return generic_verdict(claim, runs)
    raise InputError(
        "claim",
        f"no check binds claim {claim.id!r} to experiment {runs.experiment!r}; "
        "set the claim's experiment, columns and measured_column, or register_check()",
    )


RANK_CLAIMS = ("optimal_rank",)


def as_runs(result, claim_id: str, *, rank_claim: bool = False) -> Runs:
    """Wrap a simulate/ result as the Runs of the experiment that produces it.

    Args:
        result: a DeepSweep, a CloneSweep or a rank_sweep, convergence_sweep or quadratic_sweep frame.
        claim_id: the claim it is read for (a rank_sweep frame is c4_rank's for a rank claim, else c2's).
        rank_claim: read a rank_sweep frame as c4_rank's whatever the claim.

    Returns:
        The Runs.

    Raises:
        InputError: the result is of no known kind.
    """
    if isinstance(result, simulate.DeepSweep):
        lrs = sorted(float(v) for v in result.frame["lr"].unique())
        return InformationRuns(
            C3_INFORMATION.name,
            f"{result.teacher.activation} teacher",
            {"trajectory": result.frame},
            sweep=result,
            noise_std=c3.DEFAULT_NOISE_STD,
            lrs=lrs,
            activation=result.teacher.activation,
        )
    if isinstance(result, simulate.CloneSweep):
        seeds = sorted(result.frame["seed"].unique())
        rank = int(result.frame["rank"].iloc[0])
        alphas = sorted(result.frame["alpha"].unique())
        evidence = c3.shallow_evidence(result, rank, alphas, seeds=seeds, noise_std=0.1)
        return InformationRuns(
            C3_INFORMATION.name, "one-layer teacher", {"trajectory": result.frame, "evidence": evidence}, noise_std=0.1
        )
    if not isinstance(result, pd.DataFrame) or result.empty:
        raise InputError(
            "runs", f"must be an experiment's Runs, a simulate sweep frame or a CloneSweep, got {type(result).__name__}"
        )
    if "test_risk" in result and "step" not in result:
        teacher = c1.teacher_of_frame(result)
        if claim_id in RANK_CLAIMS or rank_claim:
            return RankRuns(
                C4_RANK.name, "", {"sweep": result}, spectrum=teacher.spectrum, singular_values=teacher.singular_values
            )
        return GeneralizationRuns(C2_GENERALIZATION.name, "", {"sweep": result}, teacher=teacher)
    if "avg_grad_norm_sq" in result:
        if "L_exact" in result:
            return ConvergenceRuns(C1_LOWRANK.name, "", {"trajectory": result})
        return ConvergenceRuns(C1_QUADRATIC.name, "", {"trajectory": result})
    raise InputError(
        "runs",
        "a frame from simulate.rank_sweep, convergence_sweep or quadratic_sweep; "
        f"its columns {sorted(result.columns)[:8]}... match none of them",
    )


def claims_checked_by(runs: Runs) -> list[theory.Claim]:
    """Built-in and user claims that have a check on this experiment.

    Args:
        runs: one experiment's Runs.

    Returns:
        The theory.Claims, built-in ones first in registration order.
    """
    ids = [cid for (exp, cid) in CHECKS if exp == runs.experiment]
    ids += [
        c.id
        for c in theory.all_claims()
        if c.experiment == runs.experiment
        and c.id not in ids
        and (c.measured_column or (c.kind == "exponent" and runs.experiment in GROWTH_CHECKS))
    ]
    return [theory.get_claim(i) for i in ids]


def generic_verdict(claim: theory.Claim, runs: Runs) -> Verdict:
    """A user claim on the first table of the runs holding every column it names.

    Args:
        claim: a claim with an experiment, its columns and a measured column.
        runs: that experiment's Runs.

    Returns:
        The Verdict (validate.engine.bounds for bounds, an exponent fit for exponent claims).

    Raises:
        InputError: no table holds the columns the claim names.
    """
    needed = {*claim.columns.values(), claim.measured_column}
    table = next((t for t in runs.values() if needed <= set(t.columns)), None)
    if table is None:
        raise InputError("columns", f"no table of {runs.experiment} has the columns {sorted(needed)}")
    rates = {v: claim.columns[v] for v in claim.rate_variables if v in claim.columns}
    if claim.kind == "exponent":
        return _generic_exponent(claim, table, rates, runs.name, predictions(runs).get(claim.measured_column))
    grid = tuple(dict.fromkeys(c for c in claim.columns.values() if table[c].nunique() > 1))
    trends = {v: ("decay" if float(claim.claimed_exponents[v]) < 0 else "growth") for v in rates}
    grid = grid or tuple(claim.columns.values())[:1]
    spec = BoundSpec(
        columns=claim.columns,
        measured=claim.measured_column,
        grid=grid,
        rates=rates,
        trends=trends,
        x=next(iter(rates.values()), None),
    )
    return bound_verdict(
        claim, table, spec, experiment=runs.name, prediction=predictions(runs).get(claim.measured_column)
    )


def _generic_exponent(claim, table, rates, experiment, prediction=None) -> Verdict:
    fits = fit_mean_power_law(table, list(rates.values()), claim.measured_column)
    offsets = finite_size_offsets(prediction, table, list(rates.values())) if prediction else {}
    outcomes = [
        exponent_outcome(
            fits[col],
            variable=v,
            claimed=float(claim.claimed_exponents[v]),
            trend="decay" if float(claim.claimed_exponents[v]) < 0 else "growth",
            offset=offsets.get(col),
        )
        for v, col in rates.items()
    ]
    decision = decide(exponents=outcomes, n_seeds=outcomes[0].fit.n_groups if outcomes else None)
    numbers = {k: v for o in outcomes for k, v in o.numbers.items()}
    return Verdict(
        claim.id,
        experiment,
        decision.code,
        decision.explanation,
        numbers,
        None,
        decision.would_change,
        tuple(outcomes[0].fit.notes) if outcomes else (),
    )
