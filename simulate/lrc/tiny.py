"""A tiny random Llama teacher written to disk, as safetensors and as GGUF, with its own tokenizer.

For tests and smoke runs that must not depend on the real teacher: `make_tiny_teacher(folder)`
trains a byte-level BPE tokenizer (`tokenizers`) on a few built-in lines, builds a randomly
initialized `transformers.LlamaForCausalLM` (default hidden 64, 2 layers, 4 heads, 2 KV heads,
FFN 128), and saves it as `folder/safetensors/` (config.json + model.safetensors + tokenizer) and
`folder/gguf/tiny-llama.gguf` (float32 tensors and the tokenizer in the layout transformers' GGUF
loader reads: llama.cpp names, q/k rows permuted as llama.cpp's converter does).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from lrkd.simulate.lrc.config import LRCConfig

SEED_TEXT = """In the beginning God created the heaven and the earth.
And the earth was without form, and void; and darkness was upon the face of the deep.
And the Spirit of God moved upon the face of the waters.
And God said, Let there be light: and there was light.
And God saw the light, that it was good: and God divided the light from the darkness.
And God called the light Day, and the darkness he called Night.
And the evening and the morning were the first day.
The quick brown fox jumps over the lazy dog while the small teacher distils a smaller student.
Low rank clone distillation trains projections of a frozen teacher on real text.
"""
SPECIAL = "<|endoftext|>"


def make_tokenizer(vocab_size: int = 300, text: str = SEED_TEXT):
    """A byte-level BPE tokenizer trained on `text`, as a transformers fast tokenizer.

    Args:
        vocab_size: the BPE vocabulary's target size (with <|endoftext|> as BOS and EOS).
        text: the training lines.

    Returns:
        A transformers PreTrainedTokenizerFast.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast  # seconds to import: only when a tiny teacher is made

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[SPECIAL],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(text.splitlines(), trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=SPECIAL, bos_token=SPECIAL, unk_token=None)


def make_tiny_model(
    vocab_size: int,
    *,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    ffn: int = 128,
    max_positions: int = 128,
    tie: bool = True,
    seed: int = 0,
):
    """A random LlamaForCausalLM; weights N(0, 0.02)-ish per transformers, norms perturbed off 1.

    Args:
        vocab_size: the vocabulary (the tokenizer's length).
        hidden: d_model.
        layers: decoder layers.
        heads: attention heads.
        kv_heads: key/value heads.
        ffn: the FFN width.
        max_positions: the context length.
        tie: tie the LM head to the embedding.
        seed: torch's seed for the weights.

    Returns:
        The model in float32, eval mode.
    """
    from transformers import LlamaConfig, LlamaForCausalLM  # seconds to import: only when a tiny teacher is made

    config = LlamaConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        intermediate_size=ffn,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=hidden // heads,
        max_position_embeddings=max_positions,
        rms_norm_eps=1e-5,
        rope_theta=10000.0,
        tie_word_embeddings=tie,
        bos_token_id=0,
        eos_token_id=0,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:  # non-trivial norm weights make the equivalence tests sharper
                p.uniform_(0.5, 1.5)
            else:
                p.normal_(0.0, 0.2 if "embed" in name else 0.1)
    return model


