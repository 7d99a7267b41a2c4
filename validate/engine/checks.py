"""The generic evidence machinery every claim's verdict is built from.

1. `summarize` averages a measured column over seeds at each grid point, with a t-interval
   (diverged runs are excluded and counted, never averaged in).
2. `compare_to_bound` sets those means against a claim's bound evaluated by `theory` at the same
   parameters (`bound_at`): ratio per point, the worst point, and how many points lie beyond the
   bound by more than their interval. Only bounds with explicit constants are compared pointwise:
   an O(.) claim (`Claim.free_constant`) is judged by its exponents alone, with its best-fit
   constant reported (`best_fit_constant`), so its verdict does not depend on the data's units.
3. `fit_mean_power_law` fits the exponents of the seed-mean in one or more variables (bootstrap
   over seeds), and `exponent_outcome` places the claimed exponent relative to that interval,
   read in the claim's sense (a bound that decays slower than the data is loose; data that decay
   slower than the bound break it).

   No tolerance. A local slope on a finite grid is not an asymptotic exponent. Where theory
   predicts the measured quantity itself on the grid that was run (a `Prediction`: the exact
   expected SGD trajectory on the noisy quadratic, the reduced-rank risk), the predicted quantity's
   local slope on the same grid, minus its asymptotic exponent, is the finite-size offset
   (`finite_size_offsets`); the measured interval minus that offset estimates the asymptotic
   exponent, and the claimed exponent is compared with it as it is. An approximate prediction
   (`Prediction.exact=False`: the least-squares gap away from full rank) is trusted in sign and
   size only, so the corrected interval is widened by the offset's own size. Without a
   prediction the local slope is compared directly, and the verdict says so.

   Resolution: the interval's half-width is the smallest exponent difference the run can tell
   apart (a claim farther than that from the estimate is excluded). A claimed exponent inside an
   interval wider than MAX_EXPONENT_CI_WIDTH is not confirmed: the outcome is "undecided", never
   "ok". An exponent outside the interval is decisive whatever its width.

4. `decide` turns these into one code of validate.verdict.CODES, in the precedence of claims.md:
   assumptions not met > violated > vacuous > inconclusive > holds, not tight > holds.
   Variables are combined as a conjunction, and every variable's outcome is reported (numbers
   `outcome_<v>`, `exponent_<v>`, `resolution_<v>`; the explanation leads with the decided ones):
     - one variable decisively in the wrong direction (or one point beyond an explicit bound)
       makes the claim violated, whatever the other variables say;
     - otherwise an undecided variable makes the verdict inconclusive, even when another
       variable is decisively loose: "holds, not tight" asserts that the claim holds, which the
       undecided variable leaves open. The decided "not tight in N" leads the explanation, and
       `would_change` says how many seeds or decades would decide the rest;
     - otherwise any loose variable gives not_tight, and all consistent gives holds.
   "wrong_capped" (validate.bounds, explicit-constant bounds only): the data grow faster than the
   bound in a variable the experiment caps (r <= min(m, n)); a bound that holds at every point
   cannot be crossed by extrapolating in it, so it is reported and does not decide the code.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterator, Literal, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from lrkd.validate.engine.fits import (
    ExponentFit,
    bootstrap_replicates,
    compare_exponent,
    empty_slices_expected,
    expanded_level,
    percentile_interval,
)

Direction = Literal["upper", "lower"]
Sense = Literal["upper", "lower", "equal"]
RTOL = 1e-9  # a measured value within this relative distance of the bound counts as on it
DEFAULT_CONFIDENCE = 0.95
# An exponent interval wider than this cannot CONFIRM a claimed exponent (it can still exclude
# one). The rival readings the suite must tell apart differ by 1/4 to 1/2 in exponent (T^-1/2 vs
# T^-1, N^-1/2 vs N^-1, r vs sqrt(r), r* ~ N^1/2 vs N^1/4); an interval 1/2 wide centred on the
# claim reaches 1/4 to either side, so anything wider cannot exclude the nearest rival.
MAX_EXPONENT_CI_WIDTH = 0.5


# -- 1. summaries over seeds ----------------------------------------------------------------------
def usable(df: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Rows of runs that did not diverge, and how many did.

    Args:
        df: one row per run (a `diverged` column, if any, marks the diverged ones).

    Returns:
        (the rows that did not diverge, the number that did).
    """
    if "diverged" not in df.columns:
        return df, 0
    diverged = df["diverged"].fillna(False).astype(bool)
    return df[~diverged], int(diverged.sum())


