"""C2 evidence: generalization gaps and excess risks of rank-r students against N and r.

The runs are closed-form reduced-rank regression (simulate.rank_sweep, student "rrr") on a linear
teacher with Gaussian inputs. Measured, per (r, N), averaged over seeds:
  gen_gap      test risk - train risk of the fitted rank-r student (population minus empirical
               risk, per sample, summed over outputs): what `generalization` and
               `generalization_sqrt` bound;
  excess_risk  population risk - noise floor: what `rrr_excess_risk` predicts.
The trivial value for vacuity is the population risk of predicting zero, ||W_T||_F^2 + m sigma^2:
a bound on the gap above it says nothing a constant predictor does not.

The gap's exponents are read against theory's gap sigma^2 r(m+n-r) (1/(N-n-1) + 1/N)
(theory.generalization.rrr_gap_finite, `gap_prediction`): its local slope in N is steeper than -1
at small N/n, in r below 1 (the -r^2 term), and those offsets are taken off the measured
exponents before they are compared with a claim. The r-exponent is also fitted at each fixed N
(`rank_exponent_by_n`) and
set against both r (the paper) and sqrt(r) (Kratsios et al. 2025), so the report says which the
data support at which N.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from lrkd.simulate.experiments.c2 import C2_GENERALIZATION
from lrkd.theory.generalization import rrr_gap_finite
from lrkd.validate.engine.bounds import BoundSpec, bound_verdict
from lrkd.validate.engine.checks import (
    Prediction,
    decide,
    exponent_outcome,
    finite_size_offsets,
    fit_mean_power_law,
    summarize,
    usable,
    widened,
)
from lrkd.validate.registry import check, evidence, judged_tables, prediction, trivial
from lrkd.validate.engine.verdict import NOT_TESTED, Figure, Verdict

GAP_SPEC = BoundSpec(
    columns={"r": "rank", "m": "m", "n": "n", "N": "n_samples"},
    measured="gen_gap",
    grid=("rank", "n_samples"),
    rates={"N": "n_samples", "r": "rank"},
    trends={"N": "decay", "r": "growth"},
    trivial="zero_risk",
    x="n_samples",
    series="rank",
    capped=("r",),
    x_label="N (training pairs)",
    y_label="generalization gap (test - train risk)",
)


RANK_READINGS = {"r (the paper)": 1.0, "sqrt(r) (Kratsios et al. 2025)": 0.5}


def gap_prediction() -> Prediction:
    """Theory's expected gap on the c2 grid: sigma^2 r (m+n-r) (1/(N-n-1) + 1/N)
    (theory.generalization.rrr_gap_finite: exact at full rank, the leading order 2 sigma^2 r(m+n-r)/N
    as N grows), whose asymptotic exponents are -1 in N and 1 in r (r << m + n).

    Returns:
        The Prediction of gen_gap in n_samples and rank.
    """

    def predict(grid: pd.DataFrame) -> np.ndarray:
        return rrr_gap_finite(
            grid["rank"].to_numpy(float),
            grid["m"].to_numpy(float),
            grid["n"].to_numpy(float),
            grid["n_samples"].to_numpy(float),
            grid["noise"].to_numpy(float),
        )

    return Prediction(
        "gen_gap",
        {"n_samples": -1.0, "rank": 1.0},
        predict,
        "the least-squares gap sigma^2 r(m+n-r) (1/(N-n-1) + 1/N)",
        exact=False,
    )


def gap_verdict(
    claim,
    sweep: pd.DataFrame,
    *,
    experiment: str,
    constants=None,
    columns=None,
    unmet=(),
    notes=(),
    prediction: Prediction | None = None,
) -> Verdict:
    """`generalization` (the paper's form), the sqrt(r) counter-claim, or a variant using the
    symbols r, m, n, N (plus any `columns` mapping further symbols, e.g. sigma -> "noise", and fixed
    `constants`). The r-exponent at each fixed N, against r and sqrt(r), is added to the numbers.

    Args:
        claim: a claim on r, m, n, N (and the symbols `columns` and `constants` give).
        sweep: the c2 sweep table.
        experiment: the name the verdict gives the evidence.
        constants: {symbol: value} fixed for the bound.
        columns: {symbol: column} besides GAP_SPEC's.
        unmet, notes: broken assumptions and notes known beforehand.
        prediction: theory's gap on the grid (default `gap_prediction()`).

    Returns:
        The Verdict.
    """
    prediction = gap_prediction() if prediction is None else prediction
    mapped = {k: v for k, v in {**GAP_SPEC.columns, **(columns or {})}.items() if k in claim.symbol_names}
    rates = {k: v for k, v in GAP_SPEC.rates.items() if k in claim.rate_variables}
    spec = replace(GAP_SPEC, columns=mapped, rates=rates, constants=constants or {})
    verdict = bound_verdict(
        claim,
        sweep,
        spec,
        experiment=experiment,
        unmet=unmet,
        notes=notes,
        title=f"{claim.id}: generalization gap against the bound",
        prediction=prediction,
    )
    if "r" not in rates or usable(sweep)[0]["rank"].nunique() < 2:
        return verdict
    by_n = rank_exponent_by_n(sweep, prediction)
    summary = _rank_support_sentence(by_n)
    return replace(
        verdict,
        explanation=f"{verdict.explanation} {summary}",
        numbers={**verdict.numbers, "r_exponent_by_N": by_n.to_dict("records")},
        notes=(
            *verdict.notes,
            "The r-exponent at fixed N is the local slope of the seed-mean gap in r "
            "at that N, minus the offset of theory's sigma^2 r(m+n-r) (1/(N-n-1) + 1/N) "
            "on the same ranks; "
            "a reading is supported where its exponent lies in that corrected interval.",
        ),
    )


def rank_exponent_by_n(
    sweep: pd.DataFrame, prediction: Prediction | None = None, readings: dict[str, float] = RANK_READINGS
) -> pd.DataFrame:
    """The gap's exponent in r at each fixed N, with its interval, against each reading.

    Args:
        sweep: rank_sweep rows (rank, n_samples, seed, gen_gap, m, n, noise).
        prediction: theory's expected gap (default `gap_prediction()`), for the finite-size offset.
        readings: {name: claimed r-exponent}.

    Returns:
        One row per N: exponent, ci, offset, corrected ci, resolution, `supports` (the readings
        inside the corrected interval, "neither" when none) and one in_<reading> flag each.
    """
    prediction = gap_prediction() if prediction is None else prediction
    runs, _ = usable(sweep)
    rows = []
    for n_samples, group in runs.groupby("n_samples", sort=True):
        fit = fit_mean_power_law(group, ["rank"], "gen_gap")["rank"]
        offset = finite_size_offsets(prediction, group, ["rank"]).get("rank")
        shift = offset.offset if offset is not None else 0.0
        u = offset.uncertainty if offset is not None else 0.0
        low, high = fit.ci[0] - shift - u, fit.ci[1] - shift + u
        inside = {name: bool(low <= value <= high) for name, value in readings.items()}
        decidable = np.isfinite(fit.ci_width)
        rows.append(
            {
                "N": int(n_samples),
                "exponent": fit.exponent,
                "ci": list(fit.ci),
                "offset": shift,
                "corrected": fit.exponent - shift,
                "corrected_ci": [low, high],
                "resolution": (high - low) / 2,
                "supports": (" and ".join(k for k, v in inside.items() if v) or "neither")
                if decidable
                else "undecided (too few seeds)",
            }
        )
    return pd.DataFrame(rows)


def _rank_support_sentence(by_n: pd.DataFrame) -> str:
    parts = [
        f"N = {row.N}: {row.corrected:.3g} [{row.corrected_ci[0]:.3g}, {row.corrected_ci[1]:.3g}] -> {row.supports}"
        for row in by_n.itertuples()
    ]
    return "Exponent of the gap in r at fixed N (offset-corrected), against r and sqrt(r): " + "; ".join(parts) + "."


def sqrt_form_verdict(claim, sweep: pd.DataFrame, norms: dict[str, float], *, experiment: str) -> Verdict:
    """`generalization_sqrt` at its almost-sure norms. On bounded data (simulate.teachers.BoundedLinearTeacher)
    R_x, R_y are sure bounds and R_W bounds every fitted student, so the bound is checked and can
    hold or fail. On Gaussian data no finite R_x, R_y exist: the run cannot test the claim, and the
    verdict says "not tested" (NOT_TESTED) with the bounded preset that does.

    Args:
        claim: the generalization_sqrt claim.
        sweep: the c2 sweep table.
        norms: `data_norms` of the run.
        experiment: the name the verdict gives the evidence.

    Returns:
        The Verdict.
    """
    constants = {k: norms[k] for k in ("R_x", "R_y", "R_W")}
    if norms.get("bounded"):
        notes = (
            f"Bounded data: ||x|| = R_x = {norms['R_x']:.3g} for every sample (Rademacher inputs), "
            f"||y|| <= R_y = {norms['R_y']:.3g} surely (uniform noise), and R_W = {norms['R_W']:.3g} = "
            "||W_T||_F + max sqrt(excess risk) >= ||W_S||_F for every fitted student (isotropic inputs: "
            "excess risk = ||W_S - W_T||_F^2).",
        )
        return gap_verdict(claim, sweep, experiment=experiment, constants=constants, notes=notes)
    verdict = gap_verdict(claim, sweep, experiment=experiment, constants=constants)
    why = (
        "Not tested: inputs and labels are Gaussian, so ||x|| <= R_x and ||y|| <= R_y hold for no finite "
        "R_x, R_y and no outcome of this run could test the bound; the "
        f"{C2_GENERALIZATION.name} presets quick_bounded / full_bounded (Rademacher inputs, uniform noise) "
        "test it. For information only, at "
        f"the largest norms in the training samples (R_x = {norms['R_x']:.3g}, R_y = {norms['R_y']:.3g}, "
        f"R_W = {norms['R_W']:.3g}):"
    )
    return replace(
        verdict,
        code=NOT_TESTED,
        explanation=f"{why} {verdict.explanation}",
        would_change="Data with almost-sure bounds on ||x|| and ||y|| (the bounded presets).",
    )


ASYMPTOTIC_FACTOR = 10  # the leading-order reference is checked where N >= 10 (m + n)


def rrr_reference_verdict(claim, sweep: pd.DataFrame, *, experiment: str) -> Verdict:
    """Does the excess risk follow sigma^2 r (m+n-r)/N + tail? Ratio per point and the N-exponent of
    its estimation part (excess - tail), which the reference puts at -1. Only N >= 10 (m + n) is
    used: the reference is leading order in 1/N.

    Args:
        claim: the rrr_excess_risk claim.
        sweep: the c2 sweep table.
        experiment: the name the verdict gives the evidence.

    Returns:
        The Verdict.
    """
    runs, n_diverged = usable(sweep)
    small = runs["n_samples"] < ASYMPTOTIC_FACTOR * (runs["m"] + runs["n"])
    runs = runs[~small]
    runs = runs.assign(
        predicted=claim.bound(
            r=runs["rank"].to_numpy(float),
            m=runs["m"].to_numpy(float),
            n=runs["n"].to_numpy(float),
            N=runs["n_samples"].to_numpy(float),
            sigma=runs["noise"].to_numpy(float),
            tail=runs["approx_error"].to_numpy(float),
        ),
        estimation=runs["excess_risk"] - runs["approx_error"],
    )
    points = summarize(runs, ["rank", "n_samples"], "excess_risk")
    predicted = runs.groupby(["rank", "n_samples"], sort=True)["predicted"].mean().to_numpy()
    ratio = points["measured"].to_numpy() / predicted
    fit = fit_mean_power_law(runs, ["rank", "n_samples"], "estimation")["n_samples"]
    fit = widened(fit, *_next_order_slack(runs))
    outcome = exponent_outcome(
        fit, variable="N", claimed=float(claim.claimed_exponents["N"]), trend="decay", sense="equal"
    )
    decision = decide(exponents=[outcome], n_seeds=int(points["n_seeds"].min()), subject="the reduced-rank reference")
    by_n = pd.Series(ratio).groupby(points["n_samples"].to_numpy()).median()
    if decision.code == "violated" and _still_approaching(by_n):
        decision = replace(
            decision,
            code="inconclusive",
            explanation=(
                f"Pre-asymptotic. Read alone, the exponent would decide: {decision.explanation} But the reference is a "
                "leading-order statement and the "
                "measured/predicted ratio is still moving toward 1 at every step of N "
                f"({', '.join(f'{v:.3g}' for v in by_n)}), "
                "so this grid cannot tell a next-order term from a wrong exponent."
            ),
            would_change=f"Larger N (beyond {by_n.index[-1]:g}): the ratio settling at 1 (holds) or moving away "
            "from it (violated).",
        )
    numbers = {
        "exponent": fit.exponent,
        "exponent_ci": list(fit.ci),
        "claimed_exponent": outcome.claimed,
        "exponent_variable": "N",
        "ratio_median": float(np.median(ratio)),
        "ratio_range": [float(ratio.min()), float(ratio.max())],
        "n_points": len(points),
    }
    worst = int(np.argmax(np.abs(np.log(ratio))))
    worst_point = {
        **points.iloc[worst][["rank", "n_samples", "measured"]].to_dict(),
        "predicted": float(predicted[worst]),
        "ratio": float(ratio[worst]),
    }
    figure = Figure(
        "bound_vs_measured",
        "excess risk against the reduced-rank reference",
        pd.DataFrame(
            {
                "x": points["n_samples"],
                "measured": points["measured"],
                "measured_low": points["measured_low"],
                "measured_high": points["measured_high"],
                "bound": predicted,
                "series": [f"rank={r}" for r in points["rank"]],
            }
        ),
        {
            "x_label": "N (training pairs)",
            "y_label": "excess risk (population - noise floor)",
            "claimed_exponent": outcome.claimed,
        },
    )
    explanation = (
        decision.explanation + f" Measured/predicted excess risk: median {np.median(ratio):.3g}, "
        f"range [{ratio.min():.3g}, {ratio.max():.3g}]; the median ratio goes from {by_n.iloc[0]:.3g} "
        f"at N = {by_n.index[0]:g} to {by_n.iloc[-1]:.3g} at N = {by_n.index[-1]:g}."
    )
    notes = [
        *fit.notes,
        "The reference is leading order in 1/N, not a bound: at small N the OLS value "
        "sigma^2 m n/(N - n - 1) is larger, so only N >= "
        f"{ASYMPTOTIC_FACTOR} (m + n) is used ({int(small.sum())} runs at smaller N left out).",
    ]
    if n_diverged:
        notes.append(f"{n_diverged} diverged runs excluded.")
    return Verdict(
        claim.id,
        experiment,
        decision.code,
        explanation,
        numbers,
        worst_point,
        decision.would_change,
        tuple(notes),
        (figure,),
    )


def _still_approaching(ratio_by_n: pd.Series) -> bool:
    """True when |median measured/predicted - 1| shrinks at every step of N (and is not yet 0): the
    data are still converging to (or passing through) a leading-order reference."""
    distance = np.abs(ratio_by_n.to_numpy(float) - 1.0)
    return len(distance) >= 2 and bool(np.all(np.diff(distance) < 0))


def _next_order_slack(runs: pd.DataFrame) -> tuple[float, str]:
    """How far the local slope may sit from -1 at these N: for least squares the exact excess risk
    is sigma^2 m n/(N - n - 1) (full rank), whose local slope is -N/(N - n - 1)."""
    n_min, n_in = float(runs["n_samples"].min()), float(runs["n"].max())
    delta = (n_in + 1) / (n_min - n_in - 1)
    return delta, (
        f"Interval widened by {delta:.3g}: the next-order term of the least-squares risk, "
        f"sigma^2 m n/(N - n - 1), has local slope -N/(N - n - 1), i.e. {-1 - delta:.3g} at "
        f"N = {n_min:g}."
    )


def data_norms(teacher, n_samples: int, sweep: pd.DataFrame | None = None, *, seeds) -> dict[str, float]:
    """The norms generalization_sqrt needs. Bounded teachers (a `bounds` property): their sure
    R_x, R_y, and R_W = ||W_T||_F + max sqrt(excess risk) over the `sweep`'s students, which bounds
    every ||W_S||_F by the triangle inequality (excess risk = ||W_S - W_T||_F^2 for isotropic
    inputs); "bounded": True. Otherwise the largest ||x||, ||y|| over the training samples and
    ||W_T||_F (the students' scale), with "bounded": False.

    Args:
        teacher: the run's teacher.
        n_samples: the training-set size whose samples are measured.
        sweep: the sweep (for a bounded teacher's R_W).
        seeds: the seeds whose training samples are measured.

    Returns:
        {"R_x", "R_y", "R_W", "bounded"}.
    """
    w_norm = float(np.linalg.norm(teacher.weight))
    if hasattr(teacher, "bounds"):
        slack = float(np.sqrt(np.nanmax(sweep["excess_risk"].to_numpy(float)))) if sweep is not None else 0.0
        return {**teacher.bounds, "R_W": w_norm + slack, "bounded": True}
    r_x = r_y = 0.0
    for seed in seeds:
        sample = teacher.sample(n_samples, seed=seed)
        r_x = max(r_x, float(np.linalg.norm(sample.x, axis=1).max()))
        r_y = max(r_y, float(np.linalg.norm(sample.y, axis=1).max()))
    return {"R_x": r_x, "R_y": r_y, "R_W": w_norm, "bounded": False}


def zero_risk(teacher) -> float:
    """Population risk of the zero predictor: ||W_T||_F^2 (isotropic inputs) + m sigma^2.

    Args:
        teacher: a linear teacher.

    Returns:
        The risk.
    """
    return float(np.sum(np.asarray(teacher.singular_values) ** 2) + teacher.noise_floor)


# -- what validate reads from the C2 experiment (validate.registry) ----------------------------------
@evidence(C2_GENERALIZATION, ("norms",))
def generalization_tables(runs) -> dict[str, pd.DataFrame]:
    """The sweep with each point's zero-predictor risk (the vacuity line), and the data norms the
    explicit-norm bound needs (one row).

    Args:
        runs: c2_generalization Runs.

    Returns:
        {"sweep": the sweep with zero_risk, "norms": one row of `data_norms`}.
    """
    sweep = runs["sweep"].assign(zero_risk=zero_risk(runs.teacher))
    norms = data_norms(runs.teacher, int(sweep["n_samples"].max()), sweep, seeds=sorted(sweep["seed"].unique()))
    return {"sweep": sweep, "norms": pd.DataFrame([norms])}


judged_tables(C2_GENERALIZATION, "sweep")  # one row per (rank, N, seed); "norms" is one row in all


# the zero predictor's risk: a risk, a gap or an excess risk above it says nothing a constant predictor does not
RISK_COLUMNS = ("gen_gap", "excess_risk", "test_risk")


@trivial(C2_GENERALIZATION)
def generalization_trivial(sweep: pd.DataFrame) -> dict[str, pd.Series]:
    """The trivial value of every risk column of the c2 sweep: the zero predictor's risk
    (`zero_risk`, the vacuity line GAP_SPEC reads too).

    Args:
        sweep: the c2 sweep with its zero_risk column (validate's evidence).

    Returns:
        {measured column: the zero predictor's risk per row} ({} without a zero_risk column).
    """
    if GAP_SPEC.trivial not in sweep:
        return {}
    return {column: sweep[GAP_SPEC.trivial] for column in RISK_COLUMNS if column in sweep}


@prediction(C2_GENERALIZATION)
def generalization_predictions(runs) -> dict[str, Prediction]:
    """c2_generalization: theory's gap on the grid.

    Args:
        runs: c2_generalization Runs.

    Returns:
        {"gen_gap": `gap_prediction()`}.
    """
    return {"gen_gap": gap_prediction()}


@check(C2_GENERALIZATION, "generalization", "generalization_lora_sqrt", "generalization_c1")
def gap_check(claim, runs) -> Verdict:
    """The paper's generalization claims (and the LoRA sqrt(r) and C1-constant variants) on a c2 run.

    Args:
        claim: one of those claims.
        runs: c2_generalization Runs.

    Returns:
        The Verdict.
    """
    return gap_verdict(claim, runs["sweep"], experiment=runs.name)


@check(C2_GENERALIZATION, "generalization_sqrt")
def sqrt_form_check(claim, runs) -> Verdict:
    """generalization_sqrt on a c2 run, at its data norms.

    Args:
        claim: the generalization_sqrt claim.
        runs: c2_generalization Runs, with their norms table.

    Returns:
        The Verdict.
    """
    return sqrt_form_verdict(claim, runs["sweep"], runs["norms"].iloc[0].to_dict(), experiment=runs.name)


@check(C2_GENERALIZATION, "rrr_excess_risk")
def rrr_check(claim, runs) -> Verdict:
    """The reduced-rank excess-risk reference on a c2 run.

    Args:
        claim: the rrr_excess_risk claim.
        runs: c2_generalization Runs.

    Returns:
        The Verdict.
    """
    return rrr_reference_verdict(claim, runs["sweep"], experiment=runs.name)
