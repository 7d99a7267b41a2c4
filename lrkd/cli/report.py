"""`lrkd report`: run (or resume) every claim's experiments, decide, and write the report.

Steps: run the plan (reports/plan.py) through the results store in OUT/results.db; check every
claim on every experiment (validate/); score the planted claims; export every table as CSV and
Parquet under OUT/data/; write report.md, report.html, figures, verdicts.json, calibration.json
and config.json (reports/render.py); print the verdict table.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from pathlib import Path

from lrkd import theory
from lrkd import progress
from lrkd.executors import executor_for
from lrkd.device import resolve, describe
from lrkd.errors import InputError
from lrkd.provenance import environment
from lrkd.store import ResultStore
from lrkd.reports.plan import all_verdicts, calibration_verdicts, jobs, run_jobs
from lrkd.reports.render import ReportContext, write_report
from lrkd.validate.engine.checks import MAX_EXPONENT_CI_WIDTH
from lrkd.validate.engine.verdict import LABELS

SAMPLE_SIZE_MEANING = (
    "N counts i.i.d. (input, label) pairs in the synthetic runs and training tokens (token budget) in the real LRC run."
)


def run(
    *,
    size: str = "quick",
    out: Path = Path("lrkd-report"),
    device: str = "auto",
    claims: str | None = None,
    real: bool = True,
    workers: int | None = None,
    executor: str = "local",
    scheduler: str | None = None,
) -> int:
    """The main job. Returns the process exit code."""
    start = time.perf_counter()
    claim_ids = _claim_filter(claims)
    dev = resolve(device)
    pool = executor_for(workers, executor, scheduler)
    require_writable_folder(out, "--out")
    store = ResultStore(out / "results.db")
    plan = jobs(size, real=real, claims=claim_ids)
    progress.note(f"lrkd report ({size}): {len(plan)} experiments on {describe(dev)}, results in {store.path}")
    with pool:  # connects to the Dask scheduler (or starts a cluster) before the first cell
        runs = run_jobs(plan, store=store, executor=pool, device=device)
    verdicts = all_verdicts(runs, claim_ids)
    calibration = calibration_verdicts(runs) if claim_ids is None else []
    data_files = export_tables(runs, out / "data")
    ctx = ReportContext(
        title="lrkd validation report: low-rank knowledge distillation claims",
        size=size,
        verdicts=verdicts,
        claims=list(theory.all_claims()),
        calibration=calibration,
        config={
            "size": size,
            "device": device,
            "claims": claim_ids,
            "real": real,
            "experiments": [{"experiment": j.experiment, "preset": j.preset} for j in plan],
        },
        provenance={**environment(), "device": describe(dev)},
        data_files=data_files,
        notes=_notes(real),
        wall_time_s=time.perf_counter() - start,
        created_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        sample_size_meaning=SAMPLE_SIZE_MEANING,
    )
    written = write_report(out, ctx)
    print_summary(verdicts, calibration, out / "report.html", written)
    return 0


def require_writable_folder(folder: Path, field: str) -> None:
    """Create `folder` and prove a file can be written in it, before any long work starts."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / ".lrkd-write-check"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            field, f"cannot write to {folder} ({exc.strerror or exc}); give a folder you can create and write"
        ) from None


def _claim_filter(claims: str | None) -> list[str] | None:
    if not claims:
        return None
    ids = [c.strip() for c in claims.split(",") if c.strip()]
    known = {c.id for c in theory.all_claims()}
    unknown = [c for c in ids if c not in known]
    if unknown:
        raise InputError("--claims", f"unknown claim id {unknown[0]!r}; known: {', '.join(sorted(known))}")
    return ids


def export_tables(runs, folder: Path) -> list[str]:
    """Every table of every experiment as CSV and Parquet; returns paths relative to the report."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for r in runs:
        for name, table in r.items():
            stem = f"{_slug(r.name)}.{name}"
            table.to_csv(folder / f"{stem}.csv", index=False)
            table.to_parquet(folder / f"{stem}.parquet", index=False)
            written += [f"{folder.name}/{stem}.csv", f"{folder.name}/{stem}.parquet"]
    return written


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


def _notes(real: bool) -> list[str]:
    notes = [
        "Verdict codes follow claims.md: holds; holds, not tight; violated; vacuous; assumptions not met; "
        "inconclusive. A verdict applies to the sizes run here: exponents are local slopes over the grid, "
        "compared with what theory predicts on the same grid where it can (the finite-size offset), with no "
        f"tolerance; an exponent interval wider than {MAX_EXPONENT_CI_WIDTH:g} cannot confirm a claim "
        "(inconclusive), and each verdict prints its resolution (validate/engine/checks.py)."
    ]
    if not real:
        notes.append("The real language-model run was skipped (--no-real).")
    return notes


def print_summary(verdicts, calibration, html: Path, written) -> None:
    width = max((len(v.claim) for v in verdicts), default=5)
    for v in verdicts:
        print(f"{v.claim:<{width}}  {LABELS[v.code]:<20}  {v.experiment}")
    if calibration:
        correct = sum(bool(v.numbers.get("correct")) for v in calibration)
        print(f"calibration: {correct} of {len(calibration)} planted claims classified correctly")
        for v in calibration:  # a miss is a finding about the engine: name it where it is seen
            if not v.numbers.get("correct"):
                print(f"  missed: {v.claim}: expected {' or '.join(v.numbers.get('accepted', []))}, got {v.code}")
    print(f"report: {html} ({len(written)} files)")
