"""C4 rank selection: r*(N) minimizing approximation + estimation error, derived by sympy.

risk(r) = A(r) + V(r, N), with
  A(r) = integral_r^oo s(k)^2 dk, the continuous form of sum_{k>r} s_k^2 for the teacher spectrum
         s(k) = s_0 k^(-alpha) (power law, alpha > 1/2) or s_0 exp(-beta k) (exponential);
  V    = c r (m+n) / N        ("fast": the parameter-counting rate of least squares, claims.md C2)
       = c r (m+n) / sqrt(N)  ("paper": the abstract's O(r(m+n)/sqrt(n)) read with N).
d risk/d r = -s(r)^2 + dV/dr = 0 is solved with sympy (both sides positive, so it is solved on
the log scale, which has one real root), and the exponent of N in r*(N) is the sympy limit
lim N d log r*/d N. Nothing in the table below is typed in: it is what ``rstar_table()`` returns.

    spectrum      fast                 paper
    power law     N^(1/(2 alpha))      N^(1/(4 alpha))
    exponential   log(N)/(2 beta)      log(N)/(4 beta)      (exponent of N: 0)

Why the continuous A is enough: the discrete risk changes by risk(r) - risk(r-1) = -s_r^2 + c(m+n)/N^p
(V is linear in r), so the discrete optimum is the largest r with s_r^2 >= dV/dr, i.e.
floor of the continuous root, because -dA/dr = s(r)^2 exactly (``check_discrete_condition``). The
values agree too: for a power law the integral test sandwiches the sum between A(r+1) and A(r),
whose ratio tends to 1 (``check_power_law_sum``); for an exponential the sum is geometric and changes
r* only by an N-independent shift (``check_exponential_sum``).

The claim ``optimal_rank`` is the abstract's r* = O(sqrt(N)) (exponent 1/2). ``alpha_matching_claim``
shows which spectrum makes the derived exponent 1/2: alpha = 1 for the fast rate, and for the
paper's own rate alpha = 1/2, outside alpha > 1/2. As an upper bound, r* = O(sqrt(N)) is trivially
true for fixed m, n because r* <= min(m, n).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import sympy as sp

from lrkd.theory import symbols as S
from lrkd.theory.claims import Claim, SymbolInfo
from lrkd.theory.numeric import numpy_function
from lrkd.theory.proofs import is_identity, is_positive, loglog_slope

r, k, N, m, n, c, s0, alpha, beta, C = S.r, S.k, S.N, S.m, S.n, S.c, S.s0, S.alpha, S.beta, S.C

SPECTRA = ("power_law", "exponential")
VARIANCES = ("fast", "paper")
_DECAY = {"power_law": alpha, "exponential": beta}


def _check(spectrum: str, variance: str | None = None) -> None:
    if spectrum not in SPECTRA:
        raise ValueError(f"spectrum must be one of {SPECTRA}; got {spectrum!r}")
    if variance is not None and variance not in VARIANCES:
        raise ValueError(f"variance must be one of {VARIANCES}; got {variance!r}")


def spectrum_expr(spectrum: str) -> sp.Expr:
    """s(k), the k-th singular value of the teacher, as a function of k."""
    _check(spectrum)
    return s0 * k ** (-alpha) if spectrum == "power_law" else s0 * sp.exp(-beta * k)


@lru_cache(maxsize=None)
def approximation_error(spectrum: str) -> sp.Expr:
    """A(r) = integral_r^oo s(k)^2 dk (power law: needs alpha > 1/2)."""
    return sp.simplify(sp.integrate(spectrum_expr(spectrum) ** 2, (k, r, sp.oo), conds="none"))


def variance_term(variance: str) -> sp.Expr:
    """V(r, N) = c r (m+n)/N (fast) or c r (m+n)/sqrt(N) (paper)."""
    _check("power_law", variance)
    return c * r * (m + n) / (N if variance == "fast" else sp.sqrt(N))


def risk_expression(spectrum: str, variance: str) -> sp.Expr:
    """risk(r) = A(r) + V(r, N)."""
    return approximation_error(spectrum) + variance_term(variance)


@lru_cache(maxsize=None)
def rstar_expression(spectrum: str, variance: str) -> sp.Expr:
    """The stationary point r*(N) of the continuous risk: d risk/d r = 0, solved by sympy.

    Raises ValueError if the first-order condition does not have exactly one root or the root
    does not satisfy it.
    """
    _check(spectrum, variance)
    s_r = spectrum_expr(spectrum).subs(k, r)
    slope = sp.diff(variance_term(variance), r)
    # both sides of s(r)^2 = dV/dr are positive: solve it on the log scale
    roots = sp.solve(sp.expand_log(sp.log(s_r**2) - sp.log(slope), force=True), r)
    if len(roots) != 1:
        raise ValueError(f"expected one root for r* ({spectrum}, {variance}); got {roots}")
    root = _log_of_power_to_product(roots[0])
    if not is_identity(sp.diff(risk_expression(spectrum, variance), r).subs(r, root), 0):
        raise ValueError(f"r* = {root} does not solve d risk/d r = 0")
    return root


def _log_of_power_to_product(expr: sp.Expr) -> sp.Expr:
    """log(x**a) -> a*log(x) (valid here: x > 0)."""
    return expr.replace(
        lambda e: isinstance(e, sp.log) and e.args[0].is_Pow, lambda e: e.args[0].exp * sp.log(e.args[0].base)
    )


@lru_cache(maxsize=None)
def rstar_exponent(spectrum: str, variance: str) -> sp.Expr:
    """Exponent of N in r*(N): lim_{N -> oo} N d log r*/d N (0 where r* grows like log N)."""
    return loglog_slope(rstar_expression(spectrum, variance), N)


@lru_cache(maxsize=None)
def rstar_leading(spectrum: str, variance: str) -> sp.Expr:
    """The N-dependence of r*(N) to leading order: N**p, or a * log(N) when p = 0.

    Checked: r*/leading tends to a finite positive constant (power law) or to 1 (logarithmic).
    """
    exact = rstar_expression(spectrum, variance)
    p = rstar_exponent(spectrum, variance)
    if p != 0:
        leading = N**p
    else:
        leading = sp.simplify(sp.limit(exact / sp.log(N), N, sp.oo)) * sp.log(N)
    ratio = sp.limit(exact / leading, N, sp.oo)
    if not (is_positive(ratio) and ratio.is_finite):
        raise ValueError(f"r*/{leading} -> {ratio}, not a finite positive constant")
    return leading


def rstar_table(leading: bool = True) -> dict[str, dict[str, sp.Expr]]:
    """{spectrum: {variance: r*(N)}}: leading order (the claims.md table) or the exact root."""
    pick = rstar_leading if leading else rstar_expression
    return {s: {v: pick(s, v) for v in VARIANCES} for s in SPECTRA}


def rstar_exponent_table() -> dict[str, dict[str, sp.Expr]]:
    """{spectrum: {variance: exponent of N in r*(N)}}."""
    return {s: {v: rstar_exponent(s, v) for v in VARIANCES} for s in SPECTRA}


def check_rstar_candidate(spectrum: str, variance: str, candidate: sp.Expr) -> bool:
    """True if `candidate` solves d risk/d r = 0 exactly (a planted wrong r* must fail)."""
    slope = sp.diff(risk_expression(spectrum, variance), r)
    return is_identity(slope.subs(r, candidate), 0)


def check_minimum(spectrum: str, variance: str) -> bool:
    """d^2 risk/d r^2 > 0 at r*: the stationary point is a minimum."""
    curvature = sp.diff(risk_expression(spectrum, variance), r, 2)
    return is_positive(curvature.subs(r, rstar_expression(spectrum, variance)))


def check_discrete_condition(spectrum: str) -> bool:
    """-dA/dr == s(r)^2 and V is linear in r: the continuous first-order condition is the
    discrete one, risk(r) - risk(r-1) = -s_r^2 + dV/dr."""
    exact_slope = is_identity(-sp.diff(approximation_error(spectrum), r), spectrum_expr(spectrum).subs(k, r) ** 2)
    linear_v = all(sp.diff(variance_term(v), r, 2) == 0 for v in VARIANCES)
    return exact_slope and linear_v


def check_power_law_sum() -> bool:
    """Integral test: A(r+1) <= sum_{k>r} s_k^2 <= A(r) for decreasing s, and A(r+1)/A(r) -> 1."""
    A = approximation_error("power_law")
    return is_identity(sp.limit(A.subs(r, r + 1) / A, r, sp.oo), 1)


def check_exponential_sum() -> bool:
    """The exact sum_{k>r} s0^2 e^(-2 beta k) is a constant multiple of A(r), so its r* differs
    from the integral's by an N-independent shift and has the same log(N) coefficient."""
    j = sp.Symbol("j", integer=True, nonnegative=True)
    x = sp.Symbol("x", positive=True)  # x = exp(-2 beta) < 1
    series = sp.summation(x**j, (j, 0, sp.oo))  # Piecewise((1/(1 - x), |x| < 1), ...)
    geometric = series.args[0][0] if isinstance(series, sp.Piecewise) else series
    exact_sum = s0**2 * sp.exp(-2 * beta * (r + 1)) * geometric.subs(x, sp.exp(-2 * beta))
    factor = sp.simplify(exact_sum / approximation_error("exponential"))
    return factor.free_symbols <= {beta} and r not in factor.free_symbols


