"""The generic evidence machinery every claim's verdict is built from.

1. `summarize` averages a measured column over seeds at each grid point, with a t-interval
   (diverged runs are excluded and counted, never averaged in).
2. `compare_to_bound` sets those means against a claim's bound evaluated by `theory` at the same
   parameters (`bound_at`): ratio per point, the worst point, and how many points lie beyond the
   bound by more than their interval.
3. `fit_mean_power_law` fits the exponents of the seed-mean in one or more variables (bootstrap
   over seeds), and `exponent_outcome` places the claimed exponent relative to an interval, read
   in the claim's sense (a bound that decays slower than the data is loose; data that decay
   slower than the bound break it).
4. `decide` turns these into one code of validate.verdict.CODES, in the precedence of claims.md:
   assumptions not met > violated > vacuous > inconclusive > holds, not tight > holds.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from validate.fits import (ExponentFit, bootstrap_replicates, compare_exponent, expanded_level,
                           percentile_interval)

Direction = Literal["upper", "lower"]
Sense = Literal["upper", "lower", "equal"]
RTOL = 1e-9  # a measured value within this relative distance of the bound counts as on it
DEFAULT_CONFIDENCE = 0.95
MAX_EXPONENT_CI_WIDTH = 0.5  # wider exponent intervals than this cannot decide a rate claim
# Rate resolution: exponents closer than this to the claimed one count as consistent. Local slopes
# over a finite grid carry lower-order terms (a 1/T term beside T^(-1/2), integer ranks, finite
# m + n) that move them by a few hundredths while the asymptotic exponent is exact; with many
# seeds the bootstrap interval gets narrower than that, and without a tolerance a true bound
# (Ghadimi-Lan with exact constants at 32 seeds: -0.494 [-0.498, -0.489]) would be "violated".
EXPONENT_TOLERANCE = 0.05


# -- 1. summaries over seeds ----------------------------------------------------------------------
def usable(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows of runs that did not diverge, and how many did."""
    if "diverged" not in df.columns:
        return df, 0
    diverged = df["diverged"].fillna(False).astype(bool)
    return df[~diverged], int(diverged.sum())


def summarize(df: pd.DataFrame, by: Sequence[str], measured: str, *,
              confidence: float = DEFAULT_CONFIDENCE) -> pd.DataFrame:
    """Mean of `measured` over seeds per group of `by`, with a t-interval and the seed count."""
    rows = []
    for key, group in df.groupby(list(by), sort=True):
        values = group[measured].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        low, high = mean_interval(values, confidence)
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(by, key)), "measured": values.mean() if values.size else np.nan,
                     "measured_low": low, "measured_high": high, "n_seeds": values.size})
    return pd.DataFrame(rows)


