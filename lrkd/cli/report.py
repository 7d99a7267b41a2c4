"""`lrkd report`: run (or resume) every claim's experiments, decide, and write the report.

Steps: check every option (bad input is one line and exit code 2 before any work); run the plan
(reports/plan.py) through the results store OUT/results.db; check every claim on every experiment
(validate/); score the planted claims (validate.calibration); export every table as CSV and
Parquet under data/; write report.md, report.html, figures, verdicts.json, calibration.json and
config.json (reports/render.py); print the verdict table.

The report is written into a staging folder beside OUT and swapped into place when complete
(lrkd/staging.py), so a failed or killed run leaves the previous report whole. The results store
stays at OUT/results.db all along and is written cell by cell as runs finish (the LRC checkpoints
beside it in OUT/lrc/): a killed run loses only the cells in flight, and a rerun resumes from the
store. The swap carries the store and checkpoints into the new folder by hard links.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from pathlib import Path

from lrkd import progress, theory
from lrkd.device import device_label, resolve
from lrkd.paths import require_writable_folder
from lrkd.errors import InputError
from lrkd.executors import executor_for
from lrkd.provenance import environment
from lrkd.reports.plan import all_verdicts, calibration_verdicts, jobs, run_jobs
from lrkd.reports.render import ReportContext, hit_rate_text, write_report
from lrkd.simulate.experiments.real import LRC_REAL
from lrkd.staging import staged
from lrkd.store import ResultStore
from lrkd.validate.advice import calibrate_advice
from lrkd.validate.calibration import misclassified
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
    """`lrkd report`: run (or resume) the plan, decide every verdict and write the report to `out`.

    Args:
        size: "quick" or "full" (reports/plan.py).
        out: the report folder; replaced whole when the report is complete.
        device: "auto", "cpu" or "cuda".
        claims: `--claims`: comma-separated claim ids (None: every claim).
        real: include the real-model jobs (`--no-real` is False).
        workers, executor, scheduler: where cells run (lrkd.executors.executor_for).

    Returns:
        The exit code (0). Bad input raises InputError before any run starts.
    """
    start = time.perf_counter()
    claim_ids = claim_filter(claims)
    dev = resolve(device)
    pool = executor_for(workers, executor, scheduler)
    plan = jobs(size, real=real, claims=claim_ids)
    if not plan:  # e.g. --no-real with claims only the real run checks
        raise InputError(
            "--claims", f"no experiment of the {size} plan{'' if real else ' without the real run'} checks {claims}"
        )
    with staged(out, "--out") as stage:
        require_writable_folder(out, "--out")
        store = ResultStore(out / "results.db")
        progress.note(f"lrkd report ({size}): {len(plan)} experiments on {device_label(dev)}, results in {store.path}")
        with pool:  # connects to the Dask scheduler (or starts a cluster) before the first cell
            runs = run_jobs(plan, store=store, executor=pool, device=device)
            calibration = (
                calibration_verdicts(store=store, executor=pool, progress=progress.note) if claim_ids is None else []
            )
            advice = calibrate_advice(progress=progress.note) if claim_ids is None else None
        verdicts = all_verdicts(runs, claim_ids)
        data_files = export_tables(runs, stage / "data")
        ctx = ReportContext(
            title="lrkd validation report: low-rank knowledge distillation claims",
            size=size,
            verdicts=verdicts,
            claims=list(theory.all_claims()),
            calibration=calibration,
            advice_calibration=advice,
            config={
                "size": size,
                "device": device,
                "claims": claim_ids,
                "real": real,
                "experiments": [{"experiment": j.experiment, "preset": j.preset} for j in plan],
            },
            provenance={**environment(), "device": device_label(dev), **lrc_precision(runs)},
            data_files=data_files,
            notes=_notes(real),
            wall_time_s=time.perf_counter() - start,
            created_at=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            sample_size_meaning=SAMPLE_SIZE_MEANING,
        )
        written = write_report(stage, ctx)
    print_summary(verdicts, calibration, out / "report.html", written)
    return 0


def claim_filter(claims: str | None) -> list[str] | None:
    """The claim ids of `--claims`.

    Args:
        claims: the option's text, None when it was not given.

    Returns:
        The ids in the order given, or None (every claim) when the option was not given.

    Raises:
        InputError: naming --claims and the known ids, when the text names no claim (e.g. "" or
            ",") or names an unknown one.
    """
    if claims is None:
        return None
    ids = [c.strip() for c in claims.split(",") if c.strip()]
    known = sorted(c.id for c in theory.all_claims())
    if not ids:
        raise InputError("--claims", f"names no claim id, got {claims!r}; give one or more of: {', '.join(known)}")
    unknown = [c for c in ids if c not in known]
    if unknown:
        raise InputError("--claims", f"unknown claim id {unknown[0]!r}; known: {', '.join(known)}")
    return ids


def lrc_precision(runs) -> dict[str, dict[str, list[str]]]:
    """The precision the real LRC runs computed in, read from their tables' `dtype` column (the
    resolved precision each cell recorded: "float32", "bfloat16-autocast" or "float64";
    simulate.lrc.train.resolved_dtype). Read from the runs, not resolved again here, so a report
    resumed on other hardware names what its stored runs used.

    Args:
        runs: the Runs of the plan.

    Returns:
        {"lrc_precision": {table: sorted distinct precisions}} when the plan ran lrc_real, else {}.
    """
    found = {}
    for r in runs:
        if r.experiment != LRC_REAL.name:
            continue
        for name, table in r.items():
            # A table whose rows do not record the precision shows the cell's request there ("auto").
            values = sorted({str(v) for v in table["dtype"].dropna()} - {"auto"}) if "dtype" in table.columns else []
            if values:
                found[name] = values
    return {"lrc_precision": found} if found else {}


def export_tables(runs, folder: Path) -> list[str]:
    """Every table of every experiment as CSV and Parquet.

    Args:
        runs: the Runs of the plan.
        folder: where the files go (created), a folder of the report.

    Returns:
        The files' paths relative to the report folder ("data/<experiment>.<table>.csv", ...).
    """
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
    """Print the verdict table, the calibration's hit rate with every miss, and where the report is.

    Args:
        verdicts: the report's verdicts.
        calibration: the scored planted verdicts (may be empty).
        html: the report's HTML file.
        written: the files written (counted).
    """
    width = max((len(v.claim) for v in verdicts), default=5)
    for v in verdicts:
        print(f"{v.claim:<{width}}  {LABELS[v.code]:<20}  {v.experiment}")
    if calibration:
        print(f"calibration: {hit_rate_text(calibration)}")
        for miss in misclassified(calibration):  # a miss is a finding about the engine: name it where it is seen
            print(f"  missed: {miss}")
    print(f"report: {html} ({len(written)} files)")
