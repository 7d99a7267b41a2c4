"""Grids of synthetic runs through the results store: rank x sample size x steps x seeds.

Each public function splits its grid into cells and runs them with `lrkd.sweep.run_grid`
(resumable, parallel, provenance recorded; pass `store=`, `executor=`, `progress=`):
  rank_sweep        -> one row per run (final risks)          C2, C4
  convergence_sweep -> one row per recorded step of each run  C1
  clone_sweep       -> trajectories + representations          C3
  quadratic_sweep   -> trajectories on a known-constant quadratic (C1 calibration)
A cell is either one (N, seed) for reduced-rank regression (one SVD serves every rank) or one
(N, T) with every rank x seed x alpha trained together in one batched program. Teachers travel
in the cell as their `to_dict()` and are rebuilt in the worker from their seed.
Column meanings are listed in RESULT_COLUMNS and TRAJECTORY_COLUMNS below.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from lrkd import device as devices
from lrkd.config import from_dict, to_dict
from lrkd.errors import InputError, require, require_float_in, require_int_in
from lrkd.sweep import CellResult, run_grid, to_frame
from lrkd.simulate._seeds import rng
from lrkd.simulate.data import Run, TrainData, load_data
from lrkd.simulate.quadratic import Quadratic, QuadraticRuns
from lrkd.simulate.rrr import fit_rrr
from lrkd.simulate.students import STUDENT_METRICS, LinearWeights, Representations, Students, TransferSmoothness
from lrkd.simulate.students_linear import FactorizedStudents, LRCStudents
from lrkd.simulate.students_mlp import MLPStudents
from lrkd.simulate.teachers import LinearTeacher, MLPTeacher, Teacher, check_teacher, teacher_from_dict
from lrkd.simulate.training import TrainSpec, train

DTYPES = {"float64": torch.float64, "float32": torch.float32}


# -- student kinds: the values of `student` -----------------------------------------------------------
StudentFactory = Callable[[Teacher, TrainData, list[Run], TrainSpec], Students]


@dataclass(frozen=True)
class StudentKind:
    """One value of the sweeps' `student` argument (see "Adding a student kind" in simulate/README.md).

    Attributes:
        name: the value, also the results' `student` column.
        default_alpha: the clone weight when a sweep is given none.
        max_rank: the largest rank a teacher allows this student.
        teachers: the teacher types it fits.
        students: teacher type -> a factory of a batch of its students (simulate.students.Students);
            empty for a closed-form kind, which is fitted, not trained (no steps, no TrainSpec).
    """

    name: str
    default_alpha: float
    max_rank: Callable[[Teacher], int]
    teachers: tuple[type, ...]
    students: Mapping[type, StudentFactory] = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        if self.students and set(self.students) != set(self.teachers):
            raise ValueError(f"student kind {self.name}: a trained kind builds students for exactly its teachers")

    @property
    def trained(self) -> bool:
        """False for a closed-form kind (rrr): nothing to optimize."""
        return bool(self.students)

    def fits(self, teacher: Teacher) -> bool:
        """Whether this kind can be trained on `teacher`.

        Args:
            teacher: a simulate teacher.

        Returns:
            True when the teacher is one of `teachers`' types.
        """
        return isinstance(teacher, self.teachers)

    def build(self, teacher: Teacher, data: TrainData, runs: Sequence[Run], spec: TrainSpec) -> Students:
        """The batch of students of `runs` for this teacher and training spec.

        Args:
            teacher: a teacher this kind fits.
            data: its training sample per seed (load_data).
            runs: the (seed, rank, alpha) runs, trained together.
            spec: the TrainSpec (init_scale, risk_samples and the kind's own options such as train_embedding).

        Returns:
            The Students, ready for simulate.training.train.
        """
        factory = next(f for kind, f in self.students.items() if isinstance(teacher, kind))
        return factory(teacher, data, list(runs), spec)


def _shared_options(spec: TrainSpec) -> dict[str, Any]:
    return {"init_scale": spec.init_scale, "risk_samples": spec.risk_samples}


def _factorized(teacher, data, runs, spec) -> Students:
    return FactorizedStudents(teacher, data, runs, **_shared_options(spec))


def _lrc_of_linear(teacher, data, runs, spec) -> Students:
    return LRCStudents(teacher, data, runs, train_embedding=spec.train_embedding, **_shared_options(spec))


def _lrc_of_mlp(teacher, data, runs, spec) -> Students:
    return MLPStudents(teacher, data, runs, **_shared_options(spec))


def _smaller_side(teacher: Teacher) -> int:
    return min(teacher.m, teacher.n)


def _teacher_max_rank(teacher: Teacher) -> int:
    return teacher.max_rank


STUDENT_KINDS: dict[str, StudentKind] = {
    kind.name: kind
    for kind in (
        # closed-form reduced-rank regression (run_rrr_cell): one SVD per (N, seed) serves every rank
        StudentKind("rrr", 0.0, _smaller_side, (LinearTeacher, MLPTeacher)),
        StudentKind(
            "factorized",
            0.0,
            _smaller_side,
            (LinearTeacher, MLPTeacher),
            {LinearTeacher: _factorized, MLPTeacher: _factorized},
        ),
        # LRC-style: W_T P E^T of a linear teacher; per-layer projections of an MLP's hidden width
        StudentKind(
            "lrc",
            0.5,
            _teacher_max_rank,
            (LinearTeacher, MLPTeacher),
            {LinearTeacher: _lrc_of_linear, MLPTeacher: _lrc_of_mlp},
        ),
    )
}
STUDENTS = tuple(STUDENT_KINDS)
DEFAULT_ALPHA = {name: kind.default_alpha for name, kind in STUDENT_KINDS.items()}


def student_kind(student: str) -> StudentKind:
    """The registered kind named `student`; a one-line InputError otherwise.

    Args:
        student: a name of STUDENT_KINDS.

    Returns:
        The StudentKind.
    """
    require(student in STUDENT_KINDS, "student", "one of " + ", ".join(STUDENT_KINDS), student)
    return STUDENT_KINDS[student]


RESULT_COLUMNS = {
    "rank": "student rank r (hidden width for the MLP's LRC student)",
    "n_samples": "N, training pairs",
    "seed": "seed of data, minibatches and initialization",
    "alpha": "clone-loss weight",
    "student": "rrr | factorized | lrc",
    "steps": "T (None for rrr)",
    "train_risk": "mean over the N training pairs of ||f_S(x) - y||^2 (noisy labels)",
    "test_risk": "population risk per sample, summed over outputs",
    "risk_method": "exact | fresh_sample:K",
    "excess_risk": "test_risk - m sigma^2 (= ||W_S - W_T||_F^2, isotropic linear)",
    "noise_floor": "m sigma^2",
    "approx_error": "best rank-r excess risk (linear teacher; NaN for the MLP)",
    "gen_gap": "test_risk - train_risk",
    "objective": "training objective incl. alpha * clone loss",
    "clone_loss": "mean clone loss",
    "grad_norm_sq": "final full-batch ||grad f||^2 (NaN for rrr)",
    "lr": "step size used",
    "param_count": "r (m + n)",
    "dof": "r (m + n - r)",
    "m": "outputs",
    "n": "inputs",
    "noise": "sigma",
    "diverged": "bool",
    "diverged_step": "int or None",
    "diverged_reason": "str or None",
}
TRAJECTORY_COLUMNS = {
    **{k: RESULT_COLUMNS[k] for k in ("rank", "n_samples", "seed", "alpha", "student", "steps")},
    "step": "t, updates done",
    "lr": RESULT_COLUMNS["lr"],
    "objective": "f(theta_t), full batch",
    "grad_norm_sq": "||grad f(theta_t)||^2",
    "min_grad_norm_sq": "min_{s<t} ||grad f(theta_s)||^2",
    "avg_grad_norm_sq": "(1/t) sum_{s<t} ||grad f||^2",
    "grad_stats": "every_step | record_points (what min/avg run over)",
    "sigma2": "minibatch-gradient variance at theta_t (exact)",
    "sigma2_est": "running max of sigma2",
    "L_local": "||Hessian|| at theta_t (power iteration) or the exact constant",
    "L_est": "exact L (quadratic cases) or running max of L_local",
    "L_rule": "L used by the c1 rule",
    "sigma2_rule": "sigma^2 used by the c1 rule",
    "delta": "f(theta_0) - f_min",
    "f_min": "exact inf f, or 0",
    "L_exact": "exact global L where f is quadratic in the parameters, else NaN",
    "L_g": "smoothness of g in f(P) = g(W_T P) (LRC, frozen embedding), else NaN",
    "teacher_norm_sq": "||W_T||_2^2 (linear teacher), else NaN",
    "batch_size": "minibatch size (None: full batch)",
    "optimizer": "sgd | adam",
    "step_rule": "constant | c1",
    **{
        k: RESULT_COLUMNS[k]
        for k in (
            "train_risk",
            "test_risk",
            "excess_risk",
            "clone_loss",
            "risk_method",
            "noise_floor",
            "diverged",
            "diverged_step",
            "diverged_reason",
        )
    },
}


# -- public grids -----------------------------------------------------------------------------------
def rank_sweep(
    teacher: Teacher,
    ranks: Sequence[int],
    sample_sizes: Sequence[int],
    *,
    seeds: Sequence[int],
    student: str = "rrr",
    steps: int | Sequence[int] | None = None,
    alpha: float | None = None,
    dtype: str = "float64",
    device: str = "auto",
    store=None,
    executor=None,
    progress=None,
    experiment: str = "simulate.rank_sweep",
    **train_options,
) -> pd.DataFrame:
    """Final risks of rank-r students over ranks x sample sizes x seeds (x steps for SGD students).

    Args:
        teacher: a LinearTeacher or MLPTeacher.
        ranks: student ranks, 1..the kind's max_rank.
        sample_sizes: N values.
        seeds: data, minibatch and initialization seeds.
        student: "rrr" (closed form, no steps), "factorized" (A B, trained) or "lrc" (W_T P E^T for a
            linear teacher, per-layer projections for an MLP teacher).
        steps: T (or a list of T) for a trained student; None for rrr.
        alpha: clone-loss weight (None: the kind's default).
        dtype: "float64" or "float32".
        device: "auto", "cpu" or "cuda[:k]".
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).
        experiment: the name cells are stored under.
        train_options: TrainSpec fields (optimizer, lr, step_rule, batch_size, init_scale,
            train_embedding, record_points, ...); only risk_samples for rrr.

    Returns:
        One row per run with the columns of RESULT_COLUMNS.
    """
    grid = _Grid.build(
        teacher, ranks, sample_sizes, seeds, student, steps, alpha, dtype, device, train_options, c1_stats=False
    )
    if not grid.kind.trained:
        cells = [grid.cell(n_samples=n, seed=s) for n in grid.sample_sizes for s in grid.seeds]
        stored = run_grid(experiment, cells, run_rrr_cell, store=store, executor=executor, progress=progress)
    else:
        cells = [grid.cell(n_samples=n, steps=t) for n in grid.sample_sizes for t in grid.steps]
        stored = run_grid(experiment, cells, run_train_cell, store=store, executor=executor, progress=progress)
    return _frame(stored, "results")


def convergence_sweep(
    teacher: Teacher,
    rank: int | Sequence[int],
    steps: Sequence[int],
    sample_size: int,
    *,
    seeds: Sequence[int],
    student: str = "lrc",
    step_rule: str = "c1",
    alpha: float | None = None,
    dtype: str = "float64",
    device: str = "auto",
    store=None,
    executor=None,
    progress=None,
    experiment: str = "simulate.convergence_sweep",
    **train_options,
) -> pd.DataFrame:
    """C1 trajectories: for each budget T, every seed (x rank) trained T steps, eta set by step_rule
    (per T for "c1"), recorded at log-spaced steps with the C1 columns of TRAJECTORY_COLUMNS.

    Args:
        teacher: a LinearTeacher or MLPTeacher.
        rank: a rank or a list of ranks.
        steps: the budgets T.
        sample_size: N.
        seeds: data, minibatch and initialization seeds.
        student: a trained kind ("factorized" or "lrc").
        step_rule: "c1" (Ghadimi-Lan's step from the measured constants) or "constant" (lr).
        alpha: clone-loss weight (None: the kind's default).
        dtype: "float64" or "float32".
        device: "auto", "cpu" or "cuda[:k]".
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).
        experiment: the name cells are stored under.
        train_options: other TrainSpec fields.

    Returns:
        One row per (T, run, recorded step) with the columns of TRAJECTORY_COLUMNS.
    """
    ranks = [rank] if isinstance(rank, (int, np.integer)) else rank
    _require_trained(student)
    grid = _Grid.build(
        teacher,
        ranks,
        [sample_size],
        seeds,
        student,
        steps,
        alpha,
        dtype,
        device,
        {"step_rule": step_rule, **train_options},
        c1_stats=True,
    )
    cells = [grid.cell(n_samples=sample_size, steps=t) for t in grid.steps]
    stored = run_grid(experiment, cells, run_train_cell, store=store, executor=executor, progress=progress)
    return _frame(stored, "trajectory")


@dataclass
class CloneSweep:
    """clone_sweep's answer: trajectories (frame) and the recorded representations."""

    frame: pd.DataFrame
    stored: list = dataclasses.field(repr=False)

    def steps(self) -> list[int]:
        """Recorded steps at which representations were taken."""
        return [int(s) for s in self.stored[0].arrays["rep_steps"]]

    def weights(self, rank: int, alpha: float, *, seed: int, n_samples: int | None = None) -> np.ndarray:
        """W_S at every recorded step (steps, m, n), linear students only.

        Args:
            rank: the run's rank.
            alpha: its clone weight.
            seed: its seed.
            n_samples: the sample size (None: the sweep's only one).

        Returns:
            (recorded steps, m, n) float64 array.
        """
        return self._cell(n_samples).arrays[f"weight[rank={rank},alpha={float(alpha)},seed={seed}]"]

    def representations(
        self, rank: int, alpha: float, *, seed: int, step: int, noise_std: float = 0.0, n_samples: int | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(teacher, student) hidden activations on the held-out batch at `step`, each (samples, dims),
        plus independent N(0, noise_std^2) noise (see `add_noise`) when noise_std > 0.

        Args:
            rank: the run's rank.
            alpha: its clone weight.
            seed: its seed.
            step: a recorded step.
            noise_std: the added noise's standard deviation.
            n_samples: the sample size (None: the sweep's only one).

        Returns:
            (teacher activations, student activations), float64.
        """
        cell = self._cell(n_samples)
        steps = [int(s) for s in cell.arrays["rep_steps"]]
        require(step in steps, "step", f"one of the recorded steps {steps}", step)
        teacher = cell.arrays[f"teacher[seed={seed}]"]
        student = cell.arrays[f"student[rank={rank},alpha={float(alpha)},seed={seed}]"][steps.index(step)]
        return (
            add_noise(teacher, noise_std, ("teacher", seed, step)),
            add_noise(student, noise_std, ("student", rank, seed, step, float(alpha))),
        )

    def _cell(self, n_samples):
        cells = self.stored if n_samples is None else [c for c in self.stored if c.cell["n_samples"] == n_samples]
        require(len(cells) == 1, "n_samples", "one of the swept sample sizes", n_samples)
        return cells[0]


def clone_sweep(
    teacher: Teacher,
    ranks: Sequence[int],
    alphas: Sequence[float],
    sample_size: int,
    *,
    seeds: Sequence[int],
    steps: int,
    rep_samples: int = 1000,
    dtype: str = "float64",
    device: str = "auto",
    store=None,
    executor=None,
    progress=None,
    experiment: str = "simulate.clone_sweep",
    **train_options,
) -> CloneSweep:
    """C3: LRC-style students with and without the clone loss (alpha = 0 is the ablation), same
    seeds, inits and minibatches for every alpha; representations on a held-out batch of
    `rep_samples` inputs at every recorded step (record_points of them, default 10).

    Args:
        teacher: a LinearTeacher or MLPTeacher.
        ranks: student ranks.
        alphas: clone-loss weights (>= 0).
        sample_size: N.
        seeds: data, minibatch and initialization seeds.
        steps: T.
        rep_samples: held-out inputs the representations are taken on.
        dtype: "float64" or "float32".
        device: "auto", "cpu" or "cuda[:k]".
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).
        experiment: the name cells are stored under.
        train_options: other TrainSpec fields.

    Returns:
        CloneSweep: the trajectory frame and the stored representations.
    """
    require(len(alphas) > 0, "alphas", "a non-empty list", alphas)
    alphas = [require_float_in(a, "alpha", 0.0) for a in alphas]
    train_options = {"record_points": 10, "c1_stats": False, **train_options}
    grid = _Grid.build(
        teacher, ranks, [sample_size], seeds, "lrc", steps, alphas[0], dtype, device, train_options, c1_stats=False
    )
    require_int_in(rep_samples, "rep_samples", 1, 100_000)
    cell = grid.cell(n_samples=sample_size, steps=grid.steps[0], alphas=alphas, rep_samples=rep_samples)
    stored = run_grid(experiment, [cell], run_train_cell, store=store, executor=executor, progress=progress)
    return CloneSweep(_frame(stored, "trajectory"), stored)


def quadratic_sweep(
    problem: Quadratic,
    steps: Sequence[int],
    *,
    seeds: Sequence[int],
    step_rule: str = "c1",
    lr: float = 0.1,
    optimizer: str = "sgd",
    record_points: int = 16,
    dtype: str = "float64",
    device: str = "auto",
    store=None,
    executor=None,
    progress=None,
    experiment: str = "simulate.quadratic_sweep",
) -> pd.DataFrame:
    """SGD on the known-constant quadratic for each budget T (eta per T by step_rule), batched over
    seeds; trajectory rows with step, objective, grad_norm_sq, min/avg_grad_norm_sq, lr and the
    exact L_est = L, sigma2_est = sigma^2, delta.

    Args:
        problem: the Quadratic.
        steps: the budgets T.
        seeds: the gradient-noise seeds.
        step_rule: "c1" or "constant".
        lr: the constant step size (step_rule "constant").
        optimizer: "sgd" or "adam".
        record_points: recorded steps per run.
        dtype: "float64" or "float32".
        device: "auto", "cpu" or "cuda[:k]".
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).
        experiment: the name cells are stored under.

    Returns:
        One row per (T, seed, recorded step).
    """
    require(isinstance(problem, Quadratic), "problem", "a simulate.Quadratic", type(problem).__name__)
    steps_list = _int_list(steps, "steps", 1)
    seeds_list = _int_list(seeds, "seeds", 0)
    spec = TrainSpec(
        steps=steps_list[0],
        optimizer=optimizer,
        lr=lr,
        step_rule=step_rule,
        batch_size=None,
        record_points=record_points,
        grad_every_step=True,
    )
    _check_dtype(dtype)
    devices.resolve(device)
    cells = [
        {
            "problem": problem.to_dict(),
            "seeds": seeds_list,
            "steps": t,
            "train": to_dict(dataclasses.replace(spec, steps=t)),
            "dtype": dtype,
            "device": device,
        }
        for t in steps_list
    ]
    stored = run_grid(experiment, cells, run_quadratic_cell, store=store, executor=executor, progress=progress)
    return _frame(stored, "trajectory")


def add_noise(values: np.ndarray, std: float, key: tuple) -> np.ndarray:
    """values + N(0, std^2) i.i.d. per entry, from a stream named by `key` (deterministic).

    Args:
        values: the array.
        std: the noise's standard deviation (>= 0; 0 returns a float64 copy).
        key: the stream's name parts (floats are rounded to micro-units).

    Returns:
        A float64 array of values' shape.
    """
    std = require_float_in(std, "noise_std", 0.0)
    if std == 0.0:
        return np.array(values, dtype=np.float64)
    noise = rng("representation-noise", *[_key_part(k) for k in key]).standard_normal(values.shape)
    return values.astype(np.float64) + std * noise


# -- the grid and its cells -------------------------------------------------------------------------
@dataclass
class _Grid:
    teacher: Teacher
    ranks: list[int]
    sample_sizes: list[int]
    seeds: list[int]
    student: str
    steps: list[int]
    alpha: float
    dtype: str
    device: str
    spec: dict[str, Any]

    @classmethod
    def build(cls, teacher, ranks, sample_sizes, seeds, student, steps, alpha, dtype, device, options, *, c1_stats):
        check_teacher(teacher)
        kind = student_kind(student)
        ranks = _int_list(ranks, "rank", 1, kind.max_rank(teacher))
        sizes = _int_list(sample_sizes, "sample_sizes", 1)
        seeds = _int_list(seeds, "seeds", 0)
        alpha = kind.default_alpha if alpha is None else require_float_in(alpha, "alpha", 0.0)
        _check_student_fits(teacher, kind)
        _check_dtype(dtype)
        devices.resolve(device)
        steps_list, spec = _steps_and_spec(kind, steps, options, c1_stats)
        return cls(teacher, ranks, sizes, seeds, student, steps_list, alpha, dtype, device, spec)

    @property
    def kind(self) -> StudentKind:
        return STUDENT_KINDS[self.student]

    def cell(self, **extra) -> dict[str, Any]:
        base = {
            "teacher": self.teacher.to_dict(),
            "student": self.student,
            "ranks": self.ranks,
            "dtype": self.dtype,
            "device": self.device,
        }
        if not self.kind.trained:
            return {**base, **self.spec, **extra}
        spec = to_dict(TrainSpec(**{**self.spec, "steps": extra.pop("steps")}))
        return {**base, "seeds": self.seeds, "alphas": [self.alpha], "train": spec, **extra}


def _steps_and_spec(kind: StudentKind, steps, options, c1_stats):
    if not kind.trained:
        require(steps is None, "steps", f"None for the closed-form {kind.name} student", steps)
        extra = sorted(set(options) - {"risk_samples"})
        if extra:
            raise InputError(extra[0], f"training options do not apply to the closed-form {kind.name} student")
        return [], {"risk_samples": require_int_in(options.get("risk_samples", 8192), "risk_samples", 1)}
    require(steps is not None, "steps", "an integer >= 1 (or a list) for a trained student", steps)
    steps_list = _int_list([steps] if isinstance(steps, (int, np.integer)) else steps, "steps", 1)
    spec = {"c1_stats": c1_stats, **options}
    unknown = set(spec) - {f.name for f in dataclasses.fields(TrainSpec)}
    if unknown:
        raise InputError(
            sorted(unknown)[0],
            "unknown training option; allowed: "
            + ", ".join(f.name for f in dataclasses.fields(TrainSpec) if f.name != "steps"),
        )
    TrainSpec(steps=steps_list[0], **spec)  # validate now, not in a worker
    return steps_list, spec


def _check_student_fits(teacher, kind: StudentKind):
    names = " or ".join("a " + t.__name__ for t in kind.teachers)
    require(kind.fits(teacher), "teacher", f"{names} for the {kind.name} student", type(teacher).__name__)


def _require_trained(student: str) -> None:
    """A trajectory needs an optimized student: refuse a closed-form kind (unknown names are
    refused later, with the list of every kind)."""
    kind = STUDENT_KINDS.get(student)
    if kind is not None and not kind.trained:
        trained = " or ".join(repr(k.name) for k in STUDENT_KINDS.values() if k.trained)
        require(False, "student", f"{trained} ({kind.name} has no optimization)", student)


def run_rrr_cell(cell: dict) -> CellResult:
    """Closed-form RRR for one (N, seed): one SVD, a row per rank.

    Args:
        cell: a rank_sweep cell (teacher, ranks, n_samples, seed, dtype, device, risk_samples).

    Returns:
        CellResult with the table "results".
    """
    teacher = teacher_from_dict(cell["teacher"])
    dtype, dev = DTYPES[cell["dtype"]], devices.resolve(cell["device"])
    data = load_data(teacher, cell["n_samples"], seeds=[cell["seed"]], dtype=dtype, device=dev)
    x, y = data.x[0], data.y[0]
    fits = fit_rrr(x, y, cell["ranks"])
    runs = [Run(cell["seed"], r) for r in cell["ranks"]]
    w = torch.stack([fits[r] for r in cell["ranks"]])
    probe = FactorizedStudents(teacher, data, runs, risk_samples=cell["risk_samples"])
    metrics = {k: v.double().cpu().numpy() for k, v in probe.risks_of_weight(w).items()}
    metrics["grad_norm_sq"] = np.full(len(runs), np.nan)
    rows = [
        _result_row(
            teacher, cell, run, {k: float(v[i]) for k, v in metrics.items()}, probe.risk_method, steps=None, lr=None
        )
        for i, run in enumerate(runs)
    ]
    return CellResult({"results": rows})


def run_train_cell(cell: dict) -> CellResult:
    """Train every rank x seed x alpha of one (N, T) together; results + trajectory (+ representations).

    Args:
        cell: a sweep cell (teacher, student, ranks, seeds, alphas, n_samples, train spec, dtype,
            device, and rep_samples for a clone sweep).

    Returns:
        CellResult with the tables "results" and "trajectory" (and the representation arrays).
    """
    teacher = teacher_from_dict(cell["teacher"])
    dtype, dev = DTYPES[cell["dtype"]], devices.resolve(cell["device"])
    spec = from_dict(TrainSpec, cell["train"])
    runs = [Run(s, r, float(a)) for a in cell["alphas"] for r in cell["ranks"] for s in cell["seeds"]]
    data = load_data(teacher, cell["n_samples"], seeds=cell["seeds"], dtype=dtype, device=dev)
    students = STUDENT_KINDS[cell["student"]].build(teacher, data, runs, spec)
    capture = _RepresentationCapture(teacher, students, cell, dtype, dev) if cell.get("rep_samples") else None
    traj = train(students, spec, on_record=capture)
    tables = {
        "results": _final_rows(teacher, cell, students, runs, traj, spec),
        "trajectory": _trajectory_rows(teacher, cell, students, runs, traj, spec),
    }
    return CellResult(tables, capture.arrays(runs) if capture else {})


def run_quadratic_cell(cell: dict) -> CellResult:
    """Train one budget T of the quadratic for every seed.

    Args:
        cell: a quadratic_sweep cell (problem, seeds, steps, train spec, dtype, device).

    Returns:
        CellResult with the table "trajectory".
    """
    problem = Quadratic.from_dict(cell["problem"])
    spec = from_dict(TrainSpec, cell["train"])
    runs = QuadraticRuns(problem, cell["seeds"], dtype=DTYPES[cell["dtype"]], device=devices.resolve(cell["device"]))
    traj = train(runs, spec)
    rows = []
    for i, seed in enumerate(cell["seeds"]):
        for j, step in enumerate(traj.steps):
            row = {
                "seed": seed,
                "steps": spec.steps,
                "step": step,
                "lr": float(traj.constants["lr"][i]),
                "delta": float(traj.constants["delta"][i]),
                "L_rule": float(traj.constants["L_rule"][i]),
                "sigma2_rule": float(traj.constants["sigma2_rule"][i]),
                "grad_stats": traj.grad_stats,
                "step_rule": spec.step_rule,
                "optimizer": spec.optimizer,
            }
            row.update({k: float(v[j, i]) for k, v in traj.metrics.items()})
            rows.append({**row, **_divergence(traj, i)})
    return CellResult({"trajectory": rows})


def _result_row(teacher, cell, run, metrics, risk_method, *, steps, lr) -> dict[str, Any]:
    m, n = teacher.m, teacher.n
    approx = (
        teacher.approx_error(run.rank) if isinstance(teacher, LinearTeacher) and run.rank <= min(m, n) else float("nan")
    )
    return {
        "rank": run.rank,
        "n_samples": cell["n_samples"],
        "seed": run.seed,
        "alpha": run.alpha,
        "student": cell["student"],
        "steps": steps,
        "lr": lr,
        **metrics,
        "gen_gap": metrics["test_risk"] - metrics["train_risk"],
        "noise_floor": teacher.noise_floor,
        "approx_error": approx,
        "risk_method": risk_method,
        "param_count": run.rank * (m + n),
        "dof": run.rank * (m + n - run.rank),
        "m": m,
        "n": n,
        "noise": teacher.noise,
        "diverged": False,
        "diverged_step": None,
        "diverged_reason": None,
    }


FINAL_METRICS = STUDENT_METRICS


def _final_rows(teacher, cell, students, runs, traj, spec):
    rows = []
    for i, run in enumerate(runs):
        metrics = {k: float(traj.final(k)[i]) for k in FINAL_METRICS}
        row = _result_row(
            teacher, cell, run, metrics, students.risk_method, steps=spec.steps, lr=float(traj.constants["lr"][i])
        )
        rows.append({**row, **_divergence(traj, i)})
    return rows


def _trajectory_rows(teacher, cell, students, runs, traj, spec):
    extra = _transfer_constants(students)
    rows = []
    for i, run in enumerate(runs):
        fixed = {
            "rank": run.rank,
            "n_samples": cell["n_samples"],
            "seed": run.seed,
            "alpha": run.alpha,
            "student": cell["student"],
            "steps": spec.steps,
            "lr": float(traj.constants["lr"][i]),
            "batch_size": spec.batch_size,
            "optimizer": spec.optimizer,
            "step_rule": spec.step_rule,
            "grad_stats": traj.grad_stats,
            "risk_method": students.risk_method,
            "noise_floor": teacher.noise_floor,
            **_divergence(traj, i),
        }
        for key in ("delta", "f_min", "L_rule", "sigma2_rule", "L_exact"):
            fixed[key] = float(traj.constants[key][i]) if key in traj.constants else float("nan")
        fixed.update({k: float(v[i]) for k, v in extra.items()})
        for j, step in enumerate(traj.steps):
            rows.append({**fixed, "step": step, **{k: float(v[j, i]) for k, v in traj.metrics.items()}})
    return rows


def _transfer_constants(students) -> dict[str, np.ndarray]:
    """L_g and ||W_T||_2^2 for the C1 transfer check L_f <= ||W_T||^2 L_g (NaN where not defined)."""
    runs = len(students.runs)
    nan = np.full(runs, np.nan)
    if not isinstance(students, TransferSmoothness):
        linear = isinstance(students.teacher, LinearTeacher)
        norm = np.linalg.norm(students.teacher.weight, 2) ** 2 if linear else np.nan
        return {"L_g": nan, "teacher_norm_sq": np.full(runs, norm)}
    lg = students.exact_smoothness_g()
    return {
        "L_g": nan if lg is None else lg.double().cpu().numpy(),
        "teacher_norm_sq": np.full(runs, students.teacher_norm_sq()),
    }


def _divergence(traj, i) -> dict[str, Any]:
    step = int(traj.diverged_step[i])
    return {
        "diverged": step >= 0,
        "diverged_step": step if step >= 0 else None,
        "diverged_reason": traj.diverged_reason[i],
    }


class _RepresentationCapture:
    """on_record hook: hidden activations of teacher and students on a held-out batch (`rep_samples`
    inputs from the seed's "heldout" stream), stored noise-free as float32 arrays named
    teacher[seed=S] (samples, d_T) and student[rank=R,alpha=A,seed=S] (recorded steps, samples, d_S).
    For linear students the weights W_S at every recorded step are kept too, as float64
    weight[rank=R,alpha=A,seed=S] (recorded steps, m, n), with teacher_weight (m, n): with Gaussian
    inputs they give the exact (population) mutual information of noisy representations."""

    def __init__(self, teacher, students, cell, dtype, dev):
        require(
            isinstance(students, Representations),
            "student",
            "a kind whose students declare simulate.students.Representations",
            type(students).__name__,
        )
        self.students, self.steps, self.student_reps, self.weights = students, [], [], []
        self.seeds = cell["seeds"]
        inputs = [teacher.sample(cell["rep_samples"], seed=seed, stream="heldout").x for seed in self.seeds]
        self.x = [torch.as_tensor(x, dtype=dtype, device=dev) for x in inputs]

    def __call__(self, step, params):
        self.steps.append(step)
        with torch.no_grad():
            per_seed = [self.students.representations(params, x) for x in self.x]
            if isinstance(self.students, LinearWeights):
                self.weights.append(self.students.weight(params).double().cpu().numpy())
        self.teacher_reps = [t for t, _ in per_seed]
        self.student_reps.append([s for _, s in per_seed])

    def arrays(self, runs) -> dict[str, np.ndarray]:
        out = {"rep_steps": np.asarray(self.steps)}
        for k, seed in enumerate(self.seeds):
            out[f"teacher[seed={seed}]"] = self.teacher_reps[k].astype(np.float32)
        for i, run in enumerate(runs):
            k = self.seeds.index(run.seed)
            stack = np.stack([reps[k][i] for reps in self.student_reps])  # (steps, samples, dims)
            width = self.students.representation_width(run)
            if width is not None:
                stack = stack[..., :width]  # drop the padding of the batch's widest run
            out[f"student[rank={run.rank},alpha={run.alpha},seed={run.seed}]"] = stack.astype(np.float32)
            if self.weights:
                out[f"weight[rank={run.rank},alpha={run.alpha},seed={run.seed}]"] = np.stack(
                    [w[i] for w in self.weights]
                )
        if self.weights:
            out["teacher_weight"] = np.asarray(self.students.teacher.weight, dtype=np.float64)
        return out


def _frame(stored, table: str) -> pd.DataFrame:
    """The table as a DataFrame with a fixed column order (fresh and stored cells look the same)."""
    frame = to_frame(stored, table)
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("train.")])
    known = RESULT_COLUMNS if table == "results" else TRAJECTORY_COLUMNS
    first = [c for c in known if c in frame.columns]
    return frame[first + sorted(set(frame.columns) - set(first))]


def _int_list(values, field: str, low: int, high: int | None = None) -> list[int]:
    require(
        isinstance(values, (list, tuple, range, np.ndarray)) and len(values) > 0,
        field,
        "a non-empty list of integers",
        values,
    )
    return [require_int_in(int(v) if isinstance(v, np.integer) else v, field, low, high) for v in values]


def _check_dtype(dtype: str) -> None:
    require(dtype in DTYPES, "dtype", "'float64' or 'float32'", dtype)


def _key_part(part):
    if isinstance(part, float):
        return int(round(part * 1_000_000))
    return part
