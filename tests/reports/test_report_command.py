"""`lrkd report`'s own steps: the summary it prints reads the calibration's scores from
validate.calibration, and the real runs' precision goes into the provenance and the header."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lrkd.cli import report as report_command
from lrkd.reports.render import ReportContext, header_facts, write_report
from lrkd.simulate.experiments import Runs
from lrkd.simulate.experiments.real import LRC_REAL
from lrkd.validate.engine.verdict import Verdict


def _planted(claim: str, code: str, expected: str) -> Verdict:
    numbers = {"expected": expected, "correct": code == expected}
    return Verdict(claim, "c1_quadratic", code, "planted", numbers)


def test_the_summary_prints_hit_rate_and_every_miss(capsys):
    calibration = [
        _planted("p_true", "holds", "holds"),
        _planted("p_false", "holds", "violated"),
        _planted("p_vacuous", "vacuous", "vacuous"),
    ]
    verdicts = [Verdict("convergence", "c1_quadratic", "holds", "x", {})]
    report_command.print_summary(verdicts, calibration, Path("r/report.html"), ["a", "b"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["convergence", "holds", "c1_quadratic"]
    assert lines[1:] == [
        "calibration: 2 of 3 planted claims classified correctly",
        "  missed: p_false: expected violated, got holds",
        "report: r/report.html (2 files)",
    ]


def _runs(experiment: str, label: str, **tables: pd.DataFrame) -> Runs:
    return Runs(experiment, label, tables)


def test_lrc_precision_is_read_from_the_real_runs_tables():
    real = _runs(
        LRC_REAL.name,
        "SmolLM2-135M-Instruct, reduced",
        final=pd.DataFrame({"dtype": ["bfloat16-autocast", "bfloat16-autocast"], "kl": [0.1, 0.2]}),
        sgd_runs=pd.DataFrame({"dtype": ["float32"]}),
        trajectory=pd.DataFrame({"dtype": ["auto"]}),  # the cell's request, not what it ran in
        steps=pd.DataFrame({"step": [1, 2]}),
    )
    synthetic = _runs("c1_quadratic", "", sweep=pd.DataFrame({"dtype": ["float64"]}))  # not the LRC's
    assert report_command.lrc_precision([synthetic, real]) == {
        "lrc_precision": {"final": ["bfloat16-autocast"], "sgd_runs": ["float32"]}
    }
    assert report_command.lrc_precision([synthetic]) == {}


def test_lrc_precision_is_in_config_json_and_the_header(tmp_path):
    provenance = {"device": "cpu", "lrc_precision": {"final": ["float32"], "sgd_runs": ["float32", "float64"]}}
    ctx = ReportContext(title="t", size="quick", provenance=provenance)
    assert ("LRC precision", "float32, float64") in header_facts(ctx)
    write_report(tmp_path, ctx)
    assert json.loads((tmp_path / "config.json").read_text())["provenance"] == provenance
    assert "LRC precision:" in (tmp_path / "report.html").read_text()
    assert "LRC precision" not in dict(header_facts(ReportContext(title="t", size="quick")))
