"""theory: the paper's claims as sympy statements, their checked derivations, numeric bounds.

Pure math (sympy, numpy; torch only when a tensor is passed): nothing here imports the rest of
the suite. Every number a report prints traces back to one expression in this package.

    from lrkd import theory
    claim = theory.get_claim("convergence")
    claim.expr                        # 4*L*Delta/T + 2*sigma*sqrt(2*L*Delta/T) (sympy)
    claim.bound(T=[10, 100], L=1.0, sigma=1.0, Delta=1.0)   # numpy, vectorized
    claim.claimed_exponents           # {'T': -1/2}
    theory.rstar_exponent("power_law", "fast")               # 1/(2*alpha)

Modules: claims (Claim, SymbolInfo, registry), symbols, convergence (C1), generalization (C2,
reduced-rank regression), information (C3), rank (C4), numeric (lambdify), proofs (sympy checks),
render (text and LaTeX), catalog (the built-in claims).
"""

from lrkd.theory import render
from lrkd.theory.catalog import BUILTIN_CLAIMS, register_builtins
from lrkd.theory.claims import (
    KINDS,
    Claim,
    SymbolInfo,
    all_claims,
    get_claim,
    register_claim,
    unregister_claim,
)
from lrkd.theory.convergence import convergence_bound, optimal_step_size
from lrkd.theory.generalization import (
    generalization_bound,
    generalization_sqrt_bound,
    loss_range_value,
    rrr_excess_risk,
)
from lrkd.theory.information import (
    gaussian_entropy,
    gaussian_mi_from_correlations,
    gaussian_mi_from_covariance,
    mi_lower_bound,
    mi_lower_bound_trace,
)
from lrkd.theory.rank import rstar_exponent, rstar_expression, rstar_leading, rstar_table, rstar_value

register_builtins()

__all__ = [
    "BUILTIN_CLAIMS",
    "KINDS",
    "Claim",
    "SymbolInfo",
    "all_claims",
    "convergence_bound",
    "gaussian_entropy",
    "gaussian_mi_from_correlations",
    "gaussian_mi_from_covariance",
    "generalization_bound",
    "generalization_sqrt_bound",
    "get_claim",
    "loss_range_value",
    "mi_lower_bound",
    "mi_lower_bound_trace",
    "optimal_step_size",
    "register_builtins",
    "register_claim",
    "render",
    "rrr_excess_risk",
    "rstar_exponent",
    "rstar_expression",
    "rstar_leading",
    "rstar_table",
    "rstar_value",
    "unregister_claim",
]
