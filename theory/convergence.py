"""C1 convergence: SGD with a tuned constant step reaches O(1/sqrt(T)) stationarity.

Source: Ghadimi & Lan (2013), "Stochastic first- and zeroth-order methods for nonconvex stochastic
programming", SIAM J. Optim. 23(4):2341-2368 (Theorem 2.1 and Corollary 2.2), as restated in
docs/claims.md (C1). The paper's abstract only says "low-rank projection preserves the
optimization dynamics, yielding explicit convergence rates of O(1/sqrt(T))"; the statement below
is our reading of it.

Derivation, each step a function whose result sympy checks:
  1. ``descent_change``: L-smoothness and an unbiased gradient with variance <= sigma^2 give
     E f(P_{t+1}) - f(P_t) <= -eta (1 - L eta/2) G_t + L eta^2 sigma^2 / 2, G_t = ||grad f(P_t)||^2.
  2. ``derive_average_bound``: for eta <= 1/L the coefficient is >= eta/2; telescoping over T steps
     gives (1/T) sum_t E G_t <= 2 Delta/(eta T) + L eta sigma^2 (Ghadimi & Lan's statement).
  3. ``derive_optimal_step``: the minimizer eta* = sqrt(2 Delta/(L sigma^2 T)) (a sympy solve; the
     second derivative is positive there).
  4. ``derive_bound``: with eta = min(1/L, eta*), 1/eta <= L + 1/eta* and eta <= eta*, hence
     min_t E G_t <= 2 L Delta/T + 2 sigma sqrt(2 L Delta/T). The stated bound
     4 L Delta/T + 2 sigma sqrt(2 L Delta/T) (claims.md) is larger by 2 L Delta/T: ``check_bound``.
  5. ``rate_constant``: sqrt(T) * bound -> 2 sigma sqrt(2 L Delta) > 0, so the rate is T^(-1/2).
  6. ``derive_transfer``: for f(P) = g(W_T P), grad f = W_T^T grad g(W_T P) (chain rule, checked by
     sympy), hence L_f <= ||W_T||_2^2 L_g and sigma_f <= ||W_T||_2 sigma_g.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from lrkd.theory import symbols as S
from lrkd.theory.claims import Claim, SymbolInfo
from lrkd.theory.numeric import numpy_function
from lrkd.theory.proofs import is_identity, is_nonnegative, is_positive, positive_root

T, L, sigma, Delta, eta, G = S.T, S.L, S.sigma, S.Delta, S.eta, S.G

#: Ghadimi & Lan's averaged bound, valid for a constant step eta <= 1/L.
STATED_AVERAGE_BOUND = 2 * Delta / (eta * T) + L * eta * sigma**2
#: The bound claims.md states for eta = min(1/L, eta*).
STATED_BOUND = 4 * L * Delta / T + 2 * sigma * sp.sqrt(2 * L * Delta / T)


def descent_change(smoothness_factor: sp.Expr = sp.Rational(1, 2)) -> sp.Expr:
    """Upper bound on E f(P_{t+1}) - f(P_t) for one SGD step, as an expression in G.

    L-smoothness: f(P - eta g) <= f(P) - eta <grad f, g> + smoothness_factor * L eta^2 ||g||^2
    (the descent lemma has smoothness_factor = 1/2); with E g = grad f and
    E||g||^2 <= ||grad f||^2 + sigma^2. The argument exists so a test can plant a wrong lemma.
    """
    inner = G  # E <grad f, g> = ||grad f||^2
    second_moment = G + sigma**2
    return -eta * inner + smoothness_factor * L * eta**2 * second_moment


@lru_cache(maxsize=None)
def derive_average_bound(change: sp.Expr | None = None) -> sp.Expr:
    """(1/T) sum_t E G_t <= ... for eta <= 1/L, derived from the one-step `change` (step 1-2).

    Raises ValueError if the sufficient-decrease coefficient is not provably >= eta/2 on
    (0, 1/L], which is what the telescoping step needs.
    """
    change = descent_change() if change is None else change
    decrease = sp.expand(-change).coeff(G)  # eta (1 - L eta / 2)
    noise = change.subs(G, 0)  # L eta^2 sigma^2 / 2
    v = sp.Symbol("v", nonnegative=True)  # eta = 1/(L (1 + v)) sweeps (0, 1/L]
    if not is_nonnegative((decrease - eta / 2).subs(eta, 1 / (L * (1 + v)))):
        raise ValueError(f"descent coefficient {decrease} is not >= eta/2 for all eta <= 1/L")
    # telescoping: (eta/2) sum_t E G_t <= f(P_0) - E f(P_T) + T noise <= Delta + T noise
    average = sp.solve(sp.Eq(T * (eta / 2) * G, Delta + T * noise), G)[0]
    return sp.simplify(average)


def check_average_bound(candidate: sp.Expr) -> bool:
    """True if `candidate` is exactly the derived averaged bound."""
    return is_identity(candidate, derive_average_bound())


@lru_cache(maxsize=None)
def derive_optimal_step(average: sp.Expr | None = None) -> sp.Expr:
    """eta* minimizing the averaged bound: the positive root of d/d eta = 0 (step 3)."""
    average = derive_average_bound() if average is None else average
    eta_star = positive_root(sp.diff(average, eta), eta)
    if not is_positive(sp.diff(average, eta, 2).subs(eta, eta_star)):
        raise ValueError(f"eta* = {eta_star} is not a minimum of {average}")
    return eta_star


def check_optimal_step(candidate: sp.Expr) -> bool:
    """True if `candidate` is exactly the derived optimal step eta*."""
    return is_identity(candidate, derive_optimal_step())


@lru_cache(maxsize=None)
def step_rule() -> sp.Expr:
    """eta = min(1/L, eta*), written as 1/max(L, 1/eta*), which stays finite at sigma = 0.

    The two forms are checked equal (``check_step_rule``); the numeric rule is generated from
    this one.
    """
    inverse = sp.simplify(1 / derive_optimal_step())  # sigma sqrt(L T / (2 Delta))
    return 1 / sp.Max(L, inverse)


def check_step_rule() -> bool:
    """min(1/L, eta*) == 1/max(L, 1/eta*) for all positive L, eta* (via min/max -> Abs)."""
    x = sp.Symbol("x", positive=True)  # stands for eta*
    as_min = sp.Min(1 / L, x).rewrite(sp.Abs)
    as_max = (1 / sp.Max(L, 1 / x)).rewrite(sp.Abs)
    same_form = is_identity(step_rule(), (1 / sp.Max(L, 1 / x)).subs(x, derive_optimal_step()))
    return is_identity(as_min, as_max) and same_form


@lru_cache(maxsize=None)
def derive_bound(average: sp.Expr | None = None) -> sp.Expr:
    """min_t E G_t at eta = min(1/L, eta*), bounded by a(L + 1/eta*) + b eta* (step 4).

    The averaged bound has the shape a/eta + b eta with a, b >= 0 (checked); then
    1/eta = max(L, 1/eta*) <= L + 1/eta* and eta <= eta*.
    """
    average = derive_average_bound() if average is None else average
    a = sp.simplify(sp.limit(average * eta, eta, 0))
    b = sp.simplify(sp.limit(average / eta, eta, sp.oo))
    if not (is_identity(average, a / eta + b * eta) and is_nonnegative(a) and is_nonnegative(b)):
        raise ValueError(f"averaged bound {average} is not of the form a/eta + b eta, a, b >= 0")
    eta_star = derive_optimal_step(average)
    return sp.simplify(a * (L + 1 / eta_star) + b * eta_star)


def check_bound(candidate: sp.Expr) -> bool:
    """True if sympy proves candidate >= the derived bound for all positive T, L, sigma, Delta."""
    return is_nonnegative(sp.sympify(candidate) - derive_bound())


def rate_constant(expr: sp.Expr = STATED_BOUND) -> sp.Expr:
    """lim_{T -> oo} sqrt(T) * expr: finite and positive means expr = Theta(T^(-1/2))."""
    return sp.simplify(sp.limit(sp.sqrt(T) * expr, T, sp.oo))


@lru_cache(maxsize=None)
def derive_transfer(m: int = 2, n: int = 2, r: int = 1) -> dict[str, sp.Expr]:
    """Constants of f(P) = g(W_T P) from those of g, for W_T of shape m x n and P of n x r.

    Checks with sympy that grad_P g(W P) = W^T grad g(W P) for a generic smooth g of the m*r
    entries of W P. Then ||grad f(P) - grad f(P')|| <= ||W||_2 L_g ||W (P - P')|| <=
    ||W||_2^2 L_g ||P - P'|| and a stochastic gradient W^T (grad g + xi) has noise
    E||W^T xi||^2 <= ||W||_2^2 sigma_g^2. Returns {"L_f": ..., "sigma_f": ...} (upper bounds).
    """
    W = sp.Matrix(m, n, sp.symbols(f"w0:{m * n}", real=True))
    P = sp.Matrix(n, r, sp.symbols(f"p0:{n * r}", real=True))
    Z = sp.Matrix(m, r, sp.symbols(f"z0:{m * r}", real=True))
    g = sp.Function("g")(*Z)
    at_WP = dict(zip(Z, W * P))
    grad_g = Z.applyfunc(lambda z: sp.diff(g, z)).subs(at_WP, simultaneous=True)
    f = g.subs(at_WP, simultaneous=True)
    grad_f = P.applyfunc(lambda p: sp.diff(f, p))
    if (grad_f - W.T * grad_g).doit().applyfunc(sp.simplify) != sp.zeros(n, r):
        raise ValueError("chain rule grad f = W^T grad g(W P) failed")
    return {"L_f": S.W_norm**2 * S.L_g, "sigma_f": S.W_norm * S.sigma_g}


# -- claims ------------------------------------------------------------------------------------
_CONVERGENCE_SYMBOLS = (
    SymbolInfo("T", T, "number of SGD steps", "T > 0 (an integer >= 1 in runs)"),
    SymbolInfo("L", L, "smoothness constant of f in P (Lipschitz constant of grad f)", "L > 0"),
    SymbolInfo(
        "sigma",
        sigma,
        "standard deviation of the stochastic gradient: E||g - grad f||^2 <= sigma^2",
        "sigma >= 0",
        sp.Interval(0, sp.oo),
        r"\sigma",
    ),
    SymbolInfo("Delta", Delta, "initial suboptimality f(P_0) - inf f", "Delta > 0", None, r"\Delta"),
)

CONVERGENCE = Claim(
    id="convergence",
    title="C1 convergence: O(1/sqrt(T)) stationarity of low-rank distillation",
    wording=(
        "We prove that under mild assumptions, low-rank projection preserves the optimization "
        "dynamics, yielding explicit convergence rates of $O(1/\\sqrt{T})$."
    ),
    reading=(
        "Our reading of the abstract (only the abstract is available): SGD on the distillation "
        "objective f(P), with constant step eta = min(1/L, sqrt(2 Delta/(L sigma^2 T))), satisfies "
        "min_{t<T} E||grad f(P_t)||^2 <= 4 L Delta/T + 2 sigma sqrt(2 L Delta/T) = O(T^(-1/2)); "
        "for f(P) = g(W_T P) the constants transfer as L_f <= ||W_T||_2^2 L_g, "
        "sigma_f <= ||W_T||_2 sigma_g."
    ),
    expr=STATED_BOUND,
    symbols=_CONVERGENCE_SYMBOLS,
    kind="upper_bound",
    assumptions=(
        "f is L-smooth (grad f is L-Lipschitz) and bounded below; Delta = f(P_0) - inf f",
        "stochastic gradients are unbiased with variance at most sigma^2",
        "plain SGD with the constant step eta = min(1/L, sqrt(2 Delta/(L sigma^2 T)))",
        "the measured quantity is min over t < T of E||grad f(P_t)||^2 (or the average over t, "
        "which is larger and obeys the same bound)",
        "caveat: stationarity in P says nothing about directions outside the column space of W_T^T",
        "caveat: LRC trains with Adam, warm-up/linear decay and clipping, not plain SGD; deep "
        "networks are not globally L-smooth",
    ),
    source=(
        "Abstract: 'low-rank projection preserves the optimization dynamics, yielding explicit "
        "convergence rates of O(1/sqrt(T))'. Rests on Ghadimi & Lan (2013), SIAM J. Optim. "
        "23(4), Thm 2.1 / Cor 2.2; derivation checked in theory/convergence.py."
    ),
    paper=True,
    rate_variables=("T",),
    measured="min_{t<T} E||grad f(P_t)||^2 of SGD run with the step rule above (seed average)",
    measured_symbol="G_T",
    measured_latex=r"\min_{t<T}\mathbb{E}\|\nabla f(P_t)\|^2",
)

SMOOTHNESS_TRANSFER = Claim(
    id="smoothness_transfer",
    title="C1 transfer: smoothness of f(P) = g(W_T P)",
    reading="L_f <= ||W_T||_2^2 L_g: the low-rank parametrization keeps f smooth, with the "
    "teacher's spectral norm squared as the price.",
    expr=S.W_norm**2 * S.L_g,  # rederived by derive_transfer()["L_f"] (tests check they agree)
    symbols=(
        SymbolInfo(
            "W_norm", S.W_norm, "spectral norm ||W_T||_2 of the teacher weight", "W_norm > 0", None, r"\|W_T\|_2"
        ),
        SymbolInfo("L_g", S.L_g, "smoothness constant of g in its argument W_T P", "L_g > 0"),
    ),
    kind="upper_bound",
    assumptions=("f(P) = g(W_T P) with g L_g-smooth in the Frobenius norm",),
    source="Chain rule and ||W^T v|| <= ||W||_2 ||v||; checked in theory.convergence.derive_transfer.",
    measured="L_f, the largest Hessian eigenvalue of f in P (exact for quadratic g)",
    measured_symbol="L_f",
)


# -- numbers -----------------------------------------------------------------------------------
def _as_checked(name: str, value, owner: str) -> np.ndarray:
    array = np.asarray(value, dtype=np.float64)
    CONVERGENCE.info(name).check(array, owner)
    return array


def optimal_step_size(L, sigma, Delta, T):
    """eta = min(1/L, sqrt(2 Delta/(L sigma^2 T))), vectorized; sigma = 0 gives 1/L."""
    values = {k: _as_checked(k, v, "optimal_step_size") for k, v in dict(L=L, sigma=sigma, Delta=Delta, T=T).items()}
    fn = numpy_function(step_rule(), (S.L, S.sigma, S.Delta, S.T))
    out = np.asarray(fn(*values.values()), dtype=np.float64)
    out = np.array(np.broadcast_to(out, np.broadcast_shapes(*(v.shape for v in values.values()))))
    return out[()] if out.ndim == 0 else out


def convergence_bound(T, L, sigma, Delta):
    """4 L Delta/T + 2 sigma sqrt(2 L Delta/T), the C1 bound (same as the claim's bound)."""
    return CONVERGENCE.bound(T=T, L=L, sigma=sigma, Delta=Delta)


# -- the exact expected trajectory on a noisy quadratic -----------------------------------------
# a T below which the sums of expected_average_grad_norm_sq come from their series (see there)
SERIES_AT = 1e-4


def expected_average_grad_norm_sq(eigenvalues, x0, sigma, eta, T):
    """E[(1/T) sum_{t<T} ||grad f(x_t)||^2] for SGD on f(x) = x^T H x / 2, exactly.

    SGD x_{t+1} = x_t - eta (H x_t + xi_t), H = diag(eigenvalues), xi_t ~ N(0, (sigma^2/d) I_d)
    i.i.d. (the model of simulate.Quadratic). Each coordinate's second moment obeys the linear
    recursion v_{t+1} = a^2 v_t + eta^2 sigma^2/d, a = 1 - eta h, so with q = a^2
        v_t = q^t v_0 + eta^2 (sigma^2/d) (1 - q^t)/(1 - q),
        sum_{t<T} v_t = v_0 S + eta^2 (sigma^2/d) (T - S)/(1 - q),   S = (1 - q^T)/(1 - q),
    and E||grad f(x_t)||^2 = sum_i h_i^2 v_{t,i}. Unlike the Ghadimi-Lan bound this is the
    expectation itself, so its local slope in T on a finite grid is what a correct simulation's
    local slope estimates (the finite-size offset of validate/).

    Args:
        eigenvalues: the diagonal of H (d values >= 0).
        x0: the start (d values).
        sigma: total gradient-noise standard deviation (E||xi||^2 = sigma^2).
        eta: step sizes, broadcast against T (one per budget under the C1 step rule).
        T: step budgets (>= 1).

    Returns:
        float64 array of the broadcast shape of eta and T.
    """
    h = np.asarray(eigenvalues, dtype=np.float64)
    v0 = np.asarray(x0, dtype=np.float64) ** 2
    eta, T = np.broadcast_arrays(np.asarray(eta, dtype=np.float64), np.asarray(T, dtype=np.float64))
    e, t = eta[..., None], T[..., None]
    one_minus_q = e * h * (2.0 - e * h)  # 1 - (1 - eta h)^2 without cancellation
    # S = sum_{t<T} q^t = (1 - q^T)/a and (T - S)/a = sum_{t<T} (1 - q^t)/a, with a = 1 - q computed
    # without cancellation and log q = log1p(-a) from it (log((1 - eta h)^2) loses the digits of a
    # small a: at eta h = 1e-9 it put (T - S)/a 15% off). T - S still cancels, by a relative
    # eps / (a T); where a T < SERIES_AT both are taken from their series in a instead,
    #   S = T - a C(T,2) + a^2 C(T,3),   (T - S)/a = C(T,2) - a C(T,3) + a^2 C(T,4),
    # off by O((a T)^3) relatively: both errors stay near 1e-12 at the switch. (eta h = 1: a = 1,
    # log q = -inf, q^T = 0: the coordinate is solved in one step.)
    a = one_minus_q
    small = np.abs(a) * t < SERIES_AT
    safe = np.where(small, 1.0, a)
    c2, c3, c4 = t * (t - 1) / 2, t * (t - 1) * (t - 2) / 6, t * (t - 1) * (t - 2) * (t - 3) / 24
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_q = np.log1p(-a)
        s = np.where(small, t - a * c2 + a**2 * c3, -np.expm1(t * log_q) / safe)
        noise = e**2 * sigma**2 / h.size
        stationary_part = noise * np.where(small, c2 - a * c3 + a**2 * c4, (t - s) / safe)
    total = np.sum(h**2 * (v0 * s + stationary_part), axis=-1)
    return total / T
