"""The generic evidence machinery every claim's verdict is built from.

1. `summarize` averages a measured column over seeds at each grid point, with a t-interval
   (diverged runs are excluded and counted, never averaged in).
2. `compare_to_bound` sets those means against a claim's bound evaluated by `theory` at the same
   parameters (`bound_at`): ratio per point, the worst point, and each point's side. Only bounds
   with explicit constants are compared pointwise: an O(.) claim (`Claim.free_constant`) is judged
   by its exponents alone, with its best-fit constant reported (`best_fit_constant`), so its
   verdict does not depend on the data's units.

   The pointwise rule is symmetric: a point's interval (the t-interval of its seed-mean) decides
   its side, never the mean alone. Interval entirely on the claim's side: the point is within the
   bound; entirely on the wrong side: beyond it (the claim is violated); the bound inside the
   interval: the point straddles it, whichever side its mean is on, and the claim is inconclusive
   there (more seeds would decide it). A mean just under a bound that its interval crosses is no
   more evidence for the bound than a mean just over it is against it. Within RTOL of the bound
   counts as on it (roundoff).
3. `fit_mean_power_law` fits the exponents of the seed-mean in one or more variables (bootstrap
   over seeds), and `exponent_outcome` places the claimed exponent relative to that interval,
   read in the claim's sense (a bound that decays slower than the data is loose; data that decay
   slower than the bound break it).

   No tolerance. A local slope on a finite grid is not an asymptotic exponent. Where theory
   predicts the measured quantity itself on the grid that was run (a `Prediction`: the exact
   expected SGD trajectory on the noisy quadratic, the reduced-rank risk), the predicted quantity's
   local slope on the same grid, minus its asymptotic exponent, is the finite-size offset
   (`finite_size_offsets`); the measured interval minus that offset estimates the asymptotic
   exponent, and the claimed exponent is compared with it as it is. A Monte Carlo prediction
   (`Prediction.monte_carlo`: the reduced-rank gap, by many draws from the population) is the
   expectation up to its sampling error: the corrected interval is widened by MC_ERROR_Z standard
   errors of the predicted slope (delta method on the draws), an honest bound on what is left. An
   approximate prediction (`Prediction.exact=False`) is trusted in sign and size only, so the
   corrected interval is widened by the offset's own size. Without a prediction the local slope is
   compared directly, and the verdict says so. An experiment that declares it has none
   (`NoPrediction`, c1_lowrank) has its interval widened by a bound on the unknown offset read from
   the data: how far the local slope still moves across the grid (`slope_drift`), so a claimed
   exponent closer than that to the measured one is neither confirmed nor excluded by chance of
   the seeds.

   Resolution: the interval's half-width is the smallest exponent difference the run can tell
   apart (a claim farther than that from the estimate is excluded). A claimed exponent inside an
   interval wider than MAX_EXPONENT_CI_WIDTH is not confirmed: the outcome is "undecided", never
   "ok". An exponent outside the interval is decisive whatever its width.

4. `decide` turns these into one code of validate.verdict.CODES, in the precedence of claims.md:
   assumptions not met > violated > vacuous > inconclusive > holds, not tight > holds.
   Variables are combined as a conjunction, and every variable's outcome is reported (numbers
   `outcome_<v>`, `exponent_<v>`, `resolution_<v>`; the explanation leads with the decided ones).
   A claim in k rate variables is violated when any one interval excludes it, so each interval
   that decides it is taken at level 1 - (1 - DEFAULT_CONFIDENCE)/k (`conjunction_level`,
   Bonferroni): a true claim is then wrongly rejected at most 5% of the time however many
   variables it has (at 95% each, a two-variable claim would be rejected up to 10% of the time,
   at any number of seeds). Whether an interval is narrow enough to confirm a claim
   (MAX_EXPONENT_CI_WIDTH) is a statement about the data's precision, read at DEFAULT_CONFIDENCE
   whatever the number of variables:
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


def conjunction_level(k: int, confidence: float = DEFAULT_CONFIDENCE) -> float:
    """The level of each of k exponent intervals that decide a claim together (module rule 4).

    Args:
        k: the claim's rate variables.
        confidence: the level of the claim's verdict as a whole.

    Returns:
        1 - (1 - confidence)/k (Bonferroni); `confidence` itself for k <= 1.
    """
    return 1.0 - (1.0 - confidence) / max(int(k), 1)


# A Monte Carlo prediction's slope is trusted to within this many of its standard errors: a normal
# deviate beyond 4 has probability 6e-5, so the widening bounds the remaining sampling error with
# room to spare, and it stays small (a few thousand draws put one standard error near 0.001).
MC_ERROR_Z = 4.0


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
        columns: {symbol: column of `frame`} (symbols the claim does not use are skipped).
        constants: {symbol: value} for symbols no column gives.

    Returns:
        The bound, one value per row.
    """
    # a check's columns are its experiment's vocabulary; a claim may read only some of them
    used = set(claim.free_parameters)
    params = {s: frame[column].to_numpy(dtype=np.float64) for s, column in columns.items() if s in used}
    params.update(constants or {})
    return np.broadcast_to(claim.bound(**params), (len(frame),)).astype(np.float64)