def alpha_matching_claim(variance: str, claimed: sp.Expr = sp.Rational(1, 2)) -> list[sp.Expr]:
    """Power-law decays alpha whose derived r* exponent equals the claimed one (1/2)."""
    return sp.solve(sp.Eq(rstar_exponent("power_law", variance), claimed), alpha)


def rstar_value(spectrum: str, variance: str, *, N, m, n, c=1.0, s_0=1.0, alpha=None, beta=None):
    """r*(N) numerically (the continuous stationary point; callers clip to [0, min(m, n)]).

    Pass `alpha` (> 1/2) for a power law, `beta` (> 0) for an exponential spectrum.
    """
    _check(spectrum, variance)
    decay_name = "alpha" if spectrum == "power_law" else "beta"
    decay = alpha if spectrum == "power_law" else beta
    if decay is None:
        raise ValueError(f"rstar_value: {spectrum} needs {decay_name}")
    values = dict(N=N, m=m, n=n, c=c, s_0=s_0, **{decay_name: decay})
    arrays = {key: np.asarray(v, dtype=np.float64) for key, v in values.items()}
    low = 0.5 if decay_name == "alpha" else 0.0
    for key, a in arrays.items():
        floor = low if key == decay_name else 0.0
        if np.any(~(a > floor)):
            raise ValueError(f"rstar_value: parameter '{key}' must be > {floor:g}")
    symbols = (S.N, S.m, S.n, S.c, S.s0, _DECAY[spectrum])  # the keyword names shadow N, m, ...
    out = numpy_function(rstar_expression(spectrum, variance), symbols)(*arrays.values())
    return np.asarray(out, dtype=np.float64)[()]


