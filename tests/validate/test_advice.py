"""Rank advice (validate.advice, issue 21): the spec parser, the exact-RRR sampler and truth, the
advice on teachers whose answer is known, the calibration of the advice itself, and the real
teacher's pilot (the lrc_real rank sweep) on a tiny random Llama."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from lrkd import simulate, theory
from lrkd.errors import InputError
from lrkd.executors import SerialExecutor
from lrkd.simulate.experiments.real import LRC_QUICK, LRC_REAL
from lrkd.simulate.lrc.tiny import make_tiny_workspace
from lrkd.store import ResultStore
from lrkd.sweep import to_frame
from lrkd.validate import advice as A
from lrkd.validate.claims import real as real_claims
from lrkd.validate.claims.real import rank_evidence


def teacher_named(prefix: str) -> A.CalibrationTeacher:
    return next(t for t in A.calibration_teachers() if t.name.startswith(prefix))


def pilot_of(teacher: A.CalibrationTeacher, stream: int) -> pd.DataFrame:
    return A.sampled_rrr_pilot(
        teacher.singular_values(),
        m=teacher.m,
        n=teacher.n,
        noise=teacher.noise,
        budgets=teacher.budgets(),
        seeds=range(8),
        stream=stream,
    )


def truth_of(teacher: A.CalibrationTeacher, n_samples: int, draws: int = 600) -> A.TrueRisk:
    return A.true_excess_risk(
        teacher.singular_values(), m=teacher.m, n=teacher.n, noise=teacher.noise, n_samples=n_samples, draws=draws
    )


# ---------------------------------------------------------------- the spec


def test_spec_parses_every_family():
    t = A.parse_linear_spec("linear:m=64,n=32,spectrum=power_law:1.5,noise=0.5,seed=3")
    assert (t.m, t.n, t.noise, t.seed) == (64, 32, 0.5, 3)
    assert isinstance(t.spectrum, simulate.PowerLaw) and t.spectrum.alpha == 1.5
    e = A.parse_linear_spec("LINEAR: m=8, n=8, spectrum=exponential:0.3")
    assert isinstance(e.spectrum, simulate.Exponential) and (e.noise, e.seed) == (1.0, 0)
    x = A.parse_linear_spec("linear:m=16,n=16,spectrum=exact:5,noise=2")
    assert isinstance(x.spectrum, simulate.LowRankPlusFloor)
    assert np.count_nonzero(x.singular_values) == 5


@pytest.mark.parametrize(
    "spec, field",
    [
        ("linear:", "teacher"),
        ("linear:m=64,n=64", "teacher.spectrum"),
        ("linear:n=64,spectrum=power_law:1", "teacher.m"),
        ("linear:m=64,n=64,spectrum=power_law:1,colour=red", "teacher"),
        ("linear:m=64,n=64,spectrum=power_law:1,m=3", "teacher.m"),
        ("linear:m=sixty,n=64,spectrum=power_law:1", "teacher.m"),
        ("linear:m=1,n=64,spectrum=power_law:1", "teacher.m"),
        ("linear:m=64,n=100000,spectrum=power_law:1", "teacher.n"),
        ("linear:m=64,n=64,spectrum=power_law:-1", "teacher.spectrum"),
        ("linear:m=64,n=64,spectrum=power_law", "teacher.spectrum"),
        ("linear:m=64,n=64,spectrum=gaussian:1", "teacher.spectrum"),
        ("linear:m=64,n=64,spectrum=exact:65", "teacher.spectrum"),
        ("linear:m=64,n=64,spectrum=exact:2.5", "teacher.spectrum"),
        ("linear:m=64,n=64,spectrum=power_law:1,noise=0", "teacher.noise"),
        ("linear:m=64,n=64,spectrum=power_law:1,noise=nan", "teacher.noise"),
        ("linear:m=64,n=64,spectrum=power_law:1,seed=-1", "teacher.seed"),
        ("linear:m=64;n=64,spectrum=exact:3", "teacher.m"),
    ],
)
def test_malformed_spec_is_one_line_naming_the_field(spec, field):
    with pytest.raises(InputError) as info:
        A.parse_linear_spec(spec)
    assert info.value.field == field
    assert "\n" not in str(info.value)


def test_budget_must_lie_above_the_pilot():
    plan = A.default_linear_plan(A.parse_linear_spec("linear:m=16,n=16,spectrum=power_law:1"))
    assert plan.budgets == (64, 128, 256, 512, 1024, 2048)
    with pytest.raises(InputError, match="budget"):
        A.check_budget(plan.budgets[-1], plan)
    assert A.check_budget(plan.budgets[-1] + 1, plan) == plan.budgets[-1] + 1


# ---------------------------------------------------------------- the exact-RRR sampler and the truth


def test_sampled_pilot_is_rank_sweep_in_distribution():
    """The calibration's pilots (sufficient statistics) and linear_pilot (rank_sweep on data) are the
    same estimator: seed means agree within their standard errors at every rank and budget."""
    teacher = simulate.LinearTeacher(12, 10, simulate.PowerLaw(1.0), noise=0.7, seed=0)
    budgets, seeds = [24, 48], range(160)
    swept = simulate.rank_sweep(
        teacher, range(1, 11), budgets, seeds=seeds, device="cpu", executor=SerialExecutor(), progress=False
    )
    sampled = A.sampled_rrr_pilot(teacher.singular_values, m=12, n=10, noise=0.7, budgets=budgets, seeds=seeds)
    a = swept.groupby(["n_samples", "rank"])["excess_risk"].agg(["mean", "sem"])
    b = sampled.groupby(["n_samples", "rank"])["excess_risk"].agg(["mean", "sem"])
    z = (a["mean"] - b["mean"]) / np.hypot(a["sem"], b["sem"])
    assert np.all(np.abs(z) < 4.0), z.to_dict()
    # and a planted difference is seen: a sampler with 20% more noise is rejected
    louder = A.sampled_rrr_pilot(teacher.singular_values, m=12, n=10, noise=0.84, budgets=budgets, seeds=seeds)
    c = louder.groupby(["n_samples", "rank"])["excess_risk"].agg(["mean", "sem"])
    assert np.max(np.abs((a["mean"] - c["mean"]) / np.hypot(a["sem"], c["sem"]))) > 4.0


def test_truth_at_full_rank_is_the_least_squares_risk():
    """At full rank RRR is least squares, whose expected excess risk is exact for Gaussian inputs:
    sigma^2 m n / (N - n - 1)."""
    m, n, noise, size = 20, 16, 0.8, 100
    truth = A.true_excess_risk(simulate.PowerLaw(1.0).first(16), m=m, n=n, noise=noise, n_samples=size, draws=4000)
    exact = noise**2 * m * n / (size - n - 1)
    assert abs(truth.mean[-1] - exact) < 4 * truth.se[-1]
    assert truth.gap[truth.best - 1] == 0 and np.all(truth.gap >= 0)


# ---------------------------------------------------------------- the advice where the answer is known


def test_interval_contains_the_true_best_rank_on_an_easy_teacher(seed):
    teacher = teacher_named("exponential beta=0.3")
    budget = 4 * teacher.n0
    advice = A.advise(pilot_of(teacher, seed), budget, n_resamples=300, seed=seed)
    truth = truth_of(teacher, budget)
    low, high = advice.interval
    assert low <= truth.best <= high, (advice.line(), truth.best)
    assert truth.gap[advice.rank - 1] <= A.ADVISED_TOLERANCE
    assert advice.law == "logarithm"  # r* ~ log(N) / (2 beta) for an exponential spectrum


def test_exact_rank_teacher_gives_an_interval_around_its_rank():
    teacher = teacher_named("exact rank")
    rank = teacher.spectrum.rank
    for multiple in (4, 16):
        advice = A.advise(pilot_of(teacher, 0), multiple * teacher.n0, n_resamples=300)
        low, high = advice.interval
        assert advice.rank == rank and low <= rank <= high, advice.line()
        assert high < teacher.m // 2, advice.line()  # around the rank, not up to the widest width
        assert not advice.widest["advised"]


def test_heavy_tail_moves_to_the_widest_width():
    """alpha = 0.75: past some N the full-rank fit beats every truncation (theory.rank.spiked_rstar),
    which a growth law cannot see; the widest-width check does."""
    teacher = teacher_named("power law alpha=0.75")
    budget = 16 * teacher.n0
    advice = A.advise(pilot_of(teacher, 0), budget, n_resamples=300)
    truth = truth_of(teacher, budget)
    assert truth.best == teacher.m
    assert advice.widest["advised"] and advice.rank == teacher.m and advice.interval[1] == teacher.m


def test_flat_risk_puts_every_indistinguishable_rank_in_the_interval():
    """A hand-made pilot whose seed-mean risk is exactly flat over ranks c - 2 .. c + 2 around a
    growing c(N), with seed noise (drawn for seeds 0, 2, 4, 6 and mirrored in seeds 1, 3, 5, 7, so
    the flat ranks' seed means are equal: the seeds cannot tell them apart)."""
    gen = np.random.default_rng(0)
    rows = []
    for size, centre in zip((1000, 2000, 4000, 8000), (4, 6, 8, 10)):
        noise = gen.standard_normal((4, 30)) * 0.02
        for seed in range(8):
            for rank in range(1, 31):
                base = 1.0 + 0.1 * max(abs(rank - centre) - 2, 0) ** 2
                jitter = noise[seed // 2, rank - 1] * (1 if seed % 2 == 0 else -1)
                rows.append({"rank": rank, "n_samples": size, "seed": seed, "risk": base + jitter})
    advice = A.advise(pd.DataFrame(rows), 32000, risk="risk", n_resamples=300)
    assert advice.flat["flat"]
    low, high = advice.flat["at_budget"]
    assert advice.interval[0] <= low and high <= advice.interval[1]
    assert any("flat" in note for note in advice.notes)


def test_spectrum_prediction_reads_the_spikes():
    exact = A.parse_linear_spec("linear:m=32,n=32,spectrum=exact:4,noise=1")
    got = A.linear_spectrum_prediction(exact, 2048, 32768, (4, 4), seeds=range(4))
    assert got["rank"] == 4 and got["family"] == "spikes only" and got["inside_advice"]
    decaying = A.parse_linear_spec("linear:m=32,n=32,spectrum=power_law:1.5,noise=0.3")
    truth = A.true_excess_risk(decaying.singular_values, m=32, n=32, noise=0.3, n_samples=32768, draws=400)
    got = A.linear_spectrum_prediction(decaying, 2048, 32768, (1, 32), seeds=range(4))
    assert got["family"] == "power_law"  # the tail below the bulk is carried past the spikes
    assert abs(got["rank"] - truth.best) <= max(2, truth.best // 4), (got, truth.best)


def test_advice_never_falls_below_the_largest_pilot_budgets_rstar():
    """r* does not fall as N grows: a law fitted through pilot r* that fall (6, 5, 4, 3) would carry the
    advice below 3; it is held at the lower end of r*'s band at the largest budget, and says so."""
    budgets, gen = (256, 512, 1024, 2048), np.random.default_rng(0)
    rows = [
        {"rank": r, "n_samples": n, "seed": s, "excess_risk": 1.0 + (r - best) ** 2 + 0.01 * gen.standard_normal()}
        for n, best in zip(budgets, (6, 5, 4, 3))
        for s in range(6)
        for r in range(1, 11)
    ]
    advice = A.advise(pd.DataFrame(rows), 16 * budgets[-1], n_resamples=300)
    floor = int(advice.pilot["rstar_low"].iloc[-1])
    assert advice.pilot["rstar"].tolist() == [6, 5, 4, 3] and floor == 3
    assert advice.rank >= floor and advice.interval[0] >= floor
    assert any("does not fall as N grows" in note for note in advice.notes)


def test_json_record_has_the_issue_keys():
    teacher = teacher_named("power law alpha=1.5")
    record = A.advise(pilot_of(teacher, 1), 4 * teacher.n0, n_resamples=200).to_json()
    for key in ("rank", "rank_interval", "budget", "law", "pilot", "spectrum_prediction", "paper_rule"):
        assert key in record
    assert record["rank_interval"][0] <= record["rank"] <= record["rank_interval"][1]
    assert len(record["pilot"]) == teacher.n_budgets
    assert math.isfinite(record["paper_rule"]["C"])


# ---------------------------------------------------------------- calibration of the advice


def assert_goals(table: pd.DataFrame) -> None:
    overall = table.set_index("teacher").loc["all"]
    assert overall["advised_within_5pct"] >= A.CALIBRATION_GOAL, table.to_string()
    assert overall["interval_within_1pct"] >= A.CALIBRATION_GOAL, table.to_string()
    # an interval over the whole width grid would always cover: the intervals must say something
    assert overall["median_interval_width"] < 64 / 4, table.to_string()
    assert overall["max_truth_se"] < A.INTERVAL_TOLERANCE / 4, table.to_string()


def test_calibration_meets_its_goals_on_a_reduced_table():
    """Three of the calibration teachers (a power law, an exponential, the exact rank), two
    replicates each, both targets: under 30 s. The whole table is the slow test below."""
    teachers = [teacher_named(p) for p in ("power law alpha=1.5", "exponential beta=0.2", "exact rank")]
    table = A.calibrate_advice(teachers, replicates=2, truth_draws=600, n_resamples=300)
    assert set(table["teacher"]) >= {t.name for t in teachers} | {"all", "all, 4 x N0", "all, 16 x N0"}
    assert table.set_index("teacher").loc["all", "cases"] == 3 * 2 * 2
    assert_goals(table)


@pytest.mark.slow
def test_calibration_meets_its_goals():
    """The issue's table: every calibration teacher, 10 replicates, targets 4 N0 and 16 N0."""
    table = A.calibrate_advice()
    print(table.to_string())
    assert_goals(table)


# ---------------------------------------------------------------- a real teacher (a tiny random Llama)

# The tiny teacher has 2 layers and d_T = 64: with teacher_layers = 2 and the corpus vocabulary its
# pilot's LRC settings are the quick report's (LRC_QUICK plus this teacher and text), so the report
# would store the very same rank cells.
TINY_OPTIONS = {"teacher_layers": 2, "vocab": "corpus"}
TINY_PLAN = A.PilotPlan((128, 256, 384), (0, 1, 2), (2, 4, 8, 16, 32), min_budgets=A.REAL_MIN_BUDGETS)


@pytest.fixture
def one_thread():
    """Small tensors: one thread avoids OpenMP spin-waits on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_real(tmp_path_factory):
    """A real pilot of the tiny teacher: (its frame, the workspace, the store, the cache folder)."""
    folder = tmp_path_factory.mktemp("real_pilot")
    ws = make_tiny_workspace(folder / "ws", gguf=False)
    store, cache = folder / "results.db", folder / "cache"
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("LRKD_CACHE", str(cache))
            sweep = A.real_pilot(
                str(ws["safetensors"]), TINY_PLAN, options=real_options(ws), store=store, progress=False
            )
    finally:
        torch.set_num_threads(threads)
    return sweep, ws, store, cache


def real_options(ws) -> dict:
    return {**TINY_OPTIONS, "text": str(ws["text"])}


def test_real_pilot_is_the_rank_evidence_of_the_real_experiment(tiny_real):
    sweep, _, _, _ = tiny_real
    assert {"rank", "n_samples", "seed", A.REAL_RISK, "plateau_change"} <= set(sweep.columns)
    assert sorted(sweep["rank"].unique()) == list(TINY_PLAN.widths)
    assert sorted(sweep["n_samples"].unique()) == list(TINY_PLAN.budgets)
    assert sorted(sweep["seed"].unique()) == list(TINY_PLAN.seeds)
    assert len(sweep) == len(TINY_PLAN.widths) * len(TINY_PLAN.budgets) * len(TINY_PLAN.seeds)
    assert np.isfinite(sweep[A.REAL_RISK]).all() and (sweep[A.REAL_RISK] > 0).all()
    assert (sweep["epochs"] == sweep.attrs["epochs"]).all()  # every student made the preset's passes
    assert sweep.attrs["d_T"] == 64 and sweep.attrs["max_rank"] == 63
    assert sweep.attrs["experiment"] == f"{LRC_REAL.name}_rank" and "reduced" in sweep.attrs["teacher"]
    assert {k: sweep.attrs["lrc"][k] for k in LRC_QUICK} == {**LRC_QUICK, **TINY_OPTIONS}


def test_real_pilot_resumes_and_its_cells_are_the_real_experiments(tiny_real, monkeypatch, one_thread):
    """A rerun trains nothing, and lrc_real (a report) configured with the same settings reads the
    pilot's rank cells back from the store instead of training them."""
    sweep, ws, store, cache = tiny_real
    monkeypatch.setenv("LRKD_CACHE", str(cache))
    import lrkd.simulate.experiments.real as real_experiment
    import lrkd.simulate.lrc.api as api

    def no_training(*args, **kwargs):
        raise AssertionError("a stored cell was trained again")

    monkeypatch.setattr(api, "train_sweep", no_training)
    again = A.real_pilot(str(ws["safetensors"]), TINY_PLAN, options=real_options(ws), store=store, progress=False)
    pd.testing.assert_frame_equal(again, sweep)

    # the report's way in: run_lrc_real with the quick preset's LRC settings for this teacher and text
    config = LRC_REAL.config(
        "quick",
        lrc={**LRC_QUICK, "teacher": str(ws["safetensors"]), "text": str(ws["text"])},
        widths=list(TINY_PLAN.widths),
        budgets=list(TINY_PLAN.budgets),
        seeds=list(TINY_PLAN.seeds),
    )
    original, seen = real_experiment.run_grid, {}

    class RankGridDone(Exception):
        pass

    def rank_grid_only(experiment, cells, *args, **kwargs):
        if experiment != f"{LRC_REAL.name}_rank":
            raise RankGridDone  # the C3 and C1 cells are not the pilot's: stop before them
        seen["cells"] = original(experiment, cells, *args, **kwargs)
        return seen["cells"]

    monkeypatch.setattr(real_experiment, "run_grid", rank_grid_only)
    with pytest.raises(RankGridDone):
        LRC_REAL.run(config, store=ResultStore(store), progress=False)
    report_rank = rank_evidence(to_frame(seen["cells"], "final"))
    pd.testing.assert_frame_equal(report_rank, sweep[report_rank.columns])


def test_advice_on_a_real_pilot_reads_rstar_as_the_c4_verdict_does(tiny_real):
    sweep, _, _, _ = tiny_real
    advice = A.advise(sweep, 4096, risk=A.REAL_RISK, max_rank=sweep.attrs["max_rank"], n_resamples=300)
    low, high = advice.interval
    assert TINY_PLAN.widths[0] <= low <= advice.rank <= high <= sweep.attrs["max_rank"]
    assert advice.risk == A.REAL_RISK and advice.line("tokens").startswith(f"rank {advice.rank} [{low}, {high}]")
    assert "for N = 4,096 tokens" in advice.line("tokens")
    claim = next(c for c in theory.all_claims() if c.id == "optimal_rank")
    verdict = real_claims.lrc_rank_verdict(claim, sweep, experiment=LRC_REAL.name, teacher=sweep.attrs["teacher"])
    assert advice.pilot["rstar"].tolist() == verdict.numbers["rstar"]
    assert advice.pilot["n_samples"].tolist() == verdict.numbers["n_samples"]


def test_real_pilot_input_is_checked_before_any_work(tmp_path):
    with pytest.raises(InputError) as info:
        A.PilotPlan((256, 512), (0, 1, 2), (4, 8), min_budgets=A.REAL_MIN_BUDGETS)
    assert info.value.field == "pilot budgets"
    with pytest.raises(InputError) as info:
        A.real_pilot("smollm2-135m-instruct", TINY_PLAN, options={"d_S": 8}, store=tmp_path / "s.db")
    assert info.value.field == "options" and not (tmp_path / "s.db").exists()
    plan = A.default_real_plan()
    quick = LRC_REAL.config("quick")
    assert (plan.budgets, plan.seeds, plan.widths) == (quick.budgets, quick.seeds, quick.widths)
    assert A.default_real_plan(n_seeds=4, budgets=(512, 256, 1024)).budgets == (256, 512, 1024)


# -- advice checked on a run's largest budget (the report's "Rank advice on the real teacher") -------
def _planted_sweep(rstar_of_n: dict[int, int], widths=(2, 4, 8, 16, 32, 64, 128), seeds=range(5), noise=0.02):
    """Held-out risk with its minimum at the planted width per N (a parabola in log width)."""
    rng = np.random.default_rng(0)
    rows = [
        {
            "rank": w,
            "n_samples": n,
            "seed": s,
            "heldout_kl": (np.log(w) - np.log(best)) ** 2 + 1 + noise * rng.standard_normal(),
            "diverged": False,
        }
        for n, best in rstar_of_n.items()
        for w in widths
        for s in seeds
    ]
    return pd.DataFrame(rows)


def test_advice_from_the_smaller_budgets_is_checked_at_the_largest():
    from lrkd.validate.advice import advise_largest_budget

    budgets = (64, 128, 256, 512, 1024, 2048)
    flat = advise_largest_budget(_planted_sweep(dict.fromkeys(budgets, 16)))
    assert flat.advice.budget == 2048 and list(flat.advice.pilot["n_samples"]) == [64, 128, 256, 512, 1024]
    assert flat.measured["rstar"] == 16 and flat.covered and flat.excess < 0.01, flat.sentence()
    assert "covered" in flat.sentence() and "NOT" not in flat.sentence()
    # the target's r* jumps where the pilot could not see it: reported as not covered, with the cost
    jump = advise_largest_budget(_planted_sweep({**dict.fromkeys(budgets[:-1], 16), 2048: 128}))
    assert jump.measured["rstar"] == 128 and not jump.covered and jump.excess > 1.0, jump.sentence()
    assert "NOT covered" in jump.sentence()
    # too few budgets below the largest to advise from
    assert advise_largest_budget(_planted_sweep(dict.fromkeys((256, 512, 1024), 16))) is None
