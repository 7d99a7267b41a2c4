"""User-facing errors: one line naming the bad field and what is allowed.

Everything below the command line raises `InputError` for bad input; the CLI prints its message
as a single line on stderr and exits with code 2 (no traceback). `theory/` stays free of the
suite and raises plain `ValueError`, which the CLI does not catch.
"""

from __future__ import annotations

import math
import numbers
from typing import Any


class InputError(ValueError):
    """Bad user input. `field` names what was wrong; the message says what is allowed."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


def require(ok: bool, field: str, allowed: str, got: Any) -> None:
    """Raise InputError('<field>: must be <allowed>, got <got>') unless `ok`."""
    if not ok:
        raise InputError(field, f"must be {allowed}, got {got!r}")


def require_int_in(value: Any, field: str, low: int | None = None, high: int | None = None) -> int:
    """Check an integer lies in [low, high] (either end open when None) and return it."""
    allowed = _range_words("an integer", low, high)
    ok = isinstance(value, numbers.Integral) and not isinstance(value, bool)  # numpy integers too
    ok = ok and (low is None or value >= low) and (high is None or value <= high)
    require(ok, field, allowed, value)
    return int(value)


def require_float_in(
    value: Any, field: str, low: float | None = None, high: float | None = None, *, open_low: bool = False
) -> float:
    """Check a finite real lies in [low, high] ((low, high] with open_low) and return it as float."""
    allowed = _range_words("a finite number", low, high, open_low=open_low)
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if open_low else value >= low
    ok = ok and (high is None or value <= high)
    require(ok, field, allowed, value)
    return float(value)


def _range_words(kind: str, low, high, *, open_low: bool = False) -> str:
    if low is not None and high is not None:
        return f"{kind} in {'(' if open_low else '['}{low}, {high}]"
    if low is not None:
        return f"{kind} {'>' if open_low else '>='} {low}"
    if high is not None:
        return f"{kind} <= {high}"
    return kind
