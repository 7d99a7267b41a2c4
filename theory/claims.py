"""The Claim record, its symbols, and the registry every other layer reads claims from.

A ``Claim`` holds one formal statement: a sympy expression ``expr`` (the right-hand side of a
bound, or the predicted quantity), what each symbol means and where it may range, the
assumptions, the source (paper sentence and the theorem the reading rests on), and the direction
of its empirical check (``kind``: upper bound, lower bound, or exponent). Everything numeric is
generated from ``expr`` (``Claim.bound`` lambdifies it), so a number in a report traces back to
this one formula. Exponents are computed by sympy as asymptotic log-log slopes.

The registry (``register_claim``, ``get_claim``, ``all_claims``) holds the built-in claims (see
theory/catalog.py) and any a user adds; validate/ and the report iterate over it.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from lrkd.theory import numeric
from lrkd.theory.proofs import loglog_slope

KINDS = ("upper_bound", "lower_bound", "exponent")
_ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")
_FORMULA_FUNCTIONS = {
    "sqrt": sp.sqrt,
    "log": sp.log,
    "exp": sp.exp,
    "Min": sp.Min,
    "Max": sp.Max,
    "Abs": sp.Abs,
    "pi": sp.pi,
    "oo": sp.oo,
}


def default_interval(symbol: sp.Symbol) -> sp.Interval:
    """Numeric domain implied by a symbol's sympy assumptions."""
    if symbol.is_positive:
        return sp.Interval.open(0, sp.oo)
    if symbol.is_nonnegative:
        return sp.Interval(0, sp.oo)
    return sp.Interval(-sp.oo, sp.oo)


def interval_text(interval: sp.Interval) -> str:
    """'(0, inf)', '[1, inf)', '(0, 1)' ..."""
    lo = "-inf" if interval.start == -sp.oo else sp.sstr(interval.start)
    hi = "inf" if interval.end == sp.oo else sp.sstr(interval.end)
    left = "(" if interval.left_open or interval.start == -sp.oo else "["
    right = ")" if interval.right_open or interval.end == sp.oo else "]"
    return f"{left}{lo}, {hi}{right}"


@dataclass(frozen=True)
class SymbolInfo:
    """One symbol of a claim: its parameter name, sympy symbol, meaning and numeric domain.

    ``symbol`` defaults to a positive sympy symbol named ``name``; ``interval`` (the values
    ``Claim.bound`` accepts) defaults to the domain the symbol's assumptions imply, and ``domain``
    (text for the report) to that interval written out.
    """

    name: str
    symbol: sp.Symbol | None = None
    meaning: str = ""
    domain: str = ""
    interval: sp.Interval | None = None
    latex: str | None = None

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"symbol name {self.name!r} must be a Python identifier")
        if self.symbol is None:
            object.__setattr__(self, "symbol", sp.Symbol(self.name, positive=True))
        if not isinstance(self.symbol, sp.Symbol):
            raise ValueError(f"symbol {self.name!r}: expected a sympy Symbol, got {self.symbol!r}")
        if self.interval is None:
            object.__setattr__(self, "interval", default_interval(self.symbol))
        if not self.domain:
            object.__setattr__(self, "domain", f"{self.name} in {interval_text(self.interval)}")

    def check(self, values: np.ndarray, owner: str) -> None:
        """Raise ValueError naming the parameter if any value lies outside the interval."""
        iv = self.interval
        lo, hi = float(iv.start), float(iv.end)
        ok = ~np.isnan(values)
        ok &= (values > lo) if (iv.left_open or math.isinf(lo)) else (values >= lo)
        ok &= (values < hi) if (iv.right_open or math.isinf(hi)) else (values <= hi)
        if not np.all(ok):
            bad = values[~ok].flat[0] if values.ndim else values
            raise ValueError(f"{owner}: parameter '{self.name}' must be in {interval_text(iv)}; got {bad}")


