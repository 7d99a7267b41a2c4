"""Batched LRC-style students of a two-layer MLP teacher, one projection per layer.

Teacher: y = W2 act(W1 x), W1 (h x n), W2 (m x h); hidden width h. Student of hidden width r
(the "rank"): the LRC rule W_S = W_T @ P applied on the hidden-size side of each layer,
    W1_S = P1^T W1  (r x n),   W2_S = W2 P2  (m x r),   P1, P2 (h x r) trained, teacher frozen,
    z_S = P1^T W1 x,  a_S = act(z_S),  y_S = W2 P2 a_S.
Loss per sample:  ||y_S - y||^2 + alpha (||a_S - P1^T a_T||^2 + ||y_S - W2 a_T||^2),  a_T = act(W1 x).
The two clone terms follow the two kinds of term in LRC's clone loss (docs/lrc.md): a layer whose
output side is projected is compared with the teacher's output times the same projection (LRC's
MSE(attn_out_S, attn_out_T @ P_o)); here it is the hidden activation, compared after the
nonlinearity, because before it the match z_S = P1^T z_T holds exactly and would be vacuous. A
layer whose input side is projected keeps teacher width and is compared directly (LRC's q/k/v/
gate/up terms); here that is the output layer, so its target is the noise-free teacher output.
This is "variant H" (hidden-side projections); LRC proper shrinks the residual stream instead.
alpha = 0 is the no-clone ablation.

Padded columns (rank r < width) stay exactly zero: act(0) = 0 for tanh, relu and gelu, so a zero
column of P1 gives a zero activation and zero gradients for both projections' columns.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
import torch

from lrkd.simulate._seeds import rng
from lrkd.simulate.data import Run, TrainData
from lrkd.simulate.students import Representations, Students
from lrkd.simulate.students_linear import SAMPLE_CHUNK_ELEMENTS, hessian_norm
from lrkd.simulate.teachers import MLPTeacher


class MLPStudents(Students, Representations):
    """P1, P2 (R, h, width) trained; see the module docstring. No closed-form optimum or exact L.

    Args:
        teacher: the MLP teacher (frozen).
        data: the training sample of each seed (simulate.load_data).
        runs: the (seed, rank = hidden width, alpha) runs of the batch.
        init_scale: the projections' initial scale (entries N(0, init_scale^2 / h)).
        risk_samples: the fresh test sample's size (the population risk has no closed form).
    """

    kind = "lrc"
    cheap_full_gradient = False  # a full-batch gradient is a pass over all N samples

    def __init__(
        self,
        teacher: MLPTeacher,
        data: TrainData,
        runs: Sequence[Run],
        *,
        init_scale: float = 0.5,
        risk_samples: int = 8192,
    ):
        self.teacher, self.data, self.runs = teacher, data, list(runs)
        self.dtype, self.device = data.x.dtype, data.x.device
        as_t = lambda a: torch.as_tensor(a, dtype=self.dtype, device=self.device)
        self.w1, self.w2 = as_t(teacher.w1), as_t(teacher.w2)
        self.m, self.n, self.h = teacher.m, teacher.n, teacher.hidden
        self.width = max(run.rank for run in runs)
        self.init_scale = init_scale
        self.rows = data.run_index(runs)
        self.alpha = torch.tensor([run.alpha for run in runs], dtype=self.dtype, device=self.device)
        self.ranks = torch.tensor([run.rank for run in runs], device=self.device)
        self.col_mask = (torch.arange(self.width, device=self.device) < self.ranks[:, None]).to(self.dtype)
        self.z_t = data.x @ self.w1.T  # teacher pre-activations (S, N, h), computed once
        self.a_t = teacher.act(self.z_t)
        test = teacher.sample(risk_samples, seed=teacher.seed, stream="test")
        self._test = (as_t(test.x) @ self.w1.T, as_t(test.clean))
        self.risk_method = f"fresh_sample:{risk_samples}"

    def init_params(self) -> list[torch.Tensor]:
        """P1 and P2: run i's first r_i columns from its seed's stream, zeros after.

        Returns:
            [P1, P2], each (R, h, width).
        """
        return [
            _init_projection(self.runs, name, self.h, self.width, self.init_scale).to(self.device, self.dtype)
            for name in ("init-P1", "init-P2")
        ]

    def masks(self) -> list[torch.Tensor]:
        """One (R, 1, width) column mask per projection: 1 on each run's r columns, 0 on padding.

        Returns:
            [mask, mask].
        """
        return [self.col_mask[:, None, :]] * 2

    def forward(self, params, z_t: torch.Tensor):
        """Student hidden activations a_S (R, b, r) and outputs y_S (R, b, m) from teacher pre-activations.

        Args:
            params: [P1, P2], each (R, h, width).
            z_t: the teacher's pre-activations W1 x, (R, b, h).

        Returns:
            (a_S, y_S).
        """
        p1, p2 = params
        a_s = self.teacher.act(torch.bmm(z_t, p1))
        return a_s, torch.bmm(a_s, (self.w2 @ p2).transpose(1, 2))

    def _loss_sums(self, params, z_t, a_t, y, c) -> dict[str, torch.Tensor]:
        a_s, y_s = self.forward(params, z_t)
        hidden = (a_s - torch.bmm(a_t, params[0])).square().sum((1, 2))
        out_clone = (y_s - c).square().sum((1, 2))
        out = (y_s - y).square().sum((1, 2))
        return {"out": out, "clone": hidden + out_clone, "total": out + self.alpha * (hidden + out_clone)}

    def _batch(self, idx):
        if idx is None:
            r = self.rows
            return self.z_t[r], self.a_t[r], self.data.y[r], self.data.clean[r]
        rows = self.rows[:, None]
        return self.z_t[rows, idx], self.a_t[rows, idx], self.data.y[rows, idx], self.data.clean[rows, idx]

    def step(self, params, idx):
        """Minibatch loss (R,) and its gradients (autograd); idx None for the full batch.

        Args:
            params: [P1, P2], each (R, h, width).
            idx: (R, b) int64 indices into each run's N pairs, or None.

        Returns:
            (loss per sample (R,), [grad P1, grad P2]).
        """
        z_t, a_t, y, c = self._batch(idx)
        with torch.enable_grad():
            p = [t.detach().requires_grad_(True) for t in params]
            loss = self._loss_sums(p, z_t, a_t, y, c)["total"] / z_t.shape[1]
            grads = torch.autograd.grad(loss.sum(), p)
        return loss.detach(), list(grads)

    def objective(self, params) -> torch.Tensor:
        """Full-batch objective (R,), differentiable (used for Hessian-vector products).

        Args:
            params: [P1, P2], each (R, h, width).

        Returns:
            (R,) tensor.
        """
        return self._loss_sums(params, *self._batch(None))["total"] / self.data.n_samples

    def _chunks(self):
        step = max(1, SAMPLE_CHUNK_ELEMENTS // (len(self.runs) * max(self.h, self.m)))
        r = self.rows
        for start in range(0, self.data.n_samples, step):
            sl = slice(start, start + step)
            yield self.z_t[r, sl], self.a_t[r, sl], self.data.y[r, sl], self.data.clean[r, sl]

    def full_grads(self, params) -> list[torch.Tensor]:
        """The exact full-batch gradient, accumulated over chunks of the N samples.

        Args:
            params: [P1, P2], each (R, h, width).

        Returns:
            [grad P1, grad P2].
        """
        grads = [torch.zeros_like(t) for t in params]
        with torch.enable_grad():
            for chunk in self._chunks():
                p = [t.detach().requires_grad_(True) for t in params]
                total = self._loss_sums(p, *chunk)["total"].sum() / self.data.n_samples
                grads = [g + gi for g, gi in zip(grads, torch.autograd.grad(total, p))]
        return grads

    def full_grad_norm_sq(self, params) -> torch.Tensor:
        """||grad f||^2 (R,) of the exact full-batch gradient.

        Args:
            params: [P1, P2], each (R, h, width).

        Returns:
            (R,) tensor.
        """
        return sum(g.square().sum((1, 2)) for g in self.full_grads(params))

    def evaluate(self, params) -> dict[str, torch.Tensor]:
        """Every name of STUDENT_METRICS, full batch; test risk on the fresh test sample.

        Args:
            params: [P1, P2], each (R, h, width).

        Returns:
            name -> (R,) tensor.
        """
        sums = {"out": 0.0, "clone": 0.0, "total": 0.0}
        for chunk in self._chunks():
            for key, value in self._loss_sums(params, *chunk).items():
                sums[key] = sums[key] + value
        n = self.data.n_samples
        excess = self._excess(params)
        return {
            "objective": sums["total"] / n,
            "train_risk": sums["out"] / n,
            "clone_loss": sums["clone"] / n,
            "test_risk": excess + self.teacher.noise_floor,
            "excess_risk": excess,
            "grad_norm_sq": self.full_grad_norm_sq(params),
        }

    def _excess(self, params) -> torch.Tensor:
        """E||y_S(x) - W2 act(W1 x)||^2 on the fresh test sample (noise-free targets)."""
        z, clean = self._test
        total = 0.0
        for zc, cc in zip(z.split(1024), clean.split(1024)):
            total = total + (self.forward(params, zc.expand(len(self.runs), -1, -1))[1] - cc).square().sum((1, 2))
        return total / z.shape[0]

    def gradient_noise(self, params, batch_size: int | None) -> torch.Tensor:
        """Exact minibatch-gradient variance from per-sample gradient norms (see module notes).

        Args:
            params: [P1, P2], each (R, h, width).
            batch_size: b, or None for the full batch (zeros).

        Returns:
            (R,) tensor: (mean_i ||grad l_i||^2 - ||grad f||^2) / b.
        """
        if batch_size is None:
            return torch.zeros(len(self.runs), dtype=self.dtype, device=self.device)
        total = sum(self._sample_sq_norms(params, *chunk).sum(1) for chunk in self._chunks())
        variance = total / self.data.n_samples - self.full_grad_norm_sq(params)
        return variance.clamp_min(0.0) / batch_size

    def _sample_sq_norms(self, params, z_t, a_t, y, c) -> torch.Tensor:
        """||grad_P1 l_i||^2 + ||grad_P2 l_i||^2 per sample, each gradient a sum of rank-one terms:
        grad_P2 = W2^T d a_S^T;  grad_P1 = z_T u^T - 2 alpha a_T e^T, with d = dl/dy_S,
        e = a_S - P1^T a_T, u = dl/dz_S."""
        p1, p2 = params
        alpha = self.alpha[:, None, None]
        with torch.enable_grad():
            z_s = torch.bmm(z_t, p1).requires_grad_(True)
            a_s = self.teacher.act(z_s)
            v = self.w2 @ p2
            y_s = torch.bmm(a_s, v.transpose(1, 2))
            d = 2.0 * ((y_s - y) + alpha * (y_s - c))
            e = a_s - torch.bmm(a_t, p1)
            u = torch.autograd.grad(a_s, z_s, grad_outputs=torch.bmm(d, v) + 2.0 * alpha * e)[0]
        sq = lambda t: t.detach().square().sum(-1)
        g2 = sq(d @ self.w2) * sq(a_s)
        cross = (z_t * a_t).sum(-1) * (u * e).detach().sum(-1)
        g1 = sq(z_t) * sq(u) + 4 * alpha[:, :, 0] ** 2 * sq(a_t) * sq(e) - 4 * alpha[:, :, 0] * cross
        return g1 + g2

    def smoothness(self, params, iters: int = 30, start=None):
        """Local smoothness ||Hessian of f|| at params by power iteration (a lower bound on L nearby).

        Args:
            params: [P1, P2], each (R, h, width).
            iters: power iterations.
            start: the vectors the previous call returned (warm start), or None.

        Returns:
            (estimate (R,), the final vectors).
        """
        return hessian_norm(self.objective, params, self.masks(), self.runs, iters, start)

    def exact_smoothness(self):
        """No exact global L is known for the MLP student.

        Returns:
            None.
        """
        return None

    def objective_min(self) -> torch.Tensor:
        """No closed form: the loss is a sum of squares, so 0 is the lower bound used for Delta."""
        return torch.zeros(len(self.runs), dtype=torch.float64, device=self.device)

    def optimum_params(self):
        """No closed-form minimizer is known for the MLP student.

        Returns:
            None.
        """
        return None

    def flops_per_step(self, batch_size: int) -> float:
        """Multiply-add FLOPs (2 per MAC) of one minibatch step (forward x 3 for the backward).

        Args:
            batch_size: b.

        Returns:
            FLOPs.
        """
        r = self.ranks.double()
        forward = 2 * batch_size * self.h * r * 2 + 2 * self.m * self.h * r + 2 * batch_size * r * self.m
        return float((3 * forward).sum())

    def representations(self, params, x: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        """Hidden activations on held-out x (n_rep, n): teacher a_T (n_rep, h), students a_S (R, n_rep, r).

        Args:
            params: [P1, P2], each (R, h, width).
            x: (n_rep, n) held-out inputs.

        Returns:
            (teacher a_T, students a_S) as numpy arrays.
        """
        z = x @ self.w1.T
        a_s, _ = self.forward(params, z.expand(len(self.runs), -1, -1))
        return self.teacher.act(z).cpu().numpy(), a_s.detach().cpu().numpy()

    def representation_width(self, run: Run) -> int:
        """A run's own hidden units: the first r of the batch's padded width.

        Args:
            run: one of the batch's runs.

        Returns:
            run.rank.
        """
        return run.rank


def _init_projection(runs, stream: str, rows: int, width: int, scale: float) -> torch.Tensor:
    out = torch.zeros(len(runs), rows, width, dtype=torch.float64)
    for i, run in enumerate(runs):
        draw = rng(stream, run.seed).standard_normal((rows, rows)) * (scale / math.sqrt(rows))
        out[i, :, : run.rank] = torch.from_numpy(draw[:, : run.rank])
    return out
