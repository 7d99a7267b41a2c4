"""Evidence from real LRC distillation (simulate.lrc): C1-C4 measured on a pretrained teacher.

Every verdict code here is computed from the runs; none is written down in advance.
  C4  a rank sweep: students over a d_S grid x token budgets N x seeds, each trained for several
      epochs on its own fixed N-token set and scored on one fixed held-out set (KL to the
      teacher; LM loss beside it). r*(N) = the width with the lowest seed-mean held-out KL, with
      a seed-bootstrap band (validate.rstar); its exponent is read against 1/2 by the engine
      (validate.checks), and with >= 4 budgets inside the grid the growth law is identified
      (validate.growth). r* on the widest width at every N is "beyond the grid": inconclusive.
  C1  plain constant-step SGD on the projections (simulate.lrc.sgd) at several T: measured
      (1/T) sum_t ||grad f(P_t)||^2 (unbiased estimate) against Ghadimi-Lan with L and sigma^2
      measured along the path and Delta = f(P_0) (the KD objective is >= 0); an assumption counts
      as broken only when a measured number breaks it (eta L > 1 along the path).
  C2  the generalization gap, held-out minus training LM loss on tokens the student trained on,
      after the same steps, against r(m+n)/sqrt(N) summed over every projection matrix.
  C3  MI between teacher and student residual streams over training (>= 8 snapshots, >= 3
      seeds, with and without the clone loss); the estimator is picked by its error on benchmark
      tasks of the same dimension and sample count, estimates near log(samples) are flagged.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import numpy as np
import pandas as pd
from scipy import stats

from lrkd.simulate.experiments.real import LRC_REAL
from lrkd.validate.engine import mi
from lrkd.validate.engine.bounds import BoundSpec, bound_verdict
from lrkd.validate.claims.c1 import C1_SPEC
from lrkd.validate.engine.checks import decide, exponent_outcome, mean_interval
from lrkd.validate.engine.growth import fit_growth_laws
from lrkd.validate.registry import check, evidence, judged_tables
from lrkd.validate.engine.rstar import empirical_rstar, fit_rstar_exponent, rstar_replicates, rstar_variance
from lrkd.validate.engine.stability import DEFAULT_RESAMPLES, require_stable, seed_bootstrap_stability
from lrkd.validate.engine.verdict import Figure, Verdict

PCA_DIMS = 8
SATURATION = 0.9  # an MI estimate above this fraction of log(samples) is flagged as near the cap
MIN_GROWTH_SIZES = 4
PLATEAU_TOL = 0.05  # relative change of the epoch-mean training loss over the last epoch
# Stability resamples (validate.engine.stability), chosen by measured cost. The C3 code is cheap
# (about 0.01 s a resample): DEFAULT_RESAMPLES. A bound verdict (C1, C2) refits its exponents with
# their own bootstraps, about 0.2 s a resample: BOUND_STABILITY_RESAMPLES, about 10 s a verdict. The
# rank verdict recomputes empirical_rstar's and the exponent fit's seed bootstraps on every resample,
# at RANK_INNER_RESAMPLES (the least empirical_rstar takes; about 0.04 s a resample).
# 50 resamples still resolve the MIN_STABILITY threshold to 1/50.
BOUND_STABILITY_RESAMPLES = 50
RANK_STABILITY_RESAMPLES = 100
RANK_INNER_RESAMPLES = 100
NOT_RECORDED = "not recorded"


# -- precision and stability, shared by every real verdict ------------------------------------------
def precision_of(*tables: pd.DataFrame) -> str:
    """The precision the runs computed in, from their `dtype` column (simulate.lrc resolved_dtype).

    Args:
        tables: evidence tables (those without a `dtype` column are skipped).

    Returns:
        The one precision ("float32", "bfloat16-autocast", "float64"); several, joined by " + "
        (a finding: the runs disagree on precision); NOT_RECORDED when no table names one.
    """
    found = sorted({str(v) for t in tables if "dtype" in t for v in t["dtype"].dropna().unique()})
    return " + ".join(found) if found else NOT_RECORDED


def labelled(experiment: str, precision: str) -> str:
    """The evidence's name with its precision: "lrc_real (teacher; float32)".

    Args:
        experiment: the evidence's name (Runs.name: the experiment, its label in parentheses).
        precision: a `precision_of` result (NOT_RECORDED leaves the name as it is).

    Returns:
        The name the verdict carries.
    """
    if precision == NOT_RECORDED:
        return experiment
    return f"{experiment[:-1]}; {precision})" if experiment.endswith(")") else f"{experiment} ({precision})"


def with_stability(
    verdict: Verdict,
    decide_code: Callable[[dict[str, pd.DataFrame]], str],
    tables: dict[str, pd.DataFrame],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
) -> Verdict:
    """The verdict with its seed-bootstrap stability and precision: numbers["stability"],
    numbers["stability_codes"], numbers["precision"], the precision in its experiment name, and a
    decisive code under MIN_STABILITY turned inconclusive (validate.engine.stability).

    Args:
        verdict: the full-data verdict.
        decide_code: tables -> code, the same rule the verdict applied.
        tables: the evidence tables (those with a seed column are resampled by seed).
        n_resamples: the stability's resamples.

    Returns:
        The verdict, amended.
    """
    found = seed_bootstrap_stability(decide_code, tables, n_resamples=n_resamples, code=verdict.code)
    ruled = require_stable(verdict.code, found)
    precision = precision_of(*tables.values())
    numbers = {
        **verdict.numbers,
        "stability": found.share,
        "stability_codes": dict(found.tally),
        "stability_resamples": found.n_resamples,
        "precision": precision,
    }
    return dataclasses.replace(
        verdict,
        experiment=labelled(verdict.experiment, precision),
        code=ruled.code,
        explanation=verdict.explanation + ruled.sentence,
        numbers=numbers,
        would_change=ruled.would_change or verdict.would_change,
    )


# -- C4: the rank sweep ---------------------------------------------------------------------------
def plateau_table(steps: pd.DataFrame, final: pd.DataFrame) -> pd.DataFrame:
    """Per student: epoch-mean training loss of the last two epochs and their relative change.

    Args:
        steps: the students' per-step training losses.
        final: one row per student (its training-set tokens).

    Returns:
        One row per (cell_key, student): epoch_loss_last, epoch_loss_previous, plateau_change.
    """
    rows = []
    per_epoch = final.set_index(["cell_key", "student"])["n_train_tokens"] if "cell_key" in final else None
    for (cell, student), run in steps.groupby(["cell_key", "student"]):
        tokens = int(per_epoch.loc[(cell, student)]) if per_epoch is not None else len(run)
        epoch_steps = max(1, tokens // int(run["tokens_seen"].iloc[0]))
        losses = run.sort_values("step")["loss"].to_numpy()
        last, prev = (
            losses[-epoch_steps:].mean(),
            losses[-2 * epoch_steps : -epoch_steps].mean() if len(losses) >= 2 * epoch_steps else math.nan,
        )
        rows.append(
            {
                "cell_key": cell,
                "student": student,
                "epoch_loss_last": float(last),
                "epoch_loss_previous": float(prev),
                "plateau_change": float(abs(prev - last) / abs(prev)) if np.isfinite(prev) and prev else math.nan,
            }
        )
    return pd.DataFrame(rows)


def rank_evidence(final: pd.DataFrame, plateau: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (d_S, N, seed): held-out KL and LM loss, N = the student's training-set tokens.

    Args:
        final: one row per student.
        plateau: a `plateau_table` (adds plateau_change), if any.

    Returns:
        The rank evidence table.
    """
    out = pd.DataFrame(
        {
            "rank": final["d_S"].astype(int),
            "n_samples": final["n_train_tokens"].astype(int),
            "seed": final["seed"].astype(int),
            "heldout_kl": final["heldout_kl"],
            "heldout_lm_loss": final["heldout_lm_loss"],
            "epochs": final["epochs"],
            "steps": final["steps"] if "steps" in final else math.nan,
            "n_trainable": final["n_trainable"],
            "diverged": final["diverged"],
        }
    )
    if "dtype" in final:
        out["dtype"] = final["dtype"].to_numpy()
    if plateau is not None and len(plateau):
        keyed = plateau.set_index(["cell_key", "student"])["plateau_change"]
        out["plateau_change"] = [keyed.get((c, s), math.nan) for c, s in zip(final["cell_key"], final["student"])]
    return out


