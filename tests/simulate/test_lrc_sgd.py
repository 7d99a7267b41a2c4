"""C1's plain-SGD runs on a tiny random Llama: the update is a hand-written SGD step, the
finite-sum constants are what they claim to be, and the runs produce the tables validate/ reads."""

import numpy as np
import pytest
import torch

from lrkd.simulate.lrc import LRCConfig, distill
from lrkd.simulate.lrc.sgd import SGDProblem, sgd_config, sgd_runs, step_size
from lrkd.simulate.lrc.tiny import make_tiny_workspace, tiny_config


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return make_tiny_workspace(tmp_path_factory.mktemp("ws"))


RUN = dict(
    steps=2, lr=0.05, eval_points=2, hidden_snapshots=2, mi_tokens=16
)  # this file's run size, over tiny_config's defaults


def config(ws, tmp_path, **overrides) -> LRCConfig:
    return tiny_config(ws, tmp_path, **{**RUN, **overrides})


def test_the_sgd_variant_is_a_hand_written_sgd_step(ws, tmp_path):
    problem = SGDProblem(config(ws, tmp_path, lr=0.05), n_batches=3)
    before = [p.detach().clone() for p in problem.params]
    _, grad = problem.loss_and_grad(1)
    problem.sgd_step(1, 0.05)
    flat_before = torch.cat([b.reshape(-1) for b in before])
    flat_after = torch.cat([p.detach().reshape(-1) for p in problem.params])
    torch.testing.assert_close(flat_after, flat_before - 0.05 * grad, rtol=0, atol=1e-12)
    # the training loop's "sgd" settings are the same update: no momentum, clipping or schedule
    cfg = sgd_config(config(ws, tmp_path), 0.05)
    plain = (cfg.momentum, cfg.weight_decay, cfg.max_grad_norm, cfg.schedule, cfg.warmup_steps)
    assert plain == (0, 0, 0, "constant", 0)
    record = distill(cfg)
    assert all(row["lr"] == 0.05 and not row["clipped"] for row in record.steps)


def test_finite_sum_constants_match_their_definitions(ws, tmp_path):
    problem = SGDProblem(config(ws, tmp_path), n_batches=3)
    c = problem.constants(power_iters=3, seed=0)
    grads = torch.stack([problem.loss_and_grad(i)[1] for i in range(3)])
    mean = grads.mean(0)
    assert c["grad_f_norm_sq"] == pytest.approx(float(mean @ mean), rel=1e-9)
    assert c["sigma2"] == pytest.approx(float(((grads - mean) ** 2).sum(1).mean()), rel=1e-9)
    assert c["f"] > 0 and c["L"] > 0
    eta = step_size(c, 16)
    assert eta <= 1 / c["L"] + 1e-15


def test_sgd_runs_give_one_row_per_step_and_budget(ws, tmp_path):
    out = sgd_runs(config(ws, tmp_path), [2, 4], n_batches=3, power_iters=2)
    assert [r["T"] for r in out["runs"]] == [2, 4]
    assert len(out["steps"]) == 6 and {c["step"] for c in out["constants"]} == {0, 1, 4}
    assert all(np.isfinite(r["avg_grad_dot"]) and r["lr"] > 0 for r in out["runs"])
    assert {r["dtype"] for r in out["runs"]} == {"float64"}  # the resolved precision (tiny_config's)
