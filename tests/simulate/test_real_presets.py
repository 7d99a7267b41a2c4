"""The real experiment's presets (simulate/experiments/real.py): the standard preset has the shape
issue 20 asks for (a real r*(N) law can be identified), every rank-sweep student trains at least
its stated number of steps, the quick cells are unchanged by that floor, and `lrkd report
--standard` plans the standard real run."""

from __future__ import annotations

import math

import pytest

from lrkd.cli import build_parser
from lrkd.errors import InputError
from lrkd.reports.plan import REAL_JOBS, SYNTHETIC_JOBS, Job, jobs
from lrkd.simulate.experiments.real import LRC_REAL, rank_token_budget


def test_the_standard_preset_can_identify_a_growth_law():
    cfg = LRC_REAL.config("standard")
    budgets = sorted(cfg.budgets)
    assert len(budgets) >= 5 and math.log10(budgets[-1] / budgets[0]) >= 1.5
    assert len(cfg.seeds) >= 5 and len(cfg.c3_seeds) >= 5 and len(cfg.c1_seeds) >= 5
    assert len(cfg.widths) >= 5
    # the reduced teacher from stored teacher outputs, as in the quick preset
    assert cfg.lrc.teacher_layers is not None and cfg.lrc.vocab == "corpus"
    assert cfg.lrc.teacher_outputs in ("cached", "stored")
    # the convergence criterion: at least min_steps steps and at least `epochs` passes, every student
    for n in budgets:
        steps = rank_token_budget(cfg, n) // cfg.lrc.tokens_per_step
        assert steps >= cfg.min_steps >= 100 and steps * cfg.lrc.tokens_per_step >= cfg.epochs * n


def test_the_step_floor_lifts_only_the_small_budgets():
    quick = LRC_REAL.config("quick")
    # no floor: `epochs` passes, so the quick preset's stored cells keep their keys
    assert quick.min_steps == 0 and [rank_token_budget(quick, n) for n in quick.budgets] == [
        quick.epochs * n for n in quick.budgets
    ]
    floored = LRC_REAL.config("quick", min_steps=40)  # 40 steps x 128 tokens = 5,120 tokens
    assert [rank_token_budget(floored, n) for n in (256, 512, 1024)] == [5120, 5120, 8192]
    with pytest.raises(InputError, match="min_steps"):
        LRC_REAL.config("quick", min_steps=-1)


def test_report_standard_plans_the_standard_real_run():
    assert build_parser().parse_args(["report", "--standard"]).size == "standard"
    assert build_parser().parse_args(["report"]).size == "quick"
    plan = jobs("standard", real=True)
    assert plan == SYNTHETIC_JOBS["quick"] + REAL_JOBS["standard"]
    assert Job("lrc_real", "standard", real=True) in plan
    assert all(j.preset in LRC_REAL.presets for j in plan if j.experiment == "lrc_real")
    assert not any(j.real for j in jobs("standard", real=False))


def test_every_real_verdict_of_the_quick_preset_has_seeds_enough_to_measure_its_stability():
    from lrkd.validate.engine.stability import MIN_STABILITY_SEEDS

    for preset in ("quick", "standard"):
        cfg = LRC_REAL.config(preset)
        assert min(len(cfg.seeds), len(cfg.c3_seeds), len(cfg.c1_seeds)) >= MIN_STABILITY_SEEDS, preset
