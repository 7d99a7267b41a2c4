"""The distillation loop: one teacher forward per batch, shared by every student being trained.

`train_students(config, specs)` trains one or several students (a rank / token-budget / alpha
sweep) on the same stream of batches. Each step runs the frozen teacher once (logits, and the
activations LRC clones when some student needs them) and then one optimizer step per active
student: a 4-student sweep pays for one teacher forward, not four. A student with a smaller token
budget simply stops earlier; its learning-rate schedule is its own.

Recorded per student (see record.py for the tables): every step's minibatch loss terms and the
pre-clip gradient norm ||grad f(P_t)||; at log-spaced steps the held-out LM loss, perplexity and
KL (tau = 1, per token) on fixed held-out batches, the clone terms and hidden states on a fixed
held-out "MI batch", and the LM loss on the first training batches (which every student has
trained on: the empirical risk for the generalization gap).

Checkpoints (projections, norms, optimizer and scheduler states, records, RNG state, step; the data
position is the step itself, see data.BatchStream) are written atomically every
`checkpoint_every` steps into `output_dir/lrc-<config hash>/`; rerunning the same config resumes
from the last one and gives the same numbers as an uninterrupted run. A finished run's folder
holds `final.pt`, and rerunning returns it without training.
"""

from __future__ import annotations

import contextlib
import math
import os
import resource
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import torch

from lrkd.config import config_hash, to_dict
from lrkd.device import resolve
from lrkd.errors import InputError
from lrkd import progress
from lrkd.simulate.lrc.config import LRCConfig, check_against_teacher
from lrkd.simulate.lrc.data import BatchStream, build_corpus, subsample, token_stream
from lrkd.simulate.lrc.diagnostics import estimate_c1_constants
from lrkd.simulate.lrc.llama import CLONE_KINDS
from lrkd.simulate.lrc.losses import TeacherTargets, clone_losses, kl_to_teacher, lm_loss, loss_terms
from lrkd.simulate.lrc.outputs import teacher_outputs
from lrkd.simulate.lrc.record import RunRecord
from lrkd.simulate.lrc.student import DenseStudent, LRCStudent
from lrkd.simulate.lrc.teacher import Teacher, cache_root, load_teacher, reduce_teacher

CHECKPOINT, FINAL = "checkpoint.pt", "final.pt"


@dataclass(frozen=True)
class StudentSpec:
    """One student of a run: width, clone weight and number of steps (its token budget)."""

    d_S: int
    alpha: float
    steps: int
    tokens_per_step: int

    @property
    def token_budget(self) -> int:
        """Tokens the student trains on: steps x tokens_per_step."""
        return self.steps * self.tokens_per_step

    @property
    def label(self) -> str:
        """The student's name in every table, e.g. "dS192-a0.2-N61440"."""
        return f"dS{self.d_S}-a{self.alpha:g}-N{self.token_budget}"


