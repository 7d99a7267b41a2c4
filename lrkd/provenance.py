"""Provenance recorded with every stored run cell: code version, packages, machine, cost.

`environment()` is computed once per process (git commit, package versions, Python, platform);
`measure()` wraps one cell's work and adds wall time, peak memory, device and seed.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import platform
import resource
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

PACKAGES = ("lrkd", "numpy", "scipy", "sympy", "torch", "pandas", "transformers")


@functools.lru_cache(maxsize=1)
def environment() -> dict[str, Any]:
    """Facts about the code and machine that do not change during a process."""
    return {
        "git_commit": git_commit(),
        "packages": {name: _version(name) for name in PACKAGES},
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
    }


def git_commit() -> str:
    """The checkout's commit, with '+dirty' when tracked files differ; 'unknown' outside git."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = _git(root, "rev-parse", "HEAD")
        dirty = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if dirty else "")


def _git(root: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=10)
    return out.stdout.strip()


def _version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (Linux reports KiB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 2**20


@contextmanager
def measure(cell: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Yield a dict that is filled, on exit, with the provenance of the work done inside."""
    record: dict[str, Any] = {}
    cuda = _reset_cuda_peak()
    start = time.perf_counter()
    yield record
    record.update(environment())
    record.update(
        {
            "seed": cell.get("seed"),
            "device": _ran_on(cell.get("device", "cpu")),
            "device_requested": cell.get("device", "cpu"),
            "wall_time_s": time.perf_counter() - start,
            "peak_rss_mb": peak_rss_mb(),
            "peak_cuda_mb": _cuda_peak_mb() if cuda else None,
            "pid": os.getpid(),
        }
    )


def _ran_on(requested: str) -> str:
    """The device a cell ran on: "auto" resolved as lrkd.device does (cuda when torch sees a GPU).
    Torch is not imported for it: a cell that never imported torch ran on the CPU."""
    if requested != "auto":
        return str(requested)
    torch = sys.modules.get("torch")
    return "cuda" if torch is not None and torch.cuda.is_available() else "cpu"


def _reset_cuda_peak() -> bool:
    torch = sys.modules.get("torch")
    if torch is None or not torch.cuda.is_available():
        return False
    torch.cuda.reset_peak_memory_stats()
    return True


def _cuda_peak_mb() -> float:
    import torch  # only called when a cell already imported torch (_reset_cuda_peak)

    return torch.cuda.max_memory_allocated() / 2**20
