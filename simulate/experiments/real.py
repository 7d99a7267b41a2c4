"""The real run: LRC distillation of SmolLM2-135M on KJV text (simulate.lrc), measured for every
claim: C4/C2 a rank sweep widths x budgets (training-set tokens N) x seeds; C3 students with and
without the clone loss over seeds; C1 plain SGD at several step counts. validate/claims/real.py reads it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from lrkd.config import from_dict, to_dict
from lrkd.errors import require, require_float_in, require_int_in
from lrkd.simulate import lrc
from lrkd.simulate.experiments.base import Experiment, Runs, register_experiment
from lrkd.simulate.experiments.common import positive_ints
from lrkd.simulate.lrc import LRCConfig
from lrkd.simulate.lrc.api import run_sgd_cell, shared_teacher
from lrkd.simulate.lrc.train import resolve_precision
from lrkd.store import ResultStore
from lrkd.executors import on_this_machine
from lrkd.sweep import SerialExecutor, run_grid, to_frame


class RealRuns(Runs):
    """The stored cells' tables ("final", "trajectory", "clone_final", "clone_trajectory",
    "sgd_runs", "sgd_constants") and what the evidence needs besides them: the rank sweep's
    per-step losses (`steps`), the hidden-state snapshots of the C3 arms (`hidden_index` and
    `arrays`), the teacher's vocabulary, its number of projection matrices and the MI sample count."""

    def __init__(
        self,
        experiment: str,
        label: str,
        tables: dict[str, pd.DataFrame],
        *,
        steps: pd.DataFrame,
        hidden_index: pd.DataFrame,
        arrays: dict[str, np.ndarray],
        vocab: int,
        n_matrices: int,
        mi_tokens: int,
    ):
        super().__init__(experiment, label, tables)
        self.steps, self.hidden_index, self.arrays = steps, hidden_index, arrays
        self.vocab, self.n_matrices, self.mi_tokens = vocab, n_matrices, mi_tokens


@dataclass(frozen=True)
class RealConfig:
    """Real LRC (simulate.lrc.LRCConfig in `lrc`): C4/C2 a rank sweep widths x budgets (training-set
    tokens N) x seeds; C3 students with and without cloning (`alphas`) over `c3_seeds`; C1 plain SGD
    at the step counts `c1_steps` over `c1_seeds`.

    Each rank-sweep student trains for max(`epochs` passes over its N-token set, `min_steps`
    optimizer steps) (`rank_token_budget`): with min_steps = 0 that is `epochs` passes; a floor on
    the steps keeps the small training sets from being under-trained (8 passes over 64 tokens
    are 4 steps), so every student of the grid gets the same optimization and a small N is
    passed over more often instead."""

    lrc: Any = None  # an LRCConfig; a table of its keys in TOML
    widths: tuple[int, ...] = (4, 8, 16, 32, 64)
    budgets: tuple[int, ...] = (256, 512, 1024)
    seeds: tuple[int, ...] = (0, 1, 2)
    epochs: int = 8
    min_steps: int = 0  # the least optimizer steps of a rank-sweep student (0: `epochs` passes decide)
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
        for name, least in (
            ("widths", 5),
            ("budgets", 3),
            ("seeds", 2),
            ("c3_seeds", 3),
            ("c1_steps", 2),
            ("c1_seeds", 3),
        ):
            values = getattr(self, name)
            require(
                len(values) >= least and len(set(values)) == len(values),
                name,
                f"at least {least} distinct values",
                values,
            )
            positive_ints(values, name, 0 if "seeds" in name else 1)
        require(
            0.0 in self.alphas and any(a > 0 for a in self.alphas),
            "alphas",
            "0 (no clone) and at least one clone weight > 0",
            self.alphas,
        )
        for a in self.alphas:
            require_float_in(a, "alphas", 0.0)
        for name, low in (
            ("epochs", 1),
            ("min_steps", 0),
            ("c3_width", 1),
            ("c3_tokens", 1),
            ("c3_steps", 1),
            ("c3_snapshots", 8),
            ("c1_width", 1),
            ("c1_batches", 2),
            ("c1_power_iters", 1),
        ):
            require_int_in(getattr(self, name), name, low)
        if not isinstance(self.lrc, LRCConfig):
            object.__setattr__(self, "lrc", from_dict(LRCConfig, self.lrc or {}, prefix="lrc."))
        if self.device != "auto":
            object.__setattr__(self, "lrc", replace(self.lrc, device=self.device))


