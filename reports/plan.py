"""Which experiments a report runs, and running them: shared by `lrkd report` and `lrkd verify`.

A job is (experiment, preset). The quick plan is sized for a 2-core CPU (synthetic part about
2 minutes, the real LRC run a few more); the standard plan is the quick one with lrc_real's
standard preset (a real r*(N) law); the full plan is the publication size (see README).
`run_jobs` runs each job through the results store, so a killed report resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from lrkd import progress
from lrkd.simulate.experiments import Runs, get_experiment
from lrkd.store import ResultStore
from lrkd.validate import calibration, judge, registry
from lrkd.validate.engine.verdict import Verdict


@dataclass(frozen=True)
class Job:
    """One experiment at one preset; `real` marks the real-model jobs (`--no-real` drops them)."""

    experiment: str
    preset: str
    real: bool = False


#: The synthetic jobs of each report size.
SYNTHETIC_JOBS = {
    "quick": [
        Job("c1_quadratic", "quick"),
        Job("c1_lowrank", "quick"),
        Job("c2_generalization", "quick"),
        Job("c2_generalization", "quick_bounded"),
        Job("c3_information", "quick"),
        Job("c3_information", "quick_relu"),
        Job("c4_rank", "quick"),
        Job("c4_rank", "quick_exponential"),
    ],
    "full": [
        Job("c1_quadratic", "full"),
        Job("c1_lowrank", "full"),
        Job("c2_generalization", "full"),
        Job("c2_generalization", "full_bounded"),
        Job("c3_information", "full"),
        Job("c3_information", "full_relu"),
        Job("c4_rank", "full"),
        Job("c4_rank", "full_alpha_0.75"),
        Job("c4_rank", "full_alpha_1.5"),
        Job("c4_rank", "full_alpha_2"),
        Job("c4_rank", "full_exponential"),
    ],
}
# The standard report sizes the real run only (lrc_real's standard preset); its synthetic part is the quick one.
SYNTHETIC_JOBS["standard"] = SYNTHETIC_JOBS["quick"]
#: The real-model jobs of each report size (the teacher's spectra and SmolLM2 distillation). The
#: spectra come first: one cell (the whole teacher loaded, 12 s of SVDs) that is done while other
#: cells fill the cores, not alone at the end after the distillation's cells.
REAL_JOBS = {
    "quick": [Job("teacher_spectra", "quick", real=True), Job("lrc_real", "quick", real=True)],
    "full": [Job("teacher_spectra", "full", real=True), Job("lrc_real", "full", real=True)],
    "standard": [Job("teacher_spectra", "quick", real=True), Job("lrc_real", "standard", real=True)],
}


def jobs(size: str, *, real: bool, claims: Iterable[str] | None = None) -> list[Job]:
    """The plan of a report size, optionally without the real-model jobs, restricted to `claims`.

    Args:
        size: "quick", "standard" or "full".
        real: keep the real-model jobs (REAL_JOBS).
        claims: claim ids; None keeps every job, else only the jobs whose experiment checks one of them
            (validate.registry.claims_of).

    Returns:
        The jobs in run order (may be empty when no planned experiment checks `claims`).
    """
    plan = SYNTHETIC_JOBS[size] + (REAL_JOBS[size] if real else [])
    if claims is None:
        return plan
    wanted = set(claims)
    return [j for j in plan if wanted & set(registry.claims_of(get_experiment(j.experiment)))]


def run_jobs(
    plan: list[Job], *, store: ResultStore | None, executor=None, device: str = "auto", then=None
) -> list[Runs]:
    """Run (or resume) every job through the results store, one progress line per job.

    Args:
        plan: the jobs (jobs()).
        store: the results store; finished cells are read back, not rerun (None: nothing stored).
        executor: where the cells run (lrkd.executors; None: lrkd.sweep.run_grid's default, a local pool).
        device: "auto", "cpu" or "cuda", passed to experiments whose config has a `device` key.
        then: None, or called with each job's Runs as soon as they are in, before the next job
            starts (the report decides a job's verdicts there).

    Returns:
        Their Runs, in plan order (with `then`: what it returned for each).
    """
    results = []
    for i, job in enumerate(plan, start=1):
        experiment = get_experiment(job.experiment)
        overrides = {"device": device} if "device" in experiment.config_type.__dataclass_fields__ else {}
        config = experiment.config(job.preset, **overrides)
        progress.note(f"[{i}/{len(plan)}] {job.experiment} ({job.preset})")
        runs = experiment.run(config, store=store, executor=executor, progress=None)
        results.append(runs if then is None else then(runs))
    return results


def all_verdicts(runs: list[Runs], claims: Iterable[str] | None = None) -> list[Verdict]:
    """Every claim checked on every experiment's runs.

    Args:
        runs: the Runs of the plan.
        claims: claim ids to keep (None: every claim each experiment checks).

    Returns:
        The verdicts (validate.judge.check_claim), experiment by experiment.
    """
    wanted = set(claims) if claims is not None else None
    return [
        judge.check_claim(claim, r)
        for r in runs
        for claim in judge.claims_checked_by(r)
        if wanted is None or claim.id in wanted
    ]


def calibration_verdicts(
    *, seeds=calibration.CALIBRATION_SEEDS, store=None, executor=None, progress=None
) -> list[Verdict]:
    """Planted claims on the calibration runs (validate.calibration.CALIBRATION_SIZES), at each
    calibration seed, run through the report's store and pool.

    Args:
        seeds: the calibration seeds (default 0..4).
        store, executor: the report's results store and pool (resumable like the plan's runs).
        progress: called with a line per seed.

    Returns:
        One scored verdict per planted claim and seed (numbers["calibration_seed"]).
    """
    return calibration.calibrate_seeds(seeds=seeds, executor=executor, store=store, progress=progress)
