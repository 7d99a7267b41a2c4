"""Deterministic random streams derived from a run's seed and a named purpose.

Every random draw of a run (training inputs, label noise, minibatch indices, initial weights,
held-out batches) comes from its own stream, keyed by (purpose, seed, ...) through numpy's
SeedSequence. Streams never depend on how runs are batched, so a run trained inside a batch of
64 sees exactly the numbers it sees when trained alone, and the same seed gives the same numbers
on every device (draws are made on the CPU and then moved).
"""

from __future__ import annotations

import zlib

import numpy as np
import torch


def _entropy(key: tuple) -> list[int]:
    out = []
    for part in key:
        if isinstance(part, str):
            out.append(zlib.crc32(part.encode()))
        elif isinstance(part, (int, np.integer)) and not isinstance(part, bool) and part >= 0:
            out.append(int(part) & 0xFFFFFFFF)
            out.append(int(part) >> 32)
        else:
            raise TypeError(f"seed key parts must be str or a non-negative int, got {part!r}")
    return out


def rng(*key: str | int) -> np.random.Generator:
    """A numpy Generator for the stream named by `key`, e.g. rng("train-x", seed).

    Args:
        key: the stream's name parts: strings and non-negative integers.

    Returns:
        A numpy Generator, the same for the same key everywhere.
    """
    return np.random.default_rng(np.random.SeedSequence(_entropy(key)))


def torch_generator(*key: str | int) -> torch.Generator:
    """A CPU torch.Generator for the stream named by `key`.

    Args:
        key: the stream's name parts: strings and non-negative integers.

    Returns:
        A seeded CPU torch.Generator.
    """
    seed = int(np.random.SeedSequence(_entropy(key)).generate_state(1, np.uint64)[0] >> 1)
    return torch.Generator().manual_seed(seed)
