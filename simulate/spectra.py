"""Planted singular-value spectra for synthetic teachers.

A spectrum is a small frozen dataclass whose `first(k)` returns the first k singular values
s_1 >= s_2 >= ... of a teacher matrix. The families follow docs/claims.md (C4 table) and theory/symbols.py:
  PowerLaw(alpha, scale):            s_k = scale * k^(-alpha),          k = 1, 2, ...
  Exponential(beta, scale):          s_k = scale * exp(-beta * k),      k = 1, 2, ...
  LowRankPlusFloor(rank, value, floor): s_k = value for k <= rank, floor after
  Explicit(values):                  the given values (sorted decreasing; zeros pad the rest)
Each has `to_dict()`; `spectrum_from_dict` rebuilds it (that is how spectra travel in sweep cells).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Mapping, Union

import numpy as np

from lrkd.errors import InputError, require, require_float_in, require_int_in


@dataclass(frozen=True)
class PowerLaw:
    """s_k = scale * k^(-alpha); alpha > 1/2 keeps sum s_k^2 finite as the size grows."""

    alpha: float
    scale: float = 1.0
    kind: ClassVar[str] = "power_law"

    def __post_init__(self):
        object.__setattr__(self, "alpha", require_float_in(self.alpha, "alpha", 0, None, open_low=True))
        object.__setattr__(self, "scale", _positive_scale(self.scale))

    def first(self, k: int) -> np.ndarray:
        """The first k singular values, decreasing.

        Args:
            k: how many (the matrix's min(m, n)).

        Returns:
            (k,) float64 array.
        """
        return self.scale * np.arange(1, k + 1, dtype=np.float64) ** (-self.alpha)

    def to_dict(self) -> dict[str, Any]:
        """The spectrum as JSON-able data (spectrum_from_dict rebuilds it).

        Returns:
            {"kind", and the family's parameters}.
        """
        return {"kind": self.kind, "alpha": self.alpha, "scale": self.scale}


@dataclass(frozen=True)
class Exponential:
    """s_k = scale * exp(-beta k), k = 1, 2, ... (so s_1 = scale * e^-beta, as in theory/)."""

    beta: float
    scale: float = 1.0
    kind: ClassVar[str] = "exponential"

    def __post_init__(self):
        object.__setattr__(self, "beta", require_float_in(self.beta, "beta", 0, None, open_low=True))
        object.__setattr__(self, "scale", _positive_scale(self.scale))

    def first(self, k: int) -> np.ndarray:
        """The first k singular values, decreasing.

        Args:
            k: how many (the matrix's min(m, n)).

        Returns:
            (k,) float64 array.
        """
        return self.scale * np.exp(-self.beta * np.arange(1, k + 1, dtype=np.float64))

    def to_dict(self) -> dict[str, Any]:
        """The spectrum as JSON-able data (spectrum_from_dict rebuilds it).

        Returns:
            {"kind", and the family's parameters}.
        """
        return {"kind": self.kind, "beta": self.beta, "scale": self.scale}


@dataclass(frozen=True)
class LowRankPlusFloor:
    """`rank` singular values equal to `value`, every later one equal to `floor` (0 <= floor <= value)."""

    rank: int
    value: float = 1.0
    floor: float = 0.0
    kind: ClassVar[str] = "low_rank_plus_floor"

    def __post_init__(self):
        require_int_in(self.rank, "rank", 0)
        value = require_float_in(self.value, "value", 0, None, open_low=True)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "floor", require_float_in(self.floor, "floor", 0, value))

    def first(self, k: int) -> np.ndarray:
        """The first k singular values, decreasing.

        Args:
            k: how many (the matrix's min(m, n)).

        Returns:
            (k,) float64 array.
        """
        return np.where(np.arange(k) < self.rank, self.value, self.floor).astype(np.float64)

    def to_dict(self) -> dict[str, Any]:
        """The spectrum as JSON-able data (spectrum_from_dict rebuilds it).

        Returns:
            {"kind", and the family's parameters}.
        """
        return {"kind": self.kind, "rank": self.rank, "value": self.value, "floor": self.floor}


@dataclass(frozen=True)
class Explicit:
    """Given singular values (finite, >= 0); stored sorted decreasing, zeros pad up to min(m, n)."""

    values: tuple[float, ...]
    kind: ClassVar[str] = "explicit"

    def __post_init__(self):
        values = self.values
        require(_is_sequence(values) and len(values) > 0, "values", "a non-empty list of numbers", values)
        checked = [require_float_in(v, f"values[{i}]", 0.0) for i, v in enumerate(values)]
        object.__setattr__(self, "values", tuple(sorted(checked, reverse=True)))

    def first(self, k: int) -> np.ndarray:
        """The first k singular values, decreasing, zero-padded past the given values.

        Args:
            k: how many (the matrix's min(m, n)); fewer than the given values is an InputError.

        Returns:
            (k,) float64 array.
        """
        if len(self.values) > k:
            raise InputError("values", f"has {len(self.values)} singular values but the matrix has only {k}")
        return np.pad(np.asarray(self.values, dtype=np.float64), (0, k - len(self.values)))

    def to_dict(self) -> dict[str, Any]:
        """The spectrum as JSON-able data (spectrum_from_dict rebuilds it).

        Returns:
            {"kind", and the family's parameters}.
        """
        return {"kind": self.kind, "values": list(self.values)}


Spectrum = Union[PowerLaw, Exponential, LowRankPlusFloor, Explicit]
_FAMILIES = {cls.kind: cls for cls in (PowerLaw, Exponential, LowRankPlusFloor, Explicit)}


def spectrum_from_dict(data: Mapping[str, Any]) -> Spectrum:
    """Rebuild a spectrum from its `to_dict()` form.

    Args:
        data: {"kind": power_law | exponential | low_rank_plus_floor | explicit, and its parameters}.

    Returns:
        The spectrum; an unknown kind is an InputError naming `spectrum.kind`.
    """
    require(
        isinstance(data, Mapping) and data.get("kind") in _FAMILIES,
        "spectrum.kind",
        "one of " + ", ".join(_FAMILIES),
        data,
    )
    params = {k: v for k, v in data.items() if k != "kind"}
    return _FAMILIES[data["kind"]](**params)


def check_spectrum(spectrum: Any, field: str = "spectrum") -> Spectrum:
    """The spectrum itself when it is one of the four families, else an InputError.

    Args:
        spectrum: the value to check.
        field: the field name the error names.

    Returns:
        spectrum.
    """
    require(
        isinstance(spectrum, tuple(_FAMILIES.values())),
        field,
        "a PowerLaw, Exponential, LowRankPlusFloor or Explicit spectrum",
        spectrum,
    )
    return spectrum


def _positive_scale(scale: Any) -> float:
    return require_float_in(scale, "scale", 0, None, open_low=True)


def _is_sequence(values: Any) -> bool:
    return isinstance(values, (list, tuple, np.ndarray)) and not isinstance(values, str)
