"""Mutual-information estimators for claim C3 (activation cloning and teacher-student MI).

What each function computes (all in nats, float64):
- `gaussian`: the Gaussian / CCA mutual information of the empirical covariance,
  I = -(1/2) sum_i log(1 - rho_i^2) over the canonical correlations rho_i (Hotelling 1936; the
  formula lives in `theory.gaussian_mi_from_correlations`). It is the exact MI of jointly Gaussian
  data and, for any data, the MI of the Gaussian with the same covariance. The plug-in value is
  biased upward by about dx*dy/(2N); we remove that bias exactly for Gaussian data with the
  expectation of the log-determinant of a Wishart sample covariance,
  E log det S_hat = log det S + sum_{i=1..p} psi((nu - i + 1)/2) + p log(2/nu), nu = N - 1
  (Bartlett decomposition: det of a Wishart matrix is det S times independent chi-squares with
  nu, ..., nu - p + 1 degrees of freedom, E log chi2_k = psi(k/2) + log 2; Anderson 2003, An
  Introduction to Multivariate Statistical Analysis, ch. 7; the same correction gives the UMVUE
  of the Gaussian entropy, Misra, Singh & Demchuk 2005, J. Multivariate Anal. 92, 324-342).
  The MI is a sum of three log-determinants, so subtracting the three offsets leaves an unbiased
  estimate. Why this one: it is exact where ground truth exists (Gaussian data) and has no
  tuning parameter; shrinkage would trade the bias for another one toward zero.
- `ksg`: the Kraskov-Stoegbauer-Grassberger estimator, algorithm 1 (Kraskov, Stoegbauer &
  Grassberger 2004, Phys. Rev. E 69, 066138), max-norm, on standardized columns.
- `infonce`: the InfoNCE lower bound I >= log K + E[f(x_i, y_i) - log sum_j exp f(x_i, y_j)]
  with a learned critic f (van den Oord, Li & Vinyals 2018; Poole et al. 2019, ICML), capped at
  log K for batch size K.
- `clone_lower_bound`: the C3 bound I(X;Y) >= h(X) - (1/2) log((2 pi e)^d det Sigma_E)
  >= h(X) - (d/2) log(2 pi e D/d) from the cloning error E = X - f(Y) (claims.md, C3; the bound
  formulas live in `theory`).
- `with_noise`: adds independent Gaussian noise so that MI between deterministic maps is finite.

Ground truth exists only for jointly Gaussian data; kNN estimates are badly biased in high
dimension and InfoNCE saturates at log(batch) (claims.md C3 caveats; the bmi benchmark,
Czyz et al. 2023). Estimates may be negative; they are never clipped here.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from scipy.spatial import cKDTree
from scipy.special import digamma

from lrkd import theory
from lrkd.errors import require, require_float_in, require_int_in

__all__ = [
    "gaussian",
    "canonical_correlations",
    "wishart_mi_bias",
    "ksg",
    "infonce",
    "InfoNCEResult",
    "with_noise",
    "clone_lower_bound",
    "CloneBound",
]


# ---------------------------------------------------------------- input handling


def _as_samples(a: Any, name: str) -> np.ndarray:
    """Return `a` as a float64 (samples, features) array; 1-D input is one feature."""
    if isinstance(a, torch.Tensor):
        a = a.detach().cpu().numpy()
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    require(arr.ndim == 2, name, "a (samples, features) array", f"shape {arr.shape}")
    require(arr.shape[0] >= 2 and arr.shape[1] >= 1, name, "at least 2 samples and 1 feature", f"shape {arr.shape}")
    require(bool(np.all(np.isfinite(arr))), name, "finite (no NaN or inf)", "non-finite values")
    return arr


def _paired(x: Any, y: Any, y_name: str = "y") -> tuple[np.ndarray, np.ndarray]:
    x, y = _as_samples(x, "x"), _as_samples(y, y_name)
    require(x.shape[0] == y.shape[0], y_name, f"the same number of samples as x ({x.shape[0]})", y.shape[0])
    return x, y


def _informative_columns(a: np.ndarray) -> np.ndarray:
    """Drop zero-variance columns (dead units): they carry no information, MI is unchanged."""
    keep = np.std(a, axis=0) > 0
    require(bool(np.any(keep)), "x, y", "non-constant in at least one column each", "a constant block")
    return a[:, keep]


def _standardize(a: np.ndarray) -> np.ndarray:
    """Center each column and scale it to unit (ddof=1) standard deviation."""
    a = _informative_columns(a)
    return (a - a.mean(axis=0)) / a.std(axis=0, ddof=1)


def _whiten(a: np.ndarray) -> np.ndarray:
    """Whiten a block (identity sample covariance) on its numerical column space.

    An invertible linear map of each variable leaves I(X;Y) unchanged; it only removes the
    ill-conditioning that slows critic training and distorts max-norm neighbourhoods.
    """
    u, _ = _whitened_basis(_standardize(a), 0.0)
    return u * np.sqrt(a.shape[0] - 1)


# ---------------------------------------------------------------- Gaussian / CCA


def canonical_correlations(x: Any, y: Any, *, ridge: float = 0.0) -> np.ndarray:
    """Sample canonical correlations of x and y, descending, in [0, 1).

    Computed from the thin SVDs of the standardized data blocks (Bjorck & Golub 1973), which
    avoids squaring the condition number as forming covariances would. Directions with singular
    value below numpy's matrix-rank tolerance are dropped (exactly collinear columns add no
    information). `ridge` > 0 shrinks each correlation block toward the identity,
    C + ridge * I, in units of the unit column variances.

    Args:
        x, y: samples (N, dx) and (N, dy).
        ridge: the shrinkage (0: none).

    Returns:
        The canonical correlations, descending.
    """
    x, y = _paired(x, y)
    return _cca(x, y, require_float_in(ridge, "ridge", 0.0))[0]


def _cca(x: np.ndarray, y: np.ndarray, ridge: float) -> tuple[np.ndarray, int, int]:
    """Canonical correlations and the numerical ranks of the two blocks."""
    ux, gx = _whitened_basis(_standardize(x), ridge)
    uy, gy = _whitened_basis(_standardize(y), ridge)
    rho = np.linalg.svd(gx[:, None] * (ux.T @ uy) * gy[None, :], compute_uv=False)
    return np.clip(rho, 0.0, np.nextafter(1.0, 0.0)), ux.shape[1], uy.shape[1]


def _whitened_basis(a: np.ndarray, ridge: float) -> tuple[np.ndarray, np.ndarray]:
    """Orthonormal basis of the column space of `a` and each direction's ridge shrink factor.

    With a = U S V^T and C = a^T a / (n-1), (C + ridge I)^(-1/2) a^T = V diag(g) U^T up to
    scale, g = s / sqrt(s^2 + (n-1) ridge); g = 1 without ridge.
    """
    u, s, _ = np.linalg.svd(a, full_matrices=False)
    keep = s > s[0] * max(a.shape) * np.finfo(np.float64).eps
    u, s = u[:, keep], s[keep]
    return u, s / np.sqrt(s**2 + (a.shape[0] - 1) * ridge)


def wishart_mi_bias(n_samples: int, dx: int, dy: int) -> float:
    """Expected excess of the plug-in Gaussian MI over the true MI, for Gaussian data.

    E[I_plugin] - I = (1/2)(b(dx) + b(dy) - b(dx + dy)) with b(p) = sum_{i=1..p} psi((nu-i+1)/2)
    (+ p log(2/nu), which cancels), nu = n_samples - 1: exact, not only the leading order.

    Args:
        n_samples: N.
        dx, dy: the two dimensions.

    Returns:
        The bias, in nats.
    """
    nu = n_samples - 1

    def b(p: int) -> float:
        return float(np.sum(digamma((nu - np.arange(1, p + 1) + 1) / 2.0)))

    return 0.5 * (b(dx) + b(dy) - b(dx + dy))


def gaussian(x: Any, y: Any, *, bias_correction: bool = True, ridge: float = 0.0) -> float:
    """Gaussian / CCA mutual information of x (N, dx) and y (N, dy), in nats.

    I = -(1/2) sum log(1 - rho_i^2) over the sample canonical correlations
    (`canonical_correlations`). With `bias_correction` (default) the exact Gaussian-data bias of
    the plug-in value (`wishart_mi_bias`, from the Wishart log-determinant expectation) is
    subtracted, so the estimate is unbiased for jointly Gaussian data and may be slightly
    negative when I ~ 0; without it the plug-in value is biased up by about dx*dy/(2N).
    Regularization: numerically rank-deficient blocks are reduced to their numerical rank (which
    also sets the dimensions in the bias correction); `ridge` > 0 adds shrinkage C + ridge*I.
    If y is a deterministic invertible map of x the true MI is infinite and the result is
    set by roundoff or the ridge: add noise with `with_noise` to define a finite quantity.

    Args:
        x, y: samples (N, dx) and (N, dy).
        bias_correction: subtract the exact Gaussian-data bias.
        ridge: the shrinkage (0: none).

    Returns:
        The MI estimate, in nats.
    """
    x, y = _paired(x, y)
    ridge = require_float_in(ridge, "ridge", 0.0)
    rho, dx, dy = _cca(x, y, ridge)
    n = x.shape[0]
    require(n > dx + dy + 1, "x", f"more samples than dx + dy + 1 = {dx + dy + 1}", n)
    plug_in = float(theory.gaussian_mi_from_correlations(rho))
    return plug_in - wishart_mi_bias(n, dx, dy) if bias_correction else plug_in


# ---------------------------------------------------------------- KSG


def ksg(x: Any, y: Any, k: int = 3, *, whiten: bool = False) -> float:
    """Joint KSG mutual information (algorithm 1, max-norm), in nats.

    Each column of x and y is standardized first (zero mean, unit variance): the max-norm mixes
    coordinates, so their scales must be comparable. `whiten=True` goes further and whitens each
    block (an invertible linear map, MI unchanged), which removes most of the bias when the
    columns within x or within y are strongly correlated. For each sample, eps_i is the max-norm
    distance to its k-th neighbour in the joint space; n_x(i), n_y(i) count the other samples
    strictly closer than eps_i in each marginal space; I = psi(k) + psi(N) - <psi(n_x+1) +
    psi(n_y+1)>. Low bias for d <= ~3 (within 10% of exact Gaussian MI at N = 8000 in our tests);
    badly biased low above ~10 dimensions: a 32-d Gaussian with true MI 2.30 nats spread over 32
    equal canonical correlations is estimated at 0.30 with N = 5000, k = 5 (claims.md quotes 0.71
    for a similar setting). Cost grows steeply with dimension (k-d trees degrade to brute force).
    Duplicate samples make eps_i = 0: add noise first (`with_noise`). Negative estimates are
    returned as they are.

    Args:
        x, y: samples (N, dx) and (N, dy).
        k: the neighbour count.
        whiten: whiten each block first.

    Returns:
        The MI estimate, in nats.
    """
    x, y = _paired(x, y)
    n = x.shape[0]
    k = require_int_in(k, "k", 1, n - 1)
    prepare = _whiten if whiten else _standardize
    xs, ys = prepare(x), prepare(y)
    joint = np.hstack([xs, ys])
    eps = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, -1]  # k+1: the point itself
    require(
        bool(np.all(eps > 0)),
        "x, y",
        "free of duplicate samples (add noise with with_noise)",
        f"{int(np.sum(eps == 0))} samples with a zero k-NN distance",
    )
    nx, ny = _count_strictly_within(xs, eps), _count_strictly_within(ys, eps)
    return float(digamma(k) + digamma(n) - np.mean(digamma(nx + 1) + digamma(ny + 1)))


def _count_strictly_within(z: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Number of other samples at max-norm distance < radius[i] from sample i."""
    inside = np.nextafter(radius, 0.0)  # cKDTree counts <= r; KSG needs strictly <
    counts = cKDTree(z).query_ball_point(z, r=inside, p=np.inf, return_length=True)
    return np.asarray(counts) - 1  # minus the sample itself


