"""The LRC student: a Llama of hidden width d_S whose weights are the frozen teacher's times P.

For every layer i and matrix kind m the student weight is W_S[m, i] = W_T[m, i] @ P[m, i] on the
hidden-size side, with P[m, i] of shape (d_T x d_S) (Hao et al. 2025, "Low-Rank Clone"):
  q, k, v, gate, up (read the residual stream):   W_S = W_T P          (out x d_S)
  o, down (write the residual stream):             W_S = P^T W_T        (d_S x in)
  embedding / LM head:                             E_S = E_T P_emb      (vocab x d_S)
Heads, head_dim and the FFN width stay the teacher's. The student's RMSNorm weights (d_S) are
trained; the teacher is frozen and shared. Initialisation follows the official code
(github.com/CURRENTF/LowRankClone, modeling/co_train_llama.py, `use_all_attn`: one projection
per kind): P ~ N(0, 0.02), norm weights 1.

Cost choice: the student weights are *formed* each step (W_T @ P, autograd gives dP = W_T^T dW_S)
rather than projecting activations (x_S P^T then W_T). Per matrix (out x d_T) and T tokens per
step, forming costs out*d_T*d_S + T*d_S*out multiply-adds against T*d_T*(d_S + out) for projecting
activations, so forming is cheaper once a step holds more than ~250 tokens (d_T=576, d_S=192).

Attention-output variant (`attn_out_width`):
  "teacher" (default, the official code): the student computes W_o (teacher width d_T) on its
      attention output, the clone term compares that with the teacher's o-output in width d_T,
      and P_o then maps it to the residual (d_S). Merged: W_o,S = P_o^T W_o, the same function.
  "student": the student applies P_o^T W_o directly and the term compares in width d_S against
      the teacher's o-output times P_o (the paper's written formula).
q and k are cloned *before* RoPE (as in the official code). The FFN-output term is in student
width: MSE(ffn_out_S, ffn_out_T @ P_down), with the gradient also flowing into P_down through the
target, as in the official code.

`DenseStudent` is the vanilla-KD baseline: the same Llama at width d_S with every weight trained
directly (from N(0, 0.02)), for timing LRC against logit KD of an equal-size student.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn

from lrkd.simulate.lrc.llama import MATRIX_KINDS, Arch, LayerWeights, layer_forward, rms_norm, rope_tables
from lrkd.simulate.lrc.teacher import Teacher

READ_KINDS = ("q", "k", "v", "gate", "up")  # W_S = W_T @ P
WRITE_KINDS = ("o", "down")  # W_S = P^T @ W_T


@dataclass
class StudentOutput:
    """Logits (B, T, V); per-layer cloned activations (or None); residual streams by layer."""

    logits: torch.Tensor
    acts: list[dict[str, torch.Tensor]] | None
    hidden: dict[int, torch.Tensor]


@dataclass
class PlainWeights:
    """A plain Llama's tensors: what `merge` writes into a transformers model."""

    layers: list[LayerWeights]
    embed: torch.Tensor
    head: torch.Tensor
    final_norm: torch.Tensor


def _normal(shape, std: float, generator: torch.Generator | None) -> nn.Parameter:
    return nn.Parameter(torch.randn(*shape, generator=generator) * std)


