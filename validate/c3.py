"""C3 evidence: does activation cloning raise the mutual information between teacher and student?

Quantity (claims.md C3 caveat: MI between deterministic maps of one input can be infinite): the
MI between the teacher's and the student's cloned activations, each with independent Gaussian
noise of standard deviation `noise_std` added, X = W_T x + e1 and Y = W_S x + e2, x ~ N(0, I).
For the linear LRC-style student X and Y are jointly Gaussian, so the exact MI follows from the
population covariances (ground truth); estimators (validate.mi) are set against it.

Three testable pieces, one verdict:
  1. the lower bound h(X) - (1/2) log((2 pi e)^d det Sigma_E) from the clone error E = X - Y
     (estimated from samples) stays below the exact MI at every recorded step;
  2. MI rises while the clone loss falls during training (Spearman rank correlation per seed);
  3. at equal steps, students trained with the clone loss (alpha > 0) reach a higher MI than
     those trained without it (alpha = 0), paired by seed.
A broken bound or a significant effect in the wrong direction is "violated"; an effect whose
interval covers zero is "inconclusive".
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from scipy import stats

import theory
from validate import mi
from validate.bounds import BoundSpec, bound_verdict
from validate.checks import mean_interval
from validate.verdict import Figure, Verdict

# A lower bound on a mutual information is vacuous where it is <= 0, the trivial lower bound.
LOGDET_SPEC = BoundSpec(columns={"h_x": "h_x", "logdet_cov_e": "logdet_cov_e", "d": "d"}, measured="mi_exact",
                        grid=("alpha", "step"), trivial="mi_trivial", x="step", series="alpha",
                        x_label="training step", y_label="I(X; Y), nats", logx=False, logy=False)
TRACE_SPEC = replace(LOGDET_SPEC, columns={"h_x": "h_x", "D": "clone_mse", "d": "d"})


def exact_mi(w_teacher: np.ndarray, w_student: np.ndarray, noise_std: float, cov_x: np.ndarray | None = None) -> float:
    """I(W_T x + e1; W_S x + e2) for x ~ N(0, cov_x), e1, e2 ~ N(0, noise_std^2 I): Gaussian closed form."""
    cov_x = np.eye(w_teacher.shape[1]) if cov_x is None else cov_x
    joint = np.vstack([w_teacher, w_student])
    cov = joint @ cov_x @ joint.T + noise_std**2 * np.eye(joint.shape[0])
    return float(theory.gaussian_mi_from_covariance(cov, w_teacher.shape[0]))


def information_evidence(sweep, rank: int, alphas, seeds, noise_std: float) -> pd.DataFrame:
    """One row per (alpha, seed, recorded step): clone loss, exact MI, Gaussian MI estimate, bounds."""
    traj = sweep.frame.set_index(["rank", "alpha", "seed", "step"])
    w_teacher = sweep.stored[0].arrays["teacher_weight"]
    rows = []
    for alpha in alphas:
        for seed in seeds:
            weights = sweep.weights(rank, alpha, seed)
            for i, step in enumerate(sweep.steps()):
                x, y = sweep.representations(rank, alpha, seed, step, noise_std=noise_std)
                bound = mi.clone_lower_bound(x, y)
                rows.append({"alpha": float(alpha), "seed": seed, "step": step,
                             "clone_loss": float(traj.loc[(rank, float(alpha), seed, step), "clone_loss"]),
                             "mi_exact": exact_mi(w_teacher, weights[i], noise_std),
                             "mi_gaussian": mi.gaussian(x, y), "mi_lower_bound": bound.logdet_bound,
                             "mi_lower_bound_trace": bound.trace_bound, "h_x": bound.h_x,
                             "logdet_cov_e": bound.logdet_cov_e, "clone_mse": bound.mse, "d": bound.d,
                             "mi_trivial": 0.0})
    return pd.DataFrame(rows)


def estimator_check(sweep, rank: int, alpha: float, seed: int, noise_std: float) -> pd.DataFrame:
    """Every estimator against the exact MI at the recorded steps of one run (costly: one run only)."""
    w_teacher = sweep.stored[0].arrays["teacher_weight"]
    weights = sweep.weights(rank, alpha, seed)
    rows = []
    for i, step in enumerate(sweep.steps()):
        x, y = sweep.representations(rank, alpha, seed, step, noise_std=noise_std)
        truth = exact_mi(w_teacher, weights[i], noise_std)
        estimates = {"gaussian": mi.gaussian(x, y), "ksg": mi.ksg(x, y, k=3),
                     "infonce": float(mi.infonce(x, y, seed=seed, steps=200))}
        rows += [{"truth": truth, "estimate": v, "estimator": k, "d": x.shape[1], "step": step}
                 for k, v in estimates.items()]
    return pd.DataFrame(rows)


def mutual_information_verdict(claim, evidence: pd.DataFrame, *, experiment: str, trace: bool = False) -> Verdict:
    """The C3 claim: the bound check (logdet or trace form), then the two effects of cloning."""
    spec = TRACE_SPEC if trace else LOGDET_SPEC
    base = bound_verdict(claim, evidence, spec, experiment=experiment,
                         title=f"{claim.id}: exact MI and the clone-error lower bound")
    if base.code in ("violated", "assumptions_not_met") or trace:
        return base
    trend = _trend(evidence)
    gain = _clone_gain(evidence)
    code, sentence = _combine(base, trend, gain)
    numbers = {**base.numbers, **trend, **gain}
    figure = _mi_figure(evidence, trend["spearman_loss_mi"])
    return Verdict(claim.id, experiment, code, sentence, numbers, base.worst_point,
                   "A clone-vs-no-clone MI difference or a loss-MI correlation of the other sign.",
                   base.notes + ("MI of noisy representations: X = W_T x + e1, Y = W_S x + e2, noise as stated "
                                 "in the experiment config; exact by the Gaussian closed form.",),
                   base.figures + (figure,))


def _trend(evidence: pd.DataFrame) -> dict:
    """Spearman correlation of clone loss and exact MI over training, per seed (cloning students)."""
    rhos = []
    for (_, _), run in evidence[evidence["alpha"] > 0].groupby(["alpha", "seed"]):
        run = run[run["step"] > 0]
        if run["clone_loss"].nunique() > 2:
            rhos.append(stats.spearmanr(run["clone_loss"], run["mi_exact"]).statistic)
    rhos = np.asarray(rhos)
    low, high = mean_interval(rhos) if rhos.size else (np.nan, np.nan)
    return {"spearman_loss_mi": float(np.mean(rhos)) if rhos.size else np.nan,
            "spearman_loss_mi_ci": [low, high], "runs_with_negative_spearman": int(np.sum(rhos < 0)),
            "runs": int(rhos.size)}


def _clone_gain(evidence: pd.DataFrame) -> dict:
    """Final-step exact MI of cloning students minus that of alpha = 0 students, paired by seed."""
    last = evidence[evidence["step"] == evidence["step"].max()].set_index(["alpha", "seed"])["mi_exact"]
    alphas = sorted(a for a in last.index.get_level_values(0).unique() if a > 0)
    if 0.0 not in last.index.get_level_values(0) or not alphas:
        return {}
    diffs = (last.loc[alphas[-1]] - last.loc[0.0]).dropna().to_numpy()
    low, high = mean_interval(diffs)
    return {"mi_gain_clone": float(diffs.mean()), "mi_gain_clone_ci": [low, high], "alpha_compared": alphas[-1]}


def _combine(base: Verdict, trend: dict, gain: dict) -> tuple[str, str]:
    rho_low, rho_high = trend["spearman_loss_mi_ci"]
    parts = [base.explanation,
             f"Over training, clone loss and MI have mean Spearman correlation {trend['spearman_loss_mi']:.3g} "
             f"[{rho_low:.3g}, {rho_high:.3g}] over {trend['runs']} runs."]
    wrong = rho_low > 0
    unclear = not rho_high < 0
    if gain:
        g_low, g_high = gain["mi_gain_clone_ci"]
        parts.append(f"At the last step, cloning (alpha = {gain['alpha_compared']:g}) changes the MI by "
                     f"{gain['mi_gain_clone']:.3g} nats [{g_low:.3g}, {g_high:.3g}] against alpha = 0.")
        wrong = wrong or g_high < 0
        unclear = unclear or not g_low > 0
    if wrong:
        return "violated", " ".join(parts + ["Cloning does not raise the MI here."])
    if unclear:
        return "inconclusive", " ".join(parts + ["An interval covers zero: more seeds would decide."])
    return base.code, " ".join(parts)


def _mi_figure(evidence: pd.DataFrame, spearman: float) -> Figure:
    means = evidence.groupby(["alpha", "step"], sort=True)[
        ["clone_loss", "mi_exact", "mi_gaussian", "mi_lower_bound"]].mean().reset_index()
    means["series"] = [f"alpha={a:g}" + (" (no clone)" if a == 0 else "") for a in means["alpha"]]
    return Figure("mi_vs_clone", "MI and clone loss over training (seed means)", means.drop(columns="alpha"),
                  {"spearman": spearman} if np.isfinite(spearman) else {})


def estimator_figure(check: pd.DataFrame) -> Figure:
    return Figure("estimate_vs_truth", "MI estimators against the exact Gaussian MI", check,
                  {"x_label": "exact MI (nats)", "y_label": "estimate (nats)"})
