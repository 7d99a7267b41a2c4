"""Which growth law r*(N) follows on a grid: a power law, a logarithm or a constant (claim C4).

A local slope of log r* on log N cannot tell N^q from log N: over a few octaves both are nearly
straight. So the three laws are fitted side by side, on the scale r* is measured on,

    power law    r* = c N^q              (2 parameters)
    logarithm    r* = a + b log N        (2 parameters)
    constant     r* = c                  (1 parameter)

by weighted least squares with per-point variance var_i = (seed-bootstrap variance of r*(N_i)) +
1/12. The 1/12 is the variance of rounding a continuous optimum to the integer rank grid (uniform
on a unit interval): without it a noise-free staircase would make every smooth law "wrong".
With known variances, -2 log L = chi^2 + const, so the laws are compared by AICc (Akaike's
criterion with Hurvich & Tsai's small-sample correction, 1989, Biometrika 76(2)):

    AICc = chi^2 + 2 k + 2 k (k + 1) / (n - k - 1).

Criterion (stated once, used everywhere): two questions, each asked of the pair of laws it is about.

1. Does r* grow at all? The constant is the power law at q = 0 and the logarithm at b = 0: the
   pairs are nested, so AICc is the wrong tool. Its penalty gap between 1 and 2 parameters tends to 2
   as sizes are added while chi^2 of a flat curve stays 0 under both, so a perfectly flat r*
   identified at 5 sizes (gap 6.7) would drift to "unidentified" at 7 (4.2) and 9 (3.4): more data,
   a worse verdict. Instead the slope's interval decides. r* is *not constant* when 0 lies outside
   the slope interval of the better-fitting growing law (the one with the smaller AICc: a power law
   fitted to log-shaped data is misspecified, and its Birge-widened interval can reach 0 while the
   logarithm's slope is clearly positive). Else r* is *constant* when the power-law exponent's
   interval contains 0 and lies within RESOLUTION / 2 of it (an interval of the width that decides
   an exponent, RESOLUTION, centred on 0: no growth the grid could resolve), and *undecided*
   otherwise (a wide interval around 0). With the truth fixed, more sizes or seeds only narrow the
   intervals around the true slope, so the answer can only move toward the truth: a constant's
   interval covers 0 (at the stated confidence) and narrows inside +-RESOLUTION / 2; growth, whose
   local exponent is > 0 for a power law and about 1/ln N for a logarithm, leaves 0 outside. (A
   likelihood-ratio test of the pair could only fail to reject the constant, never confirm it; the
   interval can do both.)
2. If r* is not constant, which growing law? Power law and logarithm have two parameters each and
   neither contains the other, so they are compared by AICc (equal penalties: the gap is the chi^2
   gap, which grows with the data for the true law): the law with the smaller AICc is the best; it
   is *identified* when the other's AICc is larger by at least IDENTIFY_DELTA (evidence ratio
   exp(delta/2) >= 20: the runner-up keeps < 5% of the Akaike weight). The share of seed-bootstrap
   resamples each law wins (each resample recomputes r*(N) from resampled seeds and refits every
   law) is reported beside it and decides nothing. The fits' variances already hold the seed spread
   of r*: with errors independent across N a resample's gap is about normal with mean delta and sd
   2 sqrt(delta), so the best law wins about Phi(sqrt(delta)/2) >= 0.89 of them at delta = 6. A lower
   share needs a seed whose whole curve leans toward the other law (seed effects shared across N),
   and there a share threshold withheld the law the seed population follows (the planted
   cal_c4_sqrt_odd_seed: gap 8.6, share 0.72); an earlier IDENTIFY_WINS = 0.8 is gone (issue 19).

An undecided step 1, or a step 2 short of IDENTIFY_DELTA, leaves the law unidentified. Strength
words follow Burnham & Anderson (2002, sec. 2.6) for the AICc gap: delta >= 10 "decisive", >= 6
"strong", >= 2 "weak", below "none"; a constant found by step 1 reads "nested test" instead.

The power law's exponent interval is the weighted fit's t-interval, its standard error from the
Gauss-Newton covariance with the variances above, widened by sqrt(chi^2/dof) when the residuals
exceed those variances (Birge ratio). Seeds are shared across N, so the per-point variances
ignore their correlation; the notes say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from lrkd.errors import require, require_float_in
from lrkd.validate.engine.fits import ExponentFit

__all__ = ["LAWS", "LawFit", "GrowthFit", "fit_growth_laws", "nested_test", "ROUNDING_VARIANCE", "RESOLUTION"]

LAWS = ("power_law", "logarithm", "constant")
N_PARAMS = {"power_law": 2, "logarithm": 2, "constant": 1}
ROUNDING_VARIANCE = 1.0 / 12.0  # variance of rounding a continuous optimum to an integer rank
IDENTIFY_DELTA = 6.0  # AICc gap to the runner-up: evidence ratio e^3 ~ 20
# The widest exponent interval that decides an exponent: at alpha = 1 the fast rate gives
# r* ~ N^(1/2) and the paper's own rate N^(1/4); an interval wider than that gap cannot separate
# them. validate.claims.c4 caps a power-law interval that makes a claim hold at this width, and
# step 1 of the criterion calls r* constant only inside +-RESOLUTION / 2 (the same width around 0).
RESOLUTION = 0.25
STRENGTH = ((10.0, "decisive"), (6.0, "strong"), (2.0, "weak"))
GAUSS_NEWTON_STEPS = 30


@dataclass(frozen=True)
class LawFit:
    """One law fitted to r*(N): parameters, chi^2 with the stated variances, AICc."""

    law: str
    params: dict[str, float]
    chi2: float
    aicc: float

    def predict(self, n_samples: Any) -> np.ndarray:
        """The fitted r* at sample sizes `n_samples`."""
        x = np.log(np.asarray(n_samples, dtype=np.float64))
        return _predict(self.law, self.params, x)


@dataclass(frozen=True)
class GrowthFit:
    """The three laws on one r*(N) curve, which one the data prefer, and how strongly."""

    laws: dict[str, LawFit]
    best: str
    runner_up: str
    delta_aicc: float  # runner-up minus best (may be < 0 for a constant named by the nested test)
    weights: dict[str, float]  # Akaike weights
    bootstrap_wins: dict[str, float]  # share of seed resamples each law wins (empty without them)
    exponent: float  # power law's q
    exponent_ci: tuple[float, float]
    n_samples: np.ndarray = field(repr=False)
    rstar: np.ndarray = field(repr=False)
    variance: np.ndarray = field(repr=False)
    confidence: float = 0.95
    notes: tuple[str, ...] = ()
    nested: str = "undecided"  # step 1 of the criterion: "constant", "not_constant" or "undecided"
    slope_law: str = "power_law"  # the growing law whose slope step 1 read (the better-fitting one)
    slope_ci: tuple[float, float] = (float("nan"), float("nan"))  # its slope's interval (q, or b)

    @property
    def grows(self) -> bool:
        """True when step 1 finds r* increasing: 0 lies below the slope interval it read."""
        return self.nested == "not_constant" and self.slope_ci[0] > 0

    @property
    def decays(self) -> bool:
        """True when step 1 finds r* decreasing: 0 lies above the slope interval it read."""
        return self.nested == "not_constant" and self.slope_ci[1] < 0

    @property
    def identified(self) -> bool:
        """True when the criterion (module docstring) names a law: a constant by the nested test, a
        growing law by its AICc gap to the other growing law."""
        if self.nested != "not_constant":
            return self.nested == "constant"
        return self.delta_aicc >= IDENTIFY_DELTA

    @property
    def strength(self) -> str:
        """Burnham-Anderson word for the AICc gap to the runner-up ("nested test" for a constant
        found by the exponent interval, where the AICc gap is not the evidence)."""
        if self.nested == "constant":
            return "nested test"
        return next((word for limit, word in STRENGTH if self.delta_aicc >= limit), "none")

    def exponent_fit(self) -> ExponentFit:
        """The power law's exponent as a validate.fits.ExponentFit (for the shared comparison rule)."""
        power = self.laws["power_law"]
        return ExponentFit(
            self.exponent,
            self.exponent_ci,
            float(np.log(power.params["c"])),
            int(self.rstar.size),
            int(self.rstar.size),
            {},
            self.notes,
            self.confidence,
        )

    def separation_size(self, law_a: str | None = None, law_b: str | None = None, *, up_to: float = 1e4) -> float:
        """The smallest N (up to `up_to` times the largest N run) where two laws' fits differ by
        more than twice the largest per-point standard deviation: how far the grid must reach to
        tell them apart. NaN when they never part that far in the range searched."""
        a, b = self.laws[law_a or self.best], self.laws[law_b or self.runner_up]
        top = float(self.n_samples.max())
        grid = np.geomspace(top, top * up_to, 400)
        gap = np.abs(a.predict(grid) - b.predict(grid))
        far = gap > 2.0 * float(np.sqrt(self.variance.max()))
        return float(grid[np.argmax(far)]) if far.any() else float("nan")

    def summary(self) -> str:
        """One sentence: the best law, its evidence and the runner-up."""
        low, high = self.exponent_ci
        if self.nested == "constant":
            return (
                f"{_law_text(self.laws['constant'])} (power-law exponent interval [{low:.3g}, {high:.3g}] "
                f"contains 0 and lies within {RESOLUTION / 2:g} of it: no growth resolved)"
            )
        if self.nested == "undecided":
            return (
                f"whether r* grows is undecided (power-law exponent interval [{low:.3g}, {high:.3g}] contains 0 "
                f"but reaches beyond {RESOLUTION / 2:g}); by AICc {_law_text(self.laws[self.best])} fits best"
            )
        wins = self.bootstrap_wins.get(self.best)
        share = f", wins {wins:.0%} of seed resamples" if wins is not None else ""
        fit = self.laws[self.best]
        return (
            f"{_law_text(fit)} fits best (AICc {self.delta_aicc:.3g} below the {self.runner_up.replace('_', ' ')}: "
            f"{self.strength} evidence, Akaike weight {self.weights[self.best]:.2f}{share})"
        )