def summarize(
    df: pd.DataFrame, by: Sequence[str], measured: str, *, confidence: float = DEFAULT_CONFIDENCE
) -> pd.DataFrame:
    """Mean of `measured` over seeds per group of `by`, with a t-interval and the seed count.

    Args:
        df: one row per run.
        by: the grid columns.
        measured: the column averaged (non-finite values left out).
        confidence: the t-interval's level.

    Returns:
        One row per group: the `by` columns, measured, measured_low, measured_high, n_seeds.
    """
    rows = []
    for key, group in df.groupby(list(by), sort=True):
        values = group[measured].to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        low, high = mean_interval(values, confidence)
        key = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(by, key)),
                "measured": values.mean() if values.size else np.nan,
                "measured_low": low,
                "measured_high": high,
                "n_seeds": values.size,
            }
        )
    return pd.DataFrame(rows)


def mean_interval(values: np.ndarray, confidence: float = DEFAULT_CONFIDENCE) -> tuple[float, float]:
    """Student-t interval for the mean; a single value gives a zero-width interval.

    Args:
        values: the sample.
        confidence: the interval's level.

    Returns:
        (low, high); (nan, nan) for an empty sample.
    """
    if values.size == 0:
        return (np.nan, np.nan)
    mean = float(values.mean())
    if values.size == 1:
        return (mean, mean)
    half = stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return (mean - half, mean + half)


# -- 2. bounds ------------------------------------------------------------------------------------
def bound_at(
    claim, frame: pd.DataFrame, columns: Mapping[str, str], constants: Mapping[str, float] | None = None
) -> np.ndarray:
    """The claim's numeric bound (theory/) at each row: symbol <- frame[column] or a constant.

    Args:
        claim: a theory.Claim.
        frame: the grid points.
        columns: {symbol: column of `frame`}.
        constants: {symbol: value} for symbols no column gives.

    Returns:
        The bound, one value per row.
    """
    params = {symbol: frame[column].to_numpy(dtype=np.float64) for symbol, column in columns.items()}
    params.update(constants or {})
    return np.broadcast_to(claim.bound(**params), (len(frame),)).astype(np.float64)


@dataclass(frozen=True)
class BoundComparison:
    """Measured means set against a bound at every grid point."""

    points: pd.DataFrame  # summary rows + bound, ratio, beyond (bool), straddles (bool)
    direction: Direction
    n_points: int
    n_beyond: int  # outside the bound by more than the point's interval
    n_straddling: int  # mean on the wrong side, interval reaching the bound
    worst: dict[str, Any]  # the point with the largest measured/bound (upper) or bound/measured
    worst_ratio: float

    @property
    def all_within(self) -> bool:
        return self.n_beyond == 0 and self.n_straddling == 0


def compare_to_bound(points: pd.DataFrame, bound: np.ndarray, direction: Direction) -> BoundComparison:
    """Set summary points against a bound: bound, ratio and side per point, and the worst point.

    Args:
        points: `summarize` rows.
        bound: the bound at each point.
        direction: "upper" (the mean must lie below the bound) or "lower".

    Returns:
        The BoundComparison.
    """
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
    return BoundComparison(
        pts,
        direction,
        len(pts),
        int(pts["beyond"].sum()),
        int(pts["straddles"].sum()),
        worst,
        float(pts.loc[worst_index, "ratio"]),
    )


