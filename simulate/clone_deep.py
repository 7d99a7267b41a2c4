"""C3 without the label-denoising confound: cloning a hidden activation that is not the output.

The one-layer C3 setup (simulate.sweeps.clone_sweep) clones the teacher's noise-free *output*, so
its clone loss is distillation from clean labels. Here the teacher has two or more layers and the
student clones the last *hidden* activation, which the output only sees through the last layer:

  teacher   h_1 = act(W_1 x),  h_i = act(W_i h_{i-1}) (i < L),  y_clean = W_L h_{L-1},
            y = y_clean + N(0, noise^2 I_m),  x ~ N(0, I_n)
  student   h^S_1 = act(W_1 M x), M = P E^T (P, E: n x r, trained), the later layers are the
            teacher's (frozen), y_S = W_L h^S_{L-1}

M = P E^T is the LRC rule W_S = W_T P fed by a width-r student hidden state u = E^T x (as in
simulate.students_linear.LRCStudents), so rank(W_1 M) <= r. act is the identity (a deep linear
teacher: every activation is a linear Gaussian map of x, so mutual informations are exact) or
ReLU (the nonlinear case). The clone target h_{L-1} is not the output whenever the last layer
W_L (m x d, m < d) has a null space: the output loss cannot see the part of h^S_{L-1} in it.

Arms (`ARMS`), each trained for the same number of steps, with Adam at every step size of a grid:
  noisy       ||y_S - y||^2                        output loss on noisy labels
  kd          ||y_S - y_clean||^2                  output distillation from the clean teacher
  kd_clone    ||y_S - y_clean||^2 + alpha ||h^S_{L-1} - h_{L-1}||^2   (LRC: KD + clone)
  noisy_clone ||y_S - y||^2 + alpha ||h^S_{L-1} - h_{L-1}||^2   (optional arm)
Losses are per sample, summed over coordinates, averaged over the minibatch.

`deep_clone_sweep` runs one cell per seed (every arm x step size batched; the Adam update is
elementwise, so a run in the batch sees exactly the numbers it would see alone) through the
results store, and records M at log-spaced steps with the held-out output loss and clone MSE.
It measures nothing about information: validate.c3 computes MI from the stored M.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from lrkd.errors import require, require_float_in, require_int_in
from lrkd.sweep import CellResult, run_grid, to_frame
from lrkd.simulate._seeds import rng
from lrkd.simulate.spectra import PowerLaw, Spectrum, check_spectrum, spectrum_from_dict
from lrkd.simulate.teachers import Sample, planted_matrix
from lrkd.simulate.training import record_steps

ARMS: Mapping[str, tuple[str, bool]] = {  # arm -> (output target, clone loss on)
    "noisy": ("noisy", False),
    "kd": ("clean", False),
    "kd_clone": ("clean", True),
    "noisy_clone": ("noisy", True),
}
DEEP_ACTIVATIONS = ("linear", "relu")

DEEP_COLUMNS = {
    "seed": "seed of data, minibatches and initialization",
    "arm": "one of ARMS",
    "lr": "Adam step size",
    "alpha": "clone-loss weight (0 for the output-only arms)",
    "step": "updates done",
    "output_loss": "held-out E||y_S - y_clean||^2 (exact for a linear teacher, else on `val_samples` inputs)",
    "clone_mse": "held-out E||h^S - h_T||^2 on the cloned layer (exact for linear, else sampled)",
    "train_objective": "minibatch training objective at the last update before `step`",
    "diverged": "bool: a non-finite loss was met (later records are NaN)",
}


@dataclass(frozen=True)
class DeepTeacher:
    """A teacher of len(widths) - 1 >= 2 layers, widths = (n, d_1, ..., d_{L-1}, m).

    W_1 carries the planted `spectrum` (Haar singular vectors), rescaled so that the first hidden
    layer has mean square 1 per unit (||W_1||_F^2 = d_1 linear, 2 d_1 for ReLU, whose units keep
    half the variance); later layers are Gaussian with variance 1/fan_in (2/fan_in for ReLU).
    """

    widths: tuple[int, ...] = (16, 16, 4)
    activation: str = "linear"
    spectrum: Spectrum = PowerLaw(1.0)
    noise: float = 1.0
    seed: int = 0
    kind: ClassVar[str] = "deep"

    def __post_init__(self):
        widths = tuple(int(w) for w in self.widths)
        require(len(widths) >= 3, "widths", "(n, d_1, ..., m): at least two layers", self.widths)
        for w in widths:
            require_int_in(w, "widths", 1, 4096)
        object.__setattr__(self, "widths", widths)
        require(self.activation in DEEP_ACTIVATIONS, "activation", " or ".join(DEEP_ACTIVATIONS), self.activation)
        check_spectrum(self.spectrum)
        object.__setattr__(self, "noise", require_float_in(self.noise, "noise", 0.0))
        require_int_in(self.seed, "seed", 0)

    @property
    def n(self) -> int:
        """Input width: widths[0]."""
        return self.widths[0]

    @property
    def m(self) -> int:
        """Output width: widths[-1]."""
        return self.widths[-1]

    @property
    def d(self) -> int:
        """Width of the cloned (last hidden) layer."""
        return self.widths[-2]

    @cached_property
    def layers(self) -> tuple[np.ndarray, ...]:
        """(W_1, ..., W_L), float64, W_i of shape (widths[i], widths[i-1])."""
        gen = rng("deep-teacher", self.seed)
        gain = 2.0 if self.activation == "relu" else 1.0
        d1, n = self.widths[1], self.widths[0]
        w1 = planted_matrix(d1, n, self.spectrum.first(min(d1, n)), gen)
        w1 *= np.sqrt(gain * d1) / np.linalg.norm(w1)
        rest = [
            gen.standard_normal((out, fan_in)) * np.sqrt((gain if i < len(self.widths) - 2 else 1.0) / fan_in)
            for i, (fan_in, out) in enumerate(zip(self.widths[1:-1], self.widths[2:]), start=1)
        ]
        return (w1, *rest)

    @cached_property
    def hidden_map(self) -> np.ndarray:
        """Linear teachers: A with h_{L-1} = A x (d x n), the product W_{L-1} ... W_1."""
        require(
            self.activation == "linear", "activation", "'linear' (a ReLU teacher has no hidden matrix)", self.activation
        )
        out = np.eye(self.n)
        for w in self.layers[:-1]:
            out = w @ out
        return out

    def hidden(self, x: np.ndarray, m: np.ndarray | None = None) -> np.ndarray:
        """h_{L-1} of the teacher (m None) or of the student with input projection M (n x n); x (N, n).

        Args:
            x: (N, n) inputs.
            m: the student's input projection M = P E^T (n x n), or None for the teacher.

        Returns:
            (N, d) float64 array.
        """
        h = np.asarray(x, dtype=np.float64) if m is None else np.asarray(x, dtype=np.float64) @ m.T
        for w in self.layers[:-1]:
            h = h @ w.T
            if self.activation == "relu":
                h = np.maximum(h, 0.0)
        return h

    def output(self, hidden: np.ndarray) -> np.ndarray:
        """The noise-free output: the last layer applied to a hidden state.

        Args:
            hidden: (N, d) hidden states h_{L-1}.

        Returns:
            (N, m) array.
        """
        return hidden @ self.layers[-1].T

    def sample(self, n_samples: int, *, seed: int, stream: str = "train") -> Sample:
        """N pairs from the seed's `stream`: inputs, noisy labels, clean outputs.

        Args:
            n_samples: N.
            seed: the data seed.
            stream: the stream's name ("train", "validation", ...).

        Returns:
            Sample (x, y, clean), float64.
        """
        x = rng(stream + "-deep-x", seed).standard_normal((require_int_in(n_samples, "n_samples", 1), self.n))
        clean = self.output(self.hidden(x))
        return Sample(x, clean + self.noise * rng(stream + "-deep-noise", seed).standard_normal(clean.shape), clean)

    def to_dict(self) -> dict[str, Any]:
        """The teacher as JSON-able data (from_dict rebuilds it).

        Returns:
            {"kind", "widths", "activation", "spectrum", "noise", "seed"}.
        """
        return {
            "kind": self.kind,
            "widths": list(self.widths),
            "activation": self.activation,
            "spectrum": self.spectrum.to_dict(),
            "noise": self.noise,
            "seed": self.seed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "DeepTeacher":
        """Rebuild a teacher from its to_dict() form.

        Args:
            data: what to_dict returned.

        Returns:
            The DeepTeacher.
        """
        return cls(
            tuple(data["widths"]), data["activation"], spectrum_from_dict(data["spectrum"]), data["noise"], data["seed"]
        )


@dataclass
class DeepSweep:
    """deep_clone_sweep's answer: one row per (seed, arm, lr, recorded step), and the stored M."""

    teacher: DeepTeacher
    frame: pd.DataFrame
    stored: list

    def projection(self, *, seed: int, arm: str, lr: float, step: int) -> np.ndarray:
        """The student's input projection M = P E^T (n x n) at a recorded step.

        Args:
            seed: the run's seed.
            arm: the arm (a name from ARMS).
            lr: the run's step size.
            step: a recorded step.

        Returns:
            (n, n) array.
        """
        cell = next(c for c in self.stored if c.cell["seed"] == seed)
        steps = [int(s) for s in cell.arrays["steps"]]
        require(step in steps, "step", f"one of the recorded steps {steps}", step)
        return cell.arrays[_array_name(arm, lr)][steps.index(step)]

    def steps(self) -> list[int]:
        """The recorded steps.

        Returns:
            The steps of the first stored cell (every cell records the same ones).
        """
        return [int(s) for s in self.stored[0].arrays["steps"]]


