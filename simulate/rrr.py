"""Closed-form reduced-rank regression (RRR): the exact rank-r least-squares fit, every rank at once.

Minimize (1/N) sum_i ||y_i - W x_i||^2 over m x n matrices W of rank <= r. With OLS coefficients
W_ols and fitted values Y_hat = X W_ols^T, the solution is W_r = V_r V_r^T W_ols where V_r holds
the top-r right singular vectors of Y_hat (Izenman 1975; Bunea, She & Wegkamp 2011, Ann. Stat.
39(2)). One SVD therefore serves every rank of a sweep. We never form Y_hat: with the thin SVD
X = U_x S_x V_x^T (numerical rank k), Y_hat = U_x (U_x^T Y), and U_x has orthonormal columns, so
the right singular vectors of the small k x m matrix U_x^T Y are those of Y_hat. For N < n the
OLS step is the minimum-norm least-squares solution.
"""

from __future__ import annotations

from typing import Sequence

import torch

from lrkd.errors import require_int_in


def fit_rrr(x: torch.Tensor, y: torch.Tensor, ranks: Sequence[int]) -> dict[int, torch.Tensor]:
    """{r: W_r} for each requested rank, W_r (m x n) the rank-r least-squares fit of y on x.

    Args:
        x: (N, n) inputs.
        y: (N, m) targets.
        ranks: ranks in [1, min(m, n)].

    Returns:
        rank -> (m, n) tensor.
    """
    m = y.shape[1]
    for r in ranks:
        require_int_in(r, "rank", 1, min(m, x.shape[1]))
    u_x, s_x, vh_x = _thin_svd(x)
    projected = u_x.T @ y  # (k, m): Y_hat = u_x @ projected
    w_ols = (vh_x.T / s_x) @ projected  # (n, m) = W_ols^T
    _, _, vh = torch.linalg.svd(projected, full_matrices=False)
    return {r: (vh[:r].T @ (vh[:r] @ w_ols.T)) for r in ranks}


def _thin_svd(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Thin SVD of x keeping singular values above the usual numerical-rank tolerance."""
    u, s, vh = torch.linalg.svd(x, full_matrices=False)
    tol = s.max() * max(x.shape) * torch.finfo(x.dtype).eps
    keep = s > tol
    return u[:, keep], s[keep], vh[keep]