def fit_growth_laws(
    n_samples: Any, rstar: Any, variance: Any, replicates: Any = None, *, confidence: float = 0.95
) -> GrowthFit:
    """Fit the three growth laws to r*(N) and pick one by AICc (criterion: module docstring).

    Args:
        n_samples: sample sizes N (> 0, at least 4 distinct).
        rstar: r* at each N (> 0).
        variance: seed variance of r* at each N (>= 0; the rounding variance 1/12 is added here).
        replicates: optional (len(N), B) r*(N) curves from seed resamples, for the share of
            resamples each law wins.
        confidence: level of the power-law exponent's interval.
    Returns:
        GrowthFit with every law's fit, the best law, its AICc gap and bootstrap wins, and the
        power-law exponent with its interval.
    """
    x, y, var = _as_curve(n_samples, rstar, variance)
    confidence = require_float_in(confidence, "confidence", 0.0, 1.0, open_low=True)
    w = 1.0 / var
    params = {law: _fit_law(law, x, y[:, None], w)[..., 0] for law in LAWS}
    fits = {law: _law_fit(law, params[law], x, y, w) for law in LAWS}
    weights = akaike_weights(fits)
    wins, win_note = _bootstrap_wins(x, replicates, w, y.size)
    q, ci, ci_note = _exponent_interval(fits["power_law"], x, y, w, confidence)
    grower = min(("power_law", "logarithm"), key=lambda law: fits[law].aicc)
    _, slope_ci, _, _ = _slope_interval(fits[grower], x, w, y.size, confidence)
    nested = nested_test(slope_ci, ci)
    # step 1 names the constant; step 2 ranks only the growing laws; undecided: all three, for the record
    if nested == "constant":
        best, runner_up = "constant", min(("power_law", "logarithm"), key=lambda law: fits[law].aicc)
    else:
        ranked = sorted(LAWS if nested == "undecided" else ("power_law", "logarithm"), key=lambda law: fits[law].aicc)
        best, runner_up = ranked[0], ranked[1]
    notes = (
        "Laws fitted by weighted least squares on r* with variance = seed-bootstrap variance + 1/12 "
        "(integer rounding); seeds are shared across N, so those variances ignore their correlation.",
        ci_note,
        f"Constant or growing (nested laws): by the better-fitting growing law's slope interval "
        f"({grower.replace('_', ' ')}: [{slope_ci[0]:.3g}, {slope_ci[1]:.3g}]), a constant only with the power-law "
        f"exponent's interval within +-{RESOLUTION / 2:g} of 0; power law or logarithm: by AICc (the share of "
        "bootstrap wins is reported, not read).",
        win_note,
    )
    return GrowthFit(
        fits,
        best,
        runner_up,
        float(fits[runner_up].aicc - fits[best].aicc),
        weights,
        wins,
        q,
        ci,
        np.exp(x),
        y,
        var,
        confidence,
        tuple(n for n in notes if n),
        nested,
        grower,
        slope_ci,
    )


