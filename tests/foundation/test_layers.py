"""Layers point one way. One installed package, `lrkd`, in floors from the bottom up:

    infrastructure   lrkd/*.py (config, store, sweep, executors, errors, ...): knows no science
    lrkd.theory      pure math: imports nothing of the suite, not even infrastructure
    lrkd.simulate    runs; knows no verdicts
    lrkd.validate    evidence and verdicts; knows no rendering. Inside it, the generic engine
                     (validate/engine/) knows no claim: the per-claim modules (validate/claims/),
                     the registry, check_claim (judge.py) and calibration sit on top of it
    lrkd.reports     rendering what validate decided
    lrkd.cli         the command line, on top of everything (with lrkd/__main__.py)
    lrkd.testing     users' pytest plugin and hypothesis strategies: beside the command line

A module may import its own floor and the floors under it, never one above. An import by string
(importlib.import_module("lrkd.validate.x"), __import__) counts as an import, and so does one
inside a function. Nothing imports the old top-level names (theory, simulate, validate, reports):
they are not installed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

INFRA = "lrkd (infrastructure)"
ENGINE = "lrkd.validate.engine"
#: floor name -> (folder, the floors it may import, bottom to top)
FLOORS: dict[str, tuple[str, tuple[str, ...]]] = {
    INFRA: ("lrkd", ()),
    "lrkd.theory": ("theory", ()),
    "lrkd.simulate": ("simulate", ("lrkd.theory", INFRA)),
    ENGINE: ("validate/engine", ("lrkd.theory", INFRA)),
    "lrkd.validate": ("validate", ("lrkd.theory", "lrkd.simulate", ENGINE, INFRA)),
    "lrkd.reports": ("reports", ("lrkd.theory", "lrkd.simulate", ENGINE, "lrkd.validate", INFRA)),
    "lrkd.cli": ("lrkd/cli", ("lrkd.theory", "lrkd.simulate", ENGINE, "lrkd.validate", "lrkd.reports", INFRA)),
    "lrkd.testing": ("lrkd/testing", ("lrkd.theory", "lrkd.simulate", ENGINE, "lrkd.validate", INFRA)),
}
OLD_TOP_LEVEL = ("theory", "simulate", "validate", "reports")


def floor_of_module(name: str) -> str | None:
    """The floor an imported module belongs to (None: not the suite's)."""
    if name == "lrkd" or name == "lrkd.__main__":
        return None
    for floor in ("lrkd.validate.engine", "lrkd.theory", "lrkd.simulate", "lrkd.validate", "lrkd.reports"):
        if name == floor or name.startswith(floor + "."):
            return floor
    for top in ("lrkd.cli", "lrkd.testing"):
        if name == top or name.startswith(top + "."):
            return top
    return INFRA if name.startswith("lrkd.") else None


def floor_of_file(rel: str) -> str | None:
    """The floor a file of the repository sits on (None for lrkd/__init__.py and lrkd/__main__.py)."""
    if rel in ("lrkd/__init__.py", "lrkd/__main__.py"):
        return None
    best = None
    for floor, (folder, _) in FLOORS.items():
        if rel.startswith(folder + "/") and (best is None or len(folder) > len(FLOORS[best][0])):
            best = floor
    if best == INFRA and rel.count("/") > 1:  # lrkd/<package>/...: only cli and testing exist
        return None
    return best


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from lrkd.validate import engine` imports lrkd.validate.engine
            names |= {f"{node.module}.{alias.name}" for alias in node.names if node.module.startswith("lrkd")}
        elif isinstance(node, ast.Call) and _is_string_import(node.func) and node.args:
            names.add(_literal_prefix(node.args[0]))
    return names


def _is_string_import(func: ast.expr) -> bool:
    """importlib.import_module(...), import_module(...) or __import__(...)."""
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def _literal_prefix(arg: ast.expr) -> str:
    """The module a string import names: the string, or an f-string's leading literal part
    (f"lrkd.validate.{name}" -> "lrkd.validate"); "" when nothing literal leads."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rstrip(".")
    return ""


def _violations(floor: str) -> list[str]:
    folder, allowed = FLOORS[floor]
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if floor_of_file(rel) != floor:
            continue
        for name in imported_modules(path):
            target = floor_of_module(name)
            if target is not None and target != floor and target not in allowed:
                bad.append(f"{rel} ({floor}) imports {name} ({target})")
    return bad


@pytest.mark.parametrize("floor", list(FLOORS))
def test_imports_point_down_the_floors(floor):
    assert _violations(floor) == []


def test_nothing_imports_the_old_top_level_names():
    bad = []
    for folder in ("lrkd", "theory", "simulate", "validate", "reports", "tests", "scripts", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in imported_modules(path):
                if name.split(".")[0] in OLD_TOP_LEVEL:
                    bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert bad == []


def test_every_source_file_sits_on_a_floor():
    stray = [
        p.relative_to(ROOT).as_posix()
        for folder in ("lrkd", "theory", "simulate", "validate", "reports")
        for p in (ROOT / folder).rglob("*.py")
        if floor_of_file(p.relative_to(ROOT).as_posix()) is None
        and p.relative_to(ROOT).as_posix() not in ("lrkd/__init__.py", "lrkd/__main__.py")
    ]
    assert stray == []


def test_the_rules_can_fail(tmp_path):
    """A string import (import_module with a literal or an f-string's literal head) counts, and an
    upward import is named: infrastructure reaching simulate, the engine reaching a claim module."""
    module = tmp_path / "m.py"
    module.write_text(
        "import importlib\nimportlib.import_module('lrkd.validate.claims.c4')\n"
        "__import__(f'lrkd.reports.{1}')\nimportlib.import_module(name)\n"
        "def f():\n    from lrkd.validate import registry\n"
    )
    names = imported_modules(module)
    assert names >= {"importlib", "lrkd.validate.claims.c4", "lrkd.reports", "lrkd.validate.registry"}
    assert floor_of_module("lrkd.validate.claims.c4") == "lrkd.validate"
    assert floor_of_module("lrkd.store") == INFRA
    assert floor_of_module("lrkd.validate.engine.fits") == ENGINE
    assert "lrkd.validate" not in FLOORS[ENGINE][1] and "lrkd.simulate" not in FLOORS[INFRA][1]
    assert floor_of_file("validate/engine/fits.py") == ENGINE
    assert floor_of_file("lrkd/cli/report.py") == "lrkd.cli"
    assert floor_of_file("lrkd/store.py") == INFRA
