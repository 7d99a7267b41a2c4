"""A stochastic quadratic whose C1 constants are known exactly, to calibrate the C1 check.

f(x) = 1/2 x^T H x with H = diag(eigenvalues) >= 0, so inf f = 0, L = max eigenvalue, and
Delta = f(x_0) exactly. The stochastic gradient is H x + xi with xi ~ N(0, (sigma^2/d) I_d), fresh
at every step, so E xi = 0 and E||xi||^2 = sigma^2 exactly: the Ghadimi-Lan assumptions hold
with these L, sigma^2, Delta, and the bound (docs/claims.md, C1) is known to be true here.
Runs are batched over seeds (and step budgets) with the same training loop as the students.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from lrkd.errors import require, require_float_in
from lrkd.simulate._seeds import torch_generator
from lrkd.simulate.data import INDEX_CHUNK, Run
from lrkd.simulate.students import Trainable


@dataclass(frozen=True)
class Quadratic:
    """f(x) = 1/2 sum_i h_i x_i^2 with gradient noise of total variance sigma^2; x_0 = start."""

    eigenvalues: tuple[float, ...]
    sigma: float
    start: tuple[float, ...] | None = None  # None: every coordinate 1/sqrt(d), so ||x_0|| = 1

    def __post_init__(self):
        values = self.eigenvalues
        require(
            isinstance(values, (list, tuple, np.ndarray)) and len(values) > 0,
            "eigenvalues",
            "a non-empty list of numbers >= 0",
            values,
        )
        checked = tuple(require_float_in(v, f"eigenvalues[{i}]", 0.0) for i, v in enumerate(values))
        require(max(checked) > 0, "eigenvalues", "a list with at least one positive value", values)
        object.__setattr__(self, "eigenvalues", checked)
        object.__setattr__(self, "sigma", require_float_in(self.sigma, "sigma", 0.0))
        if self.start is not None:
            require(len(self.start) == len(checked), "start", f"a list of {len(checked)} numbers", self.start)
            start = tuple(require_float_in(v, f"start[{i}]") for i, v in enumerate(self.start))
            object.__setattr__(self, "start", start)

    @property
    def dim(self) -> int:
        """d, the number of coordinates."""
        return len(self.eigenvalues)

    @property
    def x0(self) -> np.ndarray:
        """The start x_0 (d,): `start`, or every coordinate 1/sqrt(d)."""
        return np.full(self.dim, 1 / math.sqrt(self.dim)) if self.start is None else np.asarray(self.start)

    @property
    def L(self) -> float:
        """The exact smoothness constant: the largest eigenvalue."""
        return max(self.eigenvalues)

    @property
    def delta(self) -> float:
        """f(x_0) - inf f = f(x_0)."""
        return 0.5 * float(np.dot(self.eigenvalues, self.x0**2))

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON-able data (how it travels in a sweep cell).

        Returns:
            {"eigenvalues", "sigma", "start"}.
        """
        return {
            "eigenvalues": list(self.eigenvalues),
            "sigma": self.sigma,
            "start": None if self.start is None else list(self.start),
        }

    @classmethod
    def from_dict(cls, data) -> "Quadratic":
        """Rebuild a problem from its to_dict() form.

        Args:
            data: what to_dict returned.

        Returns:
            The Quadratic.
        """
        start = data.get("start")
        return cls(tuple(data["eigenvalues"]), data["sigma"], None if start is None else tuple(start))


