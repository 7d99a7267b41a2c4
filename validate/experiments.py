"""Named experiments: one controlled grid per claim, with quick and full presets.

Each experiment is a config dataclass plus a `run` that drives simulate/ through the results
store (resumable) and returns `Runs`: named tables (DataFrames) tagged with the experiment's name
and a label. validate.verdicts turns Runs into one verdict per claim. `lrkd sweep` and
`lrkd report` find them here by name (lrkd.experiments registry).

  c1_quadratic      SGD on a quadratic with known L, sigma, Delta (the C1 bound is known true)
  c1_lowrank        SGD on the linear LRC-style student f(P) = g(W_T P), exact L and Delta
  c2_generalization closed-form reduced-rank regression over ranks x N x seeds
  c3_information    two-layer teachers, a hidden activation cloned; noisy-label and clean-KD controls
  c4_rank           rank sweeps at several N for one planted spectrum
  lrc_real          real LRC distillation of SmolLM2-135M on KJV text (simulate.lrc), with and
                    without the clone loss, sharing one teacher forward per batch
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

import simulate
from lrkd.errors import require, require_float_in, require_int_in
from lrkd.experiments import Experiment, register_experiment
from validate import c1, c2, c3, real


class Runs(dict):
    """{table name: DataFrame} from one experiment run, with the experiment's name and a label."""

    def __init__(self, experiment: str, label: str, tables: dict[str, pd.DataFrame], **context: Any):
        super().__init__(tables)
        self.experiment, self.label, self.context = experiment, label, context

    @property
    def name(self) -> str:
        """What verdicts call this evidence: the experiment, with its label when it has one."""
        return f"{self.experiment} ({self.label})" if self.label else self.experiment


def _positive_ints(values, name: str, low: int = 1) -> None:
    require(len(values) > 0, name, "a non-empty list", values)
    for v in values:
        require_int_in(v, name, low)


# -- spectra in configs ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Spectrum:
    """A planted spectrum: kind "power_law" (decay = alpha) or "exponential" (decay = beta)."""

    kind: Literal["power_law", "exponential"] = "power_law"
    decay: float = 1.0

    def __post_init__(self):
        require_float_in(self.decay, "spectrum.decay", 0.0, open_low=True)

    def build(self):
        return simulate.PowerLaw(self.decay) if self.kind == "power_law" else simulate.Exponential(self.decay)

    @property
    def label(self) -> str:
        return f"power law, alpha={self.decay:g}" if self.kind == "power_law" else f"exponential, beta={self.decay:g}"


@dataclass(frozen=True)
class TeacherConfig:
    """What every linear-teacher experiment shares; subclasses change defaults and add fields."""

    m: int = 32
    n: int = 32
    spectrum: Spectrum = field(default_factory=Spectrum)
    noise: float = 0.5
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    device: str = "auto"

    def __post_init__(self):
        require_int_in(self.m, "m", 2, 4096)
        require_int_in(self.n, "n", 2, 4096)
        require_float_in(self.noise, "noise", 0.0)
        _positive_ints(self.seeds, "seeds", 0)

    def teacher(self) -> simulate.LinearTeacher:
        return simulate.LinearTeacher(self.m, self.n, self.spectrum.build(), noise=self.noise, seed=0)


# -- C1 ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class QuadraticConfig:
    dim: int = 16
    l_min: float = 0.1
    l_max: float = 1.0
    sigma: float = 1.0
    steps: tuple[int, ...] = (100, 200, 400, 800, 1600, 3200, 6400)
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7)
    device: str = "auto"

    def __post_init__(self):
        require_int_in(self.dim, "dim", 1, 10_000)
        require_float_in(self.l_min, "l_min", 0.0, open_low=True)
        require_float_in(self.l_max, "l_max", self.l_min)
        require_float_in(self.sigma, "sigma", 0.0)
        _positive_ints(self.steps, "steps")
        _positive_ints(self.seeds, "seeds", 0)


