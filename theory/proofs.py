"""Small sympy helpers that turn a derivation step into a checked fact.

Every check here answers True only when sympy *proves* the statement (an expression simplifies to
zero, a sign is decided from the symbols' assumptions, a limit exists); "sympy could not decide"
counts as False. The derivation modules (convergence, generalization, information, rank) use them
so that a wrong step (a dropped factor, a wrong sign) fails a test instead of passing silently.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp


def is_identity(a: sp.Expr, b: sp.Expr) -> bool:
    """True when sympy proves a == b (their difference simplifies to zero)."""
    diff = sp.sympify(a) - sp.sympify(b)
    if diff == 0:
        return True
    for rewrite in (sp.simplify, _expand_everything):
        diff = rewrite(diff)
        if diff == 0 or diff.is_zero is True:
            return True
    return False


def is_nonnegative(expr: sp.Expr) -> bool:
    """True when sympy proves expr >= 0 for every value the symbols' assumptions allow."""
    expr = sp.sympify(expr)
    for form in (expr, sp.simplify(expr), sp.factor(expr), sp.expand(expr)):
        if form.is_nonnegative is True:
            return True
    return False


def is_positive(expr: sp.Expr) -> bool:
    """True when sympy proves expr > 0 for every value the symbols' assumptions allow."""
    expr = sp.sympify(expr)
    return any(f.is_positive is True for f in (expr, sp.simplify(expr), sp.factor(expr)))


def positive_root(equation: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """The unique root of equation == 0 in var that sympy can show is positive.

    Raises ValueError when there is no such root or more than one, so a derivation never picks a
    root silently.
    """
    roots = [sp.simplify(x) for x in sp.solve(equation, var)]
    positive = [x for x in roots if x.is_positive is True]
    if len(positive) != 1:
        raise ValueError(f"expected one positive root of {equation} in {var}, got {roots}")
    return positive[0]


@lru_cache(maxsize=None)
def loglog_slope(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    """Asymptotic log-log slope lim_{var -> oo} var * d(expr)/d(var) / expr.

    This is the exponent p in expr ~ const * var**p (log factors contribute 0). Logarithms that do
    not involve var are treated as positive constants, which the claims' domains guarantee
    (for example log(9 sqrt(N)) > 0 for N >= 1); sympy cannot otherwise decide their sign.
    """
    ratio = var * sp.diff(expr, var) / expr
    constant_logs = {x for x in ratio.atoms(sp.log) if var not in x.free_symbols and x.is_positive is not True}
    if constant_logs:
        ratio = ratio.xreplace({x: sp.Dummy(positive=True) for x in constant_logs})
    slope = sp.limit(ratio, var, sp.oo)
    return _tidy(slope)


def _tidy(expr: sp.Expr) -> sp.Expr:
    expr = sp.simplify(expr)
    if expr.free_symbols:
        expr = sp.simplify(sp.factor(sp.powdenest(sp.factor(expr), force=True)))
    return expr


def _expand_everything(expr: sp.Expr) -> sp.Expr:
    expr = sp.expand_log(sp.powdenest(sp.expand(expr), force=True), force=True)
    return sp.simplify(sp.expand(expr))