def lrc_rank_verdict(
    claim, evidence: pd.DataFrame, *, experiment: str, risk: str = "heldout_kl", teacher: str = ""
) -> Verdict:
    """r*(N) from the real rank sweep, read against the claim (see the module docstring), with its
    seed-bootstrap stability and precision (`with_stability`).

    Args:
        claim: an exponent claim on N.
        evidence: a `rank_evidence` table.
        experiment: the name the verdict gives the evidence.
        risk: the held-out risk column r* minimizes.
        teacher: the teacher's name, for the explanation.

    Returns:
        The Verdict.
    """
    verdict = _rank_verdict(claim, evidence, experiment=experiment, risk=risk, teacher=teacher)

    def code(tables: dict[str, pd.DataFrame]) -> str:
        return _rank_verdict(
            claim, tables["rank"], experiment=experiment, risk=risk, n_resamples=RANK_INNER_RESAMPLES
        ).code

    return with_stability(verdict, code, {"rank": evidence}, n_resamples=RANK_STABILITY_RESAMPLES)


def _rank_verdict(
    claim, evidence: pd.DataFrame, *, experiment: str, risk: str, teacher: str = "", n_resamples: int | None = None
) -> Verdict:
    """`lrc_rank_verdict` on the full data, before stability (n_resamples: the inner bootstraps';
    None: their defaults)."""
    inner = {} if n_resamples is None else {"n_resamples": n_resamples}
    rstar = empirical_rstar(evidence, risk, **inner)
    widths = sorted(int(w) for w in evidence["rank"].unique())
    claimed = float(claim.claimed_exponents["N"])
    inside = (rstar["at_edge"] == "").to_numpy()
    n_seeds = int(rstar["n_seeds"].min())
    numbers = {
        "rstar": rstar["rstar"].tolist(),
        "rstar_low": rstar["rstar_low"].tolist(),
        "rstar_high": rstar["rstar_high"].tolist(),
        "n_samples": rstar["n_samples"].tolist(),
        "widths": widths,
        "seeds": n_seeds,
        "claimed_exponent": claimed,
        "exponent_variable": "N",
        "rstar_over_sqrt_n": (rstar["rstar"] / np.sqrt(rstar["n_samples"])).round(4).tolist(),
        "risk": risk,
    }
    located = "; ".join(
        f"N = {n:g}: r* = {r} [{lo}, {hi}]"
        for n, r, lo, hi in rstar[["n_samples", "rstar", "rstar_low", "rstar_high"]].itertuples(index=False)
    )
    head = f"Measured r*(N) ({teacher}; risk: {risk}): {located} over d_S in {widths}."
    fit = None
    if (rstar["at_edge"] == "upper").all():
        code, why = (
            "inconclusive",
            (
                f" r* is beyond the grid: the widest student (d_S = {widths[-1]}) has the lowest "
                "held-out risk at every budget, so r* >= that width and its growth is "
                "not measured."
            ),
        )
        would = f"Wider students (d_S > {widths[-1]}) or smaller budgets, until r* falls inside the grid."
    elif (rstar["at_edge"] == "lower").all():
        code, why = (
            "inconclusive",
            (f" r* is below the grid: the narrowest student (d_S = {widths[0]}) wins at every budget."),
        )
        would = f"Narrower students (d_S < {widths[0]}) or larger budgets."
    elif inside.sum() < 2:
        code, why = (
            "inconclusive",
            (
                f" r* lies strictly inside the grid at {int(inside.sum())} budget(s) only; "
                "elsewhere it sits on an edge and only bounds the optimum."
            ),
        )
        would = "More budgets with r* inside the width grid (wider grid or more budgets)."
    else:
        fit = fit_rstar_exponent(rstar, evidence, risk=risk, drop_edge=True, **inner)
        outcome = exponent_outcome(fit, variable="N", claimed=claimed, trend="growth", sense="upper")
        decision = decide(exponents=[outcome], n_seeds=n_seeds, subject="the rank claim")
        code, why, would = decision.code, " " + decision.explanation, decision.would_change
        numbers.update({"exponent": fit.exponent, "exponent_ci": list(fit.ci)})
    growth_text, growth_numbers = _growth(rstar, inside, evidence, risk, inner)
    numbers.update(growth_numbers)
    if code == "holds" and growth_numbers.get("growth_law") == "unidentified":
        # As for the synthetic C4: an interval that merely reaches the claimed exponent, on budgets
        # too few to tell a power law from a logarithm or a constant, confirms nothing.
        code = "inconclusive"
        why += (
            " The exponent interval is consistent with the claim but also with no growth at all, and the "
            "growth law is not identified, so the grid cannot confirm r* = O(N^%g)." % claimed
        )
        would = (
            f"At least {MIN_GROWTH_SIZES} budgets with r* inside the width grid (the full preset runs 4) and "
            "more seeds, so that the growth law is identified."
        )
    explanation = head + why + growth_text
    figure = _rstar_figure(claim, rstar, fit, widths[-1], teacher)
    notes = [
        *rstar.attrs.get("notes", []),
        *(fit.notes if fit is not None else ()),
        "N counts the tokens of each student's fixed training set (sequences of seq_len tokens), "
        "not i.i.d. samples; each student trains on it for several epochs.",
        *_training_note(evidence),
    ]
    if "plateau_change" in evidence and evidence["plateau_change"].notna().any():
        worst = float(evidence["plateau_change"].max())
        numbers["plateau_change_max"] = worst
        notes.append(
            f"Training-loss plateau: the epoch-mean loss changed by at most {worst:.1%} over the last epoch "
            f"(students above {PLATEAU_TOL:.0%}: {int((evidence['plateau_change'] > PLATEAU_TOL).sum())})."
        )
    return Verdict(
        claim.id, experiment, code, explanation, numbers, None, would, tuple(dict.fromkeys(notes)), (figure,)
    )


