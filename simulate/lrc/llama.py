"""A compact Llama forward pass on plain tensors, shared by the teacher and every LRC student.

One decoder layer is: RMSNorm -> q, k, v projections -> RoPE -> causal (grouped-query) attention
-> o projection -> residual; RMSNorm -> SwiGLU FFN (gate, up, down) -> residual. This is exactly
`transformers`' LlamaForCausalLM (no biases, SiLU, rotate-half RoPE); a test checks the teacher's
logits against transformers' to float tolerance. Weights are (out x in) like `nn.Linear`.

The same `layer_forward` runs the teacher (teacher weights, width d_T) and an LRC student (weights
formed as W_T @ P, width d_S), and returns the activations that LRC clones: q, k, v *before* RoPE,
gate and up (pre-activation), the attention output (after o) and the FFN output (after down).
An optional `o_to_residual` matrix maps the attention output to the residual width after o: the
student uses it for the teacher-width attention-output variant (see `student.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

CLONE_KINDS = ("q", "k", "v", "gate", "up", "attn_out", "ffn_out")
MATRIX_KINDS = ("q", "k", "v", "o", "gate", "up", "down")


@dataclass(frozen=True)
class Arch:
    """The shape of a Llama model (the teacher's; a student shares all but the hidden width)."""

    n_layers: int
    d_model: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    d_ff: int
    vocab: int
    eps: float
    max_positions: int
    tie_embeddings: bool

    @classmethod
    def from_hf(cls, cfg) -> "Arch":
        """The shape of a transformers Llama config.

        Args:
            cfg: a transformers LlamaConfig (head_dim defaults to hidden_size // heads).

        Returns:
            The Arch.
        """
        head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // cfg.num_attention_heads
        return cls(
            cfg.num_hidden_layers,
            cfg.hidden_size,
            cfg.num_attention_heads,
            cfg.num_key_value_heads or cfg.num_attention_heads,
            head_dim,
            cfg.intermediate_size,
            cfg.vocab_size,
            float(cfg.rms_norm_eps),
            cfg.max_position_embeddings,
            bool(getattr(cfg, "tie_word_embeddings", False)),
        )


@dataclass
class LayerWeights:
    """One decoder layer's tensors, (out x in), plus its two RMSNorm weight vectors."""

    q: torch.Tensor
    k: torch.Tensor
    v: torch.Tensor
    o: torch.Tensor
    gate: torch.Tensor
    up: torch.Tensor
    down: torch.Tensor
    input_norm: torch.Tensor
    post_norm: torch.Tensor


def wide(x: torch.Tensor) -> torch.Tensor:
    """x in at least float32: low-precision tensors are widened, float64 stays float64 (so a float64
    run, used by the exactness tests, is float64 throughout).

    Args:
        x: any floating tensor.

    Returns:
        x itself when float64, else x.float().
    """
    return x if x.dtype == torch.float64 else x.float()


def rms_norm(x: torch.Tensor, weight: torch.Tensor, eps: float) -> torch.Tensor:
    """Llama RMSNorm: normalise in float32 (always, as transformers does: merged students and
    the teacher's transformers model then agree to 1e-10 in float64), scale by `weight`.

    Args:
        x: activations (..., d).
        weight: the norm's scale (d).
        eps: added to the mean square.

    Returns:
        weight x (x / rms(x)), in x's dtype before the scale.
    """
    dtype = x.dtype
    x32 = x.float()
    x32 = x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + eps)
    return weight * x32.to(dtype)


