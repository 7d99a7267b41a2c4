"""Distillation runs on a tiny random Llama built here: records, resume, shared-teacher sweeps, errors."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import lrkd.simulate.lrc.api as api
import lrkd.simulate.lrc.train as train
from lrkd.config import load
from lrkd.errors import InputError
from lrkd.sweep import to_frame
from lrkd.simulate.lrc import LRCConfig, distill, load_teacher, lrc_rank_sweep, train_sweep
from lrkd.simulate.lrc.record import TRAJECTORY_COLUMNS
from lrkd.simulate.lrc.tiny import make_tiny_workspace, tiny_config
from lrkd.simulate.lrc.train import resolved_dtype

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    return make_tiny_workspace(tmp_path_factory.mktemp("ws"))


@pytest.fixture(scope="module")
def teacher(ws):
    return load_teacher(ws["safetensors"])


RUN = dict(
    steps=12, lr=1e-2, eval_points=5, mi_tokens=24, checkpoint_every=4, dtype="float32"
)  # this file's run size, over tiny_config's defaults


def config(ws, tmp_path, **overrides) -> LRCConfig:
    return tiny_config(ws, tmp_path, **{**RUN, **overrides})


def test_distill_lowers_the_heldout_loss_and_records_what_validate_needs(ws, teacher, tmp_path):
    record = distill(config(ws, tmp_path, steps=16), teacher=teacher)
    steps = [row["step"] for row in record.trajectory]
    assert steps[0] == 0 and steps[-1] == 16 and steps == sorted(set(steps))
    assert record.trajectory[-1]["heldout_lm_loss"] < record.trajectory[0]["heldout_lm_loss"] - 0.1
    assert set(TRAJECTORY_COLUMNS) <= set(record.trajectory[-1])
    assert [row["step"] for row in record.steps] == list(range(16))
    assert all(
        row["grad_norm"] > 0 and row["grad_norm_sq"] == pytest.approx(row["grad_norm"] ** 2) for row in record.steps
    )
    final = record.final
    assert final["tokens_seen"] == 16 * 4 * 16 and final["n_train_tokens"] % 16 == 0
    assert final["n_distinct_tokens_seen"] == min(final["tokens_seen"], final["n_train_tokens"])
    assert final["diverged"] is False and final["diverged_step"] is None and final["diverged_reason"] is None
    assert final["tokens_per_s"] > 0 and final["peak_memory_mb"] > 0 and final["device"] == "cpu"
    assert record.hidden["hidden.teacher.L2"].shape == (24, 64)
    students = [row for row in record.hidden_index if row["role"] == "student"]
    assert {row["step"] for row in students} == {0, steps[len(steps) // 2], 16}  # 3 log-spaced snapshots
    assert all(record.hidden[row["array"]].shape == (24, 16) for row in students)
    assert all(np.isfinite(row["heldout_clone_loss"]) for row in students)


def test_an_interrupted_run_resumes_to_the_same_numbers(ws, teacher, tmp_path):
    whole = distill(config(ws, tmp_path / "a"), teacher=teacher)
    partial = distill(config(ws, tmp_path / "b"), teacher=teacher, stop_after_step=7)  # killed after ckpt 4
    assert not partial.completed and len(partial.steps) == 7
    resumed = distill(config(ws, tmp_path / "b"), teacher=teacher)
    assert resumed.completed
    assert [r["loss"] for r in resumed.steps] == [r["loss"] for r in whole.steps]
    assert [r["heldout_lm_loss"] for r in resumed.trajectory] == [r["heldout_lm_loss"] for r in whole.trajectory]
    np.testing.assert_array_equal(
        resumed.hidden["hidden.dS16-a0.2-N768.L2.step12"], whole.hidden["hidden.dS16-a0.2-N768.L2.step12"]
    )


def test_a_finished_run_is_returned_without_training(ws, teacher, tmp_path, monkeypatch):
    first = distill(config(ws, tmp_path, steps=4), teacher=teacher)
    monkeypatch.setattr("lrkd.simulate.lrc.train.train_step", lambda *a, **k: pytest.fail("trained again"))
    again = distill(config(ws, tmp_path, steps=4), teacher=teacher)
    assert again.final["heldout_lm_loss"] == first.final["heldout_lm_loss"]
    assert again.student is not None and again.student.d_S == 16


def test_a_sweep_runs_the_teacher_once_per_step_and_matches_separate_runs(ws, teacher, tmp_path, monkeypatch):
    calls = []
    original = teacher.forward
    monkeypatch.setattr(teacher, "forward", lambda *a, **k: calls.append(1) or original(*a, **k))
    cfg = config(ws, tmp_path, steps=8)
    records = train_sweep(cfg, d_S_values=[8, 16], token_budgets=[256, 512], alphas=[0.0, 0.2], teacher=teacher)
    assert len(calls) == cfg.eval_batches + 1 + 8  # eval set (held-out + MI batch) + one per step, not per student
    assert [r.label for r in records][:4] == ["dS8-a0-N256", "dS8-a0.2-N256", "dS8-a0-N512", "dS8-a0.2-N512"]
    assert [r.final["steps"] for r in records] == [4, 4, 8, 8] * 2
    monkeypatch.setattr(teacher, "forward", original)
    alone = distill(config(ws, tmp_path / "alone", steps=8), teacher=teacher)
    shared = next(r for r in records if r.label == "dS16-a0.2-N512")
    assert [r["loss"] for r in shared.steps] == [r["loss"] for r in alone.steps]
    assert shared.final["heldout_lm_loss"] == alone.final["heldout_lm_loss"]
    no_clone = next(r for r in records if r.label == "dS16-a0-N512")
    assert no_clone.steps[0]["clone_loss"] == 0 and np.isfinite(no_clone.final["heldout_clone_loss"])


def test_lrc_rank_sweep_is_one_stored_cell_read_back_from_the_store(ws, tmp_path, monkeypatch):
    cfg = config(ws, tmp_path, steps=4)
    stored = lrc_rank_sweep(cfg, [8, 16], token_budgets=[128, 256], store=tmp_path / "store.db", progress=False)
    final = to_frame([stored], "final")
    assert sorted(zip(final["d_S"], final["token_budget"])) == [(8, 128), (8, 256), (16, 128), (16, 256)]
    assert {"trajectory", "steps", "final", "hidden_index"} <= set(stored.tables)
    assert sum(1 for row in stored.tables["hidden_index"] if row["role"] == "teacher") == 2
    assert all(name in stored.arrays for name in (row["array"] for row in stored.tables["hidden_index"]))
    monkeypatch.setattr(api, "train_sweep", lambda *a, **k: pytest.fail("recomputed a stored cell"))
    again = lrc_rank_sweep(cfg, [8, 16], token_budgets=[128, 256], store=tmp_path / "store.db", progress=False)
    assert again.key == stored.key


def test_vanilla_kd_and_c1_estimates(ws, teacher, tmp_path):
    kd = distill(config(ws, tmp_path, method="kd", steps=6), teacher=teacher)
    assert kd.final["method"] == "kd" and math.isnan(kd.final["heldout_clone_loss"])
    lrc = distill(config(ws, tmp_path, steps=6, c1_estimates=True, c1_power_iters=3), teacher=teacher)
    assert [row["step"] for row in lrc.c1] == [0, 6]
    assert all(
        row["sigma2"] > 0 and row["L_estimate"] > 0 and row["n_params"] == lrc.final["n_trainable"] for row in lrc.c1
    )
    assert lrc.final["delta_estimate"] == pytest.approx(lrc.final["train_loss_initial"] - lrc.final["train_loss_min"])


def test_a_run_that_blows_up_is_kept_as_diverged(ws, teacher, tmp_path):
    record = distill(
        config(ws, tmp_path, optimizer="sgd", lr=1e12, max_grad_norm=0.0, schedule="constant", steps=6), teacher=teacher
    )
    final = record.final
    assert final["diverged"] is True and isinstance(final["diverged_step"], int)
    assert final["diverged_reason"].startswith("non-finite") and math.isnan(final["heldout_lm_loss"])


def test_bf16_autocast_runs_train_too(ws, teacher, tmp_path):
    record = distill(config(ws, tmp_path, dtype="bfloat16", steps=10), teacher=teacher)
    assert record.final["dtype"] == "bfloat16-autocast"
    assert record.trajectory[-1]["heldout_lm_loss"] < record.trajectory[0]["heldout_lm_loss"]
    assert teacher.compute_dtype is None  # the shared teacher is left in float32


def test_auto_precision_is_float32_on_the_cpu_and_bf16_only_when_asked(ws, teacher, tmp_path):
    assert resolved_dtype(config(ws, tmp_path, dtype="auto"), "cpu") == "float32"
    assert resolved_dtype(config(ws, tmp_path, dtype="bfloat16"), "cpu") == "bfloat16-autocast"
    assert resolved_dtype(config(ws, tmp_path, dtype="float64")) == "float64"
    record = distill(config(ws, tmp_path, dtype="auto", steps=2), teacher=teacher)
    assert record.final["dtype"] == "float32"


@pytest.mark.parametrize("supported, expected", [(True, "bfloat16-autocast"), (False, "float32")])
def test_auto_precision_on_a_gpu_is_bf16_autocast_where_supported(ws, tmp_path, monkeypatch, supported, expected):
    monkeypatch.setattr(train, "resolve", lambda device: torch.device("cuda"))  # no GPU needed to resolve
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: supported)
    assert resolved_dtype(config(ws, tmp_path, dtype="auto"), "cuda") == expected
    if not supported:
        with pytest.raises(InputError, match="dtype: bfloat16 is not supported on this GPU"):
            resolved_dtype(config(ws, tmp_path, dtype="bfloat16"), "cuda")


def test_an_auto_run_keeps_its_resolved_precision_in_its_folder(ws, tmp_path):
    cfg, specs = config(ws, tmp_path, dtype="auto"), api.sweep_specs(config(ws, tmp_path, dtype="auto"))
    assert train.run_folder(cfg, specs, "float32") != train.run_folder(cfg, specs, "bfloat16-autocast")
    assert train.run_folder(cfg, specs) == train.run_folder(cfg, specs, "float32")  # resolved here: the CPU
    fixed = config(ws, tmp_path, dtype="float32")
    assert train.run_folder(fixed, specs, "float32") == train.run_folder(fixed, specs, "bfloat16-autocast")


def test_quick_config_file_loads():
    cfg = load(LRCConfig, ROOT / "configs" / "lrc_quick.toml")
    assert cfg.d_S == 192 and cfg.teacher == "smollm2-135m-instruct" and cfg.text == "kjv"


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"d_S": 0}, r"d_S: must be an integer >= 1, got 0"),
        ({"seq_len": 1}, r"seq_len: must be an integer >= 2"),
        ({"lr": 0.0}, r"lr: must be a finite number > 0"),
        ({"clone_terms": ("q", "bogus")}, r"clone_terms: must be distinct names from q, k, v"),
        ({"warmup_steps": 12}, r"warmup_steps: must be an integer in \[0, 11\]"),
        ({"device": "tpu"}, r"device: must be auto, cpu or cuda"),
    ],
)
def test_bad_config_values_name_the_field(ws, tmp_path, overrides, message):
    with pytest.raises(InputError, match=message):
        config(ws, tmp_path, **overrides)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"d_S": 64}, r"d_S: must be an integer in \[1, 63\], got 64"),
        ({"d_S": 100}, r"d_S: must be an integer in \[1, 63\], got 100"),
        ({"seq_len": 256}, r"seq_len: must be an integer in \[2, 128\], got 256"),
        ({"hidden_layers": (3,)}, r"hidden_layers: must be an integer in \[1, 2\]"),
    ],
)
def test_ranges_set_by_the_teacher_are_checked(ws, teacher, tmp_path, overrides, message):
    with pytest.raises(InputError, match=message):
        distill(config(ws, tmp_path, **overrides), teacher=teacher)


def test_bad_teacher_and_text_are_clear_errors(ws, teacher, tmp_path):
    with pytest.raises(InputError, match="teacher: must be an existing model folder"):
        distill(config(ws, tmp_path, teacher=str(tmp_path / "missing")))
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InputError, match="text: .* is empty"):
        distill(config(ws, tmp_path, text=str(tmp_path / "empty.txt")), teacher=teacher)
    with pytest.raises(InputError, match="text: must be 'kjv' or an existing text file"):
        distill(config(ws, tmp_path, text=str(tmp_path / "nope.txt")), teacher=teacher)


def test_bad_sweep_lists_are_clear_errors(ws, teacher, tmp_path):
    cfg = config(ws, tmp_path)
    with pytest.raises(InputError, match=r"token_budgets: each must be an integer >= batch_size x seq_len = 64"):
        train_sweep(cfg, [8], token_budgets=[10], teacher=teacher)
    with pytest.raises(InputError, match="d_S_values: must be a non-empty list of distinct values"):
        train_sweep(cfg, [8, 8], teacher=teacher)
    with pytest.raises(InputError, match=r"d_S: must be an integer in \[1, 63\]"):
        train_sweep(cfg, [8, 64], teacher=teacher)


def test_unknown_keys_in_a_config_file_are_rejected(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("d_S = 8\nrank = 3\n")
    with pytest.raises(InputError, match="rank: unknown key"):
        load(LRCConfig, path)
