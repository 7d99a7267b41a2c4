"""What `lrkd claims` does: print the claims. It reads theory only (no torch, no validate engine),
so it answers in under a second.
"""

from __future__ import annotations

from lrkd import theory
from lrkd.errors import InputError
from lrkd.theory import render


def run(ids: list[str], *, latex: bool = False) -> int:
    """`lrkd claims`: print the claims' wording, formal statement, symbols, assumptions and source.

    Args:
        ids: claim ids to show (empty: every claim).
        latex: print LaTeX instead of text.

    Returns:
        The exit code (0).

    Raises:
        InputError: an unknown claim id (the known ones are listed).
    """
    known = {c.id: c for c in theory.all_claims()}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise InputError("claims", f"unknown claim id {unknown[0]!r}; known: {', '.join(known)}")
    shown = [known[i] for i in ids] if ids else list(known.values())
    print(render.claims_latex(shown) if latex else "\n\n".join(render.claim_text(c) for c in shown))
    return 0
