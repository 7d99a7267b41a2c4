"""The real-run path (experiment lrc_real -> validate/claims/real.py -> verdicts) on a tiny random Llama,
and every verdict path of validate/claims/real.py flipped by planted evidence.

The same code runs on SmolLM2-135M in `lrkd report`; here a tiny teacher built in the test keeps it
fast and offline. What must hold whatever the model: every claim the experiment names gets a
verdict computed from the data; an interrupted sweep resumes to identical rows.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

from lrkd import theory
from lrkd.simulate.experiments import get_experiment
from lrkd.store import ResultStore
from lrkd.simulate.lrc.tiny import make_tiny_workspace
from lrkd.validate.claims import real
from lrkd.validate import judge as verdicts
from lrkd.validate.registry import with_evidence
from lrkd.validate.engine.stability import MIN_STABILITY
from lrkd.validate.engine.verdict import CODES


def tiny_config(ws, folder, **extra):
    lrc = {
        "teacher": str(ws["safetensors"]),
        "text": str(ws["text"]),
        "seq_len": 16,
        "batch_size": 4,
        "lr": 1e-2,
        "eval_points": 3,
        "hidden_snapshots": 2,
        "eval_batches": 1,
        "mi_tokens": 48,
        "checkpoint_every": 4,
        "heldout_every": 5,
        "device": "cpu",
        "dtype": "float32",
        "cache_dir": str(folder / "cache"),
        "teacher_outputs": "cached",
        "top_k": 16,
    }
    return get_experiment("lrc_real").config(
        "quick",
        lrc=lrc,
        widths=[2, 4, 8, 16, 32],
        budgets=[128, 256, 512],
        seeds=[0, 1, 2, 3],  # 4: the fewest with which a verdict's seed-bootstrap stability is measured
        epochs=2,
        c3_width=8,
        c3_tokens=256,
        c3_steps=16,
        c3_seeds=[0, 1, 2, 3],
        c1_width=8,
        c1_steps=[2, 4],
        c1_batches=2,
        c1_power_iters=2,
        c1_seeds=[0, 1, 2, 3],
        **extra,
    )


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("real")
    ws = make_tiny_workspace(folder / "ws")
    config = tiny_config(ws, folder)
    store = ResultStore(folder / "results.db")
    return get_experiment("lrc_real").run(config, store=store, progress=False), config, store, ws, folder


@pytest.fixture(scope="module")
def runs(setup):
    return with_evidence(setup[0])


def test_real_run_tables(runs):
    assert {"rank", "generalization", "information", "convergence", "mi_benchmark"} <= set(runs)
    rank = runs["rank"]
    assert sorted(rank["rank"].unique()) == [2, 4, 8, 16, 32] and sorted(rank["n_samples"].unique()) == [128, 256, 512]
    assert set(rank["seed"]) == {0, 1, 2, 3} and (rank["epochs"] == 2).all() and (rank["steps"] >= 1).all()
    info = runs["information"]
    assert info["step"].nunique() >= 8 and set(info["seed"]) == {0, 1, 2, 3} and set(info["alpha"]) == {0.0, 0.2}
    assert set(runs["convergence"]["T"]) == {2, 4} and set(runs["convergence"]["seed"]) == {0, 1, 2, 3}


def test_every_claim_gets_a_verdict_computed_from_the_data(runs):
    got = {c.id: verdicts.check_claim(c.id, runs) for c in verdicts.claims_checked_by(runs)}
    assert set(got) == {"convergence", "generalization", "generalization_c1", "mutual_information", "optimal_rank"}
    assert all(v.code in CODES for v in got.values())
    # The explicit-constant form is checked point by point against log(vocab), where vacuity shows.
    assert got["generalization_c1"].code == "vacuous", got["generalization_c1"].explanation
    assert got["generalization"].numbers["n_points"] == 15  # 3 budgets x 5 widths, seeds averaged
    assert got["optimal_rank"].numbers["widths"] == [2, 4, 8, 16, 32]
    assert got["optimal_rank"].figures[0].kind == "rstar_vs_n"
    assert np.all(np.isfinite(got["convergence"].numbers["exponent_ci"]))
    assert "spearman_loss_mi_ci" in got["mutual_information"].numbers
    # Every real verdict says its precision (the runs' resolved dtype) and its seed-bootstrap stability.
    for v in got.values():
        assert v.numbers["precision"] == "float32" and v.experiment.endswith("; float32)"), v.experiment
        assert 0 <= v.numbers["stability"] <= 1 and sum(v.numbers["stability_codes"].values()) > 0


def test_an_interrupted_real_sweep_resumes_to_identical_rows(setup, tmp_path, monkeypatch):
    runs, _, _, ws, folder = setup
    import lrkd.simulate.lrc.api as api

    config = tiny_config(ws, folder)  # the same cache: teacher outputs are reused
    store = ResultStore(tmp_path / "results.db")
    original, calls = api.train_sweep, []

    def killed(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # killed during the third cell
        return original(*args, **kwargs)

    monkeypatch.setattr(api, "train_sweep", killed)
    with pytest.raises(KeyboardInterrupt):
        get_experiment("lrc_real").run(config, store=store, progress=False)
    monkeypatch.setattr(api, "train_sweep", original)
    resumed = with_evidence(get_experiment("lrc_real").run(config, store=store, progress=False))
    for table in ("rank", "convergence", "information"):
        a = resumed[table].drop(columns=[c for c in resumed[table] if c.startswith("cell")], errors="ignore")
        b = runs[table].drop(columns=[c for c in runs[table] if c.startswith("cell")], errors="ignore")
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))


def test_a_step_floor_trains_small_sets_longer_and_the_verdict_says_how_long(setup, runs):
    """min_steps lifts a student whose `epochs` passes are fewer steps (the standard preset's
    convergence criterion); the rank verdict's notes say the steps and passes it read."""
    from lrkd.simulate.experiments.real import run_rank_grid

    _, _, store, ws, folder = setup
    floored = tiny_config(ws, folder, min_steps=12)  # 128 tokens x 2 epochs = 4 steps of 4 x 16 tokens
    grid = run_rank_grid(floored, budgets=[128], seeds=[0], widths=[2], store=store, progress=False)
    assert grid.final["steps"].tolist() == [12] and grid.final["epochs"].tolist() == [6.0]
    note = next(n for n in verdicts.check_claim("optimal_rank", runs).notes if n.startswith("Training:"))
    assert "4 to 16 optimizer steps, 2 to 2 passes" in note, note