# ---------------------------------------------------------------- InfoNCE


@dataclass(frozen=True)
class InfoNCEResult:
    """An InfoNCE estimate: a lower bound on I(X;Y) that can never exceed `cap` = log(batch)."""

    value: float  # nats, mean over held-out batches
    cap: float  # log(batch_size)
    saturated: bool  # value within `margin` of the cap: the true MI may be far larger
    stderr: float  # standard error over the held-out batches
    batch_size: int
    margin: float

    def __float__(self) -> float:
        return self.value


def infonce(
    x: Any,
    y: Any,
    *,
    batch_size: int = 512,
    steps: int = 400,
    lr: float = 0.05,
    critic: str = "quadratic",
    hidden: int = 64,
    eval_fraction: float = 0.5,
    margin: float | None = None,
    seed: int = 0,
) -> InfoNCEResult:
    """InfoNCE lower bound on I(X;Y) with a learned critic, trained with torch on CPU (float64).

    Each variable is whitened first (an invertible linear map, so the MI is unchanged; it keeps
    the critic's optimization well-conditioned). The critic is trained with Adam (cosine-decayed
    `lr`) for `steps` minibatches of `batch_size` drawn from the first (1 - eval_fraction) of a
    seeded shuffle; the bound
    log K + mean_i [f(x_i, y_i) - logsumexp_j f(x_i, y_j)] is then averaged over disjoint
    held-out batches of size K = batch_size, so the estimate is a lower bound in expectation
    (up to its `stderr`). Critics: "quadratic" f = x^T W y + y^T M y (contains the optimal critic
    log p(y|x)/p(y) + c(x) of jointly Gaussian data, zero-initialized) or "mlp" (separable
    g(x)^T h(y), two-layer tanh networks of width `hidden`). `saturated` is True when the value is
    within `margin` (default 10% of the cap) of log K: then it says only I >= value.
    Finite-sample cost: a critic with p parameters fitted on N_train samples loses about
    p / (2 N_train) nats on held-out data, so weak MI in high dimension is underestimated
    (d = 32, I = 0.5: about 0.44 with N = 20000). Runs torch on one thread (reproducible).

    Args:
        x, y: samples (N, dx) and (N, dy).
        batch_size, steps, lr: the critic's training (K = batch_size).
        critic, hidden: the critic ("quadratic" or "mlp", and the mlp's width).
        eval_fraction: the share of samples held out for the bound.
        margin: the saturation margin below log K (default 10% of it).
        seed: the shuffle's and the critic's seed.

    Returns:
        An InfoNCEResult (value, cap, saturated, stderr).
    """
    x, y = _paired(x, y)
    batch_size = require_int_in(batch_size, "batch_size", 2)
    steps = require_int_in(steps, "steps", 1)
    eval_fraction = require_float_in(eval_fraction, "eval_fraction", 0.0, 1.0, open_low=True)
    require(critic in _CRITICS, "critic", f"one of {sorted(_CRITICS)}", critic)
    cap = float(np.log(batch_size))
    margin = 0.1 * cap if margin is None else require_float_in(margin, "margin", 0.0)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = (torch.from_numpy(_whiten(a)) for a in (x, y))
    train, held_out = _split(xt.shape[0], eval_fraction, batch_size, gen)
    with _single_thread():
        f = _CRITICS[critic](xt.shape[1], yt.shape[1], hidden, gen)
        _train_critic(f, xt[train], yt[train], batch_size, steps, lr, gen)
        per_batch = _held_out_bounds(f, xt[held_out], yt[held_out], batch_size)
    value = float(per_batch.mean())
    stderr = float(per_batch.std(ddof=1) / np.sqrt(per_batch.size)) if per_batch.size > 1 else np.inf
    return InfoNCEResult(value, cap, value >= cap - margin, stderr, batch_size, margin)