def run_c1_quadratic(cfg: QuadraticConfig, *, store=None, executor=None, progress=None) -> Runs:
    problem = simulate.Quadratic(tuple(np.linspace(cfg.l_min, cfg.l_max, cfg.dim)), cfg.sigma)
    traj = simulate.quadratic_sweep(problem, cfg.steps, seeds=cfg.seeds, device=cfg.device, store=store,
                                    executor=executor, progress=progress, experiment="c1_quadratic")
    return Runs("c1_quadratic", "", {"trajectory": traj, "evidence": c1.quadratic_evidence(traj)},
                problem=problem.to_dict())


@dataclass(frozen=True)
class LowRankC1Config(TeacherConfig):
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
    rank: int = 4
    sample_size: int = 1000
    batch_size: int = 16
    steps: tuple[int, ...] = (100, 200, 400, 800, 1600, 3200, 6400)

    def __post_init__(self):
        super().__post_init__()
        require_int_in(self.rank, "rank", 1, min(self.m, self.n))
        require_int_in(self.sample_size, "sample_size", 1)
        require_int_in(self.batch_size, "batch_size", 1, self.sample_size)
        _positive_ints(self.steps, "steps")


def run_c1_lowrank(cfg: LowRankC1Config, *, store=None, executor=None, progress=None) -> Runs:
    teacher = cfg.teacher()
    traj = simulate.convergence_sweep(teacher, cfg.rank, cfg.steps, cfg.sample_size, seeds=cfg.seeds,
                                      student="lrc", step_rule="c1", train_embedding=False,
                                      batch_size=cfg.batch_size, device=cfg.device, store=store,
                                      executor=executor, progress=progress, experiment="c1_lowrank")
    return Runs("c1_lowrank", "", {"trajectory": traj, "evidence": c1.lowrank_evidence(traj),
                                   "transfer": c1.transfer_evidence(traj, teacher)})


# -- C2 ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class GeneralizationConfig(TeacherConfig):
    noise: float = 1.0
    seeds: tuple[int, ...] = tuple(range(24))
    ranks: tuple[int, ...] = (2, 4, 8, 16)
    sample_sizes: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096)
    data: str = "gaussian"  # "bounded": Rademacher inputs, uniform noise (simulate.data.BoundedLinearTeacher)

    def __post_init__(self):
        super().__post_init__()
        _positive_ints(self.ranks, "ranks")
        for r in self.ranks:
            require_int_in(r, "ranks", 1, min(self.m, self.n))
        _positive_ints(self.sample_sizes, "sample_sizes")
        require(self.data in ("gaussian", "bounded"), "data", "'gaussian' or 'bounded'", self.data)

    def teacher(self) -> simulate.LinearTeacher:
        if self.data == "gaussian":
            return super().teacher()
        from simulate.data import BoundedLinearTeacher

        return BoundedLinearTeacher(self.m, self.n, self.spectrum.build(), noise=self.noise, seed=0)


def run_c2(cfg: GeneralizationConfig, *, store=None, executor=None, progress=None) -> Runs:
    teacher = cfg.teacher()
    sweep = simulate.rank_sweep(teacher, cfg.ranks, cfg.sample_sizes, seeds=cfg.seeds, device=cfg.device,
                                store=store, executor=executor, progress=progress, experiment="c2_generalization")
    sweep = sweep.assign(zero_risk=c2.zero_risk(teacher))
    norms = c2.data_norms(teacher, max(cfg.sample_sizes), sweep, seeds=cfg.seeds)
    label = "" if cfg.data == "gaussian" else "bounded data"
    return Runs("c2_generalization", label, {"sweep": sweep, "norms": pd.DataFrame([norms])}, norms=norms)