# -- claim -------------------------------------------------------------------------------------
OPTIMAL_RANK = Claim(
    id="optimal_rank",
    title="C4 rank selection: r* = O(sqrt(N))",
    wording=(
        "Our theoretical results offer principled guidelines for rank selection, mathematically "
        "suggesting an optimal rank $r^* = O(\\sqrt{n})$ where $n$ is the sample size."
    ),
    reading=(
        "Our reading of the abstract: the risk-minimizing rank grows with the sample size as "
        "r*(N) ~ C sqrt(N) (exponent 1/2 of N; the abstract's n is the sample size N). Derived "
        "instead: r* ~ N^(1/(2 alpha)) (fast rate) or N^(1/(4 alpha)) (the paper's rate) for a "
        "power-law spectrum, ~ log N for an exponential one; exponent 1/2 only for the fast rate "
        "with alpha = 1. As an upper bound, O(sqrt(N)) is trivially true for fixed m, n since "
        "r* <= min(m, n)."
    ),
    expr=C * sp.sqrt(N),
    symbols=(
        SymbolInfo("N", N, "number of training samples"),
        SymbolInfo("C", C, "the unspecified constant of the O(.) statement"),
    ),
    kind="exponent",
    assumptions=(
        "risk(r) = A(r) + V(r, N): approximation error A(r) = sum_{k>r} s_k^2 of the teacher "
        "spectrum plus an estimation term V linear in r",
        "r* is located empirically from rank sweeps at several N and its N-exponent fitted with a "
        "confidence interval; compare with 1/2 and with rstar_exponent for the measured spectrum",
        "r* <= min(m, n): the exponent is only visible while r* is below the full rank",
        "in LRC the 'rank' is the student hidden size (1536, 1200, 2048), far below sqrt(N) for billions of tokens",
    ),
    source=(
        "Abstract: 'an optimal rank r* = O(sqrt(n)) where n is the sample size'. Derivation of "
        "r*(N) per spectrum family in theory/rank.py (sympy solve of d risk/d r = 0)."
    ),
    paper=True,
    rate_variables=("N",),
    measured="the empirical risk-minimizing rank r* from a rank sweep at each N",
    measured_symbol="r_star",
    measured_latex="r^*",
    defaults={"C": 1.0},
)


