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

from lrkd.simulate.lrc.llama import CLONE_KINDS, wide


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
        logp = F.log_softmax(wide(teacher_logits) / temperature, dim=-1)
        probs = logp.exp()
        return cls(probs, (probs * logp).sum(), temperature)


@dataclass
class TopKTargets:
    """The teacher's side of the KL from stored top-k log-probabilities and the tail mass.

    With the teacher's k most likely tokens S (per position) and the tail bucket (all other tokens), the KL
    used is that of the coarse-grained distributions over the k + 1 outcomes {each of S, tail}:
        sum_{i in S} p_i (log p_i - log q_i) + p_tail (log p_tail - log q_tail),
    q the student's probabilities, q_tail = 1 - sum_{i in S} q_i. By the data-processing
    inequality it is <= the full KL(p || q), with equality when k = V (empty tail) or when the
    student's tail is proportional to the teacher's. Gradients: the student is pulled toward the
    teacher's top-k probabilities and its total tail mass, not the shape of the tail.
    """

    log_probs: torch.Tensor  # (B, T, k) log p_T on the top-k ids, at the temperature
    ids: torch.Tensor  # (B, T, k) int64
    tail_log_mass: torch.Tensor  # (B, T) log p_tail; -inf when the tail is empty (k = V)
    temperature: float

    @property
    def neg_entropy_sum(self) -> torch.Tensor:
        """sum over tokens of sum_i p_i log p_i over the k + 1 outcomes (a constant of the batch)."""
        head = (self.log_probs.exp() * self.log_probs).sum()
        tail = _xlogy_exp(self.tail_log_mass, self.tail_log_mass).sum()
        return head + tail


def _xlogy_exp(log_p: torch.Tensor, log_q: torch.Tensor) -> torch.Tensor:
    """p * log q with p = exp(log_p), and 0 where p = 0 (whatever log q is)."""
    p = log_p.exp()
    return torch.where(p > 0, p * torch.where(p > 0, log_q, torch.zeros_like(log_q)), torch.zeros_like(p))


def topk_kl_sum(student_logp: torch.Tensor, targets: TopKTargets) -> torch.Tensor:
    """Sum over tokens of the coarse-grained KL (see TopKTargets) from the student's log-probs."""
    q_top = student_logp.gather(-1, targets.ids)
    head = (targets.log_probs.exp() * q_top).sum()
    # log q_tail = log(1 - sum_S q_i) = log(-expm1(logsumexp_S log q_i)), floored so that an
    # (almost) empty student tail gives a large finite penalty instead of -inf
    lse = torch.logsumexp(q_top, dim=-1).clamp(max=0.0)
    floor = torch.finfo(student_logp.dtype).tiny
    log_q_tail = torch.log((-torch.expm1(lse)).clamp(min=floor))
    tail = _xlogy_exp(targets.tail_log_mass, log_q_tail).sum()
    return targets.neg_entropy_sum - head - tail


def teacher_log_probs(teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """log softmax(logits / tau) in float32."""
    return F.log_softmax(wide(teacher_logits) / temperature, dim=-1)


def kl_from_log_probs(student_logp: torch.Tensor, targets: TeacherTargets, reduction: str = "token") -> torch.Tensor:
    """KL(teacher || student) from the student's log-probabilities (B, T, V); 'token' mean or 'batchmean'."""
    if isinstance(targets, TopKTargets):
        total = topk_kl_sum(student_logp, targets)
    else:
        total = targets.neg_entropy_sum - (targets.probs * student_logp).sum()
    denominator = student_logp.shape[0] if reduction == "batchmean" else student_logp.shape[:-1].numel()
    return total / denominator


def kl_to_teacher(student_logits: torch.Tensor, targets: TeacherTargets, reduction: str = "token") -> torch.Tensor:
    """KL(teacher || student) at the targets' temperature."""
    student_logp = F.log_softmax(wide(student_logits) / targets.temperature, dim=-1)
    return kl_from_log_probs(student_logp, targets, reduction)


def lm_loss(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats per predicted token)."""
    return F.cross_entropy(wide(logits[:, :-1].flatten(0, 1)), input_ids[:, 1:].flatten())


def kl_and_lm(
    student_logits: torch.Tensor, targets: TeacherTargets, input_ids: torch.Tensor, reduction: str = "token"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both logit losses, sharing one log-softmax when tau = 1 (the vocabulary is the big axis)."""
    if targets.temperature != 1.0:
        return kl_to_teacher(student_logits, targets, reduction), lm_loss(student_logits, input_ids)
    logp = F.log_softmax(wide(student_logits), dim=-1)
    lm = F.nll_loss(logp[:, :-1].flatten(0, 1), input_ids[:, 1:].flatten())
    return kl_from_log_probs(logp, targets, reduction), lm


def clone_losses(
    student, student_acts: list[dict], teacher_acts: list[dict], kinds: tuple[str, ...] = CLONE_KINDS
) -> dict[str, torch.Tensor]:
    """Per kind, the sum over layers of MSE(student activation, teacher target)."""
    out = {}
    for kind in kinds:
        terms = [
            _mse(s[kind], _target(student, kind, i, t[kind]))
            for i, (s, t) in enumerate(zip(student_acts, teacher_acts))
        ]
        out[kind] = torch.stack(terms).sum()
    return out


def _mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Mean squared error accumulated in float32 (the difference is taken in the inputs' dtype:
    one conversion instead of two under bf16 autocast, ~3x faster on CPU)."""
    diff = wide(a - b)
    return (diff * diff).mean()


def _target(student, kind: str, layer: int, teacher_value: torch.Tensor) -> torch.Tensor:
    """The teacher activation in the student's comparison width (projected for the output terms)."""
    if kind == "ffn_out":
        return teacher_value @ student.P("down", layer)
    if kind == "attn_out" and student.attn_out_width == "student":
        return teacher_value @ student.P("o", layer)
    return teacher_value
