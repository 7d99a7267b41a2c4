"""The verdict machinery (validate/engine/checks.py, validate/engine/bounds.py): each code arises when it should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lrkd import theory
from lrkd.validate.engine import bounds as bounds_module
from lrkd.validate.engine.bounds import BoundSpec, bound_verdict
from lrkd.validate.engine.checks import (
    FiniteSizeOffset,
    NoPrediction,
    Prediction,
    best_fit_constant,
    compare_to_bound,
    conjunction_level,
    decide,
    exponent_outcome,
    finite_size_offsets,
    fit_mean_power_law,
    slope_drift,
    summarize,
)
from lrkd.validate.engine.fits import ExponentFit


def _fit(exponent, low, high):
    return ExponentFit(exponent, (low, high), 0.0, 10, 8)


def _points(measured, low, high):
    return pd.DataFrame(
        {"x": np.arange(1, len(measured) + 1), "measured": measured, "measured_low": low, "measured_high": high}
    )


@pytest.mark.parametrize(
    "fit, trend, sense, meaning",
    [
        (_fit(-0.5, -0.55, -0.45), "decay", "upper", "ok"),
        (_fit(-1.0, -1.1, -0.9), "decay", "upper", "loose"),  # decays faster than the bound: loose
        (_fit(-0.2, -0.3, -0.1), "decay", "upper", "wrong"),  # decays slower: the bound breaks
        (_fit(0.3, 0.25, 0.35), "growth", "upper", "loose"),  # grows slower than an O(N^0.5) claim
        (_fit(0.7, 0.65, 0.75), "growth", "upper", "wrong"),
        (_fit(-1.15, -1.2, -1.1), "decay", "equal", "wrong"),  # a predicted rate: any miss is wrong
        (_fit(-0.494, -0.498, -0.489), "decay", "upper", "wrong"),  # no tolerance: a miss of 0.002 is a miss
        (_fit(-0.4, -0.42, -0.38), "decay", "upper", "wrong"),
        (_fit(-0.5, -1.5, 0.5), "decay", "upper", "undecided"),  # interval wider than 0.5
    ],
)
def test_exponent_meaning(fit, trend, sense, meaning):
    claimed = 0.5 if trend == "growth" else (-1.0 if sense == "equal" else -0.5)
    assert exponent_outcome(fit, variable="x", claimed=claimed, trend=trend, sense=sense).meaning == meaning


def test_finite_size_offset_moves_the_interval_not_the_claim():
    """The 32-seed Ghadimi-Lan fit: the local slope misses -1/2, the slope theory predicts on the
    same grid (-0.497) explains the miss, and a claim 0.05 off is still excluded."""
    fit = _fit(-0.494, -0.4983, -0.4893)
    offset = FiniteSizeOffset("T", predicted_slope=-0.497, asymptotic=-0.5, source="unit")
    assert exponent_outcome(fit, variable="T", claimed=-0.5, trend="decay", offset=offset).meaning == "ok"
    assert exponent_outcome(fit, variable="T", claimed=-0.55, trend="decay", offset=offset).meaning == "wrong"
    assert exponent_outcome(fit, variable="T", claimed=-0.45, trend="decay", offset=offset).meaning == "loose"
    outcome = exponent_outcome(fit, variable="T", claimed=-0.5, trend="decay", offset=offset)
    assert outcome.numbers["corrected_exponent_T_ci"] == pytest.approx([-0.5013, -0.4923])
    assert outcome.numbers["resolution_T"] == pytest.approx(0.0045)


def test_finite_size_offsets_fit_the_prediction_on_the_same_design():
    table = pd.DataFrame([{"T": t, "seed": s, "y": 1.0} for t in (10, 100, 1000) for s in range(3)])
    exact = Prediction("y", {"T": -0.5}, lambda grid: grid["T"].to_numpy(float) ** -0.5, "unit")
    bent = Prediction("y", {"T": -0.5}, lambda grid: grid["T"].to_numpy(float) ** -0.5 + 1 / grid["T"], "unit")
    assert finite_size_offsets(exact, table, ["T"])["T"].offset == 0.0
    assert finite_size_offsets(bent, table, ["T"])["T"].offset < -0.01  # a 1/T term steepens the slope
    assert finite_size_offsets(None, table, ["T"]) == {}


def test_undecided_variable_keeps_the_decided_one_in_front():
    """A decisive 'not tight in N' is reported first; an undecided r leaves the code inconclusive
    (not_tight would assert that the claim holds in r); a decisive miss in any variable wins."""
    loose_n = exponent_outcome(_fit(-1.1, -1.47, -0.91), variable="N", claimed=-0.5, trend="decay")
    wide_r = exponent_outcome(_fit(0.9, 0.6, 1.5), variable="r", claimed=1.0, trend="growth")
    wrong_r = exponent_outcome(_fit(0.9, 0.6, 1.5), variable="r", claimed=0.5, trend="growth")
    decision = decide(exponents=[wide_r, loose_n], n_seeds=8, grid_decades={"r": 0.9})
    assert decision.code == "inconclusive"
    assert decision.explanation.startswith("Decided: Not tight in N")
    assert "seeds (now 8)" in decision.explanation and "decades in r" in decision.explanation
    assert decide(exponents=[loose_n, wrong_r]).code == "violated"
    assert decide(exponents=[loose_n]).code == "not_tight"
    assert wide_r.numbers["outcome_r"] == "undecided" and loose_n.numbers["outcome_N"] == "loose"


def test_two_seeds_are_inconclusive_and_say_so():
    rows = [{"T": t, "seed": s, "y": t**-0.5 * (1 + 0.01 * s)} for t in (10, 100, 1000) for s in range(2)]
    fit = fit_mean_power_law(pd.DataFrame(rows), ["T"], "y")["T"]
    decision = decide(exponents=[exponent_outcome(fit, variable="T", claimed=-0.5, trend="decay")], n_seeds=2)
    assert decision.code == "inconclusive" and "At least 3 seeds (now 2)" in decision.explanation


def test_best_fit_constant_is_the_scale_of_the_data():
    shape = np.array([1.0, 0.5, 0.25])
    assert best_fit_constant(3 * shape, shape) == pytest.approx({"C_fit": 3.0, "C_cover": 3.0})


def test_decide_precedence():
    under = compare_to_bound(_points([1.0, 1.0], [0.9, 0.9], [1.1, 1.1]), np.array([2.0, 2.0]), "upper")
    over = compare_to_bound(_points([3.0, 1.0], [2.5, 0.9], [3.5, 1.1]), np.array([2.0, 2.0]), "upper")
    straddle = compare_to_bound(_points([2.1, 1.0], [1.5, 0.9], [2.7, 1.1]), np.array([2.0, 2.0]), "upper")
    ok = exponent_outcome(_fit(-0.5, -0.55, -0.45), variable="T", claimed=-0.5, trend="decay")
    loose = exponent_outcome(_fit(-1.0, -1.1, -0.9), variable="T", claimed=-0.5, trend="decay")
    assert decide(bound=under, exponents=[ok]).code == "holds"
    assert decide(bound=under, exponents=[loose]).code == "not_tight"
    assert decide(bound=over, exponents=[ok]).code == "violated"
    assert decide(bound=straddle, exponents=[ok]).code == "inconclusive"
    assert decide(bound=under, vacuous=np.array([True, True])).code == "vacuous"
    assert decide(bound=over, unmet=["Adam, not SGD"]).code == "assumptions_not_met"
    assert over.worst["x"] == 1 and over.n_beyond == 1


def test_inconclusive_says_how_many_seeds_would_decide():
    wide = exponent_outcome(_fit(-0.5, -1.0, 0.0), variable="T", claimed=-0.5, trend="decay")
    decision = decide(exponents=[wide], n_seeds=8)
    assert decision.code == "inconclusive" and "About 32 seeds (now 8)" in decision.explanation


def test_mean_power_law_recovers_planted_exponents(seed):
    rng = np.random.default_rng(seed)
    rows = [
        {"seed": s, "r": r, "N": n, "y": 3 * r**0.9 / n * (1 + 0.2 * rng.standard_normal())}
        for s in range(8)
        for r in (1, 2, 4, 8)
        for n in (100, 200, 400, 800)
    ]
    fits = fit_mean_power_law(pd.DataFrame(rows), ["r", "N"], "y", seed=seed)
    assert fits["r"].ci[0] <= 0.9 <= fits["r"].ci[1]
    assert fits["N"].ci[0] <= -1.0 <= fits["N"].ci[1]


def test_summarize_excludes_nothing_silently():
    df = pd.DataFrame({"T": [1, 1, 2, 2], "seed": [0, 1, 0, 1], "y": [1.0, 3.0, np.nan, 2.0]})
    points = summarize(df, ["T"], "y")
    assert points["measured"].tolist() == [2.0, 2.0] and points["n_seeds"].tolist() == [2, 1]


def test_bound_verdict_on_a_known_true_and_a_known_false_bound():
    rows = [{"T": t, "seed": s, "y": 1.0 / np.sqrt(t) * (1 + 0.05 * s)} for t in (10, 100, 1000) for s in range(6)]
    table = pd.DataFrame(rows)
    spec = BoundSpec(columns={"T": "T"}, measured="y", grid=("T",), rates={"T": "T"}, trends={"T": "decay"})
    true_claim = theory.Claim.from_formula("t_true", "2/sqrt(T)", kind="upper_bound", rate_variables=("T",))
    false_claim = theory.Claim.from_formula("t_false", "2/T", kind="upper_bound", rate_variables=("T",))
    assert bound_verdict(true_claim, table, spec, experiment="unit").code == "holds"
    verdict = bound_verdict(false_claim, table, spec, experiment="unit")
    assert verdict.code == "violated" and verdict.worst_point["T"] == 1000


# -- no prediction: the interval widened by the local slope's drift (issue 19, c1_lowrank) ------------------
DRIFT_T = (100, 200, 400, 800, 1600, 3200, 6400)


def _drifting(rng, seeds: int) -> pd.DataFrame:
    """A mean T^-1/2 (1 - T^-1/2) (local slope -0.48 on this grid, -1/2 in the limit), each seed's curve
    scaled and tilted at random (a seed's runs share their data), with a little noise per point."""
    rows = []
    for s in range(seeds):
        scale, tilt = 0.1 * rng.standard_normal(), 0.04 * rng.standard_normal()
        for t in DRIFT_T:
            noise = scale + tilt * np.log(t / 800) + 0.03 * rng.standard_normal()
            rows.append({"T": t, "seed": s, "y": t**-0.5 * (1 - t**-0.5) * np.exp(noise)})
    return pd.DataFrame(rows)


def test_without_prediction_disjoint_seed_sets_agree():
    """O(T^-0.45) against a local slope of -0.48: compared as it is, five disjoint sets of 6 seeds split
    between holds and not tight (the claim sits at the intervals' edge); widened by the drift, all agree."""
    rng = np.random.default_rng(0)
    no_prediction = NoPrediction("y", "unit")
    raw, widened = set(), set()
    for _ in range(5):
        table = _drifting(rng, 6)
        fit = fit_mean_power_law(table, ["T"], "y")["T"]
        offset = finite_size_offsets(no_prediction, table, ["T"])["T"]
        raw.add(exponent_outcome(fit, variable="T", claimed=-0.45, trend="decay").meaning)
        widened.add(exponent_outcome(fit, variable="T", claimed=-0.45, trend="decay", offset=offset).meaning)
        assert not offset.predicted and offset.offset == 0.0 and offset.uncertainty == offset.error > 0
    assert raw == {"ok", "loose"} and widened == {"ok"}


def test_drift_bound_covers_the_offset_and_shrinks_with_seeds():
    """The true offset on this grid (the mean's local slope minus -1/2) is under the bound, which narrows as
    seeds grow; a claim 0.1 too fast is excluded at 400 seeds, as with a prediction."""
    mean = np.array([t**-0.5 * (1 - t**-0.5) for t in DRIFT_T])
    true_offset = np.polyfit(np.log(DRIFT_T), np.log(mean), 1)[0] + 0.5
    rng = np.random.default_rng(1)
    few, many = _drifting(rng, 6), _drifting(rng, 400)
    bound_few = slope_drift(few, ["T"], "T", "y")
    bound_many = slope_drift(many, ["T"], "T", "y")
    assert true_offset < bound_many < bound_few
    fit = fit_mean_power_law(many, ["T"], "y")["T"]
    offset = finite_size_offsets(NoPrediction("y", "unit"), many, ["T"])["T"]
    assert exponent_outcome(fit, variable="T", claimed=-0.6, trend="decay", offset=offset).meaning == "wrong"
    assert exponent_outcome(fit, variable="T", claimed=-0.5, trend="decay", offset=offset).meaning == "ok"
    assert slope_drift(few[few["T"] <= 200], ["T"], "T", "y") == np.inf  # two values: no drift to read


@pytest.mark.parametrize("n_values", [3, 4, 5, 6])
def test_the_drift_bound_reads_halves_sharing_the_middle(n_values):
    """The drift is read between the lower and the upper half of the grid's values, which share the
    middle value (odd count) or the two middle values (even count), refitted alone."""
    frame = _drifting(np.random.default_rng(2), 6)
    values = np.sort(frame["T"].unique())[:n_values]
    frame = frame[frame["T"].isin(values)]
    middle = (n_values - 1) // 2, n_values // 2
    lower, upper = values[: middle[1] + 1], values[middle[0] :]
    (low_l, high_l), (low_u, high_u) = (
        fit_mean_power_law(frame[frame["T"].isin(part)], ["T"], "y")["T"].ci for part in (lower, upper)
    )
    expected = max(abs(high_u - low_l), abs(low_u - high_l))
    assert slope_drift(frame, ["T"], "T", "y") == pytest.approx(expected, rel=1e-12)


def test_conjunction_level_keeps_a_claims_false_rejection_at_the_verdict_level():
    assert conjunction_level(1) == 0.95 and conjunction_level(2) == pytest.approx(0.975)
    wide = _fit(1.0, 0.74, 1.26)  # 0.52 wide at the conjunction's level, 0.45 at the base level
    base = _fit(1.0, 0.775, 1.225)
    assert exponent_outcome(wide, variable="r", claimed=1.0, trend="growth").meaning == "undecided"
    assert exponent_outcome(wide, variable="r", claimed=1.0, trend="growth", precision=base).meaning == "ok"


# -- small rules against hand computations ----------------------------------------------------------
def test_the_drift_bound_widens_the_width_that_decides_whether_data_confirm():
    # no prediction: the unknown offset (its bound u) widens the interval on both sides, and the width
    # that must fit under max_ci_width is the interval's own plus 2u (more seeds narrow both)
    fit = _fit(-0.50, -0.55, -0.45)  # width 0.10
    drift = FiniteSizeOffset("T", 0.0, 0.0, "no prediction", error=0.1, predicted=False)
    outcome = exponent_outcome(fit, variable="T", claimed=-0.5, trend="decay", offset=drift, max_ci_width=0.25)
    assert outcome.precision_width == pytest.approx(0.30) and outcome.meaning == "undecided"
    narrow = exponent_outcome(fit, variable="T", claimed=-0.5, trend="decay", offset=drift, max_ci_width=0.35)
    assert narrow.precision_width == pytest.approx(0.30) and narrow.meaning == "ok"
    # a prediction's own error widens the interval but not the width that decides (no seeds narrow it)
    predicted = FiniteSizeOffset("T", -0.5, -0.5, "unit", error=0.1)
    assert exponent_outcome(
        fit, variable="T", claimed=-0.5, trend="decay", offset=predicted
    ).precision_width == pytest.approx(0.1)


def test_offsets_need_a_positive_prediction_for_every_rate_variable():
    table = pd.DataFrame(
        [{"T": t, "r": r, "seed": s, "y": 1.0} for t in (10, 100, 1000) for r in (1, 2) for s in range(3)]
    )
    only_t = Prediction("y", {"T": -0.5}, lambda grid: grid["T"].to_numpy(float) ** -0.5, "unit")
    assert finite_size_offsets(only_t, table, ["T", "r"]) == {}  # r has no asymptotic exponent
    assert set(finite_size_offsets(only_t, table, ["T"])) == {"T"}
    crossing = Prediction("y", {"T": -0.5}, lambda grid: grid["T"].to_numpy(float) ** -0.5 - 0.2, "unit")
    assert finite_size_offsets(crossing, table, ["T"]) == {}  # not positive at T = 100, 1000: no log slope


def test_a_grid_point_with_a_nonpositive_mean_is_left_out_of_the_fit():
    rows = [{"T": t, "seed": s, "y": t**-0.5 * (1 + 0.01 * s)} for t in (10, 100, 1000, 10000) for s in range(4)]
    clean = fit_mean_power_law(pd.DataFrame(rows), ["T"], "y")["T"]
    for value in (0.0, -0.5):  # a zero mean and a negative one, each at T = 10
        bad = pd.DataFrame([{**row, "y": value} if row["T"] == 10 else row for row in rows])
        fit = fit_mean_power_law(bad, ["T"], "y")["T"]
        assert fit.exponent == pytest.approx(clean.exponent, abs=1e-12)
        assert fit.n_points == 3 and fit.excluded == {"nonpositive_mean": 1}


def test_offsets_are_fitted_through_the_points_the_measured_fit_keeps():
    """A point whose measured mean is not positive is left out of the log-mean fit; theory's slope must
    leave it out too, or the offset is the slope over another range (here: a bent prediction whose
    slope differs between T = 10..1000 and T = 100..1000)."""
    rows = [{"T": t, "seed": s, "y": 1.0} for t in (10, 100, 1000) for s in range(3)]
    bent = Prediction("y", {"T": -0.5}, lambda grid: grid["T"].to_numpy(float) ** -0.5 + 1 / grid["T"], "unit")
    on_two = finite_size_offsets(bent, pd.DataFrame([r for r in rows if r["T"] > 10]), ["T"])["T"]
    for value in (0.0, -1.0):
        table = pd.DataFrame([{**r, "y": value} if r["T"] == 10 else r for r in rows])
        offset = finite_size_offsets(bent, table, ["T"])["T"]
        assert offset.predicted_slope == pytest.approx(on_two.predicted_slope, abs=1e-12)
    whole = finite_size_offsets(bent, pd.DataFrame(rows), ["T"])["T"]
    assert abs(whole.predicted_slope - on_two.predicted_slope) > 0.01  # the range matters on this prediction
    one_left = pd.DataFrame([{**r, "y": 0.0} if r["T"] < 1000 else r for r in rows])
    assert finite_size_offsets(bent, one_left, ["T"]) == {}  # one point cannot give a slope
    # a table that cannot tell (no measured column, or no seeds to average over) keeps every point
    for cannot_tell in (pd.DataFrame(rows).drop(columns="y"), pd.DataFrame(rows).drop(columns="seed")):
        offset = finite_size_offsets(bent, cannot_tell, ["T"])["T"]
        assert offset.predicted_slope == pytest.approx(whole.predicted_slope, abs=1e-12)


def test_one_seed_gives_an_infinite_interval_quietly():
    rows = [{"T": t, "seed": 0, "y": t**-0.5} for t in (10, 100, 1000)]
    fit = fit_mean_power_law(pd.DataFrame(rows), ["T"], "y")["T"]  # warnings are errors here
    assert fit.exponent == pytest.approx(-0.5) and fit.ci == (-np.inf, np.inf)


def test_the_mean_interval_is_students_t():
    from scipy import stats

    from lrkd.validate.engine.checks import mean_interval

    values = np.array([1.0, 2.5, 2.0, 4.0, 3.1])
    expected = stats.t.interval(0.9, values.size - 1, loc=values.mean(), scale=stats.sem(values))
    assert mean_interval(values, 0.9) == pytest.approx(expected, rel=1e-12)
    assert mean_interval(np.array([2.0]), 0.9) == (2.0, 2.0)


def test_a_two_rate_claim_confirms_at_the_base_level_and_rejects_at_the_conjunctions():
    # rule 4: each of k exponent intervals rejects at conjunction_level(k); whether one is narrow enough
    # to confirm is read on the fit at the base level (narrower)
    rng = np.random.default_rng(0)
    rows = [
        {"T": t, "r": r, "seed": s, "y": t**-0.5 * r * np.exp(0.1 * rng.standard_normal())}
        for t in (10, 100, 1000)
        for r in (1, 2, 4)
        for s in range(6)
    ]
    table = pd.DataFrame(rows)
    spec = BoundSpec(
        columns={"T": "T", "r": "r"}, measured="y", grid=("T", "r"), rates={"T": "T", "r": "r"},
        trends={"T": "decay", "r": "growth"},
    )  # fmt: skip
    claim = theory.Claim.from_formula(
        "t_r", "C*r/sqrt(T)", kind="upper_bound", rate_variables=("T", "r"), free_constant="C", defaults={"C": 1.0}
    )
    verdict = bound_verdict(claim, table, spec, experiment="unit")
    wide = fit_mean_power_law(table, ["T", "r"], "y", confidence=conjunction_level(2))
    base = fit_mean_power_law(table, ["T", "r"], "y")
    for v in ("T", "r"):
        assert verdict.numbers[f"exponent_{v}_ci"] == pytest.approx(list(wide[v].ci))
        assert base[v].ci_width < wide[v].ci_width
    outcomes = bounds_module._exponents(claim, table, spec, "upper")
    assert [o.precision_width for o in outcomes] == pytest.approx([base["T"].ci_width, base["r"].ci_width])
