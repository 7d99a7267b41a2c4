"""Which experiments a report runs, and running them: shared by `lrkd report` and `lrkd verify`.

A job is (experiment, preset). The quick plan is sized for a 2-core CPU (synthetic part about
2 minutes, the real LRC run a few more); the full plan is the publication size (see README).
`run_jobs` runs each job through the results store, so a killed report resumes where it stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from lrkd import progress
from lrkd.simulate.experiments import get_experiment
from lrkd.store import ResultStore
from lrkd.simulate.experiments import Runs
from lrkd.validate import calibration, registry
from lrkd.validate import judge as verdicts
from lrkd.validate.engine.verdict import Verdict


@dataclass(frozen=True)
class Job:
    experiment: str
    preset: str
    real: bool = False


SYNTHETIC = {
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
REAL = {
    "quick": [Job("lrc_real", "quick", real=True), Job("teacher_spectra", "quick", real=True)],
    "full": [Job("lrc_real", "full", real=True), Job("teacher_spectra", "full", real=True)],
}


def jobs(size: str, *, real: bool, claims: Iterable[str] | None = None) -> list[Job]:
    """The plan for a size, optionally without the real run, restricted to jobs checking `claims`."""
    plan = SYNTHETIC[size] + (REAL[size] if real else [])
    if claims is None:
        return plan
    wanted = set(claims)
    return [j for j in plan if wanted & set(registry.claims_of(get_experiment(j.experiment)))]


def run_jobs(plan: list[Job], *, store: ResultStore | None, executor=None, device: str = "auto") -> list[Runs]:
    """Run (or resume) every job; returns their Runs in plan order."""
    results = []
    for i, job in enumerate(plan, start=1):
        experiment = get_experiment(job.experiment)
        overrides = {"device": device} if "device" in experiment.config_type.__dataclass_fields__ else {}
        config = experiment.config(job.preset, **overrides)
        progress.note(f"[{i}/{len(plan)}] {job.experiment} ({job.preset})")
        results.append(experiment.run(config, store=store, executor=executor, progress=None))
    return results


def all_verdicts(runs: list[Runs], claims: Iterable[str] | None = None) -> list[Verdict]:
    """Every claim checked on every experiment's runs (restricted to `claims` when given)."""
    wanted = set(claims) if claims is not None else None
    return [
        verdicts.check_claim(claim, r)
        for r in runs
        for claim in verdicts.claims_checked_by(r)
        if wanted is None or claim.id in wanted
    ]


def calibration_verdicts(runs: list[Runs]) -> list[Verdict]:
    """Planted claims on the runs they need (validate.calibration.sources picks them)."""
    return calibration.calibrate(runs)
