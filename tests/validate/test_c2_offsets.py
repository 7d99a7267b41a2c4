"""C2's finite-size offsets (issue 19): the reduced-rank gap's expectation by Monte Carlo on the
population (validate/claims/c2.py `gap_draws`), the offset's Monte Carlo error bound, the offset
averaged as the measured fit averages, and the true O(r(m+n)/N) holding as seeds grow."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lrkd import theory, validate
from lrkd.simulate.experiments import get_experiment
from lrkd.simulate.rrr import fit_rrr
from lrkd.simulate.spectra import PowerLaw
from lrkd.simulate.teachers import LinearTeacher
from lrkd.validate import calibration
from lrkd.validate.claims import c2
from lrkd.validate.engine.checks import MC_ERROR_Z, Prediction, finite_size_offsets

TEACHER = LinearTeacher(6, 5, PowerLaw(1.0), noise=0.7, seed=0)  # m != n: the shapes are tested too


def _direct_gaps(teacher, n_samples: int, draws: int) -> np.ndarray:
    """The gap by the experiment's own path: fresh samples, simulate's RRR fit, the risks written out."""
    w_t = torch.as_tensor(teacher.weight)
    out = np.empty((draws, teacher.max_rank))
    for d in range(draws):
        sample = teacher.sample(n_samples, seed=d, stream="test-direct")
        x, y = torch.as_tensor(sample.x), torch.as_tensor(sample.y)
        fits = fit_rrr(x, y, range(1, teacher.max_rank + 1))
        for r, w in fits.items():
            train = float(((y - x @ w.T) ** 2).sum()) / n_samples
            out[d, r - 1] = float(((w - w_t) ** 2).sum()) + teacher.noise_floor - train
    return out


@pytest.mark.parametrize("n_samples", [12, 40])
def test_monte_carlo_gap_has_the_law_of_the_fit(n_samples):
    """Bartlett draws of the sufficient statistics, whole samples through the same algebra, and the
    experiment's own fit (simulate.fit_rrr on teacher.sample) agree at every rank within 4 standard errors."""
    bartlett = c2.gap_draws(TEACHER, n_samples, draws=4000)
    sampled = c2._gap_draws(TEACHER, n_samples, 1500, True)  # the bounded teachers' path, on Gaussian data
    direct = _direct_gaps(TEACHER, n_samples, 1500)
    assert bartlett.shape == (4000, TEACHER.max_rank)
    for other in (sampled, direct):
        se = np.sqrt(bartlett.var(axis=0) / len(bartlett) + other.var(axis=0) / len(other))
        assert np.all(np.abs(bartlett.mean(axis=0) - other.mean(axis=0)) < 4 * se), (bartlett.mean(0), other.mean(0))
    assert np.all(bartlett.std(axis=0) < direct.std(axis=0))  # the residual's mean replaces its draw


def test_full_rank_gap_matches_the_least_squares_formula():
    """At full rank the expected gap is exactly sigma^2 r (m+n-r) (1/(N-n-1) + 1/N) (theory's rrr_gap_finite)."""
    n_samples = 30
    draws = c2.gap_draws(TEACHER, n_samples, draws=6000)[:, TEACHER.max_rank - 1]
    exact = theory.generalization.rrr_gap_finite(TEACHER.max_rank, TEACHER.m, TEACHER.n, n_samples, TEACHER.noise)
    assert abs(draws.mean() - exact) < 4 * draws.std() / np.sqrt(len(draws))


def test_no_draw_where_the_gap_is_infinite_or_the_inputs_correlated():
    with pytest.raises(ValueError, match="infinite"):
        c2.gap_draws(TEACHER, TEACHER.n + 1)
    # the expected least-squares gap is finite from N = n + 2 on (sigma^2 m n / (N - n - 1) at full rank):
    # the first size with a draw, and the first the prediction covers
    assert np.isfinite(c2.gap_draws(TEACHER, TEACHER.n + 2, draws=64)).all()
    grid = pd.DataFrame({"rank": [1, 1, 1], "n_samples": [TEACHER.n + 1, TEACHER.n + 2, TEACHER.n + 3]})
    draws = c2.gap_prediction(TEACHER).predict(grid)
    assert np.isnan(draws[:, 0]).all() and np.isfinite(draws[:, 1:]).all()
    correlated = LinearTeacher(3, 2, PowerLaw(1.0), noise=1.0, input_cov=((1.0, 0.5), (0.5, 1.0)))
    assert not c2.population_drawable(correlated) and not c2.gap_prediction(correlated).exact


def _grid(ranks, sample_sizes, seeds=3):
    rows = [
        {"rank": r, "n_samples": n, "seed": s, "m": TEACHER.m, "n": TEACHER.n, "noise": TEACHER.noise}
        for r in ranks
        for n in sample_sizes
        for s in range(seeds)
    ]
    return pd.DataFrame(rows)


