"""Training data shared by a batch of runs, and the minibatch index stream of each run.

A batched program trains R runs that share shapes; runs with the same seed share one training
sample (drawn from the teacher with that seed), so the data are stored once per distinct seed,
(S, N, .), and each run points at its seed. Minibatches are drawn uniformly WITH replacement from
the N training pairs (i.i.d. indices, so the minibatch gradient is an unbiased estimate of the
full-batch gradient, as Ghadimi & Lan assume). Indices come from a per-seed stream in fixed chunks,
so a run sees the same minibatches whether it is trained alone or inside any batch, and runs that
share a seed (different ranks, clone weights) see the same minibatches (common random numbers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from lrkd.simulate._seeds import torch_generator
from lrkd.simulate.teachers import Teacher

INDEX_CHUNK = 256  # steps of indices drawn per call; fixed, so streams do not depend on T


@dataclass(frozen=True)
class Run:
    """One training run of a batch: its seed (data, minibatches, init), rank and clone weight."""

    seed: int
    rank: int
    alpha: float = 0.0


@dataclass
class TrainData:
    """Training pairs per distinct seed: x (S, N, n), y (S, N, m) noisy, clean (S, N, m) noise-free."""

    seeds: list[int]
    x: torch.Tensor
    y: torch.Tensor
    clean: torch.Tensor

    @property
    def n_samples(self) -> int:
        """N, the training pairs per seed."""
        return self.x.shape[1]

    def run_index(self, runs: Sequence[Run]) -> torch.Tensor:
        """For each run, the position of its seed in `seeds`.

        Args:
            runs: the batch's runs.

        Returns:
            (R,) int64 tensor on the data's device.
        """
        return torch.tensor([self.seeds.index(run.seed) for run in runs], device=self.x.device)

    def second_moments(self) -> dict[str, torch.Tensor]:
        """S_xx = X^T X/N, S_yx = Y^T X/N, S_cx = C^T X/N, mean ||y||^2 and mean ||c||^2 per seed.

        Returns:
            {"sxx": (S, n, n), "syx": (S, m, n), "scx": (S, m, n), "yy": (S,), "cc": (S,)}.
        """
        n = self.n_samples
        xt = self.x.transpose(1, 2)
        return {
            "sxx": xt @ self.x / n,
            "syx": (xt @ self.y).transpose(1, 2) / n,
            "scx": (xt @ self.clean).transpose(1, 2) / n,
            "yy": self.y.square().sum((1, 2)) / n,
            "cc": self.clean.square().sum((1, 2)) / n,
        }


def load_data(
    teacher: Teacher, n_samples: int, *, seeds: Sequence[int], dtype: torch.dtype, device: torch.device
) -> TrainData:
    """Draw the training sample of each distinct seed (in float64 on the CPU, then cast and move).

    Args:
        teacher: the teacher to sample from.
        n_samples: N, pairs per seed.
        seeds: the runs' seeds (repeats are drawn once).
        dtype: the tensors' dtype.
        device: the tensors' device.

    Returns:
        TrainData for the distinct seeds, in first-seen order.
    """
    distinct = list(dict.fromkeys(seeds))
    samples = [teacher.sample(n_samples, seed=seed) for seed in distinct]
    stack = lambda part: torch.stack([torch.from_numpy(getattr(s, part)) for s in samples]).to(device, dtype)
    return TrainData(distinct, stack("x"), stack("y"), stack("clean"))


class BatchStream:
    """Minibatch indices per run, (R, b), drawn per seed in chunks of INDEX_CHUNK steps.

    Args:
        runs: the batch's runs (runs of one seed share its stream).
        n_samples: N, the pairs indices are drawn from.
        batch_size: b.
        device: where the indices go.
    """

    def __init__(self, runs: Sequence[Run], n_samples: int, batch_size: int, device: torch.device):
        self.seeds = list(dict.fromkeys(run.seed for run in runs))
        self.rows = torch.tensor([self.seeds.index(run.seed) for run in runs], device=device)
        self.generators = [torch_generator("minibatch", seed) for seed in self.seeds]
        self.n_samples, self.batch_size, self.device = n_samples, batch_size, device
        self.step, self.chunk = 0, None

    def next(self) -> torch.Tensor:
        """This step's indices of every run (each run reads its seed's row of next_per_seed).

        Returns:
            (R, b) int64 tensor.
        """
        return self.next_per_seed()[self.rows]

    def next_per_seed(self) -> torch.Tensor:
        """This step's indices of each distinct seed, (S, b) in the order of `seeds`: every run of
        a seed uses its seed's row, so a batch needs only S gathers, not R.

        Returns:
            (S, b) int64 tensor.
        """
        offset = self.step % INDEX_CHUNK
        if offset == 0:
            self.chunk = self._draw()
        self.step += 1
        return self.chunk[offset]

    def next_chunk_per_seed(self) -> torch.Tensor:
        """The next INDEX_CHUNK steps' indices at once, (INDEX_CHUNK, S, b): the same stream as
        INDEX_CHUNK calls of next_per_seed (call it only at a chunk boundary).

        Returns:
            (INDEX_CHUNK, S, b) int64 tensor.
        """
        if self.step % INDEX_CHUNK:
            raise RuntimeError("next_chunk_per_seed called inside a chunk")
        self.step += INDEX_CHUNK
        return self._draw()

    def _draw(self) -> torch.Tensor:
        draws = [torch.randint(self.n_samples, (INDEX_CHUNK, self.batch_size), generator=g) for g in self.generators]
        return torch.stack(draws, 1).to(self.device)  # (chunk, S, b)
