"""Verdict assertions for tests: they fail with the verdict's own explanation."""

from __future__ import annotations

from typing import Collection

from lrkd import theory
from lrkd.errors import InputError
from lrkd.validate.engine.verdict import CODES, NOT_TESTED, Verdict
from lrkd.validate.judge import check_claim

#: The codes that say a claim holds (not_tight: holds, and the data do better than it says).
HOLDS = ("holds", "not_tight")


def assert_verdict(claim: str | theory.Claim, runs, expected: str | Collection[str]) -> Verdict:
    """Check `claim` on `runs` and fail unless its verdict code is `expected`.

    Args:
        claim: a claim id (built-in or registered) or a theory.Claim.
        runs: an experiment's Runs or what simulate returns (anything validate.check_claim reads).
        expected: one verdict code ("holds", "violated", ...) or a collection of them.

    Returns:
        The verdict, for further checks on its numbers.

    Raises:
        AssertionError: naming the claim, the experiment, both codes and the verdict's explanation.
        InputError: `expected` names no verdict code.
    """
    allowed = (expected,) if isinstance(expected, str) else tuple(expected)
    unknown = [code for code in allowed if code not in (*CODES, NOT_TESTED)]
    if unknown or not allowed:
        raise InputError("expected", f"must be verdict codes among {', '.join(CODES)}; got {unknown or allowed!r}")
    verdict = check_claim(claim, runs)
    if verdict.code not in allowed:
        raise AssertionError(_failure(verdict, " or ".join(allowed)))
    return verdict


def assert_bound_holds(claim: str | theory.Claim, runs) -> Verdict:
    """Check `claim` on `runs` and fail unless it holds (code holds or not_tight).

    Args:
        claim: a claim id or a theory.Claim.
        runs: anything validate.check_claim reads.

    Returns:
        The verdict.

    Raises:
        AssertionError: with the verdict's code, explanation and what would change it.
    """
    return assert_verdict(claim, runs, HOLDS)


def _failure(verdict: Verdict, expected: str) -> str:
    text = f"{verdict.claim} on {verdict.experiment}: expected {expected}, got {verdict.code}. {verdict.explanation}"
    return f"{text} {verdict.would_change}" if verdict.would_change else text
