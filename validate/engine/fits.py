"""Power-law exponent fits with bootstrap confidence intervals (rates of C1, C2, C4).

`fit_exponent` fits y ~ exp(intercept) * x^exponent by least squares of log y on log x, pooling
every usable point (with the same number of points per x, the pooled slope equals the slope
through the per-x means of log y, i.e. through geometric means). Its confidence interval comes
from a nonparametric bootstrap (Efron 1979; Efron & Tibshirani 1993, ch. 13) drawn with
`scipy.stats.bootstrap`: when `groups` is given (e.g. one group per seed, each a whole curve),
whole groups are resampled with replacement and the line refitted, which respects the
correlation of points within a run; otherwise (x, y) pairs are resampled. Few resampling
units make plain percentile intervals too narrow (for 8 units a nominal 95% interval covers about
90%), so we use Hesterberg's expanded percentile interval (Hesterberg 2015, Am. Stat. 69(4),
"What teachers should know about the bootstrap", sec. 4.3): the percentile interval at the level
whose normal quantile is sqrt(n/(n-1)) t_{n-1}, the t-interval's small-sample widening.

Points are dropped before fitting, and the result says how many and why: non-finite y
(diverged runs), non-positive y (log undefined), and y at or below a floating-point floor, as
diffrax's order tests stop at the floor. The default floor, 100 * eps * max(y), catches values
at machine zero relative to the curve's own scale; an error that stalls at the roundoff of a
larger reference value (eps * |exact|) needs the caller's `floor`.

`compare_exponent` places a claimed exponent relative to the interval.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

import numpy as np
from scipy import stats

from lrkd.errors import require, require_float_in, require_int_in

__all__ = [
    "ExponentFit",
    "fit_exponent",
    "compare_exponent",
    "expanded_level",
    "bootstrap_replicates",
    "empty_slices_expected",
]

FLOOR_FACTOR = 100.0  # default floor: FLOOR_FACTOR * eps * max(y)
BATCH = 500  # resamples per vectorized statistic call: bounds memory for large sweeps


@dataclass(frozen=True)
class ExponentFit:
    """y ~ exp(intercept) * x^exponent, with a bootstrap interval for the exponent."""

    exponent: float
    ci: tuple[float, float]  # (low, high); (-inf, inf) when too few units to bootstrap
    intercept: float  # natural-log-space constant
    n_points: int  # points used in the fit
    n_groups: int  # resampling units: groups, or points when no groups were given
    excluded: dict[str, int] = field(default_factory=dict, hash=False)  # reason -> points dropped
    notes: tuple[str, ...] = ()  # sentences a report can print as they are
    confidence: float = 0.95

    def predict(self, x: Any) -> np.ndarray:
        """The fitted curve exp(intercept) * x^exponent at x."""
        return np.exp(self.intercept) * np.asarray(x, dtype=np.float64) ** self.exponent

    @property
    def ci_width(self) -> float:
        return self.ci[1] - self.ci[0]


def fit_exponent(
    x: Any,
    y: Any,
    groups: Any = None,
    *,
    floor: float | None = None,
    confidence: float = 0.95,
    n_resamples: int = 4000,
    seed: int = 0,
) -> ExponentFit:
    """Least-squares exponent of y against x (log-log) with a bootstrap confidence interval.

    x must be finite and positive (it is the design: steps T, sample count N, ...). y values
    that are non-finite, non-positive, or at or below `floor` (default 100 * eps * max(y)) are
    excluded and counted in `.excluded`, with a sentence in `.notes`. `groups` (one label per
    point, e.g. the seed) switches to a group bootstrap that resamples whole groups.

    Args:
        x, y: the points (array-likes of one length).
        groups: one resampling label per point, or None (resample points).
        floor: y at or below it is excluded.
        confidence: the interval's level; n_resamples, seed: the bootstrap's.

    Returns:
        The ExponentFit.

    Raises:
        InputError: fewer than 2 points or 2 distinct usable x, or a bad option.
    """
    x, y, labels = _as_series(x, y, groups)
    confidence = require_float_in(confidence, "confidence", 0.0, 1.0, open_low=True)
    require(confidence < 1.0, "confidence", "a number in (0, 1)", confidence)
    n_resamples = require_int_in(n_resamples, "n_resamples", 100)
    keep, excluded = _usable(y, floor)
    lx, ly, labels = np.log(x[keep]), np.log(y[keep]), labels[keep]
    require(
        np.unique(lx).size >= 2,
        "x",
        "at least 2 distinct values among usable points",
        f"{np.unique(lx).size} distinct of {lx.size} usable",
    )
    slope, intercept = _ols(lx, ly)
    units, unit_stats = _unit_sums(lx, ly, labels)
    ci, ci_note = _bootstrap_slope_ci(unit_stats, groups is not None, confidence, n_resamples, seed)
    notes = _exclusion_notes(excluded, y.size) + [_pooling_note(groups is not None, units), ci_note]
    return ExponentFit(
        float(slope), ci, float(intercept), int(lx.size), units, excluded, tuple(n for n in notes if n), confidence
    )


# A slope fitted by least squares in log space carries the solve's round-off (a few ulps): a quantity
# that follows a power law exactly (a deterministic column, e.g. the C1 rule's step sqrt(2 Delta/(L
# sigma^2 T)), one value per seed) gets a zero-width interval one ulp off its exponent, -0.5000000000000001
# for T^-1/2, which must read as the claim it equals, not as "faster". Real intervals are >= 1e-3 wide.
EXPONENT_ATOL = 1e-9


def compare_exponent(fit: ExponentFit, claimed: float, direction: Literal["decay", "growth"]) -> str:
    """Where a claimed exponent lies relative to the fit's interval, read in the quantity's own direction:
      direction="decay"  (y falls with x, claimed < 0): interval entirely below claimed ->
                         "faster" (decays faster than claimed); entirely above -> "slower".
      direction="growth" (y rises with x, claimed > 0): interval entirely above claimed ->
                         "faster" (grows faster); entirely below -> "slower".
    An infinite interval (too few units) is always "consistent": check `fit.ci_width` before
    reading "consistent" as evidence.

    Args:
        fit: the ExponentFit.
        claimed: the claimed exponent.
        direction: "decay" or "growth".

    Returns:
        "consistent" when claimed is inside the interval (ends included, within EXPONENT_ATOL), else
        "faster" or "slower".
    """
    require(direction in ("decay", "growth"), "direction", "'decay' or 'growth'", direction)
    claimed = float(claimed)
    require(np.isfinite(claimed), "claimed", "a finite exponent", claimed)
    low, high = fit.ci
    if low - EXPONENT_ATOL <= claimed <= high + EXPONENT_ATOL:
        return "consistent"
    steeper_below = direction == "decay"
    below = high < claimed
    return "faster" if below == steeper_below else "slower"


def expanded_level(confidence: float, n_units: int, df: int) -> float:
    """Percentile level whose normal quantile is sqrt(n/df) * t_{df} at `confidence` (Hesterberg).

    n/df is the t-interval's variance correction: n/(n-1) for a mean, n/(n-2) for a regression
    slope through n points.

    Args:
        confidence: the nominal level.
        n_units: the resampled units (n).
        df: the degrees of freedom.

    Returns:
        The expanded level, in (0, 1).
    """
    t = stats.t.ppf(0.5 + confidence / 2.0, df)
    return float(2.0 * stats.norm.cdf(np.sqrt(n_units / df) * t) - 1.0)


def bootstrap_replicates(
    statistic: Callable[[np.ndarray], np.ndarray], n_units: int, n_resamples: int, *, seed: int
) -> np.ndarray:
    """Bootstrap replicates of `statistic` over resampled unit indices, via scipy.stats.bootstrap.

    `statistic` receives an integer array (..., n_units) of unit indices drawn with replacement
    and returns one value (or a leading axis of values) per resample. Degenerate resamples may
    return NaN (callers drop them).

    Args:
        statistic: indices -> values.
        n_units: the number of units resampled.
        n_resamples: the number of resamples.
        seed: the generator's seed.

    Returns:
        The replicates, resamples on the last axis.
    """

    def vectorized(idx: np.ndarray, axis: int) -> np.ndarray:  # scipy passes the axis
        return statistic(np.moveaxis(idx, axis, -1))

    with warnings.catch_warnings():
        # scipy also computes its own interval, which we do not use; it warns when that interval is
        # degenerate or NaN (a constant statistic, or NaN resamples that the callers drop).
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        res = stats.bootstrap(
            (np.arange(n_units),),
            vectorized,
            n_resamples=n_resamples,
            batch=BATCH,
            vectorized=True,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    return np.asarray(res.bootstrap_distribution)


# numpy's nan-reductions (nanmean, nanstd, nanpercentile, ...) warn on a slice with no finite value
# or too few for ddof; such a slice comes out NaN, which is how a grid point no seed ran, or a
# resample that drew none of its runs, reads. Only these messages: any other warning surfaces.
_EMPTY_SLICE = r"Mean of empty slice|All-NaN slice encountered|Degrees of freedom <= 0 for slice"


@contextlib.contextmanager
def empty_slices_expected():
    """Silence numpy's empty-slice warnings (and only those) where a NaN result is handled.

    Returns:
        A context manager.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=_EMPTY_SLICE, category=RuntimeWarning)
        yield


