"""Config pieces every linear-teacher experiment shares: a planted spectrum and a teacher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from lrkd.errors import require, require_float_in, require_int_in
from lrkd.simulate.spectra import Exponential, PowerLaw
from lrkd.simulate.teachers import LinearTeacher


def positive_ints(values, name: str, low: int = 1) -> None:
    """A non-empty list of integers >= low, or a one-line InputError naming `name`.

    Args:
        values: the list to check.
        name: the field the error names.
        low: the smallest allowed value.
    """
    require(len(values) > 0, name, "a non-empty list", values)
    for v in values:
        require_int_in(v, name, low)


@dataclass(frozen=True)
class Spectrum:
    """A planted spectrum: kind "power_law" (decay = alpha) or "exponential" (decay = beta)."""

    kind: Literal["power_law", "exponential"] = "power_law"
    decay: float = 1.0

    def __post_init__(self):
        require_float_in(self.decay, "spectrum.decay", 0.0, open_low=True)

    def build(self):
        """The simulate spectrum this config describes.

        Returns:
            PowerLaw(decay) or Exponential(decay).
        """
        return PowerLaw(self.decay) if self.kind == "power_law" else Exponential(self.decay)

    @property
    def label(self) -> str:
        """The spectrum in words for labels, e.g. "power law, alpha=1"."""
        return f"power law, alpha={self.decay:g}" if self.kind == "power_law" else f"exponential, beta={self.decay:g}"


@dataclass(frozen=True)
class TeacherConfig:
    """What every linear-teacher experiment shares; subclasses change defaults and add fields."""

    m: int = 32
    n: int = 32
    spectrum: Spectrum = field(default_factory=Spectrum)
    noise: float = 0.5
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    device: str = "auto"

    def __post_init__(self):
        require_int_in(self.m, "m", 2, 4096)
        require_int_in(self.n, "n", 2, 4096)
        require_float_in(self.noise, "noise", 0.0)
        positive_ints(self.seeds, "seeds", 0)

    def teacher(self) -> LinearTeacher:
        """The linear teacher of this config (teacher seed 0).

        Returns:
            LinearTeacher(m, n, spectrum, noise).
        """
        return LinearTeacher(self.m, self.n, self.spectrum.build(), noise=self.noise, seed=0)


def sizes(start: int, stop: int, per_octave: int = 2) -> list[int]:
    """Sample sizes from start to stop (inclusive), per_octave of them per doubling.

    Args:
        start: the smallest size.
        stop: the largest size.
        per_octave: sizes per doubling (geometric, rounded).

    Returns:
        The sizes, increasing.
    """
    count = int(round(np.log2(stop / start) * per_octave))
    return [int(round(start * 2 ** (i / per_octave))) for i in range(count + 1)]
