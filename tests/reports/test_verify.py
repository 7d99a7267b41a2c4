"""lrkd verify's comparison: readable diffs for changed verdicts, moved exponents and lost entries."""

from __future__ import annotations

import json

import pytest

from lrkd.errors import InputError
from lrkd.cli import verify
from lrkd.validate.engine.verdict import Verdict


def _entry(claim="convergence", experiment="c1", verdict="holds", value=-0.5, tol=0.05):
    return {
        "claim": claim,
        "experiment": experiment,
        "verdict": verdict,
        "exponents": {"exponent": {"value": value, "tolerance": tol}},
    }


def test_identical_entries_pass():
    assert verify.compare([_entry()], [_entry()]) == ([], [])


def test_changed_verdict_is_a_readable_regression():
    (diff,), _ = verify.compare([_entry()], [_entry(verdict="violated")])
    assert str(diff) == "  convergence @ c1: verdict holds -> violated"


def test_exponent_outside_tolerance_is_a_regression_inside_is_not():
    assert verify.compare([_entry(value=-0.5)], [_entry(value=-0.54)])[0] == []
    (diff,), _ = verify.compare([_entry(value=-0.5)], [_entry(value=-0.6)])
    assert "exponent -0.6 outside baseline -0.5 +- 0.05" in str(diff)


def test_lost_and_new_entries():
    diffs, new = verify.compare([_entry(claim="a")], [_entry(claim="b")])
    assert "no longer produced" in str(diffs[0]) and new[0]["claim"] == "b"


def test_baseline_entry_takes_code_and_exponents_with_tolerance():
    v = Verdict(
        "c",
        "e",
        "not_tight",
        "x",
        {"exponent": -1.0, "exponent_ci": [-1.2, -0.9], "exponent_N": -1.0, "exponent_N_ci": [-1.2, -0.9]},
    )
    entry = verify.baseline_entry(v)
    assert entry["verdict"] == "not_tight"
    assert entry["exponents"] == {"exponent": {"value": -1.0, "tolerance": 0.15}}


def test_missing_or_broken_baseline_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        verify.load_baseline(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text(json.dumps({"nope": 1}))
    with pytest.raises(InputError, match="not an lrkd baseline"):
        verify.load_baseline(tmp_path / "bad.json")