class _Student(nn.Module):
    """Shared forward: a Llama of width d_S on the teacher's rotary tables."""

    teacher: Teacher
    d_S: int
    _frozen = None

    @property
    def arch(self) -> Arch:
        return self.teacher.arch

    def _norms(self, d_S: int, n_layers: int) -> None:
        self.input_norm = nn.ParameterList(nn.Parameter(torch.ones(d_S)) for _ in range(n_layers))
        self.post_norm = nn.ParameterList(nn.Parameter(torch.ones(d_S)) for _ in range(n_layers))
        self.final_norm = nn.Parameter(torch.ones(d_S))

    def forward(
        self, input_ids: torch.Tensor, *, capture: bool = False, hidden_layers: tuple[int, ...] = ()
    ) -> StudentOutput:
        """The student's logits, and with `capture` every layer's cloned activations.

        Args:
            input_ids: (B, T) ids.
            capture: keep q, k, v, gate, up, attn_out, ffn_out of every layer (for the clone loss).
            hidden_layers: residual streams to keep: l in 1..n_layers is the output of layer l.

        Returns:
            StudentOutput.
        """
        arch = self.arch
        layers, head = self._frozen if self._frozen is not None else (None, self.head_matrix())
        x = self.embed(input_ids, head)
        cos, sin = rope_tables(self.teacher.rotary, input_ids, torch.float32)
        acts, hidden = ([] if capture else None), {}
        for i in range(arch.n_layers):
            slot = {} if capture else None
            weights, o_to_residual = layers[i] if layers is not None else self.layer_weights(i)
            x = layer_forward(x, weights, arch, cos, sin, o_to_residual=o_to_residual, capture=slot)
            if capture:
                acts.append(slot)
            if i + 1 in hidden_layers:
                hidden[i + 1] = x
        logits = nn.functional.linear(rms_norm(x, self.final_norm, arch.eps), head)
        return StudentOutput(logits, acts, hidden)

    @contextlib.contextmanager
    def frozen(self):
        """Form the student weights once and reuse them for every forward inside (no gradients).

        Evaluation runs several batches at fixed weights; forming W_T @ P costs as much as a
        forward pass of a few hundred tokens, so it is done once here.
        """
        with torch.no_grad():
            self._frozen = ([self.layer_weights(i) for i in range(self.arch.n_layers)], self.head_matrix())
        try:
            yield self
        finally:
            self._frozen = None

    def trainable_parameters(self) -> list[nn.Parameter]:
        """The parameters that train (projections or weights, and the norms).

        Returns:
            A list of parameters.
        """
        return [p for p in self.parameters() if p.requires_grad]

    def n_trainable(self) -> int:
        """The number of trainable scalars.

        Returns:
            The sum of the trainable parameters' sizes.
        """
        return sum(p.numel() for p in self.trainable_parameters())