def _training_note(evidence: pd.DataFrame) -> list[str]:
    """How long the students trained (steps and passes over their training set, least and most),
    read from the evidence; [] when it does not record them."""
    if not {"steps", "epochs"} <= set(evidence) or evidence["steps"].isna().all():
        return []
    steps, epochs = evidence["steps"], evidence["epochs"]
    return [
        f"Training: every student took {int(steps.min())} to {int(steps.max())} optimizer steps, "
        f"{epochs.min():.3g} to {epochs.max():.3g} passes over its training set (the convergence criterion "
        "of simulate.experiments.real.rank_token_budget: at least the preset's min_steps steps and its "
        "epochs passes)."
    ]


def _growth(
    rstar: pd.DataFrame, inside: np.ndarray, evidence: pd.DataFrame, risk: str, inner: dict
) -> tuple[str, dict]:
    """The growth law of r*(N) (validate.growth) when >= 4 budgets have r* inside the grid (inner:
    the seed bootstraps' n_resamples, if set)."""
    if inside.sum() < MIN_GROWTH_SIZES:
        return (
            f" Growth law not identified: {int(inside.sum())} budget(s) have r* inside the grid, "
            f"{MIN_GROWTH_SIZES} are needed to tell a power law from a logarithm.",
            {"growth_law": "unidentified"},
        )
    # As the synthetic C4 fits it (validate.claims.c4): the seed resamples' r*(N) curves give each
    # law's bootstrap wins, and the variance of r* is the larger of theirs and a uniform choice over
    # the flat range (the widths the seeds cannot tell from r*).
    kept = rstar[inside]
    sizes = kept["n_samples"].to_numpy(dtype=float)
    replicates = rstar_replicates(evidence, sizes, risk=risk, **inner)
    growth = fit_growth_laws(sizes, kept["rstar"], rstar_variance(kept, replicates), replicates)
    return (
        f" Growth law: {growth.summary()}.",
        {
            "growth_law": growth.best if growth.identified else "unidentified",
            "best_law": growth.best,
            "delta_aicc": growth.delta_aicc,
            "growth_exponent": growth.exponent,
            "growth_exponent_ci": list(growth.exponent_ci),
        },
    )