def test_a_real_cell_gives_the_same_numbers_in_a_pool_worker_as_here(setup):
    """`lrkd report` runs the real cells in its pool's workers (simulate.experiments.real.cells_executor);
    a worker on one torch thread must give the numbers this process gives on one thread, to the last
    digit: where a cell ran cannot move a verdict."""
    import torch

    from lrkd.executors import ProcessExecutor
    from lrkd.simulate.experiments.real import run_rank_grid

    _, config, _, ws, folder = setup
    grid = {"budgets": [128], "seeds": [5, 6], "widths": [2, 8], "store": None, "progress": False}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        here = run_rank_grid(config, executor=None, **grid)
    finally:
        torch.set_num_threads(threads)
    pooled = run_rank_grid(config, executor=ProcessExecutor(os.cpu_count()), **grid)  # one thread a worker
    for name in ("final", "trajectory", "steps"):
        a, b = getattr(here, name), getattr(pooled, name)
        timing = [c for c in a.columns if "second" in c or c.startswith("cell") or c.endswith("_s")]
        pd.testing.assert_frame_equal(a.drop(columns=timing), b.drop(columns=timing), check_exact=True)


def test_real_cells_go_to_a_local_pool_and_stay_here_otherwise(setup):
    """cells_executor: the local pool or a local Dask cluster runs the real cells; no executor, the
    serial one, or a remote cluster (no shared disk for checkpoints and teacher outputs) keeps them here."""
    from lrkd.executors import DaskExecutor, ProcessExecutor, SerialExecutor
    from lrkd.simulate.experiments.real import _lrc_base, cells_executor

    base = _lrc_base(setup[1], None)
    pool, local = ProcessExecutor(2), DaskExecutor(workers=2)
    assert cells_executor(pool, base) is pool and cells_executor(local, base) is local
    for other in (None, SerialExecutor(), DaskExecutor("tcp://127.0.0.1:8786")):
        assert isinstance(cells_executor(other, base), SerialExecutor)


