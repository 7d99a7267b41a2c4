"""The install puts one top-level package into site-packages: `lrkd`.

The repository keeps theory/, simulate/, validate/ and reports/ at its top and installs them as
lrkd.theory, lrkd.simulate, lrkd.validate and lrkd.reports (pyproject's package-dir mapping).
Generic top-level names would clobber other distributions: configobj ships a top-level
`validate` module, and installing both used to overwrite one with the other.

The wheel is built once per session without build isolation (setuptools comes from the test
environment, so nothing is downloaded); the install beside configobj in a fresh virtual
environment is slow (it installs configobj from the package index) and runs with `-m slow`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
# pip and setuptools warn about their own deprecations; the tests' PYTHONWARNINGS=error is for our code
PIP_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")  # keep build/ and *.egg-info out of the checkout
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=build,
        env=PIP_ENV,
    )
    (found,) = out.glob("lrkd-*.whl")
    return found


def test_the_wheels_only_top_level_package_is_lrkd(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith((".dist-info", ".data"))}
    assert top == {"lrkd"}
    for package in ("theory", "simulate", "validate", "reports", "cli", "testing"):
        assert f"lrkd/{package}/__init__.py" in names
    # package data travels with lrkd.reports: the baseline `lrkd verify` reads and the templates
    assert "lrkd/reports/baseline.json" in names
    assert any(n.startswith("lrkd/reports/templates/") for n in names)


def test_every_package_folder_is_listed_in_pyproject():
    """pyproject lists the packages by hand (find cannot follow the mapping): a new folder with an
    __init__.py that is missing there would be left out of the wheel."""
    mapping = PYPROJECT["tool"]["setuptools"]["package-dir"]
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    on_disk = set()
    for package, folder in mapping.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder)
            on_disk.add(".".join([package, *rel.parts]))
    assert on_disk == listed


def test_the_entry_points_name_modules_that_exist():
    for target in [PYPROJECT["project"]["scripts"]["lrkd"], *PYPROJECT["project"]["entry-points"]["pytest11"].values()]:
        module = target.split(":")[0]
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True)


@pytest.mark.slow
def test_lrkd_installs_beside_configobj_and_both_import(wheel, tmp_path):
    """A fresh virtual environment with configobj (its top-level `validate` module) and the lrkd
    wheel: both import, and `lrkd claims` runs from the installed package. lrkd's own dependencies
    (torch, numpy, ...) come from this test environment through a .pth file, so only configobj is
    fetched from the index."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=PIP_ENV)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", "configobj==5.0.9"], check=True, env=PIP_ENV)
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, env=PIP_ENV)
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = next(p for p in sys.path if p.endswith("site-packages"))
    # appended after the venv's own site-packages: the wheel's lrkd wins over the editable checkout
    (Path(site) / "zz_lrkd_test_dependencies.pth").write_text(ours + "\n")
    code = (
        "import validate, lrkd.validate, lrkd.theory, configobj\n"
        "assert hasattr(validate, 'Validator'), validate.__file__\n"
        "assert 'site-packages' in lrkd.validate.__file__ and 'venv' in lrkd.validate.__file__\n"
        "print(validate.__file__, lrkd.validate.__file__)\n"
    )
    subprocess.run([python, "-c", code], check=True, cwd=tmp_path)
    claims = subprocess.run(
        [venv / "bin" / "lrkd", "claims", "convergence"], check=True, capture_output=True, text=True, cwd=tmp_path
    )
    assert "O(1/sqrt(T))" in claims.stdout
