"""The real teacher's weight spectra: every layer, full vocabulary (C4's spectrum evidence reads them
against a Gaussian null of each shape, validate.spectrum)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from lrkd.simulate import lrc
from lrkd.simulate.experiments.base import Experiment, Runs, register_experiment


@dataclass(frozen=True)
class SpectraConfig:
    """The real teacher whose weight spectra are measured (a simulate.lrc teacher name or path)."""

    teacher: str = "smollm2-135m-instruct"  # as simulate.lrc.LRCConfig.teacher
    cache_dir: str | None = None
    include_embedding: bool = True


def run_teacher_spectra(cfg: SpectraConfig, *, store=None, executor=None, progress=None) -> Runs:
    """Singular values and shapes of every weight matrix ("spectra": one row per (matrix, k)), one
    SVD at a time (seconds, < 1 GB).

    Args:
        cfg: the teacher, its cache and whether the embedding is included.
        store: unused (nothing here is stored: the SVDs take seconds).
        executor: unused.
        progress: transformers' progress bars while the teacher loads (None: when stderr is a terminal).

    Returns:
        Runs with the table "spectra" (matrix, k, s, rows, cols).
    """
    teacher = lrc.load_teacher(cfg.teacher, cache_dir=cfg.cache_dir, progress=progress)
    values, shapes = lrc.teacher_spectra(teacher, include_embedding=cfg.include_embedding), {}
    for name, matrix in lrc.teacher_matrices(teacher, include_embedding=cfg.include_embedding).items():
        shapes[name] = tuple(int(d) for d in matrix.shape)
    spectra = pd.DataFrame(
        [
            {"matrix": name, "k": k + 1, "s": float(v), "rows": shapes[name][0], "cols": shapes[name][1]}
            for name, vals in values.items()
            for k, v in enumerate(vals)
        ]
    )
    return Runs(TEACHER_SPECTRA.name, f"{cfg.teacher}, {len(values)} weight matrices", {"spectra": spectra})


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
