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
from lrkd.validate.engine.rstar import empirical_rstar, fit_rstar_exponent

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
