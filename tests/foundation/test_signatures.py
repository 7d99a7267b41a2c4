"""Seeds are keyword-only in public signatures (scikit-learn passes random_state the same way).

A seed passed by position is easy to swap with a neighbouring integer (a rank, a sample size, a
step count) and the run still goes through, with other numbers. Every public function or method
of theory/, simulate/, validate/ and lrkd/ whose parameter is named `seed`, `seeds`, `*_seed` or
`*_seeds` takes it after `*`. Read with ast, so no module has to be imported; dataclass fields are
class-level annotations, not parameters, and are not looked at.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("theory", "simulate", "validate", "lrkd")
SEED_LIKE = re.compile(r"^(\w+_)?seeds?$")
DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def public_modules() -> list[tuple[str, Path]]:
    """(dotted name, path) of every module not under a name starting with '_' (__init__ counts)."""
    modules = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if not any(part.startswith("_") for part in parts):
                modules.append((".".join(parts), path))
    return modules


def public_functions(body: list[ast.stmt], prefix: str):
    """(qualified name, def node) of the public functions in a module body, and of the methods of its
    public classes (nested classes included); functions defined inside functions are private."""
    for node in body:
        if not isinstance(node, DEFINITIONS) or node.name.startswith("_"):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield f"{prefix}.{node.name}", node
        elif isinstance(node, ast.ClassDef):
            yield from public_functions(node.body, f"{prefix}.{node.name}")


def positional_seeds(args: ast.arguments) -> list[str]:
    """Seed-like parameters that can be given by position (including a *seeds catch-all)."""
    names = [a.arg for a in args.posonlyargs + args.args]
    if args.vararg is not None:
        names.append(args.vararg.arg)
    return [name for name in names if SEED_LIKE.match(name)]


def violations() -> list[str]:
    bad = []
    for module, path in public_modules():
        for name, node in public_functions(ast.parse(path.read_text()).body, module):
            bad += [f"{name}({param})" for param in positional_seeds(node.args)]
    return bad


def test_seed_pattern_names_seeds_only():
    assert all(SEED_LIKE.match(n) for n in ("seed", "seeds", "base_seed", "n_seeds"))
    assert not any(SEED_LIKE.match(n) for n in ("seeded", "seed_subset", "n_samples", "speed"))


def test_the_walk_sees_methods_and_skips_private_names():
    tree = ast.parse(
        "class A:\n    def f(self, seed): ...\n    def _g(self, seed): ...\n"
        "def h(x, *, seed): ...\ndef _k(seed): ...\ndef v(*seeds): ...\n"
    )
    found = {name: positional_seeds(node.args) for name, node in public_functions(tree.body, "m")}
    assert found == {"m.A.f": ["seed"], "m.h": [], "m.v": ["seeds"]}


def test_public_seeds_are_keyword_only():
    bad = violations()
    assert not bad, "seed parameters to make keyword-only (put them after `*`):\n  " + "\n  ".join(bad)