def _rstar_figure(claim, rstar: pd.DataFrame, fit, widest: int, teacher: str) -> Figure:
    data = rstar[["n_samples", "rstar", "rstar_low", "rstar_high"]].assign(series="measured (seed band)")
    meta = {
        "sqrt_reference": True,
        "rank_max": widest,
        "rank_max_label": f"widest student in the grid, d_S = {widest}",
        "x_label": "N (training-set tokens)",
        "y_label": "r* (student width d_S)",
    }
    if fit is not None and np.isfinite(fit.exponent):
        meta["fit"] = {"exponent": fit.exponent, "ci": list(fit.ci), "intercept": fit.intercept}
    short = teacher.split(",")[0] + (" (reduced)" if "reduced" in teacher else "")
    return Figure("rstar_vs_n", f"{claim.id}: measured r* against N, {short}", data, meta)


# -- C1: plain SGD --------------------------------------------------------------------------------


def convergence_evidence(runs: pd.DataFrame, constants: pd.DataFrame) -> pd.DataFrame:
    """One row per (seed, T): the measured average and the constants measured along that seed's path.

    Args:
        runs: the SGD runs (one row per seed and T).
        constants: the probes along each path (L, sigma2 per seed).

    Returns:
        The C1 evidence table (with eta_L, L0, n_probes, and the runs' dtype when they name it).
    """
    rows = []
    for seed, group in runs.groupby("seed"):
        probes = constants[constants["seed"] == seed]
        lipschitz, sigma2 = float(probes["L"].max()), float(probes["sigma2"].max())
        for _, r in group.iterrows():
            rows.append(
                {
                    "seed": int(seed),
                    "T": int(r["T"]),
                    "avg_grad_norm_sq": float(r["avg_grad_dot"]),
                    "avg_grad_norm_sq_minibatch": float(r["avg_grad_norm_sq_minibatch"]),
                    "L": lipschitz,
                    "sigma": math.sqrt(sigma2),
                    "Delta": float(r["f0"]),
                    "lr": float(r["lr"]),
                    "eta_L": float(r["lr"]) * lipschitz,
                    "L0": float(r["L0"]),
                    "n_probes": len(probes),
                    **({"dtype": r["dtype"]} if "dtype" in r else {}),
                }
            )
    return pd.DataFrame(rows)


