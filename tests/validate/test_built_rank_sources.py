"""The built C4 sources (validate/claims/c4_planted.py, `built_rank_run`) against arithmetic.

Each built source sets every run's risk to 1 + 0.001 (rank - r0)^2, so what the r* engine
(validate.engine.rstar) must find follows from r0 without running it: the seed-mean risk is least at
the integer nearest the seeds' mean r0 (a tie goes to the smaller rank), a seed resample's argmin is
the integer nearest that resample's mean r0, and a paired difference at r* + 1 has a closed form.
The planted claims on these sources sit on a rule's threshold only if these numbers are right, so
they are checked here against exact enumeration, not against the engine's own output.
"""

import itertools

import numpy as np
import pytest

from lrkd.validate.claims import c4_planted
from lrkd.validate.engine.rstar import empirical_rstar, rstar_replicates

SIZES = [256, 512, 1024, 2048, 4096, 8192, 16384]


@pytest.fixture(scope="module")
def exact():
    """The exact rank-5 run on the calibration sizes with six seeds (only its grid is used)."""
    return c4_planted.exact_rank_run(SIZES, seeds=range(6))


def nearest_rank(mean_r0):
    """The integer nearest a mean optimum, ties to the smaller rank (the engine's argmin rule)."""
    return np.ceil(np.asarray(mean_r0) - 0.5).astype(int)


def resample_means(values):
    """The mean of every one of the n^n ordered seed resamples of `values` (n = 6: 46,656)."""
    values = np.asarray(values, dtype=float)
    draws = np.array(list(itertools.product(range(values.size), repeat=values.size)))
    return values[draws].mean(axis=1)


def test_the_built_optimum_is_the_rank_nearest_the_seeds_mean_optimum(exact):
    offsets = np.array([0.3, -1.2, 0.9, 0.0, 2.4, -0.7])  # arbitrary, not symmetric
    runs = c4_planted.built_rank_run(exact, "test", lambda x, i: 3.0 + 2.0 * x + offsets[i])
    frame = empirical_rstar(runs["sweep"])
    x = np.log(np.array(SIZES) / SIZES[0])
    expected = nearest_rank(3.0 + 2.0 * x + offsets.mean())
    assert frame["rstar"].tolist() == expected.tolist()


def test_the_edge_bands_reach_the_grid_at_95_percent_and_not_at_90(exact):
    share = np.mean(nearest_rank(resample_means([2, 2, 2, 2, 3, 1])) <= 1)
    assert 0.025 < share < 0.05  # 3.58% by enumeration: inside the 95% band, outside a 90% one
    runs = c4_planted.edge_band_run(exact)
    wide = empirical_rstar(runs["sweep"], confidence=0.95).set_index("n_samples")
    narrow = empirical_rstar(runs["sweep"], confidence=0.90).set_index("n_samples")
    assert wide.loc[[256, 512], "rstar_low"].tolist() == [1, 1]
    assert wide.loc[[8192, 16384], "rstar_high"].tolist() == [12, 12]
    assert (narrow.loc[[256, 512], "rstar_low"] > 1).all() and (narrow.loc[[8192, 16384], "rstar_high"] < 12).all()
    assert wide["rstar"].tolist() == c4_planted.EDGE_OPTIMA.astype(int).tolist()


def test_the_flat_range_sources_variance_comes_from_the_flat_range(exact):
    d = 1.13
    # paired differences at r* + 1: 1 + 2d at three seeds, 1 - 2d at three; mean 1, standard error 0.894 d
    diffs = np.array([1 + 2 * d, 1 - 2 * d] * 3)
    assert diffs.mean() <= diffs.std(ddof=1) / np.sqrt(diffs.size)  # r* + 1 is within one SE: flat
    at_two = np.array([4 + 4 * d, 4 - 4 * d] * 3)  # at r* + 2
    assert at_two.mean() > at_two.std(ddof=1) / np.sqrt(at_two.size)  # r* + 2 is not
    runs = c4_planted.flat_spread_run(exact)
    frame = empirical_rstar(runs["sweep"])
    assert (frame["rstar"] == 5).all() and (frame["flat_low"] == 4).all() and (frame["flat_high"] == 6).all()
    exact_variance = np.var(nearest_rank(resample_means(5 + np.array([-d, d] * 3))))
    replicates = rstar_replicates(runs["sweep"], SIZES)
    assert np.nanvar(replicates, axis=1) == pytest.approx(exact_variance, abs=0.03)  # 2000 resamples
    assert exact_variance < (3**2 - 1) / 12


def test_the_two_seed_sources_band_reaches_rank_1_a_quarter_of_the_time(exact):
    runs = c4_planted.two_seed_run(exact)
    replicates = rstar_replicates(runs["sweep"], [256])
    assert np.mean(replicates == 1) == pytest.approx(0.25, abs=0.03)  # both draws the seed at 1.4
    frame = empirical_rstar(runs["sweep"]).set_index("n_samples")
    assert frame.loc[256, "rstar"] == 2 and frame.loc[256, "rstar_low"] == 1


def test_the_overflowed_run_is_left_out(exact):
    runs = c4_planted.overflow_run(exact)
    sweep = runs["sweep"]
    assert np.isinf(sweep["test_risk"]).sum() == len(SIZES) and not sweep["diverged"].any()
    frame = empirical_rstar(sweep)
    assert frame["rstar"].tolist() == nearest_rank(2 * np.sqrt(np.array(SIZES) / 256)).tolist()
    assert frame.attrs["excluded"] == {"nonfinite": len(SIZES)}


def test_theory_steps_fit_sits_either_side_of_the_constants_aicc_advantage(exact):
    """The theory-step sources (`theory_step_runs`) put theory's own growth fit on the rule that decides
    whether its finite-size offset applies: theory's r* for THEORY_SPECTRUM is the step 1,1,1,1,1,2,2,
    and with each source's variances the power law's chi^2 lies below the constant's by a little less
    (the square-root source) or a little more (the flat source) than the AICc penalty of its second
    parameter at 7 sizes, 2k + 2k(k+1)/(n-k-1): 7 - 2.8 = 4.2."""
    from lrkd.validate.claims import c4

    penalty = (2 * 2 + 2 * 2 * 3 / (7 - 2 - 1)) - (2 * 1 + 2 * 1 * 2 / (7 - 1 - 1))
    assert penalty == pytest.approx(4.2)
    sources = c4_planted.theory_step_runs(exact)
    gaps = {}
    for name, runs in sources.items():
        evidence = c4.growth_evidence(runs["sweep"], runs.singular_values)
        assert evidence.oracle.tolist() == [1, 1, 1, 1, 1, 2, 2]
        assert evidence.inside.all()
        laws = evidence.predicted.laws
        gaps[name] = laws["constant"].chi2 - laws["power_law"].chi2
    assert penalty - 0.45 < gaps[c4_planted.THEORY_STEP_SQRT] < penalty
    assert penalty < gaps[c4_planted.THEORY_STEP_FLAT] < penalty + 0.6
