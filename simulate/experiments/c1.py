"""C1 experiments: SGD with the C1 step rule where L, sigma and Delta are known exactly.

c1_quadratic  a quadratic with known L, sigma, Delta (the C1 bound is known true)
c1_lowrank    the linear LRC-style student f(P) = g(W_T P), exact L and Delta
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrkd.errors import require_float_in, require_int_in
from lrkd.simulate.experiments.base import Experiment, Runs, register_experiment
from lrkd.simulate.experiments.common import TeacherConfig, positive_ints
from lrkd.simulate.quadratic import Quadratic
from lrkd.simulate.sweeps import convergence_sweep, quadratic_sweep
from lrkd.simulate.teachers import LinearTeacher


class ConvergenceRuns(Runs):
    """SGD trajectories ("trajectory": one row per (T, seed)) with what produced them: the
    quadratic `problem` (c1_quadratic) or the `teacher` (c1_lowrank), None when unknown."""

    def __init__(
        self,
        experiment: str,
        label: str,
        tables: dict[str, pd.DataFrame],
        *,
        problem: Quadratic | None = None,
        teacher: LinearTeacher | None = None,
    ):
        super().__init__(experiment, label, tables)
        self.problem, self.teacher = problem, teacher


@dataclass(frozen=True)
class QuadraticConfig:
    """C1 on a quadratic with known constants: eigenvalues evenly spaced in [l_min, l_max] over `dim`
    coordinates, gradient noise sigma, the step budgets `steps` over `seeds`.
    """

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
        positive_ints(self.steps, "steps")
        positive_ints(self.seeds, "seeds", 0)

    def problem(self) -> Quadratic:
        """The quadratic this config describes.

        Returns:
            Quadratic(linspace(l_min, l_max, dim), sigma).
        """
        return Quadratic(tuple(np.linspace(self.l_min, self.l_max, self.dim)), self.sigma)


def run_c1_quadratic(cfg: QuadraticConfig, *, store=None, executor=None, progress=None) -> ConvergenceRuns:
    """SGD with the C1 step rule on the config's quadratic, for every budget T and seed.

    Args:
        cfg: the quadratic, the budgets, seeds and device.
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        ConvergenceRuns with the table "trajectory" and the `problem`.
    """
    problem = cfg.problem()
    traj = quadratic_sweep(
        problem,
        cfg.steps,
        seeds=cfg.seeds,
        device=cfg.device,
        store=store,
        executor=executor,
        progress=progress,
        experiment=C1_QUADRATIC.name,
    )
    return ConvergenceRuns(C1_QUADRATIC.name, "", {"trajectory": traj}, problem=problem)


@dataclass(frozen=True)
class LowRankC1Config(TeacherConfig):
    """C1 on the linear LRC-style student with a frozen embedding (exact L and Delta): the teacher,
    student rank, sample size, minibatch size and step budgets.
    """

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
        positive_ints(self.steps, "steps")


def run_c1_lowrank(cfg: LowRankC1Config, *, store=None, executor=None, progress=None) -> ConvergenceRuns:
    """SGD with the C1 step rule on the linear LRC-style student (frozen embedding), every budget T and seed.

    Args:
        cfg: teacher, rank, sample size, minibatch size, budgets, seeds, device.
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        ConvergenceRuns with the table "trajectory" and the `teacher`.
    """
    teacher = cfg.teacher()
    traj = convergence_sweep(
        teacher,
        cfg.rank,
        cfg.steps,
        cfg.sample_size,
        seeds=cfg.seeds,
        student="lrc",
        step_rule="c1",
        train_embedding=False,
        batch_size=cfg.batch_size,
        device=cfg.device,
        store=store,
        executor=executor,
        progress=progress,
        experiment=C1_LOWRANK.name,
    )
    return ConvergenceRuns(C1_LOWRANK.name, "", {"trajectory": traj}, teacher=teacher)


C1_QUADRATIC = register_experiment(
    Experiment(
        "c1_quadratic",
        QuadraticConfig,
        run_c1_quadratic,
        "SGD with the C1 step rule on a quadratic with known L, sigma, Delta",
        {
            "quick": {},
            "full": {"steps": [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200], "seeds": list(range(32))},
        },
    ),
    replace=True,
)
C1_LOWRANK = register_experiment(
    Experiment(
        "c1_lowrank",
        LowRankC1Config,
        run_c1_lowrank,
        "SGD with the C1 step rule on the linear LRC-style student (exact L and Delta)",
        {
            "quick": {},
            "full": {
                "m": 64,
                "n": 64,
                "rank": 8,
                "sample_size": 4000,
                "steps": [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600],
                "seeds": list(range(16)),
            },
        },
    ),
    replace=True,
)