def deep_clone_sweep(
    teacher: DeepTeacher,
    rank: int,
    *,
    seeds: Sequence[int],
    arms: Sequence[str] = ("noisy", "kd", "kd_clone"),
    lrs: Sequence[float] = (1e-3, 1e-2, 1e-1),
    alpha: float = 1.0,
    sample_size: int = 500,
    steps: int = 2000,
    batch_size: int = 32,
    record_points: int = 8,
    val_samples: int = 4000,
    init_scale: float = 0.5,
    store=None,
    executor=None,
    progress=None,
    experiment: str = "simulate.deep_clone_sweep",
) -> DeepSweep:
    """Train every arm x step size for `steps` Adam updates, one results-store cell per seed.

    Args:
        teacher: the DeepTeacher (its weights come from its own seed, the same for every run).
        rank: r, the width of the student's hidden state (rank of M), 1 <= r <= n.
        seeds: seeds of the training sample, minibatches and initialization (one cell each).
        arms: names from ARMS.
        lrs: the Adam step-size grid every arm is run at.
        alpha: clone-loss weight of the clone arms.
        sample_size: N training pairs.
        steps: Adam updates per run.
        batch_size: minibatch size.
        record_points: log-spaced recorded steps (plus step 0).
        val_samples: held-out inputs for the output loss and clone MSE of a ReLU teacher (a linear
            teacher's are exact).
        init_scale: P, E entries start N(0, init_scale^2 / n).
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py; None: the default).
        progress: show a progress bar (None: when stderr is a terminal).
        experiment: the name cells are stored under.

    Returns:
        A DeepSweep: `frame` with the columns of DEEP_COLUMNS, `projection(...)` the stored M.
    """
    require(isinstance(teacher, DeepTeacher), "teacher", "a simulate.DeepTeacher", type(teacher).__name__)
    require(len(arms) > 0 and all(a in ARMS for a in arms), "arms", "names from " + ", ".join(ARMS), arms)
    require(len(lrs) > 0, "lrs", "a non-empty list of step sizes", lrs)
    cell = {
        "teacher": teacher.to_dict(),
        "rank": require_int_in(rank, "rank", 1, teacher.n),
        "arms": list(arms),
        "lrs": [require_float_in(lr, "lrs", 0.0, open_low=True) for lr in lrs],
        "alpha": require_float_in(alpha, "alpha", 0.0, open_low=True),
        "sample_size": require_int_in(sample_size, "sample_size", 1),
        "steps": require_int_in(steps, "steps", 1),
        "batch_size": require_int_in(batch_size, "batch_size", 1),
        "record_points": require_int_in(record_points, "record_points", 1, 64),
        "val_samples": require_int_in(val_samples, "val_samples", 10, 1_000_000),
        "init_scale": require_float_in(init_scale, "init_scale", 0.0, open_low=True),
    }
    seeds = [require_int_in(int(s), "seeds", 0) for s in seeds]
    require(len(seeds) > 0, "seeds", "a non-empty list", seeds)
    stored = run_grid(
        experiment,
        [{**cell, "seed": s} for s in seeds],
        run_deep_cell,
        store=store,
        executor=executor,
        progress=progress,
    )
    frame = to_frame(stored, "trajectory")
    frame = frame[[c for c in DEEP_COLUMNS if c in frame.columns] + ["cell_key"]]
    return DeepSweep(teacher, frame, stored)