def akaike_weights(fits: dict[str, LawFit]) -> dict[str, float]:
    """Akaike weights exp(-AICc/2), normalized over the laws: reported beside the verdict (the
    summary, the numbers record); no decision reads them.

    Args:
        fits: {law: LawFit}.

    Returns:
        {law: weight}, summing to 1.
    """
    aicc = np.array([fit.aicc for fit in fits.values()])
    raw = np.exp(-0.5 * (aicc - aicc.min()))
    return dict(zip(fits, (raw / raw.sum()).tolist()))


def nested_test(slope_ci: tuple[float, float], exponent_ci: tuple[float, float]) -> str:
    """Step 1 of the criterion (module docstring): is r* constant?

    Args:
        slope_ci: the slope interval of the better-fitting growing law (q of the power law or b of
            the logarithm, whichever has the smaller AICc): the nested test of "no growth".
        exponent_ci: the power-law exponent's interval, on the scale RESOLUTION is stated in.

    Returns:
        "not_constant" (0 lies outside slope_ci), "constant" (else, when exponent_ci contains 0 and
        lies within RESOLUTION / 2 of it) or "undecided".
    """
    values = [float(v) for v in (*slope_ci, *exponent_ci)]
    if np.isnan(values).any():
        return "undecided"
    (low, high), (q_low, q_high) = values[:2], values[2:]
    if not low <= 0.0 <= high:
        return "not_constant"
    return "constant" if q_low <= 0.0 <= q_high and max(-q_low, q_high) <= RESOLUTION / 2 else "undecided"


