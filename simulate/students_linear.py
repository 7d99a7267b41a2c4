"""Batched linear students of rank <= r: factorized A B, and the LRC-style W_T P E^T.

R runs (seeds x ranks x clone weights) train in one tensor program: every factor is stacked to
(R, ., width) with width = the largest rank, and a run of rank r < width keeps its extra columns
at exactly zero. They stay zero without any masking: a zero column k of the input-side factor
makes column k of the hidden activations zero, which zeroes the gradient of the matching column
of the output-side factor, and vice versa (for Adam the zero gradient gives a zero update).

Students (W_S is always m x n, out x in):
  factorized:  W_S = A B,            A (m x r), B (r x n), both trained.
  lrc:         W_S = W_T P E^T,      P, E (n x r). The LRC rule W_S = W_T @ P (docs/lrc.md,
               docs/claims.md) for the teacher's one matrix, fed by a student hidden state
               u = E^T x of width r: E is the student's input ("embedding") projection, as in
               LRC where the embedding is W_emb,T @ P_emb (here the teacher's embedding is the
               identity). With train_embedding=False, E stays at its initial value and the
               objective f(P) = g(W_T P) is quadratic in P, so its smoothness is known exactly.

Loss per sample (summed over the m outputs):
  ||W_S x - y||^2 + alpha ||W_S x - c||^2,   c = the teacher's noise-free output,
the output loss on noisy labels plus the activation-clone loss. In LRC the clone terms compare
teacher-width layer outputs (q, k, v, gate, up: MSE(h_S, h_T)); the analogue here is the output
of the one teacher-width layer, which for a one-layer teacher is also the noise-free teacher
output, so the clone term acts as distillation from the clean teacher. alpha = 0 is the
no-clone ablation. (For the factorized student alpha is allowed too, with the same meaning.)

Because the loss is quadratic in W_S, the full-batch objective needs only second moments:
  f(W) = (1 + a) tr(W S W^T) - 2 <W, Q> + c0,   S = X^T X/N, Q = S_yx + a S_cx, c0 = |y|^2 + a |c|^2,
which makes the exact full-batch gradient cheap enough to take at every step, and gives the
exact infimum of f over each student's reachable set (see `objective_min`).
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from lrkd.simulate._seeds import rng
from lrkd.simulate.data import Run, TrainData
from lrkd.simulate.packed import PackedProgram
from lrkd.simulate.students import LinearWeights, Packed, Representations, Students, TransferSmoothness
from lrkd.simulate.teachers import LinearTeacher, Teacher

SAMPLE_CHUNK_ELEMENTS = 1 << 22  # per-sample passes over the data use chunks of this many floats


class LinearStudents(Students, Packed, LinearWeights, Representations):
    """Base: W_S = A B with (A, B) = factors(params); subclasses define the parametrization.

    Args:
        teacher: the teacher distilled (linear: exact risks; MLP: risks on a fresh sample).
        data: the training sample of each seed (simulate.load_data).
        runs: the (seed, rank, alpha) runs of the batch.
        init_scale: the initial factors' scale (entries N(0, init_scale^2 / rows)).
        risk_samples: the fresh sample's size when the risk has no closed form.
    """

    kind = "linear"
    cheap_full_gradient = True  # the full-batch gradient costs O(m n r), independent of N
    factors_are_params = False  # True: params == [A, B], so SGD can update the factors in place

    def __init__(
        self,
        teacher: Teacher,
        data: TrainData,
        runs: Sequence[Run],
        *,
        init_scale: float = 0.5,
        risk_samples: int = 8192,
    ):
        self.teacher, self.data, self.runs = teacher, data, list(runs)
        self.dtype, self.device = data.x.dtype, data.x.device
        self.m, self.n = data.y.shape[2], data.x.shape[2]
        self.width = max(run.rank for run in runs)
        self.init_scale = init_scale
        self.rows = data.run_index(runs)
        self.alpha = torch.tensor([run.alpha for run in runs], dtype=self.dtype, device=self.device)
        self.has_clone = bool((self.alpha > 0).any())
        self.ranks = torch.tensor([run.rank for run in runs], device=self.device)
        self.col_mask = (torch.arange(self.width, device=self.device) < self.ranks[:, None]).to(self.dtype)
        self._moments = {k: v[self.rows] for k, v in data.second_moments().items()}
        self._test = None if isinstance(teacher, LinearTeacher) else _fresh_sample(teacher, risk_samples, self)
        self.risk_method = "exact" if self._test is None else f"fresh_sample:{risk_samples}"

    # -- parametrization hooks -------------------------------------------------------------------
    def init_params(self) -> list[torch.Tensor]:
        """The initial parameters: run i's first r_i columns from its seed's stream, zeros after.

        Returns:
            Per subclass, float tensors of the batch's dtype and device.
        """
        raise NotImplementedError

    def factors(self, params) -> tuple[torch.Tensor, torch.Tensor]:
        """(A (R, m, width), B (R, width, n)) with W_S = A B.

        Args:
            params: the students' parameters (as init_params lays them out).

        Returns:
            (A, B), the subclass's parametrization.
        """
        raise NotImplementedError

    def chain(self, params, grad_a: torch.Tensor, grad_b: torch.Tensor) -> list[torch.Tensor]:
        """The parameters' gradients from those of the factors A and B.

        Args:
            params: the students' parameters (as init_params lays them out).
            grad_a: dL/dA (R, m, width).
            grad_b: dL/dB (R, width, n).

        Returns:
            One gradient per parameter (the subclass's chain rule).
        """
        raise NotImplementedError

    def masks(self) -> list[torch.Tensor]:
        """One 0/1 tensor per parameter: 1 on each run's rank-r columns, 0 on its padding.

        Returns:
            One mask per parameter (per subclass).
        """
        raise NotImplementedError

    def _sample_sq_norms(self, params, a, d, h, x) -> torch.Tensor:
        raise NotImplementedError

    def _packing(self) -> list[tuple[int, bool]]:
        """Per parameter: its rank axis (1 or 2) and whether the packed copy is transposed."""
        raise NotImplementedError

    def _packed_frozen(self, rows, width) -> torch.Tensor | None:
        return None

    def _packed_factors(self, tensors, frozen) -> tuple[torch.Tensor, torch.Tensor]:
        """(A (R, m, w), B (R, w, n)) from packed parameters (simulate/packed.py)."""
        raise NotImplementedError

    def _packed_chain(self, grad_a, grad_b) -> list[torch.Tensor]:
        raise NotImplementedError

    # -- shared machinery ------------------------------------------------------------------------
    def weight(self, params) -> torch.Tensor:
        """W_S = A B (R, m, n), out x in.

        Args:
            params: the students' parameters (as init_params lays them out).

        Returns:
            (R, m, n) tensor.
        """
        a, b = self.factors(params)
        return a @ b

    def step(self, params, idx: torch.Tensor | None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Minibatch loss (R,) and its gradients; idx (R, b) indices, None for the full batch.

        Args:
            params: the students' parameters (as init_params lays them out).
            idx: (R, b) int64 indices into each run's N pairs, or None for the full batch.

        Returns:
            (loss per sample (R,), one gradient per parameter).
        """
        x, y, c = self._batch(idx)
        a, b = self.factors(params)
        h = torch.bmm(x, b.transpose(1, 2))
        pred = torch.bmm(h, a.transpose(1, 2))
        d = pred - y
        loss = d.square().sum((1, 2))
        if self.has_clone:
            clone = pred - c
            loss = loss + self.alpha * clone.square().sum((1, 2))
            d = d + self.alpha[:, None, None] * clone
        d = d * (2.0 / x.shape[1])
        grad_a = torch.bmm(d.transpose(1, 2), h)
        grad_b = torch.bmm(torch.bmm(d, a).transpose(1, 2), x)
        return loss / x.shape[1], self.chain(params, grad_a, grad_b)

    def _batch(self, idx):
        if idx is None:
            return self.data.x[self.rows], self.data.y[self.rows], self.data.clean[self.rows]
        rows = self.rows[:, None]
        clean = self.data.clean[rows, idx] if self.has_clone else None
        return self.data.x[rows, idx], self.data.y[rows, idx], clean

    def _q(self) -> torch.Tensor:
        mo = self._moments
        return mo["syx"] + self.alpha[:, None, None] * mo["scx"]

    def full_grads(self, params) -> list[torch.Tensor]:
        """Exact full-batch gradient from second moments: dF/dW = 2((1 + a) W S - Q).

        Args:
            params: the students' parameters (as init_params lays them out).

        Returns:
            One gradient per parameter.
        """
        a, b = self.factors(params)
        grad_w = 2.0 * ((1.0 + self.alpha)[:, None, None] * (a @ b @ self._moments["sxx"]) - self._q())
        return self.chain(params, grad_w @ b.transpose(1, 2), a.transpose(1, 2) @ grad_w)

    def full_grad_norm_sq(self, params) -> torch.Tensor:
        """||grad f||^2 (R,) from the exact full-batch gradient.

        Args:
            params: the students' parameters (as init_params lays them out).

        Returns:
            (R,) tensor.
        """
        return sum(g.square().sum((1, 2)) for g in self.full_grads(params))

    def objective(self, params) -> torch.Tensor:
        """Full-batch training objective f (R,), differentiable in params.

        Args:
            params: the students' parameters (as init_params lays them out).

        Returns:
            (R,) tensor: (1 + a) tr(W S W^T) - 2 <W, Q> + |y|^2 + a |c|^2.
        """
        w = self.weight(params)
        quad = ((w @ self._moments["sxx"]) * w).sum((1, 2))
        mo = self._moments
        return (1.0 + self.alpha) * quad - 2.0 * (w * self._q()).sum((1, 2)) + mo["yy"] + self.alpha * mo["cc"]

    def evaluate(self, params) -> dict[str, torch.Tensor]:
        """Full-batch objective, train risk, clone loss, exact (or fresh-sample) test risk, grad norm.

        Args:
            params: the students' parameters (as init_params lays them out).

        Returns:
            Every name of STUDENT_METRICS -> (R,) tensor.
        """
        out = self.risks_of_weight(self.weight(params))
        out["grad_norm_sq"] = self.full_grad_norm_sq(params)
        return out

    def risks_of_weight(self, w: torch.Tensor) -> dict[str, torch.Tensor]:
        """Risks of given student weights w (R, m, n): train risk and clone loss from second moments.

        Args:
            w: (R, m, n) weights, one per run.

        Returns:
            objective, train_risk, clone_loss, test_risk, excess_risk -> (R,) tensor.
        """
        mo = self._moments
        quad = ((w @ mo["sxx"]) * w).sum((1, 2))
        train = quad - 2.0 * (w * mo["syx"]).sum((1, 2)) + mo["yy"]
        clone = quad - 2.0 * (w * mo["scx"]).sum((1, 2)) + mo["cc"]
        excess = self._excess(w)
        return {
            "objective": train + self.alpha * clone,
            "train_risk": train,
            "clone_loss": clone,
            "test_risk": excess + self.teacher.noise_floor,
            "excess_risk": excess,
        }

    def _excess(self, w: torch.Tensor) -> torch.Tensor:
        if self._test is None:
            return self.teacher.excess_risk(w)
        x, clean = self._test
        return (
            sum((xc @ w.transpose(1, 2) - cc).square().sum((1, 2)) for xc, cc in zip(x.split(1024), clean.split(1024)))
            / x.shape[0]
        )

    def gradient_noise(self, params, batch_size: int | None) -> torch.Tensor:
        """sigma^2 = E||g_batch - grad f||^2 for minibatches of `batch_size` drawn with replacement:
        (mean_i ||grad f_i||^2 - ||grad f||^2) / batch_size, exact (per-sample gradients are rank one).

        Args:
            params: the students' parameters (as init_params lays them out).
            batch_size: b, or None for the full batch (zeros).

        Returns:
            (R,) tensor.
        """
        if batch_size is None:
            return torch.zeros(len(self.runs), dtype=self.dtype, device=self.device)
        a, b = self.factors(params)
        total = torch.zeros(len(self.runs), dtype=self.dtype, device=self.device)
        for x, y, c in self._chunks():
            h = torch.bmm(x, b.transpose(1, 2))
            pred = torch.bmm(h, a.transpose(1, 2))
            d = 2.0 * ((pred - y) + self.alpha[:, None, None] * (pred - c))
            total = total + self._sample_sq_norms(params, a, d, h, x).sum(1)
        variance = total / self.data.n_samples - self.full_grad_norm_sq(params)
        return variance.clamp_min(0.0) / batch_size

    def _chunks(self):
        step = max(1, SAMPLE_CHUNK_ELEMENTS // (len(self.runs) * max(self.m, self.n)))
        for start in range(0, self.data.n_samples, step):
            sl = slice(start, start + step)
            yield self.data.x[self.rows, sl], self.data.y[self.rows, sl], self.data.clean[self.rows, sl]

    def smoothness(self, params, iters: int = 30, start=None) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Local smoothness: ||Hessian of f|| at params (restricted to the rank-r coordinates) by
        power iteration on Hessian-vector products. A lower bound on L in a neighbourhood.

        Args:
            params: the students' parameters (as init_params lays them out).
            iters: power iterations.
            start: the vectors the previous call returned (warm start), or None.

        Returns:
            (estimate (R,), the final vectors).
        """
        return hessian_norm(self.objective, params, self.masks(), self.runs, iters, start)

    def exact_smoothness(self) -> torch.Tensor | None:
        """The global smoothness constant when f is quadratic in the trained parameters, else None.

        Returns:
            None here (subclasses may know it).
        """
        return None

    def flops_per_step(self, batch_size: int) -> float:
        """Multiply-add FLOPs (2 per MAC) of one minibatch step, counted at each run's own rank.

        Args:
            batch_size: b.

        Returns:
            FLOPs.
        """
        return float(self.ranks.double().sum()) * self.flops_per_rank(batch_size)

    def flops_per_rank(self, batch_size: int) -> float:
        """FLOPs of one run's minibatch step per unit of rank (its five products are each linear in r).

        Args:
            batch_size: b.

        Returns:
            FLOPs per unit of rank.
        """
        return 2.0 * batch_size * (2 * self.n + 3 * self.m)

    # -- the packed minibatch program (rank buckets, seed-grouped products) -----------------------
    def packed_program(self, params, lr: torch.Tensor, batch_size: int, widths=None):
        """This batch's minibatch training program in the packed layout (simulate/packed.py):
        the same per-run numbers as `step`, faster.

        Args:
            params: the starting parameters (padded layout).
            lr: per-run step sizes (R,).
            batch_size: b.
            widths: rank-bucket widths (None: planned by simulate.packed.plan_buckets).

        Returns:
            The PackedProgram.
        """
        return PackedProgram(self, params, lr, batch_size, widths)

    def _pack(self, params, rows: torch.Tensor, width: int) -> list[torch.Tensor]:
        """The runs `rows` of each parameter, cut to `width` along its rank axis (contiguous copies)."""
        out = []
        for p, (axis, flip) in zip(params, self._packing()):
            t = p[rows].narrow(axis, 0, width)
            out.append((t.transpose(1, 2) if flip else t).contiguous())
        return out

    def _unpack(self, tensors, rows: torch.Tensor, width: int, out: list[torch.Tensor]) -> None:
        """Write packed tensors back into the padded layout `out` (inverse of `_pack`)."""
        for t, o, (axis, flip) in zip(tensors, out, self._packing()):
            index = (rows, slice(None), slice(0, width)) if axis == 2 else (rows, slice(0, width))
            o[index] = t.transpose(1, 2) if flip else t

    # -- exact optimum of the training objective -------------------------------------------------
    def objective_min(self) -> torch.Tensor:
        """inf f over this student's reachable set, exact (float64): see `_best_whitened`.

        Returns:
            (R,) float64 tensor.
        """
        k, _, _ = self._whitened_target()
        best = self._best_whitened(k)
        mo = {key: v.double() for key, v in self._moments.items()}
        alpha = self.alpha.double()
        const = mo["yy"] + alpha * mo["cc"] - (1 + alpha) * k.square().sum((1, 2))
        return (1 + alpha) * (k - best).square().sum((1, 2)) + const

    def _whitened_target(self):
        """K' = Q S^{+1/2} / (1 + a), S^{1/2}, S^{+1/2}: f(W) = (1+a)||W S^{1/2} - K'||^2 + const."""
        sxx = self._moments["sxx"].double()
        evals, evecs = torch.linalg.eigh(sxx)
        keep = evals > evals[:, -1:] * max(self.n, self.data.n_samples) * torch.finfo(torch.float64).eps
        root = torch.where(keep, evals.clamp_min(0).sqrt(), torch.zeros_like(evals))
        inv_root = torch.where(keep, 1.0 / root.clamp_min(1e-300), torch.zeros_like(evals))
        half = (evecs * root[:, None, :]) @ evecs.transpose(1, 2)
        inv_half = (evecs * inv_root[:, None, :]) @ evecs.transpose(1, 2)
        k = self._q().double() @ inv_half / (1 + self.alpha.double())[:, None, None]
        return k, half, inv_half

    def _best_whitened(self, k: torch.Tensor) -> torch.Tensor:
        """argmin ||M - K'|| over reachable M = W S^{1/2}: here rank <= r (Eckart-Young)."""
        return truncate(k, self.ranks)

    def optimum_params(self) -> list[torch.Tensor]:
        """Parameters at an exact minimizer of the training objective (used for the C1 step-rule constants).

        Returns:
            Per subclass (balanced factors).
        """
        raise NotImplementedError

    def _optimal_weight(self) -> torch.Tensor:
        k, _, inv_half = self._whitened_target()
        return self._best_whitened(k) @ inv_half

    def representations(self, params, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Cloned activations on held-out inputs x (n_rep, n): teacher (n_rep, m), students (R, n_rep, m).

        Args:
            params: the students' parameters (as init_params lays them out).
            x: (n_rep, n) held-out inputs.

        Returns:
            (teacher outputs, students' outputs) as numpy arrays, noise-free.
        """
        w = self.weight(params)
        teacher = _teacher_outputs(self.teacher, x)
        return teacher.cpu().numpy(), (x @ w.transpose(1, 2)).detach().cpu().numpy()


class FactorizedStudents(LinearStudents):
    """W_S = A B, A (m x r) and B (r x n) trained."""

    kind = "factorized"
    factors_are_params = True

    def init_params(self):
        """The initial parameters: run i's first r_i columns from its seed's stream, zeros after.

        Returns:
            [A (R, m, width), B (R, width, n)], float tensors of the batch's dtype and device.
        """
        full = min(self.m, self.n)
        a = _init_factor(self.runs, "init-A", self.m, full, self.width, self.init_scale)
        bt = _init_factor(self.runs, "init-B", self.n, full, self.width, self.init_scale)
        return [a.to(self.device, self.dtype), bt.transpose(1, 2).contiguous().to(self.device, self.dtype)]

    def factors(self, params):
        """(A (R, m, width), B (R, width, n)) with W_S = A B.

        Args:
            params: the students' parameters (as init_params lays them out).

        Returns:
            (params[0], params[1]): the factors are the parameters.
        """
        return params[0], params[1]

    def chain(self, params, grad_a, grad_b):
        """The parameters' gradients from those of the factors A and B.

        Args:
            params: the students' parameters (as init_params lays them out).
            grad_a: dL/dA (R, m, width).
            grad_b: dL/dB (R, width, n).

        Returns:
            [grad_a, grad_b].
        """
        return [grad_a, grad_b]

    def _packing(self):
        return [(2, False), (1, False)]

    def _packed_factors(self, tensors, frozen):
        return tensors[0], tensors[1]

    def _packed_chain(self, grad_a, grad_b):
        return [grad_a, grad_b]

    def masks(self):
        """One 0/1 tensor per parameter: 1 on each run's rank-r columns, 0 on its padding.

        Returns:
            [for A (R, 1, width), for B (R, width, 1)].
        """
        return [self.col_mask[:, None, :], self.col_mask[:, :, None]]

    def _sample_sq_norms(self, params, a, d, h, x):
        return d.square().sum(-1) * h.square().sum(-1) + torch.bmm(d, a).square().sum(-1) * x.square().sum(-1)

    def optimum_params(self):
        """Parameters at an exact minimizer of the training objective (used for the C1 step-rule constants).

        Returns:
            [A, B] = [U sqrt(S), sqrt(S) V^T] of the optimal rank-r weight.
        """
        u, s, vh = torch.linalg.svd(self._optimal_weight(), full_matrices=False)
        root = s[:, : self.width].sqrt() * self.col_mask.double()
        a = u[:, :, : self.width] * root[:, None, :]
        b = root[:, :, None] * vh[:, : self.width]
        return [a.to(self.dtype), b.to(self.dtype)]


class LRCStudents(LinearStudents, TransferSmoothness):
    """W_S = W_T P E^T: the LRC projection P on the teacher's matrix, E the input projection.

    Args:
        teacher: the linear teacher (its W_T is the frozen factor).
        data: the training sample of each seed (simulate.load_data).
        runs: the (seed, rank, alpha) runs of the batch.
        init_scale: the initial P and E's scale (entries N(0, init_scale^2 / n)).
        train_embedding: train E too; False keeps E at its initial value (f is then quadratic in P).
        risk_samples: the fresh sample's size when the risk has no closed form.
    """

    kind = "lrc"

    def __init__(
        self,
        teacher: LinearTeacher,
        data: TrainData,
        runs: Sequence[Run],
        *,
        init_scale: float = 0.5,
        train_embedding: bool = True,
        risk_samples: int = 8192,
    ):
        super().__init__(teacher, data, runs, init_scale=init_scale, risk_samples=risk_samples)
        self.train_embedding = train_embedding
        self.w_t = torch.as_tensor(teacher.weight, dtype=self.dtype, device=self.device)
        self._frozen_e = None if train_embedding else self._init_e()

    def _init_e(self):
        e = _init_factor(self.runs, "init-E", self.n, min(self.m, self.n), self.width, self.init_scale)
        return e.to(self.device, self.dtype)

    def init_params(self):
        """The initial parameters: run i's first r_i columns from its seed's stream, zeros after.

        Returns:
            [P (R, n, width), E (R, n, width)] ([P] with a frozen embedding), float tensors of the batch's dtype and
                device.
        """
        p = _init_factor(self.runs, "init-P", self.n, min(self.m, self.n), self.width, self.init_scale)
        p = p.to(self.device, self.dtype)
        return [p, self._init_e()] if self.train_embedding else [p]

    def _embedding(self, params):
        return params[1] if self.train_embedding else self._frozen_e

    def factors(self, params):
        """(A (R, m, width), B (R, width, n)) with W_S = A B.

        Args:
            params: the students' parameters (as init_params lays them out).

        Returns:
            (W_T P, E^T).
        """
        return self.w_t @ params[0], self._embedding(params).transpose(1, 2)

    def chain(self, params, grad_a, grad_b):
        """The parameters' gradients from those of the factors A and B.

        Args:
            params: the students' parameters (as init_params lays them out).
            grad_a: dL/dA (R, m, width).
            grad_b: dL/dB (R, width, n).

        Returns:
            [W_T^T grad_a, grad_b^T] ([W_T^T grad_a] with a frozen embedding).
        """
        grad_p = self.w_t.T @ grad_a
        return [grad_p, grad_b.transpose(1, 2)] if self.train_embedding else [grad_p]

    def masks(self):
        """One 0/1 tensor per parameter: 1 on each run's rank-r columns, 0 on its padding.

        Returns:
            One (R, 1, width) column mask per parameter.
        """
        return [self.col_mask[:, None, :]] * (2 if self.train_embedding else 1)

    def _packing(self):  # P (R, n, w) as is; E (R, n, w) packed as E^T (R, w, n), the B factor
        return [(2, False), (2, True)] if self.train_embedding else [(2, False)]

    def _packed_frozen(self, rows, width):
        return None if self.train_embedding else self._frozen_e[rows, :, :width].transpose(1, 2).contiguous()

    def _packed_factors(self, tensors, frozen):
        return self.w_t @ tensors[0], tensors[1] if self.train_embedding else frozen

    def _packed_chain(self, grad_a, grad_b):
        grad_p = self.w_t.T @ grad_a
        return [grad_p, grad_b] if self.train_embedding else [grad_p]

    def _sample_sq_norms(self, params, a, d, h, x):
        norms = (d @ self.w_t).square().sum(-1) * h.square().sum(-1)
        if self.train_embedding:
            norms = norms + torch.bmm(d, a).square().sum(-1) * x.square().sum(-1)
        return norms

    def flops_per_rank(self, batch_size):
        """FLOPs per unit of rank of the factorized step plus forming A = W_T P and grad_P = W_T^T grad_A.

        Args:
            batch_size: b.

        Returns:
            FLOPs per unit of rank.
        """
        return super().flops_per_rank(batch_size) + 4.0 * self.m * self.n  # A = W_T P, grad_P = W_T^T grad_A

    def exact_smoothness(self):
        """Frozen embedding: Hessian = 2(1+a) (E^T S E) kron (W_T^T W_T), so
        L_f = 2(1+a) ||W_T||_2^2 ||E^T S E||_2 = ||W_T||_2^2 L_g with L_g = 2(1+a)||E^T S E||_2.

        Returns:
            (R,) tensor, or None with a trained embedding.
        """
        lg = self.exact_smoothness_g()
        return None if lg is None else lg * self.teacher_norm_sq()

    def exact_smoothness_g(self):
        """Smoothness L_g of g(V) = f at V = W_T P, in V (m x r); frozen embedding only.

        Returns:
            (R,) tensor, or None with a trained embedding.
        """
        if self.train_embedding:
            return None
        e = self._frozen_e.double()
        gram = e.transpose(1, 2) @ self._moments["sxx"].double() @ e
        return (2 * (1 + self.alpha.double()) * torch.linalg.matrix_norm(gram, ord=2)).to(self.dtype)

    def teacher_norm_sq(self) -> float:
        """||W_T||_2^2.

        Returns:
            The teacher's squared spectral norm.
        """
        return float(np.linalg.norm(self.teacher.weight, 2) ** 2)

    def _column_projector(self) -> torch.Tensor:
        u, s, _ = torch.linalg.svd(self.w_t.double(), full_matrices=False)
        keep = s > s.max() * max(self.m, self.n) * torch.finfo(torch.float64).eps
        return u[:, keep] @ u[:, keep].T

    def _best_whitened(self, k):
        """Reachable M = W_T P E^T S^{1/2} has columns in col(W_T): trained E: rank-r truncation of
        Pi_U K'; frozen E: Pi_U K' Pi_G, G = E^T S^{1/2} (least squares in P)."""
        pu = self._column_projector()
        if self.train_embedding:
            return truncate(pu @ k, self.ranks)
        g = self._frozen_e.double().transpose(1, 2) @ self._whitened_target()[1]
        return pu @ k @ (torch.linalg.pinv(g) @ g)

    def optimum_params(self):
        """Parameters at an exact minimizer of the training objective (used for the C1 step-rule constants).

        Returns:
            [P, E] (balanced), or [P] (least squares in P) with a frozen embedding.
        """
        w_pinv = torch.linalg.pinv(self.w_t.double())
        if not self.train_embedding:
            k, half, _ = self._whitened_target()
            g = self._frozen_e.double().transpose(1, 2) @ half
            return [(w_pinv @ k @ torch.linalg.pinv(g)).to(self.dtype)]
        u, s, vh = torch.linalg.svd(self._optimal_weight(), full_matrices=False)
        root = s[:, : self.width].sqrt() * self.col_mask.double()
        p = w_pinv @ (u[:, :, : self.width] * root[:, None, :])
        e = vh[:, : self.width].transpose(1, 2) * root[:, None, :]
        return [p.to(self.dtype), e.to(self.dtype)]


def truncate(k: torch.Tensor, ranks: torch.Tensor) -> torch.Tensor:
    """Best rank-r_i approximation of each k[i] (batched truncated SVD).

    Args:
        k: (R, a, b) matrices.
        ranks: (R,) ranks.

    Returns:
        (R, a, b) tensor.
    """
    u, s, vh = torch.linalg.svd(k, full_matrices=False)
    s = s * (torch.arange(s.shape[1], device=s.device) < ranks[:, None])
    return (u * s[:, None, :]) @ vh


def hessian_norm(objective, params, masks, runs, iters, start=None):
    """Per-run ||H|| by power iteration on masked Hessian-vector products (double backward).

    Args:
        objective: params -> (R,) differentiable objective.
        params: the point.
        masks: one 0/1 tensor per parameter (the coordinates the Hessian is restricted to).
        runs: the runs (their seeds and ranks key the random start).
        iters: power iterations.
        start: the vectors a previous call returned (warm start), or None.

    Returns:
        (estimate (R,), final vectors) so the next call can warm-start.
    """
    p = [t.detach().requires_grad_(True) for t in params]
    grads = torch.autograd.grad(objective(p).sum(), p, create_graph=True)
    v = start if start is not None else _random_directions(params, masks, runs)
    v = _normalize([vi * mi for vi, mi in zip(v, masks)])
    estimate = torch.zeros(len(runs), dtype=params[0].dtype, device=params[0].device)
    for _ in range(iters):
        hv = torch.autograd.grad(grads, p, grad_outputs=v, retain_graph=True)
        hv = [h.detach() * mi for h, mi in zip(hv, masks)]
        estimate = _run_norms(hv)
        v = _normalize(hv)
    return estimate, v


def _random_directions(params, masks, runs):
    """Gaussian start vectors filled into each run's unpadded entries (in row-major order), so the
    draw does not depend on the padded width of the batch the run is in."""
    out = []
    for j, (t, mask) in enumerate(zip(params, masks)):
        keep = mask.expand(t.shape).bool()
        v = torch.zeros_like(t)
        for i, run in enumerate(runs):
            draw = rng("power-iteration", run.seed, run.rank, j).standard_normal(int(keep[i].sum()))
            v[i][keep[i]] = torch.as_tensor(draw, dtype=t.dtype, device=t.device)
        out.append(v)
    return out


def _run_norms(tensors) -> torch.Tensor:
    return torch.sqrt(sum(t.square().flatten(1).sum(1) for t in tensors))


def _normalize(tensors):
    norms = _run_norms(tensors).clamp_min(torch.finfo(tensors[0].dtype).tiny)
    return [t / norms.view(-1, *([1] * (t.dim() - 1))) for t in tensors]


def _init_factor(runs, stream: str, rows: int, full: int, width: int, scale: float) -> torch.Tensor:
    """(R, rows, width): run i gets the first r_i columns of a rows x full N(0, scale^2/rows) draw
    from its seed's stream, zeros after. Ranks of one seed share a prefix; alpha does not matter."""
    out = torch.zeros(len(runs), rows, width, dtype=torch.float64)
    for i, run in enumerate(runs):
        draw = rng(stream, run.seed).standard_normal((rows, full)) * (scale / math.sqrt(rows))
        out[i, :, : run.rank] = torch.from_numpy(draw[:, : run.rank])
    return out


def _teacher_outputs(teacher: Teacher, x: torch.Tensor) -> torch.Tensor:
    if isinstance(teacher, LinearTeacher):
        return x @ torch.as_tensor(teacher.weight, dtype=x.dtype, device=x.device).T
    return teacher.outputs(x)


def _fresh_sample(teacher: Teacher, size: int, students: LinearStudents):
    sample = teacher.sample(size, seed=teacher.seed, stream="test")
    as_t = lambda a: torch.as_tensor(a, dtype=students.dtype, device=students.device)
    return as_t(sample.x), as_t(sample.clean)


# -- C1 transfer: smoothness measured on the objectives themselves ---------------------------------
def measure_transfer_smoothness(
    teacher: LinearTeacher, data: TrainData, runs: Sequence[Run], *, iters: int = 300, rtol: float = 1e-12
) -> dict[str, np.ndarray]:
    """L_f of f(P) = g(W_T P) and L_g of g, measured by power iteration on Hessian-vector products
    (double backward) of the training objectives, with a TRAINED embedding E held fixed.

    Nothing here uses the formula L_f <= ||W_T||_2^2 L_g that validate/ checks, nor the closed-form
    Hessians of `LRCStudents.exact_smoothness`:
      E    the embedding the LRC student reaches when it is trained (the minimizer of the objective
           over (P, E): `LRCStudents(train_embedding=True).optimum_params()`), then frozen;
      L_f  ||Hessian of P -> f(P; E)||_2, on the rank-r coordinates of P;
      L_g  ||Hessian of V -> loss of the weight V E^T||_2, V (m x r): g's own argument.
    Power iteration approaches the top eigenvalue from below; it stops when the estimate moves
    by less than `rtol` (relative), and the last relative change is returned for the report.

    Args:
        teacher: the linear teacher (its W_T is the frozen factor).
        data: the training sample of each seed (simulate.load_data).
        runs: the runs (seed, rank, alpha) to measure.
        iters: the most power iterations.
        rtol: the stopping tolerance (relative change of the estimate).

    Returns:
        {"L_f", "L_g", "W_norm" (||W_T||_2), "power_change_f", "power_change_g"}, each (R,) float64.
    """
    trained = LRCStudents(teacher, data, runs, train_embedding=True)
    embedding = trained.optimum_params()[1].detach()  # (R, n, w), trained E
    frozen = LRCStudents(teacher, data, runs, train_embedding=False)
    frozen._frozen_e = embedding
    p0 = frozen.init_params()
    l_f, change_f = _power(frozen.objective, p0, frozen.masks(), runs, iters, rtol)

    def g(params):  # g(V) = the loss of the weight V E^T, with E the trained embedding
        w = params[0] @ embedding.transpose(1, 2)
        mo = frozen._moments
        quad = ((w @ mo["sxx"]) * w).sum((1, 2))
        return (1.0 + frozen.alpha) * quad - 2.0 * (w * frozen._q()).sum((1, 2)) + mo["yy"] + frozen.alpha * mo["cc"]

    v0 = [frozen.w_t @ p0[0]]
    l_g, change_g = _power(g, v0, [frozen.col_mask[:, None, :]], runs, iters, rtol)
    w_norm = np.full(len(runs), float(np.linalg.norm(teacher.weight, 2)))
    return {"L_f": l_f, "L_g": l_g, "W_norm": w_norm, "power_change_f": change_f, "power_change_g": change_g}


def _power(objective, params, masks, runs, iters: int, rtol: float) -> tuple[np.ndarray, np.ndarray]:
    """hessian_norm in rounds of 10 iterations (warm-started) until every run's estimate settles."""
    estimate, start = hessian_norm(objective, params, masks, runs, 10)
    change = np.full(len(runs), np.inf)
    for _ in range(max(iters // 10 - 1, 0)):
        previous = estimate
        estimate, start = hessian_norm(objective, params, masks, runs, 10, start)
        change = (torch.abs(estimate - previous) / estimate.clamp_min(1e-300)).double().cpu().numpy()
        if np.all(change < rtol):
            break
    return estimate.double().cpu().numpy(), change