@dataclass(frozen=True, eq=False)
class RankGrid:
    """The rank sweep's tables (one row per student in `final` and `trajectory`, per step in `steps`),
    the base LRCConfig its cells were made from (checkpoints beside the results store) and the name
    its cells are stored under."""

    final: pd.DataFrame
    trajectory: pd.DataFrame
    steps: pd.DataFrame
    lrc: LRCConfig
    experiment: str


def _lrc_base(cfg: RealConfig, store) -> LRCConfig:
    """The cells' base LRCConfig: cfg.lrc, with its checkpoints next to the results store (not in
    the working directory) when there is one."""
    if store is None:
        return cfg.lrc
    return replace(cfg.lrc, output_dir=str(store.path.parent / "lrc"))


def rank_token_budget(cfg: RealConfig, n_tokens: int) -> int:
    """Tokens a rank-sweep student on an N-token training set trains on: `epochs` passes, at least
    `min_steps` optimizer steps (batch_size x seq_len tokens each).

    Args:
        cfg: the real experiment's config (epochs, min_steps, lrc batch_size and seq_len).
        n_tokens: the training-set size N.

    Returns:
        max(epochs x N, min_steps x batch_size x seq_len).
    """
    return max(cfg.epochs * n_tokens, cfg.min_steps * cfg.lrc.tokens_per_step)


def cells_executor(executor, base: LRCConfig):
    """Where the real cells run: in `executor`'s workers when it runs them on this machine (the local
    pool, or a local Dask cluster) and the run is on the CPU: each worker loads the reduced teacher
    once per grid (about 2.5 s) and the cells of a grid run side by side on the cores. Otherwise
    here, one after another, the teacher loaded once: on a GPU one process holds the device, and a
    remote cluster shares no disk with the checkpoints and teacher outputs the cells write beside
    the store. A cell's numbers do not depend on where it runs: the pool's workers get
    cores // workers torch threads, as this process does in a report (one thread).

    Args:
        executor: the caller's executor (lrkd.executors), or None.
        base: the cells' base LRCConfig (its device and dtype).

    Returns:
        The executor for the cells' run_grid.
    """
    if not on_this_machine(executor) or resolve_precision(base.device, base.dtype).device.type != "cpu":
        return SerialExecutor()
    return executor


def run_rank_grid(
    cfg: RealConfig,
    *,
    budgets: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    widths: Sequence[int] | None = None,
    store=None,
    executor=None,
    progress=None,
) -> RankGrid:
    """The rank sweep of the real experiment (C4/C2), stored and resumable: one cell per (budget,
    seed), all widths in a cell (they share its batches and stored teacher outputs), each student
    trained for `rank_token_budget` tokens on its N-token training set, scored on one held-out set.
    `lrkd advise` runs the same cells for its pilot, so a pilot and a report pointed at one store
    share the cells they have in common (a cell's key is its settings, not who asked for it).

    Args:
        cfg: the real experiment's config (its `lrc` is the base LRCConfig, its `epochs` the passes).
        budgets: training-set tokens N (None: cfg.budgets).
        seeds: seeds (None: cfg.seeds).
        widths: student widths d_S (None: cfg.widths).
        store: results store or its path; its folder also holds the runs' checkpoints (None: nothing stored).
        executor: where the cells run (`cells_executor`; None: here, one after another).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        RankGrid: the tables final, trajectory and steps, the base LRCConfig of the cells and their
        store name.
    """
    store = ResultStore(store) if isinstance(store, (str, Path)) else store
    base = _lrc_base(cfg, store)
    widths = list(cfg.widths if widths is None else widths)
    cells = [
        lrc.sweep_cell(
            replace(base, seed=s, train_tokens=n, token_budget=rank_token_budget(cfg, n), hidden_snapshots=1),
            widths,
            alphas=[base.alpha],
        )
        for n in (cfg.budgets if budgets is None else budgets)
        for s in (cfg.seeds if seeds is None else seeds)
    ]
    name = f"{LRC_REAL.name}_rank"
    ranked = run_grid(
        name, cells, lrc.run_cell, store=store, executor=cells_executor(executor, base), progress=progress
    )
    return RankGrid(to_frame(ranked, "final"), to_frame(ranked, "trajectory"), to_frame(ranked, "steps"), base, name)


