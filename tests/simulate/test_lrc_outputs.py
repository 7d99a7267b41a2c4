"""Stored teacher outputs (simulate/lrc/outputs.py) and reduced teachers, on a tiny random Llama.

The exactness claim: a student trained from stored teacher outputs takes the same steps as one
trained with the live teacher (float64, 1e-6), both with the whole vocabulary stored and with the
top-k form at k = V (empty tail). With k < V the KL is the coarse-grained one, never above the
full KL (data-processing inequality).
"""

import dataclasses

import numpy as np
import pytest
import torch

from lrkd.errors import InputError
from lrkd.simulate.lrc import LRCConfig, distill, load_teacher
from lrkd.simulate.lrc.losses import TeacherTargets, TopKTargets, kl_from_log_probs
from lrkd.simulate.lrc.teacher import reduce_teacher
from lrkd.simulate.lrc.tiny import make_tiny_workspace, tiny_config


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return make_tiny_workspace(tmp_path_factory.mktemp("ws"))


RUN = dict(
    steps=3,
    lr=0.05,
    optimizer="sgd",
    schedule="constant",
    max_grad_norm=0.0,
    eval_points=2,
    hidden_snapshots=2,
    mi_tokens=16,
    checkpoint_every=10,
)  # this file's run size, over tiny_config's defaults


def config(ws, tmp_path, **overrides) -> LRCConfig:
    return tiny_config(ws, tmp_path, **{**RUN, **overrides})


def _params(record) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in record.student.state_dict().items()}


def _max_rel_diff(a: dict, b: dict) -> float:
    return max(float((a[k] - b[k]).abs().max() / b[k].abs().max().clamp(min=1e-30)) for k in a)


@pytest.mark.parametrize("top_k", [None, "V"])
def test_stored_outputs_give_the_live_student_steps_in_float64(ws, tmp_path, top_k):
    vocab = load_teacher(ws["safetensors"]).arch.vocab
    k = vocab if top_k == "V" else None
    live = distill(config(ws, tmp_path / "live"))
    cached = distill(config(ws, tmp_path / "cached", teacher_outputs="cached", top_k=k))
    assert cached.final["dtype"] == "float64"
    for a, b in zip(cached.steps, live.steps):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-6, abs=1e-12)
        assert a["grad_norm"] == pytest.approx(b["grad_norm"], rel=1e-6)
    assert _max_rel_diff(_params(cached), _params(live)) < 1e-6
    assert (tmp_path / "cached" / "cache" / "teacher_outputs").is_dir()


def test_stored_mode_never_runs_the_teacher_forward_and_needs_the_store(ws, tmp_path, monkeypatch):
    cfg = config(ws, tmp_path, teacher_outputs="stored", dtype="float32")
    with pytest.raises(InputError, match="teacher-outputs"):
        distill(cfg)
    first = distill(dataclasses.replace(cfg, teacher_outputs="cached", output_dir=str(tmp_path / "a")))
    teacher = load_teacher(ws["safetensors"])
    monkeypatch.setattr(teacher, "forward", lambda *a, **k: pytest.fail("the teacher's forward ran"))
    again = distill(dataclasses.replace(cfg, output_dir=str(tmp_path / "b")), teacher=teacher)
    assert [r["loss"] for r in again.steps] == [r["loss"] for r in first.steps]


def test_topk_kl_is_the_coarse_grained_kl_below_the_full_one():
    gen = torch.Generator().manual_seed(0)
    teacher_logits = torch.randn(2, 5, 40, generator=gen, dtype=torch.float64) * 3
    student_logp = torch.log_softmax(torch.randn(2, 5, 40, generator=gen, dtype=torch.float64), -1)
    full = kl_from_log_probs(student_logp, TeacherTargets.from_logits(teacher_logits, 1.0))
    logp = torch.log_softmax(teacher_logits, -1)
    for k in (1, 5, 20, 40):
        values, ids = torch.topk(logp, k, dim=-1)
        tail = torch.log(-torch.expm1(torch.logsumexp(values, -1).clamp(max=0)))
        coarse = kl_from_log_probs(student_logp, TopKTargets(values, ids, tail, 1.0))
        # the same quantity by hand: k + 1 outcomes
        p_top, q_top = values.exp(), student_logp.gather(-1, ids).exp()
        p_tail, q_tail = 1 - p_top.sum(-1), 1 - q_top.sum(-1)
        by_hand = (p_top * (p_top.log() - q_top.log())).sum(-1)
        if k < 40:
            by_hand = by_hand + p_tail * (p_tail.log() - q_tail.log())
        assert float(coarse) == pytest.approx(float(by_hand.mean()), rel=1e-9)
        assert float(coarse) <= float(full) + 1e-12
    assert float(coarse) == pytest.approx(float(full), rel=1e-9)  # k = V


def test_a_reduced_teacher_is_the_real_ones_first_layers_and_vocabulary_rows(ws):
    teacher = load_teacher(ws["safetensors"])
    ids = torch.tensor([[1, 5, 9, 30, 7, 5]])
    full = teacher.forward(ids, hidden_layers=(1,))
    keep = np.array([1, 5, 7, 9, 30, 42, 77])
    small = reduce_teacher(teacher, n_layers=1, keep_ids=keep)
    assert small.arch.n_layers == 1 and small.arch.vocab == 7 and "first 1 of 2 layers" in small.reduction
    mapped = torch.from_numpy(small.encode(ids.numpy()))
    got = small.forward(mapped).logits
    x = full.hidden[1]
    from lrkd.simulate.lrc.llama import rms_norm

    expected = torch.nn.functional.linear(rms_norm(x, teacher.final_norm, teacher.arch.eps), teacher.head[keep])
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    whole = reduce_teacher(teacher, keep_ids=np.arange(teacher.arch.vocab))
    torch.testing.assert_close(whole.forward(ids).logits, full.logits, rtol=1e-5, atol=1e-5)
    with pytest.raises(InputError, match="teacher_layers"):
        reduce_teacher(teacher, n_layers=3)


def test_lrkd_teacher_outputs_writes_what_a_stored_run_reads(ws, tmp_path, capsys):
    from lrkd.cli import main

    cfg = config(ws, tmp_path, dtype="float32", teacher_outputs="stored", top_k=8)
    toml = tmp_path / "distill.toml"
    toml.write_text(
        "\n".join(
            f"{k} = {v!r}".replace("'", '"')
            for k, v in {
                "teacher": cfg.teacher,
                "text": cfg.text,
                "seq_len": 16,
                "batch_size": 4,
                "steps": 3,
                "d_S": 16,
                "top_k": 8,
                "eval_points": 2,
                "hidden_snapshots": 2,
                "eval_batches": 1,
                "mi_tokens": 16,
                "heldout_every": 5,
                "device": "cpu",
                "dtype": "float32",
                "cache_dir": cfg.cache_dir,
                "output_dir": cfg.output_dir,
            }.items()
        )
        + "\n"
    )
    assert main(["teacher-outputs", str(toml)]) == 0
    written = capsys.readouterr().out.split()
    assert len(written) == 2 and all(p.endswith(".safetensors") for p in written)
    record = distill(cfg)  # "stored": reads them, never runs the teacher's forward
    assert record.completed and len(record.steps) == 3
    assert main(["teacher-outputs", str(toml), "--set", "top_k=0"]) == 2  # bad input: one line, exit 2