def percentile_interval(replicates: np.ndarray, level: float) -> tuple[float, float]:
    """Central percentile interval of the finite replicates at `level`.

    Args:
        replicates: bootstrap replicates (non-finite ones are dropped).
        level: the interval's level.

    Returns:
        (low, high); (-inf, inf) when no replicate is finite.
    """
    finite = replicates[np.isfinite(replicates)]
    if finite.size == 0:
        return (-np.inf, np.inf)
    low, high = np.percentile(finite, [50.0 * (1 - level), 50.0 * (1 + level)])
    return (float(low), float(high))


# ---------------------------------------------------------------- helpers


def _as_series(x: Any, y: Any, groups: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=np.float64).ravel()
    y = np.asarray(y, dtype=np.float64).ravel()
    require(x.size >= 2, "x", "at least 2 points", x.size)
    require(y.size == x.size, "y", f"the same length as x ({x.size})", y.size)
    require(
        bool(np.all(np.isfinite(x) & (x > 0))),
        "x",
        "finite and > 0 (log-log fit)",
        x[~(np.isfinite(x) & (x > 0))][:3].tolist(),
    )
    if groups is None:
        return x, y, np.arange(x.size)
    labels = np.asarray(groups).ravel()
    require(labels.size == x.size, "groups", f"one label per point ({x.size})", labels.size)
    return x, y, labels


