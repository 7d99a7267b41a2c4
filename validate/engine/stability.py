"""How stable a verdict code is under the seed noise of its own evidence (a seed bootstrap).

A verdict is decided by its evidence only if perturbations far smaller than the evidence's noise
(float32 against bf16 rounding, 1 against 2 threads) cannot move it. The seed bootstrap measures
that noise directly: resample the seeds with replacement, recompute the code on each resample,
and report the share that reaches the full-data code. A decisive code reached by fewer than
`MIN_STABILITY` of the resamples was not decided by the evidence: `require_stable` turns it into
"inconclusive" and says about how many seeds would decide.

Few seeds. The codes are decided by intervals over seeds (t-intervals, seed bootstraps), and a
resample that draws one seed several times hands the rule copies that it takes for independent
seeds: one seed drawn n times gives a zero-width interval, so that resample's code is the sign of
one seed's effect, whatever the noise between seeds. With 3 seeds that is most resamples (of the
27 equally likely draws, 3 hold one distinct seed and 18 hold two), so a code could look unstable
for a reason that is not the noise. Hence two rules:
- a resample counts only when it holds at least `MIN_DISTINCT_SEEDS` (3) distinct seeds, the
  least from which an interval's spread says anything (two values are one difference); the draws
  continue until `n_resamples` resamples count;
- the stability is measurable only with at least `MIN_STABILITY_SEEDS` (4) seeds: with 3, the
  only resamples that count are the 6 orders of the data itself, each reproducing the full-data
  code, a share of 1 by construction. With fewer seeds the share is NaN, and a decisive code is
  inconclusive ("at least 4 seeds").
Not a jackknife (leave one seed out): every subset has one seed fewer, so its intervals are wider
for a reason that is not the noise either (a `holds` on the edge of its interval would read as
unstable because the subsets lose power), and with n seeds its share moves in steps of 1/n, so
the 0.9 threshold would need 10 seeds to tolerate a single subset that disagrees.
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
#: The fewest distinct seeds a resample must hold to count (see the module docstring).
MIN_DISTINCT_SEEDS = 3
#: The fewest seeds with which the stability is measured (see the module docstring).
MIN_STABILITY_SEEDS = 4


@dataclass(frozen=True)
class Stability:
    """The seed-bootstrap stability of one verdict code."""

    code: str  # the full-data code
    share: float  # share of resamples reaching `code` (NaN: fewer than MIN_STABILITY_SEEDS seeds)
    tally: Mapping[str, int] = field(default_factory=dict)  # code -> resamples reaching it
    n_resamples: int = 0  # resamples counted (each with >= MIN_DISTINCT_SEEDS distinct seeds)
    n_seeds: int = 0
    n_drawn: int = 0  # resamples drawn, counted or not


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
    min_distinct: int = MIN_DISTINCT_SEEDS,
    min_seeds: int = MIN_STABILITY_SEEDS,
) -> Stability:
    """Share of seed-bootstrap resamples whose recomputed code equals the full-data code.

    Each resample draws the seeds (the union over the tables that have `seed_column`) with
    replacement, the same draw for every table, and relabels the k-th drawn seed as k so a seed
    drawn twice stays two distinct groups. Tables without `seed_column` pass unchanged. A draw
    with fewer than `min_distinct` distinct seeds is not counted (module docstring); draws go on
    until `n_resamples` are counted.

    Args:
        decide: tables -> verdict code.
        tables: the evidence tables, by name.
        n_resamples: B, the number of resamples counted.
        seed: the draws' seed (the result is deterministic).
        seed_column: the column naming each row's seed.
        code: the full-data code if already known (None: decide(tables)).
        min_distinct: the fewest distinct seeds a counted resample holds.
        min_seeds: the fewest seeds with which the share is measured.

    Returns:
        The Stability (share NaN and an empty tally with fewer than `min_seeds` seeds).
    """
    tables = dict(tables)
    full = decide(tables) if code is None else code
    seeded = {name: t for name, t in tables.items() if seed_column in t}
    seeds = np.unique(np.concatenate([t[seed_column].to_numpy() for t in seeded.values()])) if seeded else []
    n = len(seeds)
    if n < max(min_seeds, min_distinct, 2):
        return Stability(full, math.nan, {}, 0, n)
    # Row positions of each seed in each table, found once; a resample concatenates them.
    groups = {name: [np.flatnonzero(t[seed_column].to_numpy() == s) for s in seeds] for name, t in seeded.items()}
    rng = np.random.default_rng(seed)
    draws, n_drawn = [], 0
    while len(draws) < n_resamples:  # n >= min_distinct, so a draw counts with positive probability
        draw = rng.integers(0, n, size=n)  # (n = 4: 168 of the 256 draws count; n = 5: 2,820 of 3,125)
        n_drawn += 1
        if len(np.unique(draw)) >= min_distinct:
            draws.append(draw)
    tally: Counter[str] = Counter()
    for draw in draws:
        resample = dict(tables)
        for name, t in seeded.items():
            parts = [groups[name][d] for d in draw]
            rows = t.iloc[np.concatenate(parts)].copy()
            rows[seed_column] = np.repeat(np.arange(n), [len(p) for p in parts])
            resample[name] = rows.reset_index(drop=True)
        tally[decide(resample)] += 1
    return Stability(full, tally[full] / n_resamples, dict(sorted(tally.items())), n_resamples, n, n_drawn)


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
            f" The evidence would say {code}, but with {n} seed(s) its stability cannot be measured "
            f"(at least {MIN_STABILITY_SEEDS} are needed).",
            f"At least {MIN_STABILITY_SEEDS} seeds, so that a seed bootstrap can show the code is stable.",
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