def run_lrc_real(cfg: RealConfig, *, store=None, executor=None, progress=None) -> RealRuns:
    """Every cell of the real experiment, stored and resumable: the rank sweep (run_rank_grid: one
    cell per (budget, seed), all widths sharing its batches and stored teacher outputs), one cell per
    C3 seed (both arms), one per C1 seed (every T). The cells run in `executor`'s workers on a CPU,
    else here, the teacher loaded once and shared by every cell (`cells_executor`).

    Args:
        cfg: the real experiment's config (its `lrc` is the base LRCConfig).
        store: results store; its folder also holds the runs' checkpoints (None: nothing stored).
        executor: where the cells run (`cells_executor`; None: here, one after another).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        RealRuns: tables final, trajectory, clone_final, clone_trajectory, sgd_runs, sgd_constants
        (final, clone_final and sgd_runs name the resolved precision in `dtype`), plus the rank
        sweep's steps, the C3 hidden states and the teacher's facts.
    """
    store = ResultStore(store) if isinstance(store, (str, Path)) else store
    base = _lrc_base(cfg, store)
    c3_config = replace(
        base,
        d_S=cfg.c3_width,
        train_tokens=cfg.c3_tokens,
        steps=cfg.c3_steps,
        token_budget=None,
        eval_points=cfg.c3_snapshots,
        hidden_snapshots=cfg.c3_snapshots,
    )
    c3_cells = [
        lrc.sweep_cell(replace(c3_config, seed=s), [cfg.c3_width], alphas=list(cfg.alphas)) for s in cfg.c3_seeds
    ]
    c1_base = replace(base, d_S=cfg.c1_width, dtype="float32" if base.dtype in ("auto", "bfloat16") else base.dtype)
    c1_cells = [
        {
            **to_dict(replace(c1_base, seed=s)),
            "sgd_budgets": list(cfg.c1_steps),
            "sgd_batches": cfg.c1_batches,
            "sgd_power_iters": cfg.c1_power_iters,
        }
        for s in cfg.c1_seeds
    ]
    # every cell is built (and so checked) before the first one runs
    ranked = run_rank_grid(cfg, store=store, executor=executor, progress=progress)
    common = {"store": store, "executor": cells_executor(executor, base), "progress": progress}
    cloned = run_grid(f"{LRC_REAL.name}_clone", c3_cells, lrc.run_cell, **common)
    sgd = run_grid(f"{LRC_REAL.name}_sgd", c1_cells, run_sgd_cell, **common)
    teacher = shared_teacher(base)
    tables = {
        "final": ranked.final,
        "trajectory": ranked.trajectory,
        "clone_final": to_frame(cloned, "final"),
        "clone_trajectory": to_frame(cloned, "trajectory"),
        "sgd_runs": to_frame(sgd, "runs"),
        "sgd_constants": to_frame(sgd, "constants"),
    }
    arrays = {f"{c.key}/{name}": value for c in cloned for name, value in c.arrays.items()}
    return RealRuns(
        LRC_REAL.name,
        teacher_label(teacher),
        tables,
        steps=ranked.steps,
        hidden_index=to_frame(cloned, "hidden_index"),
        arrays=arrays,
        vocab=teacher.arch.vocab,
        n_matrices=7 * teacher.arch.n_layers + (1 if base.tie_head_proj else 2),
        mi_tokens=int(base.mi_tokens),
    )


def teacher_label(teacher) -> str:
    """The teacher as the report names it, with its reduction when it is one.

    Args:
        teacher: a simulate.lrc Teacher.

    Returns:
        E.g. "SmolLM2-135M-Instruct, reduced: first 2 of 30 layers; ...".
    """
    name = {"smollm2-135m-instruct": "SmolLM2-135M-Instruct"}.get(teacher.name, teacher.name)
    return f"{name}, reduced: {teacher.reduction}" if teacher.reduction else name


