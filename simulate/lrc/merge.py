"""Fold a trained student into a plain `transformers.LlamaForCausalLM` of hidden size d_S.

LRC "soft-prunes" the teacher: after training every projection is multiplied into the frozen
teacher tensors (W_S = W_T P, or P^T W_T on the output side, E_S = E_T P_emb) and the student's
RMSNorm weights are copied. The result is an ordinary Llama with the teacher's heads, head_dim,
FFN width, vocabulary and RoPE, only narrower; `save_pretrained` / `from_pretrained` work as for
any model, and its logits equal the projected student's (tested to float tolerance).
"""

from __future__ import annotations

import copy
from pathlib import Path

import torch

from lrkd.simulate.lrc.student import DenseStudent, LRCStudent


def student_config(student: LRCStudent | DenseStudent):
    """The teacher's LlamaConfig with hidden_size d_S (head_dim kept explicit).

    Args:
        student: an LRCStudent or DenseStudent.

    Returns:
        A copy of the teacher's transformers config for the merged model.
    """
    config = copy.deepcopy(student.teacher.model.config)
    arch = student.teacher.arch
    config.hidden_size = student.d_S
    config.head_dim = arch.head_dim
    config.tie_word_embeddings = bool(student.ties_embeddings)
    config.architectures = ["LlamaForCausalLM"]
    for attr in ("gguf_file", "_name_or_path"):
        if hasattr(config, attr):
            setattr(config, attr, "")
    return config


@torch.no_grad()
def merge(student, save_to: str | Path | None = None, *, dtype: torch.dtype = torch.float32):
    """A LlamaForCausalLM computing the student's function; saved (safetensors) when `save_to`.

    Args:
        student: an LRCStudent, a DenseStudent, or a run record holding one (`.student`).
        save_to: a folder to save the model and the teacher's tokenizer in (None: not saved).
        dtype: the merged model's dtype.

    Returns:
        The transformers.LlamaForCausalLM (eval mode).
    """
    from transformers import LlamaForCausalLM  # transformers takes seconds to import: only when merging

    student = getattr(student, "student", student)
    weights = student.plain_weights()
    model = LlamaForCausalLM(student_config(student)).to(dtype)
    inner = model.model
    inner.embed_tokens.weight.copy_(weights.embed)
    inner.norm.weight.copy_(weights.final_norm)
    if not model.config.tie_word_embeddings:
        model.lm_head.weight.copy_(weights.head)
    for block, w in zip(inner.layers, weights.layers):
        att, mlp = block.self_attn, block.mlp
        for module, tensor in (
            (att.q_proj, w.q),
            (att.k_proj, w.k),
            (att.v_proj, w.v),
            (att.o_proj, w.o),
            (mlp.gate_proj, w.gate),
            (mlp.up_proj, w.up),
            (mlp.down_proj, w.down),
        ):
            module.weight.copy_(tensor)
        block.input_layernorm.weight.copy_(w.input_norm)
        block.post_attention_layernorm.weight.copy_(w.post_norm)
    model.eval()
    if save_to is not None:
        model.save_pretrained(save_to, safe_serialization=True)
        student.teacher.tokenizer.save_pretrained(save_to)
    return model
