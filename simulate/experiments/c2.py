"""C2 experiment: closed-form reduced-rank regression over ranks x N x seeds."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lrkd.errors import require, require_int_in
from lrkd.simulate.experiments.base import Experiment, Runs, register_experiment
from lrkd.simulate.experiments.common import TeacherConfig, positive_ints
from lrkd.simulate.sweeps import rank_sweep
from lrkd.simulate.teachers import BoundedLinearTeacher, LinearTeacher


class GeneralizationRuns(Runs):
    """A rank sweep ("sweep": one row per (rank, N, seed)) and the `teacher` it ran on."""

    def __init__(self, experiment: str, label: str, tables: dict[str, pd.DataFrame], *, teacher: LinearTeacher):
        super().__init__(experiment, label, tables)
        self.teacher = teacher


@dataclass(frozen=True)
class GeneralizationConfig(TeacherConfig):
    """C2: closed-form reduced-rank regression over `ranks` x `sample_sizes` x `seeds` on a linear
    teacher with Gaussian or bounded (`data = "bounded"`) data.
    """

    noise: float = 1.0
    seeds: tuple[int, ...] = tuple(range(24))
    ranks: tuple[int, ...] = (2, 4, 8, 16)
    sample_sizes: tuple[int, ...] = (128, 256, 512, 1024, 2048, 4096)
    data: str = "gaussian"  # "bounded": Rademacher inputs, uniform noise (simulate.teachers.BoundedLinearTeacher)

    def __post_init__(self):
        super().__post_init__()
        positive_ints(self.ranks, "ranks")
        for r in self.ranks:
            require_int_in(r, "ranks", 1, min(self.m, self.n))
        positive_ints(self.sample_sizes, "sample_sizes")
        require(self.data in ("gaussian", "bounded"), "data", "'gaussian' or 'bounded'", self.data)

    def teacher(self) -> LinearTeacher:
        """The teacher: LinearTeacher for Gaussian data, BoundedLinearTeacher for bounded data.

        Returns:
            The teacher (teacher seed 0).
        """
        if self.data == "gaussian":
            return super().teacher()
        return BoundedLinearTeacher(self.m, self.n, self.spectrum.build(), noise=self.noise, seed=0)


def run_c2(cfg: GeneralizationConfig, *, store=None, executor=None, progress=None) -> GeneralizationRuns:
    """The rank sweep of reduced-rank regression students.

    Args:
        cfg: ranks, sample sizes, seeds, teacher, device.
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        GeneralizationRuns with the table "sweep" and the `teacher` (label "bounded data" for bounded data).
    """
    teacher = cfg.teacher()
    sweep = rank_sweep(
        teacher,
        cfg.ranks,
        cfg.sample_sizes,
        seeds=cfg.seeds,
        device=cfg.device,
        store=store,
        executor=executor,
        progress=progress,
        experiment=C2_GENERALIZATION.name,
    )
    label = "" if cfg.data == "gaussian" else "bounded data"
    return GeneralizationRuns(C2_GENERALIZATION.name, label, {"sweep": sweep}, teacher=teacher)


_FULL = {
    "m": 64,
    "n": 64,
    "ranks": [2, 4, 8, 16, 32],
    "sample_sizes": [256, 512, 1024, 2048, 4096, 8192, 16384],
    "seeds": list(range(64)),
}
C2_GENERALIZATION = register_experiment(
    Experiment(
        "c2_generalization",
        GeneralizationConfig,
        run_c2,
        "closed-form reduced-rank regression: generalization gap and excess risk over r x N",
        {
            "quick": {},
            "quick_bounded": {"data": "bounded"},
            "full": _FULL,
            "full_bounded": {**_FULL, "data": "bounded"},
        },
    ),
    replace=True,
)
