"""Measurements for the claims on the real teacher: C1 constants of a run, C4 teacher spectra.

C1 (Ghadimi-Lan) needs L (smoothness), sigma^2 (gradient-noise variance) and Delta = f(P_0) - inf f.
On a real LRC run these can only be estimated crudely, and validate/ reports the run as
"assumptions not met" anyway (AdamW, clipping, a non-smooth deep net). `estimate_c1_constants`:
  sigma^2  the unbiased sample variance sum_i ||g_i - g_bar||^2 / (k - 1) of k minibatch gradients
           of the training loss at the current point (the first k batches of the stream);
  L        the largest-magnitude Hessian eigenvalue of the first minibatch's loss at that point,
           by power iteration on finite-difference Hessian-vector products
           Hv ~ (g(P + eps v) - g(P - eps v)) / (2 eps): a local curvature, not a global constant;
  Delta    is in the run's `final` row (`delta_estimate`: first minibatch loss minus the smallest
           minibatch loss observed; an estimate of f(P_0) - inf f from below).

C4 needs the teacher's spectra: `teacher_spectra` returns the singular values of every weight
matrix per layer and kind (and the embedding), the s_k whose decay family validate/ fits.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from lrkd.simulate.lrc.llama import MATRIX_KINDS
from lrkd.simulate.lrc.losses import loss_terms


def _flat_grad(tr, batch, prec) -> tuple[torch.Tensor, float]:
    ids, targets, acts = batch
    tr.optimizer.zero_grad(set_to_none=True)
    with prec.autocast():
        loss, _ = loss_terms(tr, ids, targets, acts)
    loss.backward()
    grad = torch.cat([p.grad.reshape(-1).float() for p in tr.params])
    tr.optimizer.zero_grad(set_to_none=True)
    return grad, loss.item()


def estimate_c1_constants(tr, batches: list, prec, *, relative_eps: float = 1e-3) -> dict:
    """sigma^2 and L (see the module docstring) of one student's training loss at its current point.

    Args:
        tr: the student (a train.Trainee); its parameters are restored afterwards.
        batches: (ids, targets, teacher activations) per minibatch, at least two.
        prec: the run's train.Precision.
        relative_eps: the finite-difference step relative to max(1, ||theta||).

    Returns:
        A row: loss_mean, grad_mean_norm_sq, sigma2, L_rayleigh, L_estimate, epsilon, n_batches,
        power_iters, n_params.
    """
    grads, losses = zip(*(_flat_grad(tr, b, prec) for b in batches))
    stacked = torch.stack(grads)
    mean = stacked.mean(0)
    sigma2 = float(((stacked - mean) ** 2).sum() / (len(grads) - 1))
    rayleigh, norm, eps = _power_iteration(tr, batches[0], prec, tr.config.c1_power_iters, relative_eps)
    return {
        "loss_mean": float(np.mean(losses)),
        "grad_mean_norm_sq": float(mean.pow(2).sum()),
        "sigma2": sigma2,
        "L_rayleigh": rayleigh,
        "L_estimate": norm,
        "epsilon": eps,
        "n_batches": len(grads),
        "power_iters": tr.config.c1_power_iters,
        "n_params": int(mean.numel()),
    }


def _power_iteration(tr, batch, prec, iters: int, relative_eps: float) -> tuple[float, float, float]:
    params = tr.params
    with torch.no_grad():
        theta = parameters_to_vector(params).detach().clone()
        eps = relative_eps * max(1.0, float(theta.norm()))
        generator = torch.Generator().manual_seed(tr.config.seed + 17)
        v = torch.randn(theta.numel(), generator=generator).to(theta)
        v /= v.norm()
    rayleigh = norm = float("nan")
    try:
        for _ in range(iters):
            hv = (_grad_at(tr, theta + eps * v, batch, prec) - _grad_at(tr, theta - eps * v, batch, prec)) / (2 * eps)
            rayleigh, norm = float(v @ hv), float(hv.norm())
            if not np.isfinite(norm) or norm == 0:
                break
            v = hv / norm
    finally:
        with torch.no_grad():
            vector_to_parameters(theta, params)
    return rayleigh, norm, eps


def _grad_at(tr, point: torch.Tensor, batch, prec) -> torch.Tensor:
    with torch.no_grad():
        vector_to_parameters(point, tr.params)
    return _flat_grad(tr, batch, prec)[0]


def teacher_matrices(teacher, *, include_embedding: bool = True) -> dict[str, torch.Tensor]:
    """Every teacher weight matrix by name: 'L{i}.{kind}' for layer i (0-based) and kind in q, k, v,
    o, gate, up, down; plus 'embed' (and 'head' when untied).

    Args:
        teacher: a simulate.lrc Teacher.
        include_embedding: add 'embed' (and 'head').

    Returns:
        name -> the weight tensor itself (not a copy).
    """
    out = {}
    for i in range(teacher.arch.n_layers):
        weights = teacher.layer(i)
        for kind in MATRIX_KINDS:
            out[f"L{i}.{kind}"] = getattr(weights, kind)
    if include_embedding:
        out["embed"] = teacher.embed
        if not teacher.arch.tie_embeddings:
            out["head"] = teacher.head
    return out


@torch.no_grad()
def teacher_spectra(teacher, *, include_embedding: bool = True) -> dict[str, np.ndarray]:
    """Singular values (descending, float64) of every teacher weight matrix (teacher_matrices'
    names), one matrix in float64 at a time so the peak stays one matrix's SVD.

    Args:
        teacher: a simulate.lrc Teacher.
        include_embedding: add the embedding (and an untied head).

    Returns:
        name -> 1-D float64 array of singular values.
    """
    return {
        name: _svdvals(matrix)
        for name, matrix in teacher_matrices(teacher, include_embedding=include_embedding).items()
    }


def _svdvals(matrix: torch.Tensor) -> np.ndarray:
    """Singular values in float64. A very tall matrix (the 49152 x 576 embedding) goes through its
    small Gram matrix: s = sqrt(eig(W^T W)). Squaring the condition number costs relative accuracy
    only for singular values below about 1e-8 of the largest, far under the random-matrix bulk the
    spectra are compared with, and it keeps the peak memory at one small matrix instead of a float64
    copy of the tall one plus the SVD's workspace (over 1.5 GB for the embedding)."""
    w = matrix.detach().cpu()
    rows, cols = w.shape
    if max(rows, cols) < 8 * min(rows, cols):
        return torch.linalg.svdvals(w.double()).numpy()
    gram = torch.zeros(min(rows, cols), min(rows, cols), dtype=torch.float64)
    tall = w if rows >= cols else w.T
    for start in range(0, tall.shape[0], 4096):  # float64 Gram in blocks: no full float64 copy
        block = tall[start : start + 4096].double()
        gram += block.T @ block
    eig = torch.linalg.eigvalsh(gram).clamp_min(0).sqrt()
    return eig.flip(0).numpy()


def spectra_rows(spectra: dict[str, np.ndarray]) -> list[dict]:
    """One summary row per matrix (for a table): shape-free facts validate/ may want at a glance.

    Args:
        spectra: what teacher_spectra returned.

    Returns:
        Rows with matrix, layer (None for embed/head), kind, n_singular_values, s_max, s_min, frobenius_sq.
    """
    rows = []
    for name, s in spectra.items():
        layer, _, kind = name.partition(".") if name.startswith("L") else ("", "", name)
        rows.append(
            {
                "matrix": name,
                "layer": int(layer[1:]) if layer else None,
                "kind": kind,
                "n_singular_values": int(s.size),
                "s_max": float(s[0]),
                "s_min": float(s[-1]),
                "frobenius_sq": float(np.sum(s**2)),
            }
        )
    return rows