def _usable(y: np.ndarray, floor: float | None) -> tuple[np.ndarray, dict[str, int]]:
    """Mask of points to fit and the count dropped for each reason (first reason wins)."""
    finite = np.isfinite(y)
    positive = finite & (y > 0)
    require(bool(np.any(positive)), "y", "finite and > 0 at 2 or more points", "none usable")
    if floor is None:
        floor = FLOOR_FACTOR * np.finfo(np.float64).eps * float(np.max(y[positive]))
    floor = require_float_in(floor, "floor", 0.0)
    keep = positive & (y > floor)
    excluded = {
        "nonfinite": int(np.sum(~finite)),
        "nonpositive": int(np.sum(finite & ~positive)),
        "floor": int(np.sum(positive & ~keep)),
    }
    require(
        int(keep.sum()) >= 2,
        "y",
        "usable (finite, > 0, above the floor) at 2 or more points",
        f"{int(keep.sum())} usable; excluded {excluded}",
    )
    return keep, {k: v for k, v in excluded.items() if v}


def _ols(lx: np.ndarray, ly: np.ndarray) -> tuple[float, float]:
    slope, intercept = np.polyfit(lx, ly, 1)
    return float(slope), float(intercept)


def _unit_sums(lx: np.ndarray, ly: np.ndarray, labels: np.ndarray) -> tuple[int, np.ndarray]:
    """Per-unit sufficient statistics (n, Sx, Sy, Sxx, Sxy) for fast refits on resamples."""
    _, inverse = np.unique(labels, return_inverse=True)
    n_units = int(inverse.max()) + 1
    columns = [np.ones_like(lx), lx, ly, lx * lx, lx * ly]
    sums = np.stack([np.bincount(inverse, weights=c, minlength=n_units) for c in columns], axis=1)
    return n_units, sums


def slope_from_sums(sums: np.ndarray) -> np.ndarray:
    """OLS slope from summed (n, Sx, Sy, Sxx, Sxy) along the last axis.

    Args:
        sums: the five sums on the last axis.

    Returns:
        The slopes (NaN where x is constant).
    """
    n, sx, sy, sxx, sxy = np.moveaxis(sums, -1, 0)
    denom = n * sxx - sx * sx
    scale = np.maximum(n * sxx, 1e-300)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 1e-12 * scale, (n * sxy - sx * sy) / denom, np.nan)


def _bootstrap_slope_ci(
    unit_stats: np.ndarray, grouped: bool, confidence: float, n_resamples: int, seed: int
) -> tuple[tuple[float, float], str]:
    n_units = unit_stats.shape[0]
    df = n_units - 1 if grouped else n_units - 2
    if df < 2:
        return (-np.inf, np.inf), (
            f"No confidence interval: {n_units} resampling units are too few to bootstrap (need 3 groups or 4 points)."
        )
    replicates = bootstrap_replicates(
        lambda idx: slope_from_sums(unit_stats[idx].sum(axis=-2)), n_units, n_resamples, seed=seed
    )
    level = expanded_level(confidence, n_units, df)
    n_bad = int(np.sum(~np.isfinite(replicates)))
    unit = "groups" if grouped else "points"
    note = (
        f"{confidence:.0%} interval: expanded percentile bootstrap over {n_units} {unit} "
        f"({n_resamples} resamples, percentile level {level:.6g})."
    )
    if n_bad:
        note += f" {n_bad} degenerate resamples (a single x value) were dropped."
    return percentile_interval(replicates, level), note


def _exclusion_notes(excluded: dict[str, int], total: int) -> list[str]:
    words = {
        "nonfinite": "non-finite (diverged)",
        "nonpositive": "non-positive",
        "floor": "at or below the floating-point floor",
    }
    return [f"Excluded {count} of {total} points: y {words[reason]}." for reason, count in excluded.items()]


def _pooling_note(grouped: bool, n_units: int) -> str:
    if not grouped:
        return "Least squares of log y on log x over all usable points."
    return (
        f"Least squares of log y on log x pooled over {n_units} groups (equal to a fit through "
        "per-x geometric means when every group has the same x values)."
    )