def lrc_premises_broken(evidence: pd.DataFrame) -> list[str]:
    """Assumptions of the bound that a measured number breaks (eta <= 1/L; Delta finite and >= 0).

    Args:
        evidence: a `convergence_evidence` table.

    Returns:
        One sentence per broken assumption, with its number ([] when none is broken).
    """
    broken = []
    worst = evidence.loc[evidence["eta_L"].idxmax()]
    if worst["eta_L"] > 1.0:
        broken.append(
            f"step size above 1/L: eta L = {worst['eta_L']:.3g} at T = {int(worst['T'])} (seed "
            f"{int(worst['seed'])}), L measured along the path = {worst['L']:.3g} against "
            f"L(P_0) = {worst['L0']:.3g} that set eta"
        )
    if not np.all(np.isfinite(evidence["Delta"])) or (evidence["Delta"] < 0).any():
        broken.append("f(P_0) not finite and >= 0")
    return broken


def lrc_convergence_verdict(claim, evidence: pd.DataFrame, *, experiment: str) -> Verdict:
    """C1 on plain SGD of the real student, with L and sigma^2 measured along the path, with its
    seed-bootstrap stability and precision (`with_stability`).

    Args:
        claim: the convergence claim.
        evidence: a `convergence_evidence` table.
        experiment: the name the verdict gives the evidence.

    Returns:
        The Verdict.
    """
    verdict = _convergence_verdict(claim, evidence, experiment=experiment)
    return with_stability(
        verdict,
        lambda t: _convergence_verdict(claim, t["convergence"], experiment=experiment).code,
        {"convergence": evidence},
        n_resamples=BOUND_STABILITY_RESAMPLES,
    )


def _convergence_verdict(claim, evidence: pd.DataFrame, *, experiment: str) -> Verdict:
    notes = (
        "Plain SGD (no momentum, clipping, schedule) on a finite sum over fixed batches; the measured "
        "average is (1/T) sum_t g_t . g'_t with two independent batches per step, an unbiased estimate of "
        "(1/T) sum_t ||grad f(P_t)||^2.",
        f"L: Hessian power iteration (finite differences) at {int(evidence['n_probes'].max())} points per seed "
        "(start and along the longest path), max taken; sigma^2: the exact variance of the uniform batch draw "
        "at the same points, max taken; Delta = f(P_0) since the KD objective is >= 0.",
        "A deep network is not globally L-smooth: L is the largest curvature measured, not a proven constant.",
    )
    return bound_verdict(
        claim,
        evidence,
        C1_SPEC,
        experiment=experiment,
        unmet=lrc_premises_broken(evidence),
        notes=notes,
        title=f"{claim.id}: plain SGD on the real student against the bound",
    )


# -- C2 ---------------------------------------------------------------------------------------------
def generalization_evidence(final: pd.DataFrame, vocab: int, n_matrices: int) -> pd.DataFrame:
    """One row per student: gap = held-out minus training-set LM loss after the same steps, and the
    bound's inputs: every projection P (d_T x d_S, rank d_S) counts d_S (d_T + d_S), so
    r(m+n) = n_matrices d_S (d_T + d_S) with r = n_matrices d_S, m = d_T, n = d_S.

    Args:
        final: one row per student.
        vocab: the vocabulary size (the trivial value is log vocab).
        n_matrices: the projection matrices per student.

    Returns:
        The C2 evidence table (with the runs' dtype when they name it).
    """
    out = pd.DataFrame(
        {
            "student": final["student"],
            "seed": final["seed"].astype(int),
            "d_S": final["d_S"],
            "rank": n_matrices * final["d_S"],
            "m": final["d_T"],
            "n": final["d_S"],
            "n_samples": final["n_train_tokens"],
            "gen_gap": final["heldout_lm_loss"] - final["train_eval_lm_loss"],
            "zero_risk": math.log(vocab),
            "diverged": final["diverged"],
        }
    )
    if "dtype" in final:
        out["dtype"] = final["dtype"].to_numpy()
    return out


def lrc_generalization_verdict(claim, evidence: pd.DataFrame, *, experiment: str) -> Verdict:
    """C2 on the real students: the gap against the paper's form r(m+n)/sqrt(N).

    Args:
        claim: the generalization claim (or generalization_c1).
        evidence: a `generalization_evidence` table.
        experiment: the name the verdict gives the evidence.

    Returns:
        The Verdict, with its seed-bootstrap stability and precision (`with_stability`).
    """
    verdict = _generalization_verdict(claim, evidence, experiment=experiment)
    return with_stability(
        verdict,
        lambda t: _generalization_verdict(claim, t["generalization"], experiment=experiment).code,
        {"generalization": evidence},
        n_resamples=BOUND_STABILITY_RESAMPLES,
    )


