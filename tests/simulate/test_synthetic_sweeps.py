"""The public grids (simulate/sweeps.py): columns, resume from the store, bad input, divergence
rows, the MLP teacher, the C1 transfer constants, and C3's clone ablation with representations."""

import numpy as np
import pandas as pd
import pytest
import torch

from lrkd import simulate
from lrkd import theory
from lrkd.errors import InputError
from lrkd.sweep import SerialExecutor
from lrkd.simulate import sweeps

SERIAL = SerialExecutor()
REQUIRED = ["rank", "n_samples", "seed", "train_risk", "test_risk", "excess_risk"]


@pytest.fixture
def teacher():
    return simulate.LinearTeacher(10, 8, simulate.PowerLaw(1.0, 2.0), 0.3, 0)


@pytest.mark.parametrize("student,steps", [("rrr", None), ("factorized", 40), ("lrc", 40)])
def test_rank_sweep_has_one_row_per_run_with_the_documented_columns(teacher, student, steps):
    options = {} if student == "rrr" else {"lr": 0.02, "batch_size": 16}
    frame = simulate.rank_sweep(
        teacher, [1, 3], [50, 100], seeds=[0, 1], student=student, steps=steps, executor=SERIAL, **options
    )
    assert len(frame) == 8
    assert set(REQUIRED) <= set(frame.columns) and set(sweeps.RESULT_COLUMNS) <= set(frame.columns)
    assert sorted(zip(frame["rank"], frame.n_samples, frame.seed)) == sorted(
        (r, n, s) for r in (1, 3) for n in (50, 100) for s in (0, 1)
    )
    np.testing.assert_allclose(frame.excess_risk, frame.test_risk - 10 * 0.09, rtol=1e-12)
    assert (frame.risk_method == "exact").all() and not frame.diverged.any()
    assert frame.diverged_step.isna().all() and frame.diverged_reason.isna().all()


def test_gradient_descent_on_the_factorized_student_reaches_the_rrr_fit(teacher):
    exact = simulate.rank_sweep(teacher, [2, 4], [200], seeds=[0], executor=SERIAL)
    trained = simulate.rank_sweep(
        teacher, [2, 4], [200], seeds=[0], student="factorized", steps=3000, executor=SERIAL, lr=0.1, batch_size=None
    )
    merged = exact.merge(trained, on=["rank", "seed"], suffixes=("_rrr", "_sgd"))
    assert np.all(merged.train_risk_sgd >= merged.train_risk_rrr - 1e-9)  # rrr is the exact minimum
    np.testing.assert_allclose(merged.train_risk_sgd, merged.train_risk_rrr, rtol=1e-6)


def test_sweeps_resume_from_the_store_without_recomputing(teacher, tmp_path, monkeypatch):
    store = tmp_path / "results.db"
    first = simulate.rank_sweep(
        teacher, [1, 2], [40], seeds=[0, 1], student="lrc", steps=20, store=store, executor=SERIAL
    )

    def must_not_run(cell):
        raise AssertionError("a stored cell was recomputed")

    monkeypatch.setattr(sweeps, "run_train_cell", must_not_run)
    again = simulate.rank_sweep(
        teacher, [1, 2], [40], seeds=[0, 1], student="lrc", steps=20, store=store, executor=SERIAL
    )
    pd.testing.assert_frame_equal(first, again)


def test_same_seed_gives_identical_sweeps(teacher):
    run = lambda: simulate.rank_sweep(teacher, [2], [60], seeds=[3], student="factorized", steps=30, executor=SERIAL)
    pd.testing.assert_frame_equal(run(), run())


def test_a_diverged_run_is_a_row_with_its_step_and_reason(teacher):
    frame = simulate.rank_sweep(
        teacher, [2, 3], [60], seeds=[0], student="factorized", steps=200, lr=30.0, executor=SERIAL
    )
    assert len(frame) == 2 and frame.diverged.all()
    assert frame.diverged_step.between(0, 199).all()
    assert all(r.startswith("minibatch loss became") for r in frame.diverged_reason)
    assert frame[["train_risk", "test_risk", "excess_risk"]].isna().all().all()


BAD_SWEEPS = [
    (dict(ranks=[0]), "rank: must be an integer in [1, 8], got 0"),
    (dict(ranks=[9]), "rank: must be an integer in [1, 8], got 9"),
    (dict(ranks=[]), "rank: must be a non-empty list of integers"),
    (dict(sample_sizes=[0]), "sample_sizes: must be an integer >= 1, got 0"),
    (dict(seeds=[-1]), "seeds: must be an integer >= 0, got -1"),
    (dict(student="svd"), "student: must be one of rrr, factorized, lrc"),
    (dict(student="factorized"), "steps: must be an integer >= 1 (or a list) for a trained student"),
    (dict(steps=10), "steps: must be None for the closed-form rrr student"),
    (dict(lr=0.1), "lr: training options do not apply to the closed-form rrr student"),
    (dict(student="lrc", steps=10, alpha=-0.5), "alpha: must be a finite number >= 0.0"),
    (dict(student="lrc", steps=10, learning_rate=0.1), "learning_rate: unknown training option"),
    (dict(student="lrc", steps=10, lr=0.0), "lr: must be a finite number > 0"),
    (dict(student="lrc", steps=10, optimizer="lbfgs"), "optimizer: must be 'sgd' or 'adam'"),
    (dict(dtype="float16"), "dtype: must be 'float64' or 'float32'"),
]


