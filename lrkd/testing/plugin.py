"""The pytest plugin lrkd registers (entry point pytest11): the `claim_regression` fixture.

    def test_my_rate(claim_regression):
        claim_regression.check(MY_CLAIM, experiment="c1_quadratic", seeds=[0, 1, 2, 3])

runs the experiment (once per session for each config: tests share runs), checks the claim, and
compares the verdict's code and exponents with a baseline file beside the test module, laid out
as pytest-regressions lays out its data: <module dir>/<module stem>/<test name>.json. No file
yet: it is written and the test fails ("baseline written: rerun"). A changed code, or an exponent
moved by more than its tolerance, fails with the difference (validate/regression.py, the same
comparison as `lrkd verify`). `--force-regen` rewrites a differing baseline (the test fails once
more, saying so; the rerun passes). `--lrkd-store PATH` keeps the runs' cells in a results
store that outlives the session (default: a temporary one per session).

pytest imports this module in every run of every suite where lrkd is installed, so it imports
nothing heavy at module level: lrkd's science (torch, sympy, pandas) loads inside the fixtures.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any, NoReturn

import pytest

FORCE_REGEN = "--force-regen"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("lrkd", "lrkd claim regression")
    group.addoption(
        "--lrkd-store",
        metavar="PATH",
        default=None,
        help="results store (SQLite file) claim_regression reads and writes runs in; "
        "default: a temporary one per session",
    )


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]):
    # --force-regen is pytest-regressions' option too, and a suite may have both (or define its
    # own in a conftest). pytest refuses a second registration of a name, and plugins register in
    # no fixed order, so ours waits until every installed plugin and the initial conftests have
    # registered theirs, and is added only when none did: then both fixtures share one flag.
    result = yield
    if not _has_option(parser, FORCE_REGEN):
        try:
            parser.getgroup("lrkd").addoption(
                FORCE_REGEN,
                action="store_true",
                default=False,
                help="rewrite claim_regression baselines that differ (the test fails once, saying so)",
            )
        except (ValueError, argparse.ArgumentError):  # registered after all, under another spelling
            pass
    return result


def _has_option(parser: pytest.Parser, name: str) -> bool:
    """Whether some plugin or conftest registered the option `name` (pytest keeps the registry
    private: pytest 9 maps every option string in _opt2dest, pytest 8 keeps groups' options)."""
    if name in getattr(parser, "_opt2dest", {}):
        return True
    groups = [getattr(parser, "_anonymous", None), *getattr(parser, "_groups", ())]
    return any(name in option.names() for group in groups if group is not None for option in group.options)


@pytest.fixture(scope="session")
def lrkd_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The session's results store: `--lrkd-store PATH`, or a fresh temporary file."""
    from lrkd.errors import InputError  # lazily: see the module docstring
    from lrkd.store import ResultStore

    path = request.config.getoption("lrkd_store")
    try:
        return ResultStore(Path(path) if path else tmp_path_factory.mktemp("lrkd-store") / "results.db")
    except InputError as exc:
        raise pytest.UsageError(f"--lrkd-store: {exc}") from None


@pytest.fixture
def claim_regression(request: pytest.FixtureRequest, lrkd_store) -> "ClaimRegression":
    """Check a claim's verdict against a baseline file beside the test (see the module docstring)."""
    return ClaimRegression(request, lrkd_store)


class ClaimRegression:
    """What the `claim_regression` fixture returns; `check` does the work."""

    def __init__(self, request: pytest.FixtureRequest, store):
        self._request, self._store = request, store
        self._checked: set[Path] = set()

    def check(
        self,
        claim,
        runs=None,
        *,
        experiment: str | None = None,
        preset: str = "quick",
        basename: str | None = None,
        **overrides: Any,
    ):
        """Check `claim` and compare its verdict with the test's baseline file.

        Args:
            claim: a theory.Claim, or the id of a built-in or registered claim.
            runs: runs to check it on; or leave them out and name an experiment.
            experiment: the experiment to run (default: the claim's own `experiment`).
            preset: the experiment's preset; **overrides: config fields to change (e.g. seeds=[0, 1]).
                Tests asking for the same config share one run per session.
            basename: the baseline's file name without .json (default: the test's name); give
                each check its own when a test checks several claims.

        Returns:
            The verdict (validate.engine.verdict.Verdict), when it matches the baseline.
        """
        # lazily: see the module docstring
        from lrkd.errors import InputError
        from lrkd.validate.regression import baseline_entry, differences

        path = self._path(basename)
        if path in self._checked:
            self._fail(f"{self._shown(path)} was already checked in this test: give each check its own basename=")
        self._checked.add(path)
        try:
            verdict = self._verdict(claim, runs, experiment, preset, overrides)
        except InputError as exc:
            error = str(exc)  # failed outside the except: a one-line report, no chained traceback
        else:
            error = None
        if error is not None:
            self._fail(error)
        entry = baseline_entry(verdict)
        what = f"{entry['claim']} @ {entry['experiment']}"
        if not path.exists():
            _write(path, entry)
            self._fail(f"baseline written: rerun ({self._shown(path)}: {what} -> {entry['verdict']})")
        lines = differences(self._read(path), entry)
        if not lines:
            return verdict
        if self._request.config.getoption("force_regen", default=False):
            _write(path, entry)
            self._fail(f"{what}: baseline rewritten (--force-regen): rerun", lines)
        self._fail(f"{what} differs from {self._shown(path)}:", [*lines, "(accept the new verdict with --force-regen)"])

    def _verdict(self, claim, runs, experiment, preset, overrides):
        from lrkd import theory
        from lrkd.errors import InputError
        from lrkd.testing.runs import experiment_runs
        from lrkd.validate.judge import check_claim

        if isinstance(claim, str):
            try:
                claim = theory.get_claim(claim)
            except ValueError as exc:  # theory raises plain ValueError
                raise InputError("claim", str(exc)) from None
        if not isinstance(claim, theory.Claim):
            raise InputError("claim", f"must be a theory.Claim or a claim id, got {type(claim).__name__}")
        if runs is not None:
            if experiment is not None or overrides or preset != "quick":
                raise InputError("runs", "give runs, or an experiment with its preset and overrides, not both")
            return check_claim(claim, runs)
        name = experiment or claim.experiment
        if name is None:
            raise InputError("experiment", f"claim {claim.id!r} names no experiment: pass experiment= or runs")
        return check_claim(claim, experiment_runs(name, preset, store=self._store, **overrides))

    def _path(self, basename: str | None) -> Path:
        module = Path(self._request.node.path)
        name = basename or re.sub(r"\W", "_", self._request.node.name)  # pytest-regressions' naming
        return module.parent / module.stem / f"{name}.json"

    def _read(self, path: Path) -> dict:
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            entry, problem = None, str(exc)
        else:
            problem = "it names no claim, experiment and verdict"
        if not isinstance(entry, dict) or not {"claim", "experiment", "verdict"} <= set(entry):
            self._fail(f"{self._shown(path)} is not a claim_regression baseline ({problem}); delete it to rewrite it")
        return entry

    def _shown(self, path: Path) -> str:
        """The path relative to the rootdir, as pytest shows test ids."""
        try:
            return path.relative_to(self._request.config.rootpath).as_posix()
        except ValueError:
            return str(path)

    @staticmethod
    def _fail(headline: str, lines: list[str] = ()) -> NoReturn:
        # pytrace=False: the failure is these lines, not a traceback through the fixture
        pytest.fail("\n".join([f"claim_regression: {headline}", *(f"  {line}" for line in lines)]), pytrace=False)


def _write(path: Path, entry: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entry, indent=2) + "\n", encoding="utf-8")