# -- finite size: the rank at which truncating the noisy SVD stops paying ------------------------
# The continuous r* above is the asymptotic story. On a finite grid the empirical r* of reduced-rank
# regression is decided near the noise threshold, where the kept directions are themselves noisy.
# With isotropic inputs, RRR truncates the SVD of the fitted values X W_ols^T = X W_T^T + P_X Z, i.e.
# (after dividing by sqrt(N)) of W_T plus an n x m Gaussian matrix of entry variance sigma^2/N. In
# the spiked-matrix model (Benaych-Georges & Nadakuditi 2012, Adv. Math. 227; Gavish & Donoho 2014,
# IEEE Trans. Inf. Theory 60(8)), in units where the noise matrix has entries of variance
# 1/max(m, n) and aspect b = min(m, n)/max(m, n) <= 1, a signal singular value x > b^(1/4) is seen
# at y with y^2 = (x + 1/x)(x + b/x), and its singular vectors keep squared cosines
# (x^4 - b)/(x^4 + b x^2) and (x^4 - b)/(x^4 + x^2) with the true ones. Keeping that component
# changes the squared error by y^2 - 2 x y c c' (dropping it costs x^2), so it pays exactly above
# the threshold x_c solved below; r* is the number of singular values above it.
x_spike = sp.Symbol("x", positive=True)  # a signal singular value in noise units
b_aspect = sp.Symbol("b", positive=True)  # min(m, n) / max(m, n)


def spiked_observed_sq(x=x_spike, b=b_aspect) -> sp.Expr:
    """y^2: the squared observed singular value of a spike x above the bulk edge."""
    return (x + 1 / x) * (x + b / x)


def spiked_cosines_sq(x=x_spike, b=b_aspect) -> tuple[sp.Expr, sp.Expr]:
    """Squared cosines between the observed and true (left, right) singular vectors of a spike."""
    return (x**4 - b) / (x**4 + b * x**2), (x**4 - b) / (x**4 + x**2)


def spiked_keep_cost(x=x_spike, b=b_aspect) -> sp.Expr:
    """Change of the squared error from keeping a spike's component: y^2 - 2 x y c c'."""
    left, right = spiked_cosines_sq(x, b)
    return spiked_observed_sq(x, b) - 2 * x * sp.sqrt(spiked_observed_sq(x, b) * left * right)


