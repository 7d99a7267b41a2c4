"""Fixtures of the validate tests: the small runs calibration is tested on."""

from __future__ import annotations

import functools
from typing import Callable

import pytest

from lrkd.simulate.experiments import Runs
from lrkd.validate.calibration import calibration_runs


def make_small_runs(*, seed: int) -> tuple[Runs, ...]:
    """The runs calibration reads (validate.calibration.CALIBRATION_SIZES) for calibration seed `seed`."""
    return calibration_runs(seed=seed)


@pytest.fixture(scope="session")
def small_runs() -> Callable[..., tuple[Runs, ...]]:
    """small_runs(seed=s) -> `make_small_runs(seed=s)`, computed once per seed for the session (the
    calibration and the mutation tests share it; the last 8 seeds are kept, as LRKD_SEEDS=all runs 100)."""
    return functools.lru_cache(maxsize=8)(make_small_runs)
