"""C4 experiment: rank sweeps at several N for one planted spectrum (r*(N) is read from them)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from lrkd.errors import require, require_float_in
from lrkd.simulate.experiments.base import Experiment, Runs, register_experiment
from lrkd.simulate.experiments.common import TeacherConfig, positive_ints, sizes
from lrkd.simulate.sweeps import rank_sweep


class RankRuns(Runs):
    """A sweep over every rank ("sweep") with the teacher's planted `spectrum` (a simulate spectrum)
    and its `singular_values`."""

    def __init__(
        self, experiment: str, label: str, tables: dict[str, pd.DataFrame], *, spectrum, singular_values: np.ndarray
    ):
        super().__init__(experiment, label, tables)
        self.spectrum, self.singular_values = spectrum, np.asarray(singular_values)


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
        positive_ints(self.sample_sizes, "sample_sizes")
        require(len(self.seeds) >= 3, "seeds", "at least 3 seeds (bootstrap)", self.seeds)


def run_c4(cfg: RankConfig, *, store=None, executor=None, progress=None) -> RankRuns:
    """A rank sweep over every rank 1..min(m, n) at each sample size (r*(N) is read from it).

    Args:
        cfg: teacher, spectrum, sample sizes, seeds, device.
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        RankRuns with the table "sweep", the planted spectrum and its singular values.
    """
    teacher = cfg.teacher()
    ranks = list(range(1, min(cfg.m, cfg.n) + 1))
    sweep = rank_sweep(
        teacher,
        ranks,
        cfg.sample_sizes,
        seeds=cfg.seeds,
        device=cfg.device,
        store=store,
        executor=executor,
        progress=progress,
        experiment=C4_RANK.name,
    )
    return RankRuns(
        C4_RANK.name,
        cfg.spectrum.label,
        {"sweep": sweep},
        spectrum=cfg.spectrum.build(),
        singular_values=teacher.singular_values,
    )


# C4 grids keep r* inside the rank grid and below about min(m, n)/6, where theory's finite-size r*
# (validate.c4.oracle_rstar) is accurate; heavy tails meet the full-rank (OLS) branch near
# min(m, n)/4. The noise sets where r* starts (about 2 at the smallest N): r* depends on N / sigma^2.
# Quick: the paper's s_k = 1/k case and an exponential spectrum; full: every alpha of the sweep on
# 128 x 128, as many decades of N as the rank grid allows (3 for alpha = 2 and the exponential).
PRESETS = {
    "quick": {"noise": 0.58, "sample_sizes": sizes(256, 5792)},
    "quick_exponential": {
        "noise": 0.7,
        "spectrum": {"kind": "exponential", "decay": 0.3},
        "sample_sizes": sizes(256, 16384),
    },
    "full": {"m": 128, "n": 128, "noise": 0.58, "sample_sizes": sizes(512, 65536), "seeds": list(range(12))},
    "full_alpha_0.75": {
        "m": 128,
        "n": 128,
        "noise": 0.69,
        "spectrum": {"kind": "power_law", "decay": 0.75},
        "sample_sizes": sizes(512, 11585),
        "seeds": list(range(12)),
    },
    "full_alpha_1.5": {
        "m": 128,
        "n": 128,
        "noise": 0.41,
        "spectrum": {"kind": "power_law", "decay": 1.5},
        "sample_sizes": sizes(512, 262144, 1),
        "seeds": list(range(12)),
    },
    "full_alpha_2": {
        "m": 128,
        "n": 128,
        "noise": 0.29,
        "spectrum": {"kind": "power_law", "decay": 2.0},
        "sample_sizes": sizes(512, 524288, 1),
        "seeds": list(range(12)),
    },
    "full_exponential": {
        "m": 128,
        "n": 128,
        "spectrum": {"kind": "exponential", "decay": 0.3},
        "sample_sizes": sizes(1024, 524288, 1),
        "seeds": list(range(12)),
    },
}
C4_RANK = register_experiment(
    Experiment("c4_rank", RankConfig, run_c4, "empirical optimal rank r*(N) from rank sweeps", PRESETS), replace=True
)
