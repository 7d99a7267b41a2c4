"""Teacher outputs computed once per token set, stored on disk, reused by every student and epoch.

A rank sweep trains many students (widths x seeds) for several epochs on the same N-token set;
the frozen teacher's outputs on it never change. `teacher_outputs(teacher, sequences, ...)` runs
the teacher once over the sequences and writes what LRC needs to
`<cache>/teacher_outputs/<key>.safetensors`:

  tokens          (n, T) int64      the sequences themselves (checked on load)
  log_probs       (n, T, V)         log softmax(logits / tau), when top_k is None (exact), or
  topk_log_probs  (n, T, k)         the k largest of them, with
  topk_ids        (n, T, k) int64   their token ids and
  tail_log_mass   (n, T)            log of the probability left outside the top k
                                    (the KL then used is the coarse-grained one: losses.TopKTargets)
  acts.{l}.{kind} (n, T, width)     every layer's cloned activations (LRC's clone targets)
  hidden.{l}      (n, T, d_T)       residual streams kept for the MI analysis (eval sets)

Values are stored in the dtype the live teacher produces them in (bf16 activations under bf16
autocast, float32 log-probabilities; float64 in a float64 run), so a student trained from the
store sees exactly the numbers the live teacher would give it. The key hashes the teacher's
fingerprint, the token bytes and every setting (k, tau, what is captured, dtype): a different
token set or teacher never reads another's outputs. Writing is atomic (staging file + rename).

With `must_exist=True` (config `teacher_outputs = "stored"`) nothing is computed: a missing file
is an InputError naming the command that writes it (`lrkd teacher-outputs CONFIG`), so a
distillation run can be made from stored outputs without ever running the teacher's forward.
(An LRC student's weights are W_T @ P, so the teacher's weights are still loaded: only its
forward passes are skipped.)
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from lrkd.errors import InputError
from lrkd.simulate.lrc.llama import CLONE_KINDS
from lrkd.simulate.lrc.losses import TeacherTargets, TopKTargets, teacher_log_probs

FORMAT = 1


@dataclass
class StoredOutputs:
    """Teacher outputs for a fixed set of sequences (rows), held in memory."""

    path: Path
    key: str
    tokens: torch.Tensor
    tensors: dict[str, torch.Tensor]
    temperature: float
    top_k: int | None
    n_layers: int
    hidden_layers: tuple[int, ...]

    @property
    def has_acts(self) -> bool:
        """Whether the store holds every layer's cloned activations."""
        return f"acts.0.{CLONE_KINDS[0]}" in self.tensors

    def row_of(self, sequences: np.ndarray) -> np.ndarray:
        """Row numbers in the store of each given sequence (they must all be stored).

        Args:
            sequences: (n, T) token rows.

        Returns:
            n row numbers; an InputError naming `teacher_outputs` when one is not stored.
        """
        lookup = {row.tobytes(): i for i, row in enumerate(self.tokens.cpu().numpy())}
        try:
            return np.array([lookup[s.tobytes()] for s in np.asarray(sequences, dtype=np.int64)])
        except KeyError:
            raise InputError("teacher_outputs", f"{self.path} does not hold every sequence asked for") from None

    def targets(self, rows, device) -> TeacherTargets | TopKTargets:
        """The KL targets of the given rows (full-vocabulary or top-k).

        Args:
            rows: store row numbers.
            device: where the tensors go.

        Returns:
            TeacherTargets (whole vocabulary) or TopKTargets.
        """
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        if "log_probs" in self.tensors:
            logp = self.tensors["log_probs"][rows].to(device)
            probs = logp.exp()
            return TeacherTargets(probs, (probs * logp).sum(), self.temperature)
        return TopKTargets(
            self.tensors["topk_log_probs"][rows].to(device),
            self.tensors["topk_ids"][rows].to(device),
            self.tensors["tail_log_mass"][rows].to(device),
            self.temperature,
        )

    def acts(self, rows, device) -> list[dict[str, torch.Tensor]] | None:
        """Every layer's cloned activations of the given rows (None when not stored).

        Args:
            rows: store row numbers.
            device: where the tensors go.

        Returns:
            One dict kind -> tensor per layer, or None.
        """
        if not self.has_acts:
            return None
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        return [
            {k: self.tensors[f"acts.{layer}.{k}"][rows].to(device) for k in CLONE_KINDS}
            for layer in range(self.n_layers)
        ]

    def hidden(self, rows, device) -> dict[int, torch.Tensor]:
        """The stored residual streams of the given rows.

        Args:
            rows: store row numbers.
            device: where the tensors go.

        Returns:
            layer -> (len(rows), T, d_T) tensor, for the store's hidden_layers.
        """
        rows = torch.as_tensor(np.asarray(rows), dtype=torch.long)
        return {layer: self.tensors[f"hidden.{layer}"][rows].to(device) for layer in self.hidden_layers}

    def nbytes(self) -> int:
        """Bytes held in memory by the stored tensors (the tokens excluded)."""
        return sum(t.numel() * t.element_size() for t in self.tensors.values())


