"""One home for each pairing: which check reads which claim on which experiment, what evidence
validate derives from an experiment's runs, and what theory predicts on its grid.

Checks, evidence and predictions are registered with decorators beside the code they call
(validate/claims/c1.py ... validate/claims/real.py):

    @check(RANK, "optimal_rank", any_exponent_claim=True)
    def rank_check(claim, runs): ...

Everything that pairs claims with experiments derives from this table: `check_claim` and the claims
a report checks on each run (validate.judge), the experiments a `--claims` filter keeps
(reports/plan.py), calibration's production checks, and the order of the report's sections.

Calibration's planted claims are registered the same way, beside each family's check
(validate/claims/c1_planted.py ... c4_planted.py):

    @planted_cases("convergence")          # the paper's claim they probe
    def convergence_planted() -> list[Planted]: ...

    @planted_sources(C1_QUADRATIC)         # the evidence they read, built from the experiment's runs
    def quadratic_sources(runs) -> dict[str, Runs]: ...
"""

from __future__ import annotations

from typing import Callable

import pandas as pd

from lrkd.simulate.experiments import Experiment, Runs
from lrkd.validate.engine.verdict import Verdict

Check = Callable[..., Verdict]  # check(claim, runs) -> Verdict
EvidenceFn = Callable[[Runs], dict[str, pd.DataFrame]]

CHECKS: dict[tuple[str, str], Check] = {}
GROWTH_CHECKS: dict[str, Check] = {}  # experiments whose r*(N) any exponent claim may be read against
EVIDENCE: dict[str, tuple[tuple[str, ...], EvidenceFn]] = {}
PREDICTIONS: dict[str, Callable[[Runs], dict]] = {}
PLANTED: dict[str, Callable[[], list]] = {}  # paper claim -> its planted cases (validate.planted.Planted)
PLANTED_SOURCES: dict[str, Callable[[list[Runs]], dict[str, Runs]]] = {}  # experiment -> its sources
# What every claim on an experiment shares, built-in or user (validate.judge.generic_verdict reads them):
JUDGED_TABLES: dict[str, tuple[str, ...]] = {}  # experiment -> its tables with one row per run and grid point
TRIVIAL: dict[str, Callable[[pd.DataFrame], dict[str, "pd.Series"]]] = {}  # table -> {measured: trivial value}
PREMISES: dict[str, Callable[[pd.DataFrame], list[str]]] = {}  # table -> the premises its runs break


def load_families() -> None:
    """Import every claim family of validate/claims/ (each registers its checks, evidence,
    predictions and planted claims here), once. The readers below call it, so a table is complete
    whenever it is read, while importing one family does not import the others."""
    # Imported here, not at the top: every family imports this module (a cycle at import time).
    from lrkd.validate import claims

    claims.register_all()


def _name(experiment: Experiment | str) -> str:
    return experiment if isinstance(experiment, str) else experiment.name


def check(experiment: Experiment | str, *claim_ids: str, any_exponent_claim: bool = False):
    """Register the decorated `check(claim, runs) -> Verdict` for each of `claim_ids` on `experiment`.

    Args:
        experiment: the Experiment (or, for a user's plugin, its name) whose Runs the check reads.
        claim_ids: the claims the check is written for, in the order the report lists them
            (planted variants of them reuse the check).
        any_exponent_claim: also the check for every other exponent claim on this experiment (a
            user's r* ~ N^q claim is read by the C4 growth-law check).

    Returns:
        The decorator (it returns the check unchanged).
    """

    def register(fn: Check) -> Check:
        for claim_id in claim_ids:
            CHECKS[(_name(experiment), claim_id)] = fn
        if any_exponent_claim:
            GROWTH_CHECKS[_name(experiment)] = fn
        return fn

    return register


def evidence(experiment: Experiment | str, tables: tuple[str, ...]):
    """Register the decorated `fn(runs) -> {table: DataFrame}` deriving `tables` from the runs.

    Args:
        experiment: the Experiment whose Runs the function reads.
        tables: the tables it adds (`with_evidence` skips it when all are there).

    Returns:
        The decorator (it returns the function unchanged).
    """

    def register(fn: EvidenceFn) -> EvidenceFn:
        EVIDENCE[_name(experiment)] = (tables, fn)
        return fn

    return register


def prediction(experiment: Experiment | str):
    """Register the decorated `fn(runs) -> {measured column: Prediction}`: what theory predicts on
    the grid the runs cover (the finite-size offsets of validate.engine.checks).

    Args:
        experiment: the Experiment whose Runs the prediction is for.

    Returns:
        The decorator (it returns the function unchanged).
    """

    def register(fn: Callable[[Runs], dict]) -> Callable[[Runs], dict]:
        PREDICTIONS[_name(experiment)] = fn
        return fn

    return register


def planted_cases(paper_claim: str):
    """Register the decorated `fn() -> list[Planted]`: the planted claims probing `paper_claim`.

    Args:
        paper_claim: the id of the paper's claim they probe (validate.calibration sets it on each).

    Returns:
        The decorator (it returns the function unchanged).
    """

    def register(fn: Callable[[], list]) -> Callable[[], list]:
        PLANTED[paper_claim] = fn
        return fn

    return register


