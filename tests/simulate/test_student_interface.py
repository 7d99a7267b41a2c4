"""The student interface (simulate/students.py), checked for every registered student kind.

Cases come from the registry, simulate.sweeps.STUDENT_KINDS: every trained kind x every teacher
type it fits (x the TrainSpec options in VARIANTS that select another program), so a new kind is
checked here by registering it. Everything goes through the declared interface only: shapes and
dtypes, padding that stays zero, runs that do not see each other, the minibatch step against the
full batch, gradients against finite differences and autograd, a small gradient step that lowers
the objective by the first-order amount, the exact gradient noise against per-sample gradients,
smoothness against the dense Hessian, the infimum and the minimizer, and each declared capability
(Packed: the same step as the padded one; LinearWeights; TransferSmoothness; Representations).
The C1 test problem (QuadraticRuns) is checked against the Trainable part of the contract.
"""

import numpy as np
import pytest
import torch

from lrkd import simulate
from lrkd.errors import InputError
from lrkd.simulate.data import BatchStream, Run, load_data
from lrkd.simulate.students import (
    STUDENT_METRICS,
    LinearWeights,
    Packed,
    Representations,
    Students,
    Trainable,
    TransferSmoothness,
)
from lrkd.simulate.sweeps import STUDENT_KINDS
from lrkd.simulate.training import TrainSpec

N = 24  # training pairs per seed
RUNS = [Run(0, 1, 0.0), Run(1, 3, 0.7), Run(0, 3, 0.0), Run(1, 2, 1.5)]  # plus one run at the kind's max rank
ALONE = 3  # RUNS[ALONE] (rank 2 < the batch's width) is also built on its own
TINY_TEACHERS = {
    simulate.LinearTeacher: lambda: simulate.LinearTeacher(5, 4, simulate.PowerLaw(1.0, 2.0), 0.3, 0),
    simulate.MLPTeacher: lambda: simulate.MLPTeacher(
        3, 4, 5, simulate.PowerLaw(0.8, 3.0), simulate.PowerLaw(1.0, 2.0), 0.2, 0, "tanh"
    ),
}
VARIANTS = {("lrc", simulate.LinearTeacher): [{"train_embedding": False}]}  # options giving another program


def _cases():
    for kind in STUDENT_KINDS.values():
        for teacher_type in kind.teachers if kind.trained else ():
            for options in [{}] + VARIANTS.get((kind.name, teacher_type), []):
                label = "-".join([kind.name, teacher_type.__name__] + [f"{k}={v}" for k, v in options.items()])
                yield pytest.param((kind.name, teacher_type, options), id=label)


CASES = list(_cases())


def build(name, teacher_type, options, runs=None):
    if teacher_type not in TINY_TEACHERS:
        pytest.fail(f"add a tiny {teacher_type.__name__} to TINY_TEACHERS to check the {name} student")
    kind, teacher = STUDENT_KINDS[name], TINY_TEACHERS[teacher_type]()
    runs = runs if runs is not None else RUNS + [Run(2, kind.max_rank(teacher), 0.3)]
    data = load_data(teacher, N, seeds=[r.seed for r in runs], dtype=torch.float64, device=torch.device("cpu"))
    return kind.build(teacher, data, runs, TrainSpec(steps=1, risk_samples=256, **options))


@pytest.fixture(params=CASES)
def case(request):
    return request.param


@pytest.fixture
def students(case):
    return build(*case)


def random_params(s: Trainable, seed=0, scale=0.7):
    """A generic point: random values on the runs' own coordinates, exact zeros on the padding."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(p.shape, generator=g, dtype=p.dtype) * scale * m for p, m in zip(s.init_params(), masks(s))]


def masks(s: Trainable):
    return s.masks() if isinstance(s, Students) else [torch.ones_like(p) for p in s.init_params()]


def own(tensor, mask, run):
    """Run `run`'s own coordinates of a padded tensor, flattened in row-major order (the same order
    whatever the padded width, since the padding is a suffix of the rank axis)."""
    return tensor[run][mask.expand(tensor.shape)[run].bool()]


def autograd(s, params):
    p = [t.clone().requires_grad_(True) for t in params]
    return torch.autograd.grad(s.objective(p).sum(), p)


def hessian_norm(s, params, run):
    """||Hessian of run `run`'s objective||_2 over its own coordinates, from the dense Hessian."""
    keep = [m.expand(p.shape)[run].bool() for p, m in zip(params, masks(s))]
    sizes = [int(k.sum()) for k in keep]

    def f(flat):
        parts = []
        for p, k, piece in zip(params, keep, flat.split(sizes)):
            row = torch.zeros_like(p[run]).masked_scatter(k, piece)
            parts.append(torch.cat([p[:run], row[None], p[run + 1 :]]))
        return s.objective(parts)[run]

    flat = torch.cat([p[run][k] for p, k in zip(params, keep)])
    return float(torch.linalg.matrix_norm(torch.autograd.functional.hessian(f, flat), ord=2))


