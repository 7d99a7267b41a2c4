"""Calibration: planted claims whose verdict is known go through the same machinery, and must come out right.

The planted claims sit beside each family's check (validate/claims/c1_planted.py ... c4_planted.py,
registered in validate.registry; validate.planted says what one is and why it exists). Their
checks are the production ones, so a corrupted engine shows up here: tests/validate/test_mutation.py
corrupts it on purpose.

This module scores them, and is the one home of the scores: `sources` builds the evidence they read
from an experiment's runs, `calibrate` checks every planted claim on it and `score`s the verdict
against the planted truth; `hit_rate`, `misclassified` and `confusion_matrix` summarize the scored
verdicts (the report's calibration section reads them).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

import pandas as pd

from lrkd import theory
from lrkd.simulate.experiments import Runs, get_experiment
from lrkd.simulate.experiments.c1 import C1_QUADRATIC
from lrkd.simulate.experiments.c2 import C2_GENERALIZATION
from lrkd.simulate.experiments.c3 import C3_INFORMATION
from lrkd.simulate.experiments.c4 import C4_RANK
from lrkd.sweep import SerialExecutor
from lrkd.validate.engine.checks import fit_cache
from lrkd.validate.engine.verdict import CODES, NOT_TESTED, Verdict
from lrkd.validate.planted import Planted
from lrkd.validate.registry import PLANTED, PLANTED_SOURCES, load_families, with_evidence

load_families()  # PLANTED and PLANTED_SOURCES are read directly: every family registers its planted claims first


#: The runs calibration reads, at sizes where every planted claim is decided: (experiment, preset,
#: size overrides, seeds per calibration seed). The tests (tests/validate/conftest.py) and the
#: report's calibration section both run these, for calibration seeds 0..4.
CALIBRATION_SIZES: tuple[tuple[str, str, dict, int], ...] = (
    (C1_QUADRATIC.name, "quick", {"steps": [100, 200, 400, 800, 1600, 3200]}, 6),
    (C2_GENERALIZATION.name, "quick", {"sample_sizes": [128, 256, 512, 1024, 2048]}, 24),
    (C3_INFORMATION.name, "quick", {"steps": 300, "lrs": [1e-2, 3e-2], "mi_samples": 1000}, 4),
    # r* needs room to grow before the full-rank fit wins: at m = n = 96 (power law) and 64
    # (exponential) six sizes of N = 512..16384 lie inside the rank grid and the growth law is decided
    # (at the quick report's m = n = 64 the power law often is not)
    (C4_RANK.name, "quick", {"m": 96, "n": 96, "sample_sizes": [256 * 2**k for k in range(7)]}, 6),
    (C4_RANK.name, "quick_exponential", {"m": 64, "n": 64, "sample_sizes": [256 * 2**k for k in range(7)]}, 6),
    # s_k = 1/k on m = n = 64 meets the full-rank branch inside this grid (N = 8192 on): the planted
    # claims of C4's full-rank filter and OLS_MARGIN (validate/claims/c4_planted.py) read it
    (C4_RANK.name, "quick", {"m": 64, "n": 64, "sample_sizes": [256 * 2**k for k in range(7)]}, 6),
)
CALIBRATION_SEEDS = (0, 1, 2, 3, 4)


def calibration_runs(*, seed: int, executor=None, store=None) -> tuple[Runs, ...]:
    """The runs calibration reads (CALIBRATION_SIZES), with run seeds offset by the calibration seed
    `seed` (each calibration seed draws fresh data).

    Args:
        seed: the calibration seed; run seeds are 100 + seed * k ... 100 + (seed + 1) * k - 1.
        executor: how to run them (default: serially, in this process).
        store: a lrkd.store.Store to resume from (default: none).

    Returns:
        A tuple of Runs with their evidence tables (pass it to `calibrate` or `sources`).
    """
    out = []
    for name, preset, sizes, k in CALIBRATION_SIZES:
        experiment = get_experiment(name)
        fields = experiment.config_type.__dataclass_fields__
        overrides = {key: value for key, value in sizes.items() if key in fields}
        overrides["seeds"] = list(range(100 + seed * k, 100 + (seed + 1) * k))
        if "device" in fields:
            overrides["device"] = "cpu"
        config = experiment.config(preset, **overrides)
        runs = experiment.run(config, store=store, executor=executor or SerialExecutor(), progress=False)
        out.append(with_evidence(runs))
    return tuple(out)


class Sources(dict):
    """{source name: Runs}: the evidence planted claims read (what `sources` returns)."""


def planted_claims() -> list[Planted]:
    """Every registered planted claim, grouped by the paper's claim it probes (in theory's order).

    Returns:
        The Planted records, each with `paper_claim` set.
    """
    order = {c.id: i for i, c in enumerate(theory.all_claims(paper=True))}
    groups = sorted(PLANTED.items(), key=lambda item: order.get(item[0], len(order)))
    return [replace(p, paper_claim=claim) for claim, group in groups for p in group()]


def sources(runs: Iterable[Runs]) -> Sources:
    """The evidence planted claims read, built from experiments' runs by each family's registered
    source builder (validate.registry.planted_sources): the runs themselves, parts of them (a seed
    subset, the large-N part) and small runs some planted claims make themselves (the Adam and the
    large-step quadratic).

    Args:
        runs: Runs of any experiments (the report's, or the tests' small runs); evidence tables are
            added to each where missing.

    Returns:
        Sources {source name: Runs} for every family whose experiment is among `runs` (built from
        the first suitable run of it).
    """
    runs = [with_evidence(r) for r in runs]
    out = Sources()
    for experiment, build in PLANTED_SOURCES.items():
        of_experiment = [r for r in runs if r.experiment == experiment]
        if of_experiment:
            out.update(build(of_experiment))
    return out


def score(planted: Planted, verdict: Verdict) -> Verdict:
    """The verdict with the planted truth added to its numbers.

    Args:
        planted: the planted claim.
        verdict: the verdict the engine gave it.

    Returns:
        The verdict, its numbers with `expected`, `correct` and `why` added.
    """
    correct = verdict.code == planted.expected
    if planted.refuses:  # a misuse is refused right only by naming what is wrong
        correct = correct and verdict.numbers.get("refused_field") == planted.refuses
    numbers = {**verdict.numbers, "expected": planted.expected, "correct": correct, "why": planted.why}
    return replace(verdict, numbers=numbers)


def calibrate(runs, planted: Iterable[Planted] | None = None) -> list[Verdict]:
    """Every planted claim whose evidence is available, checked by the production path and scored.

    Args:
        runs: Runs of experiments (an iterable, or a {name: Runs} dict), or already built
            `sources()` (keys as in Planted.source).
        planted: the planted claims (default `planted_claims()`).

    Returns:
        One scored Verdict per planted claim whose source exists, in planted order.
    """
    if isinstance(runs, Sources):
        built = runs
    else:
        built = sources(runs.values() if isinstance(runs, dict) else runs)
    planted = planted_claims() if planted is None else list(planted)
    with fit_cache():  # many planted claims read the same table: fit each once
        return [score(p, p.check(p.claim, built[p.source])) for p in planted if p.source in built]


def calibrate_seeds(
    *, seeds: Iterable[int] = CALIBRATION_SEEDS, executor=None, store=None, progress=None
) -> list[Verdict]:
    """Every planted claim on the calibration runs of each calibration seed, scored: what the report's
    confusion matrix counts (a planted claim must come out right at every seed, not at a lucky one).

    Args:
        seeds: the calibration seeds (default 0..4); each draws fresh runs (`calibration_runs`).
        executor, store: passed to `calibration_runs` (the report's pool and results store).
        progress: called with a short line before each seed (default: silent).

    Returns:
        The scored verdicts, seed by seed, each with numbers["calibration_seed"].
    """
    out = []
    for seed in seeds:
        if progress is not None:
            progress(f"calibration seed {seed}")
        scored = calibrate(calibration_runs(seed=seed, executor=executor, store=store))
        out += [replace(v, numbers={**v.numbers, "calibration_seed": seed}) for v in scored]
    return out


def hit_rate(scored: list[Verdict]) -> tuple[int, int]:
    """How many planted claims came out right.

    Args:
        scored: verdicts from `calibrate` (or `score`).

    Returns:
        (correct, total).
    """
    return sum(bool(v.numbers["correct"]) for v in scored), len(scored)


def misclassified(scored: list[Verdict]) -> list[str]:
    """The planted claims that came out wrong.

    Args:
        scored: verdicts from `calibrate` (or `score`).

    Returns:
        'claim: expected X, got Y' for each wrong one, in order.
    """
    return [f"{v.claim}: expected {v.numbers['expected']}, got {v.code}" for v in scored if not v.numbers["correct"]]


def confusion_matrix(scored: list[Verdict]) -> pd.DataFrame:
    """Planted truth (the expected code, rows) x verdict (columns): counts over the six codes, and
    NOT_TESTED where a planted misuse (a refusal) or a refused claim is among them.

    A correct engine puts every count on the diagonal.

    Args:
        scored: verdicts from `calibrate` (or `score`).

    Returns:
        A DataFrame indexed by CODES (name "planted") with columns CODES (name "verdict"), each with
        NOT_TESTED appended when it occurs.
    """
    codes = CODES
    if any(NOT_TESTED in (v.numbers["expected"], v.code) for v in scored):
        codes = (*CODES, NOT_TESTED)
    table = pd.DataFrame(0, index=pd.Index(codes, name="planted"), columns=pd.Index(codes, name="verdict"))
    for v in scored:
        table.loc[v.numbers["expected"], v.code] += 1
    return table


__all__ = [
    "CALIBRATION_SIZES",
    "CALIBRATION_SEEDS",
    "calibration_runs",
    "Sources",
    "planted_claims",
    "sources",
    "calibrate",
    "calibrate_seeds",
    "score",
    "hit_rate",
    "misclassified",
    "confusion_matrix",
]
