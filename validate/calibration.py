"""Calibration: planted claims whose verdict is known go through the same machinery, and must come out right.

A verdict machine is only worth trusting if it can fail: it must say `holds` to a true claim,
`violated` to a false one just across the boundary, `vacuous` to a true but useless bound,
`inconclusive` when the data cannot decide and `assumptions_not_met` when the run breaks the
claim's premises. Each `Planted` below is a theory.Claim written from its own formula (never a
copy of a production claim), the evidence it is checked on (a source of `sources()`: an
experiment's runs, a seed subset of them, or a small run of its own), the code a correct engine
returns and why.
The checks are the production ones (validate.registry's, validate.c2.gap_verdict), so a
corrupted engine shows up here: tests/validate/test_mutation.py corrupts it on purpose.

Where the truth comes from (theory, not the data):
  C1  SGD on the noisy quadratic has an exactly computable expected trajectory (`expected_sgd`:
      a linear second-moment recursion per eigenvalue, derived here independently of theory/);
      over every grid the suite runs it lies at 0.35-0.39 of the Ghadimi-Lan bound and decays as
      T^(-1/2) asymptotically. Bounds at 0.45x / 0.3x Ghadimi-Lan and 1.2x / 0.85x the exact
      expectation sit just above / just below the truth; rates 0.05 and 0.1 off -1/2 on both
      sides must be told apart.
  C2  the reduced-rank gap is 2 sigma^2 r (m+n-r)/N to leading order (exponent -1 in N); at the
      smallest N of the grids (N = 2 (m + n)) it is up to 1.7x that. A bound of 4 sigma^2 r(m+n)/N
      covers it, 2 sigma^2 r(m+n)/N does not; a constant of 10^4 makes the bound exceed the risk of
      predicting zero everywhere (vacuous).
  C3  the clone-error bound I >= h(X) - (1/2) log((2 pi e)^d det Sigma_E) is a theorem; read as an
      upper bound it is false (the clone error holds the noise of both representations, so
      det Sigma_E > det Sigma_{X|Y}); shifted down by d nats it is true and <= 0 everywhere (vacuous).
  C4  for s_k = 1/k, r* ~ N^(1/2) (fast rate, 1/(2 alpha)); for an exponential spectrum r* ~ log N.

`calibrate` returns one scored Verdict per planted claim; `confusion_matrix` tallies planted truth
(the expected code) against the verdict; `small_runs` is the reduced-size evidence the default
tests use (cached per process, so the calibration and mutation tests share it).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Callable, Iterable, Mapping

import numpy as np
import pandas as pd
import sympy as sp

from lrkd import simulate
from lrkd import theory
from lrkd.simulate.experiments import Runs
from lrkd.simulate.experiments.c1 import C1_QUADRATIC, ConvergenceRuns, QuadraticConfig
from lrkd.simulate.experiments.c2 import C2_GENERALIZATION
from lrkd.simulate.experiments.c3 import C3_INFORMATION
from lrkd.simulate.experiments.c4 import C4_RANK
from lrkd.validate import judge as verdicts  # noqa: F401 (registers the production checks calibration reuses)
from lrkd.validate.registry import check_for, with_evidence
from lrkd.validate.engine.verdict import CODES, Verdict

Check = Callable[[theory.Claim, Runs], Verdict]

# Sources: an experiment's runs (keyed by its name) and variants of them (the name and a suffix).
QUADRATIC, GAP, INFO, RSTAR = C1_QUADRATIC.name, C2_GENERALIZATION.name, C3_INFORMATION.name, C4_RANK.name
QUADRATIC_2SEEDS, QUADRATIC_ADAM, QUADRATIC_BIG_STEP = (
    f"{QUADRATIC}_2seeds",
    f"{QUADRATIC}_adam",
    f"{QUADRATIC}_big_step",
)
GAP_LARGE_N, RSTAR_EXPONENTIAL = f"{GAP}_large_N", f"{RSTAR}_exponential"


# -- planted claims and where their evidence comes from -------------------------------------------
@dataclass(frozen=True)
class Planted:
    """One planted claim: the claim, the evidence it reads, the verdict a correct engine gives.

    expected: the code that is right; also: other codes that are right too (each justified in
    `why`: e.g. a claim the grid may or may not be able to resolve). `source` names an entry of
    `sources()` (an experiment's runs, a seed subset, or a run the planted claim makes itself).
    """

    claim: theory.Claim
    source: str
    expected: str
    why: str
    check: Check
    also: tuple[str, ...] = ()
    paper_claim: str = ""  # the paper's claim it probes (set by planted_claims)

    def __post_init__(self):
        for code in (self.expected, *self.also):
            if code not in CODES:
                raise ValueError(f"planted {self.claim.id}: {code!r} is not a verdict code {CODES}")

    @property
    def accepted(self) -> tuple[str, ...]:
        return (self.expected, *self.also)


def _claim(
    id: str,
    formula: str,
    *,
    kind: str = "upper_bound",
    rates: tuple[str, ...] = (),
    title: str,
    claimed: Mapping[str, float] | None = None,
    free: str | None = None,
    real: tuple[str, ...] = (),
) -> theory.Claim:
    """A planted claim from its formula; `free` names the unstated constant of an O(.) claim and
    `real` the symbols that may be <= 0 (entropies, log-determinants); the rest are positive."""
    extra = {"free_constant": free, "defaults": {free: 1.0}} if free else {}
    claim = theory.Claim.from_formula(
        id, formula, kind=kind, rate_variables=rates, title=f"planted: {title}", claimed=claimed, paper=False, **extra
    )
    real = [n for n in real if n in claim.symbol_names]
    if not real:
        return claim
    symbols = tuple(
        theory.SymbolInfo(s.name, sp.Symbol(s.name, real=True)) if s.name in real else s for s in claim.symbols
    )
    return replace(
        claim, symbols=symbols, expr=claim.expr.subs({claim.symbol(n): sp.Symbol(n, real=True) for n in real})
    )


# -- C1: the exact expected SGD trajectory on the noisy quadratic -------------------------------------
def expected_sgd(eigenvalues, start_sq, noise_var: float) -> sp.Expr:
    """E[(1/T) sum_{t<T} ||grad f(x_t)||^2] for SGD x_{t+1} = x_t - eta (H x_t + xi_t) on
    f = x^T H x / 2, H = diag(eigenvalues), E xi xi^T = (noise_var/d) I, with the C1 step rule
    eta = min(1/L, sqrt(2 Delta/(L sigma^2 T))) = 1/max(L, sigma sqrt(L T/(2 Delta))).

    Per coordinate v_{t+1} = q v_t + eta^2 noise_var/d with q = (1 - eta h)^2, so
    sum_{t<T} v_t = v_0 S + (eta^2 noise_var/d)(T - S)/(1 - q), S = (1 - q^T)/(1 - q), and
    E||grad f(x_t)||^2 = sum_i h_i^2 v_{t,i}. Symbols T, L, sigma, Delta stay free (they are the
    columns the C1 check binds); the eigenvalues and start are this quadratic's numbers.
    """
    T, L, sigma, Delta = sp.symbols("T L sigma Delta", positive=True)
    eta = 1 / sp.Max(L, sigma * sp.sqrt(L * T / (2 * Delta)))
    d = len(eigenvalues)
    total = 0
    for h, v0 in zip(eigenvalues, start_sq):
        h, v0 = sp.nsimplify(h), sp.nsimplify(v0)
        q = (1 - eta * h) ** 2
        s = (1 - q**T) / (1 - q)
        total += h**2 * (v0 * s + eta**2 * sp.nsimplify(noise_var) / d * (T - s) / (1 - q))
    return total / T


@lru_cache(maxsize=None)
def _quadratic() -> simulate.Quadratic:
    """The quadratic of the c1_quadratic experiment (QuadraticConfig's defaults; no preset changes it)."""
    return QuadraticConfig().problem()


@lru_cache(maxsize=None)
def _expected_expr() -> sp.Expr:
    q = _quadratic()
    return expected_sgd(q.eigenvalues, tuple(q.x0**2), q.sigma**2)


def _expected_claim(id: str, factor: float, title: str) -> theory.Claim:
    expr = sp.nsimplify(factor) * _expected_expr()
    symbols = tuple(theory.SymbolInfo(s.name, s) for s in sorted(expr.free_symbols, key=str))
    return theory.Claim(
        id=id,
        expr=expr,
        symbols=symbols,
        kind="upper_bound",
        rate_variables=("T",),
        claimed={"T": sp.Rational(-1, 2)},
        title=f"planted: {title}",
        paper=False,
    )


GHADIMI_LAN = "4*L*Delta/(T) + 2*sigma*sqrt(2*L*Delta/(T))"  # claims.md C1, with eta = min(1/L, eta*)


def _gl(id: str, title: str, *, factor: str = "1", t: str = "T") -> theory.Claim:
    """Ghadimi & Lan's bound written out again, times `factor`, with T replaced by `t`."""
    return _claim(id, f"({factor})*({GHADIMI_LAN.replace('(T)', f'({t})')})", rates=("T",), title=title)


# -- the checks (the production paths) ---------------------------------------------------------------
def _check(experiment: str, claim_id: str) -> Check:
    """The check the report uses for `claim_id` on `experiment` (looked up when called, so a
    corrupted registry shows), applied to a planted claim."""

    def check(claim, runs):
        return check_for(experiment, claim_id)(claim, runs)

    return check


def _gap(claim, runs) -> Verdict:
    from lrkd.validate.claims import c2

    return c2.gap_verdict(claim, runs["sweep"], experiment=runs.name, columns={"sigma": "noise"})


# The production C1 check reads the broken premises (Adam, eta > 1/L) from the evidence itself.
C1 = C1_ASSUMPTIONS = _check(QUADRATIC, "convergence")
C3_LOGDET = _check(INFO, "mutual_information")
C3_TRACE = _check(INFO, "mutual_information_trace")
C4 = _check(RSTAR, "optimal_rank")

LOGDET_FORM = "h_x - logdet_cov_e/2 - d*(1 + log(2*pi))/2"  # h(X) - (1/2) log((2 pi e)^d det Sigma_E)
TRACE_FORM = "h_x - d*log(2*pi*exp(1)*D/d)/2"  # h(X) - (d/2) log(2 pi e D/d)
C3_REAL = ("h_x", "logdet_cov_e")  # differential entropy, log-determinant: any sign


def planted_claims() -> list[Planted]:
    """Every planted claim, grouped by the paper's claim it probes."""
    groups = {
        "convergence": _c1_planted,
        "generalization": _c2_planted,
        "mutual_information": _c3_planted,
        "optimal_rank": _c4_planted,
    }
    return [replace(p, paper_claim=claim) for claim, group in groups.items() for p in group()]


def _c1_planted() -> list[Planted]:
    q = QUADRATIC
    return [
        Planted(
            _gl("cal_c1_gl", "Ghadimi-Lan, 4 L Delta/T + 2 sigma sqrt(2 L Delta/T), exact constants"),
            q,
            "holds",
            "Ghadimi & Lan (2013) with the exact L, sigma, Delta of the quadratic: true, and tight in rate "
            "(both bound and expectation decay as T^(-1/2)).",
            C1,
        ),
        Planted(
            _gl("cal_c1_gl_x0.45", "0.45 x Ghadimi-Lan", factor="0.45"),
            q,
            "holds",
            "The exact expectation is at most 0.39 of Ghadimi-Lan on every grid (0.35 at T = 100, rising to "
            "0.39 as T grows): 0.45x still covers it, by 15% or more.",
            C1,
        ),
        Planted(
            _gl("cal_c1_gl_x0.3", "0.3 x Ghadimi-Lan", factor="0.3"),
            q,
            "violated",
            "The exact expectation is at least 0.35 of Ghadimi-Lan: 0.3x cuts through it at every T.",
            C1,
        ),
        Planted(
            _expected_claim("cal_c1_expected_x1.2", 1.2, "1.2 x the exact expected SGD trajectory"),
            q,
            "holds",
            "1.2 times the exact expectation of the measured average: true at every T, 20% above the truth.",
            C1,
        ),
        Planted(
            _expected_claim("cal_c1_expected_x0.85", 0.85, "0.85 x the exact expected SGD trajectory"),
            q,
            "violated",
            "0.85 times the exact expectation: the true mean lies 18% above it at every T.",
            C1,
        ),
        Planted(
            _gl("cal_c1_rate_0.55", "Ghadimi-Lan at rate T^-0.55 (T -> T^1.1)", t="T**(11/10)"),
            q,
            "violated",
            "Noisy SGD with the tuned constant step cannot beat T^(-1/2): the claimed T^(-0.55) is 0.05 too fast "
            "(issue 10's false claim).",
            C1,
        ),
        Planted(
            _gl("cal_c1_rate_0.45", "Ghadimi-Lan at rate T^-0.45 (T -> T^0.9)", t="T**(9/10)"),
            q,
            "not_tight",
            "Larger than Ghadimi-Lan for T > 1, so true; its rate T^(-0.45) is 0.05 slower than the truth.",
            C1,
        ),
        Planted(
            _claim("cal_c1_O_sqrt", "C*sigma*sqrt(L*Delta/T)", rates=("T",), free="C", title="O(T^-1/2)"),
            q,
            "holds",
            "The expectation decays as T^(-1/2) (both its terms scale so under eta ~ T^(-1/2)).",
            C1,
        ),
        Planted(
            _claim("cal_c1_O_0.6", "C*sigma*sqrt(L*Delta)*T**(-3/5)", rates=("T",), free="C", title="O(T^-0.6)"),
            q,
            "violated",
            "0.1 faster than the true T^(-1/2).",
            C1,
        ),
        Planted(
            _claim("cal_c1_O_0.4", "C*sigma*sqrt(L*Delta)*T**(-2/5)", rates=("T",), free="C", title="O(T^-0.4)"),
            q,
            "not_tight",
            "0.1 slower than the true T^(-1/2): true, not tight.",
            C1,
        ),
        Planted(
            _gl("cal_c1_rate_T2", "Ghadimi-Lan at rate 1/T^2 (T -> T^4)", t="T**4"),
            q,
            "violated",
            "Far too fast for noisy SGD.",
            C1,
        ),
        Planted(
            _gl("cal_c1_gl_2seeds", "Ghadimi-Lan on 2 seeds"),
            QUADRATIC_2SEEDS,
            "inconclusive",
            "A true bound, but 2 seeds give no interval for the exponent (a bootstrap over seeds needs 3): the "
            "rate cannot be confirmed.",
            C1,
        ),
        Planted(
            _claim(
                "cal_c1_O_sqrt_2seeds", "C*sigma*sqrt(L*Delta/T)", rates=("T",), free="C", title="O(T^-1/2) on 2 seeds"
            ),
            QUADRATIC_2SEEDS,
            "inconclusive",
            "True, but 2 seeds cannot bound an exponent.",
            C1,
        ),
        Planted(
            _gl("cal_c1_gl_adam", "Ghadimi-Lan on an Adam run"),
            QUADRATIC_ADAM,
            "assumptions_not_met",
            "The bound is proved for plain SGD; the run used Adam (recorded in its trajectory).",
            C1_ASSUMPTIONS,
        ),
        Planted(
            _gl("cal_c1_gl_big_step", "Ghadimi-Lan with step 1.5/L"),
            QUADRATIC_BIG_STEP,
            "assumptions_not_met",
            "The bound needs eta <= 1/L; the run stepped at 1.5/L (it still converges, "
            "eta < 2/L, so only the premise is broken).",
            C1_ASSUMPTIONS,
        ),
    ]


def _c2_planted() -> list[Planted]:
    s = GAP
    rN = {"N": -1.0}
    return [
        Planted(
            _claim(
                "cal_c2_gap_4x", "4*sigma**2*r*(m+n)/N", rates=("N",), claimed=rN, title="gap <= 4 sigma^2 r (m+n)/N"
            ),
            s,
            "holds",
            "About twice the leading-order gap 2 sigma^2 r(m+n-r)/N; at the grid's smallest N = 2(m+n) the gap is "
            "at most 1.7x that, so it stays covered; its N-exponent -1 is the true one.",
            _gap,
        ),
        Planted(
            _claim(
                "cal_c2_gap_2x", "2*sigma**2*r*(m+n)/N", rates=("N",), claimed=rN, title="gap <= 2 sigma^2 r (m+n)/N"
            ),
            s,
            "violated",
            "Just the leading-order gap (with r(m+n) for r(m+n-r)): at N = 2(m+n) the finite-N gap is 1.4-1.7x "
            "above it for r << m+n.",
            _gap,
        ),
        Planted(
            _claim(
                "cal_c2_gap_vacuous",
                "10000*sigma**2*r*(m+n)/N",
                rates=("N",),
                claimed=rN,
                title="gap <= 10^4 sigma^2 r (m+n)/N",
            ),
            s,
            "vacuous",
            "True (2500x the leading-order gap) but above the risk of predicting zero, ||W_T||_F^2 + m sigma^2, "
            "at every grid point.",
            _gap,
        ),
        Planted(
            _claim("cal_c2_O_paper", "C*r*(m+n)/sqrt(N)", rates=("N",), free="C", title="O(r(m+n)/sqrt(N))"),
            s,
            "not_tight",
            "The gap decays as N^(-1), twice as fast as the paper's N^(-1/2).",
            _gap,
        ),
        Planted(
            _claim("cal_c2_O_fast", "C*r*(m+n)/N", rates=("N",), free="C", title="O(r(m+n)/N)"),
            s,
            "holds",
            "The leading-order gap is exactly N^(-1).",
            _gap,
        ),
        Planted(
            _claim("cal_c2_O_0.9", "C*r*(m+n)/N**(9/10)", rates=("N",), free="C", title="O(r(m+n)/N^0.9)"),
            s,
            "not_tight",
            "0.1 slower than the true N^(-1).",
            _gap,
        ),
        Planted(
            _claim("cal_c2_O_1.5", "C*r*(m+n)/N**(3/2)", rates=("N",), free="C", title="O(r(m+n)/N^1.5)"),
            s,
            "violated",
            "Faster than the true N^(-1) by 1/2.",
            _gap,
        ),
        Planted(
            _claim("cal_c2_O_rank", "C*r", rates=("r",), free="C", title="gap = O(r) at fixed N"),
            s,
            "holds",
            "The gap grows as r (m+n-r): linearly in r for r << m+n. Its local slope over r = 2..16 is below 1 "
            "(the -r^2 term), which only theory's finite-size offset tells from a slower law.",
            _gap,
        ),
        Planted(
            _claim("cal_c2_O_rank_large_N", "C*r", rates=("r",), free="C", title="gap = O(r), N >= 4 (m+n)"),
            GAP_LARGE_N,
            "holds",
            "As cal_c2_O_rank, on the part of the grid where the leading "
            "order of the gap is accurate (N >= 4 (m+n)): the local r-slope is about 0.88 there and only "
            "theory's finite-size offset (-0.12 on ranks 2..16 of m+n = 64) brings it to 1.",
            _gap,
        ),
        Planted(
            _claim("cal_c2_O_sqrt_rank", "C*sqrt(r)", rates=("r",), free="C", title="gap = O(sqrt(r)) at fixed N"),
            s,
            "violated",
            "The sqrt(r) reading (a frozen random LoRA factor) does not fit a trained rank-r "
            "least-squares student, whose gap grows as r(m+n-r), i.e. about r.",
            _gap,
        ),
    ]


def _c3_planted() -> list[Planted]:
    s = INFO
    return [
        Planted(
            _claim(
                "cal_c3_logdet",
                LOGDET_FORM,
                kind="lower_bound",
                real=C3_REAL,
                title="I >= h(X) - log det((2 pi e) Sigma_E)/2",
            ),
            s,
            "holds",
            "The clone-error bound is a theorem (h(X|Y) <= h(X - f(Y)) <= the Gaussian entropy of the "
            "error), and in this experiment cloning raises the MI over both controls.",
            C3_LOGDET,
        ),
        Planted(
            _claim(
                "cal_c3_trace", TRACE_FORM, kind="lower_bound", real=C3_REAL, title="I >= h(X) - (d/2) log(2 pi e D/d)"
            ),
            s,
            "holds",
            "Below the log-det form by AM-GM (det Sigma_E <= (tr Sigma_E/d)^d): also a theorem.",
            C3_TRACE,
        ),
        Planted(
            _claim(
                "cal_c3_as_upper",
                LOGDET_FORM,
                kind="upper_bound",
                real=C3_REAL,
                title="I <= h(X) - log det((2 pi e) Sigma_E)/2",
            ),
            s,
            "violated",
            "The lower bound read as an upper bound: false, since Sigma_E = E(X - Y)(X - Y)^T "
            "carries the noise of both X and Y, so det Sigma_E > det Sigma_{X|Y} and the MI lies above.",
            C3_LOGDET,
        ),
        Planted(
            _claim(
                "cal_c3_vacuous",
                f"{TRACE_FORM} - d",
                kind="lower_bound",
                real=C3_REAL,
                title="the trace-form bound minus d nats",
            ),
            s,
            "vacuous",
            "True (below a theorem) but at or below 0, the trivial lower bound on an MI, everywhere: the bound "
            "itself stays under d nats (one per dimension) at these sizes.",
            C3_TRACE,
        ),
        Planted(
            _claim(
                "cal_c3_no_gain", LOGDET_FORM, kind="lower_bound", real=C3_REAL, title="cloning does not raise the MI"
            ),
            s,
            "violated",
            "The opposite of C3 on a deep linear teacher, where cloning the hidden activation "
            "raises the exact MI over both controls (noisy labels, clean-output KD) at equal steps.",
            _c3_opposite,
        ),
        Planted(
            _c3_comparison("cal_c3_clone_beats_kd"),
            s,
            "holds",
            "KD on the clean outputs constrains h_S only through W_2 (4 x 16): the student's hidden state in "
            "W_2's 12-dimensional null space keeps its initialization, which the clone term pins to h_T; "
            "measured exact gain about +1.0 nats with a seed interval about 0.1 wide.",
            _c3_comparison_check,
        ),
        Planted(
            _c3_comparison("cal_c3_clone_not_above_kd"),
            s,
            "violated",
            "The opposite: cloning does not beat clean-output KD (the label-denoising reading of the "
            "one-layer C3); false on the two-layer teacher for the reason above.",
            _c3_comparison_check,
        ),
    ]


def _c3_comparison(claim_id: str) -> theory.Claim:
    from lrkd.validate.claims import c3

    return c3.planted_claim(claim_id)


def _c3_comparison_check(claim, runs) -> Verdict:
    """Cloning (KD + clone) against clean-output KD alone, in the claim's sense (validate.c3)."""
    from lrkd.validate.claims import c3

    return c3.planted_verdict(claim, runs)


def _c3_opposite(claim, runs) -> Verdict:
    """The C3 comparison read in the opposite sense: MI(clone) <= MI(control) for every control."""
    from lrkd.validate.claims import c3

    return c3.comparison_verdict(claim, runs, experiment=runs.name, margin=0.0, claim_sense="not_greater")


def _c4_planted() -> list[Planted]:
    """r* claims. At the quick report's size (m = n = 64, N up to 8192 inside the rank grid) r*
    spans about 1.2 decades, the exponent's resolution (half its interval) is about 0.15-0.25 and
    power and logarithmic growth are not always told apart, so most claims may also come out
    inconclusive there (stated per claim); at m = n = 96 (the default tests) and 128 (the full preset,
    a slow test) each is decided as `expected`, except r* = O(N^0.6), which sits within the
    finite-size slope of the truth."""
    p, e = RSTAR, RSTAR_EXPONENTIAL
    coarse = (
        " At m = n = 64 the grid's resolution is about 0.25 and logarithmic growth is not always excluded, "
        "so inconclusive is right there too."
    )

    def rank(id, exponent, title):
        return _claim(id, f"C*N**({exponent})", kind="exponent", rates=("N",), free="C", title=title)

    return [
        Planted(
            rank("cal_c4_sqrt", "1/2", "r* = O(N^(1/2)), s_k = 1/k"),
            p,
            "holds",
            "Fast rate with s_k = k^(-alpha): r* ~ N^(1/(2 alpha)) = N^(1/2) at alpha = 1. Theory's finite-size "
            "r* climbs faster on these grids (local slope 0.57-0.64), so only its offset makes this hold." + coarse,
            C4,
            also=("inconclusive",),
        ),
        Planted(
            rank("cal_c4_tenth", "1/10", "r* = O(N^(1/10)), s_k = 1/k"),
            p,
            "violated",
            "0.4 below the true 1/2. At m = n = 64 the grid cannot always exclude logarithmic growth "
            "(log N = O(N^0.1)), so inconclusive is right there too.",
            C4,
            also=("inconclusive",),
        ),
        Planted(
            rank("cal_c4_quarter", "1/4", "r* = O(N^(1/4)), s_k = 1/k"),
            p,
            "violated",
            "The paper's-form exponent 1/(4 alpha) against the true 1/2: too slow." + coarse,
            C4,
            also=("inconclusive",),
        ),
        Planted(
            rank("cal_c4_0.4", "2/5", "r* = O(N^0.4), s_k = 1/k"),
            p,
            "violated",
            "0.1 below the true 1/2." + coarse,
            C4,
            also=("inconclusive",),
        ),
        Planted(
            rank("cal_c4_0.6", "3/5", "r* = O(N^0.6), s_k = 1/k"),
            p,
            "not_tight",
            "0.1 above the true 1/2, so true and loose. At m = n = 64 theory's own finite-size r* climbs at "
            "0.57-0.64, so the data cannot separate 0.6 from the truth: holds (consistent) and inconclusive "
            "are right there too; only a verdict calling it false is wrong.",
            C4,
            also=("holds", "inconclusive"),
        ),
        Planted(
            rank("cal_c4_3_4", "3/4", "r* = O(N^(3/4)), s_k = 1/k"),
            p,
            "not_tight",
            "1/4 above the true 1/2: true and loose." + coarse,
            C4,
            also=("inconclusive",),
        ),
        Planted(
            rank("cal_c4_linear", "1", "r* = O(N), s_k = 1/k"),
            p,
            "not_tight",
            "r* grows as N^(1/2), far below N." + coarse,
            C4,
            also=("inconclusive",),
        ),
        Planted(
            rank("cal_c4_exp_quarter", "1/4", "r* = O(N^(1/4)), exponential spectrum"),
            e,
            "not_tight",
            "For s_k = exp(-beta k), r* ~ log(N)/(2 beta): o(N^eps) for every eps > 0, so O(N^(1/4)) is true and "
            "loose; inconclusive is also right where the grid is too short to tell log N from N^(1/4) (a "
            "power law fitted to log N over two decades has slope about 1/ln(N), 0.15-0.2 here).",
            C4,
            also=("inconclusive",),
        ),
    ]


# -- sources: the evidence each planted claim reads ---------------------------------------------------
def sources(runs: Iterable) -> dict:
    """{source name: Runs} built from an experiment's runs: the runs themselves, seed subsets of
    them, and the small runs planted claims make themselves (the Adam and the large-step quadratic).

    Args:
        runs: validate.experiments.Runs of any experiments (the report's, or `small_runs`').

    Returns:
        Every source whose experiment is among `runs` (the first run of an experiment is used; for
        c4_rank the first with a power-law and the first with an exponential spectrum).
    """
    out: dict = {}
    for r in runs:
        key = _source_key(with_evidence(r))
        if key is not None:
            out.setdefault(key, r)
    if GAP in out:
        out[GAP_LARGE_N] = large_n_subset(out[GAP], 4)
    if QUADRATIC in out:
        base = out[QUADRATIC]
        _require_default_quadratic(base)
        out[QUADRATIC_2SEEDS] = seed_subset(base, 2)
        out[QUADRATIC_ADAM] = quadratic_run(base, "Adam", optimizer="adam")
        out[QUADRATIC_BIG_STEP] = quadratic_run(base, "step 1.5/L", step_rule="constant", lr=1.5 / _quadratic().L)
    return out


def _source_key(runs) -> str | None:
    """Which source an experiment's runs can be: the anchors hold for Gaussian reduced-rank data
    (c2), an exact-MI linear teacher (c3) and a planted power-law or exponential spectrum (c4)."""
    if runs.experiment == GAP and runs.label:  # e.g. the bounded-data variant
        return None
    if runs.experiment == INFO and runs.activation != "linear":
        return None
    if runs.experiment == RSTAR:
        spectrum = runs.spectrum.to_dict()
        if spectrum.get("kind") == "power_law":
            return RSTAR if spectrum.get("alpha") == 1 else None  # the anchors are for s_k = 1/k
        return RSTAR_EXPONENTIAL if spectrum.get("kind") == "exponential" else None
    return runs.experiment


def seed_subset(runs, k: int):
    """The same runs restricted to their first k seeds: what a k-seed run of the same config gives,
    since every seed draws its own noise stream (simulate's per-seed generators)."""
    seeds = sorted(runs["evidence"]["seed"].unique())[:k]
    tables = {name: t[t["seed"].isin(seeds)].reset_index(drop=True) if "seed" in t else t for name, t in runs.items()}
    return runs.replace(label=f"{k} seeds", tables=tables)


def large_n_subset(runs, factor: int):
    """The c2 runs restricted to N >= factor (m + n): what a grid starting there gives."""
    sweep = runs["sweep"]
    keep = sweep["n_samples"] >= factor * (sweep["m"] + sweep["n"])
    return runs.replace(label=f"N >= {factor} (m + n)", tables={**runs, "sweep": sweep[keep].reset_index(drop=True)})


def quadratic_run(base, label: str, **train):
    """A small quadratic_sweep of the c1_quadratic problem with other training options (at most 4
    seeds and the 4 smallest budgets of `base`), as c1_quadratic Runs labelled `label`."""
    from lrkd.validate.claims import c1

    steps = sorted(int(t) for t in base["evidence"]["T"].unique())[:4]
    seeds = sorted(int(s) for s in base["evidence"]["seed"].unique())[:4]
    from lrkd.sweep import SerialExecutor

    # four tiny cells: serial, in this process (a worker pool would cost more than the runs)
    traj = simulate.quadratic_sweep(
        _quadratic(),
        steps,
        seeds=seeds,
        device="cpu",
        executor=SerialExecutor(),
        progress=False,
        experiment="calibration.quadratic",
        **train,
    )
    return ConvergenceRuns(
        QUADRATIC, label, {"trajectory": traj, "evidence": c1.quadratic_evidence(traj)}, problem=_quadratic()
    )


def _require_default_quadratic(runs) -> None:
    ev, q = runs["evidence"], _quadratic()
    same = np.allclose(ev["L"], q.L) and np.allclose(ev["Delta"], q.delta) and np.allclose(ev["sigma"], q.sigma)
    if not same:
        raise ValueError(
            "calibration's C1 anchors are derived for QuadraticConfig's default quadratic; "
            "this c1_quadratic run used another one"
        )


# -- scoring -------------------------------------------------------------------------------------------
def score(planted: Planted, verdict: Verdict) -> Verdict:
    """The verdict with `expected`, `accepted`, `correct` and `why` added to its numbers."""
    numbers = {
        **verdict.numbers,
        "expected": planted.expected,
        "accepted": list(planted.accepted),
        "correct": verdict.code in planted.accepted,
        "why": planted.why,
    }
    return replace(verdict, numbers=numbers)


def calibrate(runs, planted: Iterable[Planted] | None = None) -> list[Verdict]:
    """Every planted claim whose evidence is available, checked by the production path and scored.

    Args:
        runs: Runs of experiments (an iterable, or a {name: Runs} dict), or an already built
            `sources()` dict (keys as in Planted.source).
        planted: the planted claims (default `planted_claims()`).

    Returns:
        One scored Verdict per planted claim whose source exists, in planted order.
    """
    built = (
        runs
        if isinstance(runs, dict) and QUADRATIC_2SEEDS in runs
        else sources(runs.values() if isinstance(runs, dict) else runs)
    )
    planted = planted_claims() if planted is None else list(planted)
    with shared_fits():
        return [score(p, p.check(p.claim, built[p.source])) for p in planted if p.source in built]


@contextmanager
def shared_fits():
    """Within the block, validate.checks.fit_mean_power_law computes each distinct fit once.

    Most planted claims read one of a few tables (13 C1 claims, one evidence table), and the fit of
    the measured exponents does not depend on the claim: it is a pure function of the table, the
    rate columns and the measured column (its bootstrap is seeded). Sharing it makes calibration
    several times faster and changes no number. The function is replaced wherever a validate/
    module bound it by name, and restored on exit.
    """
    import sys

    from lrkd.validate.engine import checks

    original = getattr(checks, "fit_mean_power_law", None)
    if original is None:
        yield
        return
    cache: dict = {}

    def fit(df, variables, measured, **options):
        columns = list(dict.fromkeys([*variables, measured, options.get("group", "seed")]))
        key = (
            tuple(variables),
            measured,
            tuple(sorted(options.items())),
            pd.util.hash_pandas_object(df[columns], index=False).to_numpy().tobytes(),
        )
        if key not in cache:
            cache[key] = original(df, variables, measured, **options)
        return cache[key]

    bound = [
        (module, name)
        for mod, module in list(sys.modules.items())
        if mod.startswith("lrkd.validate") and module is not None
        for name, value in list(vars(module).items())
        if value is original
    ]
    for module, name in bound:
        setattr(module, name, fit)
    try:
        yield
    finally:
        for module, name in bound:
            setattr(module, name, original)


def hit_rate(scored: list[Verdict]) -> tuple[int, int]:
    """(correct, total) over scored planted verdicts."""
    return sum(bool(v.numbers["correct"]) for v in scored), len(scored)


def misclassified(scored: list[Verdict]) -> list[str]:
    """'claim: expected X, got Y' for every planted verdict that is wrong."""
    return [
        f"{v.claim}: expected {' or '.join(v.numbers['accepted'])}, got {v.code}"
        for v in scored
        if not v.numbers["correct"]
    ]


def confusion_matrix(scored: list[Verdict]) -> pd.DataFrame:
    """Planted truth (the expected code, rows) x verdict (columns): counts over the six codes.

    A correct engine puts every count on the diagonal, except where a planted claim accepts a
    second code (its `also`) and the engine gave that one.
    """
    table = pd.DataFrame(0, index=pd.Index(CODES, name="planted"), columns=pd.Index(CODES, name="verdict"))
    for v in scored:
        table.loc[v.numbers["expected"], v.code] += 1
    return table


# -- the reduced sizes the default tests use ------------------------------------------------------------
SMALL_SIZES: dict[str, tuple[str, str, dict, int]] = {
    # source key: (experiment, preset, size overrides, seeds per run)
    QUADRATIC: (QUADRATIC, "quick", {"steps": [100, 200, 400, 800, 1600, 3200]}, 6),
    GAP: (GAP, "quick", {"sample_sizes": [128, 256, 512, 1024, 2048]}, 24),
    INFO: (INFO, "quick", {"steps": 300, "lrs": [1e-2, 3e-2], "mi_samples": 1000}, 4),
    # r* needs room to grow before the full-rank fit wins: at m = n = 96 (power law) and 64
    # (exponential) six sizes of N = 512..16384 lie inside the rank grid and the growth law is decided;
    # at the quick report's m = n = 64 the power law often is not (the r* claims accept inconclusive)
    RSTAR: (RSTAR, "quick", {"m": 96, "n": 96, "sample_sizes": [256 * 2**k for k in range(7)]}, 6),
    RSTAR_EXPONENTIAL: (
        RSTAR,
        "quick_exponential",
        {"m": 64, "n": 64, "sample_sizes": [256 * 2**k for k in range(7)]},
        6,
    ),
}


@lru_cache(maxsize=8)
def small_runs(*, seed: int) -> tuple:
    """The experiments calibration reads, at reduced sizes, with seeds offset by `seed` (each
    test seed draws fresh data). Cached per process: the calibration and the mutation tests share
    one computation per seed.

    Returns:
        A tuple of Runs with their evidence tables (pass it to `calibrate` or `sources`).
    """
    from lrkd.simulate.experiments import get_experiment
    from lrkd.sweep import SerialExecutor

    out = []
    for name, preset, sizes, k in SMALL_SIZES.values():
        experiment = get_experiment(name)
        fields = experiment.config_type.__dataclass_fields__
        overrides = {k: v for k, v in sizes.items() if k in fields}
        if k:
            overrides["seeds"] = list(range(100 + seed * k, 100 + (seed + 1) * k))
        elif "seeds" in fields:  # keep the preset's number of seeds, offset by the test seed
            n = len(experiment.config(preset).seeds)
            overrides["seeds"] = list(range(100 + seed * n, 100 + (seed + 1) * n))
        if "device" in fields:
            overrides["device"] = "cpu"
        config = experiment.config(preset, **overrides)
        out.append(with_evidence(experiment.run(config, executor=SerialExecutor(), progress=False)))
    return tuple(out)


__all__ = [
    "Planted",
    "planted_claims",
    "sources",
    "calibrate",
    "score",
    "hit_rate",
    "misclassified",
    "confusion_matrix",
    "small_runs",
    "expected_sgd",
    "seed_subset",
]