# -- one cell: every arm x lr of one seed ----------------------------------------------------------
def run_deep_cell(cell: dict) -> CellResult:
    """Train the runs of one seed (float64, CPU); record M, held-out output loss and clone MSE.

    Args:
        cell: a deep_clone_sweep cell (teacher, rank, arms, lrs, alpha, sizes, seed).

    Returns:
        CellResult: table "trajectory" and arrays "steps" and M per (arm, lr).
    """
    teacher = DeepTeacher.from_dict(cell["teacher"])
    seed, n, r = cell["seed"], teacher.n, cell["rank"]
    runs = [(arm, lr) for arm in cell["arms"] for lr in cell["lrs"]]
    data = teacher.sample(cell["sample_size"], seed=seed)
    x = torch.from_numpy(data.x)
    targets = {"noisy": torch.from_numpy(data.y), "clean": torch.from_numpy(data.clean)}
    target = torch.stack([targets[ARMS[arm][0]] for arm, _ in runs])  # (R, N, m)
    alpha = torch.tensor([cell["alpha"] if ARMS[arm][1] else 0.0 for arm, _ in runs], dtype=torch.float64)
    lr = torch.tensor([lr for _, lr in runs], dtype=torch.float64)
    h_teacher = torch.from_numpy(teacher.hidden(data.x))
    p, e = (
        torch.from_numpy(rng("deep-init", name, seed).standard_normal((n, r)) * cell["init_scale"] / np.sqrt(n))
        .expand(len(runs), n, r)
        .clone()
        for name in ("P", "E")
    )  # same init for every run
    layers = [torch.from_numpy(w) for w in teacher.layers]
    batches = rng("deep-batches", seed).integers(0, cell["sample_size"], (cell["steps"], cell["batch_size"]))
    record = set(record_steps(cell["steps"], cell["record_points"])) | {0}
    evaluate = _Evaluator(teacher, seed, cell["val_samples"])
    adam = _BatchedAdam([p, e], lr)
    history, rows, last = [], [], torch.full((len(runs),), np.nan, dtype=torch.float64)
    for step in range(cell["steps"] + 1):
        if step in record:
            m = (p @ e.transpose(1, 2)).numpy().copy()
            history.append(m)
            rows += evaluate.rows(m, runs, step, last, cell["alpha"])
        if step == cell["steps"]:
            break
        idx = torch.from_numpy(batches[step])
        p.requires_grad_(True)
        e.requires_grad_(True)
        h_s = _student_hidden(layers, p, e, x[idx], teacher.activation)
        out = h_s @ layers[-1].T
        loss = (out - target[:, idx]).square().sum(-1).mean(-1) + alpha * (h_s - h_teacher[idx]).square().sum(-1).mean(
            -1
        )
        gp, ge = torch.autograd.grad(loss.sum(), [p, e])
        p, e = p.detach(), e.detach()
        adam.step([p, e], [gp, ge])
        last = loss.detach()
    arrays = {"steps": np.asarray(sorted(record))}
    stack = np.stack(history)  # (steps, R, n, n)
    for i, (arm, lr_) in enumerate(runs):
        arrays[_array_name(arm, lr_)] = stack[:, i]
    return CellResult({"trajectory": rows}, arrays)