def close(got, want, rtol=1e-10, atol=1e-12):
    torch.testing.assert_close(got, want, rtol=rtol, atol=atol)


# -- the registry ---------------------------------------------------------------------------------
def test_every_trained_kind_is_checked_here_and_closed_form_kinds_train_nothing():
    checked = {c.values[0][0] for c in CASES}
    assert checked == {name for name, kind in STUDENT_KINDS.items() if kind.trained} and checked
    for name, kind in STUDENT_KINDS.items():
        assert name == kind.name and kind.teachers
        if not kind.trained:  # rrr: fitted in closed form, no steps, no training options
            teacher = TINY_TEACHERS[kind.teachers[0]]()
            with pytest.raises(InputError, match="steps"):
                simulate.rank_sweep(teacher, [1], [N], seeds=[0], student=name, steps=5)
            with pytest.raises(InputError, match="no optimization"):
                simulate.convergence_sweep(teacher, 1, [5], N, seeds=[0], student=name)


def test_the_kind_builds_declared_students_named_after_it(case, students):
    assert isinstance(students, Students) and isinstance(students, Trainable)
    assert students.kind == case[0]  # the results' `student` column names the registry entry
    assert isinstance(type(students).cheap_full_gradient, bool)
    assert students.runs[: len(RUNS)] == RUNS and len(students.runs) == len(RUNS) + 1
    assert students.risk_method == "exact" or students.risk_method.startswith("fresh_sample:")
    assert students.dtype == torch.float64 and students.device == torch.device("cpu")


# -- parameters, steps, gradients ---------------------------------------------------------------------
def test_init_params_are_stacked_per_run_deterministic_and_zero_on_the_padding(students):
    params, runs = students.init_params(), len(students.runs)
    assert isinstance(params, list) and params
    for p, q, m in zip(params, students.init_params(), students.masks()):
        assert p.shape[0] == runs and p.dtype == students.dtype and p.device == students.device
        assert torch.equal(p, q)
        assert set(torch.unique(m).tolist()) <= {0.0, 1.0} and m.expand(p.shape).shape == p.shape
        assert torch.all(p * (1 - m) == 0)
        assert all(int(m.expand(p.shape)[i].sum()) > 0 for i in range(runs))


def test_a_run_sees_the_same_numbers_alone_as_in_the_batch(case, students):
    """Batching is transparent: the run's init, objective, gradient and risks do not depend on its mates."""
    alone = build(*case, runs=[RUNS[ALONE]])
    batch_p, alone_p = students.init_params(), alone.init_params()
    for p, q, m, n in zip(batch_p, alone_p, students.masks(), alone.masks()):
        assert torch.equal(own(p, m, ALONE), own(q, n, 0))
    close(students.objective(batch_p)[ALONE], alone.objective(alone_p)[0])
    for g, h, m, n in zip(students.full_grads(batch_p), alone.full_grads(alone_p), students.masks(), alone.masks()):
        close(own(g, m, ALONE), own(h, n, 0))
    for key, value in alone.evaluate(alone_p).items():
        close(students.evaluate(batch_p)[key][ALONE], value[0])


def test_step_returns_per_run_losses_and_gradients_that_keep_the_padding_zero(students):
    params = random_params(students)
    idx = torch.randint(N, (len(students.runs), 7), generator=torch.Generator().manual_seed(1))
    loss, grads = students.step(params, idx)
    assert loss.shape == (len(students.runs),) and loss.dtype == students.dtype
    assert len(grads) == len(params)
    for g, p, m in zip(grads, params, students.masks()):
        assert g.shape == p.shape and g.dtype == p.dtype
        assert torch.all(g * (1 - m) == 0)


def test_a_minibatch_of_every_pair_is_the_full_batch(students):
    params = random_params(students, 2)
    every = torch.arange(N).expand(len(students.runs), N)
    for idx in (every, None):
        loss, grads = students.step(params, idx)
        close(loss, students.objective(params))
        for g, h in zip(grads, students.full_grads(params)):
            close(g, h)
    close(students.full_grad_norm_sq(params), sum(g.square().flatten(1).sum(1) for g in students.full_grads(params)))


def test_full_gradients_match_autograd_and_finite_differences(students):
    params = random_params(students, 3)
    grads = students.full_grads(params)
    for g, h in zip(grads, autograd(students, params)):
        close(g, h)
    direction = random_params(students, 4, scale=1.0)
    h = 1e-6
    plus = students.objective([p + h * v for p, v in zip(params, direction)])
    minus = students.objective([p - h * v for p, v in zip(params, direction)])
    slope = sum((g * v).flatten(1).sum(1) for g, v in zip(grads, direction))
    close((plus - minus) / (2 * h), slope, rtol=1e-6, atol=1e-8)