def vacuous_points(bound: np.ndarray, trivial: np.ndarray | float, direction: Direction = "upper") -> np.ndarray:
    """Where a bound says nothing: an upper bound at or above the trivial value (e.g. the loss range),
    a lower bound at or below it (e.g. 0 for a mutual information).

    Args:
        bound: the bound at each point.
        trivial: the trivial value (per point or one number).
        direction: "upper" or "lower".

    Returns:
        A boolean array, True where the bound is vacuous.
    """
    bound, trivial = np.asarray(bound, dtype=np.float64), np.asarray(trivial, dtype=np.float64)
    return bound >= trivial if direction == "upper" else bound <= trivial


# -- 3. exponents ---------------------------------------------------------------------------------
def fit_mean_power_law(
    df: pd.DataFrame,
    variables: Sequence[str],
    measured: str,
    *,
    group: str = "seed",
    confidence: float = DEFAULT_CONFIDENCE,
    n_resamples: int = 2000,
    seed: int = 0,
) -> dict[str, ExponentFit]:
    """Exponents of the seed-mean of `measured` in several variables at once:
    log mean = c + sum_v p_v log v, least squares over grid points; interval from a bootstrap
    over whole groups (seeds), refitting on the means of each resample.

    Unlike validate.fits.fit_exponent (which pools log y, i.e. fits geometric means), this fits
    arithmetic means, which is what an expectation bound speaks about and what stays defined when
    single runs are <= 0 (a generalization gap can be negative for one seed, not on average).

    Args:
        df: one row per run; the columns `variables`, `measured` and `group`.
        variables: the rate columns (each needs >= 2 distinct values).
        measured: the column whose seed-mean is fitted.
        group: the resampling unit (a seed).
        confidence: the interval's level; n_resamples, seed: the bootstrap's.

    Returns:
        {variable: ExponentFit}; the interval is (-inf, inf) with fewer than 3 groups. Inside a
        `fit_cache()` block a fit already made on equal data with equal options is reused.
    """
    options = {"group": group, "confidence": confidence, "n_resamples": n_resamples, "seed": seed}
    memo = _FITS.get()
    if memo is None:
        return _fit_mean_power_law(df, variables, measured, **options)
    columns = list(dict.fromkeys([*variables, measured, group]))
    key = (
        tuple(variables),
        measured,
        tuple(sorted(options.items())),
        pd.util.hash_pandas_object(df[columns], index=False).to_numpy().tobytes(),
    )
    if key not in memo:
        memo[key] = _fit_mean_power_law(df, variables, measured, **options)
    return dict(memo[key])


# fit_mean_power_law's memo inside a fit_cache() block (None outside one)
_FITS: ContextVar[dict | None] = ContextVar("fit_mean_power_law_memo", default=None)


@contextmanager
def fit_cache() -> Iterator[None]:
    """Within the block, `fit_mean_power_law` computes each distinct fit once.

    The fit is a pure function of the table's rate, measured and group columns and its options
    (its bootstrap is seeded), not of the claim that asks for it: calibration's planted claims read
    a few tables many times (13 C1 claims, one evidence table), and sharing the fits makes it several
    times faster and changes no number. Keyed on the variables, the measured column, the options
    and a hash of those columns' values. A nested block shares the enclosing block's memo; the memo
    is dropped when the outermost block ends.

    Returns:
        A context manager (it yields None).
    """
    if _FITS.get() is not None:
        yield
        return
    token = _FITS.set({})
    try:
        yield
    finally:
        _FITS.reset(token)


