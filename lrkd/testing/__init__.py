"""lrkd.testing: for users' own test suites (hypothesis strategies, verdict assertions, runs).

    from hypothesis import given, settings
    from lrkd.testing import assert_bound_holds, claims, linear_teachers, teacher_runs

    NOISE_FLOOR = claims("{k}*m*sigma**2", {"k": (0.05, 1)}, kind="lower_bound",
                         experiment="c2_generalization", columns={"m": "m", "sigma": "noise"},
                         measured_column="test_risk")

    @settings(deadline=None)  # each example is a short simulation
    @given(teacher=linear_teachers(m=(2, 8), n=(2, 8)), claim=NOISE_FLOOR)
    def test_no_student_beats_the_noise_floor(teacher, claim):
        assert_bound_holds(claim, teacher_runs(teacher, sample_sizes=[32, 64], seeds=[0, 1]))

Strategies (lrkd.testing.strategies): power_law_spectra, exponential_spectra,
low_rank_plus_floor_spectra, spectra, linear_teachers, quadratic_problems, claims.
Assertions (lrkd.testing.assertions): assert_verdict, assert_bound_holds.
Runs (lrkd.testing.runs): experiment_runs, quadratic_runs, teacher_runs.
The pytest fixture `claim_regression` comes with the install (lrkd.testing.plugin).

The names load on first use: pytest imports this package in every run of every suite where lrkd is
installed (its plugin lives here), so importing it must not import torch or hypothesis.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "strategies": (
        "power_law_spectra",
        "exponential_spectra",
        "low_rank_plus_floor_spectra",
        "spectra",
        "linear_teachers",
        "quadratic_problems",
        "claims",
    ),
    "assertions": ("assert_verdict", "assert_bound_holds"),
    "runs": ("experiment_runs", "quadratic_runs", "teacher_runs"),
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}
__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"lrkd.testing.{_MODULE_OF[name]}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
