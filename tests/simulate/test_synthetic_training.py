"""The batched training loop (simulate/training.py): batched == alone, determinism, divergence,
the C1 step rule, the gradient statistics, and the known-constant quadratic."""

import math

import numpy as np
import pytest
import torch

from lrkd import simulate
from lrkd import theory
from lrkd.simulate.data import Run, load_data
from lrkd.simulate.training import TrainSpec, record_steps, train


def teacher_for(kind):
    if kind == "mlp":
        return simulate.MLPTeacher(4, 6, 8, simulate.PowerLaw(0.8, 3.0), simulate.PowerLaw(1.0, 2.0), 0.2, 0)
    return simulate.LinearTeacher(8, 6, simulate.PowerLaw(1.0, 2.0), 0.3, 0)


def build(kind, runs, n_samples=64, dtype=torch.float64):
    teacher = teacher_for(kind)
    data = load_data(teacher, n_samples, seeds=[r.seed for r in runs], dtype=dtype, device=torch.device("cpu"))
    if kind == "factorized":
        return simulate.FactorizedStudents(teacher, data, runs)
    if kind == "mlp":
        return simulate.MLPStudents(teacher, data, runs, risk_samples=256)
    return simulate.LRCStudents(teacher, data, runs, train_embedding=(kind == "lrc"))


GRID = [Run(s, r, a) for a in (0.0, 0.5) for r in (1, 2, 4) for s in (0, 1)]


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.02), ("adam", 0.01)])
@pytest.mark.parametrize("kind", ["factorized", "lrc", "lrc_frozen", "mlp"])
def test_batched_trajectories_equal_one_run_at_a_time(kind, optimizer, lr):
    spec = TrainSpec(steps=60, optimizer=optimizer, lr=lr, batch_size=8, record_points=6, power_iters=5)
    batched = train(build(kind, GRID), spec)
    for i in (0, 5, 7, len(GRID) - 1):
        alone = train(build(kind, [GRID[i]]), spec)
        assert alone.steps == batched.steps
        for name, values in alone.metrics.items():
            np.testing.assert_allclose(
                batched.metrics[name][:, i], values[:, 0], rtol=1e-9, atol=1e-12, err_msg=f"{name} of run {GRID[i]}"
            )


@pytest.mark.parametrize("kind", ["factorized", "mlp"])
def test_padding_stays_exactly_zero(kind):
    for optimizer in ("sgd", "adam"):
        students = build(kind, GRID)
        traj = train(students, TrainSpec(steps=40, optimizer=optimizer, lr=0.02, batch_size=8, c1_stats=False))
        for p, mask in zip(traj.params, students.masks()):
            assert torch.all(p * (1 - mask) == 0)
            assert torch.count_nonzero(p * mask) == int(mask.expand(p.shape).sum())


def test_same_seed_gives_identical_results_twice():
    spec = TrainSpec(steps=50, lr=0.03, batch_size=8, record_points=5)
    first, second = train(build("lrc", GRID), spec), train(build("lrc", GRID), spec)
    for name in first.metrics:
        np.testing.assert_array_equal(first.metrics[name], second.metrics[name])
    other = train(build("lrc", [Run(7, 2, 0.0)]), spec)
    assert not np.allclose(other.final("objective"), first.final("objective")[2])


def test_a_diverging_run_is_marked_and_leaves_its_batch_mates_alone():
    """alpha = 40 makes f 41x sharper, so lr = 0.08 diverges for it but not for alpha = 0."""
    runs = [Run(0, 2, 0.0), Run(0, 2, 40.0), Run(1, 3, 0.0)]
    spec = TrainSpec(steps=300, lr=0.08, batch_size=16, record_points=8, power_iters=5)
    traj = train(build("factorized", runs), spec)
    assert traj.diverged_step.tolist()[0] == -1 and traj.diverged_step.tolist()[2] == -1
    step = int(traj.diverged_step[1])
    assert 0 < step < 300
    assert traj.diverged_reason[1] in (
        f"minibatch loss became nan at step {step}",
        f"minibatch loss became inf at step {step}",
    )
    after = np.array(traj.steps) >= step
    assert np.all(np.isnan(traj.metrics["objective"][after, 1]))
    assert np.all(np.isfinite(traj.metrics["objective"][:, [0, 2]]))
    alone = train(build("factorized", [runs[2]]), spec)
    np.testing.assert_allclose(traj.metrics["objective"][:, 2], alone.metrics["objective"][:, 0], rtol=1e-10)


