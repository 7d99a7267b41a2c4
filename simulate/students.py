"""The declared interface of batched synthetic students, and of anything `training.train` trains.

A batch holds R runs (simulate.data.Run: seed, rank r, clone weight alpha) trained together as one
tensor program. Every parameter tensor is stacked to (R, ...) and padded to the batch's widest
rank; a run's padding stays exactly zero (its gradients there are zero, see the implementations'
module notes). Losses and objectives are per sample (the mean over the pairs used), summed over
the m outputs; everything indexed by run is a tensor (R,) in the order of `runs`.

Three levels, each an abstract class (declared by inheriting it, as diffrax declares its
solvers: `isinstance` asks what a class says it is, never which attributes it happens to have):

  Trainable         what simulate.training.train needs of R runs: initial parameters, a step,
                    the full-batch objective and gradient norm, what is recorded, and the C1
                    constants. simulate.quadratic.QuadraticRuns is one (no teacher, no data).
  Students          a Trainable distilling one teacher from a TrainData sample: minibatches,
                    full-batch gradients, padding masks, risks, FLOPs. Every trained kind in
                    simulate.sweeps.STUDENT_KINDS builds one.
  capabilities      optional, each a class of its own that a student declares:
    Packed              a faster minibatch program in the rank-bucket layout (simulate/packed.py)
    LinearWeights       the student is a linear map W_S (R, m, n): closed-form risks of any W
    TransferSmoothness  f(P) = g(W_T P): L_g and ||W_T||_2^2 for C1's transfer check
    Representations     the activations the clone loss compares, for clone sweeps (C3)

Answers that a student may not have are part of the contract as None, never as a missing
method: `exact_smoothness` (None unless f is quadratic in the trained parameters),
`optimum_params` (None without a closed-form minimizer).
tests/simulate/test_student_interface.py checks this contract for every registered kind.
"""

from __future__ import annotations

import abc
from typing import ClassVar, Protocol, Sequence

import numpy as np
import torch

from lrkd.simulate.data import Run, TrainData

# What `Students.evaluate` records, each (R,): the sweeps' result columns of a trained run.
STUDENT_METRICS = ("train_risk", "test_risk", "excess_risk", "objective", "clone_loss", "grad_norm_sq")

Params = list[torch.Tensor]


class Trainable(abc.ABC):
    """R runs that simulate.training.train can optimize and record.

    Attributes:
        runs: the R runs, in the order of every per-run tensor.
        cheap_full_gradient: True when the exact full-batch gradient costs about one step
            (independent of N), so the loop takes it at every step by default (C1's min/avg).
    """

    runs: list[Run]
    cheap_full_gradient: ClassVar[bool]

    @abc.abstractmethod
    def init_params(self) -> Params:
        """The initial parameters, deterministic in each run's seed.

        Returns:
            Tensors (R, ...) of the batch's dtype and device; the training loop updates them in place.
        """

    @abc.abstractmethod
    def step(self, params: Params, idx: torch.Tensor | None) -> tuple[torch.Tensor, Params]:
        """One stochastic-gradient evaluation.

        Args:
            params: the current parameters (as init_params returns them).
            idx: (R, b) int64 indices into each run's N training pairs (simulate.data.BatchStream),
                or None for the full batch (a Trainable without data draws its own noise here).

        Returns:
            (loss (R,), grads): the minibatch loss per sample and its gradient, one tensor per
            parameter of the same shape. With idx None and no noise, loss = objective(params).
        """

    @abc.abstractmethod
    def objective(self, params: Params) -> torch.Tensor:
        """The full-batch training objective f (R,), differentiable in params (autograd).

        Args:
            params: the current parameters (as init_params returns them).

        Returns:
            (R,) tensor.
        """

    @abc.abstractmethod
    def full_grad_norm_sq(self, params: Params) -> torch.Tensor:
        """||grad f(params)||^2 (R,), the exact full-batch gradient's squared norm.

        Args:
            params: the current parameters (as init_params returns them).

        Returns:
            (R,) tensor.
        """

    @abc.abstractmethod
    def evaluate(self, params: Params) -> dict[str, torch.Tensor]:
        """What the loop records at a record step, each (R,); at least "objective" and
        "grad_norm_sq" (Students: every name of STUDENT_METRICS).

        Args:
            params: the current parameters (as init_params returns them).

        Returns:
            name -> (R,) tensor.
        """

    @abc.abstractmethod
    def gradient_noise(self, params: Params, batch_size: int | None) -> torch.Tensor:
        """sigma^2 = E||g_batch - grad f||^2 at params (R,), for minibatches of batch_size drawn
        with replacement. Students: zeros for batch_size None (the full-batch step is exact); a
        Trainable that draws its own gradient noise (QuadraticRuns) gives that noise's variance.

        Args:
            params: the current parameters (as init_params returns them).
            batch_size: b, or None for the full batch.

        Returns:
            (R,) tensor.
        """

    @abc.abstractmethod
    def smoothness(self, params: Params, iters: int = 30, start=None) -> tuple[torch.Tensor, object]:
        """Local smoothness ||Hessian of f(params)||_2 (R,), a lower bound on L near params.

        Args:
            params: the current parameters (as init_params returns them).
            iters: power iterations.
            start: the state the previous call returned (warm start) or None.

        Returns:
            (estimate (R,), state to pass as `start` next time).
        """

    @abc.abstractmethod
    def exact_smoothness(self) -> torch.Tensor | None:
        """The global smoothness constant L of f (R,) where it is known exactly, else None."""

    @abc.abstractmethod
    def objective_min(self) -> torch.Tensor:
        """inf f over the reachable parameters (R,) float64: exact, or a stated lower bound
        (0 for a sum of squares) where there is no closed form; Delta = f(theta_0) - this."""

    @abc.abstractmethod
    def optimum_params(self) -> Params | None:
        """Parameters at an exact minimizer (the C1 step rule also takes L and sigma^2 there),
        or None where no closed-form minimizer is known."""