@lru_cache(maxsize=None)
def spiked_threshold_sq() -> sp.Expr:
    """x_c^2, where keeping a spike starts to pay: the positive root of keep_cost(x) = 0.

    keep_cost < 0 <=> y^2 < 4 x^2 c^2 c'^2; since y^2 x^2 = (x^2+1)(x^2+b), this is
    (x^2+1)(x^2+b) < 2 (x^4 - b), a quadratic in x^2 that sympy solves. Checked: the root lies
    above the detection point b^(1/2) (x^4 > b) and zeroes keep_cost; at b = 1 it is 3, Gavish and
    Donoho's 4/sqrt(3) threshold on the observed value.
    """
    u = sp.Symbol("u", positive=True)  # u = x^2
    roots = sp.solve(sp.expand((u + 1) * (u + b_aspect) - 2 * (u**2 - b_aspect)), u)
    root = [q for q in roots if is_positive(q)]
    if len(root) != 1:
        raise ValueError(f"expected one positive root for the spiked threshold; got {roots}")
    threshold = sp.simplify(root[0])
    residual = spiked_keep_cost().subs(x_spike, sp.sqrt(threshold))
    if not (is_identity(residual.subs(b_aspect, 1), 0) and is_identity(threshold.subs(b_aspect, 1), 3)):
        raise ValueError(f"x_c^2 = {threshold} does not zero the keep cost")
    return threshold


def spiked_risks(singular_values, *, m: int, n: int, noise: float, sample_sizes):
    """The two branches of truncated reduced-rank regression in the spiked model, per N.

    Returns (r_trunc, truncated, full): r_trunc(N) = #{k : s_k > x_c sigma sqrt(max(m, n) / (N - n - 1))}
    (at least 1); truncated = its risk, sum_{k <= r} keep_cost(x_k) + sum_k x_k^2 in noise units
    sigma^2 max(m, n)/(N - n - 1); full = the full-rank (OLS) fit's exact expected risk
    sigma^2 m n / (N - n - 1) for Gaussian inputs.
    Args: singular_values of W_T (decreasing), m, n, noise sigma > 0, sample_sizes N > n + 1.
    """
    s = np.asarray(singular_values, dtype=np.float64)
    sizes = np.asarray(sample_sizes, dtype=np.float64)
    if not (noise > 0 and np.all(sizes > n + 1)):
        raise ValueError("spiked_risks: needs noise > 0 and every N > n + 1")
    low, high = min(m, n), max(m, n)
    b = low / high
    x_c = float(sp.sqrt(spiked_threshold_sq()).subs(b_aspect, b))
    cost = numpy_function(spiked_keep_cost(), (x_spike, b_aspect))
    ranks, truncated = [], []
    for size in sizes:
        # W_ols - W_T has rows of covariance sigma^2 (X^T X)^-1, whose mean is I / (N - n - 1) for
        # Gaussian inputs: the effective entry variance of the noise matrix RRR truncates.
        unit = noise**2 * high / (size - n - 1)  # variance unit of the noise matrix, times max(m, n)
        x = s / np.sqrt(unit)
        kept = x[x > x_c]
        ranks.append(max(int(kept.size), 1))
        truncated.append((np.sum(cost(kept, b)) + np.sum(x**2)) * unit)
    full = noise**2 * m * n / (sizes - n - 1)
    return np.asarray(ranks, dtype=np.int64), np.asarray(truncated), full


def spiked_rstar(singular_values, *, m: int, n: int, noise: float, sample_sizes) -> np.ndarray:
    """r*(N) of truncated-SVD reduced-rank regression in the spiked model, with the OLS branch.

    r_trunc(N) from `spiked_risks`; heavy spectral tails make the full-rank fit beat the truncation
    once r* nears min(m, n)/4, and then r* = min(m, n).
    Args: singular_values of W_T (decreasing), m, n, noise sigma > 0, sample_sizes N > n + 1.
    Returns: integer r* per N.
    """
    ranks, truncated, full = spiked_risks(singular_values, m=m, n=n, noise=noise, sample_sizes=sample_sizes)
    return np.where(full < truncated, min(m, n), ranks).astype(np.int64)
