"""Slow group (`pytest -m slow tests/simulate/test_lrc_slow.py`): the real SmolLM2 teacher on KJV text.

The first run dequantizes the GGUF teacher into the cache (~25 s); later runs load it in < 1 s.
`test_acceptance_run` is the issue's acceptance check: a d_S = 192 student distilled from the real
teacher on KJV text on a 2-core CPU in under 15 minutes, with the held-out loss falling.
"""

import time
from pathlib import Path

import pytest
import torch

from lrkd.config import load
from lrkd.simulate.lrc import LRCConfig, distill, load_teacher, merge
from lrkd.simulate.lrc.data import build_corpus

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
QUICK = ROOT / "configs" / "lrc_quick.toml"


@pytest.fixture(scope="module")
def smollm2():
    return load_teacher("smollm2-135m-instruct")


def test_real_teacher_loads_offline_and_our_forward_matches_transformers(smollm2):
    arch = smollm2.arch
    shape = (arch.n_layers, arch.d_model, arch.n_heads, arch.n_kv_heads, arch.d_ff, arch.vocab)
    assert shape == (30, 576, 9, 3, 1536, 49152)
    corpus = build_corpus(smollm2.tokenizer, "kjv", 64)
    ids = torch.from_numpy(corpus.heldout[:2])
    with torch.no_grad():
        torch.testing.assert_close(smollm2.forward(ids).logits, smollm2.model(ids).logits, rtol=1e-4, atol=1e-4)
    assert 900_000 < corpus.n_stream_tokens < 1_100_000


def _run(overrides, tmp_path, smollm2):
    cfg = load(LRCConfig, QUICK, [*overrides, f"output_dir={tmp_path}"])
    start = time.perf_counter()
    record = distill(cfg, teacher=smollm2, progress=False)
    return record, time.perf_counter() - start


def test_quick_config_lowers_the_heldout_loss(smollm2, tmp_path):
    record, seconds = _run([], tmp_path, smollm2)
    losses = [row["heldout_lm_loss"] for row in record.trajectory]
    print(f"quick: {seconds:.0f} s, held-out LM loss {losses[0]:.3f} -> {losses[-1]:.3f}, trajectory {losses}")
    assert losses[-1] < losses[0] - 1.0
    assert seconds < 15 * 60


def test_acceptance_run(smollm2, tmp_path):
    record, seconds = _run(["steps=150", "eval_points=8", "eval_batches=2", "checkpoint_every=50"], tmp_path, smollm2)
    losses = [(row["step"], round(row["heldout_lm_loss"], 3)) for row in record.trajectory]
    final = record.final
    print(
        f"acceptance: {seconds:.0f} s, {final['tokens_seen']} tokens at {final['tokens_per_s']:.0f} tokens/s, "
        f"held-out LM loss {losses[0][1]} -> {losses[-1][1]} (ppl {final['heldout_ppl']:.0f}), "
        f"KL {record.trajectory[0]['heldout_kl']:.3f} -> {final['heldout_kl']:.3f}, trajectory {losses}"
    )
    assert seconds < 15 * 60
    assert losses[-1][1] < losses[0][1] - 2.0
    merged = merge(record)
    assert merged.config.hidden_size == 192