def mean_interval(values: np.ndarray, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Student-t interval for the mean; a single value gives a zero-width interval."""
    if values.size == 0:
        return (np.nan, np.nan)
    mean = float(values.mean())
    if values.size == 1:
        return (mean, mean)
    half = stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return (mean - half, mean + half)


# -- 2. bounds ------------------------------------------------------------------------------------
def bound_at(claim, frame: pd.DataFrame, columns: Mapping[str, str],
             constants: Mapping[str, float] | None = None) -> np.ndarray:
    """The claim's numeric bound (theory/) at each row: symbol <- frame[column] or a constant."""
    params = {symbol: frame[column].to_numpy(dtype=np.float64) for symbol, column in columns.items()}
    params.update(constants or {})
    return np.broadcast_to(claim.bound(**params), (len(frame),)).astype(np.float64)


@dataclass(frozen=True)
class BoundComparison:
    """Measured means set against a bound at every grid point."""

    points: pd.DataFrame          # summary rows + bound, ratio, beyond (bool), straddles (bool)
    direction: Direction
    n_points: int
    n_beyond: int                 # outside the bound by more than the point's interval
    n_straddling: int             # mean on the wrong side, interval reaching the bound
    worst: dict[str, Any]         # the point with the largest measured/bound (upper) or bound/measured
    worst_ratio: float

    @property
    def all_within(self) -> bool:
        return self.n_beyond == 0 and self.n_straddling == 0


def compare_to_bound(points: pd.DataFrame, bound: np.ndarray, direction: Direction) -> BoundComparison:
    """Add bound, ratio and side to summary points; find the worst point."""
    pts = points.copy()
    pts["bound"] = bound
    slack = RTOL * np.abs(pts["bound"])
    if direction == "upper":
        pts["ratio"] = pts["measured"] / pts["bound"]
        pts["beyond"] = pts["measured_low"] > pts["bound"] + slack
        wrong_side = pts["measured"] > pts["bound"] + slack
    else:
        pts["ratio"] = pts["bound"] / pts["measured"]
        pts["beyond"] = pts["measured_high"] < pts["bound"] - slack
        wrong_side = pts["measured"] < pts["bound"] - slack
    pts["straddles"] = wrong_side & ~pts["beyond"]
    pts["exceeds"] = wrong_side
    worst_index = pts["ratio"].idxmax() if pts["ratio"].notna().any() else pts.index[0]
    worst = {k: _plain(v) for k, v in pts.loc[worst_index].items()}
    return BoundComparison(pts, direction, len(pts), int(pts["beyond"].sum()), int(pts["straddles"].sum()),
                           worst, float(pts.loc[worst_index, "ratio"]))


def vacuous_points(bound: np.ndarray, trivial: np.ndarray | float, direction: Direction = "upper") -> np.ndarray:
    """Where a bound says nothing: an upper bound at or above the trivial value (e.g. the loss
    range), a lower bound at or below it (e.g. 0 for a mutual information)."""
    bound, trivial = np.asarray(bound, dtype=np.float64), np.asarray(trivial, dtype=np.float64)
    return bound >= trivial if direction == "upper" else bound <= trivial


# -- 3. exponents ---------------------------------------------------------------------------------
def fit_mean_power_law(df: pd.DataFrame, variables: Sequence[str], measured: str, *, group: str = "seed",
                       confidence: float = DEFAULT_CONFIDENCE, n_resamples: int = 2000,
                       seed: int = 0) -> dict[str, ExponentFit]:
    """Exponents of the seed-mean of `measured` in several variables at once:
    log mean = c + sum_v p_v log v, least squares over grid points; interval from a bootstrap
    over whole groups (seeds), refitting on the means of each resample.

    Unlike validate.fits.fit_exponent (which pools log y, i.e. fits geometric means), this fits
    arithmetic means, which is what an expectation bound speaks about and what stays defined when
    single runs are <= 0 (a generalization gap can be negative for one seed, not on average).
    """
    table = df.pivot_table(index=list(variables), columns=group, values=measured, aggfunc="mean")
    values = table.to_numpy(dtype=np.float64)                     # (points, groups)
    design = np.column_stack([np.ones(len(table))] +
                             [np.log(table.index.get_level_values(v).to_numpy(dtype=np.float64))
                              for v in variables])
    coef = _log_mean_fit(values, design, np.arange(values.shape[1]))
    usable_points = int(np.sum(np.nanmean(values, axis=1) > 0))
    excluded = len(table) - usable_points
    n_groups = values.shape[1]
    replicates = bootstrap_replicates(lambda idx: _log_mean_fit_batch(values, design, idx), n_groups,
                                      n_resamples, seed) if n_groups >= 3 else None
    level = expanded_level(confidence, n_groups, max(n_groups - 1, 1))
    notes = [f"Least squares of log(mean over {n_groups} {group}s) on "
             + " and ".join(f"log {v}" for v in variables)
             + f" at {usable_points} grid points; interval: expanded percentile bootstrap over {group}s."]
    if excluded:
        notes.append(f"Excluded {excluded} grid points whose mean {measured} is not positive.")
    fits = {}
    for k, var in enumerate(variables, start=1):
        ci = percentile_interval(replicates[k], level) if replicates is not None else (-np.inf, np.inf)
        fits[var] = ExponentFit(float(coef[k]), ci, float(coef[0]), usable_points, n_groups,
                                {"nonpositive_mean": excluded} if excluded else {}, tuple(notes), confidence)
    return fits


def _log_mean_fit(values: np.ndarray, design: np.ndarray, idx: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.nanmean(values[:, idx], axis=1)
        keep = np.isfinite(means) & (means > 0)
        if keep.sum() < design.shape[1]:
            return np.full(design.shape[1], np.nan)
        return np.linalg.lstsq(design[keep], np.log(means[keep]), rcond=None)[0]


def _log_mean_fit_batch(values, design, idx: np.ndarray) -> np.ndarray:
    flat = idx.reshape(-1, idx.shape[-1])
    coefs = np.stack([_log_mean_fit(values, design, row) for row in flat], axis=-1)
    return coefs.reshape(design.shape[1], *idx.shape[:-1])


@dataclass(frozen=True)
class ExponentOutcome:
    """A fitted exponent, the claimed one, and what their relation means for the claim."""

    variable: str
    fit: ExponentFit
    claimed: float
    relation: str                 # consistent | faster | slower (validate.fits.compare_exponent)
    meaning: str                  # ok | loose | wrong | undecided
    max_ci_width: float = MAX_EXPONENT_CI_WIDTH
    tolerance: float = EXPONENT_TOLERANCE

    @property
    def numbers(self) -> dict[str, Any]:
        return {f"exponent_{self.variable}": self.fit.exponent,
                f"exponent_{self.variable}_ci": list(self.fit.ci),
                f"claimed_exponent_{self.variable}": self.claimed}


def widened(fit: ExponentFit, delta: float, reason: str) -> ExponentFit:
    """The fit with its interval widened by `delta` on both sides, and the reason in its notes
    (for a known finite-size deviation of the local slope from an asymptotic exponent)."""
    if not delta > 0:
        return fit
    low, high = fit.ci
    return replace(fit, ci=(low - delta, high + delta), notes=(*fit.notes, reason) if reason else fit.notes)


def exponent_outcome(fit: ExponentFit, *, variable: str, claimed: float, trend: Literal["decay", "growth"],
                     sense: Sense = "upper", max_ci_width: float = MAX_EXPONENT_CI_WIDTH,
                     tolerance: float = EXPONENT_TOLERANCE) -> ExponentOutcome:
    """Read a claimed exponent against a fitted one (validate.fits or fit_mean_power_law).

    The claim is consistent when it lies within `tolerance` of the interval (the rate resolution,
    see EXPONENT_TOLERANCE). Otherwise, for an upper bound (or an O(.) claim) on a quantity that
    decays, data decaying faster than the claim mean the bound is loose, slower means it is
    broken; for a growing quantity the reverse. sense="equal" (a predicted rate, not a bound):
    any miss breaks it.
    """
    relation = compare_exponent(widened(fit, tolerance, ""), claimed, trend)
    if not np.isfinite(fit.ci_width) or fit.ci_width > max_ci_width:
        meaning = "undecided" if relation == "consistent" else _meaning(relation, trend, sense)
    else:
        meaning = _meaning(relation, trend, sense)
    return ExponentOutcome(variable, fit, float(claimed), relation, meaning, max_ci_width, tolerance)


def _meaning(relation: str, trend: str, sense: Sense) -> str:
    if relation == "consistent":
        return "ok"
    if sense == "equal":
        return "wrong"
    data_smaller_eventually = (relation == "faster") == (trend == "decay")
    fine = data_smaller_eventually if sense == "upper" else not data_smaller_eventually
    return "loose" if fine else "wrong"


# -- 4. the decision ------------------------------------------------------------------------------
@dataclass
class Decision:
    code: str
    explanation: str
    would_change: str
    notes: list[str] = field(default_factory=list)


def decide(*, bound: BoundComparison | None = None, exponents: Sequence[ExponentOutcome] = (),
           vacuous: np.ndarray | None = None, unmet: Sequence[str] = (), n_seeds: int | None = None,
           subject: str = "the bound") -> Decision:
    """One verdict code from the pieces of evidence, with a sentence and what would change it."""
    wrong = [e for e in exponents if e.meaning == "wrong"]
    loose = [e for e in exponents if e.meaning == "loose"]
    undecided = [e for e in exponents if e.meaning == "undecided"]
    all_vacuous = vacuous is not None and len(vacuous) > 0 and bool(np.all(vacuous))
    if unmet:
        return Decision("assumptions_not_met", f"The run breaks the claim's assumptions ({'; '.join(unmet)}); "
                        f"{_bound_sentence(bound, subject)}", "A run that meets every assumption.")
    if bound is not None and bound.n_beyond:
        return Decision("violated", f"{bound.n_beyond} of {bound.n_points} points lie beyond {subject} by more "
                        f"than their {int(DEFAULT_CONFIDENCE * 100)}% interval (worst ratio "
                        f"{bound.worst_ratio:.3g}).", "Nothing short of a different bound or different data.")
    if wrong:
        e = wrong[0]
        return Decision("violated", f"The fitted exponent in {e.variable}, {_fit_text(e)}, misses the claimed "
                        f"{e.claimed:g} by more than the rate tolerance {e.tolerance:g}, in the direction that "
                        "breaks the claim.",
                        "A larger grid that moves the exponent's interval back over the claimed value.")
    if all_vacuous:
        side = "above" if bound is None or bound.direction == "upper" else "below"
        return Decision("vacuous", f"{subject.capitalize()} is at or {side} the trivial value at every evaluated "
                        f"point, so it says nothing there. {_bound_sentence(bound, subject)}",
                        "A regime where the bound beats the trivial value (larger N, a smaller constant, a "
                        "smaller error).")
    if (bound is not None and bound.n_straddling) or undecided:
        return _inconclusive(bound, undecided, n_seeds)
    if loose:
        e = loose[0]
        return Decision("not_tight", _join(_bound_sentence(bound, subject), f"The measured exponent in "
                        f"{e.variable}, {_fit_text(e)}, is beyond the claimed {e.claimed:g} (by more than the rate "
                        f"tolerance {e.tolerance:g}) on the safe side: the claim holds but is not tight."), "A measured exponent interval that covers the claimed one.")
    tail = (f"The fitted exponents are consistent with the claim within the rate tolerance "
            f"{exponents[0].tolerance:g} ({', '.join(_fit_text(e) for e in exponents)}).") if exponents else ""
    return Decision("holds", _join(_bound_sentence(bound, subject), tail),
                    "A point beyond the bound, or an exponent interval excluding the claimed value.")


def _inconclusive(bound, undecided, n_seeds) -> Decision:
    parts = []
    if bound is not None and bound.n_straddling:
        parts.append(f"{bound.n_straddling} point(s) lie on the wrong side of the bound within their interval")
    more = ""
    if undecided:
        e = undecided[0]
        parts.append(f"the exponent interval in {e.variable} is {e.fit.ci_width:.2g} wide")
        if n_seeds and np.isfinite(e.fit.ci_width):
            needed = math.ceil(n_seeds * (e.fit.ci_width / e.max_ci_width) ** 2)
            more = f" About {needed} seeds (now {n_seeds}) would narrow it to {e.max_ci_width:g}."
    return Decision("inconclusive", "; ".join(parts).capitalize() + "." + more,
                    "More seeds or a wider grid.")


def _join(*sentences: str) -> str:
    return " ".join(s.strip() for s in sentences if s and s.strip())


def _bound_sentence(bound: BoundComparison | None, subject: str) -> str:
    if bound is None:
        return ""
    state = "Every" if bound.all_within else "Not every"
    if bound.direction == "upper":
        return (f"{state} measured point is under {subject} ({bound.n_points} points; worst measured/bound "
                f"ratio {bound.worst_ratio:.3g}).")
    margin = float((bound.points["measured"] - bound.points["bound"]).min())
    return (f"{state} measured point is above {subject} ({bound.n_points} points; smallest margin "
            f"measured - bound {margin:.3g}).")


def _fit_text(e: ExponentOutcome) -> str:
    lo, hi = e.fit.ci
    return f"{e.fit.exponent:.3g} [{lo:.3g}, {hi:.3g}]"


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