# -- C3 ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class InformationConfig:
    """C3 on a teacher of >= 2 layers whose cloned (last hidden) activation is not its output.

    Arms (simulate.clone_deep.ARMS) at equal steps, each at the step size of `lrs` with the best
    held-out output loss; MI of the noisy hidden pair I(h_T + e1; h_S + e2), e ~ N(0, noise_std^2 I).
    """

    widths: tuple[int, ...] = (16, 16, 4)
    activation: Literal["linear", "relu"] = "linear"
    spectrum: Spectrum = field(default_factory=Spectrum)
    noise: float = 1.0
    rank: int = 4
    arms: tuple[str, ...] = ("noisy", "kd", "kd_clone", "noisy_clone")
    lrs: tuple[float, ...] = (3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
    alpha: float = 1.0
    sample_size: int = 500
    steps: int = 2000
    batch_size: int = 32
    noise_std: float = 0.2
    mi_samples: int = 4000
    benchmark_reps: int = 2
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)

    def __post_init__(self):
        require(len(self.widths) >= 3, "widths", "(n, d_1, ..., m): at least two layers", self.widths)
        _positive_ints(self.widths, "widths")
        require_int_in(self.rank, "rank", 1, self.widths[0])
        require(all(a in simulate.CLONE_ARMS for a in self.arms), "arms",
                "names from " + ", ".join(simulate.CLONE_ARMS), self.arms)
        require(len(self.lrs) > 0, "lrs", "a non-empty list of step sizes", self.lrs)
        for lr in self.lrs:
            require_float_in(lr, "lrs", 0.0, open_low=True)
        require_float_in(self.noise, "noise", 0.0)
        require_float_in(self.alpha, "alpha", 0.0, open_low=True)
        require_int_in(self.sample_size, "sample_size", 2)
        require_int_in(self.steps, "steps", 1)
        require_int_in(self.batch_size, "batch_size", 1)
        require_float_in(self.noise_std, "noise_std", 0.0, open_low=True)
        require_int_in(self.mi_samples, "mi_samples", 100, 100_000)
        require_int_in(self.benchmark_reps, "benchmark_reps", 1, 16)
        require(len(self.seeds) >= 2, "seeds", "at least 2 seeds (intervals over seeds)", self.seeds)
        _positive_ints(self.seeds, "seeds", 0)


def run_c3(cfg: InformationConfig, *, store=None, executor=None, progress=None) -> Runs:
    teacher = simulate.DeepTeacher(tuple(cfg.widths), cfg.activation, cfg.spectrum.build(), cfg.noise)
    sweep = simulate.deep_clone_sweep(teacher, cfg.rank, seeds=cfg.seeds, arms=cfg.arms, lrs=cfg.lrs, alpha=cfg.alpha,
                                      sample_size=cfg.sample_size, steps=cfg.steps, batch_size=cfg.batch_size,
                                      store=store, executor=executor, progress=progress,
                                      experiment="c3_information")
    tables, context = c3.deep_tables(sweep, cfg.noise_std, mi_samples=cfg.mi_samples,
                                     benchmark_reps=cfg.benchmark_reps, lrs=cfg.lrs)
    label = f"{cfg.activation} teacher {'-'.join(map(str, cfg.widths))}, rank {cfg.rank}"
    return Runs("c3_information", label, tables, **context)


# the ReLU case: hidden width 4 keeps KSG (8 joint dimensions) usable; a coarser MI channel (its bias
# grows with the MI)
C3_RELU = {"activation": "relu", "widths": [8, 4, 1], "rank": 2, "lrs": [3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
           "mi_samples": 2000, "noise_std": 0.5, "seeds": list(range(8))}


# -- C4 ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RankConfig(TeacherConfig):
    m: int = 64
    n: int = 64
    noise: float = 1.0
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7)
    sample_sizes: tuple[int, ...] = (256, 512, 1024, 2048, 4096, 8192, 16384)

    def __post_init__(self):
        super().__post_init__()
        require_float_in(self.noise, "noise", 0.0, open_low=True)
        require(len(self.sample_sizes) >= 3, "sample_sizes", "at least 3 sizes", self.sample_sizes)
        _positive_ints(self.sample_sizes, "sample_sizes")
        require(len(self.seeds) >= 3, "seeds", "at least 3 seeds (bootstrap)", self.seeds)


