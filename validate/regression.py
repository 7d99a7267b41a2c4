"""Verdicts as regression tests: what a baseline keeps of a verdict, and how a new verdict differs.

One home for the comparison `lrkd verify` makes against reports/baseline.json and the one the
`claim_regression` pytest fixture (lrkd.testing.plugin) makes against a baseline file beside a
test. A baseline entry is

    {"claim": id, "experiment": name, "verdict": code,
     "exponents": {"exponent_T": {"value": -0.508, "tolerance": 0.02}, ...}}

Tolerance: a seeded run gives the same numbers on the same machine; across BLAS builds exponents
move in the last digits. An exponent may move by its resolution (half its bootstrap interval's
width, validate.engine.checks), at least MIN_TOLERANCE, before it counts as a regression. A
changed code always does.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Mapping

from lrkd.validate.engine.verdict import Verdict

#: The smallest move of an exponent that counts as a regression (a seeded run on another BLAS
#: build moves in the third decimal; a finding moves by tenths).
MIN_TOLERANCE = 0.02
#: The overall fitted exponent ("exponent") and one per rate variable ("exponent_T", "exponent_N", ...):
#: validate.engine.checks names them so, each with its interval "<key>_ci".
_EXPONENT_KEY = re.compile(r"^exponent(_\w+)?$")


@dataclass(frozen=True)
class Difference:
    """One way a baseline entry and the current one differ, for one (claim, experiment)."""

    claim: str
    experiment: str
    what: str

    def __str__(self) -> str:
        return f"  {self.claim} @ {self.experiment}: {self.what}"


def baseline_entry(verdict: Verdict) -> dict[str, Any]:
    """What a baseline keeps of a verdict: its code and its fitted exponents with tolerances.

    Args:
        verdict: any verdict; every `exponent` or `exponent_<v>` number with an interval
            (`<key>_ci`) is kept, except a per-variable one equal to the overall `exponent`.

    Returns:
        {"claim", "experiment", "verdict", "exponents": {key: {"value", "tolerance"}}}, plain JSON.
    """
    exponents = {}
    keys = sorted((k for k in verdict.numbers if _EXPONENT_KEY.match(k)), key=lambda k: (k != "exponent", k.lower()))
    for key in keys:
        value, ci = verdict.numbers.get(key), verdict.numbers.get(f"{key}_ci")
        duplicate = key != "exponent" and value == verdict.numbers.get("exponent")
        if isinstance(value, (int, float)) and ci and None not in ci and not duplicate:
            exponents[key] = {
                "value": round(float(value), 6),
                "tolerance": round(max(MIN_TOLERANCE, (ci[1] - ci[0]) / 2), 6),
            }
    return {"claim": verdict.claim, "experiment": verdict.experiment, "verdict": verdict.code, "exponents": exponents}


def differences(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """How the entry `new` differs from the baseline entry `old`, one short line each.

    Args:
        old: the baseline entry (baseline_entry's form).
        new: the current entry for the same test or the same (claim, experiment).

    Returns:
        Lines such as "verdict holds -> violated" and "exponent_T -0.62 outside baseline -0.508
        +- 0.02" (the new value, the old one and the tolerance); a renamed claim or experiment
        is a line too. Empty when they agree; an exponent only `new` has is not a difference.
    """
    lines = [f"{field} {old[field]} -> {new[field]}" for field in ("claim", "experiment") if old[field] != new[field]]
    if new["verdict"] != old["verdict"]:
        lines.append(f"verdict {old['verdict']} -> {new['verdict']}")
    for name, ref in old.get("exponents", {}).items():
        value = new.get("exponents", {}).get(name, {}).get("value")
        if value is None or abs(value - ref["value"]) > ref["tolerance"]:
            lines.append(f"{name} {_missing_or(value)} outside baseline {ref['value']:.4g} +- {ref['tolerance']:.3g}")
    return lines


def compare(baseline: list[dict], current: list[dict]) -> tuple[list[Difference], list[dict]]:
    """Regressions of a whole baseline: entries changed or no longer produced, and the new entries.

    Args:
        baseline: baseline entries; current: this run's entries (matched by (claim, experiment)).

    Returns:
        (differences, entries of `current` the baseline does not have).
    """
    now = {(e["claim"], e["experiment"]): e for e in current}
    then = {(e["claim"], e["experiment"]): e for e in baseline}
    diffs = []
    for key, old in then.items():
        new = now.get(key)
        if new is None:
            diffs.append(Difference(*key, "no longer produced (claim or experiment removed?)"))
            continue
        diffs += [Difference(*key, line) for line in differences(old, new)]
    return diffs, [e for k, e in now.items() if k not in then]


def _missing_or(value) -> str:
    if value is None:
        return "missing"
    return f"{value:.4g}" if math.isfinite(value) else "n/a"
