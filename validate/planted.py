"""Planted claims: claims whose verdict is known from theory, for calibration to score.

A verdict machine is only worth trusting if it can fail: it must say `holds` to a true claim,
`violated` to a false one just across the boundary, `vacuous` to a true but useless bound,
`inconclusive` when the data cannot decide and `assumptions_not_met` when the run breaks the
claim's premises. Each family's planted cases sit beside its check (validate/claims/c1_planted.py
... c4_planted.py), registered with validate.registry.planted_cases; the evidence they read is
registered there too (validate.registry.planted_sources). validate.calibration checks and scores
them.

Here: the `Planted` record, `planted_claim` (a planted claim from its formula, never a copy of a
production claim), `production_check` (the check the report uses, looked up when called), `user_check` (a user
claim's path, the public API), `refused` (the path of a planted misuse: a claim bound wrongly, or runs
of no known kind, which the public API must refuse with an InputError naming what is wrong; its code
is NOT_TESTED) and `seed_subset` (a source derived from a run).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable, Iterable, Mapping

import sympy as sp

from lrkd import simulate, theory
from lrkd.simulate.experiments import Experiment, Runs
from lrkd.sweep import SerialExecutor
from lrkd.validate.engine.checks import outside_fit_cache
from lrkd.errors import InputError
from lrkd.validate.engine.verdict import CODES, NOT_TESTED, Verdict
from lrkd.validate.registry import check_for

Check = Callable[[theory.Claim, Runs], Verdict]


@dataclass(frozen=True)
class Planted:
    """One planted claim: the claim, the evidence it reads, the verdict a correct engine gives.

    expected: the one code that is right (a planted claim sits on a grid large enough to decide it;
    where the data cannot, `inconclusive` is its code, justified in `why`). `source` names an entry of
    validate.calibration.sources() (an experiment's runs, a seed subset, or a run the planted
    claim makes itself).
    """

    claim: theory.Claim
    source: str
    expected: str
    why: str
    check: Check
    paper_claim: str = ""  # the paper's claim it probes (set by validate.calibration.planted_claims)
    # a planted misuse (a claim bound wrongly, runs of the wrong kind): the field the public API's
    # InputError must name; its expected code is then NOT_TESTED, read through `refused`
    refuses: str = ""

    def __post_init__(self):
        if self.refuses and self.expected != NOT_TESTED:
            raise ValueError(
                f"planted misuse {self.claim.id}: its expected code is {NOT_TESTED!r}, not {self.expected!r}"
            )
        if not self.refuses and self.expected not in CODES:
            raise ValueError(f"planted {self.claim.id}: {self.expected!r} is not a verdict code {CODES}")


def planted_claim(
    id: str,
    formula: str,
    *,
    kind: str = "upper_bound",
    rates: tuple[str, ...] = (),
    title: str,
    claimed: Mapping[str, float] | None = None,
    free: str | None = None,
    real: tuple[str, ...] = (),
) -> theory.Claim:
    """A planted claim from its formula (theory.Claim.from_formula, marked not the paper's).

    Args:
        id: the planted claim's id (cal_...).
        formula: the bound, in sympy syntax.
        kind: upper_bound, lower_bound or exponent.
        rates: the rate variables; claimed: their claimed exponents where not read off the formula.
        title: what it says (prefixed "planted: ").
        free: the unstated constant of an O(.) claim (default value 1).
        real: the symbols that may be <= 0 (entropies, log-determinants); the rest are positive.

    Returns:
        The theory.Claim.
    """
    extra = {"free_constant": free, "defaults": {free: 1.0}} if free else {}
    claim = theory.Claim.from_formula(
        id, formula, kind=kind, rate_variables=rates, title=f"planted: {title}", claimed=claimed, paper=False, **extra
    )
    real = [n for n in real if n in claim.symbol_names]
    if not real:
        return claim
    symbols = tuple(
        theory.SymbolInfo(s.name, sp.Symbol(s.name, real=True)) if s.name in real else s for s in claim.symbols
    )
    return replace(
        claim, symbols=symbols, expr=claim.expr.subs({claim.symbol(n): sp.Symbol(n, real=True) for n in real})
    )


def production_check(experiment: Experiment | str, claim_id: str) -> Check:
    """The check the report uses for `claim_id` on `experiment`, applied to a planted claim.

    Args:
        experiment: the experiment whose registered check is used.
        claim_id: the production claim whose check it is.

    Returns:
        check(claim, runs) -> Verdict, which looks the check up in validate.registry when called
        (so a corrupted registry shows in calibration).
    """

    def check(claim, runs):
        return check_for(experiment, claim_id)(claim, runs)

    return check


def user_check(claim: theory.Claim, runs: Runs) -> Verdict:
    """A user claim's verdict through the public API, lrkd.validate.check_claim: the path a user's
    own claim takes, so calibration scores it (planted user claims of every family use it).

    Args:
        claim: a claim written with theory.Claim.from_formula.
        runs: the Runs of an experiment that checks its kind.

    Returns:
        The Verdict.
    """
    # imported here: validate.judge imports every claim family, and those import this module
    from lrkd.validate.judge import check_claim

    with outside_fit_cache():  # a user's call runs outside calibration's fit_cache block
        return check_claim(claim, runs)


def refused(check: Check = user_check) -> Check:
    """The check of a planted misuse: `check` (default: the public API), with the InputError it must
    raise read as a NOT_TESTED verdict that names the refused field (numbers["refused_field"]). A
    misuse the engine judges instead comes out with a real code, and any other exception propagates:
    either is wrong (validate.calibration.score).

    Args:
        check: the path the misuse takes.

    Returns:
        check(claim, runs) -> Verdict.
    """

    def run(claim: theory.Claim, runs: Runs) -> Verdict:
        try:
            return check(claim, runs)
        except InputError as error:
            return Verdict(claim.id, getattr(runs, "name", ""), NOT_TESTED, str(error), {"refused_field": error.field})

    return run


def user_tables_check(claim: theory.Claim, runs: Runs) -> Verdict:
    """A user claim checked on the runs' tables as a plain dict (not an experiment's Runs, nor a
    sweep frame): what the public API must refuse by naming the runs.

    Args:
        claim: a user claim.
        runs: the Runs whose tables are handed over.

    Returns:
        The Verdict (there is none: check_claim refuses).
    """
    return user_check(claim, dict(runs.items()))


def user_evidence_frame_check(claim: theory.Claim, runs: Runs) -> Verdict:
    """A user claim checked on the runs' evidence table alone, as a bare frame (a table saved from
    an experiment's Runs and loaded again): not a frame simulate returns, which the public API must
    refuse by naming the runs.

    Args:
        claim: a user claim.
        runs: the Runs whose evidence table is handed over.

    Returns:
        The Verdict (there is none: check_claim refuses).
    """
    return user_check(claim, runs["evidence"])


def user_frame_check(claim: theory.Claim, runs: Runs) -> Verdict:
    """A user claim checked on the bare frame simulate returned (what a user holds without an
    experiment's Runs: a rank sweep, or a C1 trajectory): lrkd.validate.check_claim wraps it as the
    runs of the experiment the frame's columns and the claim name.

    Args:
        claim: a user claim.
        runs: Runs with a "sweep" or a "trajectory" table; only that frame is passed on.

    Returns:
        The Verdict.
    """
    from lrkd.validate.judge import check_claim  # see user_check

    with outside_fit_cache():
        return check_claim(claim, runs["sweep"] if "sweep" in runs else runs["trajectory"])


def small_rank_sweep(teacher, ranks, sizes, *, seeds, experiment: str):
    """A closed-form rank sweep small enough for a planted source to run itself: serial, in this
    process, on the CPU, without a progress bar (a worker pool would cost more than the runs).

    Args:
        teacher: the simulate teacher.
        ranks, sizes, seeds: the grid.
        experiment: the experiment whose table it is.

    Returns:
        The simulate.rank_sweep frame.
    """
    return simulate.rank_sweep(
        teacher,
        list(ranks),
        list(sizes),
        seeds=list(seeds),
        device="cpu",
        executor=SerialExecutor(),
        progress=False,
        experiment=experiment,
    )


def first(runs: Iterable[Runs], keep: Callable[[Runs], bool] = lambda r: True) -> Runs | None:
    """The first of `runs` that `keep` accepts: the run a source is built from.

    Args:
        runs: Runs of one experiment, in the order given.
        keep: which runs are suitable (default: any).

    Returns:
        The first suitable Runs, or None.
    """
    return next((r for r in runs if keep(r)), None)


def seed_subset(runs: Runs, k: int) -> Runs:
    """The same runs restricted to their first k seeds: what a k-seed run of the same config gives,
    since every seed draws its own noise stream (simulate's per-seed generators).

    Args:
        runs: Runs with an evidence table holding a seed column.
        k: how many seeds to keep.

    Returns:
        Runs labelled "k seeds", every table with a seed column restricted to those seeds.
    """
    seeds = sorted(runs["evidence"]["seed"].unique())[:k]
    tables = {name: t[t["seed"].isin(seeds)].reset_index(drop=True) if "seed" in t else t for name, t in runs.items()}
    return runs.replace(label=f"{k} seeds", tables=tables)
