"""C3 information: a lower bound on I(h_T; h_S) from the cloning error, and Gaussian closed forms.

For a teacher representation X (d-dimensional), a student representation Y and any student map f
(Cover & Thomas, Elements of Information Theory, 2nd ed.: Thm 8.6.5 maximum entropy, Cor. 8.6.2
conditioning and translation):
    h(X | Y) = h(X - f(Y) | Y) <= h(X - f(Y)) <= (1/2) log((2 pi e)^d det Sigma_E),
with Sigma_E the covariance of the cloning error E = X - f(Y). Hence
    I(X; Y) = h(X) - h(X | Y) >= h(X) - (1/2) (d log(2 pi e) + log det Sigma_E)        (log-det form)
            >= h(X) - (d/2) log(2 pi e D / d),   D = E||X - f(Y)||^2                    (trace form)
The second step is AM-GM on the eigenvalues of Sigma_E (log det <= d log(tr/d)) plus
tr Sigma_E <= D; sympy checks the tangent-line inequality behind AM-GM and the sums for small d.
Lowering the clone MSE D raises a lower bound on the mutual information: that is our formal
reading of "activation cloning maximizes the mutual information".

Jointly Gaussian X, Y: I = -(1/2) sum_i log(1 - rho_i^2) over the canonical correlations rho_i,
which equals (1/2) log(det Sigma_X det Sigma_Y / det Sigma); sympy checks this for the scalar case,
a canonical 2+2 block, and invariance under invertible maps of X and Y (which bring any Gaussian
pair to canonical form). A rank-r linear student has at most r nonzero rho_i.

Caveat carried by the claim: MI between deterministic continuous maps of the same input can be
infinite, so the suite estimates a defined surrogate (the Gaussian/CCA MI of the covariance, or
MI with additive Gaussian noise of stated variance) and uses ground truth only for Gaussian data.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from lrkd.theory import symbols as S
from lrkd.theory.claims import Claim, SymbolInfo
from lrkd.theory.numeric import is_torch, numpy_function, torch_function
from lrkd.theory.proofs import is_identity, is_nonnegative

d, D, h_x, logdet_cov_e, rho = S.d, S.D, S.h_x, S.logdet_cov_e, S.rho
logdet = sp.Symbol("logdet", real=True)  # log det of a covariance

TWO_PI_E = 2 * sp.pi * sp.E
GAUSSIAN_ENTROPY = (d * sp.log(TWO_PI_E) + logdet) / 2  # h(N(0, Sigma)), nats
MI_LOGDET_BOUND = h_x - (d * sp.log(TWO_PI_E) + logdet_cov_e) / 2
MI_TRACE_BOUND = h_x - d / 2 * sp.log(TWO_PI_E * D / d)
GAUSSIAN_MI_TERM = -sp.log(1 - rho**2) / 2  # one canonical pair


# -- derivation checks -------------------------------------------------------------------------
def check_tangent_line() -> bool:
    """log x <= log mu + (x - mu)/mu for all x, mu > 0: the gap is 0 with zero slope at x = mu
    and convex (second derivative 1/x^2 > 0), so it is >= 0. This is Jensen for log, i.e. AM-GM."""
    x, mu = sp.symbols("x mu", positive=True)
    gap = sp.log(mu) + (x - mu) / mu - sp.log(x)
    return (
        is_identity(gap.subs(x, mu), 0)
        and is_identity(sp.diff(gap, x).subs(x, mu), 0)
        and is_nonnegative(sp.diff(gap, x, 2))
    )


def check_amgm(dim: int) -> bool:
    """sum_i log(lambda_i) <= dim * log(mean lambda) for dim positive eigenvalues.

    Summing the tangent-line inequality at mu = mean(lambda) leaves sum_i (lambda_i - mu)/mu,
    which sympy shows is exactly 0; for dim = 2 the gap is also shown directly as a square.
    """
    lam = sp.symbols(f"lambda0:{dim}", positive=True)
    mu = sum(lam) / dim
    leftover = sum((x - mu) / mu for x in lam)
    if not (check_tangent_line() and is_identity(leftover, 0)):
        return False
    if dim == 2:  # mean^2 - product = (lambda0 - lambda1)^2 / 4
        return is_identity(mu**2 - lam[0] * lam[1], (lam[0] - lam[1]) ** 2 / 4)
    return True


def check_trace_form_weaker() -> bool:
    """The trace form is <= the log-det form whenever log det Sigma_E <= d log(D/d)."""
    slack = sp.Symbol("slack", nonnegative=True)  # d log(D/d) - log det Sigma_E >= 0
    difference = MI_LOGDET_BOUND - MI_TRACE_BOUND
    return is_identity(difference.subs(logdet_cov_e, d * sp.log(D / d) - slack), slack / 2)


def _gaussian_mi_from_covariances(sigma: sp.Matrix, dx: int) -> sp.Expr:
    sx, sy = sigma[:dx, :dx], sigma[dx:, dx:]
    return sp.log(sx.det() * sy.det() / sigma.det()) / 2


def check_gaussian_scalar(term: sp.Expr = GAUSSIAN_MI_TERM) -> bool:
    """(1/2) log(var_x var_y / det Sigma) = term = -(1/2) log(1 - rho^2) for a scalar pair."""
    sx, sy = sp.symbols("s_x s_y", positive=True)
    sigma = sp.Matrix([[sx**2, rho * sx * sy], [rho * sx * sy, sy**2]])
    return is_identity(
        sp.expand_log(_gaussian_mi_from_covariances(sigma, 1), force=True), sp.expand_log(term, force=True)
    )


def check_gaussian_canonical_block(term: sp.Expr = GAUSSIAN_MI_TERM) -> bool:
    """For X, Y in R^2 with identity covariances and cross-covariance diag(rho_1, rho_2)."""
    r1, r2 = sp.symbols("rho_1 rho_2", nonnegative=True)
    cross = sp.diag(r1, r2)
    sigma = sp.BlockMatrix([[sp.eye(2), cross], [cross, sp.eye(2)]]).as_explicit()
    closed = term.subs(rho, r1) + term.subs(rho, r2)
    return is_identity(
        sp.expand_log(_gaussian_mi_from_covariances(sigma, 2), force=True), sp.expand_log(closed, force=True)
    )


def check_gaussian_invariance() -> bool:
    """The log-det ratio is unchanged by X -> A X, Y -> B Y (A, B invertible 2 x 2), so any
    Gaussian pair reduces to canonical form (CCA) and the closed form applies.

    Checked as three polynomial identities: each block's determinant and the joint one pick up
    det(A)^2, det(B)^2 and (det A det B)^2, which cancel in det S_X det S_Y / det S.
    """
    A = sp.Matrix(2, 2, sp.symbols("a0:4"))
    B = sp.Matrix(2, 2, sp.symbols("b0:4"))
    sigma = sp.Matrix(4, 4, lambda i, j: sp.Symbol(f"s{min(i, j)}{max(i, j)}"))
    moved = sp.diag(A, B) * sigma * sp.diag(A, B).T
    det = lambda x: x.det(method="berkowitz")  # noqa: E731
    scale_x, scale_y = A.det() ** 2, B.det() ** 2
    return all(
        sp.expand(lhs - rhs) == 0
        for lhs, rhs in (
            (det(moved[:2, :2]), scale_x * det(sigma[:2, :2])),
            (det(moved[2:, 2:]), scale_y * det(sigma[2:, 2:])),
            (det(moved), scale_x * scale_y * det(sigma)),
        )
    )


# -- claims ------------------------------------------------------------------------------------
_HX = SymbolInfo("h_x", h_x, "differential entropy h(X) of the teacher representation, nats", "h_x real", None, "h(X)")
_D_WIDTH = SymbolInfo("d", d, "dimension of the teacher representation X", "d >= 1 (integer)")

_MI_ASSUMPTIONS = (
    "X = h_T (teacher representation, d-dimensional), Y = h_S (student), f the student's map to "
    "teacher space (the LRC output projection); X has a density so that h(X) is finite",
    "exact statement for the true mutual information with the true h(X); max-entropy step: "
    "h(X - f(Y)) <= Gaussian entropy of Sigma_E (Cover & Thomas Thm 8.6.5)",
    "with Gaussian surrogates (h_x from the covariance of X, I the Gaussian/CCA MI of the joint "
    "covariance) it holds when f is affine or the data are jointly Gaussian",
    "caveat: MI between deterministic continuous maps of the same input can be infinite; the suite "
    "estimates the Gaussian/CCA MI of the covariance or MI with additive Gaussian noise of stated "
    "variance, and uses exact MI only for jointly Gaussian synthetic data",
)

MUTUAL_INFORMATION = Claim(
    id="mutual_information",
    title=(
        "C3 information: activation cloning raises I(h_T; h_S) above both controls; the clone-error lower bound holds"
    ),
    wording=(
        "Furthermore, we provide an information-theoretic analysis of the activation cloning "
        "mechanism, revealing its role in maximizing the mutual information between the "
        "teacher's and student's intermediate representations."
    ),
    reading=(
        "Our reading of the abstract: I(h_T; h_S) >= h(h_T) - (1/2) log((2 pi e)^d det Sigma_E), "
        "Sigma_E the covariance of the clone error h_T - f(h_S); minimizing the clone loss raises "
        "this lower bound (not the MI itself: the MI is not monotone in the clone MSE). validate/ "
        "checks the bound, then reads 'maximizes' as a comparison at equal steps: a student trained "
        "with the clone loss on a hidden activation that is not the teacher's output has higher "
        "MI with the teacher than both controls, noisy labels and KD on the clean outputs."
    ),
    expr=MI_LOGDET_BOUND,
    symbols=(
        _HX,
        SymbolInfo(
            "logdet_cov_e",
            logdet_cov_e,
            "log det Sigma_E of the clone-error covariance",
            "logdet_cov_e real",
            None,
            r"\log\det\Sigma_E",
        ),
        _D_WIDTH,
    ),
    kind="lower_bound",
    assumptions=_MI_ASSUMPTIONS,
    source=(
        "Abstract: 'an information-theoretic analysis of the activation cloning mechanism, "
        "revealing its role in maximizing the mutual information'. Rests on Cover & Thomas "
        "(2006) Thm 8.6.5 (Gaussian maximizes entropy) and I = h(X) - h(X|Y)."
    ),
    paper=True,
    measured="I(h_T; h_S): exact for jointly Gaussian data, else the Gaussian/CCA MI of the "
    "covariance (or MI with added Gaussian noise of stated variance)",
    measured_symbol="I",
    measured_latex="I(h_T; h_S)",
)

MUTUAL_INFORMATION_TRACE = Claim(
    id="mutual_information_trace",
    title="C3 trace form: I(h_T; h_S) >= h(X) - (d/2) log(2 pi e D/d), D the clone MSE",
    reading=(
        "The looser trace form of the C3 bound, in terms of the clone loss D = E||X - f(Y)||^2 "
        "only (AM-GM on the eigenvalues of Sigma_E and tr Sigma_E <= D)."
    ),
    expr=MI_TRACE_BOUND,
    symbols=(_HX, SymbolInfo("D", D, "clone error E||h_T - f(h_S)||^2 (sum over the d coordinates)"), _D_WIDTH),
    kind="lower_bound",
    assumptions=_MI_ASSUMPTIONS,
    source="Follows from the log-det form by AM-GM (checked in theory.information.check_amgm).",
    measured="I(h_T; h_S) as for mutual_information",
    measured_symbol="I",
    measured_latex="I(h_T; h_S)",
)


# -- numbers -----------------------------------------------------------------------------------
def gaussian_entropy(cov):
    """Differential entropy (nats) of N(0, cov); cov (..., d, d) symmetric positive definite,
    batched; numpy or torch. log det comes from a Cholesky factor, which also checks definiteness."""
    if is_torch(cov):
        import torch

        chol, status = torch.linalg.cholesky_ex(cov)
        if bool(torch.any(status != 0)):
            raise ValueError("gaussian_entropy: cov must be symmetric positive definite")
        value = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        return _entropy_from_logdet(cov.shape[-1], value)
    cov = np.asarray(cov, dtype=np.float64)
    if cov.ndim < 2 or cov.shape[-1] != cov.shape[-2]:
        raise ValueError(f"gaussian_entropy: cov must have shape (..., d, d); got {cov.shape}")
    if not np.allclose(cov, np.swapaxes(cov, -1, -2), rtol=1e-10, atol=1e-12):
        raise ValueError("gaussian_entropy: cov must be symmetric")
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError("gaussian_entropy: cov must be symmetric positive definite") from None
    value = 2 * np.sum(np.log(np.diagonal(chol, axis1=-2, axis2=-1)), axis=-1)
    return np.asarray(_entropy_from_logdet(cov.shape[-1], value), dtype=np.float64)[()]


def _entropy_from_logdet(dim: int, logdet_value):
    """GAUSSIAN_ENTROPY at d = dim and the given log det (numpy arrays or torch tensors)."""
    if is_torch(logdet_value):
        return torch_function(GAUSSIAN_ENTROPY, (d, logdet))(float(dim), logdet_value)
    return numpy_function(GAUSSIAN_ENTROPY, (d, logdet))(float(dim), logdet_value)


def mi_lower_bound(h_x, logdet_cov_e, d):
    """h_x - (1/2)(d log(2 pi e) + logdet_cov_e): the C3 log-det lower bound (nats)."""
    return MUTUAL_INFORMATION.bound(h_x=h_x, logdet_cov_e=logdet_cov_e, d=d)


def mi_lower_bound_trace(h_x, D, d):
    """h_x - (d/2) log(2 pi e D/d): the C3 trace-form lower bound (nats)."""
    return MUTUAL_INFORMATION_TRACE.bound(h_x=h_x, D=D, d=d)


def gaussian_mi_from_correlations(rho):
    """-(1/2) sum log(1 - rho^2) over the last axis (nats); |rho| = 1 gives inf."""
    values = np.asarray(rho, dtype=np.float64)
    if values.ndim == 0:
        raise ValueError("gaussian_mi_from_correlations: rho must have at least one axis")
    if np.any(np.isnan(values)) or np.any(np.abs(values) > 1):
        raise ValueError("gaussian_mi_from_correlations: every rho must be in [-1, 1]")
    with np.errstate(divide="ignore"):
        terms = numpy_function(GAUSSIAN_MI_TERM, (S.rho,))(values)
    return np.asarray(np.sum(terms, axis=-1), dtype=np.float64)[()]


def gaussian_mi_from_covariance(cov, dx: int):
    """(1/2)(log det Sigma_X + log det Sigma_Y - log det Sigma) for a joint covariance (..., d, d)
    whose first dx coordinates are X: the Gaussian/CCA MI (nats)."""
    cov = np.asarray(cov, dtype=np.float64)
    if not 0 < dx < cov.shape[-1]:
        raise ValueError(f"gaussian_mi_from_covariance: dx must be in [1, {cov.shape[-1] - 1}]; got {dx}")
    parts = (cov[..., :dx, :dx], cov[..., dx:, dx:], cov)
    hx, hy, hxy = (gaussian_entropy(p) for p in parts)
    return np.asarray(hx + hy - hxy, dtype=np.float64)[()]