def run_c4(cfg: RankConfig, *, store=None, executor=None, progress=None) -> Runs:
    teacher = cfg.teacher()
    ranks = list(range(1, min(cfg.m, cfg.n) + 1))
    sweep = simulate.rank_sweep(teacher, ranks, cfg.sample_sizes, seeds=cfg.seeds, device=cfg.device, store=store,
                                executor=executor, progress=progress, experiment="c4_rank")
    return Runs("c4_rank", cfg.spectrum.label, {"sweep": sweep}, spectrum=cfg.spectrum.build().to_dict(),
                singular_values=np.asarray(teacher.singular_values))


def _sizes(start: int, stop: int, per_octave: int = 2) -> list[int]:
    """Sample sizes from start to stop (inclusive), per_octave of them per doubling."""
    count = int(round(np.log2(stop / start) * per_octave))
    return [int(round(start * 2 ** (i / per_octave))) for i in range(count + 1)]


# C4 grids keep r* inside the rank grid and below about min(m, n)/6, where theory's finite-size r*
# (validate.c4.oracle_rstar) is accurate; heavy tails meet the full-rank (OLS) branch near
# min(m, n)/4. The noise sets where r* starts (about 2 at the smallest N): r* depends on N / sigma^2.
# Quick: the paper's s_k = 1/k case and an exponential spectrum; full: every alpha of the sweep on
# 128 x 128, as many decades of N as the rank grid allows (3 for alpha = 2 and the exponential).
C4_PRESETS = {
    "quick": {"noise": 0.58, "sample_sizes": _sizes(256, 5792)},
    "quick_exponential": {"noise": 0.7, "spectrum": {"kind": "exponential", "decay": 0.3},
                          "sample_sizes": _sizes(256, 16384)},
    "full": {"m": 128, "n": 128, "noise": 0.58, "sample_sizes": _sizes(512, 65536), "seeds": list(range(12))},
    "full_alpha_0.75": {"m": 128, "n": 128, "noise": 0.69, "spectrum": {"kind": "power_law", "decay": 0.75},
                        "sample_sizes": _sizes(512, 11585), "seeds": list(range(12))},
    "full_alpha_1.5": {"m": 128, "n": 128, "noise": 0.41, "spectrum": {"kind": "power_law", "decay": 1.5},
                       "sample_sizes": _sizes(512, 262144, 1), "seeds": list(range(12))},
    "full_alpha_2": {"m": 128, "n": 128, "noise": 0.29, "spectrum": {"kind": "power_law", "decay": 2.0},
                     "sample_sizes": _sizes(512, 524288, 1), "seeds": list(range(12))},
    "full_exponential": {"m": 128, "n": 128, "spectrum": {"kind": "exponential", "decay": 0.3},
                         "sample_sizes": _sizes(1024, 524288, 1), "seeds": list(range(12))},
}


# -- the real run ------------------------------------------------------------------------------------
def _lrc_config_type():
    from simulate.lrc import LRCConfig

    return LRCConfig


