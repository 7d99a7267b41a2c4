"""`lrkd report` on a tiny plan, optionally stopped inside its writing: a helper the staging tests
run as a subprocess (so it can be SIGKILLed).

    python report_driver.py OUT SEEDS [BLOCK_FLAG]

The plan is one small c2_generalization grid (closed-form reduced-rank regression: SEEDS seeds x 2
ranks x 3 sample sizes), so a report takes seconds; the rest is the real `lrkd report --quick
--no-real --claims generalization --executor serial --out OUT`. Tests in the pytest process use
`tiny_plan` and `ARGS` of this module directly. With BLOCK_FLAG, the run writes the
report's figures into its staging folder, then writes that folder's path to BLOCK_FLAG and sleeps
until it is killed.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from lrkd.cli import main
from lrkd.cli import report as report_command
from lrkd.reports import plan, render
from lrkd.simulate.experiments.c2 import C2_GENERALIZATION

PRESET = "test_tiny"


ARGS = ["report", "--quick", "--no-real", "--claims", "generalization", "--executor", "serial"]


def tiny_plan(seeds: int, monkeypatch=None) -> None:
    """Replace the report's plan by one small c2_generalization grid of `seeds` seeds (through
    pytest's `monkeypatch` when given, so that a test in this process gets the real plan back)."""
    grid = {"seeds": list(range(seeds)), "ranks": [2, 4], "sample_sizes": [128, 256, 512]}

    def jobs(size, *, real, claims=None):
        return [plan.Job(C2_GENERALIZATION.name, PRESET)]

    if monkeypatch is None:
        C2_GENERALIZATION.presets[PRESET] = grid
        report_command.jobs = jobs
    else:
        monkeypatch.setitem(C2_GENERALIZATION.presets, PRESET, grid)
        monkeypatch.setattr(report_command, "jobs", jobs)


def block_after_figures(flag: Path) -> None:
    """Make the report stop for good once its figures are written, and say where (in `flag`)."""
    write_figures = render.write_figures

    def write_then_block(out_dir, outline):
        written = write_figures(out_dir, outline)
        flag.write_text(str(out_dir))
        time.sleep(600)
        return written

    render.write_figures = write_then_block


if __name__ == "__main__":
    out, seeds = sys.argv[1], int(sys.argv[2])
    tiny_plan(seeds)
    if len(sys.argv) > 3:
        block_after_figures(Path(sys.argv[3]))
    sys.exit(main([*ARGS, "--out", out]))
