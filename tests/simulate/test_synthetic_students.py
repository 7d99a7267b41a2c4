"""Batched students (simulate/students_linear.py, students_mlp.py) against brute force.

Analytic minibatch and full-batch gradients against autograd of the naive per-sample loss; the
exact gradient-noise variance against per-sample autograd gradients; the exact smoothness of the
frozen-embedding LRC student against the full Hessian; power iteration against the Hessian's
spectral norm; the exact optimum (objective_min) against the objective at the returned minimizer
and against reduced-rank regression.
"""

import numpy as np
import pytest
import torch

from lrkd import simulate
from lrkd.simulate.data import Run, load_data

KINDS = ("factorized", "lrc", "lrc_frozen", "mlp")


def linear_teacher(m=7, n=5, noise=0.3, seed=0):
    return simulate.LinearTeacher(m, n, simulate.PowerLaw(1.0, 2.0), noise, seed)


def mlp_teacher(activation="tanh"):
    return simulate.MLPTeacher(4, 5, 6, simulate.PowerLaw(0.8, 3.0), simulate.PowerLaw(1.0, 2.0), 0.2, 0, activation)


def build(kind, runs, n_samples=40, teacher=None):
    teacher = teacher or (mlp_teacher() if kind == "mlp" else linear_teacher())
    data = load_data(teacher, n_samples, seeds=[r.seed for r in runs], dtype=torch.float64, device=torch.device("cpu"))
    if kind == "factorized":
        return simulate.FactorizedStudents(teacher, data, runs)
    if kind == "mlp":
        return simulate.MLPStudents(teacher, data, runs, risk_samples=512)
    return simulate.LRCStudents(teacher, data, runs, train_embedding=(kind == "lrc"))


RUNS = [Run(0, 1, 0.0), Run(1, 3, 0.7), Run(0, 3, 0.0), Run(1, 2, 1.5)]


def random_params(students, seed=0):
    """A generic point: random values in the rank-r coordinates, exact zeros in the padding."""
    g = torch.Generator().manual_seed(seed)
    return [
        torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.7 * mask
        for p, mask in zip(students.init_params(), students.masks())
    ]


def naive_losses(students, params, idx=None):
    """Per-sample losses (R, b) written out directly from the model definitions."""
    rows = students.rows
    x = students.data.x[rows] if idx is None else students.data.x[rows[:, None], idx]
    y = students.data.y[rows] if idx is None else students.data.y[rows[:, None], idx]
    c = students.data.clean[rows] if idx is None else students.data.clean[rows[:, None], idx]
    alpha = students.alpha[:, None]
    if isinstance(students, simulate.MLPStudents):
        t = students.teacher
        w1, w2 = torch.as_tensor(t.w1), torch.as_tensor(t.w2)
        p1, p2 = params
        a_t = t.act(x @ w1.T)
        a_s = t.act(x @ (p1.transpose(1, 2) @ w1).transpose(1, 2))
        y_s = a_s @ (w2 @ p2).transpose(1, 2)
        clone = (a_s - a_t @ p1).square().sum(-1) + (y_s - c).square().sum(-1)
        return (y_s - y).square().sum(-1) + alpha * clone
    w = students.weight(params)
    pred = x @ w.transpose(1, 2)
    return (pred - y).square().sum(-1) + alpha * (pred - c).square().sum(-1)


def autograd_of(students, params, idx=None):
    p = [t.clone().requires_grad_(True) for t in params]
    return torch.autograd.grad(naive_losses(students, p, idx).mean(1).sum(), p)


