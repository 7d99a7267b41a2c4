"""Generated mutation testing of validate/'s decision code against calibration (issue 19).

    python scripts/mutate.py                        # every mutant, calibration seeds 0..4 (long: hours)
    python scripts/mutate.py --sample 40 --seed 1   # a random sample of the mutants
    python scripts/mutate.py --modules engine.growth,claims.c4 --json mutants.json
    python scripts/mutate.py --list                 # the mutants and whether calibration reaches them

An AST mutator changes one thing in one of MODULES (a comparison operator, a numeric constant, `and`
<-> `or`, `&` <-> `|`, a `not` or `~` removed, an `if` condition negated), applies it to the LIVE
modules in this process (`applied`: no file is written) and re-scores the planted claims
(validate.calibration) on the calibration runs, computed once and cached in .lrkd-cache/mutation/
(validate's evidence tables are derived from them again each session, by the code under test). A
mutant is killed when, at some calibration seed, a planted claim the intact engine gets right comes
out wrong, or when it raises, or runs longer than --timeout-factor x the intact time (a timeout
counts as killed and is reported as such). Seeds are tried in order 0, 1, ...; the first kill stops.
Warnings are ignored for the intact engine and the mutants alike (a warning is not a verdict).

What is mutated, and what is not (noise, judged so):
  - numbers: ints -> +1 and -1, floats -> x2 and /2 (0.0 -> 1.0); not bools, not 0/1/-1 used as an
    index or slice bound (`x[0]`, `.iloc[-1]`, `a[1:]`: picking the first or last row of a constant
    column), not the `axis=` of a numpy call (a crash, not a decision), not the -1 of a `.reshape(...)`
    (numpy reads any negative size as "the rest"), nothing inside an f-string
    (text only), in a decorator, an annotation or a module-level call statement (registrations).
  - an `if`/`while`/`x if c else y`/comprehension condition is negated only when it is not a single
    comparison or a `not`: those negations are the comparison's negation or the `not` removal already.
Only lines calibration executes count: the rest is reported as "not reached by calibration", not as
killed. Each planted claim is traced alone once per seed, and a mutant is re-scored on the planted
claims whose check executes its line (a check that never runs a line cannot change when it changes),
or, for a module- or class-level constant, whose code reads its name; a mutant the building of the
evidence runs (validate's evidence tables) is re-scored on every planted claim, the evidence rebuilt.

Mutant ids are `module:qualname:operator#k` (k: the occurrence of that operator or constant in that
function), stable under edits elsewhere. Justified equivalent mutants are listed in EQUIVALENTS, one
line each: `<id>  <why>`. Exit status: 0 when every reached non-equivalent mutant is killed, 1
otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import dataclasses
import hashlib
import importlib
import inspect
import json
import math
import pickle
import random
import signal
import sys
import time
import warnings
from collections import defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import FunctionType, ModuleType
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
#: validate/'s decision code: the modules whose mutants are generated (one list, one home).
MODULES: tuple[str, ...] = (
    "lrkd.validate.engine.checks",
    "lrkd.validate.engine.fits",
    "lrkd.validate.engine.bounds",
    "lrkd.validate.engine.growth",
    "lrkd.validate.engine.rstar",
    "lrkd.validate.engine.verdict",
    "lrkd.validate.engine.stability",
    "lrkd.validate.judge",
    "lrkd.validate.claims.c1",
    "lrkd.validate.claims.c2",
    "lrkd.validate.claims.c3",
    "lrkd.validate.claims.c4",
)
PREFIX = "lrkd.validate."
#: The engine's analytic tests, per module: fast unit tests against exact answers (hand-computed
#: intervals and flat ranges, closed-form fits, the input errors a user meets). A mutant calibration
#: does not catch is run against its module's tests in this process, mutated (how: "engine test"):
#: the test suite failing on a mutant kills it, as in any mutation testing. The score line says how
#: many each way, so calibration's own share stays in view (`--no-engine-tests` scores it alone).
ENGINE_TESTS: dict[str, tuple[str, ...]] = {
    "lrkd.validate.engine.checks": ("tests/validate/test_checks.py", "tests/validate/test_pointwise.py"),
    "lrkd.validate.engine.fits": ("tests/validate/test_fits.py",),
    "lrkd.validate.engine.bounds": ("tests/validate/test_checks.py", "tests/validate/test_pointwise.py"),
    "lrkd.validate.engine.growth": ("tests/validate/test_growth_laws.py", "tests/validate/test_nested_laws.py"),
    "lrkd.validate.engine.rstar": ("tests/validate/test_rstar.py",),
    "lrkd.validate.engine.verdict": ("tests/validate/test_checks.py",),
    "lrkd.validate.engine.stability": (),
    "lrkd.validate.judge": ("tests/validate/test_one_engine.py", "tests/validate/test_user_claims.py"),
    "lrkd.validate.claims.c1": (),
    "lrkd.validate.claims.c2": ("tests/validate/test_claim_rules.py", "tests/validate/test_c2_offsets.py"),
    "lrkd.validate.claims.c3": ("tests/validate/test_claim_rules.py",),
    "lrkd.validate.claims.c4": ("tests/validate/test_claim_rules.py",),
}
#: Code in MODULES that only writes words, figures or reported numbers: it decides no code, so its
#: mutants are not generated (a change there can alter a sentence, which calibration does not read,
#: and counting it would make the score measure prose). `module:qualname` (functions nested in one
#: count with it) or `module:NAME` (a module-level constant only such code reads) and why, one line
#: each; tests/validate/test_generated_mutants.py checks each still exists.
NOT_DECISIONS: dict[str, str] = {
    "engine.checks:_fit_text": "the fitted exponent and its correction as text",
    "engine.checks:_join": "joins sentences",
    "engine.checks:_plain": "numpy scalars to plain numbers for the worst point's record",
    "engine.checks:_variables_sentence": "the per-variable sentence of an explanation",
    "engine.checks:_bound_sentence": "the bound's sentence of an explanation",
    "engine.checks:_outcome_sentence": "a decided variable's sentence of an explanation",
    "engine.checks:_first_upper": "capitalizes a sentence",
    "engine.checks:_inconclusive": "the explanation of an inconclusive code (the code is fixed there)",
    "engine.checks:seeds_to_decide": "the seeds an inconclusive verdict's would_change names",
    "engine.checks:decades_to_decide": "the grid an inconclusive verdict's would_change names",
    "engine.checks:best_fit_constant": "an O(.) claim's fitted and covering constants (numbers and the figure's bound)",
    "engine.checks:ExponentOutcome.numbers": "the exponent's record in the verdict's numbers",
    # exponent_outcome decides from the fit and the offset directly; these properties restate the
    # result for the numbers record and the inconclusive text (the functions above) only
    "engine.checks:ExponentOutcome.shift": "the offset as reported (numbers and text only)",
    "engine.checks:ExponentOutcome.uncertainty": "the offset's uncertainty as reported (numbers and text only)",
    "engine.checks:ExponentOutcome.corrected": "the corrected exponent as reported (numbers and text only)",
    "engine.checks:ExponentOutcome.resolution": "the interval's half-width as reported (numbers and text only)",
    "engine.checks:ExponentOutcome.confirm_width": "the width the inconclusive text's seeds and decades read",
    "engine.bounds:_figure": "the verdict's figure",
    "engine.bounds:_numbers": "the verdict's numbers record",
    "engine.bounds:_vacuity_notes": "the vacuity notes",
    "engine.bounds:_decades": "the grid's decades, read only by would_change text",
    "engine.growth:GrowthFit.summary": "the growth law's sentence",
    "engine.growth:GrowthFit.strength": "the Burnham-Anderson word for the AICc gap",
    "engine.growth:GrowthFit.separation_size": "the N an inconclusive verdict's would_change names",
    "engine.growth:_law_text": "a law's formula as text",
    "engine.growth:STRENGTH": "the Burnham-Anderson words (read only by GrowthFit.strength)",
    "engine.rstar:_sweep_notes": "the r* table's notes",
    "engine.rstar:_edge_notes": "the notes on r* at the grid's edge",
    "engine.checks:BoundComparison.all_within": "read only by _bound_sentence (the explanation)",
    "judge:_no_single_table": "the binding refusal's message (its field and the refusal are decided before it)",
    # C3's description of clone MSE as a proxy for MI (the scaled students, their non-monotonicity,
    # the noise-width sensitivity, the Spearman correlation): numbers, sentences and figures for the
    # report that no verdict code reads (validate/claims/c3.py's module docstring)
    "claims.c2:rank_exponent_by_n": "the gap's r-exponent at each fixed N (a sentence and a numbers record)",
    "claims.c2:RANK_READINGS": "the readings rank_exponent_by_n sets the r-exponent against (read only there)",
    "claims.c3:SCALES": "the scales of the scaled students (read only by scaled_students)",
    "claims.c3:ESTIMATED_SCALES": "the scaled students' scales for an estimated MI (read only by scaled_students)",
    "claims.c3:NOISE_STDS": "the noise widths of the sensitivity table (read only by noise_sensitivity)",
    "claims.c3:scaled_students": "the scaled students' MI and clone MSE (numbers and a figure only)",
    "claims.c3:non_monotonicity": "how far MI is from decreasing in clone MSE (numbers only)",
    "claims.c3:noise_sensitivity": "the MI's sensitivity to the noise width (a table and a sentence)",
    "claims.c3:training_spearman": "a descriptive rank correlation in the verdict's numbers",
    "claims.c3:_sensitivity_sentence": "the sensitivity table's sentence",
    "claims.c3:_numbers": "the verdict's numbers record",
    "claims.c3:_figures": "the verdict's figures",
    "claims.c3:_edge_note": "the explanation's note on step sizes at an end of the grid",
    "claims.c3:_with_arm_names": "the bound figure's series names (arm ids back to arm names)",
    "claims.c3:arm_summary": "the arms' summary table (figures, numbers, notes; comparisons read the evidence)",
    "claims.c4:_growth_figure": "the verdict's figure",
    "claims.c4:local_slope": "the risk model's r* slope (read only by _risk_model_slope, a reported number)",
    "claims.c4:_risk_model_slope": "a reported number (risk_model_local_exponent)",
    "claims.c4:risk_model_rstar": "the risk model's r* (read only by _risk_model_slope, a reported number)",
    "engine.growth:akaike_weights": "the Akaike weights (the summary and the numbers record only)",
    # validate.advice's candidate laws read the share too: advice is checked by its own coverage
    "engine.growth:_bootstrap_wins": "the share of seed resamples each law wins (summary, numbers only)",
    "claims.c4:_edge_sentence": "the note on sizes left out of the fits",
    "claims.c4:_unidentified": "the explanation of an inconclusive code (both branches return inconclusive)",
    "claims.c4:_grows_anyway": "the explanation of a violated code (the code is fixed there)",
    "claims.c4:_decays_anyway": "the explanation of a not_tight code (the code is fixed there)",
}
PROJECT_FOLDERS = ("theory", "simulate", "validate", "lrkd")  # the code whose reads of names count
EQUIVALENTS = ROOT / "tests" / "mutation" / "equivalent.txt"
#: The last full run's outcomes (`--baseline`), which the default tests' sample is checked against.
BASELINE = ROOT / "tests" / "mutation" / "baseline.txt"
CACHE = ROOT / ".lrkd-cache" / "mutation"  # .lrkd-cache/ is ignored by git
DEFAULT_TIMEOUT_FACTOR = 10.0
MIN_TIMEOUT_S = 20.0  # a floor: a loaded machine slows the intact run and the mutant alike


# -- 1. generating mutants --------------------------------------------------------------------------
_CMP = {
    ast.Lt: "lt",
    ast.LtE: "le",
    ast.Gt: "gt",
    ast.GtE: "ge",
    ast.Eq: "eq",
    ast.NotEq: "ne",
    ast.Is: "is",
    ast.IsNot: "is_not",
    ast.In: "in",
    ast.NotIn: "not_in",
}
# each comparison to its neighbours (strict <-> non-strict) and its negation
_CMP_SWAPS = {
    ast.Lt: (ast.LtE, ast.GtE),
    ast.LtE: (ast.Lt, ast.Gt),
    ast.Gt: (ast.GtE, ast.LtE),
    ast.GtE: (ast.Gt, ast.Lt),
    ast.Eq: (ast.NotEq,),
    ast.NotEq: (ast.Eq,),
    ast.Is: (ast.IsNot,),
    ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,),
    ast.NotIn: (ast.In,),
}
_LOGIC = (ast.And, ast.Or, ast.BitAnd, ast.BitOr)  # and/or, and numpy's masks' & and |
_SKIPPED_FIELDS = ("annotation", "returns", "decorator_list", "type_comment", "format_spec")


@dataclass(frozen=True)
class Mutant:
    """One generated mutant: where it is and what it changes (the change itself is re-derived from
    the module's source by `mutated_tree`).

    kind: function (in a function's body: its code changes), defaults (a default value of a module-
    or class-level function), class or module (a class- or module-level statement: the names it
    binds, `names`, change)."""

    id: str  # module:qualname:operator#k
    module: str  # the module's import name
    path: str  # its file, relative to the repository
    line: int
    lines: tuple[int, ...]  # the lines whose execution reaches it
    qualname: str  # the function (or class, or <module>) it is in
    operator: str
    original: str
    mutated: str
    kind: str
    names: tuple[str, ...] = ()  # kind module/class: the names the statement binds
    body: tuple[int, ...] = ()  # kind defaults: the function's body lines


@dataclass
class _Site:
    mutant: Mutant
    apply: Callable[[], None]


def _short(module: str) -> str:
    return module[len(PREFIX) :] if module.startswith(PREFIX) else module


def _snippet(node: ast.AST, limit: int = 72) -> str:
    text = " ".join(ast.unparse(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bound_names(stmt: ast.stmt) -> tuple[str, ...]:
    if isinstance(stmt, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return (stmt.name,)
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
    return tuple(n.id for t in targets if t is not None for n in ast.walk(t) if isinstance(n, ast.Name))


@dataclass(frozen=True)
class _Where:
    scope: tuple[str, ...]  # qualname parts
    kind: str  # function | defaults | class | module
    names: tuple[str, ...] = ()
    body: tuple[int, ...] = ()
    index: bool = False  # directly inside a subscript's index or slice
    axis: bool = False  # the value of an `axis=` keyword
    shape: bool = False  # an argument of `.reshape(...)`, where every negative size means "the rest"


class _Walker:
    """Walks a module's AST in a fixed order and makes a _Site per mutant. The same source gives the
    same sites in the same order, so a mutant is re-derived on a fresh tree by its id."""

    def __init__(self, module: str, path: str, tree: ast.Module):
        self.module, self.path, self.tree = module, path, tree
        self.counts: dict[tuple[str, str], int] = defaultdict(int)
        self.sites: list[_Site] = []

    def run(self) -> list[_Site]:
        for stmt in self.tree.body:
            self.statement(stmt, (), "module")
        return self.sites

    def statement(self, stmt: ast.stmt, scope: tuple[str, ...], kind: str) -> None:
        top = kind in ("module", "class")
        if top and isinstance(stmt, ast.Expr):
            return  # docstrings and import-time calls (registrations): nothing decided there
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            inner = scope + (stmt.name,)
            body = tuple(range(stmt.body[0].lineno, stmt.end_lineno + 1))
            where = _Where(inner, "defaults", body=body) if top else _Where(scope, kind)
            for default in [*stmt.args.defaults, *(d for d in stmt.args.kw_defaults if d is not None)]:
                self.expr(default, stmt.args, where)
            for child in stmt.body:
                self.statement(child, inner, "function")
            return
        if isinstance(stmt, ast.ClassDef):
            for child in stmt.body:
                self.statement(child, scope + (stmt.name,), "class" if top else kind)
            return
        where = _Where(scope, kind, _bound_names(stmt) if top else ())
        if isinstance(stmt, (ast.If, ast.While)):
            self.condition(stmt, "test", "if" if isinstance(stmt, ast.If) else "while", where)
        self.children(stmt, where)

    def children(self, node: ast.AST, where: _Where) -> None:
        for name, value in ast.iter_fields(node):
            if name in _SKIPPED_FIELDS:
                continue
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, ast.stmt):
                    self.statement(item, where.scope, where.kind)
                elif isinstance(item, ast.AST) and not isinstance(
                    item, (ast.expr_context, ast.operator, ast.boolop, ast.unaryop, ast.cmpop)
                ):
                    self.expr(item, node, where)

    def expr(self, node: ast.AST, parent: ast.AST, where: _Where) -> None:
        if isinstance(node, ast.JoinedStr):
            return  # f-strings: text, never a decision
        if isinstance(node, ast.Lambda):
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                self.expr(default, node.args, where)
            inner = replace(where, scope=where.scope + ("<lambda>",), index=False, axis=False)
            if inner.kind != "defaults":
                inner = replace(inner, kind="function")
            self.expr(node.body, node, inner)
            return
        self.mutations(node, parent, where)
        plain = replace(where, index=False, axis=False, shape=False)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "reshape":
            self.expr(node.func, node, plain)
            for arg in node.args:
                self.expr(arg, node, replace(plain, shape=True))
            for keyword in node.keywords:
                self.expr(keyword, node, plain)
            return
        if isinstance(node, ast.Subscript):
            self.expr(node.value, node, plain)
            self.expr(node.slice, node, replace(plain, index=True))
        elif isinstance(node, (ast.Tuple, ast.Slice)) and where.index or isinstance(node, ast.Tuple) and where.shape:
            self.children(node, where)
        elif (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and (where.index or where.axis or where.shape)
        ):
            self.expr(node.operand, node, where)
        elif isinstance(node, ast.keyword):
            self.expr(node.value, node, replace(plain, axis=node.arg == "axis"))
        else:
            self.children(node, plain)

    def occurrence(self, where: _Where, key: str) -> int:
        """k: how many `key`s (an operator, a constant's value) came before in this scope. The
        variants of one site (`<` -> `<=` and `<` -> `>=`) share it."""
        qual = ".".join(where.scope) or "<module>"
        self.counts[(qual, key)] += 1
        return self.counts[(qual, key)] - 1

    def add(self, node, where: _Where, k: int, label: str, original: str, mutated: str, apply, lines=None):
        qual = ".".join(where.scope) or "<module>"
        mutant = Mutant(
            id=f"{_short(self.module)}:{qual}:{label}#{k}",
            module=self.module,
            path=self.path,
            line=node.lineno,
            lines=tuple(lines or range(node.lineno, node.end_lineno + 1)),
            qualname=qual,
            operator=label,
            original=original,
            mutated=mutated,
            kind=where.kind,
            names=where.names,
            body=where.body,
        )
        self.sites.append(_Site(mutant, apply))

    def mutations(self, node: ast.AST, parent: ast.AST, where: _Where) -> None:
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                k = self.occurrence(where, _CMP[type(op)])
                for repl in _CMP_SWAPS[type(op)]:

                    def apply(node=node, i=i, repl=repl):
                        node.ops[i] = repl()

                    twin = copy.deepcopy(node)
                    twin.ops[i] = repl()
                    label = f"{_CMP[type(op)]}->{_CMP[repl]}"
                    self.add(node, where, k, label, _snippet(node), _snippet(twin), apply)
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            value = node.value
            if (where.index or where.axis) and value in (0, 1):
                return  # an index (first/last row, a slice bound) or a numpy axis: noise
            if where.shape and value == 1 and isinstance(parent, ast.UnaryOp):
                return  # reshape's -1: numpy reads any negative size as "the rest" (-2 is the same)
            if isinstance(value, int):
                variants = ((f"{value}+1", value + 1), (f"{value}-1", value - 1))
            elif value == 0.0:
                variants = ((f"{value!r}->1.0", 1.0),)
            else:
                variants = ((f"{value!r}*2", value * 2), (f"{value!r}/2", value / 2))
            k = self.occurrence(where, f"num({value!r})")
            for label, new in variants:

                def apply(node=node, new=new):
                    node.value = new

                self.add(node, where, k, label, repr(value), repr(new), apply)
        elif isinstance(node, (ast.BoolOp, ast.BinOp)) and type(node.op) in _LOGIC:
            swap = {ast.And: ast.Or, ast.Or: ast.And, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
            names = {ast.And: "and", ast.Or: "or", ast.BitAnd: "&", ast.BitOr: "|"}
            old, new = type(node.op), swap[type(node.op)]

            def apply(node=node, new=new):
                node.op = new()

            twin = copy.deepcopy(node)
            twin.op = new()
            k = self.occurrence(where, names[old])
            self.add(node, where, k, f"{names[old]}->{names[new]}", _snippet(node), _snippet(twin), apply)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.Invert)):
            op = "not" if isinstance(node.op, ast.Not) else "~"

            def apply(node=node, parent=parent):
                _replace_child(parent, node, node.operand)

            k = self.occurrence(where, op)
            self.add(node, where, k, f"{op}-removed", _snippet(node), _snippet(node.operand), apply)
        elif isinstance(node, ast.IfExp):
            self.condition(node, "test", "ifexp", where)
        elif isinstance(node, ast.comprehension):
            for i in range(len(node.ifs)):
                self.condition(node, ("ifs", i), "compif", where)

    def condition(self, owner: ast.AST, at, key: str, where: _Where) -> None:
        """Negate owner's condition (`at`: a field name, or ("ifs", i) of a comprehension)."""
        test = owner.ifs[at[1]] if isinstance(at, tuple) else getattr(owner, at)
        if (isinstance(test, ast.Compare) and len(test.ops) == 1) or (
            isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
        ):
            return  # the comparison's negation, or the `not` removal, is this mutant already

        def apply(owner=owner, at=at):
            current = owner.ifs[at[1]] if isinstance(at, tuple) else getattr(owner, at)
            negated = ast.fix_missing_locations(ast.copy_location(ast.UnaryOp(ast.Not(), current), current))
            if isinstance(at, tuple):
                owner.ifs[at[1]] = negated
            else:
                setattr(owner, at, negated)

        lines = range(test.lineno, test.end_lineno + 1)
        k = self.occurrence(where, key)
        self.add(test, where, k, f"{key}-negated", _snippet(test), f"not ({_snippet(test, 64)})", apply, lines)


def _replace_child(parent: ast.AST, old: ast.AST, new: ast.AST) -> None:
    for name, value in ast.iter_fields(parent):
        if value is old:
            setattr(parent, name, new)
            return
        if isinstance(value, list):
            for i, item in enumerate(value):
                if item is old:
                    value[i] = new
                    return
    raise LookupError(f"{ast.dump(old)[:60]} is not a child of {type(parent).__name__}")


def _sites(module: str, source: str) -> list[_Site]:
    path = Path(importlib.util.find_spec(module).origin)
    rel = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
    return _Walker(module, rel, ast.parse(source)).run()


def module_source(module: str) -> str:
    """The source of `module` as it was loaded (read once, so every mutant of a run sees one text).

    Args:
        module: an import name.

    Returns:
        The source text of its file.
    """
    return Path(importlib.import_module(module).__file__).read_text()


def generate(module: str, source: str | None = None) -> list[Mutant]:
    """Every mutant of one module.

    Args:
        module: its import name (one of MODULES, or any importable module).
        source: its source (default: the file as it is now).

    Returns:
        The Mutants, in source order (ids are unique).
    """
    source = module_source(module) if source is None else source
    mutants = [s.mutant for s in _sites(module, source) if not_decision(s.mutant) is None]
    assert len({m.id for m in mutants}) == len(mutants), f"duplicate mutant ids in {module}"
    return mutants


def not_decision(mutant: Mutant) -> str | None:
    """Why `mutant` is in code that decides nothing (NOT_DECISIONS), or None.

    Args:
        mutant: a generated Mutant.

    Returns:
        The reason, or None when its function (or an enclosing one) is not listed.
    """
    if mutant.names and all(f"{_short(mutant.module)}:{n}" in NOT_DECISIONS for n in mutant.names):
        return NOT_DECISIONS[f"{_short(mutant.module)}:{mutant.names[0]}"]  # a constant only such code reads
    parts = mutant.qualname.split(".")
    for k in range(len(parts), 0, -1):
        why = NOT_DECISIONS.get(f"{_short(mutant.module)}:{'.'.join(parts[:k])}")
        if why is not None:
            return why
    return None


def mutated_tree(mutant: Mutant, source: str) -> ast.Module:
    """The module's AST with `mutant` applied (line numbers unchanged).

    Args:
        mutant: a Mutant generated from `source`.
        source: the module's source.

    Returns:
        The mutated ast.Module.
    """
    walker = _Walker(mutant.module, mutant.path, ast.parse(source))
    for site in walker.run():
        if site.mutant.id == mutant.id:
            site.apply()
            return ast.fix_missing_locations(walker.tree)
    raise LookupError(f"{mutant.id}: not in {mutant.module}'s source any more")


# -- 2. applying a mutant to the live modules ------------------------------------------------------
_PLAIN = (int, float, complex, str, bytes, bool, type(None))


def plain_equal(a: Any, b: Any) -> bool | None:
    """Whether two values are equal, for values made of plain data (numbers, strings, containers of
    them, numpy arrays, dataclass instances of one class); None when that cannot be told (functions,
    objects of classes the fresh module defined again).

    Args:
        a: a value of the live module.
        b: the fresh module's value of the same name.

    Returns:
        True, False or None.
    """
    if isinstance(a, _PLAIN) and isinstance(b, _PLAIN):
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return type(a) is type(b) and a == b
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if type(a) is not type(b):
        return None
    if isinstance(a, (tuple, list)):
        if len(a) != len(b):
            return False
        return _all_equal(plain_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        if list(a) != list(b):
            return False
        return _all_equal(plain_equal(a[k], b[k]) for k in a)
    if isinstance(a, (set, frozenset)):
        return a == b if all(isinstance(x, _PLAIN) for x in (*a, *b)) else None
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return _all_equal(plain_equal(getattr(a, f.name), getattr(b, f.name)) for f in dataclasses.fields(a))
    return None


def _all_equal(results: Iterable[bool | None]) -> bool | None:
    results = list(results)
    if any(r is False for r in results):
        return False
    return None if any(r is None for r in results) else True


def _functions(namespace: dict, module: str) -> dict[tuple, Any]:
    """Every function object a module defines, by path: top-level functions, methods (also
    static/class methods and property accessors) of its classes, nested classes, functions kept in
    module-level containers; decorated functions unwrapped through __wrapped__."""
    out: dict[tuple, Any] = {}

    def add(path, obj, depth=0):
        if depth > 6:
            return
        if isinstance(obj, (staticmethod, classmethod)):
            add(path + ("__func__",), obj.__func__, depth + 1)
        elif isinstance(obj, property):
            for name in ("fget", "fset", "fdel"):
                if getattr(obj, name) is not None:
                    add(path + (name,), getattr(obj, name), depth + 1)
        elif isinstance(obj, FunctionType):
            out[path] = obj
            if getattr(obj, "__wrapped__", None) is not None:
                add(path + ("__wrapped__",), obj.__wrapped__, depth + 1)
        elif getattr(obj, "__wrapped__", None) is not None and callable(obj):  # lru_cache and the like
            add(path + ("__wrapped__",), obj.__wrapped__, depth + 1)
        elif isinstance(obj, type) and obj.__module__ == module:
            for name, value in vars(obj).items():
                add(path + (name,), value, depth + 1)
        elif isinstance(obj, dict) and depth == 0:
            for key, value in obj.items():
                if isinstance(value, FunctionType):
                    add(path + (repr(key),), value, depth + 1)
        elif isinstance(obj, (list, tuple)) and depth == 0:
            for i, value in enumerate(obj):
                if isinstance(value, FunctionType):
                    add(path + (i,), value, depth + 1)

    for name, value in namespace.items():
        if not name.startswith("__"):
            add((name,), value)
    return out


def _registries() -> list[tuple[Any, Any]]:
    """(container, shallow copy) of every module-level dict, list and set of the loaded lrkd modules:
    executing a module again re-runs its registrations, and those must not stay."""
    out = []
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith("lrkd"):
            continue
        for value in list(vars(module).values()):
            if type(value) in (dict, list, set):
                out.append((value, copy.copy(value)))
    return out


def _restore_registries(saved: list[tuple[Any, Any]]) -> None:
    for container, before in saved:
        if isinstance(container, dict):
            changed = container.keys() != before.keys() or any(container[k] is not before[k] for k in before)
        else:
            changed = len(container) != len(before) or any(x is not y for x, y in zip(container, before))
        if changed:
            container.clear()
            container.update(before) if not isinstance(container, list) else container.extend(before)


_IMPORTERS: dict[str, dict[str, list[tuple[ModuleType, str]]]] = {}


def _importers(module: str) -> dict[str, list[tuple[ModuleType, str]]]:
    """{name: [(module, alias)]}: the loaded lrkd modules that imported a name of `module` by name
    (`from module import NAME`), found in their source."""
    if module in _IMPORTERS:
        return _IMPORTERS[module]
    out: dict[str, list] = defaultdict(list)
    for name, other in list(sys.modules.items()):
        file = getattr(other, "__file__", None)
        if other is None or not name.startswith("lrkd") or name == module or not file or not file.endswith(".py"):
            continue
        try:
            tree = ast.parse(Path(file).read_text())
        except (OSError, SyntaxError):
            continue
        package = name if hasattr(other, "__path__") else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                source = node.module or ""
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    source = ".".join(base + ([source] if source else []))
                if source == module:
                    for alias in node.names:
                        out[alias.name].append((other, alias.asname or alias.name))
    _IMPORTERS[module] = dict(out)
    return _IMPORTERS[module]


@dataclass
class Applied:
    """What applying a mutant changed in the live modules (`changes` lists them: 'code f',
    'defaults f', 'name X')."""

    changes: list[str] = field(default_factory=list)
    undo: list[Callable[[], None]] = field(default_factory=list)


def _swap(obj: Any, attr: str, value: Any, applied: Applied, what: str) -> None:
    old = getattr(obj, attr)
    setattr(obj, attr, value)
    applied.undo.append(lambda: setattr(obj, attr, old))
    applied.changes.append(what)


def _set_name(namespace_owner: Any, name: str, value: Any, applied: Applied, what: str) -> None:
    missing = object()
    old = (
        vars(namespace_owner).get(name, missing)
        if isinstance(namespace_owner, type)
        else getattr(namespace_owner, name, missing)
    )

    def undo():
        if old is missing:
            delattr(namespace_owner, name)
        else:
            setattr(namespace_owner, name, old)

    setattr(namespace_owner, name, value)
    applied.undo.append(undo)
    applied.changes.append(what)


class StaleSource(RuntimeError):
    """The source a mutant was made from is not the one the live module was imported from."""


@contextlib.contextmanager
def applied(mutant: Mutant, source: str | None = None) -> Iterator[Applied]:
    """Within the block, `mutant` is live: the mutated module is compiled and executed into a fresh
    namespace, and every function whose code or defaults differ gets the fresh `__code__`,
    `__defaults__`, `__kwdefaults__` in place (so every reference to it, `from x import f` included,
    runs the mutant); names a module- or class-level statement binds are set in the live module and
    in every module that imported them by name. Everything is restored on leaving, exceptions too.

    Args:
        mutant: the Mutant.
        source: the module's source it was generated from (default: the file as it is now).

    Returns:
        A context manager yielding Applied (what changed; empty means the mutant could not be placed).

    Raises:
        StaleSource: more functions differ than the mutant changes (the file was edited since the
            module was imported: a mutant of another text cannot be placed).
    """
    module = importlib.import_module(mutant.module)
    source = module_source(mutant.module) if source is None else source
    code = compile(mutated_tree(mutant, source), module.__file__, "exec", dont_inherit=True)
    fresh: dict[str, Any] = {
        "__name__": module.__name__,
        "__file__": module.__file__,
        "__package__": module.__package__,
        "__builtins__": __builtins__,
    }
    saved = _registries()
    try:
        exec(code, fresh)  # noqa: S102 - the module's own source, one change applied
    finally:
        _restore_registries(saved)
    live_functions = _functions(vars(module), module.__name__)
    fresh_functions = _functions(fresh, module.__name__)
    differ = {
        id(live)
        for path, live in live_functions.items()
        if path in fresh_functions
        and live.__code__.co_filename == module.__file__
        and live.__code__ != fresh_functions[path].__code__
    }
    if len(differ) > (1 if mutant.kind == "function" else 0):
        raise StaleSource(f"{len(differ)} functions of {mutant.module} differ: its file changed since it was imported")
    done = Applied()
    try:
        for path, live in live_functions.items():
            new = fresh_functions.get(path)
            if new is None:
                continue
            label = ".".join(str(p) for p in path)
            if live.__code__.co_filename == module.__file__ and live.__code__ != new.__code__:
                _swap(live, "__code__", new.__code__, done, f"code {label}")
            for attr in ("__defaults__", "__kwdefaults__"):
                old, value = getattr(live, attr), getattr(new, attr)
                same = plain_equal(old, value)
                in_signature = mutant.kind == "defaults" and live.__code__.co_qualname == mutant.qualname
                if same is False or (same is None and in_signature):
                    _swap(live, attr, value, done, f"{attr.strip('_')} {label}")
        if mutant.kind in ("module", "class"):
            _set_bound_names(mutant, module, fresh, done)
        yield done
    finally:
        for undo in reversed(done.undo):
            undo()


def _set_bound_names(mutant: Mutant, module: ModuleType, fresh: dict, done: Applied) -> None:
    """A module- or class-level statement: the names it binds, and at module level the names computed
    from them (`module_uses`), set in the live module (or class) and in the modules that imported
    them by name."""
    if mutant.kind == "class":
        live_ns, fresh_ns = vars(module), fresh
        for part in mutant.qualname.split("."):
            live_owner, fresh_owner = live_ns[part], fresh_ns[part]
            live_ns, fresh_ns = vars(live_owner), vars(fresh_owner)
        for name in mutant.names:
            if name in fresh_ns:
                _set_name(live_owner, name, fresh_ns[name], done, f"name {mutant.qualname}.{name}")
        return
    importers = _importers(module.__name__)
    for name in sorted(module_uses(mutant.module).dependents(mutant.names)):
        if name not in fresh or name not in vars(module):
            continue
        old = vars(module)[name]
        _set_name(module, name, fresh[name], done, f"name {name}")
        for other, alias in importers.get(name, []):
            if vars(other).get(alias) is old:
                _set_name(other, alias, fresh[name], done, f"name {other.__name__}.{alias}")


@dataclass
class ModuleUses:
    """What a module's top-level names feed: the module-level names computed from each one, and the
    functions (by body lines) and classes whose default values read it."""

    derived: dict[str, set[str]]  # name -> module-level names whose statement reads it
    defaults: dict[str, list[tuple[int, ...]]]  # name -> body lines of functions with a default reading it
    class_defaults: dict[str, set[str]]  # name -> classes whose class-level statements read it

    def dependents(self, names: Iterable[str]) -> set[str]:
        """`names` and every module-level name computed from them, transitively."""
        out, todo = set(names), list(names)
        while todo:
            for other in self.derived.get(todo.pop(), ()):
                if other not in out:
                    out.add(other)
                    todo.append(other)
        return out


_USES: dict[str, ModuleUses] = {}


def module_uses(module: str, source: str | None = None) -> ModuleUses:
    """ModuleUses of a module, from its source (computed once per module).

    Args:
        module: the import name.
        source: its source (default: the file as it is now).

    Returns:
        ModuleUses.
    """
    if module in _USES:
        return _USES[module]
    tree = ast.parse(module_source(module) if source is None else source)
    derived, defaults, class_defaults = defaultdict(set), defaultdict(list), defaultdict(set)

    def reads(node: ast.AST) -> set[str]:
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}

    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and stmt.value is not None:
            for name in reads(stmt.value):
                derived[name].update(_bound_names(stmt))
        if isinstance(stmt, ast.ClassDef):
            for child in stmt.body:
                if isinstance(child, (ast.Assign, ast.AnnAssign)) and child.value is not None:
                    for name in reads(child.value):
                        class_defaults[name].add(stmt.name)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            body = tuple(range(node.body[0].lineno, node.end_lineno + 1))
            for default in [*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]:
                for name in reads(default):
                    defaults[name].append(body)
    _USES[module] = ModuleUses(dict(derived), dict(defaults), dict(class_defaults))
    return _USES[module]


# -- 3. evidence, traced once per seed -------------------------------------------------------------
def evidence_key() -> str:
    """What names the cached calibration runs: CALIBRATION_SIZES and calibration_runs' own code.
    (The cache also records the source files that ran while the runs were computed: see `raw_runs`.)

    Returns:
        A short hex digest.
    """
    from lrkd.validate import calibration

    digest = hashlib.sha256(repr(calibration.CALIBRATION_SIZES).encode())
    digest.update(inspect.getsource(calibration.calibration_runs).encode())
    return digest.hexdigest()[:16]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else "missing"


def _files_run(fn: Callable[[], Any]) -> tuple[Any, dict[str, str]]:
    """fn() and {file: sha256} of every file of simulate/, theory/ and lrkd/ whose code ran in it
    (sys.setprofile: call events only, cheap next to the runs)."""
    ours = tuple(f"{ROOT / folder}/" for folder in ("simulate", "theory", "lrkd"))
    files: set[str] = set()

    def profile(frame, event, arg):
        if event == "call" and frame.f_code.co_filename.startswith(ours):
            files.add(frame.f_code.co_filename)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = fn()
    finally:
        sys.setprofile(previous)
    return result, {Path(f).relative_to(ROOT).as_posix(): _sha(Path(f)) for f in sorted(files)}


def strip_evidence(runs: Iterable) -> tuple:
    """Shallow copies of `runs` without the evidence tables validate derives from them (validate.
    registry's EVIDENCE declares them), so that building the sources runs the evidence code again.

    Args:
        runs: Runs (e.g. calibration_runs' output).

    Returns:
        A tuple of Runs.
    """
    from lrkd.validate.registry import EVIDENCE, load_families

    load_families()
    out = []
    for r in runs:
        tables = EVIDENCE.get(r.experiment, ((), None))[0]
        out.append(r.replace(tables={k: v for k, v in r.items() if k not in tables}))
    return tuple(out)


def raw_runs(seed: int, *, cache: Path | None = CACHE, log: Callable[[str], None] = print) -> tuple:
    """calibration_runs(seed=seed) without validate's evidence tables (`strip_evidence`: they are
    derived again from the current validate/ code each session), cached under `cache`.

    The cache is named by `evidence_key()` and holds the sha256 of every file of simulate/, theory/
    and lrkd/ whose code ran while the runs were computed: when one of them has changed since, the
    runs are computed again (edits to code the runs never call, such as the real model's, keep it).

    Args:
        seed: the calibration seed.
        cache: the cache folder (None: no cache).
        log: where to say that the runs are computed.

    Returns:
        A tuple of Runs.
    """
    from lrkd.validate import calibration

    path = None if cache is None else cache / f"runs-{evidence_key()}-seed{seed}.pkl"
    if path is not None and path.exists():
        stored = pickle.loads(path.read_bytes())
        changed = [f for f, sha in stored["files"].items() if _sha(ROOT / f) != sha]
        if not changed:
            return stored["runs"]
        log(f"calibration runs for seed {seed}: {', '.join(changed[:3])} changed since they were cached")
    log(f"computing calibration runs for seed {seed} (cached in {path})")
    runs, files = _files_run(lambda: calibration.calibration_runs(seed=seed))
    runs = strip_evidence(runs)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        tmp.write_bytes(pickle.dumps({"files": files, "runs": runs}))
        tmp.replace(path)
    return runs


def _part(runs: list, experiment: str) -> dict:
    """The planted sources built from one experiment's runs (shallow copies get the evidence)."""
    from lrkd.validate import calibration

    return calibration.sources([r.replace() for r in runs if r.experiment == experiment])


def build_sources(runs: Iterable, parts: dict[str, dict] | None = None, only: Iterable[str] | None = None) -> Any:
    """calibration.sources of shallow copies of `runs` (the copies get the evidence tables; the
    cached runs stay as they are), built experiment by experiment: each experiment's planted sources
    read only its own runs, so a part can be rebuilt alone.

    Args:
        runs: Runs (from `raw_runs`, or with their evidence).
        parts: {experiment: its sources} built before (kept for the experiments not in `only`).
        only: the experiments to build again (default: all).

    Returns:
        validate.calibration.Sources, with `.parts` {experiment: its sources} set.
    """
    from lrkd.validate import calibration

    runs = list(runs)
    experiments = sorted({r.experiment for r in runs})
    rebuild = set(experiments) if only is None else set(only)
    new_parts = dict(parts or {})
    for experiment in experiments:
        if experiment in rebuild or experiment not in new_parts:
            new_parts[experiment] = _part(runs, experiment)
    out = calibration.Sources()
    for part in new_parts.values():
        out.update(part)
    out.parts = new_parts
    return out


def fingerprints(sources: dict) -> dict[str, str]:
    """A hash of each source's tables: a check must not change its evidence, and a mutant of the code
    that builds the evidence changes only some sources (the planted claims reading the others cannot
    change).

    Args:
        sources: {name: Runs}.

    Returns:
        {source name: hex digest}.
    """
    out = {}
    for name in sorted(sources):
        digest = hashlib.sha256()
        for table in sorted(sources[name]):
            frame = sources[name][table]
            digest.update(f"{table}/{getattr(frame, 'columns', None)!r}".encode())
            try:
                digest.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
            except TypeError:  # unhashable cells (lists): the pickle stands for the values
                digest.update(pickle.dumps(frame))
        out[name] = digest.hexdigest()
    return out


@dataclass
class Trace:
    """Lines executed per file and the code objects run, by one traced call."""

    lines: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    codes: set = field(default_factory=set)

    def names(self) -> set[str]:
        """The names (co_names: globals and attributes) the code objects run read."""
        return {name for code in self.codes for name in code.co_names}


def traced(fn: Callable[[], Any], files: set[str]) -> tuple[Any, Trace]:
    """Run `fn` under sys.settrace, recording the lines it executes in `files` and every code
    object of the project's packages it runs (their co_names tell which module-level names it reads).

    Args:
        fn: a callable of no arguments.
        files: absolute paths whose lines are recorded.

    Returns:
        (fn's result, Trace).
    """
    trace = Trace()
    ours = tuple(f"{ROOT / folder}/" for folder in PROJECT_FOLDERS)

    def local(frame, event, arg):
        if event == "line":
            trace.lines[frame.f_code.co_filename].add(frame.f_lineno)
        return local

    def calls(frame, event, arg):
        filename = frame.f_code.co_filename
        if filename.startswith(ours):
            trace.codes.add(frame.f_code)
        if filename in files:
            trace.lines[filename].add(frame.f_lineno)
            return local
        return None

    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        result = fn()
    finally:
        sys.settrace(previous)
    return result, trace


class MutantTimeout(BaseException):
    """A mutant ran past its time (a BaseException: the engine's `except Exception` must not eat it)."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Raise MutantTimeout in the main thread after `seconds` (SIGALRM; a no-op off the main thread).

    Args:
        seconds: the limit.

    Returns:
        A context manager.
    """
    import threading

    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def expire(signum, frame):
        raise MutantTimeout(f"over {seconds:.0f} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass(frozen=True)
class Unit:
    """Planted claims checked together under the trace: the lines (per file) and names they ran."""

    claims: tuple[str, ...]
    lines: dict[str, set[int]]
    names: set[str]


@dataclass
class SeedEvidence:
    """One calibration seed: its sources, the intact engine's correctness per planted claim, the
    lines the planted claims' checks execute and the names their code reads (traced per claim, or per
    group of claims reading one source), the same for building each experiment's sources, the
    intact calibration time and the run-time caches found."""

    seed: int
    runs: tuple
    sources: Any
    planted: list
    intact: dict[str, bool]
    units: list[Unit]  # the planted claims, traced per claim or per source
    evidence_lines: dict[str, dict[str, set[int]]]  # experiment -> file -> lines building its sources ran
    evidence_names: dict[str, set[str]]  # experiment -> names that code reads
    seconds: float
    prints: dict[str, str]  # source -> `fingerprints`
    caches: list = field(default_factory=list)


def _snapshot(container: Any) -> Any:
    return container.cache_info().currsize if hasattr(container, "cache_clear") else copy.copy(container)


def _changed(container: Any, before: Any) -> bool:
    """Whether a dict, list or set (or an lru_cache's size) differs from its snapshot, by identity of
    the items (the values may be frames, whose == is not a bool)."""
    if hasattr(container, "cache_clear"):
        return container.cache_info().currsize != before
    if isinstance(container, dict):
        return container.keys() != before.keys() or any(container[k] is not before[k] for k in before)
    return len(container) != len(before) or any(x is not y for x, y in zip(container, before))


def _module_containers() -> list[Any]:
    out = []
    for name in MODULES:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if type(value) in (dict, list, set):
                out.append(value)
            elif hasattr(value, "cache_clear") and getattr(value, "__module__", None) == name:
                out.append(value)
    return out


def clear_caches(caches: Iterable[Any]) -> None:
    """Empty the run-time caches of the mutated modules (a result cached by the intact engine would
    hide a mutant, and one cached under a mutant the next mutant).

    Args:
        caches: dicts, lists, sets, or lru_cache'd functions.

    Returns:
        None.
    """
    for cache in caches:
        if hasattr(cache, "cache_clear"):
            cache.cache_clear()
        else:
            cache.clear()


def _quiet_calibrate(sources: Any, planted: list) -> list:
    from lrkd.validate import calibration

    with warnings.catch_warnings():  # a warning is not a verdict: intact and mutants alike ignore them
        warnings.simplefilter("ignore")
        return calibration.calibrate(sources, planted)


def seed_evidence(
    seed: int, *, runs: tuple | None = None, per: str = "claim", log: Callable[[str], None] = print
) -> SeedEvidence:
    """Everything a mutant is judged against at one calibration seed. Module-level containers of
    MODULES that calibration fills (caches) are found here and emptied before every run.

    Args:
        seed: the calibration seed.
        runs: the calibration runs of that seed (default: `raw_runs(seed)`, cached on disk).
        per: "claim" traces each planted claim alone (a mutant is then re-scored on the fewest
            claims: for many mutants), "source" the planted claims reading one source together
            (a quicker trace: for a few mutants).
        log: progress messages.

    Returns:
        SeedEvidence.
    """
    from lrkd.validate import calibration

    runs = raw_runs(seed, log=log) if runs is None else runs
    files = {str(Path(importlib.import_module(m).__file__)) for m in MODULES}
    containers = _module_containers()
    # an lru_cache filled before (by an earlier test of the session, or an earlier seed) would not
    # grow during this calibration, so it would not be found as a cache, never be emptied, and
    # hide the mutants of the function behind it: empty every one first (they are caches only)
    clear_caches([c for c in containers if hasattr(c, "cache_clear")])
    before = [(c, _snapshot(c)) for c in containers]
    parts, evidence_lines, evidence_names = {}, {}, {}
    for experiment in sorted({r.experiment for r in runs}):
        parts[experiment], trace = traced(lambda x=experiment: _part(list(runs), x), files)
        evidence_lines[experiment], evidence_names[experiment] = dict(trace.lines), trace.names()
    sources = build_sources(runs, parts, only=())
    planted = calibration.planted_claims()
    start = time.perf_counter()
    scored = _quiet_calibrate(sources, planted)
    seconds = time.perf_counter() - start
    caches = [c for c, b in before if _changed(c, b)]
    intact = {v.claim: bool(v.numbers["correct"]) for v in scored}
    groups: dict[str, list] = defaultdict(list)
    for p in planted:
        if p.source in sources:
            groups[p.claim.id if per == "claim" else p.source].append(p)
    units = []
    for group in groups.values():
        clear_caches(caches)
        _, trace = traced(lambda group=group: _quiet_calibrate(sources, group), files)
        units.append(Unit(tuple(p.claim.id for p in group), dict(trace.lines), trace.names()))
    clear_caches(caches)
    return SeedEvidence(
        seed, runs, sources, planted, intact, units, evidence_lines, evidence_names, seconds,
        fingerprints(sources), caches,
    )  # fmt: skip


# -- 4. judging a mutant ---------------------------------------------------------------------------
@dataclass
class Outcome:
    """A mutant's fate: status killed | survived | not_reached | not_applied; how, and by what."""

    mutant: Mutant
    status: str
    how: str = ""  # killed: "wrong claim" | "raised" | "timeout"
    seed: int | None = None
    caught_by: list[str] = field(default_factory=list)
    detail: str = ""
    seconds: float = 0.0
    equivalent: str | None = None  # the reason from EQUIVALENTS, if listed


def _file(mutant: Mutant) -> str:
    return str(Path(importlib.import_module(mutant.module).__file__))


def _affects(mutant: Mutant, lines: dict[str, set[int]], names: set[str]) -> bool:
    """Whether a traced run (the lines it ran per file, the names its code read) can change under the
    mutant: it ran the mutant's lines (a function body) or the function's body (a default value), or
    read a name a module- or class-level statement binds (or one computed from it, or a default that
    reads it in a function it ran, or in a class it used)."""
    ran = lines.get(_file(mutant), set())
    if mutant.kind == "function":
        return bool(ran.intersection(mutant.lines))
    if mutant.kind == "defaults":
        return bool(ran.intersection(mutant.body))
    if mutant.kind == "class":
        return mutant.qualname.split(".")[0] in names
    uses = module_uses(mutant.module)
    bound = uses.dependents(mutant.names)
    if bound & names:
        return True
    for name in bound:
        if any(ran.intersection(body) for body in uses.defaults.get(name, ())):
            return True
        if uses.class_defaults.get(name, set()) & names:
            return True
    return False


def reached(mutant: Mutant, evidence: Iterable[SeedEvidence]) -> bool:
    """Whether calibration executes the mutant at any of the seeds, while building the evidence or
    checking a planted claim (`_affects`).

    Args:
        mutant: the Mutant.
        evidence: SeedEvidence of the seeds.

    Returns:
        True or False.
    """
    for e in evidence:
        if _evidence_parts(mutant, e):
            return True
        if any(_affects(mutant, unit.lines, unit.names) for unit in e.units):
            return True
    return False


def _evidence_parts(mutant: Mutant, e: SeedEvidence) -> list[str]:
    """The experiments whose sources are built by code the mutant changes."""
    return [x for x in e.evidence_lines if _affects(mutant, e.evidence_lines[x], e.evidence_names[x])]


def affected_claims(mutant: Mutant, e: SeedEvidence) -> tuple[list, list[str]]:
    """The planted claims whose check runs the mutant at this seed, and the experiments whose sources
    are built by code it changes (`judge` rebuilds those under the mutant and also re-scores every
    planted claim whose source came out different).

    Args:
        mutant: the Mutant.
        e: the seed's SeedEvidence.

    Returns:
        (planted claims, experiments to rebuild).
    """
    hit = {c for unit in e.units if _affects(mutant, unit.lines, unit.names) for c in unit.claims}
    return [p for p in e.planted if p.claim.id in hit], _evidence_parts(mutant, e)


def engine_test_failures(module: str, caches: Iterable[Any] = ()) -> list[str]:
    """Run `module`'s ENGINE_TESTS with pytest in this process, on the live (maybe mutated) engine.

    Args:
        module: the mutated module's import name.
        caches: containers to empty before and after (calibration's caches, lru caches of MODULES),
            so that no result computed by a mutant outlives it.

    Returns:
        The ids of the tests that failed (a collection error or an interrupted run names pytest's
        exit code); empty when they pass or the module has none.
    """
    import io

    import pytest

    files = [str(ROOT / f) for f in ENGINE_TESTS.get(module, ())]
    if not files:
        return []
    failed: list[str] = []

    class _Failures:
        @staticmethod
        def pytest_runtest_logreport(report):
            if report.failed:
                failed.append(report.nodeid)

    caches = list(caches)
    clear_caches(caches)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            code = pytest.main(
                ["-q", "-x", "-p", "no:cacheprovider", "--rootdir", str(ROOT), *files], plugins=[_Failures()]
            )
    finally:
        clear_caches(caches)
    if code not in (0, 1) and not failed:
        failed.append(f"pytest exit code {int(code)} on {', '.join(ENGINE_TESTS[module])}")
    return failed


def _lru_caches() -> list[Any]:
    return [c for c in _module_containers() if hasattr(c, "cache_clear")]


def judge(
    mutant: Mutant,
    evidence: list[SeedEvidence],
    *,
    source: str | None = None,
    timeout_factor: float = DEFAULT_TIMEOUT_FACTOR,
    engine_seconds: dict[str, float] | None = None,
) -> Outcome:
    """Apply the mutant and re-score the planted claims it can change, seed by seed in the order
    given, until a planted claim the intact engine gets right at that seed comes out wrong; a mutant
    calibration does not catch is then run against its module's ENGINE_TESTS.

    Args:
        mutant: the Mutant.
        evidence: SeedEvidence per seed, seed 0 first.
        source: the module's source the mutant was generated from.
        timeout_factor: a mutant whose calibration runs longer than this x the intact calibration
            time (at least MIN_TIMEOUT_S) is killed ("timeout"); the engine tests likewise.
        engine_seconds: {module: the intact engine tests' time}; None skips the engine tests.

    Returns:
        The Outcome.
    """
    if not reached(mutant, evidence):
        return Outcome(mutant, "not_reached")
    start = time.perf_counter()
    dirty: list[SeedEvidence] = []
    outcome = Outcome(mutant, "survived")
    seed = evidence[0].seed  # the seed being tried (a mutant raising at import is charged to the first)
    try:
        with applied(mutant, source) as done:
            if not done.changes:
                return Outcome(mutant, "not_applied", detail="the mutated module changes no live object")
            for e in evidence:
                claims, rebuild = affected_claims(mutant, e)
                if not claims and not rebuild:
                    continue
                seed = e.seed
                clear_caches(e.caches)
                try:
                    with time_limit(max(MIN_TIMEOUT_S, timeout_factor * e.seconds)):
                        sources = e.sources
                        if rebuild:
                            sources = build_sources(e.runs, e.sources.parts, only=rebuild)
                            prints = fingerprints(sources)
                            changed = {name for name in e.prints if prints.get(name) != e.prints[name]}
                            traced_ids = {p.claim.id for p in claims}
                            claims = [p for p in e.planted if p.source in changed or p.claim.id in traced_ids]
                        scored = _quiet_calibrate(sources, claims) if claims else []
                finally:
                    clear_caches(e.caches)
                    if fingerprints(e.sources) != e.prints:
                        dirty.append(e)  # the mutant wrote into the shared evidence: rebuilt below
                got = {v.claim: bool(v.numbers["correct"]) for v in scored}
                caught = [p.claim.id for p in claims if e.intact.get(p.claim.id) and not got.get(p.claim.id, False)]
                if caught:
                    outcome = Outcome(mutant, "killed", "wrong claim", e.seed, sorted(caught))
                    break
            if outcome.status == "survived" and engine_seconds and ENGINE_TESTS.get(mutant.module):
                seed = None
                limit = max(MIN_TIMEOUT_S, timeout_factor * engine_seconds.get(mutant.module, MIN_TIMEOUT_S))
                with time_limit(limit):
                    failed = engine_test_failures(mutant.module, [*evidence[0].caches, *_lru_caches()])
                if failed:
                    outcome = Outcome(mutant, "killed", "engine test", None, failed[:3])
    except StaleSource as exc:
        outcome = Outcome(mutant, "not_applied", detail=str(exc))
    except MutantTimeout as exc:
        outcome = Outcome(mutant, "killed", "timeout", seed, detail=str(exc))
    except Exception as exc:  # the mutant raised (or its module did): calibration cannot go on
        detail = f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
        outcome = Outcome(mutant, "killed", "raised", seed, detail=detail)
    finally:
        for e in dirty:  # with the engine intact again
            e.sources = build_sources(e.runs)
            e.prints = fingerprints(e.sources)
    outcome.seconds = time.perf_counter() - start
    return outcome


# -- 5. equivalents, the report, the command line --------------------------------------------------
def read_equivalents(path: Path = EQUIVALENTS) -> dict[str, str]:
    """{mutant id: why it is equivalent} from the equivalents file (`<id>  <why>` per line, `#`
    comments and blank lines skipped).

    Args:
        path: the file.

    Returns:
        The dict (empty when the file does not exist).

    Raises:
        ValueError: a line without a reason.
    """
    out = {}
    if not path.exists():
        return out
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(maxsplit=1)
        if len(parts) < 2:
            raise ValueError(f"{path}:{number}: an equivalent mutant needs a reason: {line}")
        out[parts[0]] = parts[1].strip()
    return out


def all_mutants(modules: Iterable[str] = MODULES) -> tuple[list[Mutant], dict[str, str]]:
    """Every mutant of `modules` and the sources they were generated from.

    Args:
        modules: import names.

    Returns:
        (mutants, {module: source}).
    """
    sources = {m: module_source(m) for m in modules}
    return [mutant for m in modules for mutant in generate(m, sources[m])], sources


def summary(outcomes: list[Outcome], equivalents: dict[str, str]) -> dict[str, Any]:
    """The mutation score and the survivors.

    Args:
        outcomes: every judged mutant.
        equivalents: {id: why} (mutants listed there do not count).

    Returns:
        {"score", "killed", "counted", "survivors", "equivalent", "not_reached", "not_applied",
        "by_how", "equivalent_killed"}: the score is killed / reached non-equivalent mutants.
    """
    counted = [o for o in outcomes if o.status in ("killed", "survived") and o.mutant.id not in equivalents]
    killed = [o for o in counted if o.status == "killed"]
    by_how: dict[str, int] = defaultdict(int)
    for o in killed:
        by_how[o.how] += 1
    return {
        "score": len(killed) / len(counted) if counted else float("nan"),
        "killed": len(killed),
        "counted": len(counted),
        "survivors": [o for o in counted if o.status == "survived"],
        "equivalent": [o for o in outcomes if o.mutant.id in equivalents and o.status == "survived"],
        "equivalent_killed": [o for o in outcomes if o.mutant.id in equivalents and o.status == "killed"],
        "not_reached": [o for o in outcomes if o.status == "not_reached"],
        "not_applied": [o for o in outcomes if o.status == "not_applied"],
        "by_how": dict(by_how),
    }


def survivor_line(o: Outcome) -> str:
    """`id  file:line  original -> mutated  reason`.

    Args:
        o: a surviving mutant's Outcome.

    Returns:
        The line.
    """
    m = o.mutant
    reason = f"equivalent: {o.equivalent}" if o.equivalent else "planted claim missing"
    return f"{m.id}  {m.path}:{m.line}  {m.original} -> {m.mutated}  {reason}"


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], prog="scripts/mutate.py")
    parser.add_argument("--sample", type=int, help="judge a random sample of K reached mutants")
    parser.add_argument("--seed", type=int, default=0, help="the sample's random seed (default 0)")
    parser.add_argument("--modules", help="comma-separated modules (e.g. engine.growth,claims.c4; default: all)")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="calibration seeds, in the order tried")
    parser.add_argument("--timeout-factor", type=float, default=DEFAULT_TIMEOUT_FACTOR)
    parser.add_argument("--json", type=Path, help="write every outcome to this file")
    parser.add_argument(
        "--baseline",
        type=Path,
        help=f"write each judged mutant's status and seed to this file (default run: {BASELINE.relative_to(ROOT)})",
    )
    parser.add_argument("--list", action="store_true", help="list the mutants (and if reached), judge none")
    parser.add_argument(
        "--no-engine-tests", action="store_true", help="score calibration alone (no ENGINE_TESTS run on survivors)"
    )
    parser.add_argument(
        "--ids", type=Path, help="judge only the mutants whose ids this file lists (first word per line)"
    )
    parser.add_argument(
        "--engine-tests-only",
        action="store_true",
        help="with --ids: judge by the engine tests alone, no calibration (for mutants a calibration run of the "
        "same code left alive: a baseline's survivors)",
    )
    return parser.parse_args(argv)