def outputs_key(
    teacher,
    sequences: np.ndarray,
    *,
    top_k: int | None,
    temperature: float,
    capture: bool,
    hidden_layers: tuple[int, ...],
    dtype: str,
) -> str:
    """The store key: teacher fingerprint + token bytes + every setting that changes the values.

    Args:
        teacher: the (reduced) Teacher.
        sequences: (n, T) int64 token rows.
        top_k: None (whole vocabulary) or k.
        temperature: tau of the KL targets.
        capture: whether cloned activations are stored.
        hidden_layers: the residual streams stored.
        dtype: the weights' dtype and the run's precision, as text.

    Returns:
        20 hex digits.
    """
    digest = hashlib.sha256(
        json.dumps(
            {
                "format": FORMAT,
                "teacher": teacher.fingerprint(),
                "top_k": top_k,
                "temperature": temperature,
                "capture": capture,
                "hidden_layers": list(hidden_layers),
                "dtype": dtype,
            }
        ).encode()
    )
    digest.update(np.ascontiguousarray(sequences, dtype=np.int64).tobytes())
    return digest.hexdigest()[:20]


def store_path(cache_dir: Path, key: str) -> Path:
    """Where the store of a key lives.

    Args:
        cache_dir: the cache root.
        key: outputs_key's value.

    Returns:
        cache_dir/teacher_outputs/<key>.safetensors.
    """
    return Path(cache_dir) / "teacher_outputs" / f"{key}.safetensors"


def teacher_outputs(
    teacher,
    sequences: np.ndarray,
    *,
    cache_dir: Path,
    prec,
    top_k: int | None = None,
    temperature: float = 1.0,
    capture: bool = True,
    hidden_layers: tuple[int, ...] = (),
    batch_size: int = 8,
    must_exist: bool = False,
) -> StoredOutputs:
    """The teacher's outputs on `sequences` (n, T): read from the store, or computed once and stored.

    Args:
        teacher: the (reduced) simulate.lrc Teacher.
        sequences: int64 token rows (n, T).
        cache_dir: the cache root.
        prec: the run's train.Precision (device and autocast).
        top_k: None: the whole vocabulary, exact; k: top-k log-probabilities plus the tail mass.
        temperature: tau of the KL targets.
        capture: store every layer's cloned activations.
        hidden_layers: residual streams to keep.
        batch_size: sequences per teacher forward.
        must_exist: never run the teacher: a missing store is an InputError.

    Returns:
        StoredOutputs.
    """
    sequences = np.ascontiguousarray(sequences, dtype=np.int64)
    if top_k is not None:
        top_k = min(top_k, teacher.arch.vocab)  # k = V: the top-k form with an empty tail (exact)
    key = outputs_key(
        teacher,
        sequences,
        top_k=top_k,
        temperature=temperature,
        capture=capture,
        hidden_layers=hidden_layers,
        dtype=f"{teacher.model.dtype}/{prec.name}",
    )
    path = store_path(cache_dir, key)
    if not path.is_file():
        if must_exist:
            raise InputError(
                "teacher_outputs",
                f"'stored' needs the teacher outputs {path}, which do not exist; "
                "write them first with `lrkd teacher-outputs CONFIG` "
                '(or set teacher_outputs = "cached")',
            )
        _compute_and_save(
            teacher,
            sequences,
            path,
            prec=prec,
            top_k=top_k,
            temperature=temperature,
            capture=capture,
            hidden_layers=hidden_layers,
            batch_size=batch_size,
        )
    return load_outputs(path, device=prec.device, expect_tokens=sequences)