def test_a_small_step_along_the_step_gradient_lowers_the_objective_by_the_first_order_amount(students):
    params = random_params(students, 5)
    f0, (_, grads) = students.objective(params), students.step(params, None)
    eta = 1e-4
    f1 = students.objective([p - eta * g for p, g in zip(params, grads)])
    predicted = eta * sum(g.square().flatten(1).sum(1) for g in grads)
    assert torch.all(predicted > 0)
    ratio = (f0 - f1) / predicted
    assert torch.all((ratio > 0.98) & (ratio < 1.02)), ratio
    # and a minibatch step lowers its own minibatch's loss
    idx = torch.randint(N, (len(students.runs), 5), generator=torch.Generator().manual_seed(6))
    loss0, grads = students.step(params, idx)
    loss1, _ = students.step([p - eta * g for p, g in zip(params, grads)], idx)
    assert torch.all(loss1 < loss0)


def test_evaluate_records_every_student_metric_consistently(students):
    params = random_params(students, 7)
    metrics = students.evaluate(params)
    assert set(STUDENT_METRICS) <= set(metrics)
    for name in STUDENT_METRICS:
        assert metrics[name].shape == (len(students.runs),) and torch.all(torch.isfinite(metrics[name])), name
    alpha = torch.tensor([r.alpha for r in students.runs], dtype=torch.float64)
    close(metrics["objective"], students.objective(params))
    close(metrics["objective"], metrics["train_risk"] + alpha * metrics["clone_loss"])
    close(metrics["grad_norm_sq"], students.full_grad_norm_sq(params))
    close(
        metrics["test_risk"] - metrics["excess_risk"],
        torch.full_like(metrics["test_risk"], students.teacher.noise_floor),
    )
    assert torch.all(metrics["excess_risk"] >= 0) and torch.all(metrics["clone_loss"] >= 0)


def test_gradient_noise_is_the_per_sample_gradient_variance_over_the_batch_size(students):
    params = random_params(students, 8)
    runs = len(students.runs)
    per_sample = torch.stack(
        [torch.cat([g.flatten(1) for g in students.step(params, torch.full((runs, 1), i))[1]], 1) for i in range(N)]
    )  # (N, R, P): minibatches of one pair
    variance = (per_sample - per_sample.mean(0)).square().sum(-1).mean(0)
    close(students.gradient_noise(params, 5), variance / 5, rtol=1e-9)
    assert torch.all(students.gradient_noise(params, None) == 0)


def test_flops_grow_with_the_batch(students):
    assert 0 < students.flops_per_step(4) < students.flops_per_step(8)


# -- the Trainable part, the C1 quadratic included ------------------------------------------------------
def _quadratic():
    return simulate.QuadraticRuns(
        simulate.Quadratic((2.0, 1.0, 0.25), sigma=0.0), [0, 1], dtype=torch.float64, device=torch.device("cpu")
    )


@pytest.fixture(params=CASES + [pytest.param(None, id="quadratic")])
def trainable(request):
    return _quadratic() if request.param is None else build(*request.param)


def test_the_trainable_contract(trainable):
    params = random_params(trainable, 9)
    runs = len(trainable.runs)
    objective = trainable.objective(params)
    assert objective.shape == (runs,)
    close(trainable.full_grad_norm_sq(params), sum(g.square().flatten(1).sum(1) for g in autograd(trainable, params)))
    metrics = trainable.evaluate(params)
    close(metrics["objective"], objective)
    close(metrics["grad_norm_sq"], trainable.full_grad_norm_sq(params))
    noise = trainable.gradient_noise(params, 4)
    assert noise.shape == (runs,) and torch.all(noise >= 0)


def test_objective_min_bounds_the_objective_and_the_optimum_attains_it(trainable):
    f_min = trainable.objective_min()
    assert f_min.shape == (len(trainable.runs),) and f_min.dtype == torch.float64
    for seed in range(4):
        assert torch.all(trainable.objective(random_params(trainable, seed)).double() >= f_min - 1e-12)
    optimum = trainable.optimum_params()
    if optimum is None:  # no closed-form minimizer: f_min is a stated lower bound only
        return
    close(trainable.objective(optimum).double(), f_min, rtol=1e-9, atol=1e-10)
    assert float(trainable.full_grad_norm_sq(optimum).max()) < 1e-16
    for p, m in zip(optimum, masks(trainable)):
        assert torch.all(p * (1 - m) == 0)


