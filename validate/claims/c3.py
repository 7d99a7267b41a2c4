"""C3 evidence: does activation cloning maximize the MI between teacher and student?

Setup (simulate.clone_deep): a teacher of two or more layers whose cloned activation h_T (the last
hidden layer) is not its output; the student's hidden h_S = act(W_1 M x) (M = P E^T of rank r)
feeds the teacher's frozen later layers. Arms at equal steps, each at the step size of a grid with
the best held-out output loss (seed mean at the last step):
  noisy      output loss on noisy labels                       (control a)
  kd         output distillation from the clean teacher        (control b)
  kd_clone   kd + alpha * clone loss on h_T (LRC's recipe)     (cloning c)
  noisy_clone noisy + alpha * clone loss                       (reported, when run)

Quantity. MI between deterministic maps of one input can be infinite, so the suite measures
  I(h_T + e_1; h_S + e_2),  e_1, e_2 ~ N(0, s^2 I_d) independent of x and of each other,
with s = `noise_std` in the units of h_T (the teacher's hidden units have mean square 1). For a
deep linear teacher (x ~ N(0, I)) the pair is jointly Gaussian and the MI is exact from the
population covariances (no sampling). For the ReLU teacher it is estimated with KSG (k = 5,
standardized) on `mi_samples` held-out inputs; the estimator is first checked on benchmark tasks
of the same dimensions with known MI (Gaussian pairs, and the same pairs through an invertible
leaky ReLU, which leaves the MI unchanged), at MI levels spanning the measured range.

Verdict on "cloning maximizes the MI" (mutual_information): paired by seed, the last-step MI of
cloning minus that of each control, with a t-interval over seeds.
  holds         both differences' intervals lie above +margin;
  violated      a control beats cloning: a difference's interval lies below -margin;
  inconclusive  otherwise, with the seeds that would decide (at the measured spread).
margin = 0 for exact MI; for an estimated MI it is how much the estimator's bias alone could differ
between the two arms' MI levels on the benchmarks (`estimator_margin`). The clone-error lower bound
I >= h(X) - (1/2) log((2 pi e)^d det Sigma_E) (X = h_T + e_1, E = X - (h_S + e_2)) is a theorem;
it is checked first, exactly for the linear teacher, and a failure there is `violated`.
Clone MSE is a proxy: the report measures, on scaled students c * M (h_S -> c h_S for the linear
and the ReLU first layer), that MI keeps rising with c while the clone MSE is smallest near c = 1.
The loss-MI rank correlation over training is reported as description only: it is no evidence
for the claim (MI and clone MSE both move with training).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from lrkd import theory
from lrkd.simulate import add_noise
from lrkd.simulate.clone_deep import DeepSweep, DeepTeacher
from lrkd.simulate.experiments.c3 import C3_INFORMATION
from lrkd.validate.engine import mi
from lrkd.validate.engine.bounds import BoundSpec, bound_verdict
from lrkd.validate.engine.checks import DEFAULT_CONFIDENCE, mean_interval
from lrkd.validate.registry import check, evidence, judged_tables
from lrkd.validate.engine.verdict import Figure, Verdict

CLONE_ARM, CONTROLS = "kd_clone", ("noisy", "kd")
ARM_LABELS = {
    "noisy": "(a) output loss, noisy labels",
    "kd": "(b) output KD, clean outputs",
    "kd_clone": "(c) KD + clone loss",
    "noisy_clone": "(c') noisy labels + clone loss",
}
SCALES = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0)
ESTIMATED_SCALES = (0.5, 1.0, 2.0, 4.0)  # an estimated MI costs ~0.3 s a point
NOISE_STDS = (0.05, 0.1, 0.2, 0.5, 1.0)  # channel widths of the linear-teacher sensitivity table
KSG_K = 5
DEFAULT_NOISE_STD = 0.2  # s of the MI noise channel, in units of the teacher hidden RMS (1)

# A lower bound on a mutual information is vacuous where it is <= 0, the trivial lower bound.
LOGDET_SPEC = BoundSpec(
    columns={"h_x": "h_x", "logdet_cov_e": "logdet_cov_e", "d": "d"},
    measured="mi",
    grid=("arm_id", "step"),
    trivial="mi_trivial",
    x="step",
    series="arm_id",
    x_label="training step",
    y_label="I(h_T + e1; h_S + e2), nats",
    logx=False,
    logy=False,
)
TRACE_SPEC = replace(LOGDET_SPEC, columns={"h_x": "h_x", "D": "clone_error", "d": "d"})


# -- exact quantities (deep linear teacher) ---------------------------------------------------------
def exact_mi(a: np.ndarray, b: np.ndarray, noise_std: float) -> float:
    """I(A x + e1; B x + e2), x ~ N(0, I), e1, e2 ~ N(0, s^2 I): the Gaussian closed form (nats).

    Args:
        a: teacher hidden map (d x n). b: student hidden map (d_S x n). noise_std: s > 0.
    Returns:
        The exact mutual information.
    """
    joint = np.vstack([a, b])
    cov = joint @ joint.T + noise_std**2 * np.eye(joint.shape[0])
    return float(theory.gaussian_mi_from_covariance(cov, a.shape[0]))


def exact_bound_terms(a: np.ndarray, b: np.ndarray, noise_std: float) -> dict[str, float]:
    """The terms of the clone-error bound for X = A x + e1, f(Y) = Y = B x + e2, exactly.

    Args:
        a, b: the teacher's and the student's maps of x (d x input).
        noise_std: s of the noise channel (e1, e2 ~ N(0, s^2 I)).

    Returns:
        h_x (entropy of X), logdet_cov_e (log det Sigma_E, E = X - Y), clone_error (E||E||^2 =
        clone MSE + 2 d s^2), clone_mse (E||(A - B) x||^2), d.
    """
    d = a.shape[0]
    diff = a - b
    cov_e = diff @ diff.T + 2 * noise_std**2 * np.eye(d)
    return {
        "h_x": float(theory.gaussian_entropy(a @ a.T + noise_std**2 * np.eye(d))),
        "logdet_cov_e": float(np.linalg.slogdet(cov_e)[1]),
        "clone_error": float(np.trace(cov_e)),
        "clone_mse": float(np.sum(diff**2)),
        "d": d,
    }


# -- estimated quantities (ReLU teacher) ------------------------------------------------------------
def estimate_mi(x: np.ndarray, y: np.ndarray) -> float:
    """The estimator used for non-Gaussian representations: KSG (k = KSG_K) on standardized columns.

    Args:
        x, y: samples (N, dx) and (N, dy).

    Returns:
        The MI estimate, in nats.
    """
    return mi.ksg(x, y, k=KSG_K)


def estimator_benchmark(dx: int, dy: int, levels: Sequence[float], n_samples: int, reps: int = 2) -> pd.DataFrame:
    """KSG and Gaussian/CCA estimates on tasks of the given dimensions with known MI.

    Each task: (Z1, Z2) jointly Gaussian with min(dx, dy) equal canonical correlations rho, set so
    that the MI is `level`; "gaussian" uses (Z1, Z2) as they are, "leaky_relu" maps every
    coordinate through z -> max(z, 0.2 z) (invertible, so the MI is unchanged, the law non-Gaussian).
    Args:
        dx, dy: the two dimensions.
        levels: the true MIs, in nats.
        n_samples: samples per task.
        reps: repetitions per task.

    Returns:
        One row per (kind, level, rep, estimator): truth, estimate, error, d.
    """
    k = min(dx, dy)
    rows = []
    for level in levels:
        rho = math.sqrt(1 - math.exp(-2 * level / k))
        for rep in range(reps):
            gen = np.random.default_rng([dx, dy, int(level * 1e6), rep])
            z1 = gen.standard_normal((n_samples, dx))
            z2 = gen.standard_normal((n_samples, dy))
            z2[:, :k] = rho * z1[:, :k] + math.sqrt(1 - rho**2) * z2[:, :k]
            for kind, f in (("gaussian", lambda z: z), ("leaky_relu", lambda z: np.maximum(z, 0.2 * z))):
                x, y = f(z1), f(z2)
                for name, value in (("ksg", estimate_mi(x, y)), ("gaussian", mi.gaussian(x, y))):
                    rows.append(
                        {
                            "kind": kind,
                            "truth": level,
                            "rep": rep,
                            "estimator": name,
                            "estimate": value,
                            "error": value - level,
                            "d": dx + dy,
                        }
                    )
    return pd.DataFrame(rows)


def benchmark_levels(evidence: pd.DataFrame, points: int = 3) -> list[float]:
    """MI levels spanning the measured last-step range (10% beyond each end) for the benchmark.

    Args:
        evidence: the c3 evidence table.
        points: how many levels.

    Returns:
        The levels, in nats.
    """
    last = evidence[evidence["step"] == evidence["step"].max()]["mi"]
    low, high = max(0.05, 0.9 * float(last.min())), 1.1 * float(last.max())
    return [float(v) for v in np.linspace(low, max(high, low * 1.2), points)]


def estimator_margin(benchmark: pd.DataFrame, mi_a: float | None = None, mi_b: float | None = None) -> float:
    """How much the estimator's bias alone could differ between two arms.

    With two MI levels: the largest |err(mi_a) - err(mi_b)| over the benchmark families, err the
    mean KSG error interpolated linearly between the benchmarked levels (the arms share a family:
    the same teacher, architecture and noise channel). Without: the largest spread of the error
    over the whole benchmarked range. Differences in the law's shape beyond what the families
    span are not covered (the verdict's notes say so).

    Args:
        benchmark: an `estimator_benchmark` table.
        mi_a, mi_b: the two arms' MI levels (None: the whole range).

    Returns:
        The margin, in nats.
    """
    errors = benchmark[benchmark["estimator"] == "ksg"].groupby(["kind", "truth"])["error"].mean()
    if mi_a is None or mi_b is None:
        return float(errors.groupby(level="kind").agg(lambda e: e.max() - e.min()).max())
    bands = []
    for _, curve in errors.groupby(level="kind"):
        levels, err = curve.index.get_level_values("truth").to_numpy(), curve.to_numpy()
        bands.append(abs(np.interp(mi_a, levels, err) - np.interp(mi_b, levels, err)))
    return float(max(bands))


def comparison_margin(runs) -> float | Callable[[float, float], float]:
    """The estimator band the arms' comparison allows.

    Args:
        runs: c3_information Runs.

    Returns:
        0 for an exact MI; for an estimated one (a benchmark table), (mi_a, mi_b) -> the pairwise
        band of `estimator_margin`.
    """
    if "benchmark" not in runs:
        return 0.0
    return lambda mi_a, mi_b: estimator_margin(runs["benchmark"], mi_a, mi_b)


# -- evidence ---------------------------------------------------------------------------------------
def chosen_step_sizes(frame: pd.DataFrame) -> dict[str, float]:
    """Per arm, the step size with the lowest seed-mean held-out output loss at the last step
    (a diverged run counts as infinite loss).

    Args:
        frame: the DeepSweep's frame.

    Returns:
        {arm: step size}.
    """
    last = frame[frame["step"] == frame["step"].max()]
    loss = last.assign(output_loss=last["output_loss"].where(~last["diverged"].astype(bool), np.inf))
    means = loss.groupby(["arm", "lr"])["output_loss"].mean().fillna(np.inf)
    return {arm: float(group.droplevel(0).idxmin()) for arm, group in means.groupby(level=0)}


def deep_evidence(sweep: DeepSweep, noise_std: float, *, mi_samples: int = 4000) -> pd.DataFrame:
    """One row per (arm at its chosen step size, seed, recorded step) with MI and bound terms.

    Linear teacher: exact MI and exact bound terms at every recorded step. ReLU teacher: the KSG
    estimate and the sample bound terms (Gaussian surrogate for h(X)) at the last step only.

    Args:
        sweep: the run's DeepSweep.
        noise_std: s of the noise channel.
        mi_samples: samples per estimated MI.

    Returns:
        The evidence table.
    """
    teacher, frame = sweep.teacher, sweep.frame
    chosen = chosen_step_sizes(frame)
    last = int(frame["step"].max())
    rows = []
    for arm, lr in chosen.items():
        runs = frame[(frame["arm"] == arm) & (frame["lr"] == lr)]
        if teacher.activation != "linear":
            runs = runs[runs["step"] == last]
        for run in runs.itertuples():
            m = sweep.projection(seed=run.seed, arm=run.arm, lr=run.lr, step=run.step)  # the row's own run
            if not np.all(np.isfinite(m)):
                continue
            terms = _mi_terms(teacher, m, noise_std, mi_samples, (int(run.seed), int(run.step)))
            rows.append(
                {
                    "arm": arm,
                    "lr": lr,
                    "seed": int(run.seed),
                    "step": int(run.step),
                    "output_loss": run.output_loss,
                    "mi_trivial": 0.0,
                    **terms,
                }
            )
    return pd.DataFrame(rows)


def _mi_terms(teacher: DeepTeacher, m: np.ndarray, noise_std: float, mi_samples: int, key: tuple) -> dict:
    if teacher.activation == "linear":
        a = teacher.hidden_map
        return {"mi": exact_mi(a, a @ m, noise_std), "mi_method": "exact", **exact_bound_terms(a, a @ m, noise_std)}
    x = _inputs(teacher, mi_samples)
    h_t, h_s = teacher.hidden(x), teacher.hidden(x, m)
    # the same noise draws for every arm at a (seed, step): paired arms share common random numbers
    noisy_t, noisy_s = add_noise(h_t, noise_std, ("teacher", *key)), add_noise(h_s, noise_std, ("student", *key))
    bound = mi.clone_lower_bound(noisy_t, noisy_s)
    return {
        "mi": estimate_mi(noisy_t, noisy_s),
        "mi_method": f"ksg(k={KSG_K}, N={mi_samples})",
        "mi_gaussian": mi.gaussian(noisy_t, noisy_s),
        "h_x": bound.h_x,
        "logdet_cov_e": bound.logdet_cov_e,
        "clone_error": bound.mse,
        "clone_mse": float(np.mean(np.sum((h_s - h_t) ** 2, 1))),
        "d": bound.d,
    }


def _inputs(teacher: DeepTeacher, n_samples: int) -> np.ndarray:
    """Held-out inputs of the "mutual-information" stream (the same for every arm and seed)."""
    return teacher.sample(n_samples, seed=0, stream="mutual-information").x


def scaled_students(
    sweep: DeepSweep,
    noise_std: float,
    *,
    arm: str = CLONE_ARM,
    mi_samples: int = 4000,
    scales: Sequence[float] | None = None,
) -> pd.DataFrame:
    """MI and clone MSE of c * M for the trained clone student (each seed, last step) and of the
    teacher copy M = c I, over the scales c. h_S scales by c (linear; ReLU is positively
    homogeneous), so the clone MSE is smallest near c = 1 while the noise s stays fixed.

    Args:
        sweep: the run's DeepSweep.
        noise_std: s of the noise channel.
        arm: the clone arm.
        mi_samples: samples per estimated MI.
        scales: the scales c (default SCALES, ESTIMATED_SCALES for an estimated MI).

    Returns:
        One row per (series, seed, scale): mi, clone_mse.
    """
    teacher, frame = sweep.teacher, sweep.frame
    lr = chosen_step_sizes(frame)[arm]
    last = int(frame["step"].max())
    seeds = sorted(frame["seed"].unique())
    linear = teacher.activation == "linear"
    scales = scales or (SCALES if linear else ESTIMATED_SCALES)
    students = [
        ("trained clone student", int(s), sweep.projection(seed=int(s), arm=arm, lr=lr, step=last)) for s in seeds
    ]
    students.append(("teacher copy c * W_T", -1, np.eye(teacher.n)))
    rows = []
    for name, seed, m in students:
        if not linear and seed > seeds[0]:
            continue  # estimated MI costs ~0.4 s a point: one seed for ReLU
        for c in scales:
            terms = _mi_terms(teacher, c * m, noise_std, mi_samples, ("scaled", seed + 1, int(c * 1000)))
            rows.append(
                {"series": name, "seed": seed, "scale": float(c), "mi": terms["mi"], "clone_mse": terms["clone_mse"]}
            )
    return pd.DataFrame(rows)


def noise_sensitivity(
    sweep: DeepSweep,
    evidence: pd.DataFrame,
    noise_stds: Sequence[float] = NOISE_STDS,
    controls: Sequence[str] = CONTROLS,
    clone_arm: str = CLONE_ARM,
) -> pd.DataFrame:
    """Linear teacher: the last-step MI gain of cloning over each control at other channel widths s
    (exact, the same trained students): does the comparison depend on the noise that defines the MI?

    Args:
        sweep: the run's DeepSweep.
        evidence: its evidence table (the chosen step sizes).
        noise_stds: the channel widths s.
        controls, clone_arm: the arms compared.

    Returns:
        One row per (noise_std, control): gain, gain_low, gain_high.
    """
    teacher = sweep.teacher
    a = teacher.hidden_map
    last = evidence[evidence["step"] == evidence["step"].max()]
    rows = []
    for s in noise_stds:
        mi_of = {
            (r.arm, r.seed): exact_mi(a, a @ sweep.projection(seed=r.seed, arm=r.arm, lr=r.lr, step=r.step), s)
            for r in last.itertuples()
        }
        for control in controls:
            diffs = np.array(
                [mi_of[(clone_arm, seed)] - mi_of[(control, seed)] for seed in sorted(last["seed"].unique())]
            )
            low, high = mean_interval(diffs)
            rows.append(
                {
                    "noise_std": float(s),
                    "control": control,
                    "gain": float(diffs.mean()),
                    "gain_low": low,
                    "gain_high": high,
                }
            )
    return pd.DataFrame(rows)


def _sensitivity_sentence(runs) -> str:
    """The gain over clean KD at the other noise widths, when the run measured them (else "")."""
    if "noise_sensitivity" not in runs:
        return ""
    table = runs["noise_sensitivity"]
    parts = [
        f"s = {r.noise_std:g}: {r.gain:+.2f} [{r.gain_low:+.2f}, {r.gain_high:+.2f}]"
        for r in table[table["control"] == "kd"].itertuples()
    ]
    return "Gain over clean KD at other noise widths: " + "; ".join(parts) + "."


def deep_tables(
    sweep: DeepSweep, noise_std: float, *, mi_samples: int = 4000, benchmark_reps: int = 2
) -> dict[str, pd.DataFrame]:
    """The evidence tables of a c3_information run from its DeepSweep.

    Args:
        sweep: the run's DeepSweep.
        noise_std: s of the noise channel.
        mi_samples: samples per estimated MI (ReLU teacher).
        benchmark_reps: repetitions per benchmark task.

    Returns:
        {"evidence", "arms", "scaled"[, "noise_sensitivity"][, "benchmark"]}: the noise
        sensitivity for a linear teacher with every arm, the benchmark (estimator checked at the
        teacher's hidden width) only for a ReLU teacher.
    """
    teacher = sweep.teacher
    evidence = deep_evidence(sweep, noise_std, mi_samples=mi_samples)
    tables = {
        "evidence": evidence,
        "arms": arm_summary(evidence),
        "scaled": scaled_students(sweep, noise_std, mi_samples=mi_samples),
    }
    if teacher.activation == "linear" and set(CONTROLS) | {CLONE_ARM} <= set(evidence["arm"]):
        tables["noise_sensitivity"] = noise_sensitivity(sweep, evidence)
    if teacher.activation != "linear":
        tables["benchmark"] = estimator_benchmark(
            teacher.d, teacher.d, benchmark_levels(evidence), mi_samples, benchmark_reps
        )
    return tables


# -- comparisons and the verdict --------------------------------------------------------------------
@dataclass(frozen=True)
class Comparison:
    """Paired last-step MI difference better - worse over seeds, and what it decides."""

    better: str
    worse: str
    mean: float
    ci: tuple[float, float]
    n_seeds: int
    margin: float
    outcome: str  # "above" | "below" | "undecided"
    seeds_to_decide: int | None

    def sentence(self) -> str:
        low, high = self.ci
        return (
            f"{self.better} - {self.worse}: {self.mean:+.3g} nats [{low:+.3g}, {high:+.3g}] over {self.n_seeds} seeds"
        )


def compare_arms(
    evidence: pd.DataFrame,
    better: str,
    worse: str,
    *,
    margin: float | Callable[[float, float], float] = 0.0,
    confidence: float = DEFAULT_CONFIDENCE,
) -> Comparison:
    """MI(better) - MI(worse) at the last step, paired by seed, with a t-interval.

    Args:
        evidence: deep_evidence rows. better, worse: arm names. margin: estimator band (0 if exact),
            or a function of the two arms' mean MI giving it.
    Returns:
        A Comparison: outcome "above" (interval > +margin), "below" (< -margin) or "undecided",
        with the seeds that would decide at the measured spread (None if the mean is within the
        margin: more seeds cannot decide then).
    """
    last = evidence[evidence["step"] == evidence["step"].max()].set_index(["arm", "seed"])["mi"]
    diffs = (last.loc[better] - last.loc[worse]).dropna().to_numpy()
    low, high = mean_interval(diffs, confidence)
    if callable(margin):
        margin = margin(float(last.loc[better].mean()), float(last.loc[worse].mean()))
    outcome = "above" if low > margin else "below" if high < -margin else "undecided"
    return Comparison(
        better,
        worse,
        float(diffs.mean()),
        (float(low), float(high)),
        int(diffs.size),
        margin,
        outcome,
        _seeds_to_decide(diffs, margin, confidence) if outcome == "undecided" else None,
    )


def _seeds_to_decide(diffs: np.ndarray, margin: float, confidence: float) -> int | None:
    """Smallest n whose t-interval at the measured mean and spread would clear +/- margin."""
    effect = abs(diffs.mean()) - margin
    if effect <= 0 or diffs.size < 2:
        return None
    sd = diffs.std(ddof=1)
    for n in range(diffs.size + 1, 100_000):
        if stats.t.ppf(0.5 + confidence / 2, n - 1) * sd / math.sqrt(n) < effect:
            return n
    return None


def arm_summary(evidence: pd.DataFrame) -> pd.DataFrame:
    """Last-step seed mean and t-interval of MI, clone MSE and output loss per arm.

    Args:
        evidence: the c3 evidence table.

    Returns:
        One row per arm.
    """
    last = evidence[evidence["step"] == evidence["step"].max()]
    rows = []
    for arm, group in last.groupby("arm", sort=False):
        low, high = mean_interval(group["mi"].to_numpy())
        rows.append(
            {
                "arm": arm,
                "label": ARM_LABELS.get(arm, arm),
                "lr": float(group["lr"].iloc[0]),
                "mi": float(group["mi"].mean()),
                "mi_low": low,
                "mi_high": high,
                "clone_mse": float(group["clone_mse"].mean()),
                "output_loss": float(group["output_loss"].mean()),
                "n_seeds": len(group),
            }
        )
    order = {a: i for i, a in enumerate(ARM_LABELS)}
    return pd.DataFrame(rows).sort_values("arm", key=lambda s: s.map(order)).reset_index(drop=True)


def non_monotonicity(scaled: pd.DataFrame) -> dict[str, Any]:
    """How far MI is from decreasing in clone MSE along the scaled students.

    Args:
        scaled: a `scaled_students` table.

    Returns:
        For the trained clone students (seed means per scale): MI and clone MSE at c = 1 and at the
        largest scale, the scale of the least clone MSE and of the largest MI, and the fraction of
        scale pairs where the one with the lower clone MSE has the lower MI (0 if MI were
        decreasing in clone MSE).
    """
    trained = scaled[scaled["series"] == "trained clone student"].groupby("scale")[["mi", "clone_mse"]].mean()
    copy = scaled[scaled["series"] == "teacher copy c * W_T"].set_index("scale")
    pairs = [(i, j) for i in trained.index for j in trained.index if i < j]
    discordant = sum(
        1
        for i, j in pairs
        if (trained.loc[i, "clone_mse"] < trained.loc[j, "clone_mse"]) == (trained.loc[i, "mi"] < trained.loc[j, "mi"])
    )
    top = max(trained.index)
    return {
        "mi_at_scale_1": float(trained.loc[1.0, "mi"]),
        "clone_mse_at_scale_1": float(trained.loc[1.0, "clone_mse"]),
        "max_scale": float(top),
        "mi_at_max_scale": float(trained.loc[top, "mi"]),
        "clone_mse_at_max_scale": float(trained.loc[top, "clone_mse"]),
        "scale_of_min_clone_mse": float(trained["clone_mse"].idxmin()),
        "scale_of_max_mi": float(trained["mi"].idxmax()),
        "discordant_pair_fraction": discordant / len(pairs) if pairs else float("nan"),
        "teacher_copy_mi_at_1": float(copy.loc[1.0, "mi"]) if 1.0 in copy.index else float("nan"),
        "teacher_copy_mi_at_2": float(copy.loc[2.0, "mi"]) if 2.0 in copy.index else float("nan"),
        "teacher_copy_clone_mse_at_2": float(copy.loc[2.0, "clone_mse"]) if 2.0 in copy.index else float("nan"),
    }


def training_spearman(evidence: pd.DataFrame) -> float:
    """Spearman correlation of clone MSE and MI over every (arm, seed, step) point: description only.

    Args:
        evidence: the c3 evidence table.

    Returns:
        The correlation.
    """
    if evidence["step"].nunique() < 3 or len(evidence) < 3:
        return float("nan")
    return float(stats.spearmanr(evidence["clone_mse"], evidence["mi"]).statistic)


def mutual_information_verdict(claim, runs, *, experiment: str, trace: bool = False) -> Verdict:
    """The C3 claim on a deep-teacher run: the clone-error bound, then cloning against both controls.

    Args:
        claim: the mutual_information (or _trace) Claim. runs: the experiment's Runs (tables
            "evidence", "arms", "scaled", optional "benchmark") as simulate.experiments.c3.InformationRuns.
        experiment: the name in the verdict. trace: check the trace form of the bound only.
    Returns:
        The Verdict (holds / violated / inconclusive; assumptions_not_met for the bound on a
        non-Gaussian teacher).
    """
    evidence = runs["evidence"]
    exact = runs.activation == "linear"
    unmet = (
        ()
        if exact
        else (
            "X = h_T + e1 is not Gaussian (ReLU teacher): h(X) from the covariance is an upper "
            "bound on h(X), so the clone-error bound is not guaranteed against the estimated MI",
        )
    )
    base = _with_arm_names(
        bound_verdict(
            claim,
            evidence.assign(arm_id=_arm_ids(evidence)),
            TRACE_SPEC if trace else LOGDET_SPEC,
            experiment=experiment,
            unmet=unmet,
            title=f"{claim.id}: MI and the clone-error lower bound",
        )
    )
    if trace or base.code == "violated":
        return base
    return comparison_verdict(claim, runs, experiment=experiment, margin=comparison_margin(runs), base=base)


def _arm_ids(evidence: pd.DataFrame) -> pd.Series:
    """A numeric code per arm (bound grids and their notes take numbers): its index in ARM_LABELS."""
    return evidence["arm"].map({a: i for i, a in enumerate(ARM_LABELS)}).astype(int)


def _with_arm_names(verdict: Verdict) -> Verdict:
    """Put the arm names back on the bound figure's series ("arm_id=2" -> "kd_clone")."""
    names = {f"arm_id={i}": a for i, a in enumerate(ARM_LABELS)}
    figures = tuple(
        replace(f, data=f.data.assign(series=f.data["series"].map(names))) if "series" in f.data.columns else f
        for f in verdict.figures
    )
    notes = tuple(
        n.replace("arm_id in", "arm (" + ", ".join(f"{i} = {a}" for i, a in enumerate(ARM_LABELS)) + ") in")
        for n in verdict.notes
    )
    return replace(verdict, figures=figures, notes=notes)


def comparison_verdict(
    claim,
    runs,
    *,
    experiment: str,
    margin: float | Callable[[float, float], float] = 0.0,
    base: Verdict | None = None,
    clone_arm: str = CLONE_ARM,
    controls: Sequence[str] = CONTROLS,
    claim_sense: str = "greater",
) -> Verdict:
    """Cloning against each control: holds if every comparison is in the claim's direction beyond
    its interval, violated if one is against it beyond its interval, else inconclusive.

    claim_sense "greater" reads the claim as MI(clone_arm) > MI(control) for every control;
    "not_greater" as MI(clone_arm) <= MI(control) (a planted opposite).

    Args:
        claim: the claim (or a planted one).
        runs: c3_information Runs with their evidence.
        experiment: the name the verdict gives the evidence.
        margin: the estimator band (a number, or (mi_a, mi_b) -> band).
        base: a bound verdict checked alongside (its numbers, notes and figures are kept).
        clone_arm, controls: the arms compared.
        claim_sense: "greater" or "not_greater".

    Returns:
        The Verdict.
    """
    evidence = runs["evidence"]
    present = set(evidence["arm"])
    missing = [a for a in (clone_arm, *controls) if a not in present]
    arms = arm_summary(evidence)
    figures = (base.figures if base else ()) + _figures(runs, arms)
    if missing:
        return Verdict(
            claim.id,
            experiment,
            "inconclusive",
            f"Arms {missing} were not run: cloning cannot be compared with both controls "
            "(the one-layer clone target is the clean output; run simulate.deep_clone_sweep).",
            {"arms_run": sorted(present)},
            None,
            "Run the noisy-label and clean-KD controls.",
            figures=figures,
        )
    comparisons = [compare_arms(evidence, clone_arm, c, margin=margin) for c in controls]
    code, sentence, would = _decide(comparisons, claim_sense)
    numbers = {
        **(base.numbers if base else {}),
        **({"bound_check": base.code} if base else {}),
        **_numbers(arms, comparisons, runs),
    }
    notes = (
        (base.notes if base else ())
        + (
            f"MI: I(h_T + e1; h_S + e2), e1, e2 ~ N(0, s^2 I), s = {runs.noise_std} "
            f"(teacher hidden units have mean square 1); {evidence['mi_method'].iloc[0]}.",
            "Step sizes per arm: "
            + ", ".join(f"{r.arm} {r.lr:g}" for r in arms.itertuples())
            + f" (the best seed-mean held-out output loss on the grid {runs.lrs})"
            + _edge_note(arms, runs.lrs)
            + ".",
            "Clone MSE is a proxy: MI is not monotone in it (numbers nonmonotone_*).",
            "The Spearman correlation of clone MSE and MI over training is description, not evidence.",
        )
        + (
            (
                "Estimator band: the benchmarked KSG error difference between the two arms' MI levels within one "
                "family (Gaussian, leaky-ReLU); bias from a law's shape beyond these families is not covered.",
            )
            if any(c.margin for c in comparisons)
            else ()
        )
    )
    if base:  # the bound is a theorem checked alongside; its own sentence goes to the notes
        sentence += f" Clone-error bound check: {base.label}."
        notes = (f"Bound check: {base.explanation}",) + notes
    sentence = " ".join(filter(None, (sentence, _sensitivity_sentence(runs))))
    return Verdict(
        claim.id, experiment, code, sentence, numbers, base.worst_point if base else None, would, notes, figures
    )


def _edge_note(arms: pd.DataFrame, grid) -> str:
    """Which arms chose a step size at an end of the grid (their best may lie outside it)."""
    if not grid:
        return ""
    edge = [r.arm for r in arms.itertuples() if r.lr in (min(grid), max(grid))]
    return f"; at an end of the grid: {', '.join(edge)}" if edge else "; every choice is inside the grid"


def _decide(comparisons: list[Comparison], sense: str) -> tuple[str, str, str]:
    good, bad = ("above", "below") if sense == "greater" else ("below", "above")
    text = "; ".join(c.sentence() + (f" (estimator band {c.margin:.3g})" if c.margin else "") for c in comparisons)
    if any(c.outcome == bad for c in comparisons):
        who = [c.worse for c in comparisons if c.outcome == bad]
        verb = "A control beats cloning" if sense == "greater" else "Cloning beats a control"
        return (
            "violated",
            f"{verb} beyond its interval ({', '.join(who)}): {text}.",
            "The interval of that difference crossing to the other side of zero.",
        )
    if all(c.outcome == good for c in comparisons):
        return (
            "holds",
            f"Cloning {'beats' if sense == 'greater' else 'stays below'} both controls: {text}.",
            "A control's MI interval reaching the cloning student's.",
        )
    needs = [c.seeds_to_decide for c in comparisons if c.outcome == "undecided"]
    more = (
        ("; about " + str(max(needs)) + " seeds at the measured spread would decide")
        if all(needs)
        else "; the difference is within the estimator band, so more seeds cannot decide it"
    )
    return (
        "inconclusive",
        f"Not decided (an interval does not clear zero, or the estimator band): {text}{more}.",
        "More seeds" if all(needs) else "An exact MI (a Gaussian teacher) or a tighter estimator",
    )


def _numbers(arms: pd.DataFrame, comparisons: list[Comparison], runs) -> dict[str, Any]:
    out: dict[str, Any] = {"seeds": comparisons[0].n_seeds}
    for r in arms.itertuples():
        out[f"mi_{r.arm}"] = r.mi
        out[f"mi_{r.arm}_ci"] = [r.mi_low, r.mi_high]
        out[f"lr_{r.arm}"] = r.lr
        out[f"clone_mse_{r.arm}"] = r.clone_mse
        out[f"output_loss_{r.arm}"] = r.output_loss
    for c in comparisons:
        out[f"mi_gain_over_{c.worse}"] = c.mean
        out[f"mi_gain_over_{c.worse}_ci"] = list(c.ci)
        out[f"outcome_vs_{c.worse}"] = c.outcome
        out[f"estimator_band_vs_{c.worse}"] = c.margin
        if c.seeds_to_decide:
            out[f"seeds_to_decide_vs_{c.worse}"] = c.seeds_to_decide
    if "scaled" in runs and len(runs["scaled"]):
        out.update({f"nonmonotone_{k}": v for k, v in non_monotonicity(runs["scaled"]).items()})
    out["spearman_clone_mse_mi_description"] = training_spearman(runs["evidence"])
    return out


def _figures(runs, arms: pd.DataFrame) -> tuple[Figure, ...]:
    label = runs.activation
    figs = [
        Figure(
            "mi_by_arm",
            f"C3 ({label} teacher): MI per arm at equal steps",
            arms,
            {
                "y_label": "I(h_T + e1; h_S + e2), nats",
                "caption": "Last-step MI per arm (bars: "
                "t-interval over seeds), each arm at its best step size on the grid.",
            },
        )
    ]
    if "scaled" in runs and len(runs["scaled"]):
        scaled = runs["scaled"].groupby(["series", "scale"], sort=False)[["mi", "clone_mse"]].mean().reset_index()
        figs.append(
            Figure(
                "mi_vs_mse",
                f"C3 ({label} teacher): MI is not monotone in clone MSE",
                scaled,
                {
                    "caption": "Scaled students c * h_S (labels: c): the clone MSE is smallest near "
                    "c = 1, the MI keeps rising with c."
                },
            )
        )
    if "benchmark" in runs:
        bench = runs["benchmark"].assign(estimator=lambda f: f["estimator"] + " / " + f["kind"])
        figs.append(
            Figure(
                "estimate_vs_truth",
                "MI estimators on benchmarks of the same dimension",
                bench,
                {"x_label": "true MI (nats)", "y_label": "estimate (nats)"},
            )
        )
    return tuple(figs)


# -- the one-layer clone sweep (kept so check_claim accepts a simulate.CloneSweep) -------------------
def shallow_evidence(sweep, rank: int, alphas, *, seeds, noise_std: float) -> pd.DataFrame:
    """Evidence rows of a one-layer simulate.clone_sweep: alpha = 0 is arm "noisy", alpha > 0
    "noisy_clone" (its clone target is the clean output). There is no clean-KD control, so the
    comparison verdict is inconclusive by design of that run, not by the code.

    Args:
        sweep: the CloneSweep.
        rank: the students' rank.
        alphas: the clone weights run.
        seeds: the seeds run.
        noise_std: s of the noise channel.

    Returns:
        The evidence table (exact MI and bound terms per arm, seed and step).
    """
    w_teacher = sweep.stored[0].arrays["teacher_weight"]
    rows = []
    for alpha in alphas:
        for seed in seeds:
            for i, step in enumerate(sweep.steps()):
                w = sweep.weights(rank, alpha, seed=seed)[i]
                terms = exact_bound_terms(w_teacher, w, noise_std)
                rows.append(
                    {
                        "arm": "noisy" if alpha == 0 else "noisy_clone",
                        "lr": float("nan"),
                        "seed": seed,
                        "step": step,
                        "output_loss": terms["clone_mse"],
                        "mi_trivial": 0.0,
                        "mi": exact_mi(w_teacher, w, noise_std),
                        "mi_method": "exact",
                        **terms,
                    }
                )
    return pd.DataFrame(rows)


# -- what validate reads from the C3 experiment (validate.registry) ----------------------------------
# one row per (arm, lr, seed, evaluation step); "arms" and "scaled" summarize over seeds
judged_tables(C3_INFORMATION, "evidence")


@evidence(C3_INFORMATION, ("evidence", "arms", "scaled"))
def information_tables(runs) -> dict[str, pd.DataFrame]:
    """MI per arm, seed and step (exact or estimated), the arms' summary and the scaled students.

    Args:
        runs: c3_information Runs.

    Returns:
        `deep_tables` of its sweep ({} for evidence planted by hand).
    """
    if runs.sweep is None:  # evidence planted by hand: nothing to derive it from
        return {}
    return deep_tables(runs.sweep, runs.noise_std, mi_samples=runs.mi_samples, benchmark_reps=runs.benchmark_reps)


@check(C3_INFORMATION, "mutual_information")
def information_check(claim, runs) -> Verdict:
    """C3 (the log-det clone-error bound and cloning against both controls) on a c3 run.

    Args:
        claim: the mutual_information claim or a planted variant.
        runs: c3_information Runs.

    Returns:
        The Verdict.
    """
    return mutual_information_verdict(claim, runs, experiment=runs.name)


@check(C3_INFORMATION, "mutual_information_trace")
def information_trace_check(claim, runs) -> Verdict:
    """C3's trace form on a c3 run.

    Args:
        claim: the mutual_information_trace claim or a planted variant.
        runs: c3_information Runs.

    Returns:
        The Verdict.
    """
    return mutual_information_verdict(claim, runs, experiment=runs.name, trace=True)