def _fit_mean_power_law(
    df: pd.DataFrame, variables: Sequence[str], measured: str, *, group, confidence, n_resamples, seed
) -> dict[str, ExponentFit]:
    table = df.pivot_table(index=list(variables), columns=group, values=measured, aggfunc="mean")
    values = table.to_numpy(dtype=np.float64)  # (points, groups)
    design = _design(table.index, variables)
    coef = _log_mean_fit(values, design, np.arange(values.shape[1]))
    with empty_slices_expected():  # a grid point whose every run diverged has no mean
        usable_points = int(np.sum(np.nanmean(values, axis=1) > 0))
    excluded = len(table) - usable_points
    n_groups = values.shape[1]
    replicates = (
        bootstrap_replicates(lambda idx: _log_mean_fit_batch(values, design, idx), n_groups, n_resamples, seed=seed)
        if n_groups >= 3
        else None
    )
    level = expanded_level(confidence, n_groups, max(n_groups - 1, 1))
    notes = [
        f"Least squares of log(mean over {n_groups} {group}s) on "
        + " and ".join(f"log {v}" for v in variables)
        + f" at {usable_points} grid points; interval: expanded percentile bootstrap over {group}s."
    ]
    if excluded:
        notes.append(f"Excluded {excluded} grid points whose mean {measured} is not positive.")
    fits = {}
    for k, var in enumerate(variables, start=1):
        ci = percentile_interval(replicates[k], level) if replicates is not None else (-np.inf, np.inf)
        fits[var] = ExponentFit(
            float(coef[k]),
            ci,
            float(coef[0]),
            usable_points,
            n_groups,
            {"nonpositive_mean": excluded} if excluded else {},
            tuple(notes),
            confidence,
        )
    return fits


def _design(index: pd.Index, variables: Sequence[str]) -> np.ndarray:
    return np.column_stack(
        [np.ones(len(index))] + [np.log(index.get_level_values(v).to_numpy(dtype=np.float64)) for v in variables]
    )


