"""Calibration: planted claims whose truth is known go through the same machinery.

A verdict machine is only worth trusting if it says "holds" to claims known to be true and
"violated" to claims known to be false. Each planted claim below is a theory.Claim built from a
built-in one (same symbols, same data), checked on an experiment's runs by the same functions the
real claims use, and scored: true claims must come out holds or not_tight, false ones violated.

  planted_c1_true       Ghadimi-Lan bound on the quadratic with exact L, sigma, Delta   (true)
  planted_c1_rate_T2    the same bound claimed at rate 1/T^2 (T -> T^4 inside)          (false)
  planted_gap_true      gap <= 4 sigma^2 r (m+n)/N: twice the reduced-rank gap           (true)
  planted_gap_div100    the paper's generalization bound with its constant / 100       (false)
  planted_rstar_linear  r* = O(N): trivially true since r* <= min(m, n)                  (true)
  planted_rstar_tenth   r* = O(N^(1/10)) for a 1/k spectrum (derived exponent 1/2)       (false)
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import sympy as sp

import theory
from validate import c1, c2, c4
from validate.experiments import Runs
from validate.verdict import Verdict

TRUE_CODES = ("holds", "not_tight")


@dataclass(frozen=True)
class Planted:
    claim: theory.Claim
    experiment: str
    expected: str                        # "true" | "false"
    why: str
    check: Callable[[theory.Claim, Runs], Verdict]


def _convergence_at_rate_t2() -> theory.Claim:
    base = theory.get_claim("convergence")
    t = base.symbol("T")
    return replace(base, id="planted_c1_rate_T2", expr=base.expr.subs(t, t**4), paper=False, claimed=None,
                   title="planted: the C1 bound claimed at rate 1/T^2", wording="")


def _gap_fast_rate() -> theory.Claim:
    return theory.Claim.from_formula(
        "planted_gap_true", "4 * sigma**2 * r * (m + n) / N", kind="upper_bound", rate_variables=("N", "r"),
        title="planted: gap <= 4 sigma^2 r (m+n)/N (twice the reduced-rank gap, true)",
        meanings={"sigma": "label noise", "r": "rank", "m": "outputs", "n": "inputs", "N": "samples"})


def _rstar_claim(id: str, formula: str, title: str) -> theory.Claim:
    return theory.Claim.from_formula(id, formula, kind="exponent", rate_variables=("N",), title=title,
                                     defaults={"C": 1.0})


def planted_claims() -> list[Planted]:
    conv = theory.get_claim("convergence")
    gen = theory.get_claim("generalization")
    return [
        Planted(replace(conv, id="planted_c1_true", paper=False, title="planted: the Ghadimi-Lan bound, exact constants"),
                "c1_quadratic", "true", "Ghadimi & Lan (2013) with the exact L, sigma, Delta of the quadratic", _c1),
        Planted(_convergence_at_rate_t2(), "c1_quadratic", "false",
                "noisy SGD cannot beat O(1/sqrt(T)) stationarity with a constant step", _c1),
        Planted(_gap_fast_rate(), "c2_generalization", "true",
                "the reduced-rank gap is about 2 sigma^2 r (m+n-r)/N", _gap_sigma),
        Planted(gen.with_constant(sp.Rational(1, 100), id="planted_gap_div100"), "c2_generalization", "false",
                "the paper's form sits about 15x above the measured gap, so /100 cuts through it", _gap),
        Planted(_rstar_claim("planted_rstar_linear", "C*N", "planted: r* = O(N)"), "c4_rank", "true",
                "r* <= min(m, n) grows at most linearly", _rank),
        Planted(_rstar_claim("planted_rstar_tenth", "C*N**(1/10)", "planted: r* = O(N^(1/10))"), "c4_rank", "false",
                "for s_k = 1/k, r* grows like N^(1/2)", _rank),
    ]


def _c1(claim, runs: Runs) -> Verdict:
    return c1.convergence_verdict(claim, runs["evidence"], experiment=runs.name)


def _gap(claim, runs: Runs) -> Verdict:
    return c2.gap_verdict(claim, runs["sweep"], experiment=runs.name)


def _gap_sigma(claim, runs: Runs) -> Verdict:
    return c2.gap_verdict(claim, runs["sweep"], experiment=runs.name, columns={"sigma": "noise"})


def _rank(claim, runs: Runs) -> Verdict:
    return c4.rank_verdict(claim, runs["sweep"], experiment=runs.name, spectrum=runs.context["spectrum"],
                           singular_values=runs.context["singular_values"])


def score(planted: Planted, verdict: Verdict) -> Verdict:
    """The verdict with `expected` and `correct` added to its numbers."""
    correct = verdict.code in TRUE_CODES if planted.expected == "true" else verdict.code == "violated"
    numbers = {**verdict.numbers, "expected": planted.expected, "correct": bool(correct), "why": planted.why}
    return replace(verdict, numbers=numbers)


def calibrate(runs_by_experiment: dict[str, Runs]) -> list[Verdict]:
    """Every planted claim whose experiment was run, checked and scored."""
    return [score(p, p.check(p.claim, runs_by_experiment[p.experiment]))
            for p in planted_claims() if p.experiment in runs_by_experiment]


def hit_rate(scored: list[Verdict]) -> tuple[int, int]:
    """(correct, total) over scored planted verdicts."""
    return sum(bool(v.numbers["correct"]) for v in scored), len(scored)