# -- planted evidence: every path of the real verdicts ------------------------------------------------
def _sweep(rstar_of_n: dict[int, int], widths=(4, 8, 16, 32, 64), seeds=(0, 1, 2, 3), noise=0.0):
    """Risk with its minimum at the planted width per N (a parabola in log width)."""
    rng = np.random.default_rng(0)
    rows = []
    for n, best in rstar_of_n.items():
        for w in widths:
            for s in seeds:
                risk = (math.log(w) - math.log(best)) ** 2 + 1 + noise * rng.standard_normal()
                rows.append({"rank": w, "n_samples": n, "seed": s, "heldout_kl": risk, "diverged": False})
    return pd.DataFrame(rows)


def test_lrc_rank_verdict_paths():
    claim = theory.get_claim("optimal_rank")
    beyond = real.lrc_rank_verdict(claim, _sweep({512: 64, 1024: 64, 2048: 64}), experiment="x")
    assert beyond.code == "inconclusive" and "beyond the grid" in beyond.explanation
    below = real.lrc_rank_verdict(claim, _sweep({512: 4, 1024: 4, 2048: 4}), experiment="x")
    assert below.code == "inconclusive" and "below the grid" in below.explanation
    widths = tuple(2**k for k in range(1, 12))
    sizes = [2**k for k in range(8, 16, 2)]
    fast = real.lrc_rank_verdict(claim, _sweep({n: int(n**0.75 // 2) for n in sizes}, widths=widths), experiment="x")
    assert fast.code == "violated", fast.explanation  # r* ~ N^0.75: faster than sqrt(N)
    slow = real.lrc_rank_verdict(claim, _sweep({n: max(4, int(n**0.25)) for n in sizes}, widths=widths), experiment="x")
    assert slow.code in ("not_tight", "holds"), slow.explanation


def _c3_evidence(gain: float, slope: float, seeds=(0, 1, 2, 3), noise=0.01):
    rng = np.random.default_rng(1)
    rows = []
    for s in seeds:
        for alpha in (0.0, 0.2):
            for step in range(0, 80, 10):
                loss = 10.0 / (1 + step)
                value = 1.0 + (gain if alpha > 0 else 0.0) * step / 70 + slope * loss + noise * rng.standard_normal()
                rows.append(
                    {
                        "seed": s,
                        "alpha": alpha,
                        "step": step,
                        "clone_loss": loss,
                        "mi": value,
                        "estimator": "gaussian",
                        "n_tokens": 512,
                        "saturated": False,
                    }
                )
    return pd.DataFrame(rows)


BENCH = pd.DataFrame(
    {
        "task": ["gaussian"] * 2,
        "truth": [0.5, 0.5],
        "estimator": ["gaussian", "ksg"],
        "estimate": [0.5, 0.3],
        "d": 8,
        "n_samples": 512,
    }
)


def test_lrc_information_verdict_paths():
    claim = theory.get_claim("mutual_information")
    assert real.lrc_information_verdict(claim, _c3_evidence(0.5, -0.1), BENCH, experiment="x").code == "holds"
    assert real.lrc_information_verdict(claim, _c3_evidence(-0.5, 0.1), BENCH, experiment="x").code == "violated"
    assert (
        real.lrc_information_verdict(claim, _c3_evidence(0.0, 0.0, noise=0.3), BENCH, experiment="x").code
        == "inconclusive"
    )
    assert real.choose_estimator(BENCH) == "gaussian"


def test_a_real_verdict_on_the_edge_of_its_seeds_is_inconclusive():
    """Four seeds whose MI gains straddle the edge: the t-interval just excludes zero (holds on the
    full data), but a seed resample that drops the large gains does not; the verdict says so."""
    claim = theory.get_claim("mutual_information")
    gains = (0.4, 0.3, 0.05, 0.5)
    evidence = pd.concat([_c3_evidence(g, -0.1, seeds=(s,)) for s, g in enumerate(gains)], ignore_index=True)
    raw = real._information_verdict(claim, evidence, BENCH, experiment="x")
    verdict = real.lrc_information_verdict(claim, evidence, BENCH, experiment="x")
    assert raw.code == "holds" and verdict.code == "inconclusive", verdict.numbers["stability"]
    assert verdict.numbers["stability"] < MIN_STABILITY and "seeds" in verdict.would_change
    assert verdict.numbers["precision"] == real.NOT_RECORDED and verdict.experiment == "x"
    stable = real.lrc_information_verdict(claim, _c3_evidence(0.5, -0.1), BENCH, experiment="x")
    assert stable.numbers["stability"] >= MIN_STABILITY


def test_precision_is_named_in_the_label_and_mixed_precisions_are_listed():
    assert real.labelled("lrc_real (SmolLM2)", "float32") == "lrc_real (SmolLM2; float32)"
    assert real.labelled("lrc_real", "float32") == "lrc_real (float32)"
    mixed = real.precision_of(pd.DataFrame({"dtype": ["float32", "bfloat16-autocast"]}), pd.DataFrame({"x": [1]}))
    assert mixed == "bfloat16-autocast + float32"


def _c1_evidence(eta_l: float):
    rows = []
    for s in (0, 1, 2):
        for t in (8, 16, 32, 64):
            rows.append(
                {
                    "seed": s,
                    "T": t,
                    "avg_grad_norm_sq": 2.0 / math.sqrt(t) * (1 + 0.05 * s),
                    "L": 1.0,
                    "sigma": 1.0,
                    "Delta": 1.0,
                    "lr": eta_l,
                    "eta_L": eta_l,
                    "L0": 1.0,
                    "n_probes": 3,
                }
            )
    return pd.DataFrame(rows)


def test_lrc_convergence_verdict_paths():
    claim = theory.get_claim("convergence")
    ok = real.lrc_convergence_verdict(claim, _c1_evidence(0.5), experiment="x")
    assert ok.code != "assumptions_not_met"
    broken = real.lrc_convergence_verdict(claim, _c1_evidence(1.7), experiment="x")
    assert broken.code == "assumptions_not_met" and "eta L = 1.7 at T = 8" in broken.explanation


def test_teacher_spectra_experiment_gives_a_computed_spectrum_verdict(setup):
    """The real teacher's spectra (experiment teacher_spectra) on the tiny random Llama: every
    matrix with its shape, and the C4 spectrum check reads them against the Gaussian null. A random
    teacher has no structure beyond the bulk, so the check must not predict an r* from it."""
    ws, folder = setup[3], setup[4]
    experiment = get_experiment("teacher_spectra")
    runs = experiment.run(experiment.config("quick", teacher=str(ws["safetensors"]), cache_dir=str(folder / "cache")))
    table = runs["spectra"]
    assert {"matrix", "k", "s", "rows", "cols"} <= set(table.columns)
    assert (table.groupby("matrix")["k"].max() == table.groupby("matrix")[["rows", "cols"]].min().min(axis=1)).all()
    verdict = verdicts.check_claim("optimal_rank", runs)
    assert verdict.code in CODES
    assert verdict.numbers["matrices"] == table["matrix"].nunique()
    assert verdict.numbers["matrices_with_structure"] <= 0.1 * verdict.numbers["matrices"]


def test_real_rank_claim_is_not_confirmed_without_a_growth_law():
    """Three budgets with r* inside the grid (the quick preset's shape): an exponent interval that
    merely reaches 1/2 confirms nothing, so the verdict is inconclusive, never holds."""
    claim = theory.get_claim("optimal_rank")
    three = real.lrc_rank_verdict(claim, _sweep({256: 16, 512: 16, 1024: 32}), experiment="x")
    assert three.code == "inconclusive", three.explanation
    assert three.numbers["growth_law"] == "unidentified" and "budgets" in three.would_change


def test_the_real_growth_law_is_fitted_as_the_synthetic_c4_fits_it():
    """Six budgets with r* inside the grid: a planted square-root growth is a power law, a planted
    flat r* a constant (with the seed resamples' wins and the flat-range variance of validate.claims.c4)."""
    claim = theory.get_claim("optimal_rank")
    widths = tuple(2**k for k in range(1, 10))
    sizes = [4**k for k in range(3, 9)]  # 64 .. 65,536: r* = sqrt(N) / 2 = 4 .. 128
    grows = real.lrc_rank_verdict(claim, _sweep({n: int(n**0.5 // 2) for n in sizes}, widths=widths), experiment="x")
    assert grows.numbers["growth_law"] == "power_law", grows.explanation
    assert (
        "wins" in grows.explanation
        and grows.numbers["growth_exponent_ci"][0] < 0.5 < grows.numbers["growth_exponent_ci"][1]
    )
    flat = real.lrc_rank_verdict(claim, _sweep({n: 16 for n in sizes}, widths=widths), experiment="x")
    assert flat.numbers["growth_law"] == "constant" and flat.code in ("holds", "not_tight"), flat.explanation