@pytest.mark.parametrize("kind", KINDS)
def test_minibatch_gradients_match_autograd(kind):
    students = build(kind, RUNS)
    params = random_params(students)
    idx = torch.randint(40, (len(RUNS), 9), generator=torch.Generator().manual_seed(3))
    loss, grads = students.step(params, idx)
    torch.testing.assert_close(loss, naive_losses(students, params, idx).mean(1), rtol=1e-12, atol=1e-12)
    for mine, ref in zip(grads, autograd_of(students, params, idx)):
        torch.testing.assert_close(mine, ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_full_batch_objective_and_gradient_match_autograd(kind):
    students = build(kind, RUNS)
    params = random_params(students, 1)
    torch.testing.assert_close(
        students.objective(params), naive_losses(students, params).mean(1), rtol=1e-10, atol=1e-12
    )
    for mine, ref in zip(students.full_grads(params), autograd_of(students, params)):
        torch.testing.assert_close(mine, ref, rtol=1e-10, atol=1e-12)
    metrics = students.evaluate(params)
    torch.testing.assert_close(metrics["objective"], metrics["train_risk"] + students.alpha * metrics["clone_loss"])


@pytest.mark.parametrize("kind", KINDS)
def test_gradient_noise_is_the_per_sample_gradient_variance_over_batch_size(kind):
    students = build(kind, RUNS, n_samples=12)
    params = random_params(students, 2)
    per_sample = []
    for i in range(12):
        idx = torch.full((len(RUNS), 1), i)
        per_sample.append(torch.cat([g.flatten(1) for g in students.step(params, idx)[1]], 1))
    per_sample = torch.stack(per_sample)  # (N, R, P)
    variance = (per_sample - per_sample.mean(0)).square().sum(-1).mean(0)
    torch.testing.assert_close(students.gradient_noise(params, 5), variance / 5, rtol=1e-9, atol=1e-12)
    assert torch.all(students.gradient_noise(params, None) == 0)


def test_gradient_noise_matches_sampled_minibatches():
    """sigma^2 is the variance of the gradient actually used: minibatches drawn with replacement."""
    students = build("factorized", [Run(0, 2, 0.0)], n_samples=30)
    params = random_params(students, 4)
    full = torch.cat([g.flatten(1) for g in students.full_grads(params)], 1)
    g = torch.Generator().manual_seed(0)
    draws = [
        torch.cat([t.flatten(1) for t in students.step(params, torch.randint(30, (1, 4), generator=g))[1]], 1)
        for _ in range(4000)
    ]
    empirical = (torch.stack(draws) - full).square().sum(-1).mean()
    assert float(empirical) == pytest.approx(float(students.gradient_noise(params, 4)[0]), rel=0.08)


def full_hessian_norm(students, params, run):
    """Spectral norm of the Hessian of run `run`'s objective over its unpadded coordinates."""
    masks = students.masks()
    shapes = [p[run].shape for p in params]
    keep = torch.cat([m[run].expand(s).flatten() for m, s in zip(masks, shapes)]).bool()

    def f(flat):
        parts, start = [], 0
        for p, s in zip(params, shapes):
            size = int(np.prod(s))
            full = p.clone()
            full[run] = flat[start : start + size].view(s)
            parts.append(full)
            start += size
        return students.objective(parts)[run]

    flat = torch.cat([p[run].flatten() for p in params])
    hessian = torch.autograd.functional.hessian(f, flat)[keep][:, keep]
    return float(torch.linalg.matrix_norm(hessian, ord=2))


def test_frozen_embedding_smoothness_is_exact_and_transfers():
    """f(P) = g(W_T P) is quadratic: L_f = ||W_T||^2 L_g, equal to the Hessian's norm."""
    students = build("lrc_frozen", RUNS)
    params = random_params(students, 5)
    exact = students.exact_smoothness()
    for run in range(len(RUNS)):
        assert float(exact[run]) == pytest.approx(full_hessian_norm(students, params, run), rel=1e-9)
    torch.testing.assert_close(exact, students.teacher_norm_sq() * students.exact_smoothness_g())


@pytest.mark.parametrize("kind", ["factorized", "lrc", "mlp"])
def test_power_iteration_finds_the_hessian_norm(kind):
    students = build(kind, RUNS)
    params = random_params(students, 6)
    estimate, _ = students.smoothness(params, iters=300)
    for run in range(len(RUNS)):
        exact = full_hessian_norm(students, params, run)
        assert float(estimate[run]) <= exact * (1 + 1e-9)
        assert float(estimate[run]) == pytest.approx(exact, rel=2e-3)


@pytest.mark.parametrize("kind", ["factorized", "lrc", "lrc_frozen"])
def test_objective_min_is_attained_and_is_a_lower_bound(kind):
    students = build(kind, RUNS)
    optimum = students.optimum_params()
    f_min = students.objective_min()
    torch.testing.assert_close(students.objective(optimum), f_min, rtol=1e-10, atol=1e-10)
    grad = sum(g.square().sum((1, 2)) for g in students.full_grads(optimum))
    assert float(grad.max()) < 1e-16
    for seed in range(5):
        assert torch.all(students.objective(random_params(students, seed)) >= f_min - 1e-12)
    for p, mask in zip(optimum, students.masks()):
        assert torch.all(p * (1 - mask) == 0)


def test_objective_min_without_clone_is_the_reduced_rank_regression_fit():
    runs = [Run(0, r, 0.0) for r in (1, 2, 3, 5)]
    students = build("factorized", runs)
    fits = simulate.fit_rrr(students.data.x[0], students.data.y[0], [r.rank for r in runs])
    risks = students.risks_of_weight(torch.stack([fits[r.rank] for r in runs]))
    torch.testing.assert_close(risks["train_risk"], students.objective_min(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_representations_have_the_documented_shapes(kind):
    students = build(kind, RUNS)
    x = torch.randn(11, 5, dtype=torch.float64)
    teacher, student = students.representations(random_params(students), x)
    if kind == "mlp":
        assert teacher.shape == (11, 6) and student.shape == (len(RUNS), 11, 3)
    else:
        assert teacher.shape == (11, 7) and student.shape == (len(RUNS), 11, 7)
