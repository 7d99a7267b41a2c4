"""Synthetic teachers with planted spectra: a linear map and a two-layer MLP.

LinearTeacher: y = W_T x + e, W_T = U diag(s) V^T (m x n, out x in) with the planted singular
values s and Haar-random orthonormal U, V drawn from the teacher's seed; x ~ N(0, Sigma_x)
(Sigma_x = I unless `input_cov` is given); e ~ N(0, noise^2 I_m). Risks are per sample and summed
over the m outputs, so for any student W_S the population risk is exact:
    R(W_S) = tr((W_S - W_T) Sigma_x (W_S - W_T)^T) + m noise^2,
the excess risk is the trace term (= ||W_S - W_T||_F^2 for isotropic inputs), and the best rank-r
predictor's excess risk (the approximation error) is sum_{k>r} sigma_k(W_T Sigma_x^{1/2})^2
(Eckart-Young in the Sigma_x-weighted norm).

MLPTeacher: y = W2 act(W1 x) + e with W1 (hidden x n) and W2 (m x hidden) each carrying a planted
spectrum, x ~ N(0, I_n). Its population risk has no closed form; students estimate it on a fresh
sample whose size they state.

Data streams are keyed by (stream, seed) only, not by the teacher, and inputs are drawn row by
row, so the first N1 rows of a sample of N2 > N1 rows are the N1-row sample (nested sample sizes).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, Mapping, NamedTuple, Union

import numpy as np
import torch

from lrkd.errors import InputError, require, require_float_in, require_int_in
from lrkd.simulate._seeds import rng
from lrkd.simulate.spectra import Spectrum, check_spectrum, spectrum_from_dict

MAX_WIDTH = 1 << 16
ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "gelu": torch.nn.functional.gelu}


class Sample(NamedTuple):
    """N i.i.d. pairs: inputs x (N, n), noisy labels y (N, m), noise-free teacher outputs clean (N, m)."""

    x: np.ndarray
    y: np.ndarray
    clean: np.ndarray


@dataclass(frozen=True)
class LinearTeacher:
    """y = W_T x + N(0, noise^2 I_m); W_T (m x n) has singular values `spectrum.first(min(m, n))`."""

    m: int
    n: int
    spectrum: Spectrum
    noise: float = 0.0
    seed: int = 0
    input_cov: tuple[tuple[float, ...], ...] | None = None
    kind: ClassVar[str] = "linear"

    def __post_init__(self):
        require_int_in(self.m, "m", 1, MAX_WIDTH)
        require_int_in(self.n, "n", 1, MAX_WIDTH)
        check_spectrum(self.spectrum)
        object.__setattr__(self, "noise", require_float_in(self.noise, "noise", 0.0))
        require_int_in(self.seed, "seed", 0)
        if self.input_cov is not None:
            object.__setattr__(self, "input_cov", _checked_cov(self.input_cov, self.n))
        _ = self.singular_values  # a too-long explicit spectrum fails here, not later in a worker

    @cached_property
    def singular_values(self) -> np.ndarray:
        """The planted singular values of W_T: spectrum.first(min(m, n))."""
        return self.spectrum.first(min(self.m, self.n))

    @cached_property
    def weight(self) -> np.ndarray:
        """W_T (m x n), float64."""
        return planted_matrix(self.m, self.n, self.singular_values, rng("teacher-weight", self.seed))

    @cached_property
    def cov(self) -> np.ndarray:
        """Sigma_x (n x n): input_cov, or the identity."""
        return np.eye(self.n) if self.input_cov is None else np.asarray(self.input_cov, dtype=np.float64)

    @cached_property
    def cov_sqrt(self) -> np.ndarray:
        """The symmetric square root of Sigma_x."""
        evals, evecs = np.linalg.eigh(self.cov)
        return (evecs * np.sqrt(np.clip(evals, 0.0, None))) @ evecs.T

    @property
    def noise_floor(self) -> float:
        """m noise^2: the population risk of W_T itself."""
        return self.m * self.noise**2

    @property
    def max_rank(self) -> int:
        """The largest student rank: min(m, n)."""
        return min(self.m, self.n)

    def sample(self, n_samples: int, *, seed: int, stream: str = "train") -> Sample:
        """N i.i.d. pairs: x ~ N(0, Sigma_x), y = W_T x + N(0, noise^2 I_m).

        Args:
            n_samples: N, the number of pairs (the first N1 rows of a larger sample are the N1-row sample).
            seed: the data seed (not the teacher's).
            stream: the stream's name: "train", "heldout", ... (independent draws per name).

        Returns:
            Sample (x, y, clean), float64.
        """
        require_int_in(n_samples, "n_samples", 1)
        x = rng(stream + "-x", seed).standard_normal((n_samples, self.n))
        if self.input_cov is not None:
            x = x @ self.cov_sqrt
        clean = x @ self.weight.T
        return Sample(x, clean + self.noise * rng(stream + "-noise", seed).standard_normal(clean.shape), clean)

    def excess_risk(self, w: torch.Tensor) -> torch.Tensor:
        """tr((W - W_T) Sigma_x (W - W_T)^T) for W of shape (..., m, n), exact.

        Args:
            w: student weights (..., m, n).

        Returns:
            (...) tensor.
        """
        diff = w - torch.as_tensor(self.weight, dtype=w.dtype, device=w.device)
        if self.input_cov is None:
            return diff.square().sum((-2, -1))
        weighted = diff @ torch.as_tensor(self.cov_sqrt, dtype=w.dtype, device=w.device)
        return weighted.square().sum((-2, -1))

    def population_risk(self, w: torch.Tensor) -> torch.Tensor:
        """R(W) = excess_risk(W) + m noise^2, exact, per sample.

        Args:
            w: student weights (..., m, n).

        Returns:
            (...) tensor.
        """
        return self.excess_risk(w) + self.noise_floor

    def approx_error(self, rank: int) -> float:
        """Excess risk of the best rank-`rank` predictor: sum_{k>r} sigma_k(W_T Sigma_x^{1/2})^2.

        Args:
            rank: r.

        Returns:
            The approximation error.
        """
        s = np.linalg.svd(self.weight @ self.cov_sqrt, compute_uv=False)
        return float(np.sum(s[rank:] ** 2))

    def to_dict(self) -> dict[str, Any]:
        """The teacher as JSON-able data (teacher_from_dict rebuilds it).

        Returns:
            {"kind", and every field}.
        """
        cov = None if self.input_cov is None else [list(row) for row in self.input_cov]
        return {
            "kind": self.kind,
            "m": self.m,
            "n": self.n,
            "spectrum": self.spectrum.to_dict(),
            "noise": self.noise,
            "seed": self.seed,
            "input_cov": cov,
        }


@dataclass(frozen=True)
class BoundedLinearTeacher(LinearTeacher):
    """The linear teacher with BOUNDED data, for claims that assume ||x|| <= R_x and ||y|| <= R_y
    almost surely (the uniform-convergence bound generalization_sqrt).

    Inputs are Rademacher (each coordinate +-1 with probability 1/2): isotropic like the Gaussian
    inputs, so the population risk, excess risk and approximation error of LinearTeacher stay exact,
    and ||x||_2 = sqrt(n) for every sample. Label noise is uniform on [-sqrt(3) noise, sqrt(3) noise]
    per output: variance noise^2 (the same noise floor m noise^2) and |xi_i| <= sqrt(3) noise.
    Hence, surely, ||y|| <= ||W_T||_2 sqrt(n) + sqrt(3 m) noise (`bounds`).
    """

    kind: ClassVar[str] = "linear_bounded"

    def __post_init__(self):
        super().__post_init__()
        require(self.input_cov is None, "input_cov", "None for bounded (Rademacher) inputs", self.input_cov)

    def sample(self, n_samples: int, *, seed: int, stream: str = "train") -> Sample:
        """N pairs with Rademacher x and uniform noise (same seeds and streams as LinearTeacher).

        Args:
            n_samples: N, the number of pairs (the first N1 rows of a larger sample are the N1-row sample).
            seed: the data seed (not the teacher's).
            stream: the stream's name: "train", "heldout", ... (independent draws per name).

        Returns:
            Sample (x, y, clean), float64.
        """
        x = rng(stream + "-x", seed).integers(0, 2, (n_samples, self.n)).astype(np.float64) * 2.0 - 1.0
        clean = x @ self.weight.T
        half_width = math.sqrt(3.0) * self.noise
        noise = rng(stream + "-noise", seed).uniform(-half_width, half_width, clean.shape)
        return Sample(x, clean + noise, clean)

    @property
    def bounds(self) -> dict[str, float]:
        """Almost-sure bounds on the data: R_x = sqrt(n), R_y = ||W_T||_2 sqrt(n) + sqrt(3 m) noise."""
        r_x = math.sqrt(self.n)
        return {"R_x": r_x, "R_y": float(np.linalg.norm(self.weight, 2)) * r_x + math.sqrt(3.0 * self.m) * self.noise}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BoundedLinearTeacher":
        """Rebuild a bounded teacher from its to_dict() form.

        Args:
            data: what to_dict returned (its kind and input_cov are ignored).

        Returns:
            The BoundedLinearTeacher.
        """
        data = {k: v for k, v in data.items() if k not in ("kind", "input_cov")}
        return cls(spectrum=spectrum_from_dict(data.pop("spectrum")), **data)


@dataclass(frozen=True)
class MLPTeacher:
    """y = W2 act(W1 x) + N(0, noise^2 I_m), x ~ N(0, I_n); W1: hidden x n, W2: m x hidden."""

    m: int
    n: int
    hidden: int
    spectrum_in: Spectrum
    spectrum_out: Spectrum
    noise: float = 0.0
    seed: int = 0
    activation: str = "tanh"
    kind: ClassVar[str] = "mlp"

    def __post_init__(self):
        for name in ("m", "n", "hidden"):
            require_int_in(getattr(self, name), name, 1, MAX_WIDTH)
        check_spectrum(self.spectrum_in, "spectrum_in")
        check_spectrum(self.spectrum_out, "spectrum_out")
        object.__setattr__(self, "noise", require_float_in(self.noise, "noise", 0.0))
        require_int_in(self.seed, "seed", 0)
        require(self.activation in ACTIVATIONS, "activation", "one of " + ", ".join(ACTIVATIONS), self.activation)
        _ = self.w1, self.w2  # a too-long explicit spectrum fails here

    @cached_property
    def w1(self) -> np.ndarray:
        """W1 (hidden x n), float64, with singular values spectrum_in.first(min(hidden, n))."""
        s = self.spectrum_in.first(min(self.hidden, self.n))
        return planted_matrix(self.hidden, self.n, s, rng("teacher-w1", self.seed))

    @cached_property
    def w2(self) -> np.ndarray:
        """W2 (m x hidden), float64, with singular values spectrum_out.first(min(m, hidden))."""
        s = self.spectrum_out.first(min(self.m, self.hidden))
        return planted_matrix(self.m, self.hidden, s, rng("teacher-w2", self.seed))

    @property
    def noise_floor(self) -> float:
        """m noise^2: the population risk of the teacher itself."""
        return self.m * self.noise**2

    @property
    def max_rank(self) -> int:
        """A student's hidden width r ranges over 1..hidden."""
        return self.hidden

    def act(self, z: torch.Tensor) -> torch.Tensor:
        """The teacher's activation function.

        Args:
            z: pre-activations.

        Returns:
            act(z), same shape.
        """
        return ACTIVATIONS[self.activation](z)

    def hidden_activations(self, x: torch.Tensor) -> torch.Tensor:
        """act(W1 x) for x of shape (..., n).

        Args:
            x: inputs (..., n).

        Returns:
            (..., hidden) tensor.
        """
        return self.act(x @ torch.as_tensor(self.w1, dtype=x.dtype, device=x.device).T)

    def outputs(self, x: torch.Tensor) -> torch.Tensor:
        """The noise-free teacher output W2 act(W1 x).

        Args:
            x: inputs (..., n).

        Returns:
            (..., m) tensor.
        """
        w2 = torch.as_tensor(self.w2, dtype=x.dtype, device=x.device)
        return self.hidden_activations(x) @ w2.T

    def sample(self, n_samples: int, *, seed: int, stream: str = "train") -> Sample:
        """N i.i.d. pairs: x ~ N(0, I_n), y = W2 act(W1 x) + N(0, noise^2 I_m).

        Args:
            n_samples: N, the number of pairs (the first N1 rows of a larger sample are the N1-row sample).
            seed: the data seed (not the teacher's).
            stream: the stream's name: "train", "heldout", ... (independent draws per name).

        Returns:
            Sample (x, y, clean), float64.
        """
        require_int_in(n_samples, "n_samples", 1)
        x = rng(stream + "-x", seed).standard_normal((n_samples, self.n))
        clean = self.outputs(torch.from_numpy(x)).numpy()
        return Sample(x, clean + self.noise * rng(stream + "-noise", seed).standard_normal(clean.shape), clean)

    def to_dict(self) -> dict[str, Any]:
        """The teacher as JSON-able data (teacher_from_dict rebuilds it).

        Returns:
            {"kind", and every field}.
        """
        return {
            "kind": self.kind,
            "m": self.m,
            "n": self.n,
            "hidden": self.hidden,
            "spectrum_in": self.spectrum_in.to_dict(),
            "spectrum_out": self.spectrum_out.to_dict(),
            "noise": self.noise,
            "seed": self.seed,
            "activation": self.activation,
        }


Teacher = Union[LinearTeacher, MLPTeacher]


def teacher_from_dict(data: Mapping[str, Any]) -> Teacher:
    """Rebuild a teacher from its `to_dict()` form (deterministic: the weights come from its seed).

    Args:
        data: what a teacher's to_dict returned (kind linear, linear_bounded or mlp).

    Returns:
        The teacher; an unknown kind is an InputError naming `teacher.kind`.
    """
    data = dict(data)
    kind = data.pop("kind", None)
    if kind == LinearTeacher.kind:
        cov = data.pop("input_cov", None)
        cov = None if cov is None else tuple(tuple(row) for row in cov)
        return LinearTeacher(spectrum=spectrum_from_dict(data.pop("spectrum")), input_cov=cov, **data)
    if kind == BoundedLinearTeacher.kind:  # Rademacher inputs, uniform noise
        return BoundedLinearTeacher.from_dict(data)
    if kind == MLPTeacher.kind:
        return MLPTeacher(
            spectrum_in=spectrum_from_dict(data.pop("spectrum_in")),
            spectrum_out=spectrum_from_dict(data.pop("spectrum_out")),
            **data,
        )
    raise InputError("teacher.kind", f"must be 'linear' or 'mlp', got {kind!r}")


def check_teacher(teacher: Any) -> Teacher:
    """The teacher itself when it is a LinearTeacher or MLPTeacher, else an InputError naming `teacher`.

    Args:
        teacher: the value to check.

    Returns:
        teacher.
    """
    require(
        isinstance(teacher, (LinearTeacher, MLPTeacher)),
        "teacher",
        "a LinearTeacher or MLPTeacher",
        type(teacher).__name__,
    )
    return teacher


def haar_orthonormal(rows: int, cols: int, generator: np.random.Generator) -> np.ndarray:
    """`cols` orthonormal columns of a Haar-random rows x rows orthogonal matrix (QR, signs fixed).

    Args:
        rows: the matrix's size.
        cols: the columns kept (<= rows).
        generator: the random stream.

    Returns:
        (rows, cols) float64 array.
    """
    q, r = np.linalg.qr(generator.standard_normal((rows, rows)))
    return (q * np.sign(np.diag(r)))[:, :cols]


def planted_matrix(rows: int, cols: int, singular_values: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """U diag(s) V^T with Haar-random singular vectors (U from the stream first, then V).

    Args:
        rows: m.
        cols: n.
        singular_values: at least min(rows, cols) values (the first ones are used).
        generator: the random stream.

    Returns:
        (rows, cols) float64 array.
    """
    k = min(rows, cols)
    u = haar_orthonormal(rows, k, generator)
    v = haar_orthonormal(cols, k, generator)
    return (u * singular_values[:k]) @ v.T


def _checked_cov(cov: Any, n: int) -> tuple[tuple[float, ...], ...]:
    try:
        arr = np.asarray(cov, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("input_cov", f"must be an {n} x {n} matrix of numbers") from None
    allowed = f"a finite symmetric positive semi-definite {n} x {n} matrix"
    require(arr.shape == (n, n) and bool(np.all(np.isfinite(arr))), "input_cov", allowed, f"shape {arr.shape}")
    scale = max(float(np.abs(arr).max()), 1e-300)
    require(np.allclose(arr, arr.T, atol=1e-10 * scale), "input_cov", allowed, "a non-symmetric matrix")
    require(
        float(np.linalg.eigvalsh(arr).min()) >= -1e-10 * scale,
        "input_cov",
        allowed,
        "a matrix with a negative eigenvalue",
    )
    return tuple(tuple(float(v) for v in row) for row in arr)
