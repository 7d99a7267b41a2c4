"""The LRC training loss: KL to the teacher on logits + LM loss + alpha x activation clone loss.

    L = kl_weight * KL_tau(teacher || student) + lm_weight * LM + alpha * sum_kinds sum_layers MSE

- KL at temperature tau, KL(p_T || p_S) with p = softmax(logits / tau), without a tau^2 factor
  (as in the official code). `kl_reduction="token"` averages over tokens; "batchmean" sums over
  tokens and divides by the batch size (torch's batchmean on (B, T, V), the official code's
  reduction, which scales the term by the sequence length).
- LM: next-token cross-entropy of the student on the batch itself (positions 0..T-2 predict 1..T-1).
- Clone: mean squared error (mean over elements) per layer and kind, summed over layers, for the
  kinds q, k, v, gate, up, attn_out, ffn_out (see student.py for which width each is compared in).
  alpha = 0 is the no-clone ablation. Each kind's layer sum is reported as `clone_<kind>`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from simulate.lrc.llama import CLONE_KINDS


@dataclass
class TeacherTargets:
    """The teacher's side of the KL at one temperature, computed once per batch and shared.

    KL(p_T || p_S) summed over tokens = sum p_T log p_T - sum p_T log p_S: the first sum is a
    constant of the batch, so each student only needs the cross term (no exp or log of p_T).
    """

    probs: torch.Tensor  # p_T, float32 (B, T, V)
    neg_entropy_sum: torch.Tensor  # sum over tokens of sum_v p_T log p_T
    temperature: float

    @classmethod
    def from_logits(cls, teacher_logits: torch.Tensor, temperature: float) -> "TeacherTargets":
        logp = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
        probs = logp.exp()
        return cls(probs, (probs * logp).sum(), temperature)


def teacher_log_probs(teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """log softmax(logits / tau) in float32."""
    return F.log_softmax(teacher_logits.float() / temperature, dim=-1)


def kl_from_log_probs(student_logp: torch.Tensor, targets: TeacherTargets,
                      reduction: str = "token") -> torch.Tensor:
    """KL(teacher || student) from the student's log-probabilities (B, T, V); 'token' mean or 'batchmean'."""
    total = targets.neg_entropy_sum - (targets.probs * student_logp).sum()
    denominator = student_logp.shape[0] if reduction == "batchmean" else student_logp.shape[:-1].numel()
    return total / denominator


def kl_to_teacher(student_logits: torch.Tensor, targets: TeacherTargets, reduction: str = "token") -> torch.Tensor:
    """KL(teacher || student) at the targets' temperature."""
    student_logp = F.log_softmax(student_logits.float() / targets.temperature, dim=-1)
    return kl_from_log_probs(student_logp, targets, reduction)


def lm_loss(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats per predicted token)."""
    return F.cross_entropy(logits[:, :-1].flatten(0, 1).float(), input_ids[:, 1:].flatten())


def kl_and_lm(student_logits: torch.Tensor, targets: TeacherTargets, input_ids: torch.Tensor,
              reduction: str = "token") -> tuple[torch.Tensor, torch.Tensor]:
    """Both logit losses, sharing one log-softmax when tau = 1 (the vocabulary is the big axis)."""
    if targets.temperature != 1.0:
        return kl_to_teacher(student_logits, targets, reduction), lm_loss(student_logits, input_ids)
    logp = F.log_softmax(student_logits.float(), dim=-1)
    lm = F.nll_loss(logp[:, :-1].flatten(0, 1), input_ids[:, 1:].flatten())
    return kl_from_log_probs(logp, targets, reduction), lm


def clone_losses(student, student_acts: list[dict], teacher_acts: list[dict],
                 kinds: tuple[str, ...] = CLONE_KINDS) -> dict[str, torch.Tensor]:
    """Per kind, the sum over layers of MSE(student activation, teacher target)."""
    out = {}
    for kind in kinds:
        terms = [_mse(s[kind], _target(student, kind, i, t[kind]))
                 for i, (s, t) in enumerate(zip(student_acts, teacher_acts))]
        out[kind] = torch.stack(terms).sum()
    return out


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error accumulated in float32 (the difference is taken in the inputs' dtype:
    one conversion instead of two under bf16 autocast, ~3x faster on CPU)."""
    diff = (a - b).float()
    return (diff * diff).mean()


def _target(student, kind: str, layer: int, teacher_value: torch.Tensor) -> torch.Tensor:
    """The teacher activation in the student's comparison width (projected for the output terms)."""
    if kind == "ffn_out":
        return teacher_value @ student.P("down", layer)
    if kind == "attn_out" and student.attn_out_width == "student":
        return teacher_value @ student.P("o", layer)
    return teacher_value