def llama_cpp_permute(weights: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's q/k row permutation (transformers' GGUF loader undoes it).

    Args:
        weights: a q or k projection (rows = heads x head_dim).
        n_head: its number of heads.

    Returns:
        The permuted array, same shape.
    """
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def write_gguf(model, tokenizer, path: Path) -> Path:
    """Write a float32 GGUF of a LlamaForCausalLM and its byte-level BPE tokenizer.

    Args:
        model: the transformers model (make_tiny_model).
        tokenizer: its tokenizer (make_tokenizer).
        path: the .gguf file to write.

    Returns:
        path.
    """
    import gguf

    cfg = model.config
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("tiny-llama")
    writer.add_context_length(cfg.max_position_embeddings)
    writer.add_embedding_length(cfg.hidden_size)
    writer.add_block_count(cfg.num_hidden_layers)
    writer.add_feed_forward_length(cfg.intermediate_size)
    writer.add_rope_dimension_count(cfg.head_dim)
    writer.add_head_count(cfg.num_attention_heads)
    writer.add_head_count_kv(cfg.num_key_value_heads)
    writer.add_layer_norm_rms_eps(cfg.rms_norm_eps)
    writer.add_rope_freq_base(cfg.rope_theta)
    writer.add_vocab_size(cfg.vocab_size)
    _write_tokenizer(writer, tokenizer, cfg.vocab_size)
    for name, tensor in _gguf_tensors(model):
        writer.add_tensor(name, tensor)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def _write_tokenizer(writer, tokenizer, vocab_size: int) -> None:
    import gguf

    state = json.loads(tokenizer.backend_tokenizer.to_str())
    vocab = state["model"]["vocab"]
    tokens = [None] * vocab_size
    for token, idx in vocab.items():
        tokens[idx] = token
    tokens = [t if t is not None else f"[PAD{i}]" for i, t in enumerate(tokens)]
    merges = [m if isinstance(m, str) else " ".join(m) for m in state["model"]["merges"]]
    special = {t["id"] for t in state["added_tokens"]}
    types = [gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for i in range(vocab_size)]
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(tokenizer.bos_token_id)
    writer.add_eos_token_id(tokenizer.eos_token_id)


def _gguf_tensors(model):
    cfg, inner = model.config, model.model
    yield "token_embd.weight", _np(inner.embed_tokens.weight)
    yield "output_norm.weight", _np(inner.norm.weight)
    if not cfg.tie_word_embeddings:
        yield "output.weight", _np(model.lm_head.weight)
    for i, block in enumerate(inner.layers):
        att, mlp = block.self_attn, block.mlp
        yield f"blk.{i}.attn_norm.weight", _np(block.input_layernorm.weight)
        yield f"blk.{i}.attn_q.weight", llama_cpp_permute(_np(att.q_proj.weight), cfg.num_attention_heads)
        yield f"blk.{i}.attn_k.weight", llama_cpp_permute(_np(att.k_proj.weight), cfg.num_key_value_heads)
        yield f"blk.{i}.attn_v.weight", _np(att.v_proj.weight)
        yield f"blk.{i}.attn_output.weight", _np(att.o_proj.weight)
        yield f"blk.{i}.ffn_norm.weight", _np(block.post_attention_layernorm.weight)
        yield f"blk.{i}.ffn_gate.weight", _np(mlp.gate_proj.weight)
        yield f"blk.{i}.ffn_up.weight", _np(mlp.up_proj.weight)
        yield f"blk.{i}.ffn_down.weight", _np(mlp.down_proj.weight)


def _np(tensor: torch.Tensor) -> np.ndarray:
    return np.ascontiguousarray(tensor.detach().float().cpu().numpy())


def make_tiny_teacher(
    folder: str | Path, *, vocab_size: int = 300, tie: bool = True, seed: int = 0, gguf: bool = True, **arch
) -> dict[str, Path]:
    """Save a tiny random Llama teacher under `folder`; returns {'safetensors': dir, 'gguf': file}.

    Args:
        folder: where to write it.
        vocab_size: the tokenizer's vocabulary.
        tie: tie the LM head to the embedding.
        seed: the weights' seed.
        gguf: also write the GGUF file.
        arch: other make_tiny_model shape keywords (hidden, layers, heads, ...).

    Returns:
        {"safetensors": the model folder, "gguf": the .gguf file (when written)}.
    """
    folder = Path(folder)
    tokenizer = make_tokenizer(vocab_size)
    model = make_tiny_model(len(tokenizer), tie=tie, seed=seed, **arch)
    st_dir = folder / "safetensors"
    model.save_pretrained(st_dir, safe_serialization=True)
    tokenizer.save_pretrained(st_dir)
    paths = {"safetensors": st_dir}
    if gguf:
        (folder / "gguf").mkdir(parents=True, exist_ok=True)
        paths["gguf"] = write_gguf(model, tokenizer, folder / "gguf" / "tiny-llama.gguf")
    return paths


def tiny_text(repeats: int = 40) -> str:
    """A few thousand tokens of text for tiny runs: the seed lines, repeated with line numbers.

    Args:
        repeats: passes over the seed lines.

    Returns:
        The text.
    """
    lines = SEED_TEXT.strip().splitlines()
    return "\n".join(f"{i} {lines[i % len(lines)]}" for i in range(repeats * len(lines))) + "\n"


def make_tiny_workspace(folder: str | Path, **teacher_kwargs) -> dict[str, Path]:
    """A tiny teacher (safetensors + GGUF) and a text file: everything a smoke run needs, offline.

    Args:
        folder: where to write them.
        teacher_kwargs: make_tiny_teacher's keywords.

    Returns:
        make_tiny_teacher's paths plus "text": the text file.
    """
    folder = Path(folder)
    paths = make_tiny_teacher(folder / "teacher", **teacher_kwargs)
    text = folder / "text.txt"
    text.write_text(tiny_text())
    return {**paths, "text": text}


def tiny_config(workspace: dict[str, Path], folder: str | Path, **overrides):
    """An LRCConfig for smoke runs on a tiny workspace (make_tiny_workspace): d_S = 16, 16-token
    sequences, batches of 4, one held-out batch, on the CPU in float64, run files under `folder`.

    Args:
        workspace: what make_tiny_workspace returned.
        folder: where runs and caches go.
        overrides: any other LRCConfig keys (steps, lr, dtype, ...).

    Returns:
        The LRCConfig.
    """
    base = dict(
        teacher=str(workspace["safetensors"]),
        text=str(workspace["text"]),
        d_S=16,
        seq_len=16,
        batch_size=4,
        eval_batches=1,
        heldout_every=5,
        device="cpu",
        dtype="float64",
        output_dir=str(Path(folder) / "runs"),
        cache_dir=str(Path(folder) / "cache"),
    )
    return LRCConfig(**{**base, **overrides})
