"""Growth laws of r*(N) on real closed-form rank sweeps (the laws on planted curves, with exact
answers: test_growth_laws.py; the nested test: test_nested_laws.py).

Part 2 runs simulate.rank_sweep (one SVD per (N, seed), seeds 0..4) on 64 x 64 teachers (96 x 96 for
alpha = 0.75) with planted spectra, on grids where r* stays inside the rank grid and the truncation
regime (N/sigma^2 sets where r* starts; see validate.experiments C4_PRESETS), and checks the
acceptance of issue 14: the logarithm wins for an exponential spectrum, the power law for alpha in
{0.75, 1, 1.5, 2} with an exponent interval that covers theory's finite-size prediction on the same
grid (validate.c4.oracle_rstar). Part 3 moves each decision knob of the C4 check and checks that a
C4 planted claim (validate/claims/c4_planted.py) flips on the calibration runs of seeds 0 and 1.
"""

import numpy as np
import pytest

from lrkd import simulate
from lrkd import theory
from lrkd.sweep import SerialExecutor
from lrkd.validate import calibration, check_claim
from lrkd.validate.claims import c4
from lrkd.validate.engine import growth, rstar


# -- part 2: closed-form rank sweeps ------------------------------------------------------------
def geometric(start, stop, per_octave):
    count = int(round(np.log2(stop / start) * per_octave))
    return [int(round(start * 2 ** (i / per_octave))) for i in range(count + 1)]


GRIDS = {  # spectrum -> (noise, sample sizes): r* from about 2 to about min(m, n)/6
    ("power_law", 0.75): (0.69, geometric(384, 4344, 3)),  # 96 x 96: heavy tails need room
    ("power_law", 1.0): (0.58, geometric(256, 5793, 3)),
    ("power_law", 1.5): (0.41, geometric(256, 32768, 1)),
    ("power_law", 2.0): (0.29, geometric(256, 65536, 1)),
    ("exponential", 0.3): (0.7, geometric(256, 16384, 2)),
}


def sweep_for(kind, decay):
    noise, sizes = GRIDS[(kind, decay)]
    spectrum = simulate.PowerLaw(decay) if kind == "power_law" else simulate.Exponential(decay)
    width = 96 if (kind, decay) == ("power_law", 0.75) else 64
    teacher = simulate.LinearTeacher(width, width, spectrum, noise=noise, seed=0)
    sweep = simulate.rank_sweep(
        teacher,
        list(range(1, width + 1)),
        sizes,
        seeds=range(5),
        device="cpu",
        executor=SerialExecutor(),
        progress=False,
    )
    return teacher, sweep


def rank_verdict(teacher, sweep, claim="optimal_rank"):
    claim = theory.get_claim(claim) if isinstance(claim, str) else claim
    return c4.rank_verdict(
        claim, sweep, experiment="c4_rank", spectrum=teacher.spectrum.to_dict(), singular_values=teacher.singular_values
    )


@pytest.fixture(scope="module")
def exponential_sweep():
    return sweep_for("exponential", 0.3)


def test_exponential_spectrum_grows_like_a_logarithm(exponential_sweep):
    verdict = rank_verdict(*exponential_sweep)
    assert verdict.numbers["growth_law"] == "logarithm", verdict.explanation
    assert verdict.numbers["bootstrap_wins"]["logarithm"] >= 0.8
    assert verdict.code == "not_tight"  # log N is O(sqrt N), and far from tight
    assert verdict.figures[0].kind == "rstar_growth" and set(verdict.figures[0].meta["laws"]) == {
        "power_law",
        "logarithm",
        "constant",
    }


@pytest.mark.parametrize("alpha", [0.75, 1.0, 1.5, 2.0])
def test_power_law_spectrum_grows_like_a_power_law_covering_the_prediction(alpha):
    verdict = rank_verdict(*sweep_for("power_law", alpha))
    numbers = verdict.numbers
    assert numbers["growth_law"] == "power_law", verdict.explanation
    low, high = numbers["exponent_ci"]
    assert low <= numbers["predicted_local_exponent"] <= high, verdict.explanation
    assert numbers["prediction_covered"]
    # the paper's claim r* = O(sqrt N): false for alpha < 1 (this short grid cannot separate 1/2 from
    # theory's 2/3 once both carry the grid's offset: inconclusive is right too), holds at 1, loose above
    expected = {0.75: ("violated", "inconclusive"), 1.0: ("holds",), 1.5: ("not_tight",), 2.0: ("not_tight",)}
    assert verdict.code in expected[alpha], verdict.explanation


