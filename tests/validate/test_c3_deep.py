"""C3 on two-layer teachers: exact MI, the clone-error bound, and verdicts that can go either way."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lrkd import theory
from lrkd.simulate.experiments import get_experiment
from lrkd.sweep import SerialExecutor
from lrkd.validate import check_claim
from lrkd.validate.claims import c3, c3_planted
from lrkd.validate.engine import mi
from lrkd.simulate.experiments.c3 import InformationRuns
from lrkd.validate.registry import with_evidence

SEEDS = [0, 1, 2, 3, 4]
FAST = {"lrs": [3e-3, 1e-2], "arms": ["noisy", "kd", "kd_clone"], "seeds": SEEDS}


@pytest.fixture(scope="module")
def linear_runs() -> InformationRuns:
    exp = get_experiment("c3_information")
    return with_evidence(exp.run(exp.config("quick", **FAST), store=None, executor=SerialExecutor()))


def test_exact_mi_matches_the_gaussian_estimate_and_bounds_it():
    gen = np.random.default_rng(1)
    a, b = gen.standard_normal((4, 6)), gen.standard_normal((4, 6)) * 0.5
    truth = c3.exact_mi(a, b, 0.3)
    x = gen.standard_normal((40000, 6))
    est = mi.gaussian(x @ a.T + 0.3 * gen.standard_normal((40000, 4)), x @ b.T + 0.3 * gen.standard_normal((40000, 4)))
    assert est == pytest.approx(truth, abs=0.03)
    for scale in (0.1, 1.0, 3.0):  # a theorem: the clone-error bound never exceeds the exact MI
        terms = c3.exact_bound_terms(a, scale * b, 0.3)
        assert (
            float(theory.mi_lower_bound(terms["h_x"], terms["logdet_cov_e"], terms["d"]))
            <= c3.exact_mi(a, scale * b, 0.3) + 1e-12
        )


def test_step_sizes_are_chosen_per_arm_by_held_out_output_loss(linear_runs):
    frame = linear_runs["trajectory"]
    last = frame[frame["step"] == frame["step"].max()]
    chosen = c3.chosen_step_sizes(frame)
    for arm, lr in chosen.items():
        losses = last[last["arm"] == arm].groupby("lr")["output_loss"].mean()
        assert losses[lr] == losses.min()
    assert set(linear_runs["arms"]["lr"]) <= set(FAST["lrs"])


def test_deep_linear_verdict_and_its_numbers(linear_runs):
    verdict = check_claim("mutual_information", linear_runs)
    n = verdict.numbers
    assert n["bound_check"] in ("holds", "not_tight", "vacuous")  # the bound is a theorem: never violated
    assert n["points_beyond_bound"] == 0
    for control in ("noisy", "kd"):
        low, high = n[f"mi_gain_over_{control}_ci"]
        assert low <= n[f"mi_gain_over_{control}"] <= high
        assert n[f"mi_gain_over_{control}"] == pytest.approx(n["mi_kd_clone"] - n[f"mi_{control}"])
    expected = (
        "holds"
        if min(n["mi_gain_over_noisy_ci"][0], n["mi_gain_over_kd_ci"][0]) > 0
        else "violated"
        if min(n["mi_gain_over_noisy_ci"][1], n["mi_gain_over_kd_ci"][1]) < 0
        else "inconclusive"
    )
    assert verdict.code == expected
    assert {f.kind for f in verdict.figures} >= {"mi_by_arm", "mi_vs_mse", "bound_vs_measured"}


def test_mi_is_not_monotone_in_clone_mse(linear_runs):
    """Scaled clone students c * h_S: the clone MSE is least at c = 1, the MI keeps rising with c."""
    n = c3.non_monotonicity(linear_runs["scaled"])
    assert n["scale_of_min_clone_mse"] == 1.0
    assert n["scale_of_max_mi"] == n["max_scale"]
    assert n["mi_at_max_scale"] > n["mi_at_scale_1"] and n["clone_mse_at_max_scale"] > n["clone_mse_at_scale_1"]
    assert n["teacher_copy_mi_at_2"] > n["teacher_copy_mi_at_1"]
    assert n["discordant_pair_fraction"] > 0.3


@pytest.mark.parametrize("seed", SEEDS)
def test_planted_clone_vs_kd_claims_come_out_as_the_data_say(linear_runs, seed):
    """'Cloning does not beat clean-output KD' and its opposite, on runs over seeds 0..4 and on the
    4-seed runs that leave out `seed`: each verdict follows the sign of the measured interval."""
    runs = _without_seed(linear_runs, seed)
    gain = c3.compare_arms(runs["evidence"], "kd_clone", "kd")
    beats = c3_planted.comparison_check(c3_planted.comparison_claim("cal_c3_clone_beats_kd"), runs)
    not_above = c3_planted.comparison_check(c3_planted.comparison_claim("cal_c3_clone_not_above_kd"), runs)
    if gain.ci[0] > 0:
        assert (beats.code, not_above.code) == ("holds", "violated")
    elif gain.ci[1] < 0:
        assert (beats.code, not_above.code) == ("violated", "holds")
    else:
        assert beats.code == not_above.code == "inconclusive"
    assert beats.code != not_above.code or beats.code == "inconclusive"


def _without_seed(runs: InformationRuns, seed: int) -> InformationRuns:
    if seed == 0:
        return runs  # all five seeds
    evidence = runs["evidence"][runs["evidence"]["seed"] != seed]
    return runs.replace(tables={**runs, "evidence": evidence})


def _evidence(diffs_vs_kd, diffs_vs_noisy, base=2.0) -> pd.DataFrame:
    rows = []
    for seed, (dk, dn) in enumerate(zip(diffs_vs_kd, diffs_vs_noisy)):
        for arm, value in (("kd_clone", base), ("kd", base - dk), ("noisy", base - dn)):
            rows.append(
                {
                    "arm": arm,
                    "seed": seed,
                    "step": 10,
                    "mi": value,
                    "lr": 0.01,
                    "clone_mse": 1.0,
                    "output_loss": 0.1,
                    "mi_method": "exact",
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "kd, noisy, code",
    [
        ([0.3, 0.32, 0.29, 0.31], [0.5, 0.52, 0.49, 0.5], "holds"),
        ([-0.3, -0.32, -0.29, -0.31], [0.5, 0.52, 0.49, 0.5], "violated"),  # clean KD beats cloning
        ([0.3, 0.32, 0.29, 0.31], [-0.5, -0.52, -0.49, -0.5], "violated"),  # noisy labels beat cloning
        ([0.3, -0.2, 0.25, -0.1], [0.5, 0.52, 0.49, 0.5], "inconclusive"),
    ],
)
def test_each_verdict_path_of_the_comparison(kd, noisy, code):
    runs = InformationRuns("c3_information", "planted", {"evidence": _evidence(kd, noisy)}, noise_std=0.2, lrs=[0.01])
    verdict = c3.comparison_verdict(theory.get_claim("mutual_information"), runs, experiment="t", margin=0.0)
    assert verdict.code == code
    if code == "inconclusive":
        assert verdict.numbers["seeds_to_decide_vs_kd"] > 4 and "seeds" in verdict.explanation


def test_an_estimator_band_wider_than_the_effect_cannot_be_decided_by_seeds():
    runs = InformationRuns(
        "c3_information",
        "planted",
        {"evidence": _evidence([0.05, 0.06, 0.05, 0.06], [0.5] * 4)},
        noise_std=0.5,
        lrs=[0.01],
    )
    verdict = c3.comparison_verdict(theory.get_claim("mutual_information"), runs, experiment="t", margin=0.1)
    assert verdict.code == "inconclusive" and "cannot decide" in verdict.explanation
    assert "seeds_to_decide_vs_kd" not in verdict.numbers


def test_estimator_benchmark_knows_the_truth():
    bench = c3.estimator_benchmark(3, 3, [0.5, 1.0], 1500, reps=1)
    gauss = bench[(bench["estimator"] == "gaussian") & (bench["kind"] == "gaussian")]
    assert np.allclose(gauss["estimate"], gauss["truth"], atol=0.08)
    ksg = bench[bench["estimator"] == "ksg"]
    assert ksg.groupby("kind")["estimate"].apply(lambda e: e.is_monotonic_increasing).all()
    assert c3.estimator_margin(bench) > 0


def test_check_claim_on_a_one_layer_clone_sweep_says_what_is_missing():
    from lrkd import simulate

    teacher = simulate.LinearTeacher(6, 6, simulate.PowerLaw(1.0), noise=0.5)
    sweep = simulate.clone_sweep(
        teacher, [2], [0.0, 1.0], 100, seeds=[0, 1], steps=30, rep_samples=200, lr=0.03, executor=SerialExecutor()
    )
    verdict = check_claim("mutual_information", sweep)
    assert verdict.code == "inconclusive" and "not run" in verdict.explanation


def test_check_claim_takes_a_deep_sweep_directly():
    from lrkd import simulate

    teacher = simulate.DeepTeacher((6, 5, 2))
    sweep = simulate.deep_clone_sweep(
        teacher, 2, seeds=[0, 1, 2], lrs=(0.01,), sample_size=200, steps=200, executor=SerialExecutor()
    )
    verdict = check_claim("mutual_information", sweep)
    assert verdict.code in ("holds", "violated", "inconclusive")
    assert {"mi_gain_over_kd", "mi_gain_over_noisy", "nonmonotone_scale_of_max_mi"} <= set(verdict.numbers)


def test_the_comparison_is_reported_at_other_noise_widths(linear_runs):
    table = linear_runs["noise_sensitivity"]
    assert set(table["noise_std"]) == set(c3.NOISE_STDS)
    at_default = table[(table["noise_std"] == linear_runs.noise_std) & (table["control"] == "kd")]
    n = check_claim("mutual_information", linear_runs).numbers
    assert at_default["gain"].iloc[0] == pytest.approx(n["mi_gain_over_kd"])


def test_the_estimator_band_is_the_bias_difference_between_the_two_levels():
    bench = pd.DataFrame(
        {
            "estimator": "ksg",
            "kind": ["gaussian"] * 2 + ["leaky_relu"] * 2,
            "truth": [1.0, 2.0, 1.0, 2.0],
            "error": [-0.1, -0.2, -0.2, -0.6],
        }
    )
    assert c3.estimator_margin(bench, 1.0, 1.5) == pytest.approx(0.2)  # leaky: -0.2 -> -0.4
    assert c3.estimator_margin(bench, 1.2, 1.2) == 0.0
    assert c3.estimator_margin(bench) == pytest.approx(0.4)  # the whole range
