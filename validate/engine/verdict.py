"""Verdicts: the structured answer for one claim on one experiment, with its evidence.

The codes are those of claims.md ("Verdicts"):
  holds                every measured point is at or under the bound (explicit constants) and the
                       fitted exponent is consistent with the claim at the stated confidence;
  not_tight            holds, and the measured decay is faster than the bound's (both exponents given);
  violated             a measured point exceeds the bound beyond its confidence interval, or the
                       exponent's interval excludes the claim in the wrong direction (worst point shown);
  vacuous              the bound exceeds the trivial value (e.g. the loss range) where evaluated;
  assumptions_not_met  the run breaks a stated assumption (Adam instead of SGD, unbounded loss, ...);
  inconclusive         intervals too wide to decide (the verdict says how many more seeds would decide).

A verdict carries numbers, never prose-only conclusions, plus `Figure` records: named data frames
tagged with the kind of plot that shows them. validate/ computes the data; reports/ draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

CODES = ("holds", "not_tight", "violated", "vacuous", "assumptions_not_met", "inconclusive")
#: Not a verdict: the run cannot test the claim (its data break what the claim needs, by design
#: of the experiment, so no outcome could differ). Reports print "not tested", never a code.
NOT_TESTED = "not_tested"

LABELS = {
    "holds": "holds",
    "not_tight": "holds, not tight",
    "violated": "violated",
    "vacuous": "vacuous",
    "assumptions_not_met": "assumptions not met",
    "inconclusive": "inconclusive",
    NOT_TESTED: "not tested",
}

FIGURE_KINDS = (
    "bound_vs_measured",
    "rstar_vs_n",
    "mi_vs_clone",
    "spectrum",
    "estimate_vs_truth",
    "rstar_growth",
    "spectrum_null",
    "mi_by_arm",
    "mi_vs_mse",
)


@dataclass(frozen=True)
class Figure:
    """Data for one plot. `kind` picks the drawing (see FIGURE_KINDS and reports/figures.py)."""

    kind: str
    title: str
    data: pd.DataFrame
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in FIGURE_KINDS:
            raise ValueError(f"figure kind must be one of {FIGURE_KINDS}, got {self.kind!r}")


@dataclass(frozen=True)
class Verdict:
    """One claim on one experiment: code, one-sentence explanation, key numbers, evidence."""

    claim: str
    experiment: str
    code: str
    explanation: str
    numbers: Mapping[str, Any] = field(default_factory=dict)
    worst_point: Mapping[str, Any] | None = None
    would_change: str = ""
    notes: tuple[str, ...] = ()
    figures: tuple[Figure, ...] = ()

    def __post_init__(self):
        if self.code not in CODES and self.code != NOT_TESTED:
            raise ValueError(f"verdict code must be one of {CODES} (or {NOT_TESTED!r}), got {self.code!r}")

    @property
    def tested(self) -> bool:
        """False when the run could not test the claim (code NOT_TESTED)."""
        return self.code != NOT_TESTED

    @property
    def label(self) -> str:
        return LABELS[self.code]

    def to_json(self) -> dict[str, Any]:
        """The verdicts.json record: claim, experiment, verdict (the code), explanation, numbers."""
        return {
            "claim": self.claim,
            "experiment": self.experiment,
            "verdict": self.code,
            "label": self.label,
            "explanation": self.explanation,
            "numbers": jsonable(dict(self.numbers)),
            "worst_point": jsonable(dict(self.worst_point)) if self.worst_point else None,
            "would_change": self.would_change,
            "notes": list(self.notes),
        }


def jsonable(value: Any) -> Any:
    """Plain JSON types (numpy scalars/arrays to numbers/lists, non-finite floats to None).

    Args:
        value: any value of a verdict's numbers (nested mappings and sequences included).

    Returns:
        The value in plain JSON types.
    """
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