class LRCStudent(_Student):
    """Projections P (d_T x d_S) per layer and kind, embedding/head projections, student norms."""

    def __init__(
        self,
        teacher: Teacher,
        d_S: int,
        *,
        attn_out_width: str = "teacher",
        tie_head_proj: bool = True,
        init_std: float = 0.02,
        generator: torch.Generator | None = None,
    ):
        super().__init__()
        arch = teacher.arch
        self.teacher, self.d_S = teacher, d_S
        self.attn_out_width, self.tie_head_proj = attn_out_width, tie_head_proj
        shape = (arch.d_model, d_S)
        self.proj = nn.ModuleDict(
            {
                kind: nn.ParameterList(_normal(shape, init_std, generator) for _ in range(arch.n_layers))
                for kind in MATRIX_KINDS
            }
        )
        self.embed_proj = _normal(shape, init_std, generator)
        self.head_proj = None if tie_head_proj else _normal(shape, init_std, generator)
        self._norms(d_S, arch.n_layers)
        self.to(teacher.device)

    def P(self, kind: str, layer: int) -> torch.Tensor:
        """The projection of one kind and layer.

        Args:
            kind: one of MATRIX_KINDS.
            layer: 0-based layer index.

        Returns:
            The (d_T x d_S) parameter.
        """
        return self.proj[kind][layer]

    def layer_weights(self, i: int, *, exact: bool = False) -> tuple[LayerWeights, torch.Tensor | None]:
        """Layer i's student weights (formed now) and the o-output map for the teacher-width variant.

        Args:
            i: 0-based layer index.
            exact: form them from the float32 teacher tensors (merging); otherwise from the teacher's
                compute copies (bf16 under autocast).

        Returns:
            (LayerWeights, P_o for attn_out_width "teacher" else None).
        """
        t = self.teacher.layer(i) if exact else self.teacher.compute_layer(i)
        formed = {kind: getattr(t, kind) @ self.P(kind, i) for kind in READ_KINDS}
        formed["down"] = self.P("down", i).T @ t.down
        if self.attn_out_width == "teacher":
            formed["o"], o_to_residual = t.o, self.P("o", i)
        else:
            formed["o"], o_to_residual = self.P("o", i).T @ t.o, None
        return LayerWeights(**formed, input_norm=self.input_norm[i], post_norm=self.post_norm[i]), o_to_residual

    def head_matrix(self) -> torch.Tensor:
        """The student LM head H_T @ P_head (vocab x d_S); also the embedding when both are tied."""
        head_proj = self.embed_proj if self.tie_head_proj else self.head_proj
        return self.teacher.compute_head @ head_proj

    def embed(self, input_ids: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        """Student embeddings of `input_ids`: rows of E_T @ P_emb (reusing the head when tied).

        Args:
            input_ids: (B, T) ids.
            head: the formed head matrix (head_matrix()), reused when the embedding is tied to it.

        Returns:
            (B, T, d_S) embeddings.
        """
        if self.ties_embeddings:
            return head[input_ids]  # E_S == H_S: the vocabulary matrix is formed once
        return self.teacher.embed[input_ids] @ self.embed_proj

    def plain_weights(self) -> PlainWeights:
        """The folded student: every P multiplied into the teacher's tensors (what merge saves)."""
        layers = []
        for i in range(self.arch.n_layers):
            w, o_to_residual = self.layer_weights(i, exact=True)
            if o_to_residual is not None:
                w.o = o_to_residual.T @ w.o
            layers.append(w)
        head_proj = self.embed_proj if self.tie_head_proj else self.head_proj
        return PlainWeights(
            layers, self.teacher.embed @ self.embed_proj, self.teacher.head @ head_proj, self.final_norm
        )

    @property
    def ties_embeddings(self) -> bool:
        """Whether embedding and LM head are one matrix (tied projections of a tied teacher)."""
        return self.tie_head_proj and self.teacher.arch.tie_embeddings


class DenseStudent(_Student):
    """Vanilla-KD baseline: a width-d_S Llama trained directly (same forward code as LRC)."""

    def __init__(self, teacher: Teacher, d_S: int, *, init_std: float = 0.02, generator: torch.Generator | None = None):
        super().__init__()
        arch = teacher.arch
        self.teacher, self.d_S = teacher, d_S
        d_attn, d_kv = arch.n_heads * arch.head_dim, arch.n_kv_heads * arch.head_dim
        shapes = {
            "q": (d_attn, d_S),
            "k": (d_kv, d_S),
            "v": (d_kv, d_S),
            "o": (d_S, d_attn),
            "gate": (arch.d_ff, d_S),
            "up": (arch.d_ff, d_S),
            "down": (d_S, arch.d_ff),
        }
        self.weight = nn.ModuleDict(
            {
                kind: nn.ParameterList(_normal(shape, init_std, generator) for _ in range(arch.n_layers))
                for kind, shape in shapes.items()
            }
        )
        self.embedding = _normal((arch.vocab, d_S), init_std, generator)
        self.head = None if arch.tie_embeddings else _normal((arch.vocab, d_S), init_std, generator)
        self._norms(d_S, arch.n_layers)
        self.to(teacher.device)

    def layer_weights(self, i: int, *, exact: bool = False) -> tuple[LayerWeights, None]:
        """Layer i's weights (trained directly).

        Args:
            i: 0-based layer index.
            exact: unused (the weights are not formed); kept for the shared interface.

        Returns:
            (LayerWeights, None).
        """
        w = {kind: self.weight[kind][i] for kind in MATRIX_KINDS}
        return LayerWeights(**w, input_norm=self.input_norm[i], post_norm=self.post_norm[i]), None

    def head_matrix(self) -> torch.Tensor:
        """The LM head (vocab x d_S): the embedding when tied.

        Returns:
            The parameter.
        """
        return self.embedding if self.head is None else self.head

    def embed(self, input_ids: torch.Tensor, head: torch.Tensor) -> torch.Tensor:
        """Student embeddings of `input_ids`.

        Args:
            input_ids: (B, T) ids.
            head: unused (the interface of LRCStudent.embed).

        Returns:
            (B, T, d_S) embeddings.
        """
        return self.embedding[input_ids]

    def plain_weights(self) -> PlainWeights:
        """The student's tensors as a plain Llama's (what merge saves).

        Returns:
            PlainWeights.
        """
        layers = [self.layer_weights(i)[0] for i in range(self.arch.n_layers)]
        return PlainWeights(layers, self.embedding, self.head_matrix(), self.final_norm)

    @property
    def ties_embeddings(self) -> bool:
        """Whether embedding and LM head are one matrix (the teacher's are tied)."""
        return self.head is None
