"""Layers point one way: theory <- simulate <- validate <- reports <- the CLI (lrkd/cli.py).

lrkd's infrastructure modules (config, store, sweep, errors, ...) sit under simulate/ and above
theory/; only lrkd/cli.py and lrkd/commands.py may reach up to reports/ and validate/, and
lrkd/experiments.py (the public way to experiments) up to simulate/. An import by string
(importlib.import_module("lrkd.validate.x"), __import__) counts as an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUITE = ("theory", "simulate", "validate", "reports", "lrkd")
FORBIDDEN = {
    "theory": {"simulate", "validate", "reports", "lrkd"},
    "simulate": {"validate", "reports", "lrkd.cli", "lrkd.commands", "lrkd.experiments"},
    "validate": {"reports", "lrkd.cli", "lrkd.commands"},
    "reports": {"lrkd.cli"},
    "lrkd": {"simulate", "validate", "reports"},  # infrastructure; cli/commands/experiments excepted below
}
TOP_OF_LRKD = {"lrkd/cli.py", "lrkd/commands.py", "lrkd/__main__.py"}
OWN_RULES = {"lrkd/experiments.py": {"validate", "reports", "lrkd.cli", "lrkd.commands"}}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and _is_string_import(node.func) and node.args:
            names.add(_literal_prefix(node.args[0]))
    return names


def _is_string_import(func: ast.expr) -> bool:
    """importlib.import_module(...), import_module(...) or __import__(...)."""
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    return name in ("import_module", "__import__")


def _literal_prefix(arg: ast.expr) -> str:
    """The module a string import names: the string, or an f-string's leading literal part
    (f"validate.{name}" -> "validate."); "" when nothing literal leads."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return arg.value
    if isinstance(arg, ast.JoinedStr) and arg.values and isinstance(arg.values[0], ast.Constant):
        return str(arg.values[0].value).rstrip(".")
    return ""


def _violations(layer: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in TOP_OF_LRKD:
            continue
        forbidden = OWN_RULES.get(rel, FORBIDDEN[layer])
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                bad.append(f"{rel} imports {name}")
    return bad


@pytest.mark.parametrize("layer", SUITE)
def test_imports_point_down_the_layers(layer):
    assert _violations(layer) == []


def test_a_string_import_of_an_upper_layer_is_caught(tmp_path):
    """The rule can fail: import_module and __import__ with a literal (or an f-string's literal
    head) count as imports."""
    module = tmp_path / "m.py"
    module.write_text(
        "import importlib\nimportlib.import_module('lrkd.validate.experiments')\n"
        "__import__(f'reports.{1}')\nimportlib.import_module(name)\n"
    )
    assert imported_modules(module) >= {"importlib", "validate.experiments", "reports"}
