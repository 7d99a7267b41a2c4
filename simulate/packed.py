"""The minibatch program of a batch of linear students, repacked for speed: rank buckets and
seed-grouped products. It computes what `LinearStudents.step` computes (up to float rounding).

Why: in the padded layout every run is padded to the largest rank of the batch (ranks 8..64
padded to 64 execute 1.78x the useful FLOPs) and every run gathers its own copy of its minibatch.
Here
  * runs are split into rank buckets, each padded only to its own largest rank; the widths come
    from `plan_buckets`, a 1-D partition that minimizes padded FLOPs + a fixed cost per bucket
    (on a CPU a bucket costs ~10 small tensor ops a step; on a GPU, where these products are
    launch-bound and padding is nearly free, the plan is one bucket);
  * runs with the same seed share their minibatch (data.BatchStream), so each step gathers one
    minibatch per seed, and inside a bucket the runs of a seed are stacked: the two products
    with the shared inputs, H^T = B X^T and grad_B = G^T X, are one GEMM per seed of K*w rows
    instead of K GEMMs of w rows;
  * every per-run block of a stacked product is a view, every product writes into a workspace
    allocated once (out=, in-place updates), and the views are made once: a step is ~7 tensor
    ops per bucket plus 4, against ~25 for the padded step, which matters for small batches;
  * plain SGD on the factorized student is fused: the per-run scale lr_i * 2/b goes into the
    GEMM's scalar (or, when the runs of a bucket differ in lr, into the residual), and both
    updates are in-place baddbmm_ (no gradient tensors).
A bucket whose runs do not form a full seed x K grid (unequal counts per seed) falls back to one
group per run (K = 1: each run gets its own gathered minibatch), which is still exact.

Per run and step the math is that of students_linear (W_S = A B, loss per sample
||W_S x - y||^2 + alpha ||W_S x - c||^2, D = dloss/dprediction, gradients D^T H and (D A)^T X,
through `_packed_chain` for the LRC student).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from lrkd.errors import InputError
from lrkd.simulate.data import INDEX_CHUNK, BatchStream

# A bucket's fixed per-step cost in FLOP-equivalents: the price of one more bucket in
# `plan_buckets`. CPU: ~8 tensor ops (~30-40 us on one core of the 2-core dev machine) at ~90
# GFLOP/s; the plan is flat near its optimum there (3, 4 or 8 buckets of ranks 8..64 time within
# a few percent). Accelerators (anything but "cpu"): launch-bound at these sizes, so padding is
# nearly free and one bucket wins (H100: one bucket 0.73 s, four buckets 1.80 s for the benchmark).
BUCKET_OVERHEAD_FLOPS = {"cpu": 4e6, "accelerator": 1e10}


def bucket_overhead(device: torch.device) -> float:
    """BUCKET_OVERHEAD_FLOPS for this device ("cpu", else "accelerator").

    Args:
        device: the students' device.

    Returns:
        A bucket's fixed cost in FLOP-equivalents.
    """
    return BUCKET_OVERHEAD_FLOPS["cpu" if torch.device(device).type == "cpu" else "accelerator"]


def plan_buckets(
    ranks: Sequence[int], flops_per_width: float, overhead: float = BUCKET_OVERHEAD_FLOPS["cpu"]
) -> list[int]:
    """Ascending bucket widths minimizing sum over buckets of (overhead + flops_per_width * width *
    runs in it), every run in the narrowest bucket that holds its rank (1-D partition DP).

    Args:
        ranks: the runs' ranks.
        flops_per_width: one run's step FLOPs per unit of width (LinearStudents.flops_per_rank).
        overhead: a bucket's fixed cost (bucket_overhead).

    Returns:
        The widths, ascending; the last is the largest rank.
    """
    values, counts = np.unique(np.asarray(ranks), return_counts=True)
    best, cut = [0.0] + [math.inf] * len(values), [0] * (len(values) + 1)
    for j in range(1, len(values) + 1):
        for i in range(j):
            cost = best[i] + overhead + flops_per_width * float(values[j - 1]) * float(counts[i:j].sum())
            if cost < best[j]:
                best[j], cut[j] = cost, i
    widths, j = [], len(values)
    while j:
        widths.append(int(values[j - 1]))
        j = cut[j]
    return widths[::-1]


def bucket_of_runs(ranks: Sequence[int], widths: Sequence[int]) -> np.ndarray:
    """Index of the narrowest bucket that holds each rank (widths ascending).

    Args:
        ranks: the runs' ranks.
        widths: bucket widths (integers >= 1, the largest >= every rank).

    Returns:
        Bucket index per run; bad widths are an InputError naming `buckets`.
    """
    ok = len(widths) > 0 and all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in widths)
    widths = sorted(int(w) for w in widths) if ok else list(widths)
    if not ok or min(widths) < 1 or max(widths) < max(ranks):
        raise InputError(
            "buckets", f"must be widths >= 1 whose largest is >= the largest rank {max(ranks)}, got {widths}"
        )
    return np.searchsorted(np.asarray(widths), np.asarray(ranks))


@dataclass
class _Bucket:
    """Runs of one width: slot j holds run rows[j]; slots are n_groups x per_group, group g
    reading the minibatch of seed position groups[g] (groups None: every seed, in stream order)."""

    width: int
    rows: torch.Tensor
    groups: torch.Tensor | None
    n_groups: int
    per_group: int
    alpha: torch.Tensor  # (slots,)
    has_clone: bool
    tensors: list[torch.Tensor]  # packed trained tensors, updated in place
    frozen: torch.Tensor | None  # an untrained B-side factor (LRC with frozen embedding)
    lr: torch.Tensor  # (slots,)
    loss: torch.Tensor  # (slots,) view of the program's loss row
    step: float | None = None  # lr * 2/b when all slots share lr, else None and ...
    step_scale: torch.Tensor | None = None  # ... (slots, 1, 1) per-slot lr * 2/b
    sxx: torch.Tensor | None = None  # (groups, n, n), for the every-step full gradient
    q2: torch.Tensor | None = None  # (slots, m, n): 2 (S_yx + alpha S_cx)

    @property
    def slots(self) -> int:
        return len(self.rows)

    def allocate(self, batch_size: int, m: int, n: int, factors_are_params: bool):
        """Workspaces of the step's products and their fixed views (made once, reused every step).

        Args:
            batch_size: b.
            m: outputs.
            n: inputs.
            factors_are_params: whether the packed tensors are the factors A, B themselves (factorized).
        """
        g, k, w, b = self.n_groups, self.per_group, self.width, batch_size
        new = lambda *shape: self.tensors[0].new_empty(shape)
        self.ht_grouped = new(g, k * w, b)  # H^T, a seed's runs stacked
        self.ht = self.ht_grouped.view(g * k, w, b)  # H^T per run
        self.h = self.ht.transpose(1, 2)  # H (slots, b, w)
        self.d = new(g * k, b, m)  # predictions, then the residual D
        self.d_grid, self.d_flat, self.dt = self.d.view(g, k, b, m), self.d.view(g * k, -1), self.d.transpose(1, 2)
        self.gt = new(g * k, w, b)  # G^T = A^T D^T, the B-side gradient's factor
        self.gt_grouped = self.gt.view(g, k * w, b)
        if factors_are_params:
            a, bt = self.tensors
            self.a_t, self.bt_grouped = a.transpose(1, 2), bt.view(g, k * w, n)


class PackedProgram:
    """Trains `students` (LinearStudents) from public-layout `params` in the packed layout.

    Interface of the training loop: `tensors` (trained in place), `lrs` (each tensor's per-slot
    step sizes), `order` (run index of each output column), `losses_and_grads(out)`,
    `sgd_step(out)` (fused, when `fused_sgd`), `full_grad_norm_sq()` and `params()` (public
    layout, a copy). The minibatch losses (R,) go to `out` in slot order.

    Args:
        students: the LinearStudents whose step this replaces.
        params: the starting parameters (padded layout).
        lr: per-run step sizes (R,).
        batch_size: b.
        widths: rank-bucket widths (None: plan_buckets for the students' device).
    """

    def __init__(
        self,
        students,
        params: list[torch.Tensor],
        lr: torch.Tensor,
        batch_size: int,
        widths: Sequence[int] | None = None,
    ):
        s, data = students, students.data
        self.s, self.batch_size = s, batch_size
        ranks = [run.rank for run in s.runs]
        if widths is None:
            widths = plan_buckets(ranks, s.flops_per_rank(batch_size), bucket_overhead(s.device))
        which = bucket_of_runs(ranks, widths)
        self.stream = BatchStream(s.runs, data.n_samples, batch_size, s.device)
        seeds = self.stream.seeds
        self.offsets = torch.tensor([data.seeds.index(x) for x in seeds], device=s.device)[:, None] * data.n_samples
        self.loss = params[0].new_empty(len(s.runs))
        seed_of, self.buckets, start = self.stream.rows.cpu().numpy(), [], 0
        for k in range(len(widths)):
            if (which == k).any():
                self.buckets.append(self._bucket(np.flatnonzero(which == k), ranks, seed_of, params, lr, start))
                start += self.buckets[-1].slots
        self.widths = [bk.width for bk in self.buckets]
        self.order = np.concatenate([bk.rows.cpu().numpy() for bk in self.buckets])
        self.tensors = [t for bk in self.buckets for t in bk.tensors]
        self.lrs = [bk.lr for bk in self.buckets for _ in bk.tensors]
        self.has_clone = any(bk.has_clone for bk in self.buckets)
        self.fused_sgd = s.factors_are_params
        self._inputs(data, len(seeds))
        self._shapes, self._template, self._zero = [p.shape for p in params], params[0], params[0].new_zeros(())

    def _bucket(self, members, ranks, seed_of, params, lr, start) -> _Bucket:
        seeds = seed_of[members]
        present, counts = np.unique(seeds, return_counts=True)
        if np.all(counts == counts[0]):  # a full seed x K grid: slots seed-major, runs in order
            slots = np.concatenate([members[seeds == x] for x in present])
            groups, per_group = present, int(counts[0])
        else:
            slots, groups, per_group = members, seeds, 1
        every_seed = np.array_equal(groups, np.arange(len(self.stream.seeds)))
        rows, width = torch.as_tensor(slots, device=self.s.device), max(ranks[i] for i in members)
        alpha, lr = self.s.alpha[rows], lr[rows]
        bucket = _Bucket(
            width,
            rows,
            None if every_seed else torch.as_tensor(groups, device=self.s.device),
            len(groups),
            per_group,
            alpha,
            bool((alpha > 0).any()),
            self.s._pack(params, rows, width),
            self.s._packed_frozen(rows, width),
            lr,
            self.loss[start : start + len(slots)],
        )
        scale = 2.0 / self.batch_size
        if bool((lr == lr[0]).all()):
            bucket.step = float(lr[0]) * scale
        else:
            bucket.step_scale = (lr * scale)[:, None, None]
        bucket.allocate(self.batch_size, self.s.m, self.s.n, self.s.factors_are_params)
        return bucket

    def _inputs(self, data, n_seeds):
        """The flattened training data and the minibatch buffers they are gathered into."""
        parts = [data.x, data.y] + ([data.clean] if self.has_clone else [])
        self.flat_data = [t.reshape(-1, t.shape[-1]) for t in parts]
        self.batch = [t.new_empty(n_seeds, self.batch_size, t.shape[-1]) for t in parts]
        self.flat_batch = [t.view(-1, t.shape[-1]) for t in self.batch]
        x = self.batch[0]
        self.views = (x, x.transpose(1, 2), *[t[:, None] for t in self.batch[1:]], *([None] * (not self.has_clone)))
        self.rows_chunk, self.chunk_pos = None, INDEX_CHUNK

    # -- one minibatch step -----------------------------------------------------------------------
    def sgd_step(self, out: torch.Tensor) -> None:
        """Plain SGD, fused (factorized student: the factors are the parameters): both factors
        updated in place by baddbmm_ with the step lr_i * 2/b as its scalar (or folded into D).

        Args:
            out: an (R,) buffer the minibatch losses are written into, in slot order.
        """
        batch = self._minibatch()
        for bk in self.buckets:
            a, _ = bk.tensors
            x = self._residuals(bk, bk.a_t, bk.bt_grouped, batch)
            if bk.step_scale is not None:
                bk.d.mul_(bk.step_scale)
            alpha = -1.0 if bk.step is None else -bk.step
            torch.bmm(bk.a_t, bk.dt, out=bk.gt)  # G^T = A^T D^T, with A before its update
            a.baddbmm_(bk.dt, bk.h, alpha=alpha)  # A -= step D^T H
            bk.bt_grouped.baddbmm_(bk.gt_grouped, x, alpha=alpha)  # B -= step G^T X, one GEMM per seed
        self._losses(out)

    def losses_and_grads(self, out: torch.Tensor) -> list[torch.Tensor]:
        """The gradient of every bucket tensor (for Adam, and for the LRC student's chain rule).

        Args:
            out: an (R,) buffer the minibatch losses are written into, in slot order.

        Returns:
            One gradient per tensor of `tensors`.
        """
        batch, grads = self._minibatch(), []
        for bk in self.buckets:
            a, bt = self.s._packed_factors(bk.tensors, bk.frozen)
            a_t = a.transpose(1, 2)
            x = self._residuals(bk, a_t, bt.view(bk.n_groups, -1, bt.shape[2]), batch)
            bk.d.mul_(2.0 / self.batch_size)
            grad_a = torch.bmm(bk.dt, bk.h)
            torch.bmm(a_t, bk.dt, out=bk.gt)
            grad_b = torch.bmm(bk.gt_grouped, x).view(bk.slots, bk.width, -1)
            grads += self.s._packed_chain(grad_a, grad_b)
        self._losses(out)
        return grads

    def _minibatch(self):
        """Gather this step's minibatch of every seed into the buffers: (x, x^T, y, c) views."""
        if self.chunk_pos == INDEX_CHUNK:
            chunk = self.stream.next_chunk_per_seed() + self.offsets
            self.rows_chunk, self.chunk_pos = chunk.view(INDEX_CHUNK, -1), 0
        rows = self.rows_chunk[self.chunk_pos]
        self.chunk_pos += 1
        for source, buffer in zip(self.flat_data, self.flat_batch):
            torch.index_select(source, 0, rows, out=buffer)
        return self.views

    def _residuals(self, bk: _Bucket, a_t, bt_grouped, batch):
        """H^T = B x^T into bk.ht, D = dloss/dpred * b/2 = (P - y) + alpha (P - c) into bk.d with
        P = H A^T (slots, b, m), sqrt(b * minibatch loss) into bk.loss; returns the bucket's x."""
        x, xt, y, c = batch if bk.groups is None else self._select(bk.groups)
        torch.bmm(bt_grouped, xt, out=bk.ht_grouped)
        torch.bmm(bk.h, a_t, out=bk.d)
        if not bk.has_clone:
            bk.d_grid.sub_(y)
            torch.linalg.vector_norm(bk.d_flat, dim=1, out=bk.loss)
            return x
        dy = (bk.d_grid - y).view(bk.slots, -1)
        clone = bk.d_grid.sub_(c).view(bk.slots, -1)
        bk.loss.copy_((_sq_norms(dy) + bk.alpha * _sq_norms(clone)).sqrt_())
        bk.d_flat.mul_(bk.alpha[:, None]).add_(dy)
        return x

    def _select(self, groups):
        x = self.batch[0].index_select(0, groups)
        rest = [t.index_select(0, groups)[:, None] for t in self.batch[1:]]
        return (x, x.transpose(1, 2), *rest, *([None] * (not self.has_clone)))

    def _losses(self, out):
        """The minibatch losses, |D|^2 / b, from the stored root (one op for all buckets)."""
        torch.addcmul(self._zero, self.loss, self.loss, value=1.0 / self.batch_size, out=out)

    # -- the exact full-batch gradient norm (every step, for C1's min/avg) -------------------------
    def full_grad_norm_sq(self) -> torch.Tensor:
        """||grad f||^2 (R,) in slot order, from second moments: dF/dW = 2((1 + a) W S - Q).

        Returns:
            (R,) tensor, in slot order.
        """
        return torch.cat([self._full_grad_norm_sq(bk) for bk in self.buckets])

    def _full_grad_norm_sq(self, bk: _Bucket) -> torch.Tensor:
        if bk.sxx is None:
            first = bk.rows.view(bk.n_groups, bk.per_group)[:, 0]
            bk.sxx, bk.q2 = self.s._moments["sxx"][first], 2.0 * self.s._q()[bk.rows]
        a, bt = self.s._packed_factors(bk.tensors, bk.frozen)
        w = torch.bmm(a, bt)
        grad_w = torch.bmm(w.view(bk.n_groups, -1, w.shape[2]), bk.sxx).view_as(w)
        grad_w = grad_w.mul_((2.0 * (1.0 + bk.alpha))[:, None, None]).sub_(bk.q2)
        grads = self.s._packed_chain(torch.bmm(grad_w, bt.transpose(1, 2)), torch.bmm(a.transpose(1, 2), grad_w))
        return sum(_sq_norms(t) for t in grads)

    # -- back to the public layout ----------------------------------------------------------------
    def params(self) -> list[torch.Tensor]:
        """The current parameters in the students' padded layout (R, ., largest rank), a copy.

        Returns:
            One tensor per parameter.
        """
        out = [self._template.new_zeros(shape) for shape in self._shapes]
        for bk in self.buckets:
            self.s._unpack(bk.tensors, bk.rows, bk.width, out)
        return out


def _sq_norms(t: torch.Tensor) -> torch.Tensor:
    """Sum of squares per run (leading axis), in one pass."""
    return torch.linalg.vector_norm(t.reshape(t.shape[0], -1), dim=1).square_()
