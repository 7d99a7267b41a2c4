"""scripts/findings_table.py renders README's findings table from a report's verdicts.json."""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from lrkd.validate.engine.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "findings_table.py"
README = ROOT / "README.md"


def _load_script():
    spec = importlib.util.spec_from_file_location("findings_table", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


findings_table = _load_script()


def run(*args) -> subprocess.CompletedProcess:
    """The script's main() in this process (fast); returncode, stdout and stderr as a subprocess gives."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = findings_table.main([str(a) for a in args])
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


@pytest.fixture
def verdicts(tmp_path) -> Path:
    records = [
        Verdict(
            "optimal_rank",
            "c4_rank (power law, alpha=1)",
            "holds",
            "r* grows as N^0.56.",
            {"exponent": 0.562, "exponent_ci": [0.465, 0.658], "claimed_exponent": 0.5},
        ),
        Verdict(
            "convergence",
            "c1_quadratic",
            "holds",
            "Every point under the bound.",
            {"exponent": -0.5, "exponent_ci": [-0.515, -0.486], "claimed_exponent": -0.5, "worst_ratio": 0.377},
        ),
        Verdict("smoothness_transfer", "c1_lowrank", "holds", "L_f <= ||W||^2 L_g.", {"worst_ratio": 0.91}),
        Verdict(
            "generalization",
            "c2_generalization",
            "not_tight",
            "Decays as N^-1 | not N^-1/2.",
            {"exponent": -1.08, "exponent_ci": [-1.15, -1.03], "claimed_exponent": -0.5},
        ),
    ]
    path = tmp_path / "verdicts.json"
    path.write_text(json.dumps([v.to_json() for v in records]))
    return path


def readme_with_markers(tmp_path: Path, body: str = "stale row\n") -> Path:
    path = tmp_path / "README.md"
    path.write_text(
        "# title\n\nintro kept\n\n<!-- findings-table:start -->\n"
        + body
        + "<!-- findings-table:end -->\n\nafter kept\n"
    )
    return path


def test_prints_the_paper_claims_in_order_with_their_key_numbers(verdicts):
    result = run(verdicts)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:2] == ["| claim | experiment | evidence | verdict |", "|---|---|---|---|"]
    assert [line.split(" | ")[0] for line in lines[2:]] == [
        "| C1 convergence",
        "| C2 generalization",
        "| C4 optimal rank",
    ]
    assert lines[2] == (
        "| C1 convergence | c1_quadratic | exponent -0.5 [-0.515, -0.486] vs claimed -0.5; "
        "worst measured/bound 0.377 | holds |"
    )
    assert lines[3].endswith("| holds, not tight |")
    assert "smoothness_transfer" not in result.stdout
    assert "smoothness_transfer" in run(verdicts, "--all").stdout


def test_rewrites_only_the_block_between_the_markers_and_check_sees_drift(verdicts, tmp_path):
    readme = readme_with_markers(tmp_path)
    assert run(verdicts, "--readme", readme, "--check").returncode == 1  # stale
    assert run(verdicts, "--readme", readme).returncode == 0
    text = readme.read_text()
    assert text.startswith("# title\n\nintro kept\n\n<!-- findings-table:start") and text.endswith(
        "<!-- findings-table:end -->\n\nafter kept\n"
    )
    assert run(verdicts).stdout in text and "stale row" not in text
    assert run(verdicts, "--readme", readme, "--check").returncode == 0  # up to date now
    assert run(verdicts, "--readme", readme).returncode == 0 and readme.read_text() == text  # idempotent


@pytest.mark.parametrize("case", ["missing_markers", "not_json", "no_file", "check_without_readme"])
def test_bad_input_is_one_line_and_exit_2(case, verdicts, tmp_path):
    readme = tmp_path / "plain.md"
    readme.write_text("# no markers\n")
    args = {
        "missing_markers": (verdicts, "--readme", readme),
        "not_json": (readme, "--readme", readme_with_markers(tmp_path)),
        "no_file": (tmp_path / "nope.json",),
        "check_without_readme": (verdicts, "--check"),
    }[case]
    result = run(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert readme.read_text() == "# no markers\n"


def test_the_readme_has_one_generated_block():
    text = README.read_text()
    assert text.count("<!-- findings-table:start") == 1 and text.count("<!-- findings-table:end -->") == 1
    assert text.index("<!-- findings-table:start") < text.index("<!-- findings-table:end -->")


def test_runs_as_a_script(verdicts, tmp_path):
    readme = readme_with_markers(tmp_path)
    result = subprocess.run(
        [sys.executable, str(SCRIPT), str(verdicts), "--readme", str(readme), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 1 and "findings_table.py" in result.stderr


def test_the_real_block_is_generated_from_the_real_verdicts_only(tmp_path):
    """--real PRESET renders the lrc_real verdicts of the paper's claims between their own markers,
    leaves the findings table alone, and refuses a report without real verdicts."""
    numbers = {
        "rstar": [32, 16],
        "rstar_low": [16, 16],
        "rstar_high": [64, 32],
        "n_samples": [256, 512],
        "widths": [4, 8],
        "seeds": 3,
        "claimed_exponent": 0.5,
        "growth_law": "unidentified",
        "stability": 0.47,
        "precision": "float32",
    }
    records = [
        Verdict("optimal_rank", "lrc_real (SmolLM2; float32)", "inconclusive", "r* is flat.", numbers),
        Verdict("optimal_rank", "c4_rank (power law, alpha=1)", "holds", "grows", {"exponent": 0.5}),
    ]
    path = tmp_path / "verdicts.json"
    path.write_text(json.dumps([v.to_json() for v in records]))
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- findings-table:start -->\nold table\n<!-- findings-table:end -->\n"
        "<!-- real-quick:start -->\nold numbers\n<!-- real-quick:end -->\nafter\n"
    )
    assert run(path, "--readme", readme, "--real", "quick").returncode == 0
    text = readme.read_text()
    assert "old table" in text and "old numbers" not in text and "c4_rank" not in text
    assert "C4 optimal rank: **inconclusive**. r* = 32 [16, 64], 16 [16, 32] at N = 256, 512 tokens" in text
    assert "stability 0.47" in text and "precision float32" in text
    assert run(path, "--readme", readme, "--real", "quick", "--check").returncode == 0
    synthetic_only = tmp_path / "synthetic.json"
    synthetic_only.write_text(json.dumps([records[1].to_json()]))
    refused = run(synthetic_only, "--readme", readme, "--real", "quick")
    assert refused.returncode == 2 and "no lrc_real verdict" in refused.stderr
    assert run(path, "--readme", readme, "--real", "standard").returncode == 2  # no such block in this README