class Students(Trainable):
    """R students of rank <= r distilling one teacher from its training sample.

    Attributes:
        kind: the student's name in results (a `student` value of the sweeps).
        teacher: the teacher (simulate.teachers), noise-free outputs as distillation targets.
        data: the training pairs of each seed (x (S, N, n), y and clean (S, N, m)).
        risk_method: "exact" (population risks in closed form) or "fresh_sample:K".
        dtype, device: of every tensor the students make.
    """

    kind: ClassVar[str]
    teacher: object
    data: TrainData
    risk_method: str
    dtype: torch.dtype
    device: torch.device

    @abc.abstractmethod
    def masks(self) -> Params:
        """One 0/1 tensor per parameter, broadcastable to it: 1 on each run's rank-r coordinates,
        0 on its padding (where parameters and gradients stay exactly zero).

        Returns:
            One mask per parameter.
        """

    @abc.abstractmethod
    def full_grads(self, params: Params) -> Params:
        """The exact full-batch gradient of objective, one tensor per parameter.

        Args:
            params: the current parameters (as init_params returns them).

        Returns:
            One gradient tensor per parameter, of its shape.
        """

    @abc.abstractmethod
    def evaluate(self, params: Params) -> dict[str, torch.Tensor]:
        """Every name of STUDENT_METRICS (R,), full batch: train_risk (output loss on the noisy
        labels), clone_loss, objective = train_risk + alpha * clone_loss (= objective(params)),
        test_risk (population risk per sample, exact or on a fresh sample, see risk_method),
        excess_risk = test_risk - teacher.noise_floor, grad_norm_sq (= full_grad_norm_sq).

        Args:
            params: the current parameters (as init_params returns them).

        Returns:
            name -> (R,) tensor.
        """

    @abc.abstractmethod
    def flops_per_step(self, batch_size: int) -> float:
        """Multiply-add FLOPs (2 per MAC) of one minibatch step of all runs, each at its own rank.

        Args:
            batch_size: b.

        Returns:
            FLOPs.
        """


