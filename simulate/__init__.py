"""simulate/: controlled runs where the truth is known (synthetic part; real-LM runs in simulate.lrc).

Teachers with planted spectra (LinearTeacher, MLPTeacher), closed-form reduced-rank regression,
batched SGD/Adam-trained factorized and LRC-style students, a known-constant quadratic for C1,
and grids of runs through the results store (rank_sweep, convergence_sweep, clone_sweep,
quadratic_sweep), and two-layer teachers whose hidden activation is cloned (deep_clone_sweep, C3).

The names below load on first use (PEP 562): importing one module of simulate (say the C4
experiment's sweeps) does not import every student and teacher with it; `simulate.lrc` (the
real-LM runs) loads the same way.
"""

import importlib

#: public name -> (module, name there)
_EXPORTS = {
    "CLONE_ARMS": ("lrkd.simulate.clone_deep", "ARMS"),
    "DeepSweep": ("lrkd.simulate.clone_deep", "DeepSweep"),
    "DeepTeacher": ("lrkd.simulate.clone_deep", "DeepTeacher"),
    "deep_clone_sweep": ("lrkd.simulate.clone_deep", "deep_clone_sweep"),
    "Run": ("lrkd.simulate.data", "Run"),
    "TrainData": ("lrkd.simulate.data", "TrainData"),
    "load_data": ("lrkd.simulate.data", "load_data"),
    "Quadratic": ("lrkd.simulate.quadratic", "Quadratic"),
    "QuadraticRuns": ("lrkd.simulate.quadratic", "QuadraticRuns"),
    "fit_rrr": ("lrkd.simulate.rrr", "fit_rrr"),
    "Explicit": ("lrkd.simulate.spectra", "Explicit"),
    "Exponential": ("lrkd.simulate.spectra", "Exponential"),
    "LowRankPlusFloor": ("lrkd.simulate.spectra", "LowRankPlusFloor"),
    "PowerLaw": ("lrkd.simulate.spectra", "PowerLaw"),
    "spectrum_from_dict": ("lrkd.simulate.spectra", "spectrum_from_dict"),
    "Students": ("lrkd.simulate.students", "Students"),
    "Trainable": ("lrkd.simulate.students", "Trainable"),
    "FactorizedStudents": ("lrkd.simulate.students_linear", "FactorizedStudents"),
    "LRCStudents": ("lrkd.simulate.students_linear", "LRCStudents"),
    "MLPStudents": ("lrkd.simulate.students_mlp", "MLPStudents"),
    "RESULT_COLUMNS": ("lrkd.simulate.sweeps", "RESULT_COLUMNS"),
    "STUDENT_KINDS": ("lrkd.simulate.sweeps", "STUDENT_KINDS"),
    "TRAJECTORY_COLUMNS": ("lrkd.simulate.sweeps", "TRAJECTORY_COLUMNS"),
    "CloneSweep": ("lrkd.simulate.sweeps", "CloneSweep"),
    "StudentKind": ("lrkd.simulate.sweeps", "StudentKind"),
    "add_noise": ("lrkd.simulate.sweeps", "add_noise"),
    "clone_sweep": ("lrkd.simulate.sweeps", "clone_sweep"),
    "convergence_sweep": ("lrkd.simulate.sweeps", "convergence_sweep"),
    "quadratic_sweep": ("lrkd.simulate.sweeps", "quadratic_sweep"),
    "rank_sweep": ("lrkd.simulate.sweeps", "rank_sweep"),
    "LinearTeacher": ("lrkd.simulate.teachers", "LinearTeacher"),
    "MLPTeacher": ("lrkd.simulate.teachers", "MLPTeacher"),
    "Sample": ("lrkd.simulate.teachers", "Sample"),
    "teacher_from_dict": ("lrkd.simulate.teachers", "teacher_from_dict"),
    "TrainSpec": ("lrkd.simulate.training", "TrainSpec"),
    "Trajectory": ("lrkd.simulate.training", "Trajectory"),
    "record_steps": ("lrkd.simulate.training", "record_steps"),
    "train": ("lrkd.simulate.training", "train"),
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name == "lrc":
        return importlib.import_module("lrkd.simulate.lrc")
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lrkd.simulate' has no attribute {name!r}")
    module, attribute = _EXPORTS[name]
    return getattr(importlib.import_module(module), attribute)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, "lrc"])
