"""Device choice: `auto` takes a CUDA GPU when one is present, else the CPU.

Every command and run takes `--device auto|cpu|cuda`; asking for cuda on a machine without one is
a one-line InputError rather than a crash inside torch.
"""

from __future__ import annotations

import os

from lrkd.errors import InputError

DEVICES = ("auto", "cpu", "cuda")


def resolve(device: str = "auto"):
    """Map 'auto' / 'cpu' / 'cuda[:k]' to a torch.device, checking that it exists."""
    import torch  # on use: importing the infrastructure loads no torch (`lrkd --help` stays instant)

    name = (device or "auto").lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("device", "cuda was requested but no CUDA GPU is available; use auto or cpu")
        return torch.device(name)
    raise InputError("device", f"must be one of auto, cpu, cuda, got {device!r}")


def device_label(device) -> str:
    """A human-readable name for provenance ('cpu (2 cores)' or the GPU's name)."""
    import torch  # torch on use, as in resolve()

    dev = torch.device(device)
    if dev.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(dev)}"
    return f"cpu ({os.cpu_count()} cores)"