# -- optional capabilities ---------------------------------------------------------------------------
class StepProgram(Protocol):
    """What the training loop drives (the students' own step, or a Packed program).

    Attributes:
        tensors: the trained tensors, updated in place.
        lrs: each tensor's per-slot step sizes.
        order: the run of each loss column (None: the order of `runs`).
        fused_sgd: True where `sgd_step` replaces losses_and_grads + update for plain SGD.
    """

    tensors: list[torch.Tensor]
    lrs: list[torch.Tensor]
    order: np.ndarray | None
    fused_sgd: bool

    def losses_and_grads(self, out: torch.Tensor) -> list[torch.Tensor]:
        """One minibatch's losses and gradients, without updating the tensors.

        Args:
            out: an (R,) buffer the minibatch losses are written into (columns in `order`).

        Returns:
            One gradient per tensor of `tensors`.
        """
        ...

    def sgd_step(self, out: torch.Tensor) -> None:
        """One fused plain-SGD minibatch step: the tensors are updated in place.

        Args:
            out: an (R,) buffer the minibatch losses are written into (columns in `order`).
        """
        ...

    def full_grad_norm_sq(self) -> torch.Tensor:
        """||grad f||^2 of every run at the current tensors, full batch.

        Returns:
            (R,) tensor, columns in `order`.
        """
        ...

    def params(self) -> Params:
        """The current parameters in the students' padded layout (a copy).

        Returns:
            One tensor per parameter, as init_params lays them out.
        """
        ...


class Packed(abc.ABC):
    """Capability: a faster minibatch program with the same per-run numbers as `step`."""

    @abc.abstractmethod
    def packed_program(
        self, params: Params, lr: torch.Tensor, batch_size: int, widths: Sequence[int] | None = None
    ) -> StepProgram:
        """The minibatch training program in the packed layout.

        Args:
            params: the starting parameters (the students' padded layout).
            lr: per-run step sizes (R,).
            batch_size: minibatch size b (packing needs minibatches).
            widths: rank-bucket widths, None to plan them (simulate.packed.plan_buckets).

        Returns:
            A StepProgram whose losses and updates equal `step`'s (up to float rounding) on the
            minibatches of simulate.data.BatchStream, and whose params() is the padded layout.
        """


class LinearWeights(abc.ABC):
    """Capability: the student is linear, x -> W_S x, so its risks are functions of W_S alone."""

    @abc.abstractmethod
    def weight(self, params: Params) -> torch.Tensor:
        """W_S (R, m, n), out x in.

        Args:
            params: the current parameters (as init_params returns them).

        Returns:
            (R, m, n) tensor.
        """

    @abc.abstractmethod
    def risks_of_weight(self, w: torch.Tensor) -> dict[str, torch.Tensor]:
        """objective, train_risk, clone_loss, test_risk, excess_risk (R,) of weights w (R, m, n)
        on this batch's data (used for closed-form fits such as reduced-rank regression).

        Args:
            w: (R, m, n) weights, one per run.

        Returns:
            name -> (R,) tensor.
        """


class TransferSmoothness(abc.ABC):
    """Capability: f(P) = g(W_T P), the setting of C1's transfer bound L_f <= ||W_T||_2^2 L_g."""

    @abc.abstractmethod
    def exact_smoothness_g(self) -> torch.Tensor | None:
        """L_g (R,), the smoothness of g in its own argument, where exact; else None. Where both
        are exact, exact_smoothness() = teacher_norm_sq() * exact_smoothness_g().

        Returns:
            (R,) tensor or None.
        """

    @abc.abstractmethod
    def teacher_norm_sq(self) -> float:
        """||W_T||_2^2.

        Returns:
            The teacher's squared spectral norm.
        """


class Representations(abc.ABC):
    """Capability: the activations the clone loss compares, on held-out inputs (clone sweeps, C3)."""

    @abc.abstractmethod
    def representations(self, params: Params, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Cloned activations on inputs x (n_rep, n).

        Args:
            params: the current parameters (as init_params returns them).
            x: (n_rep, n) held-out inputs.

        Returns:
            (teacher (n_rep, d_T), students (R, n_rep, d_S)), noise-free, as numpy arrays.
        """

    def representation_width(self, run: Run) -> int | None:
        """How many leading columns of a run's representation are its own (the rest is padding
        of the batch's widest run); None: all d_S columns.

        Args:
            run: one of the batch's runs.

        Returns:
            The width, or None.
        """
        return None