@dataclass(frozen=True, kw_only=True)
class Claim:
    """One claim as a formal statement: measured (<=, >=, ~) expr, with everything explicit.

    kind:  "upper_bound"  measured <= expr is checked;
           "lower_bound"  measured >= expr is checked;
           "exponent"     the growth exponent of the measured quantity in each rate variable is
                          compared with ``claimed_exponents`` (expr fixes the shape, C * sqrt(N)).
    paper: True for the paper's own four claims, False for standard-theory references and
           user claims.
    rate_variables: the variables whose exponent the claim speaks about.
    claimed: optional explicit exponents {var: value}; by default they are computed from expr
           by sympy (``exponent``).
    defaults: values for optional constants (such as the O(.) constant C) used by ``bound``.
    constraints: sympy relations the parameters must satisfy in ``bound`` (e.g. r <= Min(m, n)).
    experiment / columns / measured_column: how a user claim binds to run data (validate/ reads
           them): the experiment name, symbol name -> data column, and the measured column.
    table: the experiment's table the columns are read from (one row per run and grid point), or
           None to let validate/ pick the only such table that has them.
    free_constant: the symbol that is the unspecified constant of an O(.) statement (e.g. "C"),
           or None when every constant is explicit. validate/ judges such a claim by its
           exponents only (its verdict must not depend on the data's units) and reports the
           best-fit value of this constant; an explicit-constant version is a separate claim.
    """

    id: str
    expr: sp.Expr
    symbols: tuple[SymbolInfo, ...]
    kind: str
    title: str = ""
    wording: str = ""
    reading: str = ""
    assumptions: tuple[str, ...] = ()
    source: str = ""
    paper: bool = False
    rate_variables: tuple[str, ...] = ()
    measured: str = ""
    measured_symbol: str = "y"
    measured_latex: str | None = None
    claimed: Mapping[str, Any] | None = None
    defaults: Mapping[str, float] = field(default_factory=dict)
    constraints: tuple[sp.Basic, ...] = ()
    experiment: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    measured_column: str | None = None
    table: str | None = None
    free_constant: str | None = None

    def __post_init__(self):
        if not isinstance(self.id, str) or not _ID_PATTERN.match(self.id):
            raise ValueError(f"claim id {self.id!r} must start with a letter and use [A-Za-z0-9_.-]")
        if self.kind not in KINDS:
            raise ValueError(f"claim {self.id}: kind must be one of {KINDS}; got {self.kind!r}")
        symbols = tuple(self.symbols)
        names = [s.name for s in symbols]
        if len(set(names)) != len(names):
            raise ValueError(f"claim {self.id}: symbol names must be unique; got {names}")
        object.__setattr__(self, "symbols", symbols)
        object.__setattr__(self, "expr", self._parse(self.expr))
        object.__setattr__(self, "constraints", tuple(self._parse(c) for c in self.constraints))
        for name in ("assumptions", "rate_variables"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        for name in ("defaults", "columns"):
            object.__setattr__(self, name, dict(getattr(self, name)))
        if self.table is not None and (not isinstance(self.table, str) or not self.table):
            raise ValueError(f"claim {self.id}: table must be a table's name; got {self.table!r}")
        if self.claimed is not None:
            claimed = {v: _exact(x) for v, x in dict(self.claimed).items()}
            object.__setattr__(self, "claimed", claimed)
        self._check_names()

    def _parse(self, value) -> sp.Basic:
        if isinstance(value, str):
            local = {s.name: s.symbol for s in self.symbols} | _FORMULA_FUNCTIONS
            return sp.sympify(value, locals=local)
        return sp.sympify(value)

    def _check_names(self) -> None:
        known = {s.symbol: s.name for s in self.symbols}
        free = set(self.expr.free_symbols).union(*(c.free_symbols for c in self.constraints))
        missing = sorted(str(s) for s in free if s not in known)
        if missing:
            raise ValueError(f"claim {self.id}: symbols {missing} are used but not described")
        names = set(known.values())
        if self.free_constant is not None and self.free_constant not in names:
            raise ValueError(f"claim {self.id}: free_constant names unknown symbol {self.free_constant!r}")
        for what, keys in (
            ("rate_variables", self.rate_variables),
            ("defaults", self.defaults),
            ("columns", self.columns),
            ("claimed", self.claimed or {}),
        ):
            unknown = sorted(set(keys) - names)
            if unknown:
                raise ValueError(f"claim {self.id}: {what} names unknown symbols {unknown}")

    def __hash__(self) -> int:
        return hash((self.id, self.expr))

    # -- symbols -------------------------------------------------------------------------------
    def info(self, name: str) -> SymbolInfo:
        """The SymbolInfo called `name`."""
        for s in self.symbols:
            if s.name == name:
                return s
        raise ValueError(f"claim {self.id}: no symbol named {name!r}; known: {self.symbol_names}")

    def symbol(self, name: str) -> sp.Symbol:
        """The sympy symbol called `name`."""
        return self.info(name).symbol

    @property
    def symbol_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.symbols)

    @property
    def free_parameters(self) -> tuple[str, ...]:
        """Names that ``bound`` needs (those of expr and the constraints), in symbol order."""
        used = set(self.expr.free_symbols).union(*(c.free_symbols for c in self.constraints))
        return tuple(s.name for s in self.symbols if s.symbol in used)

    @property
    def required_parameters(self) -> tuple[str, ...]:
        """free_parameters without a default."""
        return tuple(p for p in self.free_parameters if p not in self.defaults)

    # -- the statement --------------------------------------------------------------------------
    @property
    def measured_sym(self) -> sp.Symbol:
        return sp.Symbol(self.measured_symbol, real=True)

    @property
    def statement(self) -> sp.Basic:
        """measured <= expr (upper bound), measured >= expr (lower bound), measured = expr
        read as "grows with the same exponents" (exponent claims)."""
        relation = {"upper_bound": sp.Le, "lower_bound": sp.Ge, "exponent": sp.Eq}[self.kind]
        return relation(self.measured_sym, self.expr, evaluate=False)

    def latex(self) -> str:
        """The statement in LaTeX, with readable names for measured quantity and symbols."""
        names = {s.symbol: s.latex for s in self.symbols if s.latex}
        if self.measured_latex:
            names[self.measured_sym] = self.measured_latex
        text = sp.latex(self.statement, symbol_names=names)
        return text.replace("=", r"\asymp", 1) if self.kind == "exponent" else text

    # -- exponents ------------------------------------------------------------------------------
    def exponent(self, var: str) -> sp.Expr:
        """Asymptotic log-log slope of expr in var: lim var * d expr/d var / expr, var -> oo."""
        return loglog_slope(self.expr, self.symbol(var))

    @property
    def claimed_exponents(self) -> dict[str, sp.Expr]:
        """{rate variable: claimed exponent}, explicit if given, else computed from expr."""
        if self.claimed is not None:
            return dict(self.claimed)
        return {v: self.exponent(v) for v in self.rate_variables}

    # -- numbers --------------------------------------------------------------------------------
    def bound(self, **params):
        """expr evaluated numerically: float64 numpy arrays (broadcast), or torch tensors.

        Every name in ``required_parameters`` must be given; optional constants default from
        ``defaults``. Values outside a symbol's interval, or breaking a constraint, raise
        ValueError naming the parameter.
        """
        values = self._resolve(params)
        if any(numeric.is_torch(v) for v in values.values()):
            return self._bound_torch(values)
        arrays = {k: np.asarray(v, dtype=np.float64) for k, v in values.items()}
        self._check_domain(arrays)
        order = self.free_parameters
        fn = numeric.numpy_function(self.expr, tuple(self.symbol(p) for p in order))
        shape = np.broadcast_shapes(*(a.shape for a in arrays.values()))
        with np.errstate(over="ignore"):
            out = np.asarray(fn(*(arrays[p] for p in order)), dtype=np.float64)
        out = np.array(np.broadcast_to(out, shape))
        return out[()] if out.ndim == 0 else out

    def _bound_torch(self, values: dict[str, Any]):
        self._check_domain({k: _as_numpy(v) for k, v in values.items()})
        order = self.free_parameters
        fn = numeric.torch_function(self.expr, tuple(self.symbol(p) for p in order))
        return fn(*(values[p] for p in order))

    def _resolve(self, params: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(params) - set(self.symbol_names))
        if unknown:
            raise ValueError(f"claim {self.id}: unknown parameter(s) {unknown}; parameters: {self.free_parameters}")
        values = {p: self.defaults[p] for p in self.free_parameters if p in self.defaults}
        values.update(params)
        missing = [p for p in self.free_parameters if p not in values]
        if missing:
            raise ValueError(f"claim {self.id}: missing parameter(s) {missing}")
        return values

    def _check_domain(self, arrays: Mapping[str, np.ndarray]) -> None:
        for name, values in arrays.items():
            self.info(name).check(values, f"claim {self.id}")
        for relation in self.constraints:
            args = tuple(sorted(relation.free_symbols, key=str))
            names = [next(s.name for s in self.symbols if s.symbol == a) for a in args]
            inputs = np.broadcast_arrays(*(arrays[n] for n in names))
            holds = np.broadcast_to(numeric.numpy_function(relation, args)(*inputs), inputs[0].shape)
            if not np.all(holds):
                at = np.argwhere(~holds)[0] if holds.ndim else ()
                got = ", ".join(f"{n}={x[tuple(at)]:g}" for n, x in zip(names, inputs))
                raise ValueError(f"claim {self.id}: parameters must satisfy {relation}; got {got}")

    # -- variants -------------------------------------------------------------------------------
    def with_constant(self, factor: float, id: str | None = None) -> Claim:
        """A copy whose expr is multiplied by `factor` (validate/ plants false claims this way:
        ``claim.with_constant(0.01)`` is "the constant divided by 100"). Exponents are unchanged.
        The copy has explicit constants (``free_constant=None``): scaling an O(.) claim means
        stating its constant, and only an explicit bound is checked point by point."""
        factor = sp.nsimplify(factor)
        if not factor.is_positive:
            raise ValueError(f"claim {self.id}: with_constant needs factor > 0; got {factor}")
        return dataclasses.replace(
            self,
            id=id or f"{self.id}_x{float(factor):g}",
            expr=factor * self.expr,
            title=f"{self.title or self.id} (constant x {float(factor):g})",
            paper=False,
            claimed=self.claimed_exponents,
            free_constant=None,
        )

    @classmethod
    def from_formula(
        cls, id: str, formula: str, *, kind: str, meanings: Mapping[str, str] | None = None, **fields
    ) -> Claim:
        """A claim from a formula string; every name in it becomes a positive symbol.

        >>> Claim.from_formula("my_rate", "L * Delta / T", kind="upper_bound",
        ...                    rate_variables=("T",)).claimed_exponents
        {'T': -1}
        """
        names = sorted(set(re.findall(r"[A-Za-z_][A-Za-z_0-9]*", formula)) - set(_FORMULA_FUNCTIONS))
        meanings = dict(meanings or {})
        symbols = tuple(SymbolInfo(name, meaning=meanings.pop(name, "")) for name in names)
        if meanings:
            raise ValueError(f"claim {id}: meanings given for names not in the formula: {sorted(meanings)}")
        return cls(id=id, expr=formula, symbols=symbols, kind=kind, **fields)