@pytest.mark.parametrize("kwargs,message", BAD_SWEEPS, ids=[m.split(":")[0] for _, m in BAD_SWEEPS])
def test_bad_sweep_input_is_an_input_error(teacher, kwargs, message):
    args = {"ranks": [1], "sample_sizes": [10], "seeds": [0], **kwargs}
    with pytest.raises(InputError) as info:
        simulate.rank_sweep(teacher, executor=SERIAL, **args)
    assert str(info.value).startswith(message)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-GPU message")
def test_asking_for_cuda_without_a_gpu_is_an_input_error(teacher):
    with pytest.raises(InputError, match="device: cuda was requested"):
        simulate.rank_sweep(teacher, [1], [10], seeds=[0], device="cuda", executor=SERIAL)


def test_mlp_teacher_sweeps_use_a_stated_fresh_sample():
    mlp = simulate.MLPTeacher(4, 6, 8, simulate.PowerLaw(0.8, 3.0), simulate.PowerLaw(1.0, 2.0), 0.2, 0)
    lrc = simulate.rank_sweep(
        mlp, [2, 8], [200], seeds=[0], student="lrc", steps=300, lr=0.03, risk_samples=4096, executor=SERIAL
    )
    linear = simulate.rank_sweep(mlp, [2, 4], [200], seeds=[0], executor=SERIAL)
    assert set(lrc.risk_method) == {"fresh_sample:4096"} and set(linear.risk_method) == {"fresh_sample:8192"}
    assert lrc.approx_error.isna().all()
    np.testing.assert_allclose(lrc.test_risk - lrc.excess_risk, 4 * 0.04)
    assert (lrc.excess_risk > 0).all() and lrc.excess_risk.iloc[1] < lrc.excess_risk.iloc[0]


def test_convergence_sweep_records_c1_constants_and_the_transfer_identity(teacher):
    frame = simulate.convergence_sweep(
        teacher, 3, [50, 200], 100, seeds=[0, 1], train_embedding=False, batch_size=8, executor=SERIAL
    )
    assert set(frame.steps) == {50, 200} and (frame.grad_stats == "every_step").all()
    np.testing.assert_allclose(frame.L_est, frame.L_exact)
    np.testing.assert_allclose(frame.L_exact, frame.teacher_norm_sq * frame.L_g, rtol=1e-10)
    first = frame.groupby(["steps", "seed"]).first()
    expected = theory.optimal_step_size(
        first.L_rule, np.sqrt(first.sigma2_rule), first.delta, first.index.get_level_values("steps").astype(float)
    )
    np.testing.assert_allclose(first.lr, expected, rtol=1e-12)
    final = frame[frame.step == frame.steps]
    assert (final.min_grad_norm_sq <= final.avg_grad_norm_sq).all()
    assert (frame.objective >= frame.f_min - 1e-12).all()


def test_clone_sweep_ablation_and_representations(teacher):
    mlp = simulate.MLPTeacher(4, 6, 8, simulate.PowerLaw(0.8, 3.0), simulate.PowerLaw(1.0, 2.0), 0.5, 0)
    result = simulate.clone_sweep(
        mlp, [3], [0.0, 1.0], 200, seeds=[0, 1], steps=300, rep_samples=64, lr=0.03, executor=SERIAL
    )
    final = result.frame[result.frame.step == 300].set_index(["alpha", "seed"])
    for seed in (0, 1):
        assert final.loc[(1.0, seed), "clone_loss"] < final.loc[(0.0, seed), "clone_loss"]
    steps = result.steps()
    assert steps[0] == 0 and steps[-1] == 300 and len(steps) == 10
    t, s = result.representations(3, 1.0, seed=0, step=300)
    assert t.shape == (64, 8) and s.shape == (64, 3)
    t_noisy, s_noisy = result.representations(3, 1.0, seed=0, step=300, noise_std=0.5)
    assert np.std(t_noisy - t) == pytest.approx(0.5, rel=0.1)
    np.testing.assert_array_equal(s_noisy, result.representations(3, 1.0, seed=0, step=300, noise_std=0.5)[1])
    with pytest.raises(InputError, match="step: must be one of the recorded steps"):
        result.representations(3, 1.0, seed=0, step=299)
