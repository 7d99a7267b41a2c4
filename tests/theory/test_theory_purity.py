"""theory/ is pure math: it imports none of the suite, and torch only when a tensor is passed."""

import ast
import pathlib
import subprocess
import sys

from lrkd import theory


def _outside_theory(module: str) -> bool:
    """A module of the suite that is not theory itself (the bare `lrkd` namespace package is empty)."""
    return module.startswith("lrkd.") and not (module == "lrkd.theory" or module.startswith("lrkd.theory."))


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
            assert not [n for n in names if _outside_theory(n)], f"{path.name} imports {names}"


def test_importing_theory_loads_neither_the_suite_nor_torch():
    code = (
        "import sys; from lrkd import theory; theory.convergence_bound(10, 1, 1, 1); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch' "
        "or (m.startswith('lrkd.') and not m.startswith('lrkd.theory'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