def _compute_and_save(
    teacher, sequences, path: Path, *, prec, top_k, temperature, capture, hidden_layers, batch_size
) -> None:
    parts: dict[str, list[torch.Tensor]] = {}
    for start in range(0, len(sequences), batch_size):
        ids = torch.from_numpy(sequences[start : start + batch_size]).to(prec.device)
        with prec.autocast():
            out = teacher.forward(ids, capture=capture, hidden_layers=hidden_layers)
        logp = teacher_log_probs(out.logits, temperature)
        for name, value in _batch_tensors(out, logp, top_k).items():
            parts.setdefault(name, []).append(value.detach().cpu().contiguous())
    tensors = {name: torch.cat(values) for name, values in parts.items()}
    tensors["tokens"] = torch.from_numpy(sequences)
    meta = {
        "format": str(FORMAT),
        "temperature": repr(float(temperature)),
        "top_k": str(top_k or 0),
        "n_layers": str(teacher.arch.n_layers),
        "hidden_layers": json.dumps(list(hidden_layers)),
        "teacher": teacher.fingerprint(),
        "reduction": teacher.reduction,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(path.name + f".tmp{os.getpid()}")
    save_file(tensors, str(staging), metadata=meta)
    os.replace(staging, path)  # atomic: a killed run never leaves a half-written store


def _batch_tensors(out, logp: torch.Tensor, top_k: int | None) -> dict[str, torch.Tensor]:
    tensors = {}
    if top_k is None:
        tensors["log_probs"] = logp
    else:
        values, ids = torch.topk(logp, top_k, dim=-1)
        # 1 - sum of the top k, in log space: log(-expm1(logsumexp)); -inf if nothing is left
        lse = torch.logsumexp(values, dim=-1).clamp(max=0.0)
        tensors.update(topk_log_probs=values, topk_ids=ids, tail_log_mass=torch.log(-torch.expm1(lse)))
    for layer, acts in enumerate(out.acts or []):
        for kind in CLONE_KINDS:
            tensors[f"acts.{layer}.{kind}"] = acts[kind]
    for layer, h in out.hidden.items():
        tensors[f"hidden.{layer}"] = h
    return tensors


def load_outputs(path: Path, *, device="cpu", expect_tokens: np.ndarray | None = None) -> StoredOutputs:
    """Read a store written by `teacher_outputs` (all of it, into memory on `device`'s host).

    Args:
        path: the .safetensors file.
        device: unused here: tensors stay on the CPU until a batch asks for them.
        expect_tokens: the sequences the store must hold (checked; None: not checked).

    Returns:
        StoredOutputs; other tokens than expected are an InputError naming `teacher_outputs`.
    """
    with safe_open(str(path), framework="pt") as handle:
        meta = handle.metadata() or {}
        tensors = {name: handle.get_tensor(name) for name in handle.keys()}
    tokens = tensors.pop("tokens")
    if expect_tokens is not None and not np.array_equal(tokens.numpy(), expect_tokens):
        raise InputError(
            "teacher_outputs",
            f"{path} holds other tokens than this run's (a hash collision or a corrupted file: delete it)",
        )
    top_k = int(meta.get("top_k", "0")) or None
    return StoredOutputs(
        Path(path),
        Path(path).stem,
        tokens,
        tensors,
        float(meta.get("temperature", "1.0")),
        top_k,
        int(meta.get("n_layers", "0")),
        tuple(json.loads(meta.get("hidden_layers", "[]"))),
    )
