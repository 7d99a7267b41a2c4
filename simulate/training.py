"""The batched training loop: SGD or Adam on R stacked runs, recorded at log-spaced steps.

One loop trains every run of a batch at once (each step is a handful of batched matrix products,
no Python loop over runs). What it records, and how (the quantities C1 needs, docs/claims.md):
  * objective f: the full-batch training objective actually optimized (output loss + alpha * clone
    loss, mean over the N training pairs); train_risk: its output-loss part; test_risk /
    excess_risk: the students' own risks (exact for linear students of a linear teacher).
  * grad_norm_sq = ||grad f(theta_t)||^2 (full batch) at each recorded step t. With
    `grad_every_step` it is also taken at EVERY step, and then at record step t
    min_grad_norm_sq = min_{s<t} ||grad f(theta_s)||^2 and avg_grad_norm_sq = (1/t) sum_{s<t} ...,
    exactly the quantities of the Ghadimi-Lan bound over t steps; otherwise both run over the
    recorded steps s < t only (column grad_stats says which). Both are NaN at t = 0 (empty).
  * sigma2: E||g_batch - grad f||^2 at theta_t, exact from per-sample gradients; sigma2_est is
    its running max over recorded steps (the variance bound must hold along the whole path).
  * L_local: ||Hessian of f|| at theta_t by power iteration (a local lower bound on L);
    L_est: the exact global constant where f is quadratic in the trained parameters (LRC student
    with frozen embedding), else the running max of L_local over recorded steps.
  * delta = f(theta_0) - f_min, f_min the exact infimum over the student's reachable set for
    linear students (reduced-rank least squares), 0 for the MLP (a sum of squares).
Step-size rules: "constant" (lr), or "c1": eta = theory.optimal_step_size(L, sigma, Delta, T),
with L, sigma^2 taken before training as the max of their values at theta_0 and at an exact
minimizer (linear students; the exact L where known), or at theta_0 alone (MLP), and Delta exact.
Divergence: the minibatch loss of every step is kept; the first non-finite one marks the run
diverged at that step (reason "nan" or "inf"), and its later metrics are NaN, never averaged in.
Speed: students that declare the simulate.students.Packed capability (the linear ones) train with
minibatches in the packed layout of simulate/packed.py (rank buckets, one minibatch gather and one
GEMM per seed for the input-side products, fused SGD); everything recorded is computed on the
students' own padded layout, unpacked at record steps. `buckets="none"` keeps the students' own
padded step (the reference path, and the only one for the MLP and for full-batch runs).
What `train` may call on its argument is declared in simulate/students.py (Trainable).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Literal, Sequence

import numpy as np
import torch

from lrkd.errors import InputError, require, require_float_in, require_int_in
from lrkd.simulate.data import BatchStream
from lrkd.simulate.students import Packed, StepProgram, Students, Trainable

MAX_STEPS = 10**9


@dataclass(frozen=True)
class TrainSpec:
    """How a batch of students is trained and recorded (saved with every sweep cell)."""

    steps: int
    optimizer: Literal["sgd", "adam"] = "sgd"
    lr: float = 0.05
    step_rule: Literal["constant", "c1"] = "constant"
    batch_size: int | None = 64
    init_scale: float = 0.5
    train_embedding: bool = True
    record_points: int = 16
    c1_stats: bool = True
    grad_every_step: bool | None = None  # None: yes for linear students, no for the MLP
    power_iters: int = 20
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    risk_samples: int = 8192

    def __post_init__(self):
        require_int_in(self.steps, "steps", 1, MAX_STEPS)
        require(self.optimizer in ("sgd", "adam"), "optimizer", "'sgd' or 'adam'", self.optimizer)
        require_float_in(self.lr, "lr", 0.0, None, open_low=True)
        require(self.step_rule in ("constant", "c1"), "step_rule", "'constant' or 'c1'", self.step_rule)
        if self.batch_size is not None:
            require_int_in(self.batch_size, "batch_size", 1)
        require_float_in(self.init_scale, "init_scale", 0.0, None, open_low=True)
        require_int_in(self.record_points, "record_points", 2, 10_000)
        require_int_in(self.power_iters, "power_iters", 1, 10_000)
        require_int_in(self.risk_samples, "risk_samples", 1)
        require(
            len(self.adam_betas) == 2 and all(0 <= b < 1 for b in self.adam_betas),
            "adam_betas",
            "two numbers in [0, 1)",
            self.adam_betas,
        )
        require_float_in(self.adam_eps, "adam_eps", 0.0, None, open_low=True)


@dataclass
class Trajectory:
    """What `train` returns: recorded metrics (n_record, R), per-run constants and divergence."""

    steps: list[int]
    metrics: dict[str, np.ndarray]
    constants: dict[str, np.ndarray]
    diverged_step: np.ndarray
    diverged_reason: list[str | None]
    grad_stats: str
    params: list[torch.Tensor] = field(repr=False)
    seconds: float = 0.0

    def final(self, name: str) -> np.ndarray:
        """The last recorded value of a metric, per run.

        Args:
            name: a metric of `metrics`.

        Returns:
            (R,) array.
        """
        return self.metrics[name][-1]


def record_steps(steps: int, points: int) -> list[int]:
    """0 and `points - 1` distinct, roughly log-spaced steps up to and including `steps`
    (every step when points > steps).

    Args:
        steps: T, the last step.
        points: how many steps to record.

    Returns:
        Sorted distinct steps, 0 and T included.
    """
    if points > steps:
        return list(range(steps + 1))
    if points == 2:
        return [0, steps]
    count = points - 1
    while True:
        grid = np.unique(np.round(np.geomspace(1, steps, count)).astype(int))
        if len(grid) >= points - 1:
            return [0] + [int(s) for s in grid]
        count += 1


def train(
    students: Trainable,
    spec: TrainSpec,
    *,
    on_record: Callable[[int, list], None] | None = None,
    buckets: str | Sequence[int] = "auto",
) -> Trajectory:
    """Train all runs of `students` together for spec.steps steps; see the module docstring.

    Args:
        students: the R runs (simulate.students.Trainable; minibatches need Students, which
            have training data).
        spec: optimizer, step rule, minibatch size, what is recorded.
        on_record: called as on_record(step, params) after each record step.
        buckets: "auto" (rank buckets planned by simulate.packed.plan_buckets, where the students
            declare the Packed capability), "none" (the students' own padded step), or explicit
            bucket widths. The choice changes speed only: every run computes the same numbers
            (up to float rounding).

    Returns:
        The Trajectory: metrics (n_record, R) at the recorded steps, constants, divergence.
    """
    require(isinstance(students, Trainable), "students", "a simulate.students.Trainable", type(students).__name__)
    if spec.batch_size is not None and not isinstance(students, Students):
        raise InputError(
            "batch_size",
            f"None for {type(students).__name__}: minibatches are drawn from the training data of Students",
        )
    start = time.perf_counter()
    every_step = students.cheap_full_gradient if spec.grad_every_step is None else spec.grad_every_step
    params = students.init_params()
    constants = rule_constants(students, spec, params)
    lr = torch.as_tensor(constants["lr"], dtype=params[0].dtype, device=params[0].device)
    program = _program(students, spec, params, lr, buckets)
    loop = _Loop(students, spec, program, every_step, constants, on_record)
    loop.run()
    return loop.trajectory(time.perf_counter() - start)


def _program(students: Trainable, spec: TrainSpec, params, lr, buckets) -> StepProgram:
    """The step program: packed (simulate/packed.py) where the students declare it, else their own."""
    if isinstance(buckets, str):
        require(buckets in ("auto", "none"), "buckets", "'auto', 'none' or a list of bucket widths", buckets)
    packable = isinstance(students, Packed) and spec.batch_size is not None
    if buckets == "none" or (buckets == "auto" and not packable):
        return _DirectProgram(students, spec, params, lr)
    if not packable:
        raise InputError(
            "buckets",
            "bucket widths need linear students trained with minibatches (batch_size set); use 'auto' or 'none'",
        )
    return students.packed_program(params, lr, spec.batch_size, None if buckets == "auto" else buckets)


class _DirectProgram:
    """The students' own batched step on their padded parameter layout (any Trainable): a StepProgram."""

    order = None
    fused_sgd = False

    def __init__(self, students, spec, params, lr):
        self.s, self.tensors, self.lrs = students, params, [lr] * len(params)
        self.stream = (
            None
            if spec.batch_size is None
            else BatchStream(students.runs, students.data.n_samples, spec.batch_size, params[0].device)
        )

    def losses_and_grads(self, out):
        loss, grads = self.s.step(self.tensors, self.stream.next() if self.stream is not None else None)
        out.copy_(loss)
        return grads

    def full_grad_norm_sq(self):
        return self.s.full_grad_norm_sq(self.tensors)

    def params(self):
        return self.tensors


def rule_constants(students: Trainable, spec: TrainSpec, params) -> dict[str, np.ndarray]:
    """delta (exact where possible), the L and sigma^2 the c1 rule uses, and each run's step size.

    Args:
        students: the runs.
        spec: step_rule, c1_stats, batch_size, power_iters, lr.
        params: the initial parameters theta_0.

    Returns:
        {"f0", "f_min", "delta", "L_exact", "lr"} and, for the c1 rule or c1_stats, "L_rule" and
        "sigma2_rule"; each (R,) float64.
    """
    f0 = students.objective(params).detach().double()
    f_min = students.objective_min()
    out = {"f0": _np(f0), "f_min": _np(f_min), "delta": _np((f0 - f_min).clamp_min(0.0))}
    if spec.step_rule == "c1" or spec.c1_stats:
        out["L_rule"], out["sigma2_rule"] = _rule_smoothness_and_noise(students, spec, params)
    exact = students.exact_smoothness()
    out["L_exact"] = _np(exact) if exact is not None else np.full(len(students.runs), np.nan)
    out["lr"] = _step_sizes(spec, out, len(students.runs))
    return out


def _rule_smoothness_and_noise(students, spec, params):
    optimum = students.optimum_params()
    points = [params] + ([optimum] if optimum is not None else [])
    noise = np.max([_np(students.gradient_noise(p, spec.batch_size)) for p in points], axis=0)
    exact = students.exact_smoothness()
    if exact is not None:
        return _np(exact), noise
    smooth = np.max([_np(students.smoothness(p, spec.power_iters)[0]) for p in points], axis=0)
    return smooth, noise


def _step_sizes(spec: TrainSpec, constants, runs: int) -> np.ndarray:
    if spec.step_rule == "constant":
        return np.full(runs, spec.lr)
    optimal_step_size = _theory_step_rule()
    sigma = np.sqrt(constants["sigma2_rule"])
    delta = np.maximum(constants["delta"], np.finfo(np.float64).tiny)
    return np.asarray(optimal_step_size(constants["L_rule"], sigma, delta, float(spec.steps)), dtype=np.float64)


def _theory_step_rule():
    """C1's step rule lives in theory/ (one home for the formula)."""
    from lrkd.theory import optimal_step_size  # lrkd.theory loads sympy: only for runs using the c1 rule

    return optimal_step_size


class _Loop:
    """The step loop. Per-step minibatch losses (and full-batch gradient norms) go to a small
    buffer that is scanned at each record step and whenever it fills, so memory stays O(R)."""

    BUFFER = 1024

    def __init__(self, students, spec, program, every_step, constants, on_record):
        self.s, self.spec, self.program = students, spec, program
        self.constants, self.on_record = constants, on_record
        runs, dev, dtype = len(students.runs), program.tensors[0].device, program.tensors[0].dtype
        self.fused = spec.optimizer == "sgd" and program.fused_sgd
        self.update = None if self.fused else _optimizer(spec, program.tensors, program.lrs)
        self.columns = None if program.order is None else np.argsort(program.order)  # buffer column -> run
        size = min(spec.steps, self.BUFFER)
        self.loss_buf = torch.empty(size, runs, dtype=dtype, device=dev)
        self.loss_rows = self.loss_buf.unbind(0)  # row views made once: no indexing op per step
        self.grad_buf = torch.empty(size, runs, dtype=dtype, device=dev) if every_step else None
        self.pos, self.base = 0, 0  # fill of the buffers; step number of their first row
        self.grad_sum, self.grad_min = np.zeros(runs), np.full(runs, np.inf)
        self.params = program.params()
        self.records: list[dict[str, np.ndarray]] = []
        self.steps = record_steps(spec.steps, spec.record_points)
        self.bad_step = np.full(runs, -1)
        self.bad_reason: list[str | None] = [None] * runs
        self.power_start = None

    def run(self):
        todo = list(self.steps)
        for t in range(self.spec.steps + 1):
            if t == todo[0]:
                todo.pop(0)
                self.record(t)
                if (self.bad_step >= 0).all() or not todo:
                    break
            if self.pos == len(self.loss_buf):
                self.flush()
            if self.grad_buf is not None:
                self.grad_buf[self.pos] = self.program.full_grad_norm_sq()
            if self.fused:
                self.program.sgd_step(self.loss_rows[self.pos])
            else:
                self.update(self.program.losses_and_grads(self.loss_rows[self.pos]))
            self.pos += 1
        self.steps = self.steps[: len(self.records)]
        self.params = self.program.params()

    def flush(self):
        """Fold the buffered steps [base, base + pos) into the divergence marks and gradient stats."""
        losses = self._by_run(self.loss_buf[: self.pos])
        bad = ~np.isfinite(losses)
        for run in np.flatnonzero(bad.any(0) & (self.bad_step < 0)):
            row = int(np.argmax(bad[:, run]))
            step = self.base + row
            kind = "nan" if np.isnan(losses[row, run]) else "inf"
            self.bad_step[run], self.bad_reason[run] = step, f"minibatch loss became {kind} at step {step}"
        if self.grad_buf is not None and self.pos:
            grads = self._by_run(self.grad_buf[: self.pos])
            self.grad_sum = self.grad_sum + grads.sum(0)
            self.grad_min = np.minimum(self.grad_min, grads.min(0))
        self.base += self.pos
        self.pos = 0

    def _by_run(self, buffer) -> np.ndarray:
        values = _np(buffer)
        return values if self.columns is None else values[:, self.columns]

    def record(self, t: int):
        self.flush()
        self.params = self.program.params()
        with torch.no_grad():
            metrics = {k: _np(v) for k, v in self.s.evaluate(self.params).items()}
        metrics.update(self._grad_stats(t, metrics["grad_norm_sq"]))
        if self.spec.c1_stats:
            metrics.update(self._c1_stats())
        self._flag_nonfinite(t, metrics["objective"])
        dead = (self.bad_step >= 0) & (self.bad_step <= t)
        self.records.append({k: np.where(dead, np.nan, v) for k, v in metrics.items()})
        if self.on_record is not None:
            self.on_record(t, self.params)

    def _grad_stats(self, t, current):
        if t == 0:
            empty = np.full_like(current, np.nan)
            return {"min_grad_norm_sq": empty, "avg_grad_norm_sq": empty.copy()}
        if self.grad_buf is not None:
            return {"min_grad_norm_sq": self.grad_min.copy(), "avg_grad_norm_sq": self.grad_sum / t}
        seen = np.stack([r["grad_norm_sq"] for r in self.records])
        return {"min_grad_norm_sq": seen.min(0), "avg_grad_norm_sq": seen.mean(0)}

    def _c1_stats(self):
        sigma2 = _np(self.s.gradient_noise(self.params, self.spec.batch_size))
        exact = self.constants["L_exact"]
        if np.all(np.isfinite(exact)):
            local = exact
        else:
            est, self.power_start = self.s.smoothness(self.params, self.spec.power_iters, self.power_start)
            local = _np(est)
        prev = self.records[-1] if self.records else None
        running = lambda key, v: v if prev is None else np.fmax(prev[key], v)
        return {
            "sigma2": sigma2,
            "sigma2_est": running("sigma2_est", sigma2),
            "L_local": local,
            "L_est": exact if np.all(np.isfinite(exact)) else running("L_est", local),
        }

    def _flag_nonfinite(self, t, objective):
        for run in np.flatnonzero(~np.isfinite(objective) & (self.bad_step < 0)):
            self.bad_step[run] = t
            kind = "nan" if np.isnan(objective[run]) else "inf"
            self.bad_reason[run] = f"full-batch objective became {kind} at step {t}"

    def trajectory(self, seconds: float) -> Trajectory:
        metrics = {k: np.stack([r[k] for r in self.records]) for k in self.records[0]}
        grad_stats = "every_step" if self.grad_buf is not None else "record_points"
        return Trajectory(
            self.steps,
            metrics,
            self.constants,
            self.bad_step.copy(),
            list(self.bad_reason),
            grad_stats,
            self.params,
            seconds,
        )


def _optimizer(spec: TrainSpec, params: list[torch.Tensor], lrs: list[torch.Tensor]):
    """An in-place batched update; every run has its own step size (lrs[k][i] for params[k][i])."""
    views = [lr.view(-1, *([1] * (p.dim() - 1))) for p, lr in zip(params, lrs)]
    if spec.optimizer == "sgd":

        def sgd(grads):
            for p, g, v in zip(params, grads, views):
                p.addcmul_(v, g, value=-1.0)

        return sgd
    b1, b2 = spec.adam_betas
    m = [torch.zeros_like(p) for p in params]
    s = [torch.zeros_like(p) for p in params]
    count = [0]

    def adam(grads):
        count[0] += 1
        c1, c2 = 1 - b1 ** count[0], 1 - b2 ** count[0]
        for p, g, mi, si, v in zip(params, grads, m, s, views):
            mi.mul_(b1).add_(g, alpha=1 - b1)
            si.mul_(b2).addcmul_(g, g, value=1 - b2)
            p.addcdiv_(mi * v, (si / c2).sqrt_().add_(spec.adam_eps), value=-1.0 / c1)

    return adam


def _np(t) -> np.ndarray:
    return t.detach().double().cpu().numpy() if torch.is_tensor(t) else np.asarray(t, dtype=np.float64)
