"""simulate/: controlled runs where the truth is known (synthetic part; real-LM runs in simulate.lrc).

Teachers with planted spectra (LinearTeacher, MLPTeacher), closed-form reduced-rank regression,
batched SGD/Adam-trained factorized and LRC-style students, a known-constant quadratic for C1,
and grids of runs through the results store (rank_sweep, convergence_sweep, clone_sweep,
quadratic_sweep), and two-layer teachers whose hidden activation is cloned (deep_clone_sweep, C3).
"""

import importlib

from lrkd.simulate.clone_deep import ARMS as CLONE_ARMS
from lrkd.simulate.clone_deep import DeepSweep, DeepTeacher, deep_clone_sweep
from lrkd.simulate.data import Run, TrainData, load_data
from lrkd.simulate.quadratic import Quadratic, QuadraticRuns
from lrkd.simulate.rrr import fit_rrr
from lrkd.simulate.spectra import Explicit, Exponential, LowRankPlusFloor, PowerLaw, spectrum_from_dict
from lrkd.simulate.students import Students, Trainable
from lrkd.simulate.students_linear import FactorizedStudents, LRCStudents
from lrkd.simulate.students_mlp import MLPStudents
from lrkd.simulate.sweeps import (
    RESULT_COLUMNS,
    STUDENT_KINDS,
    TRAJECTORY_COLUMNS,
    CloneSweep,
    StudentKind,
    add_noise,
    clone_sweep,
    convergence_sweep,
    quadratic_sweep,
    rank_sweep,
)
from lrkd.simulate.teachers import LinearTeacher, MLPTeacher, Sample, teacher_from_dict
from lrkd.simulate.training import TrainSpec, Trajectory, record_steps, train

__all__ = [
    "LinearTeacher",
    "MLPTeacher",
    "Sample",
    "teacher_from_dict",
    "PowerLaw",
    "Exponential",
    "LowRankPlusFloor",
    "Explicit",
    "spectrum_from_dict",
    "fit_rrr",
    "Students",
    "Trainable",
    "FactorizedStudents",
    "LRCStudents",
    "MLPStudents",
    "STUDENT_KINDS",
    "StudentKind",
    "Run",
    "TrainData",
    "load_data",
    "TrainSpec",
    "Trajectory",
    "train",
    "record_steps",
    "Quadratic",
    "QuadraticRuns",
    "rank_sweep",
    "convergence_sweep",
    "clone_sweep",
    "quadratic_sweep",
    "CloneSweep",
    "add_noise",
    "RESULT_COLUMNS",
    "TRAJECTORY_COLUMNS",
    "DeepTeacher",
    "DeepSweep",
    "deep_clone_sweep",
    "CLONE_ARMS",
]


def __getattr__(name: str):
    """`simulate.lrc` (the real-LM runs) loads on first use: the synthetic runs need none of it, and
    importing it switches the Hugging Face libraries to offline mode (simulate/lrc/teacher.py).

    Args:
        name: the attribute asked for.

    Returns:
        The lrkd.simulate.lrc module for "lrc"; any other name raises AttributeError.
    """
    if name == "lrc":
        return importlib.import_module("lrkd.simulate.lrc")
    raise AttributeError(f"module 'simulate' has no attribute {name!r}")