def test_smoothness_is_a_lower_bound_on_the_hessian_norm_and_exact_smoothness_an_upper_one(trainable):
    params = random_params(trainable, 10)
    estimate, state = trainable.smoothness(params, 40)
    assert estimate.shape == (len(trainable.runs),) and torch.all(estimate > 0)
    again, _ = trainable.smoothness(params, 5, state)  # a warm start is accepted
    assert torch.all(torch.isfinite(again))
    exact = trainable.exact_smoothness()
    for run in range(len(trainable.runs)):
        norm = hessian_norm(trainable, params, run)
        assert float(estimate[run]) <= norm * (1 + 1e-9)
        assert float(estimate[run]) >= 0.5 * norm
        if exact is not None:  # the global constant: at least the local Hessian norm anywhere
            assert float(exact[run]) >= norm * (1 - 1e-9)


# -- capabilities -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("widths", [None, [1, 4], [4]], ids=["planned", "two-buckets", "one-bucket"])
def test_a_packed_program_takes_the_padded_step(students, widths):
    if not isinstance(students, Packed):
        pytest.skip(f"{type(students).__name__} does not declare Packed")
    width = max(r.rank for r in students.runs)
    widths = None if widths is None else sorted({min(w, width) for w in widths} | {width})
    params, batch = random_params(students, 11), 6
    lr = torch.linspace(0.01, 0.04, len(students.runs), dtype=torch.float64)
    idx = BatchStream(students.runs, N, batch, students.device).next()  # the program's first minibatch
    loss, grads = students.step(params, idx)
    want = [p - lr.view(-1, *[1] * (p.dim() - 1)) * g for p, g in zip(params, grads)]

    program = students.packed_program(params, lr, batch, widths)
    for p, q in zip(program.params(), params):
        assert torch.equal(p, q)
    out = torch.empty(len(students.runs), dtype=torch.float64)
    for t, g, step in zip(program.tensors, program.losses_and_grads(out), program.lrs):
        t.sub_(step.view(-1, *[1] * (t.dim() - 1)) * g)
    order = np.arange(len(students.runs)) if program.order is None else program.order
    close(out, loss[order])
    for p, q in zip(program.params(), want):
        close(p, q)
    if program.fused_sgd:
        fused = students.packed_program(params, lr, batch, widths)
        fused.sgd_step(out)
        close(out, loss[order])
        for p, q in zip(fused.params(), want):
            close(p, q)


def test_linear_weights_give_the_objective_and_the_risks(students):
    if not isinstance(students, LinearWeights):
        pytest.skip(f"{type(students).__name__} does not declare LinearWeights")
    params = random_params(students, 12)
    w = students.weight(params)
    teacher = students.teacher
    assert w.shape == (len(students.runs), teacher.m, teacher.n)
    rows = students.data.run_index(students.runs)
    x, y, c = students.data.x[rows], students.data.y[rows], students.data.clean[rows]
    pred = x @ w.transpose(1, 2)
    alpha = torch.tensor([r.alpha for r in students.runs], dtype=torch.float64)
    brute = (pred - y).square().sum(-1).mean(1) + alpha * (pred - c).square().sum(-1).mean(1)
    close(students.objective(params), brute)
    metrics = students.evaluate(params)
    for key, value in students.risks_of_weight(w).items():
        close(value, metrics[key])


def test_transfer_smoothness_factors_the_exact_constant(students):
    if not isinstance(students, TransferSmoothness):
        pytest.skip(f"{type(students).__name__} does not declare TransferSmoothness")
    assert students.teacher_norm_sq() == pytest.approx(np.linalg.norm(students.teacher.weight, 2) ** 2, rel=1e-12)
    lg, exact = students.exact_smoothness_g(), students.exact_smoothness()
    assert (lg is None) == (exact is None)
    if lg is not None:
        close(exact, students.teacher_norm_sq() * lg)


def test_representations_have_the_documented_shapes_and_padding(case, students):
    if not isinstance(students, Representations):
        pytest.skip(f"{type(students).__name__} does not declare Representations")
    x = torch.randn(9, students.teacher.n, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    params = random_params(students, 13)
    teacher, reps = students.representations(params, x)
    assert isinstance(teacher, np.ndarray) and teacher.ndim == 2 and teacher.shape[0] == 9
    assert isinstance(reps, np.ndarray) and reps.shape[:2] == (len(students.runs), 9)
    for i, run in enumerate(students.runs):
        width = students.representation_width(run)
        assert width is None or 1 <= width <= reps.shape[2]
        if width is not None:
            assert np.all(reps[i, :, width:] == 0)
    alone = build(*case, runs=[RUNS[ALONE]])
    alone_reps = alone.representations(alone.init_params(), x)[1][0]
    width = students.representation_width(RUNS[ALONE]) or reps.shape[2]
    np.testing.assert_allclose(
        students.representations(students.init_params(), x)[1][ALONE][:, :width],
        alone_reps[:, :width],
        rtol=1e-12,
        atol=1e-14,
    )