def _generalization_verdict(claim, evidence: pd.DataFrame, *, experiment: str) -> Verdict:
    spec = BoundSpec(
        columns={"r": "rank", "m": "m", "n": "n", "N": "n_samples"},
        measured="gen_gap",
        grid=("n_samples", "d_S"),
        trivial="zero_risk",
        x="n_samples",
        series="d_S",
        x_label="N (training-set tokens)",
        y_label="held-out minus training LM loss (nats/token)",
    )
    notes = (
        "Gap: LM loss on held-out tokens minus LM loss on tokens of the student's own training set, after "
        "the same steps (several epochs). r(m+n) sums d_S (d_T + d_S) over every projection matrix (norm "
        "weights not counted); N = training-set tokens, which are not i.i.d. samples.",
        "Trivial value: log(vocabulary size), the cross-entropy of a uniform guess.",
    )
    return bound_verdict(
        claim,
        evidence,
        spec,
        experiment=experiment,
        notes=notes,
        title=f"{claim.id}: real students, gap against the paper's form",
    )


# -- C3 ---------------------------------------------------------------------------------------------
def top_components(x: np.ndarray, k: int = PCA_DIMS) -> np.ndarray:
    """Standardized scores on the top-k principal components (the coordinates the MI is taken in).

    Args:
        x: samples (N, d).
        k: how many components.

    Returns:
        The scores (N, k), each column of unit variance.
    """
    x = x - x.mean(0)
    u, s, _ = np.linalg.svd(x, full_matrices=False)
    scores = u[:, :k] * s[:k]
    return scores / scores.std(0)


def lrc_estimator_benchmark(dim: int, n_samples: int, *, levels=(0.5, 2.0), seed: int = 0) -> pd.DataFrame:
    """Each MI estimator against the truth on tasks of the real data's dimension and sample count:
    jointly Gaussian pairs (d + d, true MI set by a shared correlation), and the same pairs pushed
    through an invertible elementwise map (x + x^3 / 3: the MI is unchanged, the Gaussian form no
    longer exact).

    Args:
        dim: the dimension of each side.
        n_samples: samples per task.
        levels: the true MIs, in nats.
        seed: the tasks' and the estimators' seed.

    Returns:
        One row per (task, level, estimator): truth, estimate, d, n_samples.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for level in levels:
        rho = math.sqrt(1 - math.exp(-2 * level / dim))  # I = -(d/2) log(1 - rho^2)
        x = rng.standard_normal((n_samples, dim))
        y = rho * x + math.sqrt(1 - rho**2) * rng.standard_normal((n_samples, dim))
        for task, (a, b) in {"gaussian": (x, y), "warped": (x + x**3 / 3, y + y**3 / 3)}.items():
            for name, value in _estimates(a, b, seed).items():
                rows.append(
                    {
                        "task": task,
                        "truth": level,
                        "estimator": name,
                        "estimate": value,
                        "d": dim,
                        "n_samples": n_samples,
                    }
                )
    return pd.DataFrame(rows)


def _estimates(x: np.ndarray, y: np.ndarray, seed: int) -> dict[str, float]:
    return {"gaussian": mi.gaussian(x, y), "ksg": mi.ksg(x, y, k=3), "infonce": _infonce(x, y, seed)}


def _infonce(x: np.ndarray, y: np.ndarray, seed: int = 0) -> float:
    """InfoNCE with batches of a quarter of the samples (half of them train the critic, half score it)."""
    return float(mi.infonce(x, y, seed=seed, steps=150, batch_size=max(2, min(128, len(x) // 4))))


def choose_estimator(benchmark: pd.DataFrame) -> str:
    """The estimator with the smallest worst absolute error over the benchmark tasks.

    Args:
        benchmark: a `lrc_estimator_benchmark` table.

    Returns:
        The estimator's name.
    """
    err = (benchmark["estimate"] - benchmark["truth"]).abs().groupby(benchmark["estimator"]).max()
    return str(err.idxmin())


def _estimate(name: str, x: np.ndarray, y: np.ndarray) -> float:
    return {"gaussian": lambda: mi.gaussian(x, y), "ksg": lambda: mi.ksg(x, y, k=3), "infonce": lambda: _infonce(x, y)}[
        name
    ]()


def information_evidence(
    index: pd.DataFrame, arrays: dict[str, np.ndarray], estimator: str, final: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Per student (alpha, seed) and snapshot step, last stored layer: held-out clone loss and MI.

    Args:
        index: the stored hidden-state arrays' index (role, layer, cell_key, step, ...).
        arrays: {"cell_key/array name": hidden states}.
        estimator: the MI estimator's name (`choose_estimator`).
        final: the C3 students' final rows (clone_final), whose `dtype` each row inherits by
            cell_key (None, or no such column: no dtype column).

    Returns:
        The C3 evidence table.
    """
    precision = (
        final.groupby("cell_key")["dtype"].first().to_dict()
        if final is not None and {"cell_key", "dtype"} <= set(final)
        else None
    )
    layer = int(index["layer"].max())
    teachers = index[(index["role"] == "teacher") & (index["layer"] == layer)]
    rows = []
    for _, row in index[(index["role"] == "student") & (index["layer"] == layer)].iterrows():
        t_name = teachers.loc[teachers["cell_key"] == row["cell_key"], "array"].iloc[0]
        x = top_components(arrays[f"{row['cell_key']}/{t_name}"].astype(np.float64))
        y = top_components(arrays[f"{row['cell_key']}/{row['array']}"].astype(np.float64))
        value = _estimate(estimator, x, y)
        rows.append(
            {
                "seed": int(row["seed"]),
                "alpha": float(row["alpha"]),
                "layer": layer,
                "step": int(row["step"]),
                "clone_loss": float(row["heldout_clone_loss"]),
                "mi": value,
                "estimator": estimator,
                "n_tokens": len(x),
                "saturated": bool(value > SATURATION * math.log(len(x))),
                **({"dtype": precision.get(row["cell_key"])} if precision is not None else {}),
            }
        )
    return pd.DataFrame(rows)


