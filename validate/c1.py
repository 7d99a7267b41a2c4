"""C1 evidence: SGD stationarity against the Ghadimi-Lan bound, and the smoothness transfer.

Two controlled problems (simulate/):
  quadratic  f(x) = x^T H x / 2 with gradient noise of known variance: L, sigma^2, Delta exact,
             so the bound is known to be true there (the calibration anchor of claims.md);
  low-rank   the linear LRC-style student f(P) = g(W_T P) with a frozen input projection, which
             is quadratic in P: L exact, Delta exact (exact inf f), sigma^2 = the largest exact
             minibatch-gradient variance seen at the recorded points (an estimate: the variance of
             least-squares gradients is not uniformly bounded, it shrinks near the optimum).
For every step budget T, SGD runs T steps with eta = theory.optimal_step_size(L, sigma, Delta, T).
The measured quantity is (1/T) sum_{t<T} ||grad f(P_t)||^2 averaged over seeds: the average the
Ghadimi-Lan bound controls directly (min_t is smaller and obeys the same bound).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from validate.bounds import BoundSpec, bound_verdict
from validate.verdict import Verdict

# theory symbol -> evidence column
C1_COLUMNS = {"T": "T", "L": "L", "sigma": "sigma", "Delta": "Delta"}
C1_SPEC = BoundSpec(columns=C1_COLUMNS, measured="avg_grad_norm_sq", grid=("T",), rates={"T": "T"},
                    trends={"T": "decay"}, x="T", x_label="T (SGD steps)",
                    y_label="(1/T) sum_t ||grad f(P_t)||^2")


def final_rows(trajectory: pd.DataFrame) -> pd.DataFrame:
    """The last recorded row of every run (step == its budget T)."""
    return trajectory[trajectory["step"] == trajectory["steps"]].copy()


def quadratic_evidence(trajectory: pd.DataFrame) -> pd.DataFrame:
    """One row per (T, seed) on the known-constant quadratic."""
    last = final_rows(trajectory)
    return pd.DataFrame({"problem": "quadratic", "T": last["steps"], "seed": last["seed"],
                         "avg_grad_norm_sq": last["avg_grad_norm_sq"], "min_grad_norm_sq": last["min_grad_norm_sq"],
                         "L": last["L_rule"], "sigma": np.sqrt(last["sigma2_rule"]), "Delta": last["delta"],
                         "lr": last["lr"], "diverged": last["diverged"]}).reset_index(drop=True)


def lowrank_evidence(trajectory: pd.DataFrame) -> pd.DataFrame:
    """One row per (T, seed, rank) of the LRC-style student, with the transfer constants."""
    last = final_rows(trajectory)
    sigma2_max = trajectory.groupby(["steps", "seed", "rank"])["sigma2"].max()
    sigma2 = sigma2_max.loc[list(zip(last["steps"], last["seed"], last["rank"]))].to_numpy()
    return pd.DataFrame({"problem": "lowrank", "T": last["steps"].to_numpy(), "seed": last["seed"].to_numpy(),
                         "rank": last["rank"].to_numpy(),
                         "avg_grad_norm_sq": last["avg_grad_norm_sq"].to_numpy(),
                         "min_grad_norm_sq": last["min_grad_norm_sq"].to_numpy(),
                         "L": last["L_exact"].to_numpy(), "sigma": np.sqrt(sigma2), "Delta": last["delta"].to_numpy(),
                         "lr": last["lr"].to_numpy(), "L_g": last["L_g"].to_numpy(),
                         "W_norm": np.sqrt(last["teacher_norm_sq"].to_numpy()),
                         "L_f": last["L_exact"].to_numpy(), "optimizer": last["optimizer"].to_numpy(),
                         "diverged": last["diverged"].to_numpy()})


def convergence_verdict(claim, evidence: pd.DataFrame, *, experiment: str, unmet=(), notes=()) -> Verdict:
    """The C1 bound (or a planted variant with the same symbols) on one evidence table."""
    return bound_verdict(claim, evidence, C1_SPEC, experiment=experiment, unmet=unmet, notes=notes,
                         title=f"{claim.id}: averaged squared gradient norm against the bound ({experiment})")


def transfer_verdict(claim, evidence: pd.DataFrame, *, experiment: str) -> Verdict:
    """L_f <= ||W_T||_2^2 L_g, with L_f the exact smoothness of f(P) = g(W_T P) per run."""
    spec = BoundSpec(columns={"W_norm": "W_norm", "L_g": "L_g"}, measured="L_f", grid=("rank", "run"),
                     x="run", x_label="run (one per seed and rank)", y_label="L_f (exact Hessian norm)")
    runs = evidence.drop_duplicates(["seed", "rank"])
    runs = runs.assign(run=np.arange(1, len(runs) + 1))
    notes = ("L_f and L_g are exact here: f is quadratic in P when the input projection is frozen, "
             "so the check is of the inequality itself, not of an estimate.",)
    return bound_verdict(claim, runs, spec, experiment=experiment, notes=notes,
                         title="smoothness transfer: L_f against ||W_T||^2 L_g")