def _intact_engine_tests(modules: Iterable[str], caches: list, log: Callable[[str], None]) -> dict[str, float] | None:
    """Time each module's ENGINE_TESTS on the intact engine; None (said in `log`) when one fails."""
    seconds = {}
    for module in sorted(modules):
        if not ENGINE_TESTS.get(module):
            continue
        start = time.perf_counter()
        failed = engine_test_failures(module, [*caches, *_lru_caches()])
        seconds[module] = time.perf_counter() - start
        if failed:
            log(f"the intact engine fails {module}'s engine tests ({', '.join(failed[:3])}): fix them first")
            return None
    log("engine tests pass on the intact engine: " + ", ".join(f"{_short(m)} {t:.0f} s" for m, t in seconds.items()))
    return seconds


def chosen_mutants(
    mutants: list[Mutant],
    listed: list[Mutant] | None,
    reach: dict[str, bool],
    equivalents: dict[str, str],
    sample: int | None,
    seed: int,
) -> list[Mutant]:
    """The mutants a run judges: those `--ids` lists (else every one), or a random sample of `sample`
    reached, non-equivalent ones.

    Args:
        mutants: every generated mutant of the modules.
        listed: the `--ids` mutants, or None.
        reach: {id: on a line calibration runs}.
        equivalents: the listed equivalents.
        sample, seed: `--sample` and its random seed.

    Returns:
        The mutants, in order.
    """
    if sample is None:
        return list(mutants if listed is None else listed)
    pool = [m for m in mutants if reach[m.id] and m.id not in equivalents]
    return random.Random(seed).sample(pool, min(sample, len(pool)))