def lrc_information_verdict(claim, evidence: pd.DataFrame, benchmark: pd.DataFrame, *, experiment: str) -> Verdict:
    """Cloning raises MI: loss-MI rank correlation over training and the clone-vs-no-clone MI gap,
    each with a t-interval over seeds; decided from those intervals.

    Args:
        claim: the mutual_information claim.
        evidence: an `information_evidence` table.
        benchmark: the estimator benchmark (its errors are reported).
        experiment: the name the verdict gives the evidence.

    Returns:
        The Verdict, with its seed-bootstrap stability and precision (`with_stability`).
    """
    verdict = _information_verdict(claim, evidence, benchmark, experiment=experiment)
    return with_stability(
        verdict,
        lambda t: _information_code(_trend(t["information"]), _gain(t["information"])),
        {"information": evidence},
    )


def _information_code(trend: dict, gain: dict) -> str:
    """violated when an interval excludes zero on the wrong side, holds when both exclude it on the
    claimed side, inconclusive otherwise."""
    lo, hi = trend["spearman_loss_mi_ci"]
    g_lo, g_hi = gain["mi_gain_clone_ci"]
    if lo > 0 or g_hi < 0:
        return "violated"
    if hi >= 0 or g_lo <= 0:
        return "inconclusive"
    return "holds"


def _information_verdict(claim, evidence: pd.DataFrame, benchmark: pd.DataFrame, *, experiment: str) -> Verdict:
    trend = _trend(evidence)
    gain = _gain(evidence)
    estimator = str(evidence["estimator"].iloc[0])
    err = (benchmark["estimate"] - benchmark["truth"]).abs().groupby(benchmark["estimator"]).max()
    n_flag = int(evidence["saturated"].sum())
    numbers = {
        **trend,
        **gain,
        "estimator": estimator,
        "benchmark_max_error": err.round(4).to_dict(),
        "saturated_estimates": n_flag,
        "log_samples": math.log(int(evidence["n_tokens"].iloc[0])),
        "snapshots": int(evidence["step"].nunique()),
        "seeds": int(evidence["seed"].nunique()),
    }
    lo, hi = trend["spearman_loss_mi_ci"]
    g_lo, g_hi = gain["mi_gain_clone_ci"]
    text = (
        f"MI ({estimator}, picked on benchmark tasks of dimension {PCA_DIMS} + {PCA_DIMS}: worst errors "
        + ", ".join(f"{k} {v:.2g}" for k, v in err.items())
        + " nats) between teacher and student residual "
        f"streams over {numbers['snapshots']} snapshots and {numbers['seeds']} seeds. Clone loss vs MI: mean "
        f"Spearman {trend['spearman_loss_mi']:.3g} [{lo:.3g}, {hi:.3g}]; MI with cloning (alpha = "
        f"{gain['alpha_compared']:g}) minus without at the last snapshot: {gain['mi_gain_clone']:.3g} nats "
        f"[{g_lo:.3g}, {g_hi:.3g}]."
    )
    code = _information_code(trend, gain)
    tail = {
        "violated": " An interval excludes zero on the wrong side: cloning does not raise the MI here.",
        "inconclusive": " An interval covers zero: more seeds would decide.",
        "holds": " Both intervals exclude zero in the claimed direction.",
    }[code]
    if n_flag:
        tail += f" {n_flag} estimate(s) exceed {SATURATION:g} log(samples), the cap of high-confidence lower bounds."
    means = evidence.groupby(["alpha", "step"], sort=True)[["clone_loss", "mi"]].mean().reset_index()
    means = means.rename(columns={"mi": f"mi_{estimator}" if estimator != "gaussian" else "mi_gaussian"})
    means["series"] = [f"alpha={a:g}" + (" (no clone)" if a == 0 else "") for a in means.pop("alpha")]
    figure = Figure(
        "mi_vs_clone",
        "real students: MI to the teacher and held-out clone loss (seed means)",
        means,
        {"spearman": trend["spearman_loss_mi"]} if np.isfinite(trend["spearman_loss_mi"]) else {},
    )
    notes = (
        f"MI of the top-{PCA_DIMS} principal-component scores of each residual stream on fixed held-out tokens: "
        "a finite-dimensional surrogate (MI between deterministic maps of one input can be infinite).",
    )
    return Verdict(
        claim.id,
        experiment,
        code,
        text + tail,
        numbers,
        None,
        "Intervals that exclude zero (more seeds), or an estimator with smaller benchmark error.",
        notes,
        (figure,),
    )


