"""`lrkd report` replaces its folder only with a complete report: bad --claims is refused before any
work, and a run killed while it writes leaves the previous report whole and its finished cells
in the store, from which the next run resumes."""

from __future__ import annotations

import importlib.util
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lrkd import theory
from lrkd.cli import main

DRIVER = Path(__file__).with_name("report_driver.py")
_spec = importlib.util.spec_from_file_location("report_driver", DRIVER)
driver = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(driver)
REPORT_FILES = ("report.html", "report.md", "verdicts.json", "calibration.json", "config.json")


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file of a report except the store (compared by its cells instead)."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith("results.db")
    }


def _cells(report: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(report / "results.db") as con:
        return con.execute("SELECT key, finished_at FROM cells ORDER BY key").fetchall()


def _siblings(report: Path) -> list[str]:
    return sorted(p.name for p in report.parent.iterdir() if p != report)


def _report(monkeypatch, capsys, out: Path, seeds: int) -> str:
    """A report of the tiny plan in this process (driver.tiny_plan); its stdout."""
    with monkeypatch.context() as patch:
        driver.tiny_plan(seeds, patch)
        assert main([*driver.ARGS, "--out", str(out)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("claims", [",", "", " , "])
def test_claims_naming_no_claim_is_one_line_exit_2_and_leaves_the_report(capsys, tmp_path, claims):
    report = tmp_path / "report"
    report.mkdir()
    (report / "verdicts.json").write_text('[{"claim": "convergence"}]\n')
    before = _snapshot(report)
    start = time.perf_counter()
    code = main(["report", "--quick", "--claims", claims, "--out", str(report)])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and line.startswith("lrkd report: error: --claims: names no claim id")
    assert "convergence" in line and "optimal_rank" in line  # what is allowed: the known ids
    assert _snapshot(report) == before and _siblings(report) == []
    assert time.perf_counter() - start < 20  # refused before any run


def test_claims_no_planned_experiment_checks_are_refused(capsys, tmp_path):
    """A registered claim that no experiment of the plan checks would give an empty report."""
    claim = theory.Claim.from_formula("t_unchecked", "1/T", kind="upper_bound", title="checked nowhere")
    theory.register_claim(claim)
    try:
        code = main(["report", "--no-real", "--claims", claim.id, "--out", str(tmp_path / "report")])
    finally:
        theory.unregister_claim(claim.id)
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and line == (
        "lrkd report: error: --claims: no experiment of the quick plan without the real run checks t_unchecked"
    )
    assert list(tmp_path.iterdir()) == []  # nothing created


def test_a_report_killed_while_writing_leaves_the_previous_one_and_the_store(monkeypatch, capsys, tmp_path):
    report = tmp_path / "report"
    assert "generalization" in _report(monkeypatch, capsys, report, seeds=2)
    previous, previous_cells = _snapshot(report), _cells(report)
    assert set(REPORT_FILES) <= set(previous) and len(previous_cells) == 2 * 3  # a cell: one seed and N, every rank

    # More seeds: new cells, stored as they finish; then the report stops in its writing and is killed.
    flag = tmp_path / "writing"
    proc = subprocess.Popen(
        [sys.executable, str(DRIVER), str(report), "4", str(flag)],
        env=dict(os.environ, LRKD_QUIET="1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 120
    while not flag.exists():
        assert proc.poll() is None, "the report ended before it could be killed"
        assert time.time() < deadline, "the report never started writing"
        time.sleep(0.05)
    stage = Path(flag.read_text())
    assert stage.parent == report.parent and list((stage / "figures").glob("*.png"))
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()

    assert _snapshot(report) == previous  # the previous report, byte for byte
    killed_cells = _cells(report)
    assert set(previous_cells) < set(killed_cells) and len(killed_cells) == 4 * 3  # nothing lost
    assert _siblings(report) == [stage.name, flag.name]

    # The next run reads every cell back, deletes the leftover and swaps its report in.
    _report(monkeypatch, capsys, report, seeds=4)
    assert _cells(report) == killed_cells  # no cell recomputed
    assert _siblings(report) == [flag.name]
    now = _snapshot(report)
    sweep = "data/c2-generalization.sweep.csv"  # the raw table: 4 seeds now, 2 before
    assert set(REPORT_FILES) <= set(now) and now[sweep].count(b"\n") == 2 * previous[sweep].count(b"\n") - 1
