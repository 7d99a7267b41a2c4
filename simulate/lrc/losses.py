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
        """The targets of one batch from the teacher's logits.

        Args:
            teacher_logits: (B, T, V) logits.
            temperature: tau of the KL.

        Returns:
            TeacherTargets holding p_T = softmax(logits / tau) in float32 and sum p_T log p_T.
        """
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
    """Sum over tokens of the coarse-grained KL (see TopKTargets) from the student's log-probs.

    Args:
        student_logp: the student's log-probabilities (B, T, V) at the targets' temperature.
        targets: the stored top-k targets.

    Returns:
        A scalar tensor.
    """
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
    """log softmax(logits / tau) in float32.

    Args:
        teacher_logits: (B, T, V) logits.
        temperature: tau.

    Returns:
        (B, T, V) log-probabilities (float64 in a float64 run).
    """
    return F.log_softmax(wide(teacher_logits) / temperature, dim=-1)


def kl_from_log_probs(student_logp: torch.Tensor, targets: TeacherTargets, reduction: str = "token") -> torch.Tensor:
    """KL(teacher || student) from the student's log-probabilities (B, T, V); 'token' mean or 'batchmean'.

    Args:
        student_logp: the student's log-probabilities at the targets' temperature.
        targets: TeacherTargets (whole vocabulary) or TopKTargets (coarse-grained KL).
        reduction: "token" (mean over tokens) or "batchmean" (sum over tokens / batch size).

    Returns:
        A scalar tensor.
    """
    if isinstance(targets, TopKTargets):
        total = topk_kl_sum(student_logp, targets)
    else:
        total = targets.neg_entropy_sum - (targets.probs * student_logp).sum()
    denominator = student_logp.shape[0] if reduction == "batchmean" else student_logp.shape[:-1].numel()
    return total / denominator


def kl_to_teacher(student_logits: torch.Tensor, targets: TeacherTargets, reduction: str = "token") -> torch.Tensor:
    """KL(teacher || student) at the targets' temperature.

    Args:
        student_logits: (B, T, V) logits.
        targets: TeacherTargets or TopKTargets.
        reduction: "token" or "batchmean" (kl_from_log_probs).

    Returns:
        A scalar tensor.
    """
    student_logp = F.log_softmax(wide(student_logits) / targets.temperature, dim=-1)
    return kl_from_log_probs(student_logp, targets, reduction)


def lm_loss(logits: torch.Tensor, input_ids: torch.Tensor) -> torch.Tensor:
    """Mean next-token cross-entropy (nats per predicted token).

    Args:
        logits: (B, T, V) logits.
        input_ids: (B, T) ids: positions 0..T-2 predict 1..T-1.

    Returns:
        A scalar tensor.
    """
    return F.cross_entropy(wide(logits[:, :-1].flatten(0, 1)), input_ids[:, 1:].flatten())


def kl_and_lm(
    student_logits: torch.Tensor, targets: TeacherTargets, input_ids: torch.Tensor, reduction: str = "token"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Both logit losses, sharing one log-softmax when tau = 1 (the vocabulary is the big axis).

    Args:
        student_logits: (B, T, V) logits.
        targets: TeacherTargets or TopKTargets.
        input_ids: (B, T) ids of the batch.
        reduction: "token" or "batchmean" for the KL.

    Returns:
        (KL, LM loss), scalar tensors.
    """
    if targets.temperature != 1.0:
        return kl_to_teacher(student_logits, targets, reduction), lm_loss(student_logits, input_ids)
    logp = F.log_softmax(wide(student_logits), dim=-1)
    lm = F.nll_loss(logp[:, :-1].flatten(0, 1), input_ids[:, 1:].flatten())
    return kl_from_log_probs(logp, targets, reduction), lm


def clone_losses(
    student, student_acts: list[dict], teacher_acts: list[dict], kinds: tuple[str, ...] = CLONE_KINDS
) -> dict[str, torch.Tensor]:
    """Per kind, the sum over layers of MSE(student activation, teacher target).

    Args:
        student: the LRC student (its projections map the output terms' targets).
        student_acts: the student's captured activations, one dict per layer.
        teacher_acts: the teacher's, one dict per layer.
        kinds: the cloned kinds (CLONE_KINDS or a subset).

    Returns:
        kind -> scalar tensor.
    """
    out = {}
    for kind in kinds:
        terms = [
            _mse(s[kind], _target(student, kind, i, t[kind]))
            for i, (s, t) in enumerate(zip(student_acts, teacher_acts))
        ]
        out[kind] = torch.stack(terms).sum()
    return out


def loss_terms(
    tr, ids: torch.Tensor, targets: TeacherTargets, teacher_acts: list[dict] | None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The training loss of one student on one batch and its named terms.

    Shared by the training loop (train.py), the C1 estimates (diagnostics.py) and plain SGD (sgd.py).

    Args:
        tr: the student being trained (a train.Trainee: its model, config, spec.alpha and clone_kinds are read).
        ids: the batch's token ids (B, T).
        targets: the teacher's KL targets on the batch (TeacherTargets or TopKTargets).
        teacher_acts: the teacher's cloned activations per layer, or None when no clone term is trained.

    Returns:
        (total loss, {"kl", "lm_loss", "clone_loss", "clone_<kind>" per cloned kind: the terms}).
    """
    cfg, kinds = tr.config, tr.clone_kinds
    out = tr.model(ids, capture=bool(kinds))
    kl, lm = kl_and_lm(out.logits, targets, ids, cfg.kl_reduction)
    clones = clone_losses(tr.model, out.acts, teacher_acts, kinds) if kinds else {}
    clone = torch.stack(list(clones.values())).sum() if clones else torch.zeros((), device=ids.device)
    total = cfg.kl_weight * kl + cfg.lm_weight * lm + tr.spec.alpha * clone
    terms = {"kl": kl, "lm_loss": lm, "clone_loss": clone, **{f"clone_{k}": v for k, v in clones.items()}}
    return total, terms


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