class QuadraticRuns(Trainable):
    """The batched-problem interface of the training loop for R noisy-quadratic runs.

    Args:
        problem: the quadratic.
        seeds: one run per seed (each seed has its own gradient-noise stream).
        dtype: the tensors' dtype.
        device: the tensors' device.
    """

    kind = "quadratic"
    cheap_full_gradient = True

    def __init__(self, problem: Quadratic, seeds: Sequence[int], *, dtype: torch.dtype, device: torch.device):
        self.problem, self.dtype, self.device = problem, dtype, device
        self.runs = [Run(seed, 1) for seed in seeds]
        self.h = torch.as_tensor(problem.eigenvalues, dtype=dtype, device=device)
        self.noise = _NoiseStream(seeds, problem.dim, problem.sigma / math.sqrt(problem.dim), dtype, device)

    def init_params(self):
        """x_0 for every run.

        Returns:
            [x (R, d)].
        """
        x0 = torch.as_tensor(self.problem.x0, dtype=self.dtype, device=self.device)
        return [x0.expand(len(self.runs), -1).clone()]

    def step(self, params, idx):
        """One stochastic gradient: H x + xi with fresh noise xi (the same stream whatever the batching).

        Args:
            params: [x (R, d)], the runs' points.
            idx: unused (the quadratic has no data; its noise is drawn here).

        Returns:
            (f(x) (R,), [H x + xi]).
        """
        x = params[0]
        return self.objective(params), [self.h * x + self.noise.next()]

    def objective(self, params):
        """f(x) = 1/2 x^T H x per run.

        Args:
            params: [x (R, d)], the runs' points.

        Returns:
            (R,) tensor.
        """
        return 0.5 * (self.h * params[0].square()).sum(1)

    def full_grad_norm_sq(self, params):
        """||H x||^2 per run.

        Args:
            params: [x (R, d)], the runs' points.

        Returns:
            (R,) tensor.
        """
        return (self.h * params[0]).square().sum(1)

    def evaluate(self, params):
        """The recorded metrics: objective and grad_norm_sq.

        Args:
            params: [x (R, d)], the runs' points.

        Returns:
            {"objective": (R,), "grad_norm_sq": (R,)}.
        """
        return {"objective": self.objective(params), "grad_norm_sq": self.full_grad_norm_sq(params)}

    def gradient_noise(self, params, batch_size):
        """sigma^2, the noise's exact variance, whatever the point.

        Args:
            params: [x (R, d)], the runs' points.
            batch_size: unused (the noise does not depend on it).

        Returns:
            (R,) float64 tensor.
        """
        return torch.full((len(self.runs),), self.problem.sigma**2, dtype=torch.float64)

    def exact_smoothness(self):
        """L = the largest eigenvalue, per run.

        Returns:
            (R,) float64 tensor.
        """
        return torch.full((len(self.runs),), self.problem.L, dtype=torch.float64)

    def objective_min(self):
        """inf f = 0, per run.

        Returns:
            (R,) float64 zeros.
        """
        return torch.zeros(len(self.runs), dtype=torch.float64, device=self.device)

    def optimum_params(self):
        """The minimizer x = 0 for every run.

        Returns:
            [zeros (R, d)].
        """
        return [torch.zeros(len(self.runs), self.problem.dim, dtype=self.dtype, device=self.device)]

    def smoothness(self, params, iters=0, start=None):
        """The exact L (no power iteration needed).

        Args:
            params: [x (R, d)], the runs' points.
            iters: unused.
            start: unused.

        Returns:
            (exact_smoothness(), None).
        """
        return self.exact_smoothness(), None


class _NoiseStream:
    """Per-seed Gaussian gradient noise, drawn in fixed chunks (independent of batching)."""

    def __init__(self, seeds, dim, std, dtype, device):
        self.generators = [torch_generator("quadratic-noise", seed) for seed in seeds]
        self.dim, self.std, self.dtype, self.device = dim, std, dtype, device
        self.step, self.chunk = 0, None

    def next(self) -> torch.Tensor:
        offset = self.step % INDEX_CHUNK
        if offset == 0:
            draws = [torch.randn(INDEX_CHUNK, self.dim, generator=g, dtype=torch.float64) for g in self.generators]
            self.chunk = (torch.stack(draws, 1) * self.std).to(self.device, self.dtype)
        self.step += 1
        return self.chunk[offset]