def test_the_offset_carries_its_monte_carlo_error():
    """The slope of the Monte Carlo expectation is known to MC_ERROR_Z standard errors: 300 draws are within
    their bound of 6000, and the bound shrinks as 1/sqrt(draws)."""
    table = _grid((1, 2, 4), (16, 32, 64, 128))

    def offsets(draws):
        prediction = Prediction(
            "gen_gap",
            {"n_samples": -1.0, "rank": 1.0},
            lambda grid: np.stack(
                [
                    c2.gap_draws(TEACHER, int(n), draws=draws)[:, int(r) - 1]
                    for r, n in zip(grid["rank"], grid["n_samples"])
                ],
                axis=1,
            ),
            "unit",
            monte_carlo=True,
        )
        return finite_size_offsets(prediction, table, ["n_samples", "rank"])

    rough, fine = offsets(300), offsets(6000)
    for v in ("n_samples", "rank"):
        assert 0 < fine[v].error < rough[v].error
        assert rough[v].error / fine[v].error == pytest.approx(np.sqrt(6000 / 300), rel=0.35)
        assert abs(rough[v].offset - fine[v].offset) <= rough[v].error + fine[v].error
        assert fine[v].uncertainty == fine[v].error  # exact up to sampling: no size-of-offset band
    assert fine["n_samples"].error * MC_ERROR_Z > 0


def test_the_offset_is_averaged_as_the_measured_fit_averages():
    """An N-exponent read on a rank x N grid is the exponent of the rank-averaged quantity: the offset is
    the slope of the rank-averaged prediction, not of the first rank's."""
    table = _grid((1, 8), (10, 100, 1000))

    def predict(grid):
        r, n = grid["rank"].to_numpy(float), grid["n_samples"].to_numpy(float)
        return r / n + r**3 / n**2  # the second term weighs with the rank

    prediction = Prediction("y", {"n_samples": -1.0}, predict, "unit")
    cells = table.groupby(["rank", "n_samples"]).first().reset_index()
    averaged = cells.assign(p=predict(cells)).groupby("n_samples")["p"].mean()
    slope = np.polyfit(np.log(averaged.index.to_numpy(float)), np.log(averaged.to_numpy()), 1)[0]
    offset = finite_size_offsets(prediction, table, ["n_samples"], ["rank", "n_samples"])["n_samples"]
    assert offset.predicted_slope == pytest.approx(slope)
    first_rank_only = finite_size_offsets(prediction, table, ["n_samples"])["n_samples"]
    assert abs(first_rank_only.predicted_slope - slope) > 0.05


# -- the true O(r(m+n)/N) as seeds grow (issue 19's acceptance) ------------------------------------------
O_FAST = theory.Claim.from_formula(
    "user_O_fast",
    "C*r*(m+n)/N",
    kind="upper_bound",
    rate_variables=("N", "r"),
    free_constant="C",
    defaults={"C": 1.0},
    experiment="c2_generalization",
    columns={"r": "rank", "m": "m", "n": "n", "N": "n_samples"},
    measured_column="gen_gap",
)


def _c2_runs(seeds: int):
    """c2_generalization at calibration's sizes (validate.calibration.CALIBRATION_SIZES) with seeds 0..seeds-1."""
    _, preset, sizes, _ = next(row for row in calibration.CALIBRATION_SIZES if row[0] == "c2_generalization")
    experiment = get_experiment("c2_generalization")
    config = experiment.config(preset, **sizes, seeds=list(range(seeds)), device="cpu")
    return experiment.run(config, store=None, progress=False)


def _subset(runs, seeds: int):
    sweep = runs["sweep"]
    return runs.replace(tables={**runs, "sweep": sweep[sweep["seed"] < seeds].reset_index(drop=True)})


def _assert_holds_with_exact_offsets(runs):
    verdict = validate.check_claim(O_FAST, runs)
    assert verdict.code == "holds", verdict.explanation
    numbers = verdict.numbers
    for v, asymptotic in (("N", -1.0), ("r", 1.0)):
        low, high = numbers[f"corrected_exponent_{v}_ci"]
        assert low <= asymptotic <= high
        assert numbers[f"offset_uncertainty_{v}"] < 0.01  # the Monte Carlo bound, not the offset's size
    assert numbers["finite_size_offset_N"] < -0.05 and numbers["finite_size_offset_r"] < -0.05  # both matter


@pytest.fixture(scope="module")
def c2_200():
    return _c2_runs(200)


def test_true_rate_holds_at_24_and_200_seeds(c2_200):
    """The approximate offsets made the true O(r(m+n)/N) not_tight as seeds grew; exact ones keep it."""
    for seeds in (24, 200):
        _assert_holds_with_exact_offsets(_subset(c2_200, seeds))


@pytest.mark.slow
def test_true_rate_holds_at_600_seeds():
    """600 seeds at calibration's sizes (about a minute of runs on 2 cores)."""
    _assert_holds_with_exact_offsets(_c2_runs(600))
