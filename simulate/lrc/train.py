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
from lrkd.simulate.lrc.data import BatchStream, build_corpus, subsample
from lrkd.simulate.lrc.llama import CLONE_KINDS
from lrkd.simulate.lrc.losses import TeacherTargets, clone_losses, kl_and_lm, kl_to_teacher, lm_loss
from lrkd.simulate.lrc.record import RunRecord
from lrkd.simulate.lrc.student import DenseStudent, LRCStudent
from lrkd.simulate.lrc.teacher import Teacher, cache_root, load_teacher

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
        return self.steps * self.tokens_per_step

    @property
    def label(self) -> str:
        return f"dS{self.d_S}-a{self.alpha:g}-N{self.token_budget}"


@dataclass
class Precision:
    """Where and how to compute: bf16 autocast on CUDA when supported, float32 otherwise
    (float64 weights and activations throughout for exactness tests)."""

    device: torch.device
    autocast_dtype: torch.dtype | None
    param_dtype: torch.dtype = torch.float32

    @property
    def name(self) -> str:
        if self.param_dtype == torch.float64:
            return "float64"
        return "bfloat16-autocast" if self.autocast_dtype is not None else "float32"

    def autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def clock(self) -> float:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        return time.perf_counter()


def resolve_precision(device: str, dtype: str) -> Precision:
    """float32; bfloat16 (autocast); or auto: bf16 autocast where the hardware multiplies bf16
    natively (a CUDA GPU that supports it, or an x86 CPU with AVX512-BF16 / AMX), else float32."""
    dev = resolve(device)
    native = torch.cuda.is_bf16_supported() if dev.type == "cuda" else cpu_has_native_bf16()
    if dtype == "float32":
        return Precision(dev, None)
    if dtype == "float64":
        return Precision(dev, None, torch.float64)
    if dtype == "bfloat16":
        if dev.type == "cuda" and not native:
            raise InputError("dtype", "bfloat16 is not supported on this GPU; use auto or float32")
        return Precision(dev, torch.bfloat16)
    return Precision(dev, torch.bfloat16 if native else None)


def cpu_has_native_bf16() -> bool:
    """True on x86 CPUs whose flags include avx512_bf16 or amx_bf16 (read from /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo") as handle:
            flags = next((line for line in handle if line.startswith("flags")), "")
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("avx512_bf16", "amx_bf16"))


def log_spaced_steps(total: int, points: int) -> list[int]:
    """0, `total`, and log-spaced steps between them (at most `points` distinct integers)."""
    inner = np.round(np.geomspace(1, total, max(points - 1, 1))).astype(int).tolist()
    return sorted({0, total, *inner})


def lr_factor(config: LRCConfig, total: int, t: int) -> float:
    """Multiplier of the base learning rate at update t (0-based): warm-up, then the schedule."""
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
    """A student being trained: model, optimizer, schedule, and everything recorded about it."""

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
        if self.config.method != "lrc" or self.spec.alpha == 0:
            return ()
        return self.config.clone_terms

    def active(self, t: int) -> bool:
        return t < self.spec.steps and self.diverged_step is None

    def identity(self) -> dict:
        s = self.spec
        return {
            "student": s.label,
            "method": self.config.method,
            "d_S": s.d_S,
            "alpha": s.alpha,
            "token_budget": s.token_budget,
        }

    def state_dict(self) -> dict:
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
        self.model.load_state_dict(state.pop("model"))
        self.optimizer.load_state_dict(state.pop("optimizer"))
        self.scheduler.load_state_dict(state.pop("scheduler"))
        for key, value in state.items():
            setattr(self, key, value)


def make_optimizer(config: LRCConfig, params) -> torch.optim.Optimizer:
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=config.weight_decay)


def loss_terms(
    tr: Trainee, ids: torch.Tensor, targets: TeacherTargets, teacher_acts: list[dict] | None
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The training loss of one student on one batch and its named terms."""
    cfg, kinds = tr.config, tr.clone_kinds
    out = tr.model(ids, capture=bool(kinds))
    kl, lm = kl_and_lm(out.logits, targets, ids, cfg.kl_reduction)
    clones = clone_losses(tr.model, out.acts, teacher_acts, kinds) if kinds else {}
    clone = torch.stack(list(clones.values())).sum() if clones else torch.zeros((), device=ids.device)
    total = cfg.kl_weight * kl + cfg.lm_weight * lm + tr.spec.alpha * clone
    terms = {"kl": kl, "lm_loss": lm, "clone_loss": clone, **{f"clone_{k}": v for k, v in clones.items()}}
    return total, terms


