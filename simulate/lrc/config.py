"""`LRCConfig`: every setting of a real LRC distillation run, validated, hashable, TOML-loadable.

Load one with `lrkd.config.load(LRCConfig, "configs/lrc_quick.toml", ["d_S=96"])`. Ranges that
need the teacher (d_S < d_T, seq_len within the teacher's context, hidden layers) are checked by
`check_against_teacher` once the teacher is loaded. Every bad value is an InputError naming the
field and the allowed range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from lrkd.errors import InputError, require, require_float_in, require_int_in
from lrkd.simulate.lrc.llama import CLONE_KINDS, Arch


@dataclass(frozen=True)
class LRCConfig:
    """Every setting of one real LRC run (or the shared settings of a sweep); each field's comment says
    what it does. Validated on construction: a bad value is an InputError naming the field."""

    # what to distill
    teacher: str = "smollm2-135m-instruct"  # known name, model folder or .gguf file
    teacher_layers: int | None = None  # keep only the teacher's first k layers (a reduced teacher)
    vocab: Literal["full", "corpus"] = "full"  # "corpus": embedding/head cut to the text's tokens
    # where the teacher's outputs come from: its forward on every batch ("live"), a store on disk
    # computed once per token set ("cached"), or a store that must already exist ("stored": the
    # teacher's forward never runs; see outputs.py and `lrkd teacher-outputs`)
    teacher_outputs: Literal["live", "cached", "stored"] = "live"
    top_k: int | None = None  # stored KL targets: top-k log-probs + tail mass; None: whole vocabulary
    text: str = "kjv"  # "kjv" or a local text file / folder
    method: Literal["lrc", "kd"] = "lrc"  # "kd": vanilla logit KD of a dense width-d_S student
    d_S: int = 192
    # data and budget
    seq_len: int = 128
    batch_size: int = 8
    steps: int = 60
    token_budget: int | None = None  # tokens seen; when set, steps = token_budget // (batch * seq_len)
    train_tokens: int | None = None  # training-set size N (seeded sample of sequences); None: all
    heldout_every: int = 20  # every k-th packed sequence is held out
    # optimisation
    optimizer: Literal["adamw", "sgd"] = "adamw"
    lr: float = 1e-3
    schedule: Literal["linear", "cosine", "constant"] = "linear"
    warmup_steps: int = 0
    weight_decay: float = 0.0
    momentum: float = 0.0  # sgd only
    max_grad_norm: float = 1.0  # 0 turns clipping off
    # loss
    alpha: float = 0.2  # clone-loss weight; 0 = no-clone ablation
    kl_weight: float = 1.0
    lm_weight: float = 1.0
    kl_temperature: float = 1.0
    kl_reduction: Literal["token", "batchmean"] = "token"
    clone_terms: tuple[str, ...] = CLONE_KINDS
    attn_out_width: Literal["teacher", "student"] = "teacher"
    tie_head_proj: bool = True
    init_std: float = 0.02
    # reproducibility and hardware
    seed: int = 0
    device: str = "auto"
    # auto: bf16 autocast on a CUDA GPU that supports it, float32 otherwise (bf16 on a CPU only when asked)
    dtype: Literal["auto", "float32", "bfloat16", "float64"] = "auto"
    # what is recorded
    eval_points: int = 8  # log-spaced evaluation steps, 0 and the last included
    eval_batches: int = 2  # held-out batches per evaluation
    mi_tokens: int = 512  # held-out tokens whose hidden states are kept (for MI)
    hidden_layers: tuple[int, ...] = ()  # residual streams kept (1..n_layers); () = middle and last
    hidden_snapshots: int = 3  # evaluation steps (log-spaced, first and last included) with hidden states
    c1_estimates: bool = False  # crude L, sigma^2 estimates at the first and last step (costly)
    c1_batches: int = 4
    c1_power_iters: int = 6
    # files
    checkpoint_every: int = 20
    output_dir: str = "runs/lrc"
    cache_dir: str | None = None  # teachers and token caches; None: $LRKD_CACHE or ~/.cache/lrkd

    def __post_init__(self):
        require_int_in(self.d_S, "d_S", 1)
        if self.teacher_layers is not None:
            require_int_in(self.teacher_layers, "teacher_layers", 1)
        if self.top_k is not None:
            require_int_in(self.top_k, "top_k", 1)
        require_int_in(self.seq_len, "seq_len", 2)
        require_int_in(self.batch_size, "batch_size", 1)
        require_int_in(self.steps, "steps", 1)
        if self.token_budget is not None:
            require_int_in(self.token_budget, "token_budget", self.batch_size * self.seq_len)
        if self.train_tokens is not None:
            require_int_in(self.train_tokens, "train_tokens", self.seq_len)
        require_int_in(self.heldout_every, "heldout_every", 2)
        require_float_in(self.lr, "lr", 0.0, None, open_low=True)
        require_int_in(self.warmup_steps, "warmup_steps", 0, self.total_steps - 1)
        require_float_in(self.weight_decay, "weight_decay", 0.0)
        require_float_in(self.momentum, "momentum", 0.0, 0.999)
        require_float_in(self.max_grad_norm, "max_grad_norm", 0.0)
        for name in ("alpha", "kl_weight", "lm_weight"):
            require_float_in(getattr(self, name), name, 0.0)
        require_float_in(self.kl_temperature, "kl_temperature", 0.0, None, open_low=True)
        bad = [k for k in self.clone_terms if k not in CLONE_KINDS]
        require(
            not bad and len(set(self.clone_terms)) == len(self.clone_terms),
            "clone_terms",
            f"distinct names from {', '.join(CLONE_KINDS)}",
            list(self.clone_terms),
        )
        require_float_in(self.init_std, "init_std", 0.0, None, open_low=True)
        require(
            self.device.lower() == "auto" or self.device.lower() == "cpu" or self.device.lower().startswith("cuda"),
            "device",
            "auto, cpu or cuda[:k]",
            self.device,
        )
        require_int_in(self.eval_points, "eval_points", 2)
        require_int_in(self.eval_batches, "eval_batches", 1)
        require_int_in(self.mi_tokens, "mi_tokens", 1)
        require_int_in(self.hidden_snapshots, "hidden_snapshots", 1, self.eval_points)
        require_int_in(self.c1_batches, "c1_batches", 2)
        require_int_in(self.c1_power_iters, "c1_power_iters", 1)
        require_int_in(self.checkpoint_every, "checkpoint_every", 1)

    @property
    def tokens_per_step(self) -> int:
        """Tokens per optimizer step: batch_size x seq_len."""
        return self.batch_size * self.seq_len

    @property
    def total_steps(self) -> int:
        """The run's step count: token_budget // tokens_per_step when a budget is set, else steps."""
        if self.token_budget is None:
            return self.steps
        return self.token_budget // self.tokens_per_step

    def resolved_hidden_layers(self, n_layers: int) -> tuple[int, ...]:
        """The residual streams whose hidden states are kept.

        Args:
            n_layers: the (reduced) teacher's number of layers.

        Returns:
            hidden_layers sorted and deduplicated, or () -> the middle and the last layer.
        """
        return tuple(sorted(set(self.hidden_layers))) or tuple(sorted({max(1, n_layers // 2), n_layers}))


def check_against_teacher(config: LRCConfig, arch: Arch, *, d_S_values: tuple[int, ...] = ()) -> None:
    """The ranges that depend on the teacher: 1 <= d_S <= d_T - 1, seq_len <= context, layers.

    Args:
        config: the run's config.
        arch: the loaded teacher's shape.
        d_S_values: the sweep's widths to check instead of config.d_S (empty: config.d_S).

    Raises:
        InputError: naming the first field out of its range.
    """
    if config.teacher_layers is not None:
        require_int_in(config.teacher_layers, "teacher_layers", 1, arch.n_layers)
    for d_S in d_S_values or (config.d_S,):
        require_int_in(d_S, "d_S", 1, arch.d_model - 1)
    require_int_in(config.seq_len, "seq_len", 2, arch.max_positions)
    for layer in config.hidden_layers:
        require_int_in(layer, "hidden_layers", 1, arch.n_layers)


def check_token_budget(config: LRCConfig, budget: int) -> int:
    """Steps for a token budget; a budget below one step is an InputError.

    Args:
        config: the run's config (its tokens_per_step).
        budget: tokens to train on.

    Returns:
        budget // tokens_per_step.
    """
    if not isinstance(budget, int) or budget < config.tokens_per_step:
        raise InputError(
            "token_budgets",
            f"each must be an integer >= batch_size x seq_len = {config.tokens_per_step}, got {budget!r}",
        )
    return budget // config.tokens_per_step