@dataclass
class Precision:
    """Where and how to compute: bf16 autocast (on a CUDA GPU by default, on the CPU only when
    asked), float32 otherwise (float64 weights and activations throughout for exactness tests).

    Attributes:
        device: the torch device of the run.
        autocast_dtype: torch.bfloat16 under autocast, None for plain float32 / float64.
        param_dtype: the dtype of the weights (float32; float64 for exactness tests).
    """

    device: torch.device
    autocast_dtype: torch.dtype | None
    param_dtype: torch.dtype = torch.float32

    @property
    def name(self) -> str:
        """The resolved precision as the tables name it: float32, bfloat16-autocast or float64."""
        if self.param_dtype == torch.float64:
            return "float64"
        return "bfloat16-autocast" if self.autocast_dtype is not None else "float32"

    def autocast(self):
        """A context manager: torch.autocast at autocast_dtype, or a no-op without one."""
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def clock(self) -> float:
        """time.perf_counter() after the device's queued work is done (synchronizes a GPU)."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()


def resolve_precision(device: str, dtype: str) -> Precision:
    """The precision a run computes in.

    "auto" is bf16 autocast on a CUDA GPU that supports bf16 and float32 everywhere else: on the CPU
    bf16 is used only when asked for ("bfloat16"), whatever the CPU's instruction set, so a CPU
    run's numbers do not depend on which CPU it ran on.

    Args:
        device: "auto", "cpu" or "cuda[:k]" (lrkd.device.resolve).
        dtype: "auto", "float32", "bfloat16" or "float64" (LRCConfig.dtype).

    Returns:
        The Precision; "bfloat16" on a GPU without bf16 support is an InputError naming `dtype`.
    """
    dev = resolve(device)
    if dtype == "float32":
        return Precision(dev, None)
    if dtype == "float64":
        return Precision(dev, None, torch.float64)
    gpu_bf16 = dev.type == "cuda" and torch.cuda.is_bf16_supported()
    if dtype == "bfloat16":
        if dev.type == "cuda" and not gpu_bf16:
            raise InputError("dtype", "bfloat16 is not supported on this GPU; use auto or float32")
        return Precision(dev, torch.bfloat16)
    return Precision(dev, torch.bfloat16 if gpu_bf16 else None)


def resolved_dtype(config: LRCConfig, device: str | None = None) -> str:
    """The precision a run of `config` computes in, as the tables name it (Precision.name).

    Args:
        config: the run's config (its dtype; its device unless `device` is given).
        device: the device to resolve for instead of config.device ("auto", "cpu", "cuda[:k]").

    Returns:
        "float32", "bfloat16-autocast" or "float64".
    """
    return resolve_precision(config.device if device is None else device, config.dtype).name


def log_spaced_steps(total: int, points: int) -> list[int]:
    """0, `total`, and log-spaced steps between them (at most `points` distinct integers).

    Args:
        total: the last step.
        points: the number of evaluation points wanted.

    Returns:
        Sorted distinct steps.
    """
    inner = np.round(np.geomspace(1, total, max(points - 1, 1))).astype(int).tolist()
    return sorted({0, total, *inner})


def lr_factor(config: LRCConfig, total: int, t: int) -> float:
    """Multiplier of the base learning rate at update t (0-based): warm-up, then the schedule.

    Args:
        config: warmup_steps and schedule (linear, cosine or constant).
        total: the student's number of steps.
        t: the update (0-based).

    Returns:
        The factor in (0, 1].
    """
    warmup = min(config.warmup_steps, total - 1)
    if t < warmup:
        return (t + 1) / (warmup + 1)
    if config.schedule == "constant":
        return 1.0
    progress_ = (t - warmup) / max(1, total - warmup)
    if config.schedule == "linear":
        return 1.0 - progress_
    return 0.5 * (1.0 + math.cos(math.pi * progress_))


# --------------------------------------------------------------------------------------------
# one student


class Trainee:
    """A student being trained: model, optimizer, schedule, and everything recorded about it.

    Args:
        spec: its width, clone weight and steps.
        config: the run's config (method, optimizer, init, recording).
        teacher: the frozen (prepared) teacher it is built on.
    """

    def __init__(self, spec: StudentSpec, config: LRCConfig, teacher: Teacher):
        self.spec, self.config = spec, config
        generator = torch.Generator().manual_seed(config.seed)
        if config.method == "lrc":
            self.model = LRCStudent(
                teacher,
                spec.d_S,
                attn_out_width=config.attn_out_width,
                tie_head_proj=config.tie_head_proj,
                init_std=config.init_std,
                generator=generator,
            )
        else:
            self.model = DenseStudent(teacher, spec.d_S, init_std=config.init_std, generator=generator)
        self.model.to(teacher.model.dtype)
        self.params = self.model.trainable_parameters()
        self.optimizer = make_optimizer(config, self.params)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda t: lr_factor(config, spec.steps, t))
        self.eval_steps = log_spaced_steps(spec.steps, config.eval_points)
        picks = np.unique(np.round(np.linspace(0, len(self.eval_steps) - 1, config.hidden_snapshots)))
        self.snapshot_steps = {self.eval_steps[int(i)] for i in picks}
        self.trajectory, self.step_rows, self.hidden_index, self.c1 = [], [], [], []
        self.hidden: dict[str, np.ndarray] = {}
        self.diverged_step, self.diverged_reason = None, None
        self.own_seconds = self.teacher_share_seconds = 0.0

    @property
    def clone_kinds(self) -> tuple[str, ...]:
        """The clone terms this student trains on: none for KD or alpha = 0, else config.clone_terms."""
        if self.config.method != "lrc" or self.spec.alpha == 0:
            return ()
        return self.config.clone_terms

    def active(self, t: int) -> bool:
        """Whether the student takes step t: within its budget and not diverged.

        Args:
            t: the step (0-based).

        Returns:
            True when it trains at step t.
        """
        return t < self.spec.steps and self.diverged_step is None

    def identity(self) -> dict:
        """The columns that name this student in every table row.

        Returns:
            student, method, d_S, alpha, token_budget.
        """
        s = self.spec
        return {
            "student": s.label,
            "method": self.config.method,
            "d_S": s.d_S,
            "alpha": s.alpha,
            "token_budget": s.token_budget,
        }

    def state_dict(self) -> dict:
        """Everything a checkpoint needs to resume this student.

        Returns:
            Model, optimizer and scheduler states and the records so far.
        """
        keep = (
            "trajectory",
            "step_rows",
            "hidden_index",
            "c1",
            "hidden",
            "diverged_step",
            "diverged_reason",
            "own_seconds",
            "teacher_share_seconds",
        )
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            **{k: getattr(self, k) for k in keep},
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume from a checkpoint's state (state_dict's form).

        Args:
            state: what state_dict returned (consumed: its entries are popped).
        """
        self.model.load_state_dict(state.pop("model"))
        self.optimizer.load_state_dict(state.pop("optimizer"))
        self.scheduler.load_state_dict(state.pop("scheduler"))
        for key, value in state.items():
            setattr(self, key, value)


