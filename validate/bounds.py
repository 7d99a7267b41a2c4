"""One verdict for one bound claim on one table of runs: the path every bound takes.

`bound_verdict` evaluates the claim's bound (theory/, never re-typed) at every run's parameters,
averages the measured quantity over seeds at each grid point, compares, fits the measured
exponents in the claim's rate variables, checks where the bound is vacuous, and decides the code
(validate.checks.decide). The built-in checks (c1.py, c2.py, c3.py) and user claims bound to
data through `Claim.columns` / `Claim.measured_column` all go through it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from validate.checks import (bound_at, compare_to_bound, decide, exponent_outcome, fit_mean_power_law,
                             summarize, usable, vacuous_points)
from validate.verdict import Figure, Verdict


@dataclass(frozen=True)
class BoundSpec:
    """How a claim reads a table: which column feeds each symbol, what is measured, the grid."""

    columns: Mapping[str, str]                 # claim symbol -> table column
    measured: str                              # the measured column
    grid: Sequence[str]                        # columns that define a grid point (seeds averaged)
    rates: Mapping[str, str] = field(default_factory=dict)    # rate variable -> column
    trends: Mapping[str, str] = field(default_factory=dict)   # rate variable -> "decay" | "growth"
    constants: Mapping[str, float] = field(default_factory=dict)
    trivial: str | None = None                 # column with the trivial value (vacuity check)
    x: str | None = None                       # column on the figure's x axis
    series: str | None = None                  # column separating lines on the figure
    x_label: str = ""
    y_label: str = ""
    logx: bool = True
    logy: bool = True


def bound_verdict(claim, table: pd.DataFrame, spec: BoundSpec, *, experiment: str, unmet: Sequence[str] = (),
                  notes: Sequence[str] = (), title: str | None = None) -> Verdict:
    """Evidence and verdict for an upper- or lower-bound claim on `table` (one row per run)."""
    runs, n_diverged = usable(table)
    runs = runs.assign(bound=bound_at(claim, runs, spec.columns, spec.constants))
    points = _points(runs, spec)
    direction = "upper" if claim.kind == "upper_bound" else "lower"
    comparison = compare_to_bound(points, points["bound"].to_numpy(), direction)
    outcomes = _exponents(claim, runs, spec, direction)
    vacuous = vacuous_points(points["bound"], points["trivial"], direction) if spec.trivial else None
    n_seeds = int(points["n_seeds"].min()) if len(points) else 0
    decision = decide(bound=comparison, exponents=outcomes, vacuous=vacuous, unmet=unmet, n_seeds=n_seeds,
                      subject=f"the {claim.id} bound")
    numbers = _numbers(comparison, outcomes, vacuous, n_seeds, n_diverged)
    all_notes = [*notes, *_vacuity_notes(comparison.points, vacuous, spec)]
    if n_diverged:
        all_notes.append(f"{n_diverged} diverged runs are excluded from the means (kept in the data).")
    for outcome in outcomes:
        all_notes += [n for n in outcome.fit.notes if n not in all_notes]
    figure = _figure(claim, comparison, outcomes, spec, title)
    return Verdict(claim.id, experiment, decision.code, decision.explanation, numbers, comparison.worst,
                   decision.would_change, tuple(all_notes), (figure,))


def _points(runs: pd.DataFrame, spec: BoundSpec) -> pd.DataFrame:
    points = summarize(runs, spec.grid, spec.measured)
    extra = {"bound": "mean"}
    if spec.trivial:
        extra[spec.trivial] = "mean"
    means = runs.groupby(list(spec.grid), sort=True).agg(extra).reset_index()
    points = points.merge(means, on=list(spec.grid))
    if spec.trivial:
        points = points.rename(columns={spec.trivial: "trivial"})
    return points


def _exponents(claim, runs, spec: BoundSpec, direction: str):
    if not spec.rates:
        return []
    variables = list(spec.rates)
    fits = fit_mean_power_law(runs, [spec.rates[v] for v in variables], spec.measured)
    claimed = claim.claimed_exponents
    return [exponent_outcome(fits[spec.rates[v]], variable=v, claimed=float(claimed[v]),
                             trend=spec.trends.get(v, "decay"), sense=direction) for v in variables]


def _numbers(comparison, outcomes, vacuous, n_seeds, n_diverged) -> dict[str, Any]:
    numbers: dict[str, Any] = {"n_points": comparison.n_points, "worst_ratio": comparison.worst_ratio,
                               "points_beyond_bound": comparison.n_beyond, "seeds": n_seeds}
    if outcomes:
        e = outcomes[0]  # the primary rate variable leads the summary
        numbers.update({"exponent": e.fit.exponent, "exponent_ci": list(e.fit.ci),
                        "claimed_exponent": e.claimed, "exponent_variable": e.variable})
    for e in outcomes:
        numbers.update(e.numbers)
    numbers["bound_range"] = [float(comparison.points["bound"].min()), float(comparison.points["bound"].max())]
    if vacuous is not None:
        numbers["vacuous_points"] = int(np.sum(vacuous))
        numbers["trivial_value"] = float(np.median(comparison.points["trivial"]))
    if n_diverged:
        numbers["diverged_runs"] = n_diverged
    return numbers


def _vacuity_notes(points: pd.DataFrame, vacuous, spec: BoundSpec) -> list[str]:
    if vacuous is None or not np.any(vacuous) or np.all(vacuous):
        return []
    informative = points.loc[~np.asarray(vacuous), spec.grid]
    parts = ", ".join(f"{c} in [{informative[c].min():g}, {informative[c].max():g}]" for c in spec.grid)
    return [f"The bound is vacuous (no better than the trivial value) at {int(np.sum(vacuous))} of "
            f"{len(points)} points; it is informative only where {parts}."]


def _figure(claim, comparison, outcomes, spec: BoundSpec, title: str | None) -> Figure:
    pts = comparison.points
    x = spec.x or spec.grid[0]
    data = pd.DataFrame({"x": pts[x], "measured": pts["measured"], "measured_low": pts["measured_low"],
                         "measured_high": pts["measured_high"], "bound": pts["bound"],
                         "exceeds": pts["exceeds"]})
    if spec.series:
        data["series"] = [f"{spec.series}={v:g}" if isinstance(v, (int, float, np.number)) else str(v)
                          for v in pts[spec.series]]
    meta: dict[str, Any] = {"x_label": spec.x_label or x, "y_label": spec.y_label or spec.measured,
                            "logx": spec.logx, "logy": spec.logy,
                            "worst": {"x": comparison.worst.get(x), "measured": comparison.worst.get("measured")}}
    on_x = [e for e in outcomes if spec.rates.get(e.variable) == x]
    if on_x and not spec.series:
        e = on_x[0]
        meta["fit"] = {"exponent": e.fit.exponent, "ci": list(e.fit.ci), "intercept": e.fit.intercept}
    if on_x:
        meta["claimed_exponent"] = on_x[0].claimed
    if spec.trivial:
        meta["trivial"] = float(pts["trivial"].median())
    return Figure("bound_vs_measured", title or f"{claim.id}: measured against the bound", data, meta)
