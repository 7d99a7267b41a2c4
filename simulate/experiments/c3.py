"""C3 experiment: two-layer teachers whose hidden activation is cloned (simulate.clone_deep), with
noisy-label and clean-KD controls at equal steps, step sizes tuned per arm."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from lrkd.errors import require, require_float_in, require_int_in
from lrkd.simulate.clone_deep import ARMS, DeepSweep, DeepTeacher, deep_clone_sweep
from lrkd.simulate.experiments.base import Experiment, Runs, register_experiment
from lrkd.simulate.experiments.common import Spectrum, positive_ints


class InformationRuns(Runs):
    """The arms' trajectories ("trajectory") and how their MI is to be measured: the DeepSweep
    (None for evidence planted by hand), the MI channel's noise, the estimator's sample count and
    benchmark repetitions, the step-size grid and the teacher's activation."""

    def __init__(
        self,
        experiment: str,
        label: str,
        tables: dict[str, pd.DataFrame],
        *,
        sweep: DeepSweep | None = None,
        noise_std: float,
        lrs: tuple[float, ...] = (),
        mi_samples: int = 4000,
        benchmark_reps: int = 2,
        activation: str = "linear",
    ):
        super().__init__(experiment, label, tables)
        self.sweep, self.noise_std, self.lrs = sweep, noise_std, [float(v) for v in lrs]
        self.mi_samples, self.benchmark_reps, self.activation = mi_samples, benchmark_reps, activation


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
        positive_ints(self.widths, "widths")
        require_int_in(self.rank, "rank", 1, self.widths[0])
        require(all(a in ARMS for a in self.arms), "arms", "names from " + ", ".join(ARMS), self.arms)
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
        positive_ints(self.seeds, "seeds", 0)


def run_c3(cfg: InformationConfig, *, store=None, executor=None, progress=None) -> InformationRuns:
    """Every arm x step size of the deep clone sweep, one cell per seed.

    Args:
        cfg: the teacher, arms, step sizes, sizes and the MI settings.
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        InformationRuns with the table "trajectory", the DeepSweep and the MI settings.
    """
    teacher = DeepTeacher(tuple(cfg.widths), cfg.activation, cfg.spectrum.build(), cfg.noise)
    sweep = deep_clone_sweep(
        teacher,
        cfg.rank,
        seeds=cfg.seeds,
        arms=cfg.arms,
        lrs=cfg.lrs,
        alpha=cfg.alpha,
        sample_size=cfg.sample_size,
        steps=cfg.steps,
        batch_size=cfg.batch_size,
        store=store,
        executor=executor,
        progress=progress,
        experiment=C3_INFORMATION.name,
    )
    label = f"{cfg.activation} teacher {'-'.join(map(str, cfg.widths))}, rank {cfg.rank}"
    return InformationRuns(
        C3_INFORMATION.name,
        label,
        {"trajectory": sweep.frame},
        sweep=sweep,
        noise_std=cfg.noise_std,
        lrs=cfg.lrs,
        mi_samples=cfg.mi_samples,
        benchmark_reps=cfg.benchmark_reps,
        activation=cfg.activation,
    )


# the ReLU case: hidden width 4 keeps KSG (8 joint dimensions) usable; a coarser MI channel (its bias
# grows with the MI)
RELU = {
    "activation": "relu",
    "widths": [8, 4, 1],
    "rank": 2,
    "lrs": [3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
    "mi_samples": 2000,
    "noise_std": 0.5,
    "seeds": list(range(8)),
}
C3_INFORMATION = register_experiment(
    Experiment(
        "c3_information",
        InformationConfig,
        run_c3,
        "two-layer teachers (deep linear: exact MI; ReLU: KSG): cloning a hidden activation vs "
        "noisy-label and clean-KD controls at equal steps, step sizes tuned per arm",
        {
            "quick": {},
            "quick_relu": RELU,
            "full": {
                "widths": [32, 32, 8],
                "rank": 8,
                "steps": 8000,
                "seeds": list(range(16)),
                "lrs": [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2],
            },  # 8000 steps: best step sizes are smaller
            "full_relu": {**RELU, "steps": 8000, "seeds": list(range(16)), "benchmark_reps": 4},
        },
    ),
    replace=True,
)