def make_optimizer(config: LRCConfig, params) -> torch.optim.Optimizer:
    """The run's optimizer: SGD (momentum, weight decay) or AdamW (0.9, 0.999), at config.lr.

    Args:
        config: optimizer, lr, momentum, weight_decay.
        params: the parameters to train.

    Returns:
        The torch optimizer.
    """
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=config.weight_decay)


def gradient_norm(params, max_norm: float) -> torch.Tensor:
    """Total 2-norm of the gradient before clipping (clipping in place when max_norm > 0).

    Args:
        params: the parameters (with .grad).
        max_norm: the clipping threshold (0: no clipping).

    Returns:
        The pre-clip norm, a scalar tensor.
    """
    if max_norm > 0:
        return torch.nn.utils.clip_grad_norm_(params, max_norm)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))


def train_step(tr: Trainee, t: int, ids: torch.Tensor, targets: TeacherTargets, teacher_acts, prec: Precision) -> None:
    """One optimizer step of one student; a non-finite loss or gradient marks it diverged.

    Appends the step's row (loss terms, grad norm, lr) to tr.step_rows.

    Args:
        tr: the student.
        t: the step (0-based).
        ids: the batch's token ids.
        targets: the teacher's KL targets on the batch.
        teacher_acts: the teacher's cloned activations, or None.
        prec: the run's Precision.
    """
    start = prec.clock()
    with prec.autocast():
        total, terms = loss_terms(tr, ids, targets, teacher_acts)
    if not torch.isfinite(total):
        return _diverge(tr, t, "non-finite loss")
    tr.optimizer.zero_grad(set_to_none=True)
    total.backward()
    norm = float(gradient_norm(tr.params, tr.config.max_grad_norm))
    if not math.isfinite(norm):
        return _diverge(tr, t, "non-finite gradient")
    lr = tr.optimizer.param_groups[0]["lr"]
    tr.optimizer.step()
    tr.scheduler.step()
    tr.step_rows.append(
        {
            **tr.identity(),
            "step": t,
            "tokens_seen": (t + 1) * tr.spec.tokens_per_step,
            "lr": lr,
            "loss": total.item(),
            **{k: v.item() for k, v in terms.items()},
            "grad_norm": norm,
            "grad_norm_sq": norm * norm,
            "clipped": bool(0 < tr.config.max_grad_norm < norm),
        }
    )
    tr.own_seconds += prec.clock() - start


def _diverge(tr: Trainee, t: int, reason: str) -> None:
    tr.diverged_step, tr.diverged_reason = t, reason
    tr.optimizer.zero_grad(set_to_none=True)


# --------------------------------------------------------------------------------------------
# evaluation


@dataclass
class EvalSet:
    """Fixed batches with the teacher's outputs computed once.

    `heldout` holds the first held-out sequences in batches; the first `n_scored` batches give the
    held-out LM loss and KL, and the first `n_mi` sequences form the MI batch (clone terms and
    hidden states), read from the same forward passes.
    """

    heldout: list[torch.Tensor]
    heldout_targets: list[TeacherTargets]  # tau = 1, one per scored batch
    train: list[torch.Tensor]
    mi_teacher_acts: list[dict] | None
    hidden_layers: tuple[int, ...]
    n_mi: int
    mi_tokens: int
    store: Path | None = None  # the stored teacher outputs it was read from, if any