@dataclass(frozen=True)
class BoundComparison:
    """Measured means set against a bound at every grid point."""

    points: pd.DataFrame  # summary rows + bound, ratio, beyond, straddles, exceeds (bools)
    direction: Direction
    n_points: int
    n_beyond: int  # the whole interval on the wrong side of the bound
    n_straddling: int  # the bound inside the point's interval (mean on either side)
    worst: dict[str, Any]  # the point with the largest measured/bound (upper) or bound/measured
    worst_ratio: float

    @property
    def all_within(self) -> bool:
        return self.n_beyond == 0 and self.n_straddling == 0


def compare_to_bound(points: pd.DataFrame, bound: np.ndarray, direction: Direction) -> BoundComparison:
    """Set summary points against a bound: bound, ratio and side per point, and the worst point.

    The side is read from each point's interval, the same way on both sides of the bound (the
    module's rule 2): `beyond` when the whole interval is on the wrong side, `straddles` when the
    bound lies inside the interval (the mean may be on either side), within otherwise. `exceeds`
    marks a mean on the wrong side (the figure's marker).

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
        reaches_wrong_side = pts["measured_high"] > pts["bound"] + slack
        wrong_side = pts["measured"] > pts["bound"] + slack
    else:
        pts["ratio"] = pts["bound"] / pts["measured"]
        pts["beyond"] = pts["measured_high"] < pts["bound"] - slack
        reaches_wrong_side = pts["measured_low"] < pts["bound"] - slack
        wrong_side = pts["measured"] < pts["bound"] - slack
    pts["straddles"] = reaches_wrong_side & ~pts["beyond"]
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


@contextmanager
def outside_fit_cache() -> Iterator[None]:
    """Within the block no `fit_cache` memo is seen, as in a user's own call of a check: every fit
    is computed afresh (calibration checks its planted user claims this way, on the user's path)."""
    token = _FITS.set(None)
    try:
        yield
    finally:
        _FITS.reset(token)


def _fit_mean_power_law(
    df: pd.DataFrame, variables: Sequence[str], measured: str, *, group, confidence, n_resamples, seed
) -> dict[str, ExponentFit]:
    table = _group_means(df, variables, measured, group)
    values = table.to_numpy(dtype=np.float64)  # (points, groups)
    design = _design(table.index, variables)
    coef = _log_mean_fit(values, design, np.arange(values.shape[1]))
    usable_points = int(np.sum(_positive_means(values)))
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


def _group_means(df: pd.DataFrame, variables: Sequence[str], measured: str, group: str = "seed") -> pd.DataFrame:
    """The mean of `measured` per value of `variables` (rows, sorted) and group (columns): what the
    log-mean fit averages over the groups, and theory's offsets must be fitted at the same points."""
    return df.pivot_table(index=list(variables), columns=group, values=measured, aggfunc="mean")


def _positive_means(values: np.ndarray) -> np.ndarray:
    """The points (rows of `_group_means`) the log-mean fit uses: a finite, positive mean over the groups."""
    with empty_slices_expected():  # a grid point whose every run diverged has no mean
        return _loggable(np.nanmean(values, axis=1))


def _loggable(means: np.ndarray) -> np.ndarray:
    """Means a log-mean fit can take the logarithm of: finite and > 0 (a mean gap can be <= 0)."""
    return np.isfinite(means) & (means > 0)


def _design(index: pd.Index, variables: Sequence[str]) -> np.ndarray:
    return np.column_stack(
        [np.ones(len(index))] + [np.log(index.get_level_values(v).to_numpy(dtype=np.float64)) for v in variables]
    )


def _log_mean_fit(values: np.ndarray, design: np.ndarray, idx: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"), empty_slices_expected():
        means = np.nanmean(values[:, idx], axis=1)
        keep = _loggable(means)
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
             the first run there, e.g. the step size used at that T) -> expected mean per row; for
             a Monte Carlo prediction, the draws: an array (draws, rows) whose column means
             estimate the expectation.
    asymptotic: {rate column: the predicted quantity's asymptotic exponent in it}.
    exact: True when theory gives the expectation itself (the SGD trajectory on the quadratic, or
           a Monte Carlo estimate of it); False for an approximation, whose offset is trusted in
           sign and size only: the comparison then allows any correction between none and twice
           the predicted one (the offset's own size is its uncertainty).
    monte_carlo: True when `predict` returns draws: the offset is computed from their means and
           carries their sampling error (MC_ERROR_Z standard errors of the predicted slope).
    """

    measured: str
    asymptotic: Mapping[str, float]
    predict: Callable[[pd.DataFrame], np.ndarray]
    source: str
    exact: bool = True
    monte_carlo: bool = False


@dataclass(frozen=True)
class NoPrediction:
    """An experiment's declaration that theory predicts no value of `measured` on its grid (the
    c1_lowrank student: minibatch SGD on a finite sample, whose expected trajectory has no closed
    form). Its local slopes are compared with a claim as they are, the interval widened by
    `slope_drift`, a bound on the unknown finite-size offset read from the data; `source` says why
    there is no prediction."""

    measured: str
    source: str


@dataclass(frozen=True)
class FiniteSizeOffset:
    """How far the predicted quantity's local slope on the grid sits from its asymptotic exponent
    (predicted=False: no prediction, the offset is unknown and `error` bounds it)."""

    variable: str
    predicted_slope: float
    asymptotic: float
    source: str
    exact: bool = True
    # a bound on the offset's error: MC_ERROR_Z standard errors of a Monte Carlo prediction's slope,
    # or, without a prediction, the whole unknown offset (`slope_drift`)
    error: float = 0.0
    predicted: bool = True

    @property
    def uncertainty(self) -> float:
        """How far the true offset may lie from this one: 0 for an exact prediction, the offset's
        size for an approximate one, plus `error` (a Monte Carlo bound, or the unknown offset)."""
        return (0.0 if self.exact else abs(self.offset)) + self.error

    @property
    def offset(self) -> float:
        if not self.predicted:
            return 0.0
        delta = self.predicted_slope - self.asymptotic
        return 0.0 if abs(delta) < 1e-12 else delta  # an exact power law's slope, up to roundoff


def _measured_points(table: pd.DataFrame, variables: Sequence[str], measured: str, n_points: int) -> np.ndarray:
    """Which values of `variables` (sorted) the measured log-mean fit uses (every one when the table
    has no `measured` or `seed` column to tell)."""
    if measured not in table or "seed" not in table:
        return np.ones(n_points, dtype=bool)
    means = _group_means(table, variables, measured).to_numpy(dtype=np.float64)
    return _positive_means(means) if len(means) == n_points else np.ones(n_points, dtype=bool)


def slope_drift(
    df: pd.DataFrame, variables: Sequence[str], variable: str, measured: str, *, confidence: float = DEFAULT_CONFIDENCE
) -> float:
    """A bound on how far the local slope in `variable` may sit from its limit: the largest change
    between its lower and upper half of the grid that their intervals allow.

    The grid's values of `variable` are split into a lower and an upper half (sharing the middle
    value(s)), the seed-mean exponents refitted on each (`fit_mean_power_law`, the other variables
    kept), and the bound is max(|high_upper - low_lower|, |low_upper - high_lower|): the drift's
    largest size inside both intervals. If the local slope approaches its limit monotonically with
    corrections falling like variable^(-1/2) or faster (SGD on a quadratic with eta ~ T^(-1/2): the
    modes' transients fall as 1/(eta h T)), the full grid's slope is within about one such drift of
    the limit. More seeds narrow both intervals, so the bound shrinks toward the true drift.

    Args:
        df: one row per run.
        variables: the rate columns of the fit.
        variable: the one whose drift is bounded.
        measured: the measured column.
        confidence: the halves' interval level.

    Returns:
        The bound (inf with fewer than 3 grid values or 3 seeds: no drift can be read).
    """
    values = np.sort(df[variable].unique())
    k = len(values)
    if k < 3:
        return float("inf")
    lower, upper = values[: k // 2 + 1], values[(k - 1) // 2 :]
    halves = [
        fit_mean_power_law(df[df[variable].isin(part)], variables, measured, confidence=confidence)[variable].ci
        for part in (lower, upper)
    ]
    (low_l, high_l), (low_u, high_u) = halves
    drift = max(abs(high_u - low_l), abs(low_u - high_l))
    return float(drift) if np.isfinite(drift) else float("inf")


def finite_size_offsets(
    prediction: Prediction | NoPrediction | None,
    table: pd.DataFrame,
    variables: Sequence[str],
    grid: Sequence[str] = (),
) -> dict[str, FiniteSizeOffset]:
    """The predicted local slopes in `variables`, fitted with the design `fit_mean_power_law` uses
    (least squares of log prediction on the log rate columns at the same grid points).

    The prediction is averaged as the measured fit averages the data: `fit_mean_power_law` takes at
    each value of `variables` the mean over every run there, i.e. over the other `grid` columns too
    (an N-exponent read on a rank x N grid is the exponent of the rank-averaged gap). So theory is
    evaluated at every grid point (`variables` and `grid` together) and averaged over the points
    that share the values of `variables`, before its slope is fitted.

    A Monte Carlo prediction is fitted through the means of its draws; the slope's standard error
    follows by the delta method from the draws' covariance (points sharing draws, e.g. every rank of
    one reduced-rank fit, are correlated and it counts that), and MC_ERROR_Z of them is the
    offset's `error`.

    With a `NoPrediction` the offset is unknown: 0, with `slope_drift` as its error bound.

    Args:
        prediction: theory's prediction for the measured column, a NoPrediction, or None (then {}).
        table: the runs (one row per run) the measured fit uses.
        variables: rate columns, in the fit's order.
        grid: the columns that define a grid point besides `variables` (the others the runs
            vary over; seeds excluded).

    Returns:
        {column: FiniteSizeOffset} for the columns the prediction covers; {} when the prediction
        is not finite and positive at every point the measured fit uses (a slope fitted through
        fewer points than the measured one is not its offset). Points whose measured mean is not
        positive, which the measured fit leaves out, are left out of theory's slope too.
    """
    if isinstance(prediction, NoPrediction):
        drift = {v: slope_drift(table, variables, v, prediction.measured) for v in variables}
        return {v: FiniteSizeOffset(v, 0.0, 0.0, prediction.source, error=drift[v], predicted=False) for v in variables}
    if prediction is None or not set(variables) <= set(prediction.asymptotic):
        return {}
    variables = list(variables)
    cells = table.groupby(list(dict.fromkeys([*variables, *grid])), sort=True).first().reset_index()
    groups = cells.groupby(variables, sort=True)
    # averaging matrix (groups x cells): each value of `variables` is the mean over its grid points
    average = np.zeros((groups.ngroups, len(cells)))
    average[groups.ngroup().to_numpy(), np.arange(len(cells))] = 1.0
    average /= average.sum(axis=1, keepdims=True)
    values = np.asarray(prediction.predict(cells), dtype=np.float64)
    draws = values @ average.T if prediction.monte_carlo else None
    predicted = draws.mean(axis=0) if draws is not None else average @ values
    design = _design(pd.MultiIndex.from_frame(groups.first().reset_index()[variables]), variables)
    # the measured fit leaves out the points whose mean is not positive (no logarithm): theory's slope
    # is fitted through the same points, or the offset is a slope over another range
    measured = _measured_points(table, variables, prediction.measured, groups.ngroups)
    predicted, design = predicted[measured], design[measured]
    draws = draws[:, measured] if draws is not None else None
    if measured.sum() < design.shape[1] or not np.all(np.isfinite(predicted) & (predicted > 0)):
        return {}
    solve = np.linalg.pinv(design)  # coefficients = solve @ log(prediction): least squares
    coef = solve @ np.log(predicted)
    errors = np.zeros(len(coef))
    if draws is not None:
        # delta method: cov(log mean) = cov(draws) / (n_draws mean_i mean_j); then through `solve`
        cov_log = np.atleast_2d(np.cov(draws, rowvar=False)) / (len(draws) * np.outer(predicted, predicted))
        errors = MC_ERROR_Z * np.sqrt(np.clip(np.einsum("ki,ij,kj->k", solve, cov_log, solve), 0.0, None))
    return {
        v: FiniteSizeOffset(
            v,
            float(coef[k]),
            float(prediction.asymptotic[v]),
            prediction.source,
            prediction.exact,
            error=float(errors[k]),
        )
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
    precision_width: float | None = None  # the width set against max_ci_width, when not the fit's own

    @property
    def confirm_width(self) -> float:
        """The interval width that decides whether the data can confirm the claim: the fit's at
        DEFAULT_CONFIDENCE (a conjunction's fit is wider), plus the drift bound without a prediction."""
        return self.fit.ci_width if self.precision_width is None else self.precision_width

    @property
    def shift(self) -> float:
        return self.offset.offset if self.offset is not None else 0.0

    @property
    def uncertainty(self) -> float:
        return self.offset.uncertainty if self.offset is not None else 0.0

    @property
    def corrected(self) -> tuple[float, tuple[float, float]]:
        """The asymptotic exponent the measured local slope implies: (estimate, interval), the
        interval widened by the offset's uncertainty (an approximate prediction's size, a Monte
        Carlo one's error bound)."""
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
        if self.offset is not None and not self.offset.predicted:
            out[f"offset_bound_{v}"] = self.uncertainty  # no prediction: the unknown offset's bound
            out[f"widened_exponent_{v}_ci"] = list(self.corrected[1])
        elif self.offset is not None:
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
    precision: ExponentFit | None = None,
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
        precision: the same fit at DEFAULT_CONFIDENCE when `fit` is at a conjunction's level (its
            width decides whether the data can confirm; default: `fit` itself).

    Returns:
        An ExponentOutcome with its relation and meaning (ok | loose | wrong | undecided).
    """
    shift = offset.offset if offset is not None else 0.0
    u = offset.uncertainty if offset is not None else 0.0
    low, high = fit.ci
    relation = compare_exponent(replace(fit, ci=(low - shift - u, high - shift + u)), claimed, trend)
    # "undecided" is about the data's precision (more seeds would help); the band of an approximate
    # prediction widens what counts as consistent, but no number of seeds narrows it. Without a
    # prediction the drift bound is the data's own precision too (more seeds narrow it): it counts.
    width = (precision or fit).ci_width + (2 * u if offset is not None and not offset.predicted else 0.0)
    if relation == "consistent" and not (np.isfinite(width) and width <= max_ci_width):
        meaning = "undecided"
    else:
        meaning = _meaning(relation, trend, sense)
    return ExponentOutcome(variable, fit, float(claimed), relation, meaning, max_ci_width, offset, float(width))


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
    if not n_seeds or not np.isfinite(e.confirm_width):
        return None
    return max(math.ceil(n_seeds * (e.confirm_width / e.max_ci_width) ** 2), n_seeds + 1)


def decades_to_decide(e: ExponentOutcome, decades: float | None) -> float | None:
    """Decades of the rate variable that would do the same at the same points per decade: for a
    least-squares slope through points with independent errors, the width scales as span^(-3/2).

    Args:
        e: the undecided ExponentOutcome.
        decades: the decades the grid spans now.

    Returns:
        The decades needed, or None when it cannot be said.
    """
    if not decades or not np.isfinite(e.confirm_width):
        return None
    return decades * (e.confirm_width / e.max_ci_width) ** (2 / 3)


def _inconclusive(bound, decided, undecided, n_seeds, grid_decades) -> Decision:
    parts, more = [], []
    if decided:
        parts.append("Decided: " + " ".join(_outcome_sentence(e) for e in decided))
    if bound is not None and bound.n_straddling:
        parts.append(f"{bound.n_straddling} point(s) have the bound inside their interval (on either side of it).")
    for e in undecided:
        width = (
            f"{e.confirm_width:.2g} wide" if np.isfinite(e.confirm_width) else "unbounded (too few seeds to bootstrap)"
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
        elif not np.isfinite(e.confirm_width):
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
    if e.offset is not None and not e.offset.predicted:
        _, (clo, chi) = e.corrected
        text += (
            f" (local slope; no prediction on this grid, so widened by {e.uncertainty:.2g}, how far the local "
            f"slope still moves across it: [{clo:.3g}, {chi:.3g}])"
        )
    elif e.offset is not None:
        estimate, (clo, chi) = e.corrected
        approx = ""
        if e.uncertainty:
            why = "the prediction is approximate" if not e.offset.exact else "the prediction's Monte Carlo error bound"
            approx = f", +-{e.uncertainty:.2g} as {why}"
        text += (
            f" (local slope; minus the finite-size offset {e.shift:+.3g} that theory predicts on this grid"
            f"{approx}: {estimate:.3g} [{clo:.3g}, {chi:.3g}])"
        )
    return text


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return value