def _student_hidden(layers, p, e, x, activation):
    """h^S_{L-1} for every run: x (B, n) -> (R, B, d)."""
    h = (x @ e) @ p.transpose(1, 2) @ layers[0].T  # x E P^T W_1^T
    for i, w in enumerate(layers[:-1]):
        if i > 0:
            h = h @ w.T
        if activation == "relu":
            h = torch.relu(h)
    return h


class _BatchedAdam:
    """Adam (0.9, 0.999, eps 1e-8) with one step size per run (leading axis): elementwise, so each
    run's trajectory equals the one it would have alone. A run whose update is non-finite is frozen
    at NaN (its later records read as diverged)."""

    def __init__(self, params, lr):
        self.lr, self.t = lr, 0
        self.m1 = [torch.zeros_like(q) for q in params]
        self.m2 = [torch.zeros_like(q) for q in params]

    def step(self, params, grads):
        self.t += 1
        for q, g, m1, m2 in zip(params, grads, self.m1, self.m2):
            m1.mul_(0.9).add_(g, alpha=0.1)
            m2.mul_(0.999).addcmul_(g, g, value=0.001)
            update = (m1 / (1 - 0.9**self.t)) / ((m2 / (1 - 0.999**self.t)).sqrt() + 1e-8)
            q.sub_(self.lr.view(-1, *[1] * (q.ndim - 1)) * update)


