"""The built-in claims, registered in this order when ``theory`` is imported.

The paper's four claims (C1-C4, ``paper=True``) and the standard-theory statements the suite
compares them with. Each claim is defined in the module that derives it, as a module-level Claim:
convergence.py (C1), generalization.py (C2 and reduced-rank regression), information.py (C3),
rank.py (C4). Nothing here lists them: a claim defined in one of those modules is built in.
"""

from __future__ import annotations

from types import ModuleType

from lrkd.theory import convergence, generalization, information, rank
from lrkd.theory.claims import Claim, _REGISTRY, register_claim

FAMILIES: tuple[ModuleType, ...] = (convergence, generalization, information, rank)  # C1, C2, C3, C4


def _defined_claims(modules) -> list[Claim]:
    """Every module-level Claim of `modules`, in module order then definition order."""
    found = {id(v): v for m in modules for v in vars(m).values() if isinstance(v, Claim)}
    return list(found.values())


# The paper's claims first (C1-C4), then the statements they are compared with.
BUILTIN_CLAIMS: tuple[Claim, ...] = tuple(sorted(_defined_claims(FAMILIES), key=lambda c: not c.paper))


def register_builtins() -> None:
    """Register every built-in claim that is not registered yet (idempotent)."""
    for claim in BUILTIN_CLAIMS:
        if claim.id not in _REGISTRY:
            register_claim(claim)
