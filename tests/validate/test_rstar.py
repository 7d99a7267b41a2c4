"""Empirical r*(N) and its exponent on synthetic sweeps whose minimizer is known analytically.

risk(r, N) = r^(1 - 2 alpha) + r (m + n) / N (the C4 power-law spectrum with the fast variance
term) has its continuous minimizer at r* = ((2 alpha - 1) N / (m + n))^(1/(2 alpha)), so the
exponent of r*(N) is theory.rstar_exponent("power_law", "fast") = 1/(2 alpha).
"""

import numpy as np
import pandas as pd
import pytest

from lrkd import theory
from lrkd.errors import InputError
from lrkd.validate.engine.fits import compare_exponent
from lrkd.validate.engine import rstar as rstar_module
from lrkd.validate.engine.rstar import empirical_rstar, fit_rstar_exponent, rstar_variance

M_PLUS_N = 20


def planted_risk(rank, n_samples, alpha):
    return rank ** (1.0 - 2.0 * alpha) + rank * M_PLUS_N / n_samples


def planted_sweep(
    alpha=1.0, n_values=(500, 2000, 8000, 32000, 128000), max_rank=120, seeds=range(5), noise=0.02, seed_offset=0
):
    """A rank_sweep-like frame: test risk = planted risk * (1 + noise * N(0, 1)) per row."""
    ranks, n_samples, seed = (
        a.ravel() for a in np.meshgrid(np.arange(1, max_rank + 1), n_values, list(seeds), indexing="ij")
    )
    rng = np.random.default_rng(seed_offset)
    clean = planted_risk(ranks.astype(float), n_samples.astype(float), alpha)
    test = clean * (1.0 + noise * rng.standard_normal(clean.size))
    return pd.DataFrame(
        {
            "rank": ranks,
            "n_samples": n_samples,
            "seed": seed,
            "train_risk": 0.9 * test,
            "test_risk": test,
            "excess_risk": test - clean.min(),
        }
    )


def theory_exponent(alpha, variance="fast"):
    expr = theory.rstar_exponent("power_law", variance)
    return float(expr.subs({s: alpha for s in expr.free_symbols}))


def test_noise_free_rstar_is_the_grid_argmin():
    sweep = planted_sweep(noise=0.0)
    frame = empirical_rstar(sweep)
    grid = np.arange(1, 121)
    expected = [grid[np.argmin(planted_risk(grid, n, 1.0))] for n in frame["n_samples"]]
    assert frame["rstar"].tolist() == expected
    assert (frame["rstar_low"] == frame["rstar"]).all() and (frame["rstar_high"] == frame["rstar"]).all()
    assert frame["n_seeds"].tolist() == [5] * 5
    assert (frame["at_edge"] == "").all()
    minima = [planted_risk(r, n, 1.0) for r, n in zip(expected, frame["n_samples"])]
    np.testing.assert_allclose(frame["min_risk"], minima)


@pytest.mark.parametrize("alpha, n_values", [(1.0, (500, 2000, 8000, 32000, 128000)), (0.75, (400, 1600, 6400, 25600))])
def test_seed_bootstrap_interval_covers_the_planted_exponent(alpha, n_values, seed):
    sweep = planted_sweep(alpha, n_values, seed_offset=seed)
    frame = empirical_rstar(sweep, seed=seed)
    fit = fit_rstar_exponent(frame, sweep, seed=seed)
    planted = theory_exponent(alpha)
    assert planted == pytest.approx(1 / (2 * alpha))
    assert fit.ci[0] <= planted <= fit.ci[1]
    assert fit.exponent == pytest.approx(planted, abs=0.06)
    assert fit.n_groups == 5 and fit.n_points == len(n_values)
    assert compare_exponent(fit, theory_exponent(alpha, "paper"), "growth") == "faster"
    assert (frame["rstar_low"] <= frame["rstar"]).all() and (frame["rstar"] <= frame["rstar_high"]).all()


def test_diverged_and_nonfinite_rows_are_excluded_and_counted():
    sweep = planted_sweep()
    sweep["diverged"] = False
    sweep.loc[sweep.index[:7], "diverged"] = True
    sweep.loc[sweep.index[:7], "test_risk"] = np.inf
    sweep.loc[sweep.index[10:13], "test_risk"] = np.nan
    frame = empirical_rstar(sweep)
    assert frame.attrs["excluded"] == {"diverged": 7, "nonfinite": 3}
    assert any("7 diverged runs" in note for note in frame.attrs["notes"])
    assert frame["rstar"].tolist() == empirical_rstar(planted_sweep())["rstar"].tolist()


