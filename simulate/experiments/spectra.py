"""The real teacher's weight spectra: every layer, full vocabulary (C4's spectrum evidence reads them
against a Gaussian null of each shape, validate.spectrum)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lrkd.config import from_dict, to_dict
from lrkd.executors import on_this_machine
from lrkd.simulate import lrc
from lrkd.simulate.experiments.base import Experiment, Runs, register_experiment
from lrkd.sweep import CellResult, SerialExecutor, run_grid


@dataclass(frozen=True)
class SpectraConfig:
    """The real teacher whose weight spectra are measured (a simulate.lrc teacher name or path)."""

    teacher: str = "smollm2-135m-instruct"  # as simulate.lrc.LRCConfig.teacher
    cache_dir: str | None = None
    include_embedding: bool = True


def run_teacher_spectra(cfg: SpectraConfig, *, store=None, executor=None, progress=None) -> Runs:
    """Singular values and shapes of every weight matrix ("spectra": one row per (matrix, k)), one
    SVD at a time (seconds). Computed in a worker of `executor` when it is a pool on this machine: loading the
    whole teacher peaks at about 1.8 GB, held then by a process that ends with the job, not by the
    caller (a report's own process stays under 2 GB); else here.

    Args:
        cfg: the teacher, its cache and whether the embedding is included.
        store: unused (nothing here is stored: the SVDs take seconds).
        executor: where the one cell runs: a pool on this machine (lrkd.executors.on_this_machine),
            else here.
        progress: transformers' progress bars while the teacher loads (None: when stderr is a terminal).

    Returns:
        Runs with the table "spectra" (matrix, k, s, rows, cols).
    """
    from lrkd.simulate.lrc.teacher import load_progress_enabled  # transformers' switch: loaded with a teacher

    cell = {**to_dict(cfg), "progress": load_progress_enabled(progress)}
    here = not on_this_machine(executor)  # a remote worker may not have the teacher
    [done] = run_grid(
        TEACHER_SPECTRA.name, [cell], spectra_cell, executor=SerialExecutor() if here else executor, progress=False
    )
    spectra = pd.DataFrame(done.tables["spectra"])
    return Runs(
        TEACHER_SPECTRA.name, f"{cfg.teacher}, {spectra['matrix'].nunique()} weight matrices", {"spectra": spectra}
    )


def spectra_cell(cell: dict) -> CellResult:
    """lrkd.sweep run_cell of teacher_spectra: the teacher's spectra as one table.

    Args:
        cell: SpectraConfig's fields plus `progress` (transformers' bars while loading).

    Returns:
        A CellResult with the table "spectra".
    """
    cell = dict(cell)
    progress = cell.pop("progress")
    cfg = from_dict(SpectraConfig, cell)
    teacher = lrc.load_teacher(cfg.teacher, cache_dir=cfg.cache_dir, progress=progress)
    values, shapes = lrc.teacher_spectra(teacher, include_embedding=cfg.include_embedding), {}
    for name, matrix in lrc.teacher_matrices(teacher, include_embedding=cfg.include_embedding).items():
        shapes[name] = tuple(int(d) for d in matrix.shape)
    rows = [
        {"matrix": name, "k": k + 1, "s": float(v), "rows": shapes[name][0], "cols": shapes[name][1]}
        for name, vals in values.items()
        for k, v in enumerate(vals)
    ]
    return CellResult({"spectra": rows})


TEACHER_SPECTRA = register_experiment(
    Experiment(
        "teacher_spectra",
        SpectraConfig,
        run_teacher_spectra,
        "the real teacher's weight spectra against a Marchenko-Pastur null (C4: what they predict for r*)",
        {"quick": {}, "full": {}},
    ),
    replace=True,
)
