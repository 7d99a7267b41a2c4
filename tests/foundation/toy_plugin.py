"""A small experiment registered through LRKD_PLUGINS, for the store and CLI tests.

Each cell draws a seeded random matrix, takes its singular values (real numerical work whose
result depends on the seed) and sleeps a little so that a sweep can be killed halfway.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from lrkd.errors import require_int_in, require_float_in
from lrkd.simulate.experiments import Experiment, register_experiment
from lrkd.sweep import CellResult, run_grid, to_frame


@dataclass(frozen=True)
class ToyConfig:
    size: int = 6
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    ranks: tuple[int, ...] = (1, 2, 3)
    sleep_s: float = 0.0

    def __post_init__(self):
        require_int_in(self.size, "size", 1, 512)
        require_float_in(self.sleep_s, "sleep_s", 0.0)
        for r in self.ranks:
            require_int_in(r, "ranks", 1, self.size)


def run_toy_cell(cell: dict) -> CellResult:
    time.sleep(cell["sleep_s"])
    rng = np.random.default_rng(cell["seed"])
    s = np.linalg.svd(rng.standard_normal((cell["size"], cell["size"])), compute_uv=False)
    rows = [{"rank": r, "tail": float(np.sum(s[r:] ** 2))} for r in cell["ranks"]]
    return CellResult({"results": rows}, {"spectrum": s})


def run_toy(cfg: ToyConfig, *, store=None, executor=None, progress=None):
    cells = [{"seed": s, "size": cfg.size, "ranks": list(cfg.ranks), "sleep_s": cfg.sleep_s} for s in cfg.seeds]
    stored = run_grid("toy", cells, run_toy_cell, store=store, executor=executor, progress=progress)
    return {"results": to_frame(stored)}


register_experiment(
    Experiment("toy", ToyConfig, run_toy, "seeded SVD tails (test fixture)", presets={"quick": {}}), replace=True
)
