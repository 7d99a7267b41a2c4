"""Teacher loading (safetensors and GGUF written by the test), the cache, the teacher forward, bad input."""

import json

import numpy as np
import pytest
import torch

from lrkd import progress as progress_bars
from lrkd.errors import InputError
from lrkd.simulate.lrc import load_teacher, teacher_spectra
from lrkd.simulate.lrc.llama import CLONE_KINDS
from lrkd.simulate.lrc.teacher import load_progress_enabled
from lrkd.simulate.lrc.tiny import make_tiny_teacher, make_tokenizer


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_tiny_teacher(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_safetensors_teacher_loads_frozen_with_its_shape(tiny, cache):
    teacher = load_teacher(tiny["safetensors"], cache_dir=cache)
    arch = teacher.arch
    shape = (arch.n_layers, arch.d_model, arch.n_heads, arch.n_kv_heads, arch.head_dim, arch.d_ff)
    assert shape == (2, 64, 4, 2, 16, 128)
    assert arch.tie_embeddings
    assert not any(p.requires_grad for p in teacher.model.parameters())


def test_gguf_teacher_gives_the_same_model_and_tokens(tiny, cache):
    reference = load_teacher(tiny["safetensors"], cache_dir=cache)
    from_gguf = load_teacher(tiny["gguf"], cache_dir=cache)
    text = "And God saw the light, that it was good. Zebra!"
    ids = reference.tokenizer(text, add_special_tokens=False).input_ids
    assert from_gguf.tokenizer(text, add_special_tokens=False).input_ids == ids
    batch = torch.tensor([ids])
    torch.testing.assert_close(from_gguf.model(batch).logits, reference.model(batch).logits, rtol=1e-5, atol=1e-5)


def test_gguf_is_dequantized_once_into_the_cache(tiny, tmp_path):
    load_teacher(tiny["gguf"], cache_dir=tmp_path)
    cached = list((tmp_path / "teachers").iterdir())
    assert len(cached) == 1 and (cached[0] / "COMPLETE").is_file() and (cached[0] / "model.safetensors").is_file()
    stamp = (cached[0] / "model.safetensors").stat().st_mtime_ns
    load_teacher(tiny["gguf"], cache_dir=tmp_path)  # second load reads the cache, writes nothing
    assert (cached[0] / "model.safetensors").stat().st_mtime_ns == stamp


def test_gguf_dequantization_draws_no_progress_bar_into_a_log(tiny, tmp_path, capfd):
    load_teacher(tiny["gguf"], cache_dir=tmp_path / "quiet")  # stderr is captured here: not a terminal
    assert "de-quantizing" not in capfd.readouterr().err
    load_teacher(tiny["gguf"], cache_dir=tmp_path / "asked", progress=True)  # the bar exists when asked for
    assert "de-quantizing" in capfd.readouterr().err


def test_quiet_silences_the_dequantization_bar_even_when_asked_for(tiny, tmp_path, capfd, quiet):
    load_teacher(tiny["gguf"], cache_dir=tmp_path, progress=True)
    assert "de-quantizing" not in capfd.readouterr().err


@pytest.fixture
def quiet():
    """lrkd's --quiet for one test, restored afterwards."""
    was = progress_bars.is_quiet()
    progress_bars.set_quiet(True)
    yield
    progress_bars.set_quiet(was)


class _Terminal:
    def isatty(self):
        return True


def test_load_progress_follows_the_terminal_unless_asked(monkeypatch):
    assert load_progress_enabled(None) is False  # pytest's captured stderr is not a terminal
    assert load_progress_enabled(True) is True
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert load_progress_enabled(None) is True and load_progress_enabled(False) is False


def test_quiet_turns_load_progress_off_even_on_a_terminal(monkeypatch, quiet):
    monkeypatch.setattr("sys.stderr", _Terminal())
    assert load_progress_enabled(None) is False and load_progress_enabled(True) is False


def test_a_folder_holding_one_gguf_file_loads(tiny, cache):
    teacher = load_teacher(tiny["gguf"].parent, cache_dir=cache)
    assert teacher.arch.d_model == 64


def test_own_forward_matches_transformers_logits_and_activations(tiny, cache):
    teacher = load_teacher(tiny["safetensors"], cache_dir=cache)
    ids = torch.randint(0, teacher.arch.vocab, (3, 17), generator=torch.Generator().manual_seed(0))
    hooked = {}
    block = teacher.model.model.layers[1]
    modules = {
        "q": block.self_attn.q_proj,
        "k": block.self_attn.k_proj,
        "v": block.self_attn.v_proj,
        "gate": block.mlp.gate_proj,
        "up": block.mlp.up_proj,
        "attn_out": block.self_attn.o_proj,
        "ffn_out": block.mlp.down_proj,
    }
    handles = [
        m.register_forward_hook(lambda mod, inp, out, k=k: hooked.__setitem__(k, out)) for k, m in modules.items()
    ]
    try:
        reference = teacher.model(ids, output_hidden_states=True)
    finally:
        for h in handles:
            h.remove()
    out = teacher.forward(ids, capture=True, hidden_layers=(1,))
    torch.testing.assert_close(out.logits, reference.logits, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(out.hidden[1], reference.hidden_states[1], rtol=1e-5, atol=1e-5)
    for kind in CLONE_KINDS:  # q, k before RoPE: the projections' raw outputs
        torch.testing.assert_close(out.acts[1][kind], hooked[kind], rtol=1e-5, atol=1e-5)


def test_bf16_compute_copies_leave_float32_weights_untouched(tiny, cache):
    teacher = load_teacher(tiny["safetensors"], cache_dir=cache)
    ids = torch.randint(0, teacher.arch.vocab, (2, 9))
    exact = teacher.forward(ids).logits
    teacher.set_compute_dtype(torch.bfloat16)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = teacher.forward(ids).logits
    teacher.set_compute_dtype(None)
    assert teacher.layer(0).q.dtype == torch.float32
    assert 0 < (low.float() - exact).abs().max() < 0.1 * exact.abs().max()
    torch.testing.assert_close(teacher.forward(ids).logits, exact)


def test_teacher_spectra_are_the_singular_values(tiny, cache):
    teacher = load_teacher(tiny["safetensors"], cache_dir=cache)
    spectra = teacher_spectra(teacher)
    assert len(spectra) == 2 * 7 + 1
    assert spectra["L0.k"].shape == (32,) and spectra["L1.gate"].shape == (64,)
    expected = np.linalg.svd(teacher.layer(1).down.double().numpy(), compute_uv=False)
    np.testing.assert_allclose(spectra["L1.down"], expected, rtol=1e-10)


# -- bad input ---------------------------------------------------------------------------------


def test_missing_teacher_path_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="teacher: must be an existing model folder"):
        load_teacher(tmp_path / "nope")


def test_folder_without_a_model_is_a_clear_error(tmp_path):
    with pytest.raises(InputError, match="teacher: folder .* holds no config.json or .gguf file"):
        load_teacher(tmp_path)


def test_non_gguf_file_is_a_clear_error(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"\0" * 10)
    with pytest.raises(InputError, match=r"teacher: a file must be a \.gguf model"):
        load_teacher(path)


def test_non_llama_model_is_rejected(tmp_path):
    from transformers import GPT2Config, GPT2LMHeadModel

    config = GPT2Config(n_layer=1, n_embd=16, n_head=2, vocab_size=50, n_positions=32)
    GPT2LMHeadModel(config).save_pretrained(tmp_path)
    make_tokenizer(280).save_pretrained(tmp_path)
    with pytest.raises(InputError, match="teacher: must be a Llama-family causal LM .* got model_type 'gpt2'"):
        load_teacher(tmp_path)


def test_broken_config_is_a_clear_error(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "no-such-model"}))
    with pytest.raises(InputError, match="teacher: .* is not a model transformers can load"):
        load_teacher(tmp_path)


def test_corrupt_gguf_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\x01" * 64)
    with pytest.raises(InputError, match="teacher: .* is not a model transformers can load"):
        load_teacher(bad, cache_dir=tmp_path / "cache")
