"""`lrkd verify`: the theory claims as regression tests.

Reruns the quick synthetic experiments, recomputes every verdict (and the calibration), and
compares them with a committed baseline (reports/baseline.json): one entry per (claim, experiment)
with the verdict code and key exponents, each with a tolerance. A changed verdict, an exponent
outside its tolerance, or a baseline entry no longer produced is a regression: the diff is printed
and the exit code is 1. New entries (e.g. a user's claim) are listed but do not fail; `--update`
writes the current results as the new baseline.

The entries, their tolerances and the comparison live in validate/regression.py, shared with the
`claim_regression` pytest fixture (lrkd.testing): an exponent may move by half its bootstrap
interval's width (at least 0.02) before it counts as a regression.
"""

from __future__ import annotations

import json
import os
import runpy
import tempfile
import traceback
from pathlib import Path

from lrkd import progress
from lrkd import reports as reports_package
from lrkd.executors import executor_for
from lrkd.errors import InputError
from lrkd.store import ResultStore
from lrkd.reports.plan import all_verdicts, calibration_verdicts, jobs, run_jobs
from lrkd.validate.regression import Difference, baseline_entry, compare

#: The committed baseline ships inside lrkd.reports (package data), beside the report it regresses.
BASELINE = Path(reports_package.__file__).with_name("baseline.json")


def current_entries(*, store: Path | None, executor=None) -> list[dict]:
    """Run the quick synthetic plan and return baseline entries for every verdict and planted claim.

    Args:
        store: a results store to reuse (None: a temporary one, deleted afterwards).
        executor: where cells run (None: a local pool).

    Returns:
        One entry per verdict (validate.regression.baseline_entry), planted claims included.
    """
    pool = executor if executor is not None else executor_for(None)
    with tempfile.TemporaryDirectory() as tmp, pool:
        results = ResultStore(store if store is not None else Path(tmp) / "verify.db")
        runs = run_jobs(jobs("quick", real=False), store=results, executor=pool)
        # calibration seed 0 only: the report scores seeds 0..4; a regression check needs one draw
        verdicts = all_verdicts(runs) + calibration_verdicts(seeds=(0,), store=results, executor=pool)
    return [baseline_entry(v) for v in verdicts]


def load_baseline(path: Path) -> list[dict]:
    """Read a baseline file's entries.

    Args:
        path: the baseline JSON (`--baseline`).

    Returns:
        Its entries.

    Raises:
        InputError: naming --baseline, when the file is missing, not UTF-8 or not an lrkd baseline.
    """
    if not path.is_file():
        raise InputError("--baseline", f"file not found: {path} (create it with `lrkd verify --update`)")
    try:
        return json.loads(path.read_text(encoding="utf-8"))["entries"]
    except UnicodeDecodeError:
        raise InputError("--baseline", f"{path} is not a UTF-8 JSON file (an lrkd baseline)") from None
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError("--baseline", f"{path} is not an lrkd baseline ({exc})") from None


def write_baseline(path: Path, entries: list[dict]) -> None:
    """Write entries as a baseline file, sorted by experiment and claim.

    Args:
        path: where to write (`--baseline`).
        entries: baseline entries.
    """
    doc = {
        "about": "Verdicts and key exponents of the quick synthetic experiments; regenerate with "
        "`lrkd verify --update` after an intended change, and say why in the commit.",
        "entries": sorted(entries, key=lambda e: (e["experiment"], e["claim"])),
    }
    path.write_text(json.dumps(doc, indent=2) + "\n")


def run(
    *,
    baseline: Path | None = None,
    claims_file: Path | None = None,
    store: Path | None = None,
    update: bool = False,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> int:
    """`lrkd verify`: the quick synthetic verdicts (and calibration) against the baseline, or
    written as the new baseline with `update`. Every input is checked before the runs start.

    Args:
        baseline: the baseline JSON (None: reports/baseline.json, shipped in lrkd.reports).
        claims_file: a Python file registering claims and checks of the user's, run first.
        store: a results store to reuse (None: a temporary one).
        update: write the current entries as the baseline instead of comparing.
        workers, executor, scheduler: where cells run (lrkd.executors.executor_for).

    Returns:
        0 when every verdict matches (or the baseline was written), 1 on a regression.
    """
    path = baseline or BASELINE
    pool = executor_for(workers, executor, scheduler)
    if claims_file is not None:
        load_claims_file(claims_file)
    # Read the baseline (or check it can be written) before the minute of runs, not after.
    expected = None if update else load_baseline(path)
    if update:
        _require_writable(path)
    entries = current_entries(store=store, executor=pool)
    if update:
        write_baseline(path, entries)
        print(f"lrkd verify: wrote {len(entries)} entries to {path}")
        return 0
    diffs, new = compare(expected, entries)
    return print_comparison(diffs, new, path, len(entries))


def print_comparison(diffs: list[Difference], new: list[dict], path: Path, total: int) -> int:
    """Print the comparison's result: new entries as notes, then every regression, or that all match.

    Args:
        diffs: the regressions (validate.regression.compare).
        new: entries the baseline does not have.
        path: the baseline compared against.
        total: how many verdicts were compared.

    Returns:
        The exit code: 1 when there is a regression, else 0.
    """
    for entry in new:
        progress.note(
            f"lrkd verify: new (not in the baseline): {entry['claim']} @ {entry['experiment']} -> {entry['verdict']}"
        )
    if diffs:
        print(f"lrkd verify: {len(diffs)} regression(s) against {path}")
        print("\n".join(str(d) for d in diffs))
        return 1
    print(f"lrkd verify: {total} verdicts match {path}")
    return 0


def load_claims_file(path: Path) -> None:
    """Run a Python file that registers claims (theory.register_claim) and checks of its own.

    Args:
        path: the file (`--claims-file`).

    Raises:
        InputError: naming --claims-file and the line, when the file is missing, not UTF-8 Python,
            or raises.
    """
    if not path.is_file():
        raise InputError("--claims-file", f"file not found: {path}")
    try:
        source = path.read_text(encoding="utf-8")
        compile(source, str(path), "exec")
    except UnicodeDecodeError:
        raise InputError("--claims-file", f"{path} is not a UTF-8 Python file") from None
    except (SyntaxError, ValueError) as exc:
        raise InputError("--claims-file", f"{path} is not valid Python ({exc})") from None
    try:
        runpy.run_path(str(path), run_name="lrkd_user_claims")
    except InputError:
        raise
    except Exception as exc:  # the user's file failed: say where, in one line
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename == str(path)]
        where = f"{path}:{frames[-1].lineno}" if frames else str(path)
        raise InputError("--claims-file", f"{where} raised {type(exc).__name__}: {exc}") from None


def _require_writable(path: Path) -> None:
    """An InputError unless `path` can be created or overwritten (checked before any run)."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise InputError("--baseline", f"cannot write {path} (the folder must exist and be writable)")