def test_a_user_rstar_claim_goes_through_check_claim(exponential_sweep):
    claim = theory.Claim.from_formula(
        "mine", "C*N**(1/4)", kind="exponent", rate_variables=("N",), defaults={"C": 1.0}, experiment="c4_rank"
    )
    verdict = check_claim(claim, exponential_sweep[1])  # a raw rank_sweep frame
    assert verdict.claim == "mine" and verdict.experiment == "c4_rank"
    assert verdict.code == "not_tight"  # log N grows slower than N^(1/4)
    log_claim = theory.Claim.from_formula(
        "mine_log", "C*log(N)", kind="exponent", rate_variables=("N",), defaults={"C": 1.0}, experiment="c4_rank"
    )
    assert check_claim(log_claim, exponential_sweep[1]).code == "holds"
    flat_claim = theory.Claim.from_formula(
        "mine_flat", "C*N**0", kind="exponent", rate_variables=("N",), defaults={"C": 1.0}, experiment="c4_rank"
    )
    assert check_claim(flat_claim, exponential_sweep[1]).code == "violated"  # r* = O(1) is false here


# -- part 3: calibration sees every decision knob of the C4 check -------------------------------
def _argmin_one_past(monkeypatch):
    """r* read one rank past the argmin of the seed-mean risk."""
    original = rstar._argmin_ranks

    def past(values, ranks):
        best = original(values, ranks)
        at = np.searchsorted(ranks, np.nan_to_num(best, nan=ranks[0]))
        return np.where(np.isnan(best), np.nan, ranks[np.minimum(at + 1, ranks.size - 1)].astype(float))

    monkeypatch.setattr(rstar, "_argmin_ranks", past)


KNOBS = {  # knob -> how to move it (validate/claims/c4_planted.py names the planted claim near each)
    "IDENTIFY_DELTA 6 -> 3": lambda mp: mp.setattr(growth, "IDENTIFY_DELTA", 3.0),
    "IDENTIFY_DELTA 6 -> 12": lambda mp: mp.setattr(growth, "IDENTIFY_DELTA", 12.0),
    "RESOLUTION 0.25 -> 0.125": lambda mp: mp.setattr(growth, "RESOLUTION", 0.125),
    "RESOLUTION 0.25 -> 0.5": lambda mp: mp.setattr(growth, "RESOLUTION", 0.5),
    "r* one rank past the argmin": _argmin_one_past,
    "grid-edge filter off": lambda mp: mp.setattr(c4, "_inside_grid", lambda frame: np.ones(len(frame), bool)),
    "full-rank filter off": lambda mp: mp.setattr(
        c4, "_truncation_regime", lambda values, m, n, noise, sizes: np.ones(len(sizes), bool)
    ),
    "OLS_MARGIN 1.5 -> 1": lambda mp: mp.setattr(c4, "OLS_MARGIN", 1.0),
    "OLS_MARGIN 1.5 -> 3": lambda mp: mp.setattr(c4, "OLS_MARGIN", 3.0),
    "MIN_SIZES 4 -> 5": lambda mp: mp.setattr(c4, "MIN_SIZES", 5),
    "growing r* against O(1) waits for a growth law": lambda mp: mp.setattr(c4, "_grows_anyway", c4._unidentified),
}


@pytest.fixture(scope="module")
def c4_sources(small_runs):
    """The C4 calibration sources at calibration seeds 0 and 1 (IDENTIFY_DELTA's claims flip at seed 1)."""
    return [calibration.sources([r for r in small_runs(seed=s) if r.experiment == "c4_rank"]) for s in (0, 1)]


def _codes(sources) -> dict:
    return {v.claim: (v.code, v.numbers["expected"]) for v in calibration.calibrate(sources)}


# slow group: the generated mutation pool judges these knobs (x2, /2, negated) and its sample runs by
# default (test_generated_mutants.py); these hand-picked moves are kept as a deliberate check
@pytest.mark.slow
@pytest.mark.parametrize("knob", list(KNOBS))
def test_calibration_sees_every_c4_knob(knob, c4_sources, monkeypatch):
    intact = [_codes(sources) for sources in c4_sources]
    assert all(code == expected for codes in intact for code, expected in codes.values()), intact
    KNOBS[knob](monkeypatch)
    flipped = [
        (seed, claim, code)
        for seed, sources in enumerate(c4_sources)
        for claim, (code, expected) in _codes(sources).items()
        if code != expected
    ]
    print(f"{knob}: {flipped}")
    assert flipped, f"no C4 planted claim flips when {knob}"