def build_eval_set(
    teacher: Teacher, heldout: np.ndarray, stream: BatchStream, config: LRCConfig, prec: Precision
) -> tuple[EvalSet, dict[int, np.ndarray]]:
    """The evaluation batches and the teacher's hidden states on the MI batch (numpy, d_T).

    Args:
        teacher: the prepared teacher.
        heldout: the held-out sequences.
        stream: the training stream (its first batches give the training-set LM loss).
        config: eval_batches, batch_size, mi_tokens, hidden layers, teacher_outputs.
        prec: the run's Precision.

    Returns:
        (EvalSet, layer -> (mi_tokens, d_T) teacher hidden states).
    """
    dev, b = prec.device, config.batch_size
    n_mi = -(-config.mi_tokens // config.seq_len)
    n_batches = max(config.eval_batches, -(-n_mi // b))
    held = [torch.from_numpy(heldout[i * b : (i + 1) * b]).to(dev) for i in range(n_batches)]
    layers = config.resolved_hidden_layers(teacher.arch.n_layers)
    if config.teacher_outputs != "live":
        return _stored_eval_set(teacher, heldout[: n_batches * b], held, stream, config, prec, layers, n_mi)
    with prec.autocast():
        targets = [TeacherTargets.from_logits(teacher.forward(ids).logits, 1.0) for ids in held[: config.eval_batches]]
        mi_out = teacher.forward(
            torch.from_numpy(heldout[:n_mi]).to(dev), capture=config.method == "lrc", hidden_layers=layers
        )
    train = [torch.from_numpy(stream.batch(i)).to(dev) for i in range(config.eval_batches)]
    ev = EvalSet(held, targets, train, mi_out.acts, layers, n_mi, config.mi_tokens)
    return ev, {layer: _flat(h, config.mi_tokens) for layer, h in mi_out.hidden.items()}


def _stored_eval_set(teacher, sequences, held, stream, config, prec, layers, n_mi):
    """The same evaluation set from stored teacher outputs (whole vocabulary, tau = 1: exact)."""
    dev, b = prec.device, config.batch_size
    out = teacher_outputs(
        teacher,
        sequences,
        cache_dir=cache_root(config.cache_dir),
        prec=prec,
        top_k=None,
        temperature=1.0,
        capture=config.method == "lrc",
        hidden_layers=layers,
        batch_size=b,
        must_exist=config.teacher_outputs == "stored",
    )
    targets = [out.targets(range(j * b, (j + 1) * b), dev) for j in range(config.eval_batches)]
    mi_rows = range(n_mi)
    train = [torch.from_numpy(stream.batch(i)).to(dev) for i in range(config.eval_batches)]
    ev = EvalSet(held, targets, train, out.acts(mi_rows, dev), layers, n_mi, config.mi_tokens, out.path)
    return ev, {layer: _flat(h, config.mi_tokens) for layer, h in out.hidden(mi_rows, dev).items()}


def _flat(hidden: torch.Tensor, n_tokens: int) -> np.ndarray:
    return hidden.detach().float().reshape(-1, hidden.shape[-1])[:n_tokens].cpu().numpy()


@torch.no_grad()
def evaluate(tr: Trainee, s: int, ev: EvalSet, prec: Precision) -> dict:
    """Held-out LM loss / KL, training-batch LM loss, MI-batch clone terms (and hidden states).

    At a snapshot step the student's hidden states on the MI batch are stored in tr as well.

    Args:
        tr: the student.
        s: the step it is evaluated at.
        ev: the evaluation set.
        prec: the run's Precision.

    Returns:
        The trajectory row's held-out metrics.
    """
    model, snapshot, is_lrc = tr.model, s in tr.snapshot_steps, tr.config.method == "lrc"
    lm, kl, mi_acts, mi_hidden = [], [], [], []
    with prec.autocast(), model.frozen():
        for j, ids in enumerate(ev.heldout):
            keep = max(0, min(len(ids), ev.n_mi - j * len(ids)))  # MI sequences in this batch
            out = model(
                ids, capture=is_lrc and keep > 0, hidden_layers=ev.hidden_layers if snapshot and keep > 0 else ()
            )
            if j < len(ev.heldout_targets):
                lm.append(lm_loss(out.logits, ids).item())
                kl.append(kl_to_teacher(out.logits, ev.heldout_targets[j], "token").item())
            if keep and is_lrc:
                mi_acts.append([{k: v[:keep] for k, v in layer.items()} for layer in out.acts])
            if keep and snapshot:
                mi_hidden.append({layer: h[:keep] for layer, h in out.hidden.items()})
        train_lm = float(np.mean([lm_loss(model(ids).logits, ids).item() for ids in ev.train]))
        clones = {}
        if is_lrc:
            acts = [
                {k: torch.cat([part[i][k] for part in mi_acts]) for k in CLONE_KINDS} for i in range(len(mi_acts[0]))
            ]
            clones = {k: v.item() for k, v in clone_losses(model, acts, ev.mi_teacher_acts).items()}
    heldout_lm = float(np.mean(lm))
    row = {
        "heldout_lm_loss": heldout_lm,
        "heldout_ppl": math.exp(min(heldout_lm, 700.0)),
        "heldout_kl": float(np.mean(kl)),
        "heldout_clone_loss": sum(clones.values()) if clones else math.nan,
        **{f"heldout_clone_{k}": clones.get(k, math.nan) for k in CLONE_KINDS},
        "train_eval_lm_loss": train_lm,
        "generalization_gap": heldout_lm - train_lm,
    }
    if snapshot:
        hidden = {layer: torch.cat([part[layer] for part in mi_hidden]) for layer in ev.hidden_layers}
        _store_hidden(tr, s, hidden, ev.mi_tokens, row)
    return row


def _store_hidden(tr: Trainee, s: int, hidden: dict, n_tokens: int, row: dict) -> None:
    for layer, h in hidden.items():
        name = f"hidden.{tr.spec.label}.L{layer}.step{s}"
        tr.hidden[name] = _flat(h, n_tokens)
        tr.hidden_index.append(
            {
                "array": name,
                "role": "student",
                **tr.identity(),
                "layer": layer,
                "step": s,
                "width": int(h.shape[-1]),
                "n_tokens": n_tokens,
                "heldout_clone_loss": row["heldout_clone_loss"],
            }
        )


def trajectory_row(tr: Trainee, s: int, metrics: dict) -> dict:
    """Held-out metrics at step s with the training terms averaged over [previous eval, s).

    Args:
        tr: the student.
        s: the evaluation step.
        metrics: what evaluate returned.

    Returns:
        The trajectory row.
    """
    prev = tr.trajectory[-1]["step"] if tr.trajectory else 0
    window = [r for r in tr.step_rows if prev <= r["step"] < s]

    def mean(key):
        values = [r[key] for r in window if key in r]
        return float(np.mean(values)) if values else math.nan

    all_sq = [r["grad_norm_sq"] for r in tr.step_rows if r["step"] < s]
    return {
        **tr.identity(),
        "step": s,
        "tokens_seen": s * tr.spec.tokens_per_step,
        "lr": tr.optimizer.param_groups[0]["lr"],
        "train_loss": mean("loss"),
        "train_kl": mean("kl"),
        "train_lm_loss": mean("lm_loss"),
        "clone_loss": mean("clone_loss"),
        **{f"clone_{k}": mean(f"clone_{k}") for k in CLONE_KINDS},
        "grad_norm": mean("grad_norm"),
        "grad_norm_sq": mean("grad_norm_sq"),
        "grad_norm_sq_min": min(all_sq) if all_sq else math.nan,
        **metrics,
        "elapsed_s": tr.own_seconds + tr.teacher_share_seconds,
        "diverged": False,
    }


# --------------------------------------------------------------------------------------------
# the shared-teacher loop


def teacher_step(teacher: Teacher, ids: torch.Tensor, need_acts: bool, config: LRCConfig, prec: Precision):
    """One teacher forward: (KL targets at tau, activations or None). Shared by all students.

    Args:
        teacher: the prepared teacher.
        ids: the batch's token ids.
        need_acts: capture the cloned activations.
        config: kl_temperature.
        prec: the run's Precision.

    Returns:
        (TeacherTargets, activations per layer or None).
    """
    with prec.autocast():
        out = teacher.forward(ids, capture=need_acts)
        return TeacherTargets.from_logits(out.logits, config.kl_temperature), out.acts


class LiveTeacher:
    """The teacher's outputs of training batch t: one forward pass per batch.

    Args:
        teacher: the prepared teacher.
        stream: the training batches.
        config: the run's config.
        prec: the run's Precision.
    """

    def __init__(self, teacher: Teacher, stream: BatchStream, config: LRCConfig, prec: Precision):
        self.teacher, self.stream, self.config, self.prec = teacher, stream, config, prec

    def batch(self, t: int, need_acts: bool):
        """Batch t and the teacher's outputs on it.

        Args:
            t: the step.
            need_acts: also return the cloned activations.

        Returns:
            (ids, targets, activations or None).
        """
        ids = torch.from_numpy(self.stream.batch(t)).to(self.prec.device)
        return (ids, *teacher_step(self.teacher, ids, need_acts, self.config, self.prec))


class StoredTeacher:
    """The teacher's outputs of training batch t, read from a store computed once (outputs.py).

    Args:
        outputs: the StoredOutputs of the training rows.
        rows: the training-set rows stored, in store order.
        stream: the training batches.
        prec: the run's Precision.
    """

    def __init__(self, outputs, rows: np.ndarray, stream: BatchStream, prec: Precision):
        self.outputs, self.stream, self.prec = outputs, stream, prec
        self.position = {int(r): i for i, r in enumerate(rows)}  # training-set row -> store row

    def batch(self, t: int, need_acts: bool):
        """Batch t and the teacher's stored outputs on it.

        Args:
            t: the step.
            need_acts: also return the cloned activations.

        Returns:
            (ids, targets, activations or None).
        """
        rows = [self.position[int(i)] for i in self.stream.indices(t)]
        dev = self.prec.device
        ids = self.outputs.tokens[rows].to(dev)
        return ids, self.outputs.targets(rows, dev), (self.outputs.acts(rows, dev) if need_acts else None)


def teacher_source(config: LRCConfig, teacher: Teacher, stream: BatchStream, specs, prec: Precision):
    """Live forward passes, or the stored outputs of every training sequence the run visits.

    Args:
        config: teacher_outputs, top_k, kl_temperature, train_tokens, cache_dir.
        teacher: the prepared teacher.
        stream: the training batches.
        specs: the run's students (their steps bound the sequences visited).
        prec: the run's Precision.

    Returns:
        A LiveTeacher or a StoredTeacher (both answer batch(t, need_acts)).
    """
    if config.teacher_outputs == "live":
        return LiveTeacher(teacher, stream, config, prec)
    if config.train_tokens is not None:  # a fixed training set: store all of it, whatever the step count
        rows = np.arange(len(stream.sequences))
    else:  # the whole training split: only the sequences this run visits
        steps = max([s.steps for s in specs] + [config.c1_batches if config.c1_estimates else 0])
        rows = np.unique(np.concatenate([stream.indices(t) for t in range(steps)]))
    capture = config.method == "lrc" and any(s.alpha > 0 for s in specs) and bool(config.clone_terms)
    outputs = teacher_outputs(
        teacher,
        stream.sequences[rows],
        cache_dir=cache_root(config.cache_dir),
        prec=prec,
        top_k=config.top_k,
        temperature=config.kl_temperature,
        capture=capture,
        batch_size=config.batch_size,
        must_exist=config.teacher_outputs == "stored",
    )
    return StoredTeacher(outputs, rows, stream, prec)


def prepare_teacher(teacher: Teacher, config: LRCConfig) -> Teacher:
    """The teacher a run distills: the loaded one, or its reduction (teacher_layers, vocab).

    Args:
        teacher: the loaded teacher (or one already reduced for this config).
        config: teacher_layers, vocab, text, cache_dir.

    Returns:
        The Teacher; one reduced for another config is an InputError naming `teacher`.
    """
    want = (config.teacher_layers, config.vocab, config.text if config.vocab == "corpus" else None)
    if want == (None, "full", None) and not teacher.reduced_for:
        return teacher
    if teacher.reduced_for == want:
        return teacher
    if teacher.reduced_for:
        raise InputError("teacher", f"was reduced for {teacher.reduced_for}, this run asks for {want}")
    keep = None
    if config.vocab == "corpus":
        keep = np.unique(token_stream(teacher.tokenizer, config.text, cache_root(config.cache_dir)))
    label = "the KJV" if config.text.lower() == "kjv" else "the text"
    return reduce_teacher(teacher, n_layers=config.teacher_layers, keep_ids=keep, label=label, key=want)


def run_folder(config: LRCConfig, specs: list[StudentSpec], precision: str | None = None) -> Path:
    """The folder of a run's checkpoints and final record: `output_dir/lrc-<hash>`.

    The hash covers the config and the students; with dtype "auto" also the precision it resolved
    to, which depends on the hardware: a run started on a GPU (bf16) never resumes on a CPU (float32).

    Args:
        config: the run's config.
        specs: its students.
        precision: the resolved precision (Precision.name); None resolves config.dtype here.

    Returns:
        The folder's path (not created).
    """
    key = {"config": to_dict(config), "students": [to_dict(s) for s in specs]}
    if config.dtype == "auto":
        key["precision"] = precision or resolved_dtype(config)
    return Path(config.output_dir).expanduser() / f"lrc-{config_hash(key)}"


def train_students(
    config: LRCConfig,
    specs: list[StudentSpec],
    *,
    teacher: Teacher | None = None,
    stop_after_step: int | None = None,
    progress_bar: bool | None = None,
) -> list[RunRecord]:
    """Train every student in `specs` on one shared stream and teacher; resumable; see module doc.

    Args:
        config: the run's shared settings.
        specs: the students.
        teacher: an already loaded teacher to use (None: load config.teacher); left in float32 compute.
        stop_after_step: stop after that many steps without a final checkpoint, as a kill would (for
            tests of resuming); the records returned then have `completed=False`.
        progress_bar: show a progress bar (None: when stderr is a terminal).

    Returns:
        One RunRecord per spec, in order.
    """
    prec = resolve_precision(config.device, config.dtype)
    teacher = teacher or load_teacher(
        config.teacher, cache_dir=config.cache_dir, device=prec.device, progress=progress_bar
    )
    teacher.to(prec.device)
    teacher.to_dtype(prec.param_dtype)
    check_against_teacher(config, teacher.arch, d_S_values=tuple(s.d_S for s in specs))
    teacher = prepare_teacher(teacher, config)
    teacher.set_compute_dtype(prec.autocast_dtype)
    try:
        return _train(config, specs, teacher, prec, stop_after_step, progress_bar)
    finally:
        teacher.set_compute_dtype(None)  # the returned students run in float32 by default


def run_data(config: LRCConfig, specs, teacher: Teacher):
    """(corpus, training sequences, batch stream) of a run, in the (reduced) teacher's token ids.

    Args:
        config: text, seq_len, batch_size, heldout_every, train_tokens, seed, eval sizes.
        specs: the students (their widths are checked against the teacher).
        teacher: the prepared teacher.

    Returns:
        (Corpus, training sequences, BatchStream).
    """
    check_against_teacher(config, teacher.arch, d_S_values=tuple(s.d_S for s in specs))  # the reduced one
    min_heldout = max(config.eval_batches * config.batch_size, -(-config.mi_tokens // config.seq_len))
    corpus = build_corpus(
        teacher.tokenizer,
        config.text,
        config.seq_len,
        heldout_every=config.heldout_every,
        cache_dir=cache_root(config.cache_dir),
        min_train=config.batch_size,
        min_heldout=min_heldout,
    )
    corpus = replace(corpus, train=teacher.encode(corpus.train), heldout=teacher.encode(corpus.heldout))
    train_seqs = subsample(corpus.train, config.train_tokens, seed=config.seed)
    return corpus, train_seqs, BatchStream(train_seqs, config.batch_size, config.seed)


def store_outputs(config: LRCConfig, specs, *, teacher: Teacher | None = None) -> list[Path]:
    """Write the stored teacher outputs a run of `config` reads (the training sequences it visits
    and its evaluation set); afterwards teacher_outputs = "stored" runs need no teacher forward.

    Args:
        config: the run (its teacher_outputs is taken as "cached").
        specs: the students.
        teacher: an already loaded teacher to use (None: load config.teacher).

    Returns:
        The two store files: training sequences, evaluation set.
    """
    config = replace(config, teacher_outputs="cached")
    prec = resolve_precision(config.device, config.dtype)
    teacher = teacher or load_teacher(config.teacher, cache_dir=config.cache_dir, device=prec.device)
    teacher.to(prec.device).to_dtype(prec.param_dtype)
    check_against_teacher(config, teacher.arch, d_S_values=tuple(s.d_S for s in specs))
    teacher = prepare_teacher(teacher, config)
    teacher.set_compute_dtype(prec.autocast_dtype)
    try:
        corpus, _, stream = run_data(config, specs, teacher)
        source = teacher_source(config, teacher, stream, specs, prec)
        ev, _ = build_eval_set(teacher, corpus.heldout, stream, config, prec)
        return [source.outputs.path, ev.store]
    finally:
        teacher.set_compute_dtype(None)


def _train(config, specs, teacher, prec, stop_after_step, progress_bar) -> list[RunRecord]:
    corpus, train_seqs, stream = run_data(config, specs, teacher)
    folder = run_folder(config, specs, prec.name)
    trainees = [Trainee(spec, config, teacher) for spec in specs]
    if (folder / FINAL).is_file():
        return _load_final(folder, trainees)
    start = _restore(folder, trainees)
    source = teacher_source(config, teacher, stream, specs, prec)
    ev, teacher_hidden = build_eval_set(teacher, corpus.heldout, stream, config, prec)
    if start == 0:
        _begin(trainees, ev, source, prec)
    _loop(trainees, start, source, ev, prec, folder, stop_after_step, progress_bar)
    if stop_after_step is not None and stop_after_step < max(s.steps for s in specs):
        return [_record(tr, folder, teacher_hidden, ev, prec, len(train_seqs), completed=False) for tr in trainees]
    if config.c1_estimates:
        for tr in trainees:
            if tr.diverged_step is None:
                tr.c1.append(_c1_row(tr, tr.spec.steps, source, prec))
    records = [_record(tr, folder, teacher_hidden, ev, prec, len(train_seqs)) for tr in trainees]
    _save_final(folder, trainees, records)
    return records


def _begin(trainees, ev, source, prec) -> None:
    """Step 0: evaluate the untrained students (and estimate C1 constants if asked)."""
    for tr in trainees:
        tr.trajectory.append(trajectory_row(tr, 0, evaluate(tr, 0, ev, prec)))
        if tr.config.c1_estimates:
            tr.c1.append(_c1_row(tr, 0, source, prec))


def _loop(trainees, start, source, ev, prec, folder, stop_after_step, progress_bar) -> None:
    config = trainees[0].config
    total = max(tr.spec.steps for tr in trainees)
    with progress.bar(total, desc="lrc distill", initial=start, unit="step", enabled=progress_bar) as bar:
        for t in range(start, total):
            _shared_step(trainees, t, source, prec)
            for tr in trainees:
                if t + 1 in tr.eval_steps and t < tr.spec.steps and tr.diverged_step is None:
                    tr.trajectory.append(trajectory_row(tr, t + 1, evaluate(tr, t + 1, ev, prec)))
            bar.update(1)
            if (t + 1) % config.checkpoint_every == 0 and t + 1 < total:
                _checkpoint(folder, t + 1, trainees)
            if stop_after_step is not None and t + 1 >= stop_after_step:
                return


def _shared_step(trainees, t, source, prec) -> None:
    active = [tr for tr in trainees if tr.active(t)]
    if not active:
        return
    start = prec.clock()
    ids, targets, acts = source.batch(t, any(tr.clone_kinds for tr in active))
    share = (prec.clock() - start) / len(active)
    for tr in active:
        tr.teacher_share_seconds += share
        train_step(tr, t, ids, targets, acts, prec)


# --------------------------------------------------------------------------------------------
# C1 constants, checkpoints, records


def _c1_row(tr: Trainee, s: int, source, prec: Precision) -> dict:
    batches = [source.batch(i, bool(tr.clone_kinds)) for i in range(tr.config.c1_batches)]
    return {**tr.identity(), "step": s, **estimate_c1_constants(tr, batches, prec)}


def _checkpoint(folder: Path, step: int, trainees: list[Trainee]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        "format": 1,
        "step": step,
        "trainees": [tr.state_dict() for tr in trainees],
        "torch_rng": torch.get_rng_state(),
    }
    _atomic_save(state, folder / CHECKPOINT)


def _atomic_save(obj, path: Path) -> None:
    staging = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(obj, staging)
    os.replace(staging, path)


def _restore(folder: Path, trainees: list[Trainee]) -> int:
    path = folder / CHECKPOINT
    if not path.is_file():
        return 0
    state = torch.load(path, map_location=trainees[0].model.teacher.device, weights_only=False)
    for tr, saved in zip(trainees, state["trainees"]):
        tr.load_state_dict(saved)
    torch.set_rng_state(state["torch_rng"])
    return int(state["step"])


def _peak_memory(prec: Precision) -> tuple[float, str]:
    if prec.device.type == "cuda":
        return torch.cuda.max_memory_allocated(prec.device) / 2**20, "cuda_max_allocated"
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "process_max_rss"


def _record(
    tr: Trainee,
    folder: Path,
    teacher_hidden: dict,
    ev: EvalSet,
    prec: Precision,
    n_train_sequences: int,
    *,
    completed: bool = True,
) -> RunRecord:
    cfg, spec = tr.config, tr.spec
    hidden, index = dict(tr.hidden), []
    for layer, h in teacher_hidden.items():
        name = f"hidden.teacher.L{layer}"
        hidden[name] = h
        index.append(
            {
                "array": name,
                "role": "teacher",
                "student": None,
                "method": None,
                "d_S": None,
                "alpha": None,
                "token_budget": None,
                "layer": layer,
                "step": None,
                "width": int(h.shape[-1]),
                "n_tokens": ev.mi_tokens,
                "heldout_clone_loss": None,
            }
        )
    record = RunRecord(
        to_dict(cfg),
        spec.label,
        tr.trajectory,
        tr.step_rows,
        _final_row(tr, prec, n_train_sequences),
        hidden,
        index + tr.hidden_index,
        tr.c1,
        str(folder),
        completed,
        tr.model,
    )
    return record


def _final_row(tr: Trainee, prec: Precision, n_train_sequences: int) -> dict:
    cfg, spec = tr.config, tr.spec
    last = tr.trajectory[-1] if tr.trajectory else {}
    diverged = tr.diverged_step is not None
    steps_done = len(tr.step_rows)
    tokens_seen = steps_done * spec.tokens_per_step
    n_train_tokens = n_train_sequences * cfg.seq_len
    losses = [r["loss"] for r in tr.step_rows]
    heldout = [r["heldout_lm_loss"] for r in tr.trajectory]
    seconds = tr.own_seconds + tr.teacher_share_seconds
    peak, kind = _peak_memory(prec)
    metric_keys = (
        "heldout_lm_loss",
        "heldout_ppl",
        "heldout_kl",
        "heldout_clone_loss",
        "train_eval_lm_loss",
        "generalization_gap",
        *(f"heldout_clone_{k}" for k in CLONE_KINDS),
    )
    metrics = {k: (math.nan if diverged else last.get(k, math.nan)) for k in metric_keys}
    return {
        **tr.identity(),
        "d_T": tr.model.teacher.arch.d_model,
        "n_layers": tr.model.teacher.arch.n_layers,
        "steps": spec.steps,
        "steps_done": steps_done,
        "tokens_seen": tokens_seen,
        "n_train_tokens": n_train_tokens,
        "n_distinct_tokens_seen": min(tokens_seen, n_train_tokens),
        "epochs": tokens_seen / n_train_tokens,
        **metrics,
        "heldout_lm_loss_initial": heldout[0] if heldout else math.nan,
        "heldout_lm_loss_min": min(heldout) if heldout else math.nan,
        "train_loss_initial": losses[0] if losses else math.nan,
        "train_loss_min": min(losses) if losses else math.nan,
        "delta_estimate": (losses[0] - min(losses)) if losses else math.nan,
        "grad_norm_sq_min": min((r["grad_norm_sq"] for r in tr.step_rows), default=math.nan),
        "n_trainable": tr.model.n_trainable(),
        "tokens_per_s": tokens_seen / seconds if seconds else math.nan,
        "train_seconds": seconds,
        "peak_memory_mb": peak,
        "peak_memory_kind": kind,
        "device": str(prec.device),
        "dtype": prec.name,
        "optimizer": cfg.optimizer,
        "lr": cfg.lr,
        "schedule": cfg.schedule,
        "max_grad_norm": cfg.max_grad_norm,
        "kl_temperature": cfg.kl_temperature,
        "attn_out_width": cfg.attn_out_width,
        "seq_len": cfg.seq_len,
        "batch_size": cfg.batch_size,
        "seed": cfg.seed,
        "diverged": diverged,
        "diverged_step": tr.diverged_step,
        "diverged_reason": tr.diverged_reason,
    }


def _save_final(folder: Path, trainees: list[Trainee], records: list[RunRecord]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    plain = [{**r.__dict__, "student": None} for r in records]
    _atomic_save({"records": plain, "models": [tr.model.state_dict() for tr in trainees]}, folder / FINAL)
    (folder / CHECKPOINT).unlink(missing_ok=True)


def _load_final(folder: Path, trainees: list[Trainee]) -> list[RunRecord]:
    saved = torch.load(folder / FINAL, map_location=trainees[0].model.teacher.device, weights_only=False)
    records = []
    for tr, fields, state in zip(trainees, saved["records"], saved["models"]):
        tr.model.load_state_dict(state)
        records.append(RunRecord(**{**fields, "student": tr.model}))
    return records