def _listed_mutants(path: Path | None, mutants: list[Mutant]) -> list[Mutant] | str:
    """The mutants an `--ids` file names (first word per line, `#` comments skipped), or the one-line
    reason it cannot be read."""
    if path is None or not path.is_file():
        return f"--ids: no file {path} (--engine-tests-only needs one: mutants a calibration run left alive)"
    wanted = {line.split()[0] for line in path.read_text().splitlines() if line.strip() and line[0] != "#"}
    unknown = sorted(wanted - {m.id for m in mutants})
    if unknown:
        return f"--ids: {len(unknown)} ids name no mutant of these modules, e.g. {unknown[0]}"
    return [m for m in mutants if m.id in wanted]


def _engine_tests_only(
    args: argparse.Namespace, chosen: list[Mutant], sources: dict[str, str], equivalents: dict, log
) -> int:
    """`--engine-tests-only`: the listed mutants against their modules' ENGINE_TESTS, no calibration.
    Each outcome is "killed" (how: engine test) or "survived" (meaning: by the engine tests; its
    calibration outcome is the run the ids came from)."""
    engine_seconds = _intact_engine_tests({m.module for m in chosen}, [], log)
    if engine_seconds is None:
        return 1
    outcomes = []
    for i, m in enumerate(chosen, 1):
        start = time.perf_counter()
        o = Outcome(m, "survived")
        if ENGINE_TESTS.get(m.module):
            limit = max(MIN_TIMEOUT_S, args.timeout_factor * engine_seconds.get(m.module, MIN_TIMEOUT_S))
            try:
                with applied(m, sources[m.module]), time_limit(limit):
                    failed = engine_test_failures(m.module, _lru_caches())
                if failed:
                    o = Outcome(m, "killed", "engine test", None, failed[:3])
            except MutantTimeout as exc:
                o = Outcome(m, "killed", "timeout", None, detail=str(exc))
            except StaleSource as exc:
                o = Outcome(m, "not_applied", detail=str(exc))
            except Exception as exc:
                o = Outcome(m, "killed", "raised", None, detail=f"{type(exc).__name__}: {str(exc)[:120]}")
        o.seconds, o.equivalent = time.perf_counter() - start, equivalents.get(m.id)
        outcomes.append(o)
        by = f" ({', '.join(o.caught_by[:2])})" if o.caught_by else (f" {o.detail}" if o.detail else "")
        log(f"[{i}/{len(chosen)}] {m.id}: {o.status} {o.how}{by} {o.seconds:.1f}s")
    killed = [o for o in outcomes if o.status == "killed"]
    print(
        f"engine tests alone: {len(killed)} of {len(outcomes)} killed "
        f"({sum(o.mutant.id in equivalents for o in killed)} of them listed equivalent)"
    )
    for o in killed:
        if o.mutant.id in equivalents:
            print(f"listed as equivalent but killed (remove it from {EQUIVALENTS.name}): {o.mutant.id}")
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {**dataclasses.asdict(o.mutant), **{k: v for k, v in vars(o).items() if k != "mutant"}}
                    for o in outcomes
                ],
                indent=1,
                default=str,
            )
        )
    return 0