def gradient_norm(params, max_norm: float) -> torch.Tensor:
    """Total 2-norm of the gradient before clipping (clipping in place when max_norm > 0)."""
    if max_norm > 0:
        return torch.nn.utils.clip_grad_norm_(params, max_norm)
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p.grad) for p in params]))


def train_step(tr: Trainee, t: int, ids: torch.Tensor, targets: TeacherTargets, teacher_acts, prec: Precision) -> None:
    """One optimizer step of one student; a non-finite loss or gradient marks it diverged."""
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
    """The evaluation batches and the teacher's hidden states on the MI batch (numpy, d_T)."""
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
    from lrkd.simulate.lrc.outputs import teacher_outputs

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
    """Held-out LM loss / KL, training-batch LM loss, MI-batch clone terms (and hidden states)."""
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
    """Held-out metrics at step s with the training terms averaged over [previous eval, s)."""
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
    """One teacher forward: (KL targets at tau, activations or None). Shared by all students."""
    with prec.autocast():
        out = teacher.forward(ids, capture=need_acts)
        return TeacherTargets.from_logits(out.logits, config.kl_temperature), out.acts


class LiveTeacher:
    """The teacher's outputs of training batch t: one forward pass per batch."""

    def __init__(self, teacher: Teacher, stream: BatchStream, config: LRCConfig, prec: Precision):
        self.teacher, self.stream, self.config, self.prec = teacher, stream, config, prec

    def batch(self, t: int, need_acts: bool):
        ids = torch.from_numpy(self.stream.batch(t)).to(self.prec.device)
        return (ids, *teacher_step(self.teacher, ids, need_acts, self.config, self.prec))


class StoredTeacher:
    """The teacher's outputs of training batch t, read from a store computed once (outputs.py)."""

    def __init__(self, outputs, rows: np.ndarray, stream: BatchStream, prec: Precision):
        self.outputs, self.stream, self.prec = outputs, stream, prec
        self.position = {int(r): i for i, r in enumerate(rows)}  # training-set row -> store row

    def batch(self, t: int, need_acts: bool):
        rows = [self.position[int(i)] for i in self.stream.indices(t)]
        dev = self.prec.device
        ids = self.outputs.tokens[rows].to(dev)
        return ids, self.outputs.targets(rows, dev), (self.outputs.acts(rows, dev) if need_acts else None)


def teacher_source(config: LRCConfig, teacher: Teacher, stream: BatchStream, specs, prec: Precision):
    """Live forward passes, or the stored outputs of every training sequence the run visits."""
    if config.teacher_outputs == "live":
        return LiveTeacher(teacher, stream, config, prec)
    from lrkd.simulate.lrc.outputs import teacher_outputs

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
    """The teacher a run distills: the loaded one, or its reduction (teacher_layers, vocab)."""
    want = (config.teacher_layers, config.vocab, config.text if config.vocab == "corpus" else None)
    if want == (None, "full", None) and not teacher.reduced_for:
        return teacher
    if teacher.reduced_for == want:
        return teacher
    if teacher.reduced_for:
        raise InputError("teacher", f"was reduced for {teacher.reduced_for}, this run asks for {want}")
    from lrkd.simulate.lrc.data import token_stream
    from lrkd.simulate.lrc.teacher import reduce_teacher

    keep = None
    if config.vocab == "corpus":
        keep = np.unique(token_stream(teacher.tokenizer, config.text, cache_root(config.cache_dir)))
    label = "the KJV" if config.text.lower() == "kjv" else "the text"
    return reduce_teacher(teacher, n_layers=config.teacher_layers, keep_ids=keep, label=label, key=want)


def run_folder(config: LRCConfig, specs: list[StudentSpec]) -> Path:
    key = config_hash({"config": to_dict(config), "students": [to_dict(s) for s in specs]})
    return Path(config.output_dir).expanduser() / f"lrc-{key}"


def train_students(
    config: LRCConfig,
    specs: list[StudentSpec],
    *,
    teacher: Teacher | None = None,
    stop_after_step: int | None = None,
    progress_bar: bool | None = None,
) -> list[RunRecord]:
    """Train every student in `specs` on one shared stream and teacher; resumable; see module doc.

    `stop_after_step` stops after that many steps without a final checkpoint, as a kill would
    (for tests of resuming); the records returned then have `completed=False`.
    """
    prec = resolve_precision(config.device, config.dtype)
    teacher = teacher or load_teacher(config.teacher, cache_dir=config.cache_dir, device=prec.device)
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
    """(corpus, training sequences, batch stream) of a run, in the (reduced) teacher's token ids."""
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
    and its evaluation set); afterwards teacher_outputs = "stored" runs need no teacher forward."""
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
    folder = run_folder(config, specs)
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
    from lrkd.simulate.lrc.diagnostics import estimate_c1_constants

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
