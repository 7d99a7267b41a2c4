"""`lrkd report`: run (or resume) every claim's experiments, decide, and write the report.

Steps: check every option (bad input is one line and exit code 2 before any work); run the plan
(reports/plan.py) through the results store OUT/results.db; check every claim on every experiment
(validate/); score the planted claims (validate.calibration, in a second process while the plan
runs: `_beside`); export every table as CSV and Parquet under data/; write report.md,
report.html, figures, verdicts.json, calibration.json and config.json (reports/render.py); print
the verdict table.

The report is written into a staging folder beside OUT and swapped into place when complete
(lrkd/staging.py), so a failed or killed run leaves the previous report whole. The results store
stays at OUT/results.db all along and is written cell by cell as runs finish (the LRC checkpoints
beside it in OUT/lrc/): a killed run loses only the cells in flight, and a rerun resumes from the
store. The swap carries the store and checkpoints into the new folder by hard links.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import re
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lrkd import progress, theory
from lrkd.device import device_label, resolve
from lrkd.paths import require_writable_folder
from lrkd.errors import InputError
from lrkd.executors import SerialExecutor, executor_for
from lrkd.provenance import environment
from lrkd.reports.plan import all_verdicts, calibration_verdicts, jobs, run_jobs
from lrkd.reports.render import ReportContext, hit_rate_text, write_report
from lrkd.simulate.experiments.real import LRC_REAL
from lrkd.staging import staged
from lrkd.store import ResultStore
from lrkd.validate.advice import calibrate_advice, real_run_advice
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
        size: "quick", "standard" or "full" (reports/plan.py).
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
        with pool, _beside(claim_ids is None, store.path) as calibrating:
            # connects to the Dask scheduler (or starts a cluster) before the first cell
            runs = _run_overlapped(plan, store=store, executor=pool, device=device)
            calibration, advice = calibrating.result() if calibrating is not None else ([], None)
        verdicts = all_verdicts(runs, claim_ids)
        real_advice = real_run_advice(runs) if claim_ids is None or "optimal_rank" in claim_ids else []
        data_files = export_tables(runs, stage / "data")
        ctx = ReportContext(
            title="lrkd validation report: low-rank knowledge distillation claims",
            size=size,
            verdicts=verdicts,
            claims=list(theory.all_claims()),
            calibration=calibration,
            advice_calibration=advice,
            real_advice=real_advice,
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


def _run_overlapped(plan: list, *, store, executor, device: str) -> list:
    """run_jobs, with the synthetic jobs (their cells in the pool) in a thread while the real ones run
    here, on one torch thread: the real run is serial cells (simulate.experiments.real) too small for
    a second thread to pay, and two threads sharing the CPU with the pool and the calibration beside
    it wait on each other. One thread also gives its numbers on any number of cores.

    Args:
        plan: the jobs (reports.plan.jobs).
        store, executor, device: as run_jobs takes them.

    Returns:
        The Runs in plan order.
    """
    import torch

    synthetic = [j for j in plan if not j.real]
    real = [j for j in plan if j.real]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=1) as background:
            pending = background.submit(run_jobs, synthetic, store=store, executor=executor, device=device)
            real_runs = run_jobs(real, store=store, executor=executor, device=device)
            done = dict(zip(synthetic, pending.result())) | dict(zip(real, real_runs))
    finally:
        torch.set_num_threads(threads)
    return [done[j] for j in plan]


@contextlib.contextmanager
def _beside(wanted: bool, store_path: Path):
    """The calibration (planted claims at every calibration seed, and the rank advice's) in a second
    process while the plan runs: the real run is one process at about one core, so the calibration
    fills the other one instead of running after it (the quick report's wall time). The calibration
    cells go to the same results store (WAL: several processes may write) and resume like the plan's.
    If the plan fails or is interrupted, the process is terminated with it.

    Args:
        wanted: False (a --claims selection): no calibration, yields None.
        store_path: the report's results store.

    Yields:
        An object whose result() waits for (scored planted verdicts, calibrate_advice's table), or None.
    """
    if not wanted:
        yield None
        return
    context = multiprocessing.get_context("forkserver")  # as lrkd.executors' local pool: no forked torch threads
    results = context.Queue()
    process = context.Process(target=_calibrate, args=(str(store_path), progress.is_quiet(), results), daemon=True)
    process.start()
    try:
        yield _Side(process, results)
    finally:
        if process.is_alive():
            process.terminate()
        process.join()


@dataclass
class _Side:
    process: Any
    results: Any

    def result(self) -> tuple[list, Any]:
        """Wait for the calibration process's answer; its error is raised here."""
        ok, value = self.results.get()  # before join: a large answer would block the child's exit
        if not ok:
            raise RuntimeError(f"the report's calibration failed: {value}")
        return value


def _calibrate(store_path: str, quiet: bool, results) -> None:
    """The report's calibration, run by _beside's process: serial there (the pool's workers belong to
    the plan), one torch thread.

    Args:
        store_path: the results store.
        quiet: --quiet (no progress lines).
        results: the queue that receives (True, (calibration_verdicts, calibrate_advice's table)), or
            (False, the error's text).
    """
    import torch

    torch.set_num_threads(1)
    progress.set_quiet(quiet)
    try:
        store = ResultStore(store_path)
        calibration = calibration_verdicts(store=store, executor=SerialExecutor(), progress=progress.note)
        results.put((True, (calibration, calibrate_advice(progress=progress.note))))
    except Exception as exc:  # the parent raises it (with its one-line message) where it waits
        results.put((False, f"{type(exc).__name__}: {exc}"))


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