def planted_sources(experiment: Experiment | str):
    """Register the decorated `fn(runs) -> {source name: Runs}`: the evidence planted claims read,
    built from `runs`, every Runs of `experiment` at hand (evidence added, in the order given).

    Args:
        experiment: the Experiment whose runs the sources are built from.

    Returns:
        The decorator (it returns the function unchanged).
    """

    def register(fn: Callable[[list[Runs]], dict[str, Runs]]) -> Callable[[list[Runs]], dict[str, Runs]]:
        PLANTED_SOURCES[_name(experiment)] = fn
        return fn

    return register


def judged_tables(experiment: Experiment | str, *tables: str) -> None:
    """Declare the tables of `experiment` that hold one row per run and grid point: the tables a
    claim is judged on (a trajectory with many rows per run is not one of them).

    Args:
        experiment: the Experiment or its name.
        tables: the tables' names, as the Runs (with their evidence) hold them.

    Returns:
        None.
    """
    JUDGED_TABLES[_name(experiment)] = tuple(tables)


def trivial(experiment: Experiment | str):
    """Register the decorated `fn(table) -> {measured column: trivial value per row}`: what a bound on
    that column must beat to say anything (c2: the risk of predicting zero). Every upper-bound claim
    on the experiment, built-in or user, is judged vacuous where its bound is not below it.

    Args:
        experiment: the Experiment whose judged tables the function reads.

    Returns:
        The decorator (it returns the function unchanged).
    """

    def register(fn: Callable[[pd.DataFrame], dict]) -> Callable[[pd.DataFrame], dict]:
        TRIVIAL[_name(experiment)] = fn
        return fn

    return register


def premises(experiment: Experiment | str):
    """Register the decorated `fn(table) -> [sentence per broken premise]`: the assumptions of the
    experiment's claims that its runs break (c1: optimizer not SGD, step size above 1/L), read from
    the judged table. Every claim on the experiment, built-in or user, reads them.

    Args:
        experiment: the Experiment whose judged tables the function reads.

    Returns:
        The decorator (it returns the function unchanged).
    """

    def register(fn: Callable[[pd.DataFrame], list[str]]) -> Callable[[pd.DataFrame], list[str]]:
        PREMISES[_name(experiment)] = fn
        return fn

    return register


def trivial_values(experiment: Experiment | str, table: pd.DataFrame) -> dict:
    """The trivial value per row of each measured column of `table` that has one.

    Args:
        experiment: the Experiment or its name.
        table: one of its judged tables.

    Returns:
        {measured column: Series} ({} when none is registered).
    """
    load_families()
    fn = TRIVIAL.get(_name(experiment))
    return fn(table) if fn is not None else {}


def broken_premises(experiment: Experiment | str, table: pd.DataFrame) -> list[str]:
    """The premises the runs in `table` break.

    Args:
        experiment: the Experiment or its name.
        table: one of its judged tables.

    Returns:
        One sentence per broken premise ([] when none, or none is registered).
    """
    load_families()
    fn = PREMISES.get(_name(experiment))
    return fn(table) if fn is not None else []


def with_evidence(runs: Runs) -> Runs:
    """The runs with validate's evidence tables added, once: when every table the evidence function
    declares is there already (computed before, or planted by hand), nothing is recomputed. The
    function may also return a raw table completed with derived columns (c2's zero-predictor risk).

    Args:
        runs: one experiment's Runs.

    Returns:
        The same object, updated in place.
    """
    load_families()
    tables, fn = EVIDENCE.get(runs.experiment, ((), None))
    if fn is not None and not set(tables) <= set(runs):
        runs.update(fn(runs))
    return runs


def predictions(runs: Runs) -> dict:
    """What theory predicts on this experiment's grid.

    Args:
        runs: one experiment's Runs.

    Returns:
        {measured column: Prediction} ({} when none is registered).
    """
    load_families()
    fn = PREDICTIONS.get(runs.experiment)
    return fn(runs) if fn is not None else {}


def check_for(experiment: Experiment | str, claim_id: str) -> Check | None:
    """The registered check of `claim_id` on `experiment`.

    Args:
        experiment: the Experiment or its name.
        claim_id: the claim's id.

    Returns:
        check(claim, runs) -> Verdict, or None if none is registered.
    """
    load_families()
    return CHECKS.get((_name(experiment), claim_id))


def claims_of(experiment: Experiment | str) -> list[str]:
    """The claim ids with a check on `experiment`.

    Args:
        experiment: the Experiment or its name.

    Returns:
        The ids, in registration order.
    """
    load_families()
    return [cid for (exp, cid) in CHECKS if exp == _name(experiment)]


def claim_order() -> list[str]:
    """Every claim id with a check, in the order checks were registered (C1 first, then C2, ...).

    Returns:
        The ids: the order of the report's sections.
    """
    load_families()
    return list(dict.fromkeys(cid for (_, cid) in CHECKS))