def _bad(message: str) -> int:
    print(f"mutate: {message}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module docstring).

    Args:
        argv: arguments (default sys.argv[1:]).

    Returns:
        Exit status: 0 no survivor, 1 survivors, 2 bad input.
    """
    args = _parse(argv)
    modules = list(MODULES)
    if args.modules:
        wanted = [w.strip() for w in args.modules.split(",") if w.strip()]
        known = {_short(m): m for m in MODULES}
        unknown = [w for w in wanted if w not in known and w not in MODULES]
        if unknown or not wanted:
            return _bad(f"--modules: unknown {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}")
        modules = [known.get(w, w) for w in wanted]
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        return _bad(f"--seeds: integers separated by commas, not {args.seeds!r}")
    if not seeds:
        return _bad("--seeds: at least one seed")
    if args.sample is not None and args.sample < 1:
        return _bad("--sample: a positive number")
    try:
        equivalents = read_equivalents()
    except ValueError as exc:
        return _bad(str(exc))

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    mutants, sources = all_mutants(modules)
    listed = None
    if args.ids is not None or args.engine_tests_only:  # bad input is refused before the long tracing
        listed = _listed_mutants(args.ids, mutants)
        if isinstance(listed, str):
            return _bad(listed)
    if args.engine_tests_only:
        return _engine_tests_only(args, listed, sources, equivalents, log)
    log(f"{len(mutants)} mutants in {len(modules)} modules; tracing calibration at seeds {seeds}")
    evidence = []
    for s in seeds:
        t = time.perf_counter()
        evidence.append(seed_evidence(s, log=log))
        e = evidence[-1]
        log(
            f"seed {s}: {sum(e.intact.values())} of {len(e.intact)} planted claims right, calibration "
            f"{e.seconds:.1f} s, traced in {time.perf_counter() - t:.0f} s"
        )
    reach = {m.id: reached(m, evidence) for m in mutants}
    n_equivalent = sum(reach[m.id] and m.id in equivalents for m in mutants)
    log(
        f"{sum(reach.values())} of {len(mutants)} mutants on lines calibration runs; {n_equivalent} of them listed "
        f"equivalent: {sum(reach.values()) - n_equivalent} counted"
    )
    if args.list:
        for m in mutants:
            state = "reached" if reach[m.id] else "not reached"
            print(f"{m.id}  {m.path}:{m.line}  {m.original} -> {m.mutated}  [{m.kind}, {state}]")
        return 0
    chosen = chosen_mutants(mutants, listed, reach, equivalents, args.sample, args.seed)
    engine_seconds = (
        None if args.no_engine_tests else _intact_engine_tests({m.module for m in chosen}, evidence[0].caches, log)
    )
    if engine_seconds is None and not args.no_engine_tests:
        return 1
    outcomes = []
    for i, m in enumerate(chosen, 1):
        o = judge(
            m, evidence, source=sources[m.module], timeout_factor=args.timeout_factor, engine_seconds=engine_seconds
        )
        o.equivalent = equivalents.get(m.id)
        outcomes.append(o)
        if o.status != "not_reached":
            how = f"{o.how} at seed {o.seed}" + (f" ({', '.join(o.caught_by[:3])})" if o.caught_by else "")
            log(f"[{i}/{len(chosen)}] {m.id}: {o.status} {how if o.status == 'killed' else o.detail} {o.seconds:.1f}s")
    result = summary(outcomes, equivalents)
    # no mutant may leave state behind: the intact engine still gets the same planted claims right
    first = evidence[0]
    clear_caches(first.caches)
    after = {v.claim: bool(v.numbers["correct"]) for v in _quiet_calibrate(build_sources(first.runs), first.planted)}
    if after != first.intact:
        moved = sorted(k for k in first.intact if after.get(k) != first.intact[k])
        print(f"WARNING: the intact engine's calibration at seed {first.seed} changed during the run: {moved}")
    elapsed = time.perf_counter() - started
    stale = sorted(set(equivalents) - {m.id for m in mutants}) if not args.modules else []
    print(
        f"mutation score: {result['killed']} of {result['counted']} reached non-equivalent mutants killed "
        f"({100 * result['score']:.1f}%); by: "
        + ", ".join(f"{how} {n}" for how, n in sorted(result["by_how"].items()))
        + f" (by calibration alone {result['killed'] - result['by_how'].get('engine test', 0)}, "
        f"{100 * (result['killed'] - result['by_how'].get('engine test', 0)) / max(result['counted'], 1):.1f}%)"
        + f"; {len(result['equivalent'])} equivalent; {len(result['not_reached'])} not reached by calibration;"
        f" {len(result['not_applied'])} not applied; seeds {seeds}; {elapsed / 60:.1f} min"
    )
    for o in result["equivalent_killed"]:
        print(f"listed as equivalent but killed (remove it from {EQUIVALENTS.name}): {o.mutant.id}")
    for i in stale:
        print(f"listed as equivalent but no longer generated: {i}")
    if result["survivors"] or result["equivalent"]:
        print("survivors:")
        for o in result["survivors"] + result["equivalent"]:
            print("  " + survivor_line(o))
    for o in result["not_applied"]:
        print(f"not applied: {o.mutant.id}  {o.mutant.path}:{o.mutant.line}  {o.detail}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "seeds": seeds,
                    "score": result["score"],
                    "killed": result["killed"],
                    "counted": result["counted"],
                    "seconds": elapsed,
                    "outcomes": [
                        {**dataclasses.asdict(o.mutant), **{k: v for k, v in vars(o).items() if k != "mutant"}}
                        for o in outcomes
                    ],
                },
                indent=1,
                default=str,
            )
        )
    if args.baseline:
        sample = "" if args.sample is None else f" (a random sample: --sample {args.sample} --seed {args.seed})"
        write_baseline(args.baseline, outcomes, seeds=seeds, score=result, sample=sample)
    return 1 if result["survivors"] else 0


def write_baseline(
    path: Path, outcomes: list[Outcome], *, seeds: list[int], score: dict[str, Any], sample: str = ""
) -> None:
    """The run's outcomes as the baseline file: `<id> <status> <seed>` per judged mutant (seed "-"
    for a survivor), under a header with the score.

    Args:
        path: the file.
        outcomes: the judged mutants.
        seeds: the calibration seeds of the run.
        score: summary()'s result.
        sample: how the mutants were chosen, e.g. " (a random sample: --sample 250 --seed 1)".
    """
    lines = [
        "# scripts/mutate.py --baseline: each reached mutant's status (killed, survived) and the calibration",
        "# seed that killed it, from one run of this script; tests/validate/test_generated_mutants.py checks",
        "# that a sample of the killed ones still dies.",
        f"# Regenerate with `make mutate MUTATE_ARGS='--baseline {BASELINE.relative_to(ROOT)}'`.",
        f"# seeds {','.join(map(str, seeds))}; {len(outcomes)} mutants judged{sample}; score {score['killed']} of "
        f"{score['counted']} ({100 * score['score']:.1f}%) reached non-equivalent mutants killed",
    ]
    for o in outcomes:
        if o.status in ("killed", "survived"):
            lines.append(f"{o.mutant.id} {o.status} {'-' if o.seed is None else o.seed}")
    path.write_text("\n".join(lines) + "\n")


def read_baseline(path: Path = BASELINE) -> dict[str, tuple[str, int | None]]:
    """{mutant id: (status, seed)} from a baseline file (write_baseline); {} when there is none.

    Args:
        path: the file.

    Returns:
        The dict.
    """
    if not path.exists():
        return {}
    out = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            mutant_id, status, seed = line.split()
            out[mutant_id] = (status, None if seed == "-" else int(seed))
    return out


if __name__ == "__main__":
    sys.exit(main())
