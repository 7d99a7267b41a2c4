"""Hypothesis strategies for lrkd's objects: spectra, linear teachers, noisy quadratics, claims.

Every parameter takes either a (low, high) pair, drawn uniformly by hypothesis, or a strategy of
your own, so the strategies compose:

    linear_teachers(m=(4, 8), spectrum=power_law_spectra(alpha=st.just(1.0)))
    claims("C*sigma*sqrt(L*Delta)*T**(-{a})", {"a": (0.6, 1)}, kind="upper_bound", ...)

The default ranges are small: property tests run many examples, each a short simulation.
"""

from __future__ import annotations

import string
from fractions import Fraction
from typing import Any, Mapping, Union

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from lrkd import theory
from lrkd.errors import InputError
from lrkd.simulate.quadratic import Quadratic
from lrkd.simulate.spectra import Exponential, LowRankPlusFloor, PowerLaw
from lrkd.simulate.teachers import LinearTeacher

Range = Union[tuple[float, float], SearchStrategy]
#: Parameters of a claim family drawn from a (low, high) pair are fractions with at most this
#: denominator: exponents stay exact and readable (3/5, 9/20) in the claim and its verdict.
MAX_DENOMINATOR = 20


def _floats(value: Range) -> SearchStrategy:
    if isinstance(value, SearchStrategy):
        return value
    low, high = value
    return st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False)


def _ints(value: Range) -> SearchStrategy:
    if isinstance(value, SearchStrategy):
        return value
    low, high = value
    return st.integers(min_value=low, max_value=high)


def _fractions(value: Range) -> SearchStrategy:
    if isinstance(value, SearchStrategy):
        return value
    low, high = (Fraction(v).limit_denominator(MAX_DENOMINATOR) for v in value)
    return st.fractions(min_value=low, max_value=high, max_denominator=MAX_DENOMINATOR)


def power_law_spectra(*, alpha: Range = (0.6, 3.0), scale: Range = (0.5, 2.0)) -> SearchStrategy[PowerLaw]:
    """Power-law spectra s_k = scale * k^(-alpha).

    Args:
        alpha: the decay (default above 1/2, where sum s_k^2 stays finite as the size grows).
        scale: s_1.

    Returns:
        A strategy of simulate.PowerLaw.
    """
    return st.builds(PowerLaw, alpha=_floats(alpha), scale=_floats(scale))


def exponential_spectra(*, beta: Range = (0.05, 2.0), scale: Range = (0.5, 2.0)) -> SearchStrategy[Exponential]:
    """Exponential spectra s_k = scale * exp(-beta k).

    Args:
        beta: the decay rate; scale: the prefactor.

    Returns:
        A strategy of simulate.Exponential.
    """
    return st.builds(Exponential, beta=_floats(beta), scale=_floats(scale))


def low_rank_plus_floor_spectra(
    *, rank: Range = (0, 8), value: Range = (0.5, 2.0), floor_fraction: Range = (0.0, 0.5)
) -> SearchStrategy[LowRankPlusFloor]:
    """Spectra of `rank` values equal to `value`, every later one at the floor.

    Args:
        rank: how many singular values sit at `value`.
        value: their size.
        floor_fraction: the floor as a fraction of `value` (in [0, 1]: the floor never exceeds it).

    Returns:
        A strategy of simulate.LowRankPlusFloor.
    """

    @st.composite
    def draw(draw_from) -> LowRankPlusFloor:
        top = draw_from(_floats(value))
        return LowRankPlusFloor(draw_from(_ints(rank)), top, top * draw_from(_floats(floor_fraction)))

    return draw()


def spectra() -> SearchStrategy:
    """Any of the three planted families with its default ranges (power law, exponential, low
    rank plus floor)."""
    return st.one_of(power_law_spectra(), exponential_spectra(), low_rank_plus_floor_spectra())


def linear_teachers(
    *,
    m: Range = (2, 16),
    n: Range = (2, 16),
    spectrum: SearchStrategy | None = None,
    noise: Range = (0.1, 2.0),
    seed: Range = (0, 2**16),
) -> SearchStrategy[LinearTeacher]:
    """Linear teachers y = W_T x + N(0, noise^2 I_m).

    Args:
        m, n: output and input widths.
        spectrum: a strategy of spectra for W_T (default `spectra()`, every family).
        noise: the label noise's standard deviation.
        seed: the seed of W_T's singular vectors.

    Returns:
        A strategy of simulate.LinearTeacher.
    """
    return st.builds(
        LinearTeacher,
        m=_ints(m),
        n=_ints(n),
        spectrum=spectra() if spectrum is None else spectrum,
        noise=_floats(noise),
        seed=_ints(seed),
    )


def quadratic_problems(
    *, dim: Range = (1, 8), eigenvalues: Range = (0.1, 4.0), sigma: Range = (0.5, 3.0)
) -> SearchStrategy[Quadratic]:
    """Noisy quadratics f(x) = x^T H x / 2, gradient noise of variance sigma^2, where SGD's C1
    constants are known exactly.

    Args:
        dim: the dimension.
        eigenvalues: the range each diagonal entry of H is drawn from (positive, so L > 0).
        sigma: the gradient noise (default positive: without noise SGD converges as 1/T, and the
            C1 rate T^(-1/2) is no longer the truth to test against).

    Returns:
        A strategy of simulate.Quadratic (start x_0 with every coordinate 1/sqrt(dim)).
    """

    @st.composite
    def draw(draw_from) -> Quadratic:
        size = draw_from(_ints(dim))
        values = draw_from(st.lists(_floats(eigenvalues), min_size=size, max_size=size))
        return Quadratic(tuple(values), draw_from(_floats(sigma)))

    return draw()


def claims(
    formula: str,
    parameters: Mapping[str, Range],
    *,
    kind: str,
    id: str = "drawn",
    **fields: Any,
) -> SearchStrategy[theory.Claim]:
    """Claims drawn from a formula family: a formula with `{name}` placeholders, each filled with
    a drawn value, built by theory.Claim.from_formula.

    Args:
        formula: e.g. "C*sigma*sqrt(L*Delta)*T**(-{a})".
        parameters: {placeholder: (low, high) or a strategy}; a pair draws exact fractions with
            denominators up to MAX_DENOMINATOR.
        kind: "upper_bound", "lower_bound" or "exponent".
        id: the id every drawn claim carries.
        **fields: the rest of the claim (rate_variables, experiment, columns, measured_column,
            free_constant, defaults, ...). An O(.) claim's free constant defaults to 1 in
            `defaults`: validate judges it by its exponents only, but evaluating the bound needs
            a value (validate/calibration.py plants its O(.) claims the same way).

    Returns:
        A strategy of theory.Claim whose title is the filled formula.
    """
    names = {name for _, name, _, _ in string.Formatter().parse(formula) if name is not None}
    if names != set(parameters):
        raise InputError(
            "parameters", f"must name the formula's placeholders {sorted(names)}; got {sorted(parameters)}"
        )
    free = fields.get("free_constant")
    if free is not None:
        fields["defaults"] = {free: 1.0, **dict(fields.get("defaults") or {})}
    title = fields.pop("title", None)

    def claim_with(values: Mapping[str, Any]) -> theory.Claim:  # hypothesis names a failing draw by it
        filled = formula.format(**{name: f"({value})" for name, value in values.items()})
        return theory.Claim.from_formula(id, filled, kind=kind, title=title or filled, **fields)

    return st.fixed_dictionaries({name: _fractions(parameters[name]) for name in sorted(names)}).map(claim_with)
