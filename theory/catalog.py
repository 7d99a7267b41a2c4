"""The built-in claims, registered in this order when ``theory`` is imported.

The paper's four claims (C1-C4, ``paper=True``) and the standard-theory statements the suite
compares them with. Each claim is defined in the module that derives it:
convergence.py (C1), generalization.py (C2 and reduced-rank regression), information.py (C3),
rank.py (C4).
"""
from __future__ import annotations

from theory.claims import Claim, _REGISTRY, register_claim
from theory.convergence import CONVERGENCE, SMOOTHNESS_TRANSFER
from theory.generalization import (GENERALIZATION, GENERALIZATION_C1, GENERALIZATION_LORA_SQRT, GENERALIZATION_SQRT,
                                   RRR_EXCESS_RISK_CLAIM)
from theory.information import MUTUAL_INFORMATION, MUTUAL_INFORMATION_TRACE
from theory.rank import OPTIMAL_RANK

BUILTIN_CLAIMS: tuple[Claim, ...] = (
    CONVERGENCE,
    GENERALIZATION,
    MUTUAL_INFORMATION,
    OPTIMAL_RANK,
    SMOOTHNESS_TRANSFER,
    GENERALIZATION_SQRT,
    RRR_EXCESS_RISK_CLAIM,
    MUTUAL_INFORMATION_TRACE,
    GENERALIZATION_LORA_SQRT,
    GENERALIZATION_C1,
)


def register_builtins() -> None:
    """Register every built-in claim that is not registered yet (idempotent)."""
    for claim in BUILTIN_CLAIMS:
        if claim.id not in _REGISTRY:
            register_claim(claim)
