"""Nested growth laws tested as nested (issue 19): with the truth fixed, more sizes never move a C4
verdict away from it.

The constant law is the power law at q = 0 (and the logarithm at b = 0). Compared by AICc alone, a
perfectly flat r* loses ground as sizes are added: every law fits it with chi^2 = 0, and the
constant's only advantage, its smaller penalty, shrinks toward 2 (gap 6.7 at 5 sizes, 4.2 at 7, 3.4
at 9, against IDENTIFY_DELTA = 6). validate.engine.growth decides constant against growing by the
slope's interval instead (module docstring there), and power law against logarithm, which are not
nested, by AICc.

Part 1 plants r*(N) curves; part 2 runs the acceptance of issue 19 as a user would, with
theory.Claim.from_formula and validate.check_claim: an exact rank-5 teacher's O(1) holds at 5, 7
and 9 sample sizes, and a sqrt-growth teacher's O(1) is violated at each.
"""

import numpy as np
import pytest

from lrkd import simulate, theory
from lrkd.simulate.experiments.c4 import RankRuns
from lrkd.sweep import SerialExecutor
from lrkd.validate import check_claim
from lrkd.validate.claims.c4_planted import exact_rank_run
from lrkd.validate.engine import growth
from lrkd.validate.engine.growth import IDENTIFY_DELTA, RESOLUTION, fit_growth_laws, nested_test

SIZE_COUNTS = (5, 7, 9)


def sizes_over(count, low=256, high=16384):
    """`count` sample sizes spread geometrically over [low, high] (6 octaves by default)."""
    return np.unique(np.round(np.geomspace(low, high, count)).astype(int))


# -- part 1: planted curves --------------------------------------------------------------------
@pytest.mark.parametrize("count", SIZE_COUNTS)
def test_a_flat_curve_is_a_constant_at_every_number_of_sizes(count):
    n = sizes_over(count)
    fit = fit_growth_laws(n, np.full(n.size, 5.0), np.zeros(n.size))
    assert fit.nested == "constant" and fit.best == "constant" and fit.identified
    low, high = fit.exponent_ci
    assert low <= 0 <= high and max(-low, high) <= RESOLUTION / 2
    if count > 5:  # what the nested test replaces: AICc alone would leave these unidentified
        assert fit.laws["power_law"].aicc - fit.laws["constant"].aicc < IDENTIFY_DELTA


def test_more_sizes_only_narrow_a_flat_curves_interval():
    widths = []
    for count in range(4, 14):
        n = sizes_over(count)
        fit = fit_growth_laws(n, np.full(n.size, 5.0), np.zeros(n.size))
        assert fit.identified and fit.best == "constant", count
        widths.append(fit.exponent_ci[1] - fit.exponent_ci[0])
    assert np.all(np.diff(widths) < 0), widths


@pytest.mark.parametrize("count", SIZE_COUNTS)
def test_a_growing_curve_is_never_called_constant(count):
    n = sizes_over(count)
    root = np.floor(2 * (n / n[0]) ** 0.5)  # a sqrt staircase, as r* is measured
    logarithm = np.floor(1 + np.log(n / n[0]) / 0.6)
    for curve in (root, logarithm):
        fit = fit_growth_laws(n, curve, np.zeros(n.size))
        assert fit.nested == "not_constant" and fit.grows and fit.best != "constant", curve


def test_a_short_flat_curve_is_undecided_not_constant():
    n = sizes_over(4, 256, 2048)  # 3 octaves: the exponent interval is about +-0.16 (t with 2 dof)
    fit = fit_growth_laws(n, np.full(n.size, 5.0), np.zeros(n.size))
    assert fit.nested == "undecided" and not fit.identified
    assert RESOLUTION / 2 < fit.exponent_ci[1] < RESOLUTION


def test_the_nested_test_reads_the_growing_laws_slope_and_the_exponent_at_the_stated_resolution():
    half = RESOLUTION / 2
    # a log-shaped curve: the misspecified power law's (Birge-widened) interval may reach 0 while the
    # logarithm's slope is clearly positive; the better-fitting law's slope decides
    assert nested_test((0.4, 1.2), (-0.02, 0.6)) == "not_constant"
    assert nested_test((-0.1, 0.1), (-0.9 * half, 0.9 * half)) == "constant"
    assert nested_test((-0.1, 0.1), (-0.5 * half, 1.1 * half)) == "undecided"
    assert nested_test((-0.3, -0.1), (-0.3, -0.1)) == "not_constant"  # decreasing: not constant either
    assert nested_test((np.nan, np.nan), (np.nan, np.nan)) == "undecided"


