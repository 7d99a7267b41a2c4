"""The packed training program (simulate/packed.py): rank buckets and seed-grouped products give
the same trajectories as the students' own padded step, whatever the buckets; the bucket plan;
the per-seed minibatch stream."""

import numpy as np
import pytest
import torch

from lrkd import simulate
from lrkd.errors import InputError
from lrkd.simulate._seeds import torch_generator
from lrkd.simulate.data import INDEX_CHUNK, BatchStream, Run, load_data
from lrkd.simulate.packed import plan_buckets
from lrkd.simulate.training import TrainSpec, train


def build(kind, runs, n_samples=64):
    teacher = simulate.LinearTeacher(8, 6, simulate.PowerLaw(1.0, 2.0), 0.3, 0)
    data = load_data(
        teacher, n_samples, seeds=sorted({r.seed for r in runs}), dtype=torch.float64, device=torch.device("cpu")
    )
    if kind == "factorized":
        return simulate.FactorizedStudents(teacher, data, runs)
    return simulate.LRCStudents(teacher, data, runs, train_embedding=(kind == "lrc"))


GRID = [Run(s, r, a) for a in (0.0, 0.5) for r in (1, 2, 4, 5) for s in (0, 1, 2)]
RAGGED = [Run(0, 1), Run(1, 3, 0.5), Run(0, 3), Run(2, 2), Run(1, 5, 0.2), Run(0, 4)]  # unequal per seed


def assert_same_trajectories(got, want, rtol=1e-10):
    assert got.steps == want.steps
    for name, values in want.metrics.items():
        np.testing.assert_allclose(got.metrics[name], values, rtol=rtol, atol=1e-13, err_msg=name)
    for p, q in zip(got.params, want.params):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=rtol, atol=1e-13)


@pytest.mark.parametrize("buckets", ["auto", [5], [1, 2, 4, 5], [2, 5], [3, 9]])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["factorized", "lrc", "lrc_frozen"])
def test_any_buckets_give_the_padded_programs_trajectories(kind, optimizer, buckets):
    spec = TrainSpec(
        steps=40, optimizer=optimizer, lr=0.02, batch_size=8, record_points=5, power_iters=5, grad_every_step=True
    )
    assert_same_trajectories(
        train(build(kind, GRID), spec, buckets=buckets), train(build(kind, GRID), spec, buckets="none")
    )


@pytest.mark.parametrize("kind", ["factorized", "lrc"])
def test_runs_without_a_full_seed_grid_and_per_run_step_sizes_match_too(kind):
    """Unequal runs per seed (one group per run) and the c1 rule's per-run step sizes."""
    spec = TrainSpec(steps=60, step_rule="c1", batch_size=8, record_points=6, power_iters=5)
    packed = train(build(kind, RAGGED), spec, buckets=[1, 3, 5])
    assert len(set(packed.constants["lr"])) > 1
    assert_same_trajectories(packed, train(build(kind, RAGGED), spec, buckets="none"))


def test_a_diverging_run_inside_a_seed_grouped_bucket_leaves_its_mates_alone():
    """Runs of one seed share the stacked GEMMs; alpha = 40 diverges at lr = 0.08, alpha = 0 does not."""
    runs = [Run(s, 2, a) for s in (0, 1) for a in (0.0, 40.0)]
    spec = TrainSpec(steps=300, lr=0.08, batch_size=16, record_points=8, c1_stats=False)
    packed, padded = train(build("factorized", runs), spec), train(build("factorized", runs), spec, buckets="none")
    assert packed.diverged_step.tolist() == padded.diverged_step.tolist()
    assert packed.diverged_reason == padded.diverged_reason
    assert packed.diverged_step[0] == -1 and packed.diverged_step[1] > 0
    np.testing.assert_allclose(
        packed.metrics["objective"][:, [0, 2]], padded.metrics["objective"][:, [0, 2]], rtol=1e-10
    )


def test_on_record_sees_the_padded_layout_at_every_record_step():
    seen = []
    students = build("factorized", GRID)
    train(
        students,
        TrainSpec(steps=20, batch_size=8, record_points=4, c1_stats=False),
        on_record=lambda t, params: seen.append((t, [p.shape for p in params])),
    )
    assert [t for t, _ in seen] == [0, 1, 4, 20]
    assert all(shapes == [(len(GRID), 8, 5), (len(GRID), 5, 6)] for _, shapes in seen)


def test_bucket_plan_trades_padding_against_a_cost_per_bucket():
    ranks = [8, 16, 24, 32, 40, 48, 56, 64] * 8
    assert plan_buckets(ranks, 1.0, overhead=0.0) == [8, 16, 24, 32, 40, 48, 56, 64]
    assert plan_buckets(ranks, 1.0, overhead=1e9) == [64]
    # ranks 1 and 10, one run each: one bucket costs c + 2 * 10, two cost 2c + 1 + 10
    assert plan_buckets([1, 10], 1.0, overhead=10.0) == [10]
    assert plan_buckets([1, 10], 1.0, overhead=8.0) == [1, 10]
    assert plan_buckets([3, 3, 3], 1.0) == [3]


def test_bucket_widths_must_hold_every_rank():
    students = build("factorized", GRID)
    for bad in ([4], [], "some", [2.5, 5], [0, 5]):
        with pytest.raises(InputError, match="^buckets: "):
            train(students, TrainSpec(steps=5, batch_size=8), buckets=bad)
    with pytest.raises(InputError, match="^buckets: "):
        train(students, TrainSpec(steps=5, batch_size=None), buckets=[5])


def test_minibatch_stream_is_each_seeds_own_draws_in_fixed_chunks():
    runs = [Run(3, 1), Run(5, 2), Run(3, 4)]
    stream = BatchStream(runs, 50, 4, torch.device("cpu"))
    steps = [stream.next() for _ in range(INDEX_CHUNK + 2)]
    for seed, rows in ((3, (0, 2)), (5, (1,))):
        draws = torch.randint(50, (2 * INDEX_CHUNK, 4), generator=torch_generator("minibatch", seed))
        for t in (0, 1, INDEX_CHUNK - 1, INDEX_CHUNK, INDEX_CHUNK + 1):
            for row in rows:
                assert torch.equal(steps[t][row], draws[t])
