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

import theory

from lrkd.errors import require, require_float_in, require_int_in

__all__ = ["SpectrumFit", "fit_spectrum"]

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
        alpha=float(-power.slope), alpha_ci=_interval(-power.slope, t * power.stderr),
        c_power=float(np.exp(power.intercept)), r2_power=float(power.rvalue**2),
        beta=float(-expo.slope), beta_ci=_interval(-expo.slope, t * expo.stderr),
        c_exponential=float(np.exp(expo.intercept)), r2_exponential=float(expo.rvalue**2),
        k_range=(int(k[0]), int(k[-1])), n_points=int(k.size), confidence=confidence,
    )


def _as_spectrum(values: Any) -> np.ndarray:
    s = np.asarray(values, dtype=np.float64)
    require(s.ndim == 1, "singular_values", "a 1-D array", f"shape {s.shape}")
    require(s.size >= 3, "singular_values", "at least 3 values", s.size)
    require(bool(np.all(np.isfinite(s)) and np.all(s >= 0)), "singular_values",
            "finite and >= 0", "negative or non-finite values")
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
    require(int(keep.sum()) >= 3, "singular_values", "at least 3 values above the floor in the range",
            f"{int(keep.sum())} in k = {k_min}..{k_max} above {floor:.3g}")
    return k[keep], np.log(s[keep])


def _rss(fit, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.sum((y - fit.intercept - fit.slope * x) ** 2))


def _interval(center: float, half_width: float) -> tuple[float, float]:
    return (float(center - half_width), float(center + half_width))
