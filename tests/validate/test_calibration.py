"""Planted claims whose truth is known come out right, for every seed in the range (validate/calibration.py).

Known-true planted claims must be `holds` or `not_tight`; known-false ones `violated`. Each seed
draws fresh data (seeds offset per test seed) through the same experiments and checks the report
uses, at reduced sizes.
"""
from __future__ import annotations

import pytest

from lrkd.experiments import get_experiment
from lrkd.sweep import SerialExecutor
from validate import calibration

SIZES = {
    "c1_quadratic": {"steps": [100, 200, 400, 800, 1600, 3200]},
    "c2_generalization": {"sample_sizes": [128, 256, 512, 1024, 2048]},
    "c4_rank": {"m": 48, "n": 48, "sample_sizes": [256, 512, 1024, 2048, 4096, 8192]},
}
SEEDS_PER_RUN = {"c1_quadratic": 6, "c2_generalization": 24, "c4_rank": 6}


def _runs(seed: int) -> dict:
    runs = {}
    for name, sizes in SIZES.items():
        k = SEEDS_PER_RUN[name]
        experiment = get_experiment(name)
        config = experiment.config("quick", **sizes, seeds=list(range(100 + seed * k, 100 + (seed + 1) * k)),
                                   device="cpu")
        runs[name] = experiment.run(config, executor=SerialExecutor(), progress=False)
    return runs


def test_planted_claims_are_classified_correctly(seed):
    scored = calibration.calibrate(_runs(seed))
    assert len(scored) == len(calibration.planted_claims())
    wrong = [f"{v.claim} (expected {v.numbers['expected']}): {v.code}: {v.explanation}"
             for v in scored if not v.numbers["correct"]]
    assert not wrong, "\n".join(wrong)
    assert calibration.hit_rate(scored) == (len(scored), len(scored))


def test_score_marks_a_wrong_call():
    planted = calibration.planted_claims()[1]  # a false claim
    from validate.verdict import Verdict

    scored = calibration.score(planted, Verdict(planted.claim.id, "x", "holds", "planted"))
    assert scored.numbers["correct"] is False and scored.numbers["expected"] == "false"
