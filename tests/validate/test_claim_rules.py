"""Small rules of the claim families against hand computations: the pieces of validate/claims/
that no planted claim sits close enough to, tested where their answer is known exactly.

- c2: the data norms a bound reads (a teacher whose outputs are shorter than 1);
- c3: the clone-error bound's exact terms (closed forms for diagonal maps) and the step size each
  arm is judged at (the last step's mean loss, diverged runs never chosen);
- c4: which sizes lie inside the rank grid (r* and its whole band strictly inside).

scripts/mutate.py runs these against a mutant of validate/claims/ that calibration does not catch
(ENGINE_TESTS), as it runs each engine module's tests.
"""

import numpy as np
import pandas as pd
import pytest

from lrkd import simulate
from lrkd.validate.claims import c2, c3, c4


def test_data_norms_are_the_largest_sample_norms_even_below_one():
    teacher = simulate.LinearTeacher(m=3, n=4, spectrum=simulate.spectra.Explicit((0.01, 0.005)), noise=0.001)
    norms = c2.data_norms(teacher, 50, seeds=[0, 1])
    samples = [teacher.sample(50, seed=s) for s in (0, 1)]
    r_y = max(float(np.linalg.norm(s.y, axis=1).max()) for s in samples)
    r_x = max(float(np.linalg.norm(s.x, axis=1).max()) for s in samples)
    assert r_y < 1.0  # the case a default of 1 would hide
    assert norms.pop("bounded") is False
    assert norms == pytest.approx({"R_x": r_x, "R_y": r_y, "R_W": float(np.linalg.norm(teacher.weight))})


def test_exact_bound_terms_in_closed_form():
    # diagonal maps: Sigma_X = diag(a^2) + s^2 I, Sigma_E = diag((a - b)^2) + 2 s^2 I
    a, b, s = np.diag([2.0, 1.0, 0.5]), np.diag([1.5, 1.0, 0.0]), 0.3
    terms = c3.exact_bound_terms(a, b, s)
    var_x = np.array([4.0, 1.0, 0.25]) + s**2
    var_e = np.array([0.25, 0.0, 0.25]) + 2 * s**2
    assert terms["h_x"] == pytest.approx(0.5 * np.sum(np.log(2 * np.pi * np.e * var_x)), rel=1e-12)
    assert terms["logdet_cov_e"] == pytest.approx(np.sum(np.log(var_e)), rel=1e-12)
    assert terms["clone_error"] == pytest.approx(np.sum(var_e), rel=1e-12)
    assert terms["clone_mse"] == pytest.approx(0.5, rel=1e-12)
    assert terms["d"] == 3


def test_each_arm_is_judged_at_its_best_step_size_at_the_last_step():
    rows = []
    # arm "a": lr 0.1 is better early but worse at the last step; lr 0.3 diverged in one seed (never chosen)
    losses = {("a", 0.01): (5.0, 1.0), ("a", 0.1): (2.0, 1.5), ("a", 0.3): (1.0, 0.1),
              ("b", 0.01): (3.0, 2.0), ("b", 0.1): (4.0, 0.5), ("b", 0.3): (4.0, 0.7)}  # fmt: skip
    for (arm, lr), (early, last) in losses.items():
        for seed in (0, 1):
            diverged = arm == "a" and lr == 0.3 and seed == 1
            rows.append({"arm": arm, "lr": lr, "seed": seed, "step": 10, "output_loss": early, "diverged": False})
            rows.append({"arm": arm, "lr": lr, "seed": seed, "step": 20, "output_loss": last, "diverged": diverged})
    assert c3.chosen_step_sizes(pd.DataFrame(rows)) == {"a": 0.01, "b": 0.1}


def test_only_sizes_whose_band_lies_strictly_inside_the_rank_grid_are_fitted():
    rstar = pd.DataFrame(
        {
            "rstar": [4, 4, 4, 2, 9, 4],
            "rstar_low": [3, 2, 3, 2, 8, 3],
            "rstar_high": [5, 5, 9, 3, 9, 5],
            "min_rank": [2, 2, 2, 2, 2, 2],
            "max_rank": [9, 9, 9, 9, 9, 9],
            "at_edge": ["", "", "", "lower", "upper", ""],
        }
    )
    # inside; band touches the lowest rank; band touches the highest; r* on either edge; inside
    assert c4._inside_grid(rstar).tolist() == [True, False, False, False, False, True]


def test_the_zero_predictors_risk_is_the_mean_squared_output():
    # analytic against empirical: E||y||^2 = ||W_T||_F^2 + m sigma^2 for isotropic inputs
    teacher = simulate.LinearTeacher(m=4, n=6, spectrum=simulate.spectra.PowerLaw(1.0), noise=0.5, seed=1)
    y = teacher.sample(200_000, seed=0).y
    mean, se = float(np.mean(np.sum(y**2, axis=1))), float(np.std(np.sum(y**2, axis=1)) / np.sqrt(len(y)))
    assert abs(c2.zero_risk(teacher) - mean) < 4 * se


def test_a_drawable_teacher_gets_the_monte_carlo_gap_prediction():
    from lrkd.sweep import SerialExecutor
    from lrkd.validate.judge import as_runs

    teacher = simulate.LinearTeacher(m=4, n=4, spectrum=simulate.spectra.PowerLaw(1.0), noise=0.5, seed=0)
    sweep = simulate.rank_sweep(
        teacher, [1, 2], [32, 64], seeds=range(2), device="cpu", executor=SerialExecutor(), progress=False
    )
    runs = as_runs(sweep, "generalization")
    prediction = c2.generalization_predictions(runs)["gen_gap"]
    assert prediction.monte_carlo and prediction.exact  # the population is drawn, not approximated
    # runs that do not carry their teacher (read back from a table): the sweep's teacher.* columns say it
    bare = type(runs)(runs.experiment, "", {"sweep": sweep}, teacher=None)
    assert c2.generalization_predictions(bare)["gen_gap"].monte_carlo
