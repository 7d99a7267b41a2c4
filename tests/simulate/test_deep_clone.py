"""simulate.clone_deep: two-layer teachers whose cloned hidden activation is not the output."""

from __future__ import annotations

import numpy as np
import pytest

from lrkd.errors import InputError
from lrkd.store import ResultStore
from lrkd.sweep import SerialExecutor
from lrkd.simulate import DeepTeacher, PowerLaw, deep_clone_sweep
from lrkd.simulate.clone_deep import _Evaluator

SMALL = dict(sample_size=200, steps=60, batch_size=16, record_points=4, val_samples=200)


@pytest.fixture(scope="module")
def teacher():
    return DeepTeacher((6, 5, 2), "linear", PowerLaw(1.0), noise=0.5)


def test_hidden_is_not_the_output_and_normalized(teacher):
    x = teacher.sample(20000, seed=0).x
    h = teacher.hidden(x)
    assert h.shape == (20000, 5) and teacher.output(h).shape == (20000, 2)
    assert np.mean(np.sum(h**2, 1)) / 5 == pytest.approx(1.0, rel=0.05)  # unit mean square per hidden unit
    # the output only sees h through W_2 (2 x 5): a 3-dimensional null space the output loss cannot see
    assert np.linalg.matrix_rank(teacher.layers[-1]) == 2
    relu = DeepTeacher((6, 5, 2), "relu")
    assert np.mean(np.sum(relu.hidden(x) ** 2, 1)) / 5 == pytest.approx(1.0, rel=0.25)


def test_teacher_round_trips_and_rejects_bad_widths(teacher):
    assert DeepTeacher.from_dict(teacher.to_dict()) == teacher
    np.testing.assert_array_equal(DeepTeacher.from_dict(teacher.to_dict()).layers[0], teacher.layers[0])
    with pytest.raises(InputError, match="widths"):
        DeepTeacher((6, 2))
    with pytest.raises(InputError, match="activation"):
        DeepTeacher((6, 5, 2), "tanh")
    with pytest.raises(InputError, match="arms"):
        deep_clone_sweep(teacher, 2, seeds=[0], arms=("distill",), **SMALL)


def test_linear_evaluation_is_exact(teacher):
    """Exact moments agree with a large sample; M = I has zero output loss and zero clone MSE."""
    exact = _Evaluator(teacher, 0, 10)
    m = np.random.default_rng(0).standard_normal((6, 6)) * 0.3
    out, clone = exact.errors(m)
    x = teacher.sample(200_000, seed=1, stream="check").x
    diff = teacher.hidden(x, m) - teacher.hidden(x)
    assert clone == pytest.approx(np.mean(np.sum(diff**2, 1)), rel=0.02)
    assert out == pytest.approx(np.mean(np.sum(teacher.output(diff) ** 2, 1)), rel=0.02)
    assert exact.errors(np.eye(6)) == (0.0, 0.0)


def test_a_run_in_the_batch_equals_the_run_alone(teacher):
    both = deep_clone_sweep(
        teacher, 2, seeds=[3], arms=("noisy", "kd_clone"), lrs=(0.01, 0.03), executor=SerialExecutor(), **SMALL
    )
    alone = deep_clone_sweep(teacher, 2, seeds=[3], arms=("kd_clone",), lrs=(0.03,), executor=SerialExecutor(), **SMALL)
    at = {"seed": 3, "arm": "kd_clone", "lr": 0.03, "step": 60}
    np.testing.assert_array_equal(both.projection(**at), alone.projection(**at))


def test_training_does_what_each_arm_asks(teacher):
    sweep = deep_clone_sweep(
        teacher,
        2,
        seeds=[0],
        arms=("kd", "kd_clone"),
        lrs=(0.03,),
        executor=SerialExecutor(),
        **{**SMALL, "steps": 400},
    )
    last = sweep.frame[sweep.frame["step"] == 400].set_index("arm")
    first = sweep.frame[sweep.frame["step"] == 0].set_index("arm")
    assert (last["output_loss"] < 0.5 * first["output_loss"]).all()
    assert last.loc["kd_clone", "clone_mse"] < last.loc["kd", "clone_mse"]  # the clone term pins the null space
    assert not last["diverged"].any()


def test_sweep_resumes_from_the_store(teacher, tmp_path):
    store = ResultStore(tmp_path / "r.sqlite")
    first = deep_clone_sweep(teacher, 2, seeds=[0, 1], lrs=(0.01,), store=store, executor=SerialExecutor(), **SMALL)
    again = deep_clone_sweep(teacher, 2, seeds=[0, 1], lrs=(0.01,), store=store, executor=SerialExecutor(), **SMALL)
    assert len(store.finished_keys(list(first.frame["cell_key"].unique()))) == 2
    np.testing.assert_array_equal(first.frame["output_loss"].to_numpy(), again.frame["output_loss"].to_numpy())
    at = {"seed": 1, "arm": "kd", "lr": 0.01, "step": 60}
    np.testing.assert_array_equal(first.projection(**at), again.projection(**at))