def test_the_resolution_is_read_when_the_fit_is_made(monkeypatch):
    n = sizes_over(4, 256, 2048)
    monkeypatch.setattr(growth, "RESOLUTION", 2 * RESOLUTION)
    fit = fit_growth_laws(n, np.full(n.size, 5.0), np.zeros(n.size))
    assert fit.nested == "constant"


# -- part 2: rank sweeps, through the public API -----------------------------------------------
def user_claim(formula):
    return theory.Claim.from_formula(
        "user_rank_growth",
        formula,
        kind="exponent",
        rate_variables=("N",),
        free_constant="C",
        defaults={"C": 1.0},
        paper=False,
    )


CONSTANT, QUARTER = user_claim("C*N**0"), user_claim("C*N**(1/4)")


@pytest.fixture(scope="module")
def exact_rank():
    """The exact rank-5 teacher (validate.claims.c4_planted.EXACT_RANK_SPECTRUM, 32 x 32) swept at
    9 sizes, 4 seeds; the 5- and 7-size grids are its subsets (every (N, seed) cell draws its own
    data, so a subset is what a sweep of fewer sizes gives)."""
    return exact_rank_run(sizes_over(9), seeds=range(4))


def on_sizes(runs, sizes):
    sweep = runs["sweep"]
    return runs.replace(tables={"sweep": sweep[sweep["n_samples"].isin(sizes)].reset_index(drop=True)})


def nested_sizes(count):
    """5, 7 or 9 of the 9 sizes, always spanning the same 6 octaves."""
    every = sizes_over(9)
    return every[np.round(np.linspace(0, every.size - 1, count)).astype(int)]


@pytest.mark.parametrize("count", SIZE_COUNTS)
def test_the_exact_rank_teachers_constant_rank_holds_at_5_7_and_9_sizes(exact_rank, count):
    runs = on_sizes(exact_rank, nested_sizes(count))
    verdict = check_claim(CONSTANT, runs)
    assert verdict.numbers["rstar_range"] == [5, 5] and verdict.numbers["n_sizes"] == count
    assert verdict.numbers["nested_test"] == "constant" and verdict.numbers["growth_law"] == "constant"
    assert verdict.code == "holds", verdict.explanation
    # O(N^(1/4)) is true and loose for a constant: not_tight at every size count, never inconclusive
    assert check_claim(QUARTER, runs).code == "not_tight"


@pytest.fixture(scope="module")
def sqrt_growth():
    """s_k = 1/k on 64 x 64 (the quick preset's teacher): r* ~ N^(1/2), from 2 to 8 over N = 512..4096
    (the full-rank branch takes over beyond); 4 seeds, 10 sizes over N = 256..4096."""
    teacher = simulate.LinearTeacher(64, 64, simulate.PowerLaw(1.0), noise=0.58, seed=0)
    sizes = sizes_over(10, 256, 4096)
    sweep = simulate.rank_sweep(
        teacher, list(range(1, 65)), sizes, seeds=range(4), device="cpu", executor=SerialExecutor(), progress=False
    )
    return RankRuns(
        "c4_rank", "sqrt growth", {"sweep": sweep}, spectrum=teacher.spectrum, singular_values=teacher.singular_values
    )


@pytest.mark.parametrize("count", SIZE_COUNTS)
def test_a_sqrt_growth_teacher_rejects_a_constant_rank_at_5_7_and_9_sizes(sqrt_growth, count):
    every = np.sort(sqrt_growth["sweep"]["n_samples"].unique())
    runs = on_sizes(sqrt_growth, every[np.round(np.linspace(0, every.size - 1, count)).astype(int)])
    verdict = check_claim(CONSTANT, runs)
    assert verdict.code == "violated", verdict.explanation
    low, _ = verdict.numbers["growth_slope"]["ci"]
    assert low > 0 and verdict.numbers["nested_test"] == "not_constant"
