"""`lrkd report` end to end, as the README's main command runs it (slow group).

Runs the quick plan, real SmolLM2 run included, into a temporary folder, then checks the files,
that verdicts.json carries a computed verdict for every claim x experiment with its numbers, that
every paper claim is measured on the real model (no code there is a literal: each rests on measured
numbers), that the provenance names the real runs' precision, that a rerun resumes from the store,
and that the HTML renders in headless Chromium (scripts/check_report_html.py).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from lrkd.validate.engine.verdict import CODES

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")


def lrkd(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lrkd", "--quiet", *args], capture_output=True, text=True, timeout=1800, cwd=ROOT
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report")
    result = lrkd("report", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def test_report_files_and_verdicts(report):
    for name in ("report.html", "report.md", "verdicts.json", "calibration.json", "config.json", "results.db"):
        assert (report / name).is_file(), name
    verdicts = json.loads((report / "verdicts.json").read_text())
    by_key = {(v["claim"], v["experiment"].split(" ")[0]): v for v in verdicts}
    for claim in ("convergence", "generalization", "mutual_information", "optimal_rank"):
        assert any(c == claim for c, _ in by_key), claim
    for claim in ("convergence", "generalization", "mutual_information", "optimal_rank"):
        real = by_key[(claim, "lrc_real")]
        assert real["verdict"] in CODES and real["numbers"], claim
    # C1 under plain SGD carries a finite exponent interval; C3 an interval over seeds.
    assert all(map(math.isfinite, by_key[("convergence", "lrc_real")]["numbers"]["exponent_ci"]))
    assert by_key[("optimal_rank", "teacher_spectra")]["numbers"]["matrices"] == 211
    assert all(v["numbers"] and v["explanation"] for v in verdicts)
    assert list((report / "data").glob("*.parquet")) and list((report / "figures").glob("*.png"))
    calibration = json.loads((report / "calibration.json").read_text())
    assert all(v["numbers"]["correct"] for v in calibration)
    # The precision the real runs computed in, as their tables recorded it (float32 on a CPU).
    precision = json.loads((report / "config.json").read_text())["provenance"]["lrc_precision"]
    assert {"final", "clone_final", "sgd_runs"} <= set(precision) and "trajectory" not in precision
    assert all(p in ("float32", "bfloat16-autocast", "float64") for found in precision.values() for p in found)
    # Written beside the folder and swapped in: no staging folder is left.
    assert not [p.name for p in report.parent.iterdir() if p.name.startswith(report.name + ".")]


def test_rerun_reads_the_store_and_gives_the_same_verdicts(report):
    before = json.loads((report / "verdicts.json").read_text())
    cells = _cells(report)
    assert lrkd("report", "--out", str(report)).returncode == 0
    assert _cells(report) == cells  # the same cells: the rerun added nothing to the store
    assert json.loads((report / "verdicts.json").read_text()) == before


def _cells(report: Path) -> list:
    import sqlite3

    with sqlite3.connect(report / "results.db") as con:
        return con.execute("SELECT key, finished_at FROM cells ORDER BY key").fetchall()


@pytest.mark.skipif(not CHROMIUM.is_file(), reason="needs Debian's chromium (apt-get install chromium)")
def test_report_renders_in_headless_chromium(report):
    check = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "check_report_html.py"),
            str(report / "report.html"),
            "--screenshot",
            str(report / "screenshot.png"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "verdicts in the matrix" in check.stdout
