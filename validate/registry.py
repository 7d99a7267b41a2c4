"""One home for each pairing: which check reads which claim on which experiment, what evidence
validate derives from an experiment's runs, and what theory predicts on its grid.

Checks, evidence and predictions are registered with decorators beside the code they call
(validate/claims/c1.py ... validate/claims/real.py):

    @check(RANK, "optimal_rank", any_exponent_claim=True)
    def rank_check(claim, runs): ...

Everything that pairs claims with experiments derives from this table: `check_claim` and the claims
a report checks on each run (validate.verdicts), the experiments a `--claims` filter keeps
(reports/plan.py), calibration's production checks, and the order of the report's sections.
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
    """

    def register(fn: Check) -> Check:
        for claim_id in claim_ids:
            CHECKS[(_name(experiment), claim_id)] = fn
        if any_exponent_claim:
            GROWTH_CHECKS[_name(experiment)] = fn
        return fn

    return register


def evidence(experiment: Experiment | str, tables: tuple[str, ...]):
    """Register the decorated `fn(runs) -> {table: DataFrame}` deriving `tables` from the runs."""

    def register(fn: EvidenceFn) -> EvidenceFn:
        EVIDENCE[_name(experiment)] = (tables, fn)
        return fn

    return register


def prediction(experiment: Experiment | str):
    """Register the decorated `fn(runs) -> {measured column: validate.checks.Prediction}`: what
    theory predicts on the grid the runs cover (the finite-size offsets of validate.checks)."""

    def register(fn: Callable[[Runs], dict]) -> Callable[[Runs], dict]:
        PREDICTIONS[_name(experiment)] = fn
        return fn

    return register


def with_evidence(runs: Runs) -> Runs:
    """The runs with validate's evidence tables added, once: when every table the evidence function
    declares is there already (computed before, or planted by hand), nothing is recomputed. The
    function may also return a raw table completed with derived columns (c2's zero-predictor risk).
    Returns the same object."""
    tables, fn = EVIDENCE.get(runs.experiment, ((), None))
    if fn is not None and not set(tables) <= set(runs):
        runs.update(fn(runs))
    return runs


def predictions(runs: Runs) -> dict:
    """{measured column: Prediction} theory gives for this experiment's grid ({} when none)."""
    fn = PREDICTIONS.get(runs.experiment)
    return fn(runs) if fn is not None else {}


def check_for(experiment: Experiment | str, claim_id: str) -> Check | None:
    """The registered check of `claim_id` on `experiment`, if any."""
    return CHECKS.get((_name(experiment), claim_id))


def claims_of(experiment: Experiment | str) -> list[str]:
    """The claim ids with a check on `experiment`, in registration order."""
    return [cid for (exp, cid) in CHECKS if exp == _name(experiment)]


def claim_order() -> list[str]:
    """Every claim id with a check, in the order checks were registered (C1 first, then C2, ...):
    the order of the report's sections."""
    return list(dict.fromkeys(cid for (_, cid) in CHECKS))