def _trend(evidence: pd.DataFrame) -> dict:
    rhos = []
    for _, run in evidence[evidence["alpha"] > 0].groupby("seed"):
        run = run[run["step"] > 0]
        if run["clone_loss"].nunique() > 2:
            rhos.append(stats.spearmanr(run["clone_loss"], run["mi"]).statistic)
    rhos = np.asarray(rhos, dtype=float)
    low, high = mean_interval(rhos) if rhos.size else (math.nan, math.nan)
    return {
        "spearman_loss_mi": float(rhos.mean()) if rhos.size else math.nan,
        "spearman_loss_mi_ci": [float(low), float(high)],
        "runs": int(rhos.size),
    }


def _gain(evidence: pd.DataFrame) -> dict:
    last = evidence[evidence["step"] == evidence["step"].max()].set_index(["alpha", "seed"])["mi"]
    alphas = sorted(a for a in last.index.get_level_values(0).unique() if a > 0)
    if not alphas or 0.0 not in last.index.get_level_values(0):
        return {"mi_gain_clone": math.nan, "mi_gain_clone_ci": [math.nan, math.nan], "alpha_compared": math.nan}
    diffs = (last.loc[alphas[-1]] - last.loc[0.0]).dropna().to_numpy()
    low, high = mean_interval(diffs)
    return {
        "mi_gain_clone": float(diffs.mean()),
        "mi_gain_clone_ci": [float(low), float(high)],
        "alpha_compared": alphas[-1],
    }


# -- what validate reads from the real run (validate.registry) --------------------------------------
# one row per student (and N, or snapshot step) or per SGD run; "mi_benchmark" scores estimators, not runs
judged_tables(LRC_REAL, "rank", "generalization", "information", "convergence")


@evidence(LRC_REAL, ("rank", "generalization", "information", "mi_benchmark", "convergence"))
def lrc_tables(runs) -> dict[str, pd.DataFrame]:
    """Every claim's evidence from the stored cells: the rank sweep's (with its plateau check), the
    gap's, the MI's (with the estimator chosen on a benchmark of the same size) and SGD's.

    Args:
        runs: lrc_real Runs.

    Returns:
        {"rank", "generalization", "information", "mi_benchmark", "convergence"}.
    """
    benchmark = lrc_estimator_benchmark(PCA_DIMS, runs.mi_tokens)
    return {
        "rank": rank_evidence(runs["final"], plateau_table(runs.steps, runs["final"])),
        "generalization": generalization_evidence(runs["final"], runs.vocab, runs.n_matrices),
        "information": information_evidence(
            runs.hidden_index, runs.arrays, choose_estimator(benchmark), runs.get("clone_final")
        ),
        "mi_benchmark": benchmark,
        "convergence": convergence_evidence(runs["sgd_runs"], runs["sgd_constants"]),
    }


@check(LRC_REAL, "convergence")
def lrc_convergence_check(claim, runs) -> Verdict:
    """C1 on the real run.

    Args:
        claim: the convergence claim.
        runs: lrc_real Runs.

    Returns:
        The Verdict.
    """
    return lrc_convergence_verdict(claim, runs["convergence"], experiment=runs.name)


@check(LRC_REAL, "generalization", "generalization_c1")
def lrc_generalization_check(claim, runs) -> Verdict:
    """C2 on the real run.

    Args:
        claim: the generalization claim (or generalization_c1).
        runs: lrc_real Runs.

    Returns:
        The Verdict.
    """
    return lrc_generalization_verdict(claim, runs["generalization"], experiment=runs.name)


@check(LRC_REAL, "mutual_information")
def lrc_information_check(claim, runs) -> Verdict:
    """C3 on the real run.

    Args:
        claim: the mutual_information claim.
        runs: lrc_real Runs.

    Returns:
        The Verdict.
    """
    return lrc_information_verdict(claim, runs["information"], runs["mi_benchmark"], experiment=runs.name)


@check(LRC_REAL, "optimal_rank")
def lrc_rank_check(claim, runs) -> Verdict:
    """C4 on the real run.

    Args:
        claim: the optimal_rank claim.
        runs: lrc_real Runs.

    Returns:
        The Verdict.
    """
    return lrc_rank_verdict(claim, runs["rank"], experiment=runs.name, teacher=runs.label)