@dataclass(frozen=True)
class RealConfig:
    """Real LRC (simulate.lrc.LRCConfig in `lrc`) measured for every claim (validate/real.py):
    C4/C2 a rank sweep widths x budgets (training-set tokens N) x seeds, `epochs` passes over each
    set; C3 students with and without cloning (`alphas`) over `c3_seeds`; C1 plain SGD at the step
    counts `c1_steps` over `c1_seeds`."""

    lrc: Any = None  # an LRCConfig; a table of its keys in TOML
    widths: tuple[int, ...] = (4, 8, 16, 32, 64)
    budgets: tuple[int, ...] = (256, 512, 1024)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 8
    alphas: tuple[float, ...] = (0.0, 0.2)
    c3_width: int = 16
    c3_tokens: int = 2048
    c3_steps: int = 48
    c3_seeds: tuple[int, ...] = (0, 1, 2)
    c3_snapshots: int = 8
    c1_width: int = 16
    c1_steps: tuple[int, ...] = (8, 16, 32, 64)
    c1_seeds: tuple[int, ...] = (0, 1, 2)
    c1_batches: int = 4
    c1_power_iters: int = 3
    device: str = "auto"  # `lrkd report --device`: overrides lrc.device unless "auto"

    def __post_init__(self):
        for name, least in (("widths", 5), ("budgets", 3), ("seeds", 2), ("c3_seeds", 3), ("c1_steps", 2),
                            ("c1_seeds", 3)):
            values = getattr(self, name)
            require(len(values) >= least and len(set(values)) == len(values), name,
                    f"at least {least} distinct values", values)
            _positive_ints(values, name, 0 if "seeds" in name else 1)
        require(0.0 in self.alphas and any(a > 0 for a in self.alphas), "alphas",
                "0 (no clone) and at least one clone weight > 0", self.alphas)
        for a in self.alphas:
            require_float_in(a, "alphas", 0.0)
        for name, low in (("epochs", 1), ("c3_width", 1), ("c3_tokens", 1), ("c3_steps", 1), ("c3_snapshots", 8),
                          ("c1_width", 1), ("c1_batches", 2), ("c1_power_iters", 1)):
            require_int_in(getattr(self, name), name, low)
        lrc_type = _lrc_config_type()
        if not isinstance(self.lrc, lrc_type):
            from lrkd.config import from_dict

            object.__setattr__(self, "lrc", from_dict(lrc_type, self.lrc or {}, prefix="lrc."))
        if self.device != "auto":
            from dataclasses import replace

            object.__setattr__(self, "lrc", replace(self.lrc, device=self.device))


def run_lrc_real(cfg: RealConfig, *, store=None, executor=None, progress=None) -> Runs:
    """The rank sweep, the C3 arms and the C1 SGD runs as stored cells (resumable); see validate/real.py."""
    tables, label = real.run(cfg, store=store, progress=progress)
    return Runs("lrc_real", label, tables)


# Quick: a reduced teacher, said in every label: SmolLM2's first 2 of 30 layers with the
# vocabulary cut to the KJV's 9,588 tokens; teacher outputs stored once per token set (top-64).
LRC_QUICK = {"teacher_layers": 2, "vocab": "corpus", "teacher_outputs": "cached", "top_k": 64, "seq_len": 32,
             "batch_size": 4, "lr": 3e-3, "eval_points": 3, "hidden_snapshots": 2, "eval_batches": 4,
             "mi_tokens": 512, "checkpoint_every": 50, "alpha": 0.2}
REAL_QUICK = {"lrc": LRC_QUICK}
# Full: the whole teacher and vocabulary; teacher outputs live (30 layers of clone targets are ~0.3 MB
# per token in bf16: a store for 2^16-token sets would not fit on disk), shared by all widths.
LRC_FULL = {"seq_len": 128, "batch_size": 8, "lr": 1e-3, "warmup_steps": 10, "eval_points": 6,
            "hidden_snapshots": 2, "eval_batches": 4, "mi_tokens": 2048, "checkpoint_every": 100}
REAL_FULL = {"lrc": LRC_FULL, "widths": [16, 32, 64, 128, 256, 384], "budgets": [16384, 65536, 262144, 1048576],
             "seeds": [0, 1, 2], "epochs": 4, "c3_width": 128, "c3_tokens": 65536, "c3_steps": 400,
             "c3_seeds": [0, 1, 2, 3], "c1_width": 64, "c1_steps": [25, 50, 100, 200, 400], "c1_seeds": [0, 1, 2],
             "c1_batches": 8}



# -- the real teacher's weight spectra ----------------------------------------------------------------
@dataclass(frozen=True)
class SpectraConfig:
    """The whole real teacher (every layer, full vocabulary) whose weight spectra C4's spectrum
    evidence reads: each matrix against a Gaussian null of its shape (validate.spectrum)."""

    teacher: str = "smollm2-135m-instruct"  # as simulate.lrc.LRCConfig.teacher
    cache_dir: str | None = None
    include_embedding: bool = True


