"""How stable a verdict code is under the seed noise of its own evidence (a seed bootstrap).

A verdict is decided by its evidence only if perturbations far smaller than the evidence's noise
(float32 against bf16 rounding, 1 against 2 threads) cannot move it. The seed bootstrap measures
that noise directly: resample the seeds with replacement, recompute the code on each resample,
and report the share that reaches the full-data code. A decisive code reached by fewer than
`MIN_STABILITY` of the resamples was not decided by the evidence: `require_stable` turns it into
"inconclusive" and says about how many seeds would decide.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

# A decisive code must survive 9 resamples in 10: at 0.9 the code sits about 1.3 standard errors
# of its deciding statistic (margin / seed SE, normal approximation) from the edge that flips it,
# so a perturbation much smaller than the seed noise (precision, thread order) cannot move it,
# while a code on the edge (share near 1/2) is reported as inconclusive.
MIN_STABILITY = 0.9
#: Codes the evidence decides and the seed noise can move. "assumptions_not_met" is left out: a
#: measured break of an assumption is a fact about the run, not an estimate to resample.
DECISIVE = ("holds", "not_tight", "violated", "vacuous")
#: Resamples for a verdict whose code is cheap to recompute.
DEFAULT_RESAMPLES = 200


@dataclass(frozen=True)
class Stability:
    """The seed-bootstrap stability of one verdict code."""

    code: str  # the full-data code
    share: float  # share of resamples reaching `code` (NaN: fewer than 2 seeds, not measurable)
    tally: Mapping[str, int] = field(default_factory=dict)  # code -> resamples reaching it
    n_resamples: int = 0
    n_seeds: int = 0


@dataclass(frozen=True)
class StableCode:
    """A code after the stability rule: `demoted` when a decisive code was turned inconclusive."""

    code: str
    demoted: bool
    sentence: str  # what the rule found, for the explanation ("" when nothing to say)
    would_change: str  # what would decide ("" when the code stands)


def seed_bootstrap_stability(
    decide: Callable[[dict[str, pd.DataFrame]], str],
    tables: Mapping[str, pd.DataFrame],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    seed_column: str = "seed",
    code: str | None = None,
) -> Stability:
    """Share of seed-bootstrap resamples whose recomputed code equals the full-data code.

    Each resample draws the seeds (the union over the tables that have `seed_column`) with
    replacement, the same draw for every table, and relabels the k-th drawn seed as k so a seed
    drawn twice stays two distinct groups. Tables without `seed_column` pass unchanged.

    Args:
        decide: tables -> verdict code.
        tables: the evidence tables, by name.
        n_resamples: B, the number of resamples.
        seed: the draws' seed (the result is deterministic).
        seed_column: the column naming each row's seed.
        code: the full-data code if already known (None: decide(tables)).

    Returns:
        The Stability (share NaN and an empty tally with fewer than 2 seeds).
    """
    tables = dict(tables)
    full = decide(tables) if code is None else code
    seeded = {name: t for name, t in tables.items() if seed_column in t}
    seeds = np.unique(np.concatenate([t[seed_column].to_numpy() for t in seeded.values()])) if seeded else []
    n = len(seeds)
    if n < 2:
        return Stability(full, math.nan, {}, 0, n)
    # Row positions of each seed in each table, found once; a resample concatenates them.
    groups = {name: [np.flatnonzero(t[seed_column].to_numpy() == s) for s in seeds] for name, t in seeded.items()}
    draws = np.random.default_rng(seed).integers(0, n, size=(n_resamples, n))
    tally: Counter[str] = Counter()
    for draw in draws:
        resample = dict(tables)
        for name, t in seeded.items():
            parts = [groups[name][d] for d in draw]
            rows = t.iloc[np.concatenate(parts)].copy()
            rows[seed_column] = np.repeat(np.arange(n), [len(p) for p in parts])
            resample[name] = rows.reset_index(drop=True)
        tally[decide(resample)] += 1
    return Stability(full, tally[full] / n_resamples, dict(sorted(tally.items())), n_resamples, n)


def seeds_for_stability(share: float, *, n_seeds: int, threshold: float = MIN_STABILITY) -> int | None:
    """About how many seeds would bring the share to `threshold`.

    The share of resamples reaching a code is about Phi(margin / SE) for the statistic that
    decides it, and the SE shrinks as 1/sqrt(seeds); so seeds ~ n (z_threshold / z_share)^2.

    Args:
        share: the measured stability.
        n_seeds: the seeds it was measured on.
        threshold: the stability wanted.

    Returns:
        The number of seeds (at least one more), or None when the share is at or below 1/2 (the
        evidence leans to no side, so no count can be read from it) or the threshold is not in (1/2, 1).
    """
    if not np.isfinite(share) or share <= 0.5 or n_seeds < 1 or not 0.5 < threshold < 1:
        return None  # (a threshold of 1 asks for certainty, which no finite count of seeds gives)
    z_share = stats.norm.ppf(min(share, 1 - 1e-12))
    z_wanted = stats.norm.ppf(threshold)
    return max(math.ceil(n_seeds * (z_wanted / z_share) ** 2), n_seeds + 1)


def require_stable(code: str, stability: Stability, threshold: float = MIN_STABILITY) -> StableCode:
    """The code, or "inconclusive" when a decisive code's stability is under `threshold`.

    Args:
        code: the verdict's code.
        stability: its seed-bootstrap stability.
        threshold: the least share a decisive code needs.

    Returns:
        A StableCode (with what would decide when the code was demoted).
    """
    if code not in DECISIVE:
        return StableCode(code, False, "", "")
    share, n = stability.share, stability.n_seeds
    if not np.isfinite(share):
        return StableCode(
            "inconclusive",
            True,
            f" The evidence would say {code}, but with {n} seed(s) its stability cannot be measured.",
            "At least 2 seeds, so that a seed bootstrap can show the code is stable.",
        )
    if share >= threshold:
        return StableCode(code, False, "", "")
    k = seeds_for_stability(share, n_seeds=n, threshold=threshold)
    others = ", ".join(f"{c} {m}" for c, m in stability.tally.items() if c != code)
    return StableCode(
        "inconclusive",
        True,
        f" The evidence says {code}, but only {share:.0%} of {stability.n_resamples} seed-bootstrap resamples "
        f"reach it (the rest: {others}; {threshold:.0%} needed), so the seeds do not decide it.",
        (f"About {k} seeds (now {n}), if the effect is as measured" if k else f"Many more seeds than {n}")
        + f", so that at least {threshold:.0%} of the seed resamples reach the same code.",
    )
