"""Shared test settings: hypothesis profiles and the seed-range fixture.

Hypothesis profiles (chosen by LRKD_HYPOTHESIS_PROFILE):
  fast      (default) few examples, keeps the default run short;
  thorough  many examples, for a deliberate deep check (`make test-thorough`).
"""
import os

# One BLAS thread per process: tests run several processes at once on 2 cores, and a contended
# multi-threaded OpenBLAS made small SVDs 40x slower. Set before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "fast", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("LRKD_HYPOTHESIS_PROFILE", "fast"))

# scikit-learn style: a test taking `seed` runs for every seed in this range.
SEEDS = range(int(os.environ.get("LRKD_SEEDS", "5")))


@pytest.fixture(params=list(SEEDS), ids=lambda s: f"seed={s}")
def seed(request):
    """Every test that takes `seed` must pass for each seed; the id names the failing one."""
    return request.param