def _exact(x) -> sp.Expr:
    """An exponent as an exact sympy number (0.5 -> 1/2) or expression."""
    return sp.nsimplify(x, rational=True) if isinstance(x, float) else sp.sympify(x)


def _as_numpy(x) -> np.ndarray:
    if numeric.is_torch(x):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


# -- registry ----------------------------------------------------------------------------------
_REGISTRY: dict[str, Claim] = {}


def register_claim(claim: Claim, *, replace: bool = False) -> Claim:
    """Add a claim to the registry; a duplicate id is a ValueError unless replace=True."""
    if not isinstance(claim, Claim):
        raise ValueError(f"register_claim expects a theory.Claim; got {type(claim).__name__}")
    if claim.id in _REGISTRY and not replace:
        raise ValueError(f"claim id {claim.id!r} is already registered (pass replace=True)")
    _REGISTRY[claim.id] = claim
    return claim


def unregister_claim(id: str) -> Claim:
    """Remove a claim from the registry and return it."""
    get_claim(id)
    return _REGISTRY.pop(id)


def get_claim(id: str) -> Claim:
    """The registered claim with this id."""
    try:
        return _REGISTRY[id]
    except KeyError:
        raise ValueError(f"unknown claim {id!r}; known: {sorted(_REGISTRY)}") from None


def all_claims(*, paper: bool | None = None) -> tuple[Claim, ...]:
    """Registered claims in registration order (built-ins first); paper=True/False filters."""
    return tuple(c for c in _REGISTRY.values() if paper is None or c.paper == paper)