# Quick: a reduced teacher, said in every label: SmolLM2's first 2 of 30 layers with the
# vocabulary cut to the KJV's 9,588 tokens; teacher outputs stored once per token set (top-64).
LRC_QUICK = {
    "teacher_layers": 2,
    "vocab": "corpus",
    "teacher_outputs": "cached",
    "top_k": 64,
    "seq_len": 32,
    "batch_size": 4,
    "lr": 3e-3,
    "eval_points": 3,
    "hidden_snapshots": 2,
    "eval_batches": 4,
    "mi_tokens": 512,
    "checkpoint_every": 50,
    "alpha": 0.2,
}
# The quick preset's seeds: at least MIN_STABILITY_SEEDS (4) everywhere, so that every verdict's
# seed-bootstrap stability is measured (validate.engine.stability), and enough that the quick codes
# are the same in float32 and bf16 and at 1 and 2 threads. The C3 and C1 cells are cheap (about 5
# and 20 CPU-s a seed at one thread), so they get 8 seeds; the rank sweep, 3 budgets x 5 seeds.
QUICK = {
    "lrc": LRC_QUICK,
    "seeds": [0, 1, 2, 3, 4],
    "c3_seeds": [0, 1, 2, 3, 4, 5, 6, 7],
    "c1_seeds": [0, 1, 2, 3, 4, 5, 6, 7],
}
# Full: the whole teacher and vocabulary; teacher outputs live (30 layers of clone targets are ~0.3 MB
# per token in bf16: a store for 2^16-token sets would not fit on disk), shared by all widths.
LRC_FULL = {
    "seq_len": 128,
    "batch_size": 8,
    "lr": 1e-3,
    "warmup_steps": 10,
    "eval_points": 6,
    "hidden_snapshots": 2,
    "eval_batches": 4,
    "mi_tokens": 2048,
    "checkpoint_every": 100,
}
FULL = {
    "lrc": LRC_FULL,
    "widths": [16, 32, 64, 128, 256, 384],
    "budgets": [16384, 65536, 262144, 1048576],
    "seeds": [0, 1, 2],
    "epochs": 4,
    "c3_width": 128,
    "c3_tokens": 65536,
    "c3_steps": 400,
    "c3_seeds": [0, 1, 2, 3],
    "c1_width": 64,
    "c1_steps": [25, 50, 100, 200, 400],
    "c1_seeds": [0, 1, 2],
    "c1_batches": 8,
}
# Standard: the quick preset's reduced teacher and stored teacher outputs, sized to identify the
# real r*(N) law in at most 40 minutes on a 2-core CPU (issue 20). 6 budgets N = 64 .. 2048 tokens
# (1.5 decades), widths 2 .. 128, 5 seeds. Convergence criterion: every rank-sweep student takes
# min_steps = 128 AdamW steps (linear decay to 0), which is at least `epochs` = 8 passes over its
# training set (8 at N = 2048, 256 at N = 64), so a small N is not under-trained: with the quick
# preset's 8 passes alone, N = 64 would get 4 steps. A pilot (seed 0, N = 64 and 512) at 256 steps
# gave the same r* as at 128, by held-out KL (128, 64) and by held-out LM loss (2, 8).
# Cost, measured here with one thread on the shared 2-core machine (so upper bounds): one rank cell
# (7 widths x 128 steps) 57-64 CPU-s (0.45 s per step of all 7 students; width 128 costs 2x width 2),
# so the sweep is 6 x 5 cells x ~60 s = ~1,800 s; C3 8 seeds x ~10 s and C1 6 seeds x ~30-50 s add
# ~400 s: about 2,200 CPU-s, 37 minutes on one core (a second thread does not help cells this small);
# `lrkd report --standard` runs the cells in its pool, one per core: 18 min 35 s wall for the whole
# report on 2 cores (synthetic part and calibrations included).
STANDARD = {
    "lrc": LRC_QUICK,
    "widths": [2, 4, 8, 16, 32, 64, 128],
    "budgets": [64, 128, 256, 512, 1024, 2048],
    "seeds": [0, 1, 2, 3, 4],
    "epochs": 8,
    "min_steps": 128,
    "c3_seeds": [0, 1, 2, 3, 4, 5, 6, 7],
    "c1_seeds": [0, 1, 2, 3, 4, 5],
}
LRC_REAL = register_experiment(
    Experiment(
        "lrc_real",
        RealConfig,
        run_lrc_real,
        "real LRC of SmolLM2-135M-Instruct on KJV text (quick: first 2 layers, KJV vocabulary): rank sweep, "
        "plain SGD, cloning arms",
        {"quick": QUICK, "standard": STANDARD, "full": FULL},
    ),
    replace=True,
)