def _log_mean_fit(values: np.ndarray, design: np.ndarray, idx: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"), empty_slices_expected():
        means = np.nanmean(values[:, idx], axis=1)
        keep = np.isfinite(means) & (means > 0)
        if keep.sum() < design.shape[1]:
            return np.full(design.shape[1], np.nan)
        return np.linalg.lstsq(design[keep], np.log(means[keep]), rcond=None)[0]


def _log_mean_fit_batch(values, design, idx: np.ndarray) -> np.ndarray:
    flat = idx.reshape(-1, idx.shape[-1])
    coefs = np.stack([_log_mean_fit(values, design, row) for row in flat], axis=-1)
    return coefs.reshape(design.shape[1], *idx.shape[:-1])


# -- 3a. what theory predicts on the grid that was run ----------------------------------------------
@dataclass(frozen=True)
class Prediction:
    """Theory's value of a measured column's seed-mean at each grid point.

    predict: grid-point rows (one per combination of the rate columns, with every other column of
             the first run there, e.g. the step size used at that T) -> expected mean per row.
    asymptotic: {rate column: the predicted quantity's asymptotic exponent in it}.
    exact: True when theory gives the expectation itself (the SGD trajectory on the quadratic);
           False for an approximation (the least-squares gap away from full rank), whose offset
           is trusted in sign and size only: the comparison then allows any correction between
           none and twice the predicted one (the offset's own size is its uncertainty).
    """

    measured: str
    asymptotic: Mapping[str, float]
    predict: Callable[[pd.DataFrame], np.ndarray]
    source: str
    exact: bool = True


@dataclass(frozen=True)
class FiniteSizeOffset:
    """How far the predicted quantity's local slope on the grid sits from its asymptotic exponent."""

    variable: str
    predicted_slope: float
    asymptotic: float
    source: str
    exact: bool = True

    @property
    def uncertainty(self) -> float:
        """0 for an exact prediction; the offset's size for an approximate one."""
        return 0.0 if self.exact else abs(self.offset)

    @property
    def offset(self) -> float:
        delta = self.predicted_slope - self.asymptotic
        return 0.0 if abs(delta) < 1e-12 else delta  # an exact power law's slope, up to roundoff


def finite_size_offsets(
    prediction: Prediction | None, table: pd.DataFrame, variables: Sequence[str]
) -> dict[str, FiniteSizeOffset]:
    """The predicted local slopes in `variables`, fitted with the design `fit_mean_power_law` uses
    (least squares of log prediction on the log rate columns at the same grid points).

    Args:
        prediction: theory's prediction for the measured column, or None (then {}).
        table: the runs (one row per run) the measured fit uses.
        variables: rate columns, in the fit's order.

    Returns:
        {column: FiniteSizeOffset} for the columns the prediction covers.
    """
    if prediction is None or not set(variables) <= set(prediction.asymptotic):
        return {}
    grid = table.groupby(list(variables), sort=True).first().reset_index()
    predicted = np.asarray(prediction.predict(grid), dtype=np.float64)
    keep = np.isfinite(predicted) & (predicted > 0)
    design = _design(pd.MultiIndex.from_frame(grid[list(variables)]), variables)[keep]
    coef = np.linalg.lstsq(design, np.log(predicted[keep]), rcond=None)[0]
    return {
        v: FiniteSizeOffset(v, float(coef[k]), float(prediction.asymptotic[v]), prediction.source, prediction.exact)
        for k, v in enumerate(variables, start=1)
    }


@dataclass(frozen=True)
class ExponentOutcome:
    """A fitted exponent, the claimed one, and what their relation means for the claim."""

    variable: str
    fit: ExponentFit
    claimed: float
    relation: str  # consistent | faster | slower (validate.fits.compare_exponent)
    meaning: str  # ok | loose | wrong | undecided
    max_ci_width: float = MAX_EXPONENT_CI_WIDTH
    offset: FiniteSizeOffset | None = None

    @property
    def shift(self) -> float:
        return self.offset.offset if self.offset is not None else 0.0

    @property
    def uncertainty(self) -> float:
        return self.offset.uncertainty if self.offset is not None else 0.0

    @property
    def corrected(self) -> tuple[float, tuple[float, float]]:
        """The asymptotic exponent the measured local slope implies: (estimate, interval), the
        interval widened by the offset's uncertainty when the prediction is approximate."""
        low, high = self.fit.ci
        u = self.uncertainty
        return self.fit.exponent - self.shift, (low - self.shift - u, high - self.shift + u)

    @property
    def resolution(self) -> float:
        """Half the (corrected) interval's width: a claim farther than this from the estimate is
        excluded."""
        low, high = self.corrected[1]
        return (high - low) / 2

    @property
    def numbers(self) -> dict[str, Any]:
        v = self.variable
        out = {
            f"exponent_{v}": self.fit.exponent,
            f"exponent_{v}_ci": list(self.fit.ci),
            f"claimed_exponent_{v}": self.claimed,
            f"outcome_{v}": self.meaning,
            f"resolution_{v}": self.resolution,
        }
        if self.offset is not None:
            estimate, ci = self.corrected
            out.update(
                {
                    f"finite_size_offset_{v}": self.shift,
                    f"predicted_slope_{v}": self.offset.predicted_slope,
                    f"corrected_exponent_{v}": estimate,
                    f"corrected_exponent_{v}_ci": list(ci),
                    f"offset_uncertainty_{v}": self.uncertainty,
                }
            )
        return out


def widened(fit: ExponentFit, delta: float, reason: str) -> ExponentFit:
    """The fit with its interval widened by `delta` on both sides, and the reason in its notes
    (for a finite-size deviation of the local slope known only by its size, not its value).

    Args:
        fit: the ExponentFit.
        delta: the widening on each side (<= 0: the fit unchanged).
        reason: the sentence added to its notes.

    Returns:
        The widened ExponentFit.
    """
    if not delta > 0:
        return fit
    low, high = fit.ci
    return replace(fit, ci=(low - delta, high + delta), notes=(*fit.notes, reason) if reason else fit.notes)


def exponent_outcome(
    fit: ExponentFit,
    *,
    variable: str,
    claimed: float,
    trend: Literal["decay", "growth"],
    sense: Sense = "upper",
    max_ci_width: float = MAX_EXPONENT_CI_WIDTH,
    offset: FiniteSizeOffset | None = None,
) -> ExponentOutcome:
    """Read a claimed exponent against a fitted one (validate.fits or fit_mean_power_law).

    The measured interval, minus the finite-size `offset` when theory gives one, is compared with
    the claimed exponent as it is: inside -> consistent, otherwise the claim is on one side. For an
    upper bound (or an O(.) claim) on a decaying quantity, data decaying faster than the claim mean
    the bound is loose, slower means it is broken; for a growing quantity the reverse; for a lower
    bound the reverse again. sense="equal" (a predicted rate, not a bound): any miss breaks it.
    A consistent claim inside an interval wider than `max_ci_width` (or infinite) is "undecided".

    Args:
        fit: the measured exponent and its interval.
        variable: the claim's name for the rate variable (for the report).
        claimed: the claimed asymptotic exponent.
        trend: whether the quantity decays or grows in the variable.
        sense: "upper", "lower" or "equal".
        max_ci_width: the widest interval that can confirm a claim.
        offset: theory's finite-size offset for this variable on this grid, if known.

    Returns:
        An ExponentOutcome with its relation and meaning (ok | loose | wrong | undecided).
    """
    shift = offset.offset if offset is not None else 0.0
    u = offset.uncertainty if offset is not None else 0.0
    low, high = fit.ci
    relation = compare_exponent(replace(fit, ci=(low - shift - u, high - shift + u)), claimed, trend)
    # "undecided" is about the data's precision (more seeds would help); the band of an approximate
    # prediction widens what counts as consistent, but no number of seeds narrows it
    if relation == "consistent" and not (np.isfinite(fit.ci_width) and fit.ci_width <= max_ci_width):
        meaning = "undecided"
    else:
        meaning = _meaning(relation, trend, sense)
    return ExponentOutcome(variable, fit, float(claimed), relation, meaning, max_ci_width, offset)


def _meaning(relation: str, trend: str, sense: Sense) -> str:
    if relation == "consistent":
        return "ok"
    if sense == "equal":
        return "wrong"
    data_smaller_eventually = (relation == "faster") == (trend == "decay")
    fine = data_smaller_eventually if sense == "upper" else not data_smaller_eventually
    return "loose" if fine else "wrong"


def best_fit_constant(measured: np.ndarray, shape: np.ndarray) -> dict[str, float]:
    """The constant of an O(.) claim fitted to the seed-means: C_fit = exp(mean log(measured/shape))
    (least squares in log space) and C_cover = max(measured/shape), the smallest constant that puts
    every mean under the bound.

    Args:
        measured: the seed-means.
        shape: the claim's expression with constant 1, at the same points.

    Returns:
        {"C_fit": ..., "C_cover": ...} (nan when no point is usable).
    """
    measured, shape = np.asarray(measured, dtype=np.float64), np.asarray(shape, dtype=np.float64)
    ok = np.isfinite(measured) & np.isfinite(shape) & (measured > 0) & (shape > 0)
    if not ok.any():
        return {"C_fit": float("nan"), "C_cover": float("nan")}
    ratio = measured[ok] / shape[ok]
    return {"C_fit": float(np.exp(np.mean(np.log(ratio)))), "C_cover": float(ratio.max())}


# -- 4. the decision ------------------------------------------------------------------------------
@dataclass
class Decision:
    code: str
    explanation: str
    would_change: str
    notes: list[str] = field(default_factory=list)


def decide(
    *,
    bound: BoundComparison | None = None,
    exponents: Sequence[ExponentOutcome] = (),
    vacuous: np.ndarray | None = None,
    unmet: Sequence[str] = (),
    n_seeds: int | None = None,
    subject: str = "the bound",
    grid_decades: Mapping[str, float] | None = None,
) -> Decision:
    """One verdict code from the pieces of evidence, with a sentence and what would change it.

    Args:
        bound: the pointwise comparison (explicit-constant bounds only), or None.
        exponents: one outcome per rate variable.
        vacuous: per-point vacuity flags, or None.
        unmet: the assumptions the run breaks.
        n_seeds: seeds per grid point (for "about k seeds would decide").
        subject: how the explanation names the bound.
        grid_decades: decades spanned by each rate variable's grid (for "or d decades").

    Returns:
        A Decision: code, explanation (decided variables first), and what would change it.
    """
    wrong = [e for e in exponents if e.meaning == "wrong"]
    loose = [e for e in exponents if e.meaning == "loose"]
    undecided = [e for e in exponents if e.meaning == "undecided"]
    decided = [e for e in exponents if e.meaning != "undecided"]
    all_vacuous = vacuous is not None and len(vacuous) > 0 and bool(np.all(vacuous))
    if unmet:
        return Decision(
            "assumptions_not_met",
            f"The run breaks the claim's assumptions ({'; '.join(unmet)}); {_bound_sentence(bound, subject)}",
            "A run that meets every assumption.",
        )
    if bound is not None and bound.n_beyond:
        return Decision(
            "violated",
            _join(
                f"{bound.n_beyond} of {bound.n_points} points lie beyond {subject} by more than their "
                f"{int(DEFAULT_CONFIDENCE * 100)}% interval (worst ratio {bound.worst_ratio:.3g}).",
                _variables_sentence(exponents),
            ),
            "Nothing short of a different bound or different data.",
        )
    if wrong:
        return Decision(
            "violated",
            _join(
                " ".join(_outcome_sentence(e) for e in wrong),
                _variables_sentence([e for e in exponents if e not in wrong]),
            ),
            "A larger grid that moves the exponent's interval back over the claimed value.",
        )
    if all_vacuous:
        side = "above" if bound is None or bound.direction == "upper" else "below"
        return Decision(
            "vacuous",
            f"{subject.capitalize()} is at or {side} the trivial value at every evaluated "
            f"point, so it says nothing there. {_bound_sentence(bound, subject)} "
            f"{_variables_sentence(exponents)}".strip(),
            "A regime where the bound beats the trivial value (larger N, a smaller constant, a smaller error).",
        )
    if (bound is not None and bound.n_straddling) or undecided:
        return _inconclusive(bound, decided, undecided, n_seeds, grid_decades or {})
    if loose:
        return Decision(
            "not_tight",
            _join(
                _bound_sentence(bound, subject),
                " ".join(_outcome_sentence(e) for e in loose) + " The claim holds but is not tight.",
                _variables_sentence([e for e in exponents if e not in loose]),
            ),
            "A measured exponent interval that covers the claimed one.",
        )
    return Decision(
        "holds",
        _join(_bound_sentence(bound, subject), _variables_sentence(exponents)),
        "A point beyond the bound, or an exponent interval excluding the claimed value.",
    )


def seeds_to_decide(e: ExponentOutcome, *, n_seeds: int | None) -> int | None:
    """Seeds that would narrow the interval to the width that can confirm a claim (width ~ 1/sqrt(seeds)).

    Args:
        e: the undecided ExponentOutcome.
        n_seeds: the seeds it was fitted on.

    Returns:
        The number of seeds (at least one more), or None when it cannot be said.
    """
    if not n_seeds or not np.isfinite(e.fit.ci_width):
        return None
    return max(math.ceil(n_seeds * (e.fit.ci_width / e.max_ci_width) ** 2), n_seeds + 1)


def decades_to_decide(e: ExponentOutcome, decades: float | None) -> float | None:
    """Decades of the rate variable that would do the same at the same points per decade: for a
    least-squares slope through points with independent errors, the width scales as span^(-3/2).

    Args:
        e: the undecided ExponentOutcome.
        decades: the decades the grid spans now.

    Returns:
        The decades needed, or None when it cannot be said.
    """
    if not decades or not np.isfinite(e.fit.ci_width):
        return None
    return decades * (e.fit.ci_width / e.max_ci_width) ** (2 / 3)


def _inconclusive(bound, decided, undecided, n_seeds, grid_decades) -> Decision:
    parts, more = [], []
    if decided:
        parts.append("Decided: " + " ".join(_outcome_sentence(e) for e in decided))
    if bound is not None and bound.n_straddling:
        parts.append(f"{bound.n_straddling} point(s) lie on the wrong side of the bound within their interval.")
    for e in undecided:
        width = (
            f"{e.fit.ci_width:.2g} wide" if np.isfinite(e.fit.ci_width) else "unbounded (too few seeds to bootstrap)"
        )
        parts.append(
            f"Undecided in {e.variable}: {_fit_text(e)} is consistent with the claimed {e.claimed:g} but "
            f"its interval is {width}, wider than the {e.max_ci_width:g} that can confirm an exponent."
        )
        seeds, decades = seeds_to_decide(e, n_seeds=n_seeds), decades_to_decide(e, grid_decades.get(e.variable))
        if seeds:
            more.append(
                f"about {seeds} seeds (now {n_seeds})"
                + (
                    f", or a grid of about {decades:.2g} decades in {e.variable} (now {grid_decades[e.variable]:.2g})"
                    if decades
                    else ""
                )
                + f" would decide {e.variable}"
            )
        elif not np.isfinite(e.fit.ci_width):
            more.append(f"at least 3 seeds (now {n_seeds or 'fewer'}) are needed for any interval in {e.variable}")
    decide_by = (_first_upper("; ".join(more)) + ".") if more else ""
    return Decision("inconclusive", _join(" ".join(parts), decide_by), decide_by or "More seeds or a wider grid.")


def _first_upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _outcome_sentence(e: ExponentOutcome) -> str:
    verb = {
        "ok": "consistent with",
        "loose": "beyond (on the safe side of)",
        "wrong": "beyond, in the direction that breaks the claim,",
        "undecided": "not decided against",
        "wrong_capped": "steeper than",
    }[e.meaning]
    label = {
        "ok": "consistent",
        "loose": "not tight",
        "wrong": "violated",
        "undecided": "undecided",
        "wrong_capped": f"steeper than the bound (not decisive: {e.variable} is capped in this experiment)",
    }[e.meaning]
    return f"{_first_upper(label)} in {e.variable}: the exponent {_fit_text(e)} is {verb} the claimed {e.claimed:g}."


def _variables_sentence(exponents: Sequence[ExponentOutcome]) -> str:
    if not exponents:
        return ""
    return (
        "Per variable: "
        + "; ".join(f"{e.variable} {e.meaning} ({_fit_text(e)} vs {e.claimed:g})" for e in exponents)
        + "."
    )


def _join(*sentences: str) -> str:
    return " ".join(s.strip() for s in sentences if s and s.strip())


def _bound_sentence(bound: BoundComparison | None, subject: str) -> str:
    if bound is None:
        return ""
    state = "Every" if bound.all_within else "Not every"
    if bound.direction == "upper":
        return (
            f"{state} measured point is under {subject} ({bound.n_points} points; worst measured/bound "
            f"ratio {bound.worst_ratio:.3g})."
        )
    margin = float((bound.points["measured"] - bound.points["bound"]).min())
    return (
        f"{state} measured point is above {subject} ({bound.n_points} points; smallest margin "
        f"measured - bound {margin:.3g})."
    )


def _fit_text(e: ExponentOutcome) -> str:
    """'-0.492 [-0.502, -0.481]', with the offset-corrected interval when theory gave an offset."""
    lo, hi = e.fit.ci
    text = f"{e.fit.exponent:.3g} [{lo:.3g}, {hi:.3g}]"
    if np.isfinite(e.resolution):
        text += f" (resolution {e.resolution:.2g})"
    if e.offset is not None:
        estimate, (clo, chi) = e.corrected
        approx = f", +-{e.uncertainty:.2g} as the prediction is approximate" if e.uncertainty else ""
        text += (
            f" (local slope; minus the finite-size offset {e.shift:+.3g} that theory predicts on this grid"
            f"{approx}: {estimate:.3g} [{clo:.3g}, {chi:.3g}])"
        )
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