class _Evaluator:
    """Held-out output loss E||y_S - y_clean||^2 and clone MSE E||h^S - h_T||^2 of each run's M:
    exact moments for a linear teacher (x ~ N(0, I)), a fixed held-out sample for ReLU."""

    def __init__(self, teacher: DeepTeacher, seed: int, val_samples: int):
        self.teacher = teacher
        if teacher.activation == "linear":
            self.a = teacher.hidden_map
            self.out = teacher.layers[-1] @ self.a
        else:
            self.x = teacher.sample(val_samples, seed=seed, stream="validation").x
            self.h = teacher.hidden(self.x)

    def errors(self, m: np.ndarray) -> tuple[float, float]:
        if not np.all(np.isfinite(m)):
            return np.nan, np.nan
        if self.teacher.activation == "linear":
            eye = np.eye(m.shape[0])
            return float(np.sum((self.out @ (m - eye)) ** 2)), float(np.sum((self.a @ (m - eye)) ** 2))
        h_s = self.teacher.hidden(self.x, m)
        diff = h_s - self.h
        out = diff @ self.teacher.layers[-1].T
        return float(np.mean(np.sum(out**2, 1))), float(np.mean(np.sum(diff**2, 1)))

    def rows(self, ms, runs, step, last, alpha) -> list[dict[str, Any]]:
        rows = []
        for i, (arm, lr) in enumerate(runs):
            out, clone = self.errors(ms[i])
            rows.append(
                {
                    "arm": arm,
                    "lr": lr,
                    "alpha": alpha if ARMS[arm][1] else 0.0,
                    "step": step,
                    "output_loss": out,
                    "clone_mse": clone,
                    "train_objective": float(last[i]),
                    "diverged": not np.isfinite(out),
                }
            )
        return rows


def _array_name(arm: str, lr: float) -> str:
    return f"M[arm={arm},lr={float(lr)!r}]"
