"""Layers point one way: theory <- simulate <- validate <- reports <- the CLI (lrkd/cli.py).

lrkd's infrastructure modules (config, store, sweep, errors, ...) sit under simulate/ and above
theory/; only lrkd/cli.py and lrkd/commands.py may reach up to reports/ and validate/.
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
TOP_OF_LRKD = {"lrkd/cli.py", "lrkd/commands.py", "lrkd/experiments.py", "lrkd/__main__.py"}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _violations(layer: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in TOP_OF_LRKD:
            continue
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in FORBIDDEN[layer]):
                bad.append(f"{rel} imports {name}")
    return bad


@pytest.mark.parametrize("layer", SUITE)
def test_imports_point_down_the_layers(layer):
    assert _violations(layer) == []