def rotate_half(x: torch.Tensor) -> torch.Tensor:
    """RoPE's rotate-half: (x1, x2) -> (-x2, x1) on the last axis's two halves.

    Args:
        x: (..., head_dim) with head_dim even.

    Returns:
        A tensor of x's shape.
    """
    first, second = x.chunk(2, dim=-1)  # chunk, not slicing: its backward is a cat, not zero-fills
    return torch.cat((-second, first), dim=-1)


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding, as transformers applies it.

    The tables are cast to x's dtype (as transformers does), so bf16 stays bf16 under autocast.

    Args:
        x: (B, heads, T, head_dim).
        cos: (B, T, head_dim) from the model's rotary module.
        sin: (B, T, head_dim) from the model's rotary module.

    Returns:
        The rotated x, same shape and dtype.
    """
    cos, sin = cos.to(x.dtype).unsqueeze(1), sin.to(x.dtype).unsqueeze(1)
    return x * cos + rotate_half(x) * sin


def attend(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, arch: Arch, cos: torch.Tensor, sin: torch.Tensor
) -> torch.Tensor:
    """Causal grouped-query attention on pre-RoPE q (B,T,H*hd), k, v (B,T,Hkv*hd) -> (B,T,H*hd).

    Args:
        q: queries before RoPE.
        k: keys before RoPE.
        v: values.
        arch: heads, KV heads and head_dim.
        cos: RoPE table (rope_tables).
        sin: RoPE table (rope_tables).

    Returns:
        The heads' outputs concatenated, (B, T, H*hd).
    """
    b, t, _ = q.shape
    qh = q.view(b, t, arch.n_heads, arch.head_dim).transpose(1, 2)
    kh = k.view(b, t, arch.n_kv_heads, arch.head_dim).transpose(1, 2)
    vh = v.view(b, t, arch.n_kv_heads, arch.head_dim).transpose(1, 2)
    qh, kh = apply_rope(qh, cos, sin), apply_rope(kh, cos, sin)
    groups = arch.n_heads // arch.n_kv_heads
    if groups > 1:  # transformers' repeat_kv: query head h reads kv head h // groups
        kh, vh = kh.repeat_interleave(groups, dim=1), vh.repeat_interleave(groups, dim=1)
    if qh.device.type == "cpu" and qh.dtype in (torch.bfloat16, torch.float16):
        out = _eager_causal_attention(qh, kh, vh)
    else:
        out = F.scaled_dot_product_attention(qh, kh, vh, is_causal=True)
    return out.transpose(1, 2).reshape(b, t, arch.n_heads * arch.head_dim)


def _eager_causal_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """transformers' eager attention (softmax in float32). On CPU in bf16 it is several times
    faster than torch's fused kernel for the short sequences used here (4x at T = 64)."""
    t = q.shape[-2]
    scores = (q @ k.transpose(-1, -2)) * q.shape[-1] ** -0.5
    scores = scores.masked_fill(torch.ones(t, t, dtype=torch.bool, device=q.device).triu(1), float("-inf"))
    return torch.softmax(scores.float(), dim=-1).to(q.dtype) @ v


def layer_forward(
    x: torch.Tensor,
    w: LayerWeights,
    arch: Arch,
    cos: torch.Tensor,
    sin: torch.Tensor,
    *,
    o_to_residual: torch.Tensor | None = None,
    capture: dict | None = None,
) -> torch.Tensor:
    """One decoder layer. With `capture`, store the cloned activations in it (keys CLONE_KINDS).

    Args:
        x: the residual stream (B, T, width).
        w: the layer's weights (teacher's, or a student's formed ones).
        arch: heads, KV heads, head_dim, eps.
        cos: RoPE table (rope_tables).
        sin: RoPE table (rope_tables).
        o_to_residual: (d_o x d_residual), when given, maps the attention output after `w.o` to the
            residual stream's width (the student's teacher-width attention-output variant).
        capture: a dict to fill with q, k, v (before RoPE), gate, up, attn_out, ffn_out; None: nothing kept.

    Returns:
        The residual stream after the layer.
    """
    h = rms_norm(x, w.input_norm, arch.eps)
    q, k, v = F.linear(h, w.q), F.linear(h, w.k), F.linear(h, w.v)
    attn_out = F.linear(attend(q, k, v, arch, cos, sin), w.o)
    x = x + (attn_out if o_to_residual is None else attn_out @ o_to_residual)
    h = rms_norm(x, w.post_norm, arch.eps)
    gate, up = F.linear(h, w.gate), F.linear(h, w.up)
    ffn_out = F.linear(F.silu(gate) * up, w.down)
    if capture is not None:
        capture.update(q=q, k=k, v=v, gate=gate, up=up, attn_out=attn_out, ffn_out=ffn_out)
    return x + ffn_out


def rope_tables(rotary, input_ids: torch.Tensor, dtype: torch.dtype) -> tuple[torch.Tensor, torch.Tensor]:
    """cos, sin for positions 0..T-1 from a transformers rotary module (handles any rope_scaling).

    Args:
        rotary: the model's rotary-embedding module.
        input_ids: (B, T) ids (only the shape and device are used).
        dtype: the tables' dtype.

    Returns:
        (cos, sin), each (B, T, head_dim).
    """
    b, t = input_ids.shape
    positions = torch.arange(t, device=input_ids.device).unsqueeze(0).expand(b, t)
    probe = torch.empty(0, device=input_ids.device, dtype=dtype)
    return rotary(probe, positions)