def test_rstar_at_the_grid_edge_is_flagged_and_can_be_dropped():
    sweep = planted_sweep(max_rank=30, noise=0.0)  # r* = 40 and 80 at the two largest N
    frame = empirical_rstar(sweep)
    assert frame["at_edge"].tolist() == ["", "", "", "upper", "upper"]
    assert any("upper edge" in note for note in frame.attrs["notes"])
    kept = fit_rstar_exponent(frame, sweep)
    dropped = fit_rstar_exponent(frame, sweep, drop_edge=True)
    assert kept.n_points == 5 and dropped.n_points == 3
    assert dropped.excluded == {"edge": 2}
    assert any("bounds the true r* only from below" in note for note in kept.notes)
    assert kept.exponent < dropped.exponent  # the capped points pull the slope down


def test_fit_without_the_sweep_resamples_points_and_says_so():
    sweep = planted_sweep()
    fit = fit_rstar_exponent(empirical_rstar(sweep))
    assert any("not seeds" in note for note in fit.notes)
    assert fit.exponent == fit_rstar_exponent(empirical_rstar(sweep), sweep).exponent


def test_too_few_seeds_give_an_infinite_interval():
    sweep = planted_sweep(seeds=range(2))
    fit = fit_rstar_exponent(empirical_rstar(sweep), sweep)
    assert fit.ci == (-np.inf, np.inf)


def test_another_risk_column_can_be_chosen():
    sweep = planted_sweep()
    sweep["train_risk"] = planted_risk(sweep["rank"].astype(float), 1e9, 1.0)  # no variance term
    assert (empirical_rstar(sweep, risk="train_risk")["rstar"] == 120).all()


@pytest.mark.parametrize("drop", ["rank", "seed", "test_risk"])
def test_missing_columns_raise_input_error(drop):
    with pytest.raises(InputError, match=drop) as info:
        empirical_rstar(planted_sweep().drop(columns=drop))
    assert info.value.field == "df"


# -- the flat range, the band and the variance against hand computations ------------------------------
def _frame(risks: dict[int, dict[int, list[float]]]) -> pd.DataFrame:
    """A rank-sweep frame from {n_samples: {rank: [risk of seed 0, seed 1, ...]}}."""
    rows = [
        {"rank": rank, "n_samples": n, "seed": seed, "test_risk": value}
        for n, by_rank in risks.items()
        for rank, values in by_rank.items()
        for seed, value in enumerate(values)
    ]
    return pd.DataFrame(rows)


def _paired(mean: float, spread: float = 0.1) -> list[float]:
    """Four seeds' risks 1 + d with paired differences d = mean -+ spread: sample sd of d is
    spread * sqrt(4/3), so its standard error is spread / sqrt(3) = 0.577 spread (ddof 1)."""
    return [1.0 + mean - spread, 1.0 + mean + spread, 1.0 + mean - spread, 1.0 + mean + spread]


def test_the_flat_range_is_the_one_standard_error_rule():
    # r* = 3 at every N (risk 1 for every seed); the ranks beside it are within one standard error of
    # the paired differences (ddof 1) or not, by margins a 0- or 2-degree correction would cross
    same = [1.0] * 4
    risks = {
        # rank 2: mean 0.55 spread, inside 0.577 (ddof 1) but outside 0.5 (ddof 0); rank 4: 0.65 spread,
        # outside 0.577 but inside 0.707 (ddof 2); ranks 1, 5, 7 indistinguishable, 6 clearly worse
        1000: {1: _paired(0.01), 2: _paired(0.055), 3: same, 4: _paired(0.065), 5: _paired(0.01),
               6: _paired(0.5), 7: _paired(0.01)},
        # rank 2 distinguishable, rank 1 not: the range stops at the first distinguishable rank
        2000: {1: _paired(0.01), 2: _paired(0.5), 3: same, 4: _paired(0.5), 5: _paired(0.5),
               6: _paired(0.5), 7: _paired(0.5)},
        # every rank above r* indistinguishable: the range reaches the top of the grid
        4000: {1: _paired(0.5), 2: _paired(0.5), 3: same, 4: _paired(0.01), 5: _paired(0.01),
               6: _paired(0.01), 7: _paired(0.01)},
    }  # fmt: skip
    frame = empirical_rstar(_frame(risks), n_resamples=200).set_index("n_samples")
    assert frame["rstar"].tolist() == [3, 3, 3]
    assert (frame.loc[1000, "flat_low"], frame.loc[1000, "flat_high"]) == (1, 3)
    assert (frame.loc[2000, "flat_low"], frame.loc[2000, "flat_high"]) == (3, 3)
    assert (frame.loc[4000, "flat_low"], frame.loc[4000, "flat_high"]) == (3, 7)


