"""Numeric functions generated from the claims' sympy expressions (one source of truth).

``numpy_function(expr, args)`` is ``sympy.lambdify`` with numpy: float64 arrays in, arrays out,
broadcasting like any numpy expression. ``torch_function`` prints the same expression with the
same (numpy) printer but resolves ``sqrt``, ``log``, ``maximum`` ... to torch, so tensors keep
their device, dtype and autograd graph; torch is imported only when a tensor is actually passed.
``evaluate_exact`` evaluates an expression at high precision with sympy (mpmath), the reference
the tests compare the generated functions against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache

import sympy as sp

_TORCH_FUNCTIONS = (
    "sqrt",
    "log",
    "exp",
    "log1p",
    "expm1",
    "abs",
    "maximum",
    "minimum",
    "sin",
    "cos",
    "tanh",
    "floor",
    "ceil",
    "sign",
    "less",
    "less_equal",
    "greater",
    "greater_equal",
    "equal",
    "logical_and",
    "logical_or",
)  # names the numpy printer emits for the expressions in theory/


def is_torch(x) -> bool:
    """True for a torch tensor, decided without importing torch."""
    return type(x).__module__.split(".")[0] == "torch"


@lru_cache(maxsize=None)
def numpy_function(expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> Callable:
    """expr as a vectorized numpy function of args (positional, in the given order)."""
    return sp.lambdify(args, expr, modules="numpy")


@lru_cache(maxsize=None)
def torch_function(expr: sp.Expr, args: tuple[sp.Symbol, ...]) -> Callable:
    """expr as a function of torch tensors (same printed code as numpy_function)."""
    return sp.lambdify(args, expr, modules=[_torch_namespace(), "numpy"])


@lru_cache(maxsize=1)
def _torch_namespace() -> dict[str, Callable]:
    import torch  # lazy: theory/ must import without torch

    def lift(fn: Callable) -> Callable:
        def on_tensors(*xs):
            ref = next((x for x in xs if torch.is_tensor(x)), None)
            dtype = ref.dtype if ref is not None and ref.is_floating_point() else torch.float64
            device = ref.device if ref is not None else None
            return fn(*(x if torch.is_tensor(x) else torch.as_tensor(x, dtype=dtype, device=device) for x in xs))

        return on_tensors

    return {name: lift(getattr(torch, name)) for name in _TORCH_FUNCTIONS}


def evaluate_exact(expr: sp.Expr, values: Mapping[sp.Symbol, float], digits: int = 40) -> sp.Float:
    """expr at the given values, each taken as the exact binary float it is, to `digits` digits."""
    exact = {sym: sp.Float(float(v), digits) for sym, v in values.items()}
    return sp.sympify(expr).subs(exact).evalf(digits)