# ---------------------------------------------------------------- the three fits


def _as_curve(n_samples, rstar, variance):
    x = np.asarray(n_samples, dtype=np.float64).ravel()
    y = np.asarray(rstar, dtype=np.float64).ravel()
    var = np.asarray(variance, dtype=np.float64).ravel()
    require(
        x.size == y.size == var.size,
        "rstar",
        f"one r* and one variance per N ({x.size})",
        f"{y.size} r*, {var.size} variances",
    )
    require(bool(np.all(np.isfinite(x) & (x > 0))), "n_samples", "finite and > 0", x.tolist()[:4])
    require(
        np.unique(x).size >= 4, "n_samples", "at least 4 distinct sizes (3 laws, up to 2 parameters)", np.unique(x).size
    )
    require(bool(np.all(np.isfinite(y) & (y > 0))), "rstar", "finite and > 0", y.tolist()[:4])
    require(bool(np.all(np.isfinite(var) & (var >= 0))), "variance", "finite and >= 0", var.tolist()[:4])
    return np.log(x), y, var + ROUNDING_VARIANCE


def _fit_law(law: str, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Parameters (n_params, B) of `law` for each column of y (n, B): weighted least squares."""
    if law == "constant":
        return (np.sum(w[:, None] * y, axis=0) / w.sum())[None, :]
    if law == "logarithm":
        return _weighted_line(x, y, w)
    return _power_gauss_newton(x, y, w)


def _weighted_line(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(intercept, slope) of the weighted line y ~ a + b x, per column of y."""
    sw, sx, sxx = w.sum(), w @ x, w @ (x * x)
    sy, sxy = w @ y, (w * x) @ y
    det = sw * sxx - sx * sx
    return np.stack([(sxx * sy - sx * sxy) / det, (sw * sxy - sx * sy) / det])


def _power_gauss_newton(x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(log c, q) of y ~ exp(log c + q x) by weighted Gauss-Newton on the r* scale, per column.

    Starts from the weighted log-log line (weights y^2 w: the delta method's variance of log y),
    then minimizes sum w (y - c N^q)^2 itself, so that all three laws share one residual scale.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        theta = _weighted_line(x, np.log(y), w)  # weights approximate; refined below
    theta = np.where(np.isfinite(theta), theta, 0.0)
    chi2 = _chi2("power_law", theta, x, y, w)
    for _ in range(GAUSS_NEWTON_STEPS):
        f = np.exp(theta[0] + x[:, None] * theta[1])  # (n, B)
        resid = y - f
        j0, j1 = f, f * x[:, None]
        a00, a01, a11 = (w[:, None] * j0 * j0).sum(0), (w[:, None] * j0 * j1).sum(0), (w[:, None] * j1 * j1).sum(0)
        g0, g1 = (w[:, None] * j0 * resid).sum(0), (w[:, None] * j1 * resid).sum(0)
        det = a00 * a11 - a01 * a01
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            step = np.stack([(a11 * g0 - a01 * g1) / det, (a00 * g1 - a01 * g0) / det])
        step = np.where(np.isfinite(step), step, 0.0)
        for _ in range(8):  # step halving: accept only steps that lower chi^2
            trial = theta + step
            with np.errstate(over="ignore", invalid="ignore"):
                new = _chi2("power_law", trial, x, y, w)
            better = new <= chi2
            theta = np.where(better, trial, theta)
            chi2 = np.where(better, new, chi2)
            if better.all():
                break
            step = np.where(better, 0.0, 0.5 * step)
    return theta


def _predict(law: str, params: dict[str, float], x: np.ndarray) -> np.ndarray:
    if law == "constant":
        return np.full_like(x, params["c"])
    if law == "logarithm":
        return params["a"] + params["b"] * x
    return params["c"] * np.exp(params["q"] * x)


def _named(law: str, theta: np.ndarray) -> dict[str, float]:
    if law == "constant":
        return {"c": float(theta[0])}
    if law == "logarithm":
        return {"a": float(theta[0]), "b": float(theta[1])}
    return {"c": float(np.exp(theta[0])), "q": float(theta[1])}


def _law_fit(law: str, theta: np.ndarray, x, y, w) -> LawFit:
    params = _named(law, theta)
    chi2 = float(np.sum(w * (y - _predict(law, params, x)) ** 2))
    return LawFit(law, params, chi2, _aicc(chi2, N_PARAMS[law], y.size))


def _aicc(chi2, k: int, n: int):
    # n >= 4 sizes (`_as_curve`) and k <= 2 parameters: the correction's denominator is >= 1
    return chi2 + 2 * k + 2 * k * (k + 1) / (n - k - 1)


def _chi2(law: str, theta: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    if law == "constant":
        f = np.broadcast_to(theta[0], y.shape)
    elif law == "logarithm":
        f = theta[0] + x[:, None] * theta[1]
    else:
        f = np.exp(theta[0] + x[:, None] * theta[1])
    return np.sum(w[:, None] * (y - f) ** 2, axis=0)


# ---------------------------------------------------------------- evidence strength


def _bootstrap_wins(x, replicates, w, n_points: int) -> tuple[dict[str, float], str]:
    """Share of seed resamples in which each law has the smallest AICc (same variances)."""
    if replicates is None:
        return {}, "No seed resamples given: no bootstrap share of wins."
    reps = np.asarray(replicates, dtype=np.float64)
    require(reps.ndim == 2 and reps.shape[0] == x.size, "replicates", f"an array ({x.size}, B)", reps.shape)
    reps = reps[:, np.all(np.isfinite(reps) & (reps > 0), axis=0)]
    if reps.shape[1] == 0:
        return {}, "Every seed resample lacked an r* somewhere: no bootstrap share of wins."
    scores = np.stack(
        [_aicc(_chi2(law, _fit_law(law, x, reps, w), x, reps, w), N_PARAMS[law], n_points) for law in LAWS]
    )
    winner = np.argmin(scores, axis=0)
    wins = {law: float(np.mean(winner == i)) for i, law in enumerate(LAWS)}
    return wins, f"Bootstrap share of wins over {reps.shape[1]} seed resamples, r*(N) recomputed in each."


def _exponent_interval(power: LawFit, x, y, w, confidence: float):
    """t-interval of q from the Gauss-Newton covariance, Birge-widened when chi^2/dof > 1."""
    q, ci, birge, dof = _slope_interval(power, x, w, y.size, confidence)
    note = (
        f"{confidence:.0%} interval of the power-law exponent: weighted-fit t-interval (dof {dof})"
        + (f", widened by the Birge ratio sqrt(chi2/dof) = {np.sqrt(birge):.3g}" if birge > 1 else "")
        + "."
    )
    return q, ci, note


def _slope_interval(fit: LawFit, x, w, n_points: int, confidence: float):
    """(slope, t-interval, Birge factor, dof) of a growing law's slope (q of the power law, b of the
    logarithm): covariance (J^T W J)^-1 with J the fit's Jacobian in (log c, q) or (a, b), widened by
    chi^2/dof when the residuals exceed the stated variances."""
    if fit.law == "power_law":
        f = fit.predict(np.exp(x))
        j = np.column_stack([f, f * x])
        slope = fit.params["q"]
    else:
        j = np.column_stack([np.ones_like(x), x])
        slope = fit.params["b"]
    dof = n_points - 2
    cov = np.linalg.pinv(j.T @ (w[:, None] * j))
    birge = max(1.0, fit.chi2 / dof) if dof > 0 else 1.0
    half = float(stats.t.ppf(0.5 + confidence / 2.0, max(dof, 1))) * float(np.sqrt(cov[1, 1] * birge))
    return float(slope), (float(slope - half), float(slope + half)), birge, dof


def _law_text(fit: LawFit) -> str:
    p = fit.params
    if fit.law == "power_law":
        return f"a power law r* = {p['c']:.3g} N^{p['q']:.3g}"
    if fit.law == "logarithm":
        return f"a logarithm r* = {p['a']:.3g} + {p['b']:.3g} log N"
    return f"a constant r* = {p['c']:.3g}"
