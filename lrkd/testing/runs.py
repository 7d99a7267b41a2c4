"""Runs for tests: an experiment's runs (memoized per process), and SGD or rank-sweep runs on a
problem or teacher drawn by lrkd.testing's strategies.

Everything runs serially in the test process (a test suite parallelizes over tests, e.g. with
pytest-xdist, not inside one), without progress bars.
"""

from __future__ import annotations

from typing import Any, Sequence

import pandas as pd

from lrkd.config import to_json
from lrkd.executors import SerialExecutor
from lrkd.simulate.experiments import Runs, get_experiment
from lrkd.simulate.experiments.c1 import C1_QUADRATIC, ConvergenceRuns, QuadraticConfig
from lrkd.simulate.experiments.c2 import GeneralizationConfig
from lrkd.simulate.quadratic import Quadratic
from lrkd.simulate.sweeps import quadratic_sweep, rank_sweep
from lrkd.simulate.teachers import LinearTeacher
from lrkd.store import ResultStore

#: (experiment, its config as canonical JSON) -> the Runs: tests asking for the same config share
#: one run. A seeded config determines its runs, so the memo cannot serve stale results.
_RUNS: dict[tuple[str, str], Runs] = {}


def experiment_runs(experiment: str, preset: str = "quick", *, store: ResultStore | None = None, **overrides: Any):
    """The runs of a registered experiment, computed once per process for each config.

    Args:
        experiment: its name ("c1_quadratic", "c2_generalization", ... or a plugin's).
        preset: the named preset the config starts from.
        store: a results store finished cells are read from and written to (None: none).
        **overrides: config fields to change (checked like `lrkd run --set`), e.g. seeds=[0, 1].

    Returns:
        The experiment's Runs (what validate.check_claim reads).
    """
    found = get_experiment(experiment)
    config = found.config(preset, **overrides)
    key = (found.name, to_json(config))
    if key not in _RUNS:
        _RUNS[key] = found.run(config, store=store, executor=SerialExecutor(), progress=False)
    return _RUNS[key]


def quadratic_runs(
    problem: Quadratic,
    *,
    steps: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    device: str = "cpu",
    store: ResultStore | None = None,
) -> ConvergenceRuns:
    """SGD with the C1 step rule on a noisy quadratic, as c1_quadratic runs of that problem (so the
    C1 check corrects the T-exponent by the exact expected trajectory of this very problem).

    Args:
        problem: a simulate.Quadratic (e.g. drawn by `quadratic_problems()`).
        steps, seeds: step budgets and seeds (default: the c1_quadratic quick preset's).
        device: "cpu" by default: small problems run fastest there and give the same numbers on
            every machine.
        store: a results store for the cells (None: none).

    Returns:
        ConvergenceRuns of experiment c1_quadratic holding the trajectories and the problem.
    """
    defaults = QuadraticConfig()
    trajectory = quadratic_sweep(
        problem,
        defaults.steps if steps is None else steps,
        seeds=defaults.seeds if seeds is None else seeds,
        device=device,
        store=store,
        executor=SerialExecutor(),
        progress=False,
        experiment=C1_QUADRATIC.name,
    )
    return ConvergenceRuns(C1_QUADRATIC.name, "", {"trajectory": trajectory}, problem=problem)


def teacher_runs(
    teacher: LinearTeacher,
    *,
    ranks: Sequence[int] | None = None,
    sample_sizes: Sequence[int] | None = None,
    seeds: Sequence[int] | None = None,
    device: str = "cpu",
    store: ResultStore | None = None,
) -> pd.DataFrame:
    """Closed-form reduced-rank regression of a linear teacher over ranks x sample sizes x seeds.

    Args:
        teacher: a simulate.LinearTeacher (e.g. drawn by `linear_teachers()`).
        ranks: student ranks (default every rank 1 .. min(m, n)).
        sample_sizes, seeds: default the c2_generalization quick preset's.
        device: "cpu" by default (see quadratic_runs).
        store: a results store for the cells (None: none).

    Returns:
        The simulate.rank_sweep frame; validate.check_claim reads it as c2_generalization runs
        (c4_rank runs for rank claims), the teacher recovered from its columns.
    """
    defaults = GeneralizationConfig()
    return rank_sweep(
        teacher,
        list(range(1, min(teacher.m, teacher.n) + 1)) if ranks is None else ranks,
        defaults.sample_sizes if sample_sizes is None else sample_sizes,
        seeds=defaults.seeds if seeds is None else seeds,
        device=device,
        store=store,
        executor=SerialExecutor(),
        progress=False,
    )
