"""Shared test settings: hypothesis profiles and the seed-range fixture.

Hypothesis profiles (chosen by LRKD_HYPOTHESIS_PROFILE):
  fast      (default) few examples, keeps the default run short;
  thorough  many examples, for a deliberate deep check (`make test-thorough`).
"""

import os

# One BLAS thread per process: tests run several processes at once on 2 cores, and a contended
# multi-threaded OpenBLAS made small SVDs 40x slower. Set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# Warnings are errors (pyproject's filterwarnings) in the processes tests start too: the CLI and
# report runs, dask workers. PYTHONWARNINGS=default overrides it for a look at what they warn.
os.environ.setdefault("PYTHONWARNINGS", "error")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("fast", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("LRKD_HYPOTHESIS_PROFILE", "fast"))

# scikit-learn style seed range (its SKLEARN_TESTS_GLOBAL_RANDOM_SEED): a test taking `seed` runs
# for every seed LRKD_SEEDS names. Unset means 0-4, the seeds the acceptance lines speak of.
#   LRKD_SEEDS=any    one seed in 0..99, drawn afresh each run (the header names it)
#   LRKD_SEEDS=all    every seed 0..99
#   LRKD_SEEDS=7      just seed 7 (reproduce a failure)
#   LRKD_SEEDS=3-9    seeds 3..9 inclusive
ALL_SEEDS = range(100)


def parse_seeds(text: str | None) -> list[int]:
    """The seeds an LRKD_SEEDS value names; a bad value is a one-line usage error."""
    text = (text or "0-4").strip()
    if text == "any":
        import random

        return [random.Random().choice(ALL_SEEDS)]
    if text == "all":
        return list(ALL_SEEDS)
    low, sep, high = text.partition("-")
    try:
        first, last = int(low), int(high) if sep else int(low)
    except ValueError:
        raise pytest.UsageError(f"LRKD_SEEDS must be any, all, an integer or a range a-b; got {text!r}") from None
    if not 0 <= first <= last:
        raise pytest.UsageError(f"LRKD_SEEDS range must satisfy 0 <= a <= b; got {text!r}")
    return list(range(first, last + 1))


SEEDS = parse_seeds(os.environ.get("LRKD_SEEDS"))


def pytest_report_header(config):
    shown = f"{SEEDS[0]}-{SEEDS[-1]}" if len(SEEDS) > 1 else str(SEEDS[0])
    return (
        f"lrkd seeds: {shown} (LRKD_SEEDS={os.environ.get('LRKD_SEEDS', '0-4')}); reproduce a failing "
        "test's seed with LRKD_SEEDS=<seed> pytest <test id>"
    )


@pytest.fixture(params=SEEDS, ids=lambda s: f"seed={s}")
def seed(request):
    """Every test that takes `seed` must pass for each seed; the id names the failing one."""
    return request.param