def run_teacher_spectra(cfg: SpectraConfig, *, store=None, executor=None, progress=None) -> Runs:
    """Singular values and shapes of every weight matrix, one SVD at a time (seconds, < 1 GB)."""
    from simulate import lrc

    teacher = lrc.load_teacher(cfg.teacher, cache_dir=cfg.cache_dir)
    values, shapes = lrc.teacher_spectra(teacher, include_embedding=cfg.include_embedding), {}
    for name, matrix in lrc.teacher_matrices(teacher, include_embedding=cfg.include_embedding).items():
        shapes[name] = tuple(int(d) for d in matrix.shape)
    spectra = pd.DataFrame([{"matrix": name, "k": k + 1, "s": float(v), "rows": shapes[name][0],
                             "cols": shapes[name][1]} for name, vals in values.items() for k, v in enumerate(vals)])
    return Runs("teacher_spectra", f"{cfg.teacher}, {len(values)} weight matrices", {"spectra": spectra})


# -- registry ---------------------------------------------------------------------------------------
EXPERIMENTS = (
    Experiment("c1_quadratic", QuadraticConfig, run_c1_quadratic,
               "SGD with the C1 step rule on a quadratic with known L, sigma, Delta",
               ("convergence",), {"quick": {}, "full": {"steps": [100, 200, 400, 800, 1600, 3200, 6400, 12800,
                                                                    25600, 51200], "seeds": list(range(32))}}),
    Experiment("c1_lowrank", LowRankC1Config, run_c1_lowrank,
               "SGD with the C1 step rule on the linear LRC-style student (exact L and Delta)",
               ("convergence", "smoothness_transfer"),
               {"quick": {}, "full": {"m": 64, "n": 64, "rank": 8, "sample_size": 4000,
                                      "steps": [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600],
                                      "seeds": list(range(16))}}),
    Experiment("c2_generalization", GeneralizationConfig, run_c2,
               "closed-form reduced-rank regression: generalization gap and excess risk over r x N",
               ("generalization", "generalization_c1", "generalization_sqrt", "rrr_excess_risk",
                "generalization_lora_sqrt"),
               {"quick": {}, "quick_bounded": {"data": "bounded"},
                "full": {"m": 64, "n": 64, "ranks": [2, 4, 8, 16, 32],
                         "sample_sizes": [256, 512, 1024, 2048, 4096, 8192, 16384], "seeds": list(range(64))},
                "full_bounded": {"data": "bounded", "m": 64, "n": 64, "ranks": [2, 4, 8, 16, 32],
                                 "sample_sizes": [256, 512, 1024, 2048, 4096, 8192, 16384],
                                 "seeds": list(range(64))}}),
    Experiment("c3_information", InformationConfig, run_c3,
               "two-layer teachers (deep linear: exact MI; ReLU: KSG): cloning a hidden activation vs "
               "noisy-label and clean-KD controls at equal steps, step sizes tuned per arm",
               ("mutual_information", "mutual_information_trace"),
               {"quick": {}, "quick_relu": C3_RELU,
                "full": {"widths": [32, 32, 8], "rank": 8, "steps": 8000, "seeds": list(range(16)),
                         "lrs": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2]},  # 8000 steps: best step sizes are smaller
                "full_relu": {**C3_RELU, "steps": 8000, "seeds": list(range(16)), "benchmark_reps": 4}}),
    Experiment("c4_rank", RankConfig, run_c4, "empirical optimal rank r*(N) from rank sweeps",
               ("optimal_rank",),
               C4_PRESETS),
    Experiment("lrc_real", RealConfig, run_lrc_real,
               "real LRC of SmolLM2-135M-Instruct on KJV text (quick: first 2 layers, KJV vocabulary): rank sweep, "
               "plain SGD, cloning arms",
               ("convergence", "generalization", "generalization_c1", "mutual_information", "optimal_rank"),
               {"quick": REAL_QUICK, "full": REAL_FULL}),
    Experiment("teacher_spectra", SpectraConfig, run_teacher_spectra,
               "the real teacher's weight spectra against a Marchenko-Pastur null (C4: what they predict for r*)",
               ("optimal_rank",), {"quick": {}, "full": {}}),
)

for _experiment in EXPERIMENTS:
    register_experiment(_experiment, replace=True)
