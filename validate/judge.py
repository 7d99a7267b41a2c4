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
from lrkd.validate.claims import c1, c3
from lrkd.validate.engine.bounds import BoundSpec, bound_verdict
from lrkd.validate.engine.checks import decide, exponent_outcome, finite_size_offsets, fit_mean_power_law
from lrkd.validate.registry import (
    CHECKS,
    GROWTH_CHECKS,
    JUDGED_TABLES,
    broken_premises,
    check_for,
    predictions,
    trivial_values,
    with_evidence,
)
from lrkd.validate.engine.verdict import Verdict
from lrkd.validate.registry import load_families

load_families()  # check_claim reads CHECKS and GROWTH_CHECKS directly: every family registered first

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
    # a trajectory has a row per step; a C1 evidence table (one row per T and seed, no step) is not
    # what simulate returns, and read as a trajectory it would fail on its missing columns
    if "avg_grad_norm_sq" in result and "step" in result:
        if "L_exact" in result:
            return ConvergenceRuns(C1_LOWRANK.name, "", {"trajectory": result})
        return ConvergenceRuns(C1_QUADRATIC.name, "", {"trajectory": result})
    raise InputError(
        "runs",
        "a frame from simulate.rank_sweep, convergence_sweep or quadratic_sweep (or an experiment's Runs, "
        f"which hold the evidence tables); its columns {sorted(result.columns)[:8]}... match none of them",
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
    """A user claim on the experiment's table it binds to, with every rule a built-in claim on that
    experiment gets from the declarations it shares (validate.registry): the premises the runs break,
    the trivial value an upper bound must beat (vacuity), and theory's prediction on the grid
    (finite-size offsets).

    Args:
        claim: a claim with an experiment, its columns and a measured column (and optionally a table).
        runs: that experiment's Runs.

    Returns:
        The Verdict (validate.engine.bounds for bounds, an exponent fit for exponent claims).

    Raises:
        InputError: the claim's table is unknown, no single table fits it, a symbol of its
            expression is bound to no column and has no default, or an exponent claim binds none of
            its rate variables.
    """
    name, table = bound_table(claim, runs)
    rates = {v: claim.columns[v] for v in claim.rate_variables if v in claim.columns}
    prediction = predictions(runs).get(claim.measured_column)
    if claim.kind == "exponent" and not rates:  # an exponent is fitted in the rate variables: none bound, no evidence
        raise InputError(
            "rate_variables",
            f"claim {claim.id!r}: an exponent claim is read in its rate variables "
            f"{list(claim.rate_variables)}; bind at least one to a column of {runs.experiment}",
        )
    grid = tuple(dict.fromkeys(c for c in claim.columns.values() if table[c].nunique() > 1))
    if claim.kind == "exponent":
        return _generic_exponent(claim, table, rates, runs.name, prediction, grid)
    trends = {v: ("decay" if float(claim.claimed_exponents[v]) < 0 else "growth") for v in rates}
    grid = grid or tuple(claim.columns.values())[:1]
    # only an upper bound has a trivial value to beat here (a risk's lower bound is trivial at 0, not above)
    trivial = trivial_values(runs.experiment, table).get(claim.measured_column)
    if trivial is not None and claim.kind == "upper_bound":
        table = table.assign(**{TRIVIAL_COLUMN: trivial})
    spec = BoundSpec(
        columns=claim.columns,
        measured=claim.measured_column,
        grid=grid,
        rates=rates,
        trends=trends,
        trivial=TRIVIAL_COLUMN if TRIVIAL_COLUMN in table else None,
        x=next(iter(rates.values()), None),
    )
    return bound_verdict(
        claim,
        table,
        spec,
        experiment=runs.name,
        unmet=broken_premises(runs.experiment, table),
        prediction=prediction,
    )


TRIVIAL_COLUMN = "trivial_value"  # the column generic_verdict adds for the experiment's trivial value


def bound_table(claim: theory.Claim, runs: Runs) -> tuple[str, pd.DataFrame]:
    """The table a claim is read from: the one it names, else the only table of the runs with one row
    per run and grid point (validate.registry.judged_tables; every table where the experiment declares
    none) that holds every column it names.

    Args:
        claim: a claim with columns and a measured column.
        runs: its experiment's Runs (evidence added).

    Returns:
        (table name, table).

    Raises:
        InputError: the claim binds no column, the named table is not a judged table of the experiment,
            it lacks a column, no table or several fit, or a symbol is bound to no column and has no default.
    """
    if not claim.columns:
        raise InputError(
            "columns",
            f"claim {claim.id!r}: binds no symbol to a column of {runs.experiment}; a bound is read at grid points, "
            "so bind at least one (e.g. the rate variable)",
        )
    unbound = [
        s for s in claim.symbol_names if s not in claim.columns and s not in claim.defaults and s != claim.free_constant
    ]
    if unbound:
        raise InputError(
            "columns",
            f"claim {claim.id!r}: symbols {unbound} are bound to no column of {runs.experiment} and have no default",
        )
    judged = JUDGED_TABLES.get(runs.experiment) or tuple(runs)
    needed = {*claim.columns.values(), claim.measured_column}
    if claim.table is not None:
        if claim.table not in judged or claim.table not in runs:
            raise InputError(
                "table",
                f"claim {claim.id!r}: {claim.table!r} is not a table of {runs.experiment} with one row per run "
                f"and grid point; known: {sorted(t for t in judged if t in runs)}",
            )
        missing = sorted(needed - set(runs[claim.table].columns))
        if missing:
            raise InputError("columns", f"claim {claim.id!r}: table {claim.table!r} has no columns {missing}")
        return claim.table, runs[claim.table]
    fits = [t for t in judged if t in runs and needed <= set(runs[t].columns)]
    if len(fits) != 1:
        raise InputError("columns", _no_single_table(claim, runs, judged, needed, fits))
    return fits[0], runs[fits[0]]


def _no_single_table(claim: theory.Claim, runs: Runs, judged, needed: set, fits: list) -> str:
    """The refusal's message when no judged table, or several, hold a claim's columns: the candidates,
    and the tables that hold the columns without one row per run and grid point (a trajectory)."""
    others = sorted(t for t in runs if t not in judged and needed <= set(runs[t].columns))
    hint = f"; {others} hold them but not one row per run and grid point" if others else ""
    return (
        f"claim {claim.id!r}: {'several' if fits else 'no'} tables of {runs.experiment} with one row per run and "
        f"grid point hold {sorted(needed)} (candidates: {fits or sorted(t for t in judged if t in runs)}"
        f"{hint}); bind the claim's symbols to their columns or name its table"
    )


def _generic_exponent(claim, table, rates, experiment, prediction=None, grid=()) -> Verdict:
    fits = fit_mean_power_law(table, list(rates.values()), claim.measured_column)
    # the fit averages every run at each value of the rates, over the other grid columns too (an
    # N-exponent on a rank x N grid is the rank-averaged gap's); theory's slope must be averaged alike,
    # not read at each N's first grid point
    others = [c for c in grid if c not in rates.values()]
    offsets = finite_size_offsets(prediction, table, list(rates.values()), others) if prediction else {}
    outcomes = [
        exponent_outcome(
            fits[col],
            variable=v,
            claimed=float(claim.claimed_exponents[v]),
            trend="decay" if float(claim.claimed_exponents[v]) < 0 else "growth",
            # an exponent claim says the measured quantity grows like its expression (theory: "~"), so a
            # miss on either side breaks it, as for the built-in reduced-rank reference (validate.claims.c2)
            sense="equal",
            offset=offsets.get(col),
        )
        for v, col in rates.items()
    ]
    decision = decide(exponents=outcomes, n_seeds=outcomes[0].fit.n_groups)  # rates: >= 1 (generic_verdict)
    numbers = {k: v for o in outcomes for k, v in o.numbers.items()}
    return Verdict(
        claim.id,
        experiment,
        decision.code,
        decision.explanation,
        numbers,
        None,
        decision.would_change,
        tuple(outcomes[0].fit.notes),
    )
