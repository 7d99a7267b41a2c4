"""One verdict for one bound claim on one table of runs: the path every bound takes.

`bound_verdict` evaluates the claim's bound (theory/, never re-typed) at every run's parameters,
averages the measured quantity over seeds at each grid point, compares, fits the measured
exponents in the claim's rate variables, checks where the bound is vacuous, and decides the code
(validate.checks.decide). The built-in checks (c1.py, c2.py, c3.py) and user claims bound to
data through `Claim.columns` / `Claim.measured_column` all go through it.

An O(.) claim (`Claim.free_constant` names its unspecified constant, and the spec does not fix
it) is judged scale-free: by its exponents only, with the best-fit constant reported; the
pointwise comparison and the vacuity check need a constant and are skipped. A `Prediction` (what
theory expects the measured mean to be at each grid point) turns the local slopes into estimates
of the asymptotic exponents (validate.checks.finite_size_offsets).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from lrkd.validate.engine.checks import (
    Prediction,
    best_fit_constant,
    bound_at,
    compare_to_bound,
    conjunction_level,
    decide,
    exponent_outcome,
    finite_size_offsets,
    fit_mean_power_law,
    summarize,
    usable,
    vacuous_points,
)
from lrkd.validate.engine.verdict import Figure, Verdict


@dataclass(frozen=True)
class BoundSpec:
    """How a claim reads a table: which column feeds each symbol, what is measured, the grid."""

    columns: Mapping[str, str]  # claim symbol -> table column
    measured: str  # the measured column
    grid: Sequence[str]  # columns that define a grid point (seeds averaged)
    rates: Mapping[str, str] = field(default_factory=dict)  # rate variable -> column
    trends: Mapping[str, str] = field(default_factory=dict)  # rate variable -> "decay" | "growth"
    constants: Mapping[str, float] = field(default_factory=dict)
    trivial: str | None = None  # column with the trivial value (vacuity check)
    # rate variables the experiment caps (r <= min(m, n)): for an explicit-constant bound a steeper
    # exponent there cannot carry the data across the bound beyond the cap, so it is reported, not decisive
    capped: Sequence[str] = ()
    x: str | None = None  # column on the figure's x axis
    series: str | None = None  # column separating lines on the figure
    x_label: str = ""
    y_label: str = ""
    logx: bool = True
    logy: bool = True


def bound_verdict(
    claim,
    table: pd.DataFrame,
    spec: BoundSpec,
    *,
    experiment: str,
    unmet: Sequence[str] = (),
    notes: Sequence[str] = (),
    title: str | None = None,
    prediction: Prediction | None = None,
) -> Verdict:
    """Evidence and verdict for an upper- or lower-bound claim on `table` (one row per run).

    Args:
        claim: the theory.Claim (its bound is evaluated, never re-typed).
        table: one row per run.
        spec: how the claim reads the table.
        experiment: the evidence's name in the verdict.
        unmet: assumptions the run breaks; notes: sentences for the report; title: the figure's.
        prediction: theory's expected value of the measured column on this grid, if known.

    Returns:
        The Verdict, with per-variable exponents, outcomes and resolutions in its numbers.
    """
    runs, n_diverged = usable(table)
    runs = runs.assign(bound=bound_at(claim, runs, spec.columns, _constants(claim, spec)))
    points = _points(runs, spec)
    direction = "upper" if claim.kind == "upper_bound" else "lower"
    scale_free = is_scale_free(claim, spec)
    constant = best_fit_constant(points["measured"], points["bound"]) if scale_free else None
    shown = points["bound"].to_numpy() * (constant["C_cover"] if scale_free else 1.0)
    comparison = compare_to_bound(points, shown, direction)
    outcomes = _exponents(claim, runs, spec, direction, prediction)
    vacuous = vacuous_points(points["bound"], points["trivial"], direction) if spec.trivial and not scale_free else None
    n_seeds = int(points["n_seeds"].min()) if len(points) else 0
    decision = decide(
        bound=None if scale_free else comparison,
        exponents=outcomes,
        vacuous=vacuous,
        unmet=unmet,
        n_seeds=n_seeds,
        subject=f"the {claim.id} bound",
        grid_decades=_decades(runs, spec),
    )
    numbers = _numbers(comparison, outcomes, vacuous, n_seeds, n_diverged)
    all_notes = [*notes, *_vacuity_notes(comparison.points, vacuous, spec)]
    if scale_free:
        numbers.pop("worst_ratio", None)  # 1 by construction at the covering constant: no evidence
        numbers.update(
            {
                "scale_free": True,
                "best_fit_constant": constant["C_fit"],
                "covering_constant": constant["C_cover"],
                "points_beyond_bound": None,
            }
        )
        decision.explanation = (
            f"{decision.explanation} Best-fit constant {claim.free_constant} = "
            f"{constant['C_fit']:.3g} (every mean under the bound from "
            f"{claim.free_constant} = {constant['C_cover']:.3g})."
        )
        all_notes.insert(
            0,
            f"An O(.) claim without a stated constant: judged by its exponents only, so the "
            f"verdict does not change with the data's units; the figure draws the bound at the "
            f"smallest constant that covers every mean ({claim.free_constant} = "
            f"{constant['C_cover']:.3g}), and no vacuity is judged without a constant.",
        )
    if n_diverged:
        all_notes.append(f"{n_diverged} diverged runs are excluded from the means (kept in the data).")
    for outcome in outcomes:
        all_notes += [n for n in outcome.fit.notes if n not in all_notes]
    figure = _figure(claim, comparison, outcomes, spec, title)
    return Verdict(
        claim.id,
        experiment,
        decision.code,
        decision.explanation,
        numbers,
        comparison.worst,
        decision.would_change,
        tuple(all_notes),
        (figure,),
    )


def _constants(claim, spec: BoundSpec) -> dict[str, float]:
    """The values the bound is evaluated with besides the columns: the spec's constants, and for an
    O(.) claim without a value for its constant, C = 1 (its shape: the constant is fitted, not given)."""
    constants = dict(spec.constants)
    if is_scale_free(claim, spec) and claim.free_constant not in claim.defaults:
        constants[claim.free_constant] = 1.0
    return constants


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


def is_scale_free(claim, spec: BoundSpec) -> bool:
    """Whether the claim is an O(.) claim whose constant neither the spec's constants nor its columns fix.

    Args:
        claim: a theory.Claim (its `free_constant`, if any).
        spec: the BoundSpec it is checked with.

    Returns:
        True when only its exponents can be checked (the constant is fitted, not compared).
    """
    free = getattr(claim, "free_constant", None)
    return bool(free) and free not in spec.constants and free not in spec.columns


def _exponents(claim, runs, spec: BoundSpec, direction: str, prediction: Prediction | None = None):
    if not spec.rates:
        return []
    variables = list(spec.rates)
    columns = [spec.rates[v] for v in variables]
    # every variable's interval can reject the claim alone: each at the conjunction's level; whether
    # one is narrow enough to confirm is read at the base level (validate.engine.checks, rule 4)
    fits = fit_mean_power_law(runs, columns, spec.measured, confidence=conjunction_level(len(columns)))
    base = fit_mean_power_law(runs, columns, spec.measured) if len(columns) > 1 else fits
    predicts_this = prediction is not None and prediction.measured == spec.measured
    offsets = finite_size_offsets(prediction, runs, columns, spec.grid) if predicts_this else {}
    claimed = claim.claimed_exponents
    outcomes = [
        exponent_outcome(
            fits[spec.rates[v]],
            variable=v,
            claimed=float(claimed[v]),
            trend=spec.trends.get(v, "decay"),
            sense=direction,
            offset=offsets.get(spec.rates[v]),
            precision=base[spec.rates[v]],
        )
        for v in variables
    ]
    if is_scale_free(claim, spec):  # an O(.) claim is a scaling claim: every variable's exponent decides
        return outcomes
    return [
        replace(o, meaning="wrong_capped") if o.meaning == "wrong" and o.variable in spec.capped else o
        for o in outcomes
    ]


def _decades(runs: pd.DataFrame, spec: BoundSpec) -> dict[str, float]:
    return {v: float(np.log10(runs[c].max() / runs[c].min())) for v, c in spec.rates.items() if runs[c].min() > 0}


def _numbers(comparison, outcomes, vacuous, n_seeds, n_diverged) -> dict[str, Any]:
    numbers: dict[str, Any] = {
        "n_points": comparison.n_points,
        "worst_ratio": comparison.worst_ratio,
        "points_beyond_bound": comparison.n_beyond,
        "seeds": n_seeds,
    }
    if outcomes:
        e = outcomes[0]  # the primary rate variable leads the summary
        numbers.update(
            {
                "exponent": e.fit.exponent,
                "exponent_ci": list(e.fit.ci),
                "claimed_exponent": e.claimed,
                "exponent_variable": e.variable,
                "resolution": e.resolution,
            }
        )
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
    return [
        f"The bound is vacuous (no better than the trivial value) at {int(np.sum(vacuous))} of "
        f"{len(points)} points; it is informative only where {parts}."
    ]


def _figure(claim, comparison, outcomes, spec: BoundSpec, title: str | None) -> Figure:
    pts = comparison.points
    x = spec.x or spec.grid[0]
    data = pd.DataFrame(
        {
            "x": pts[x],
            "measured": pts["measured"],
            "measured_low": pts["measured_low"],
            "measured_high": pts["measured_high"],
            "bound": pts["bound"],
            "exceeds": pts["exceeds"],
        }
    )
    if spec.series:
        data["series"] = [
            f"{spec.series}={v:g}" if isinstance(v, (int, float, np.number)) else str(v) for v in pts[spec.series]
        ]
    meta: dict[str, Any] = {
        "x_label": spec.x_label or x,
        "y_label": spec.y_label or spec.measured,
        "logx": spec.logx,
        "logy": spec.logy,
        "worst": {"x": comparison.worst.get(x), "measured": comparison.worst.get("measured")},
    }
    on_x = [e for e in outcomes if spec.rates.get(e.variable) == x]
    if on_x and not spec.series:
        e = on_x[0]
        meta["fit"] = {"exponent": e.fit.exponent, "ci": list(e.fit.ci), "intercept": e.fit.intercept}
    if on_x:
        meta["claimed_exponent"] = on_x[0].claimed
    if spec.trivial:
        meta["trivial"] = float(pts["trivial"].median())
    return Figure("bound_vs_measured", title or f"{claim.id}: measured against the bound", data, meta)