def test_one_seed_has_no_standard_error_and_no_flat_range():
    # one seed ran at N = 1000 (two at N = 2000): no standard error there, so only an exact tie
    # would be indistinguishable
    risks = {
        1000: {1: [1.2], 2: [1.3], 3: [1.0], 4: [1.0 + 1e-3], 5: [2.0]},
        2000: {1: [2.0, 2.0], 2: [1.5, 1.5], 3: [1.0, 1.0], 4: [1.5, 1.5], 5: [2.0, 2.0]},
    }
    frame = empirical_rstar(_frame(risks), n_resamples=200).set_index("n_samples")
    assert frame.loc[1000, ["rstar", "flat_low", "flat_high", "n_seeds"]].tolist() == [3, 3, 3, 1]


def test_the_band_is_the_central_percentile_interval_of_the_bootstrap_argmins():
    ranks = np.arange(1, 1001)
    cube = rstar_module._RiskCube(np.array([1000.0]), ranks, np.arange(2), np.ones((1, ranks.size, 2)))
    boot = ranks[None, :].astype(float)  # every rank the argmin of one resample
    frame = rstar_module._rstar_frame(cube, np.array([500.0]), boot, 0.95)
    # numpy's "lower" / "higher" percentiles at 2.5 and 97.5 of 1..1000: positions 24.975 and 974.025
    assert (frame["rstar_low"].item(), frame["rstar_high"].item()) == (25, 976)
    frame = rstar_module._rstar_frame(cube, np.array([500.0]), boot, 0.5)
    assert (frame["rstar_low"].item(), frame["rstar_high"].item()) == (250, 751)


def test_rstar_variance_is_the_larger_of_the_bootstrap_and_the_flat_ranges_uniform_variance():
    kept = pd.DataFrame({"flat_low": [3, 10, 5], "flat_high": [7, 10, 5]})
    replicates = np.array([[5.0] * 4, [8.0, 12.0, 8.0, 12.0], [4.0, 6.0, 4.0, 6.0]])
    # a uniform choice among 5 ranks has variance (5^2 - 1) / 12 = 2; the bootstrap's are 0, 4, 1
    assert rstar_variance(kept, replicates) == pytest.approx([2.0, 4.0, 1.0])


def test_the_default_band_is_the_95_percent_band():
    df = planted_sweep(noise=0.3, n_values=(500, 2000))
    default = empirical_rstar(df, n_resamples=500)
    assert default.equals(empirical_rstar(df, n_resamples=500, confidence=0.95))
    half = empirical_rstar(df, n_resamples=500, confidence=0.5)
    assert not default[["rstar_low", "rstar_high"]].equals(half[["rstar_low", "rstar_high"]])  # the level shows


def test_a_sweep_with_one_seed_gives_a_point_band_not_a_crash():
    # before: scipy's "each sample in `data` must contain two or more observations" escaped
    df = planted_sweep(seeds=[0], n_values=(500, 2000, 8000))
    frame = empirical_rstar(df, n_resamples=200)
    assert (frame["rstar_low"] == frame["rstar"]).all() and (frame["rstar_high"] == frame["rstar"]).all()
    assert (frame["n_seeds"] == 1).all() and any("single point" in note for note in frame.attrs["notes"])
    replicates = rstar_module.rstar_replicates(df, [500, 2000], n_resamples=200)
    assert replicates.shape == (2, 200) and (replicates == frame["rstar"].to_numpy()[:2, None]).all()


def test_two_seeds_that_disagree_give_a_band_not_a_point():
    # seed 0's risk is lowest at rank 2, seed 1's at rank 4: resamples of the two seeds disagree
    risks = {1000: {1: [3.0, 3.0], 2: [1.0, 2.0], 3: [2.0, 1.9], 4: [2.5, 1.0], 5: [3.0, 3.0]}}
    frame = empirical_rstar(_frame(risks), n_resamples=400)
    assert frame["rstar_low"].item() == 2 and frame["rstar_high"].item() == 4
