"""`lrkd report`: run (or resume) every claim's experiments, decide, and write the report.

Steps: check every option (bad input is one line and exit code 2 before any work); run the plan
(reports/plan.py) through the results store OUT/results.db, and check every claim on every
experiment (validate/) as soon as its runs are in (`_run_overlapped`: the synthetic and the real
jobs in two lanes, their cells in the pool); score the planted claims and the rank advice
(validate.calibration, validate.advice, in two processes of their own while the plan runs:
`_beside`); export every table as CSV and Parquet under data/; write report.md, report.html,
figures (drawn in the pool), verdicts.json, calibration.json and config.json (reports/render.py);
print the verdict table.

Where the time goes (quick report, 2 cores): about 600 s of CPU, two thirds of it the real run's
cells, spread over both cores from the start; what runs on one core alone at the end (the last
real verdicts, then the figures on both) takes about half a minute.

The report is written into a staging folder beside OUT and swapped into place when complete
(lrkd/staging.py), so a failed or killed run leaves the previous report whole. The results store
stays at OUT/results.db all along and is written cell by cell as runs finish (the LRC checkpoints
beside it in OUT/lrc/): a killed run loses only the cells in flight, and a rerun resumes from the
store. The swap carries the store and checkpoints into the new folder by hard links.
"""

from __future__ import annotations

import contextlib
import os
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
from lrkd.executors import ProcessExecutor, SerialExecutor, executor_for, exit_with, limit_threads, worker_context
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
            runs, verdicts = _run_overlapped(plan, claim_ids, store=store, executor=pool, device=device)
            calibration, advice = calibrating.result() if calibrating is not None else ([], None)
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
        # the figures on every core; --executor serial keeps everything in this process (debugging)
        figures = SerialExecutor() if executor == "serial" else ProcessExecutor(workers)
        written = write_report(stage, ctx, executor=figures)
    print_summary(verdicts, calibration, out / "report.html", written)
    return 0


def _run_overlapped(plan: list, claims: list[str] | None, *, store, executor, device: str) -> tuple[list, list]:
    """run_jobs and all_verdicts in two lanes: the synthetic jobs and their verdicts in a thread,
    the real ones here; each lane's cells run in the pool (the real ones too, on a CPU:
    simulate.experiments.real.cells_executor). A lane's verdicts are decided as soon as its runs are
    in, while the other lane's cells still fill the cores, so that little is left to run on one
    core at the end. This process computes on one torch and one BLAS thread meanwhile (the pool's
    workers and the calibration beside it use the cores).

    Args:
        plan: the jobs (reports.plan.jobs).
        claims: claim ids to decide (None: every claim), as all_verdicts takes them.
        store, executor, device: as run_jobs takes them.

    Returns:
        (the Runs in plan order, their verdicts in plan order).
    """
    import torch
    from threadpoolctl import threadpool_limits

    def lane(jobs: list) -> list[tuple]:
        return run_jobs(
            jobs, store=store, executor=executor, device=device, then=lambda r: (r, all_verdicts([r], claims))
        )

    synthetic = [j for j in plan if not j.real]
    real = [j for j in plan if j.real]
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with ThreadPoolExecutor(max_workers=1) as background, threadpool_limits(1, user_api="blas"):
            pending = background.submit(lane, synthetic)
            done = dict(zip(real, lane(real)))
            done |= dict(zip(synthetic, pending.result()))
    finally:
        torch.set_num_threads(threads)
    ordered = [done[j] for j in plan]
    return [r for r, _ in ordered], [v for _, vs in ordered for v in vs]


@contextlib.contextmanager
def _beside(wanted: bool, store_path: Path):
    """The calibrations, each in a process of its own while the plan runs: the planted claims at
    every calibration seed (about 60 s of CPU in a quick report) and the rank advice's (about 50 s).
    Started first and run beside the plan's cells, they fill the cores instead of running after
    them; as two processes they end with the plan's cells, where one process holding both was the
    last to end (20 s after the real run, on one core). The planted claims' cells go to the same
    results store (WAL: several processes may write) and resume like the plan's. If the plan fails
    or is interrupted, the processes are terminated with it.

    Args:
        wanted: False (a --claims selection): no calibration, yields None.
        store_path: the report's results store.

    Yields:
        An object whose result() waits for (scored planted verdicts, calibrate_advice's table), or None.
    """
    if not wanted:
        yield None
        return
    context = worker_context()  # as lrkd.executors' local pool: no forked torch threads
    sides = []
    try:
        for task in (_planted_claims, _advice_calibration):
            results = context.Queue()
            process = context.Process(
                target=_side_task, args=(task, str(store_path), progress.is_quiet(), results, os.getpid()), daemon=True
            )
            process.start()
            sides.append(_Side(process, results))
        yield _Calibrations(*sides)
    finally:
        for side in sides:
            if side.process.is_alive():
                side.process.terminate()
            side.process.join()


@dataclass
class _Side:
    process: Any
    results: Any

    def result(self) -> Any:
        """Wait for the process's answer; its error is raised here."""
        ok, value = self.results.get()  # before join: a large answer would block the child's exit
        if not ok:
            raise RuntimeError(f"the report's calibration failed: {value}")
        return value


@dataclass
class _Calibrations:
    planted: _Side
    advice: _Side

    def result(self) -> tuple[list, Any]:
        """(scored planted verdicts, calibrate_advice's table), waiting for both processes."""
        return self.planted.result(), self.advice.result()


def _side_task(task, store_path: str, quiet: bool, results, owner: int) -> None:
    """Run one of the report's calibrations in _beside's process: serial there (the pool's workers
    belong to the plan), one torch and one BLAS thread.

    Args:
        task: _planted_claims or _advice_calibration (store -> result).
        store_path: the results store.
        quiet: --quiet (no progress lines).
        results: the queue that receives (True, the task's result) or (False, the error's text).
        owner: the report's process (this one ends soon after it: lrkd.executors.exit_with).
    """
    exit_with(owner)
    limit_threads(1)
    progress.set_quiet(quiet)
    try:
        results.put((True, task(ResultStore(store_path))))
    except Exception as exc:  # the parent raises it (with its one-line message) where it waits
        results.put((False, f"{type(exc).__name__}: {exc}"))


def _planted_claims(store: ResultStore) -> list:
    """The planted claims scored at every calibration seed (their cells through the store)."""
    return calibration_verdicts(store=store, executor=SerialExecutor(), progress=progress.note)


def _advice_calibration(store: ResultStore) -> Any:
    """calibrate_advice's table (closed-form RRR: nothing to store)."""
    return calibrate_advice(progress=progress.note)


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
