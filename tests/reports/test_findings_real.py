"""scripts/findings_table.py --real: the real model's C4 bullet says why a growth law is not named
(the power-law exponent's interval) and how far the students trained."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from lrkd.validate.engine.verdict import Verdict

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "findings_table.py"


def _script():
    spec = importlib.util.spec_from_file_location("findings_table_real", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rank(law: str, **extra) -> dict:
    numbers = {
        "rstar": [64, 32, 32, 32],
        "rstar_low": [32, 16, 32, 32],
        "rstar_high": [64, 64, 64, 32],
        "n_samples": [64, 256, 1024, 2048],
        "widths": [2, 128],
        "seeds": 5,
        "claimed_exponent": 0.5,
        "growth_law": law,
        "best_law": "constant",
        "delta_aicc": 1.78,
        "growth_exponent": -0.12,
        "growth_exponent_ci": [-0.28, 0.03],
        **extra,
    }
    return Verdict("optimal_rank", "lrc_real (SmolLM2; float32)", "not_tight", "r* is flat.", numbers).to_json()


def test_an_unidentified_law_shows_the_exponent_interval_that_leaves_it_open():
    text = _script().real_block([_rank("unidentified", plateau_change_max=0.055)])
    assert "growth law unidentified (best constant, AICc gap 1.78), power-law exponent -0.12 [-0.28, 0.03]" in text
    assert "training loss changed by at most 0.055 over the last epoch" in text


def test_a_power_law_shows_its_exponent_and_a_constant_none():
    script = _script()
    assert "growth law power_law, power-law exponent -0.12 [-0.28, 0.03]" in script.real_block([_rank("power_law")])
    constant = script.real_block([_rank("constant")])
    assert "growth law constant" in constant and "power-law exponent" not in constant
