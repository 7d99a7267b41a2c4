"""Which family a singular spectrum follows: power law or exponential (the C4 table's rows).

Two straight-line fits of log s_k (k = 1, 2, ... the 1-based index):
  power law    s_k = c k^(-alpha)     <=>  log s_k = log c - alpha log k
  exponential  s_k = c exp(-beta k)   <=>  log s_k = log c - beta k
Both have two parameters and the same response, so AIC and residual sum of squares pick the
same family: the one with the smaller residual in log s. Intervals are the usual t-intervals
from `scipy.stats.linregress` standard errors; spectra have smooth systematic residuals rather
than independent noise, so read them as fit precision, not as sampling intervals.

The fit range: by default every index from k = 1 whose value is above numpy's matrix-rank
tolerance, len(s) * eps * s_max (smaller values are roundoff, not spectrum); `k_min` / `k_max`
restrict it to a head range (e.g. skip the top few and a noise-floor tail).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

from lrkd import theory
from lrkd.errors import require, require_float_in, require_int_in

__all__ = ["SpectrumFit", "fit_spectrum", "NullComparison", "compare_with_null"]

Family = Literal["power_law", "exponential"]


@dataclass(frozen=True)
class SpectrumFit:
    """Both family fits of a spectrum, and the better one (smaller residual in log s)."""

    family: Family
    alpha: float  # power-law exponent: s_k ~ c_power k^(-alpha)
    alpha_ci: tuple[float, float]
    c_power: float
    r2_power: float
    beta: float  # exponential rate: s_k ~ c_exponential exp(-beta k)
    beta_ci: tuple[float, float]
    c_exponential: float
    r2_exponential: float
    k_range: tuple[int, int]  # 1-based indices fitted, inclusive
    n_points: int
    confidence: float = 0.95

    def curve(self, k: Any, family: Family | None = None) -> np.ndarray:
        """Fitted s_k at 1-based indices k, for `family` (default: the chosen one)."""
        k = np.asarray(k, dtype=np.float64)
        family = family or self.family
        require(family in ("power_law", "exponential"), "family", "'power_law' or 'exponential'", family)
        if family == "power_law":
            return self.c_power * k ** (-self.alpha)
        return self.c_exponential * np.exp(-self.beta * k)

    def rstar_exponent(self, variance: str = "fast", *, alpha: float | None = None) -> float:
        """Exponent q of r* ~ N^q that the C4 table predicts for this spectrum's family.

        From `theory.rstar_exponent(family, variance)` ("fast" or "paper" variance term) at the
        fitted alpha (or `alpha`): 1/(2 alpha) or 1/(4 alpha) for a power law, 0 for an exponential
        spectrum (r* grows like log N). NaN for a power law with alpha <= 1/2, where the tail sum
        A(r) diverges and the table does not apply. Evaluate at the ends of `alpha_ci` for a range.
        """
        alpha = self.alpha if alpha is None else float(alpha)
        if self.family == "power_law" and not alpha > 0.5:
            return float("nan")
        expr = theory.rstar_exponent(self.family, variance)
        return float(expr.subs({sym: alpha for sym in expr.free_symbols if sym.name == "alpha"}))


def fit_spectrum(
    singular_values: Any,
    *,
    k_min: int = 1,
    k_max: int | None = None,
    floor: float | None = None,
    confidence: float = 0.95,
) -> SpectrumFit:
    """Fit power-law and exponential families to a singular spectrum and pick the better one.

    `singular_values` is 1-D, finite and >= 0, in index order k = 1, 2, ... (not re-sorted: a
    noisy planted spectrum need not be monotone). Indices k_min..k_max (1-based, inclusive;
    k_max defaults to the last) with s_k > floor (default len(s) * eps * max(s)) are fitted;
    at least 3 points must remain.

    Args:
        singular_values: the spectrum s_1, s_2, ...
        k_min, k_max: the fitted index range (1-based, inclusive).
        floor: s_k at or below it is left out.
        confidence: the intervals' level.

    Returns:
        The SpectrumFit (both families' fits and the better one).
    """
    s = _as_spectrum(singular_values)
    k, log_s = _fit_range(s, k_min, k_max, floor)
    confidence = require_float_in(confidence, "confidence", 0.0, 1.0, open_low=True)
    power = stats.linregress(np.log(k), log_s)
    expo = stats.linregress(k, log_s)
    t = stats.t.ppf(0.5 + confidence / 2.0, k.size - 2)
    power_wins = _rss(power, np.log(k), log_s) <= _rss(expo, k, log_s)
    family: Family = "power_law" if power_wins else "exponential"
    return SpectrumFit(
        family=family,
        alpha=float(-power.slope),
        alpha_ci=_interval(-power.slope, t * power.stderr),
        c_power=float(np.exp(power.intercept)),
        r2_power=float(power.rvalue**2),
        beta=float(-expo.slope),
        beta_ci=_interval(-expo.slope, t * expo.stderr),
        c_exponential=float(np.exp(expo.intercept)),
        r2_exponential=float(expo.rvalue**2),
        k_range=(int(k[0]), int(k[-1])),
        n_points=int(k.size),
        confidence=confidence,
    )


def _as_spectrum(values: Any) -> np.ndarray:
    s = np.asarray(values, dtype=np.float64)
    require(s.ndim == 1, "singular_values", "a 1-D array", f"shape {s.shape}")
    require(s.size >= 3, "singular_values", "at least 3 values", s.size)
    require(
        bool(np.all(np.isfinite(s)) and np.all(s >= 0)),
        "singular_values",
        "finite and >= 0",
        "negative or non-finite values",
    )
    return s


def _fit_range(s: np.ndarray, k_min: int, k_max: int | None, floor: float | None):
    """1-based indices in [k_min, k_max] with s_k above the floor, and their log values."""
    k_min = require_int_in(k_min, "k_min", 1, s.size)
    k_max = s.size if k_max is None else require_int_in(k_max, "k_max", k_min, s.size)
    if floor is None:
        floor = s.size * np.finfo(np.float64).eps * float(s.max())
    floor = require_float_in(floor, "floor", 0.0)
    k = np.arange(1, s.size + 1, dtype=np.float64)
    keep = (k >= k_min) & (k <= k_max) & (s > floor)
    require(
        int(keep.sum()) >= 3,
        "singular_values",
        "at least 3 values above the floor in the range",
        f"{int(keep.sum())} in k = {k_min}..{k_max} above {floor:.3g}",
    )
    return k[keep], np.log(s[keep])


def _rss(fit, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((y - fit.intercept - fit.slope * x) ** 2))


def _interval(center: float, half_width: float) -> tuple[float, float]:
    return (float(center - half_width), float(center + half_width))


# ---------------------------------------------------------------- the random-matrix null
# Weight spectra of trained networks sit largely in a random-matrix bulk, and a decay family fitted
# to a whole spectrum fits the bulk's own shape (a Gaussian matrix comes out "exponential"). So
# each matrix is first set against a Gaussian matrix of the same shape and scale: for an m x n
# matrix with i.i.d. N(0, sigma^2) entries, p = min(m, n), q = max(m, n), b = p/q, the
# singular values divided by sigma sqrt(q) follow the Marchenko-Pastur law on
# [1 - sqrt(b), 1 + sqrt(b)] (Marchenko & Pastur 1967), bulk edge sigma (sqrt(m) + sqrt(n)).
# sigma is estimated robustly from the median singular value against the MP median (a few spikes
# move the median by a few ranks at most). A singular value counts as a spike when it exceeds the
# largest one a Gaussian matrix of that shape reaches with 99% probability: Johnstone's (2001, Ann.
# Stat. 29(2)) Tracy-Widom centring and scaling of the top eigenvalue, at the TW1 0.99 quantile,
# with sigma inflated by 2.33 standard errors of its median-based estimate (`_spike_threshold`).
TW1_QUANTILE_99 = 2.0234  # Tracy-Widom (beta = 1) 0.99 quantile (Tracy & Widom 1996; Johnstone 2001, Table 1)
Z_99 = 2.3263  # one-sided standard normal 0.99 quantile, for the scale's uncertainty
MIN_FAMILY_POINTS = 3  # a two-parameter family needs at least three spikes


@dataclass(frozen=True)
class NullComparison:
    """One spectrum against a Gaussian matrix of the same shape and (estimated) scale."""

    shape: tuple[int, int]
    shape_estimated: bool  # True when the larger dimension was inferred from the bulk
    scale: float  # sigma: entry standard deviation of the matching Gaussian matrix
    mp_edge: float  # sigma (sqrt(m) + sqrt(n))
    threshold: float  # spike threshold (edge + Tracy-Widom and scale margins)
    n_spikes: int
    family_fit: SpectrumFit | None  # decay family fitted to the spikes only (>= 3 of them)

    @property
    def bulk_only(self) -> bool:
        """True when no singular value rises above what a Gaussian matrix reaches."""
        return self.n_spikes == 0

    @property
    def family(self) -> str:
        """The spikes' family, "too_few_spikes" (1 or 2), or "bulk_only"."""
        if self.bulk_only:
            return "bulk_only"
        return self.family_fit.family if self.family_fit is not None else "too_few_spikes"

    def null_quantiles(self, count: int) -> np.ndarray:
        """Expected sorted singular values (largest first) of the matching Gaussian matrix."""
        b = min(self.shape) / max(self.shape)
        levels = (np.arange(count, 0, -1) - 0.5) / count
        return self.scale * np.sqrt(max(self.shape)) * _mp_quantile(b, levels)

    def summary(self) -> str:
        if self.bulk_only:
            return "no structure beyond the bulk"
        fam = self.family.replace("_", " ")
        return f"{self.n_spikes} spike(s) above the bulk; family of the spikes: {fam}"


def compare_with_null(singular_values: Any, shape: tuple[int, int] | None = None) -> NullComparison:
    """Set a singular spectrum against the Marchenko-Pastur null of its shape (see above).

    Args:
        singular_values: 1-D, finite, >= 0; all min(m, n) of them (sorted here, decreasing).
        shape: (m, n) of the matrix. Without it, the larger dimension is inferred by matching the
            bulk's quantiles to MP laws of aspect b = p/q (p = len(singular_values)); the result
            says so (shape_estimated).
    Returns:
        NullComparison: scale, MP edge, spike threshold, spike count and the spikes' family fit.
    """
    s = np.sort(_as_spectrum(singular_values))[::-1]
    p = s.size
    if shape is None:
        q, estimated = _infer_long_side(s), True
    else:
        require(len(shape) == 2 and min(shape) == p, "shape", f"(m, n) with min(m, n) = {p} singular values", shape)
        q, estimated = int(max(shape)), False
    b = p / q
    median_level = _mp_quantile(b, np.array([0.5]))[0]
    scale = float(np.median(s) / (np.sqrt(q) * median_level))
    require(scale > 0, "singular_values", "a spectrum whose median is > 0", "median 0")
    threshold = _spike_threshold(p, q, b, scale, median_level)
    n_spikes = int(np.sum(s > threshold))
    family_fit = fit_spectrum(s[:n_spikes]) if n_spikes >= MIN_FAMILY_POINTS else None
    return NullComparison(
        (p, q) if shape is None else tuple(int(d) for d in shape),
        estimated,
        scale,
        float(scale * (np.sqrt(p) + np.sqrt(q))),
        float(threshold),
        n_spikes,
        family_fit,
    )


def _spike_threshold(p: int, q: int, b: float, scale: float, median_level: float) -> float:
    """Largest singular value a Gaussian p x q matrix reaches with 99%, scale uncertainty included."""
    root = np.sqrt(q - 0.5) + np.sqrt(p - 0.5)
    centre = root**2  # Johnstone's mu for the top eigenvalue of a unit-variance Wishart
    spread = root * (1 / np.sqrt(q - 0.5) + 1 / np.sqrt(p - 0.5)) ** (1 / 3)
    # Bulk singular values are rigid: the one at a fixed level fluctuates by about
    # sqrt(log p) / (pi p g) (g the density there; Gustavsson 2005, Ann. IHP 41, for GUE; the
    # real case doubles the variance, O'Rourke 2010, J. Stat. Phys. 138), far less than an i.i.d.
    # sample median's 1 / (2 g sqrt(p)).
    density = _mp_density(b, median_level)
    relative_se = np.sqrt(np.log(p)) / (np.pi * p * density * median_level)
    return float(scale * (1 + Z_99 * relative_se) * np.sqrt(centre + TW1_QUANTILE_99 * spread))


def _mp_grid(b: float, points: int = 4001) -> tuple[np.ndarray, np.ndarray]:
    """Singular values t in [1 - sqrt(b), 1 + sqrt(b)] (units sigma sqrt(q)) and their MP CDF.

    In t = sqrt(lambda) the density sqrt((a+ - t^2)(t^2 - a-)) / (pi b t) is bounded (even at b = 1),
    so the cumulative trapezoid on a Chebyshev-spaced grid (dense at the square-root ends) is accurate.
    """
    low, high = 1.0 - np.sqrt(b), 1.0 + np.sqrt(b)
    t = low + (high - low) * 0.5 * (1 - np.cos(np.linspace(0.0, np.pi, points)))
    dens = _mp_density(b, t)
    cdf = np.concatenate([[0.0], np.cumsum(0.5 * (dens[1:] + dens[:-1]) * np.diff(t))])
    return t, cdf / cdf[-1]


def _mp_density(b: float, t: Any) -> np.ndarray:
    t = np.asarray(t, dtype=np.float64)
    a_minus, a_plus = (1 - np.sqrt(b)) ** 2, (1 + np.sqrt(b)) ** 2
    inside = np.clip((a_plus - t**2) * (t**2 - a_minus), 0.0, None)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t > 0, np.sqrt(inside) / (np.pi * b * t), 0.0)


def _mp_quantile(b: float, levels: np.ndarray) -> np.ndarray:
    t, cdf = _mp_grid(b)
    return np.interp(levels, cdf, t)


def _infer_long_side(s: np.ndarray) -> int:
    """The larger dimension q whose MP bulk shape best matches the spectrum's central quantiles
    (10%..70% from the bottom, clear of spikes): least squares in log s after fitting the scale."""
    p = s.size
    ascending = s[::-1]
    levels = (np.arange(p) + 0.5) / p
    band = (levels >= 0.1) & (levels <= 0.7) & (ascending > 0)
    best, best_err = p, np.inf
    for q in np.unique(np.round(p * np.geomspace(1.0, 16.0, 60)).astype(int)):
        model = np.log(_mp_quantile(p / q, levels[band]))
        gap = np.log(ascending[band]) - model
        err = float(np.sum((gap - gap.mean()) ** 2))
        if err < best_err:
            best, best_err = int(q), err
    return best
