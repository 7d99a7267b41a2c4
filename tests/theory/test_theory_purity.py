"""theory/ is pure math: it imports none of the suite, and torch only when a tensor is passed."""

import ast
import pathlib
import subprocess
import sys

import theory

SUITE = {"lrkd", "simulate", "validate", "reports"}


def test_no_module_of_theory_imports_the_suite():
    root = pathlib.Path(theory.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not {n.split(".")[0] for n in names} & SUITE, f"{path.name} imports {names}"


def test_importing_theory_loads_neither_the_suite_nor_torch():
    code = (
        "import sys, theory; theory.convergence_bound(10, 1, 1, 1); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'lrkd', 'simulate', 'validate', 'reports', 'torch'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