@contextmanager
def _single_thread():
    """Run torch on one thread: the same numbers whatever the machine's thread count, and no
    oversubscription on a busy 2-core machine (the matrices here are small)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _split(n: int, eval_fraction: float, batch_size: int, gen: torch.Generator):
    """Seeded shuffle split into training and held-out indices; each part holds >= one batch."""
    order = torch.randperm(n, generator=gen)
    n_eval = int(round(eval_fraction * n))
    require(
        n_eval >= batch_size and n - n_eval >= batch_size,
        "batch_size",
        f"at most the size of each split ({min(n_eval, n - n_eval)} samples)",
        batch_size,
    )
    return order[n_eval:], order[:n_eval]


def _nce_bound(scores: torch.Tensor) -> torch.Tensor:
    """log K + mean(diag - row logsumexp) for a (K, K) critic score matrix."""
    k = scores.shape[0]
    return np.log(k) + (scores.diagonal() - torch.logsumexp(scores, dim=1)).mean()


def _train_critic(f, x, y, batch_size, steps, lr, gen) -> None:
    opt = torch.optim.Adam(f.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    for _ in range(steps):
        idx = torch.randperm(x.shape[0], generator=gen)[:batch_size]
        loss = -_nce_bound(f(x[idx], y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


@torch.no_grad()
def _held_out_bounds(f, x, y, batch_size) -> np.ndarray:
    """The bound on each disjoint held-out batch (a trailing partial batch is left out)."""
    starts = range(0, x.shape[0] - batch_size + 1, batch_size)
    return np.array([float(_nce_bound(f(x[i : i + batch_size], y[i : i + batch_size]))) for i in starts])


class _QuadraticCritic(torch.nn.Module):
    """f(x, y) = exp(s) (x^T W y + y^T M y): the Gaussian density-ratio family (up to c(x)).

    The learnable log-scale s lets the critic reach the large weights, ~1/(1 - rho^2), that
    nearly deterministic relations need within a few hundred Adam steps.
    """

    def __init__(self, dx: int, dy: int, hidden: int, gen: torch.Generator):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(dx, dy, dtype=torch.float64))
        self.m = torch.nn.Parameter(torch.zeros(dy, dy, dtype=torch.float64))
        self.log_scale = torch.nn.Parameter(torch.zeros((), dtype=torch.float64))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        quad_y = ((y @ self.m) * y).sum(dim=1)  # y_j^T M y_j, the same for every row i
        return self.log_scale.exp() * (x @ self.w @ y.T + quad_y[None, :])


class _SeparableMLPCritic(torch.nn.Module):
    """f(x, y) = g(x)^T h(y) with two small tanh networks (seeded initialization)."""

    def __init__(self, dx: int, dy: int, hidden: int, gen: torch.Generator):
        super().__init__()
        self.g = _mlp(dx, hidden, gen)
        self.h = _mlp(dy, hidden, gen)

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.g(x) @ self.h(y).T


def _mlp(d_in: int, width: int, gen: torch.Generator) -> torch.nn.Sequential:
    net = torch.nn.Sequential(torch.nn.Linear(d_in, width), torch.nn.Tanh(), torch.nn.Linear(width, width)).double()
    with torch.no_grad():
        for p in net.parameters():  # seeded N(0, 1/fan_in) init (torch's own init ignores gen)
            fan_in = p.shape[-1]
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) / np.sqrt(fan_in))
    return net


_CRITICS = {"quadratic": _QuadraticCritic, "mlp": _SeparableMLPCritic}


# ---------------------------------------------------------------- noise and the C3 bound


def with_noise(x: Any, noise_std: float, *, seed: int) -> np.ndarray:
    """Return x + Z with Z ~ N(0, noise_std^2 I) independent of x, drawn from `seed`.

    MI between deterministic continuous maps of the same input can be infinite (claims.md C3):
    estimating I(X + Z; Y + Z') with independent noise of stated variance defines a finite
    quantity. `noise_std` is in the units of x (standardize first for a scale-free choice);
    state it beside every estimate. noise_std = 0 returns a float64 copy.

    Args:
        x: the samples.
        noise_std: the noise's standard deviation, in x's units.
        seed: the noise's seed.

    Returns:
        x + Z as float64.
    """
    x = _as_samples(x, "x")
    noise_std = require_float_in(noise_std, "noise_std", 0.0)
    rng = np.random.default_rng(seed)
    return x + noise_std * rng.standard_normal(x.shape)


def _ml_covariance(a: np.ndarray) -> np.ndarray:
    return np.atleast_2d(np.cov(a, rowvar=False, bias=True))


@dataclass(frozen=True)
class CloneBound:
    """The C3 lower bounds on I(X;Y) from the cloning error E = X - f(Y), in nats."""

    logdet_bound: float  # h(X) - (1/2) log((2 pi e)^d det Sigma_E)
    trace_bound: float  # h(X) - (d/2) log(2 pi e D / d), D = mean ||E||^2; <= logdet_bound
    h_x: float  # Gaussian entropy of X's sample covariance
    logdet_cov_e: float
    mse: float  # D
    d: int

    def __float__(self) -> float:
        return self.logdet_bound


def clone_lower_bound(x: Any, y_pred: Any) -> CloneBound:
    """C3 lower bound on I(X;Y) from x (N, d) and y_pred = f(Y) (N, d), the student's prediction.

    h(X) is taken as the Gaussian entropy of X's sample covariance: exact for Gaussian X, and an
    upper bound on h(X) otherwise, so the result is a guaranteed lower bound (up to sampling
    error of the covariances) only for Gaussian X. Sigma_E is the (centered) covariance of
    E = x - y_pred and D its uncentered mean squared norm (the clone MSE summed over features).
    Covariances are maximum-likelihood (divided by N) so that tr Sigma_E <= D exactly and the
    trace form never exceeds the log-det form.

    Args:
        x: the teacher's representation (N, d).
        y_pred: the student's prediction of it (N, d).

    Returns:
        A CloneBound with both forms (log-det and trace) and their terms.
    """
    x, y_pred = _paired(x, y_pred, "y_pred")
    require(y_pred.shape == x.shape, "y_pred", f"the shape of x {x.shape}", y_pred.shape)
    d = x.shape[1]
    err = x - y_pred
    cov_x = _ml_covariance(x)
    require(np.linalg.slogdet(cov_x)[0] > 0, "x", "of nonsingular covariance (h(X) finite)", "a singular covariance")
    h_x = float(theory.gaussian_entropy(cov_x))
    sign, logdet_e = np.linalg.slogdet(_ml_covariance(err))
    logdet_e = float(logdet_e) if sign > 0 else -np.inf
    mse = float(np.mean(np.sum(err**2, axis=1)))
    logdet_bound = float(theory.mi_lower_bound(h_x, logdet_e, d)) if sign > 0 else np.inf
    trace_bound = float(theory.mi_lower_bound_trace(h_x, mse, d)) if mse > 0 else np.inf
    return CloneBound(logdet_bound, trace_bound, h_x, logdet_e, mse, d)