def test_c1_rule_uses_theory_step_size_with_the_recorded_constants():
    spec = TrainSpec(steps=200, step_rule="c1", batch_size=8, power_iters=10)
    traj = train(build("lrc_frozen", GRID), spec)
    c = traj.constants
    expected = theory.optimal_step_size(c["L_rule"], np.sqrt(c["sigma2_rule"]), c["delta"], 200)
    np.testing.assert_allclose(c["lr"], expected, rtol=1e-12)
    np.testing.assert_allclose(c["L_rule"], c["L_exact"])  # exact L for the quadratic-in-P student
    assert np.all(traj.metrics["sigma2"] <= traj.metrics["sigma2_est"] + 1e-15)
    np.testing.assert_allclose(c["delta"], traj.metrics["objective"][0] - c["f_min"], rtol=1e-9)


def test_every_step_statistics_equal_recording_every_step():
    """min/avg over all steps s < t (every_step) == the same over a record at every step."""
    runs = [Run(0, 2, 0.0), Run(1, 3, 0.5)]
    fast = train(
        build("lrc", runs),
        TrainSpec(steps=30, lr=0.05, batch_size=8, c1_stats=False, grad_every_step=True, record_points=31),
    )
    slow = train(
        build("lrc", runs),
        TrainSpec(steps=30, lr=0.05, batch_size=8, c1_stats=False, grad_every_step=False, record_points=31),
    )
    assert fast.grad_stats == "every_step" and slow.grad_stats == "record_points"
    assert fast.steps == list(range(31))
    grad = fast.metrics["grad_norm_sq"]
    for t in (1, 7, 30):
        np.testing.assert_allclose(fast.metrics["avg_grad_norm_sq"][t], grad[:t].mean(0), rtol=1e-10)
        np.testing.assert_allclose(fast.metrics["min_grad_norm_sq"][t], grad[:t].min(0), rtol=1e-10)
    for name in ("avg_grad_norm_sq", "min_grad_norm_sq"):
        np.testing.assert_allclose(fast.metrics[name][1:], slow.metrics[name][1:], rtol=1e-10)
    assert np.all(np.isnan(fast.metrics["avg_grad_norm_sq"][0]))


def test_float32_is_selectable_and_close_to_float64():
    spec = TrainSpec(steps=100, lr=0.03, batch_size=8, c1_stats=False)
    single = train(build("factorized", GRID, dtype=torch.float32), spec)
    double = train(build("factorized", GRID), spec)
    assert single.params[0].dtype == torch.float32
    np.testing.assert_allclose(single.final("objective"), double.final("objective"), rtol=1e-4)


def test_record_steps_are_log_spaced_and_end_at_T():
    steps = record_steps(2000, 12)
    assert steps[0] == 0 and steps[-1] == 2000 and steps == sorted(set(steps))
    ratios = np.diff(np.log(steps[4:]))  # past the rounding of the first few steps
    assert len(steps) == 12 and np.allclose(ratios, np.log(2000) / 10, rtol=0.05)
    assert record_steps(3, 16) == [0, 1, 2, 3]
    for steps, points in [(2000, 2), (2000, 3), (7, 5), (10**6, 40)]:
        grid = record_steps(steps, points)
        assert grid[-1] == steps and len(grid) == points


def test_quadratic_noise_has_the_stated_variance_and_constants_are_exact():
    problem = simulate.Quadratic((2.0, 1.0, 0.5, 0.25), sigma=0.6)
    runs = simulate.QuadraticRuns(problem, range(50), dtype=torch.float64, device=torch.device("cpu"))
    x = runs.init_params()
    noise = torch.stack([runs.step(x, None)[1][0] - runs.h * x[0] for _ in range(400)])
    assert float(noise.square().sum(-1).mean()) == pytest.approx(0.36, rel=0.03)
    assert float(noise.mean()) == pytest.approx(0.0, abs=0.01)
    assert problem.L == 2.0 and problem.delta == pytest.approx(0.5 * 3.75 / 4)


def test_quadratic_sgd_with_the_c1_rule_meets_the_ghadimi_lan_bound_on_average():
    """The bound is on E[(1/T) sum ||grad||^2]: average over 40 seeds and compare (known-true case)."""
    problem = simulate.Quadratic(tuple(np.linspace(0.1, 1.0, 8)), sigma=0.5)
    frame = simulate.quadratic_sweep(problem, [100, 1000], seeds=range(40), executor=_serial())
    final = frame[frame.step == frame.steps]
    for T, rows in final.groupby("steps"):
        L, sigma, delta = problem.L, problem.sigma, problem.delta
        eta = float(rows.lr.iloc[0])
        assert eta == pytest.approx(min(1 / L, math.sqrt(2 * delta / (L * sigma**2 * T))))
        bound = 2 * delta / (eta * T) + L * eta * sigma**2
        assert rows.avg_grad_norm_sq.mean() <= bound


def _serial():
    from lrkd.sweep import SerialExecutor

    return SerialExecutor()
