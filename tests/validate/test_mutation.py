"""Mutation testing of the verdict engine: corrupt one rule, and calibration must notice.

Each mutant below breaks one decision rule of validate/engine/checks.py (or theory's bound evaluation that
every bound check goes through) by monkeypatching it wherever it is bound (modules that imported the
function by name hold their own reference). The planted claims (validate/claims/c*_planted.py) are
then re-checked by validate.calibration on the same runs (computed once per session: conftest's
small_runs(seed=0)); a mutant is killed when some planted claim that the intact engine classifies
correctly is misclassified. The test names those planted claims (printed, and recorded in the
report of `pytest -rA`).
"""

from __future__ import annotations

import sys
from dataclasses import replace

import numpy as np
import pytest

from lrkd.theory.claims import Claim
from lrkd.validate import calibration
from lrkd.validate.engine import checks
from lrkd.validate.engine import fits


@pytest.fixture(scope="session")
def evidence(small_runs):
    """The calibration sources (runs included), built once for every mutant."""
    return calibration.sources(small_runs(seed=0))


@pytest.fixture(scope="session")
def intact(evidence):
    """{planted claim id: correct?} with the engine as it is."""
    return {v.claim: bool(v.numbers["correct"]) for v in calibration.calibrate(evidence)}


def patch_everywhere(monkeypatch, original, replacement) -> int:
    """Replace `original` by `replacement` in every loaded validate/ and theory/ module that holds it."""
    hits = 0
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("lrkd.validate", "lrkd.theory")):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                monkeypatch.setattr(module, attr, replacement)
                hits += 1
    assert hits, f"{getattr(original, '__name__', original)} is bound nowhere: re-point the mutant"
    return hits


# -- the mutants ---------------------------------------------------------------------------------------
def widened_comparison(delta: float):
    """Exponent intervals widened by `delta` before the claimed exponent is compared (0.05 is the
    flat rate tolerance this engine removed)."""

    def apply(monkeypatch):
        original = fits.compare_exponent

        def compare(fit, claimed, direction):
            low, high = fit.ci
            return original(replace(fit, ci=(low - delta, high + delta)), claimed, direction)

        patch_everywhere(monkeypatch, original, compare)

    return apply


def scaled_bounds(factor: float):
    """Every bound a claim evaluates multiplied by `factor`."""

    def apply(monkeypatch):
        original = Claim.bound
        monkeypatch.setattr(Claim, "bound", lambda self, **params: factor * original(self, **params))

    return apply


def collapsed_intervals(monkeypatch):
    """Every interval shrunk to a point: t-intervals of seed means and bootstrap percentile intervals."""

    def mean_point(values, confidence=checks.DEFAULT_CONFIDENCE):
        mean = float(np.mean(values)) if len(values) else np.nan
        return (mean, mean)

    def percentile_point(replicates, level):
        middle = float(np.nanmedian(replicates))
        return (middle, middle)

    patch_everywhere(monkeypatch, checks.mean_interval, mean_point)
    patch_everywhere(monkeypatch, fits.percentile_interval, percentile_point)


def flipped_direction(monkeypatch):
    """The direction of the exponent comparison reversed: data decaying faster read as slower."""
    original = fits.compare_exponent
    swap = {"faster": "slower", "slower": "faster"}

    def compare(fit, claimed, direction):
        relation = original(fit, claimed, direction)
        return swap.get(relation, relation)

    patch_everywhere(monkeypatch, original, compare)


def vacuity_off(monkeypatch):
    """The trivial value ignored: no bound is ever vacuous."""
    patch_everywhere(
        monkeypatch,
        checks.vacuous_points,
        lambda bound, trivial, direction="upper": np.zeros(np.shape(bound), dtype=bool),
    )


def assumptions_ignored(monkeypatch):
    """Broken assumptions dropped before the decision."""
    original = checks.decide
    patch_everywhere(monkeypatch, original, lambda **kw: original(**{**kw, "unmet": ()}))


def undecided_confirms(monkeypatch):
    """An exponent interval too wide (or unbounded) to decide counts as consistent: no inconclusive."""
    original = checks.exponent_outcome

    def outcome(*args, **kwargs):
        result = original(*args, **kwargs)
        return replace(result, meaning="ok") if result.meaning == "undecided" else result

    patch_everywhere(monkeypatch, original, outcome)


def offsets_off(monkeypatch):
    """Theory's finite-size offsets ignored: local slopes compared with asymptotic exponents as they are."""
    patch_everywhere(monkeypatch, checks.finite_size_offsets, lambda prediction, table, variables, grid=(): {})


def pointwise_off(monkeypatch):
    """Explicit bounds never compared point by point: no point counts as beyond or straddling."""
    original = checks.compare_to_bound
    patch_everywhere(
        monkeypatch,
        original,
        lambda points, bound, direction: replace(original(points, bound, direction), n_beyond=0, n_straddling=0),
    )


MUTANTS = {
    "tolerance_0.05": widened_comparison(0.05),
    "comparison_widened_0.3": widened_comparison(0.3),
    "bounds_x2.5": scaled_bounds(2.5),
    "bounds_x0.4": scaled_bounds(0.4),
    "intervals_collapsed": collapsed_intervals,
    "direction_flipped": flipped_direction,
    "vacuity_off": vacuity_off,
    "assumptions_ignored": assumptions_ignored,
    "undecided_confirms": undecided_confirms,
    "finite_size_offsets_off": offsets_off,
    "pointwise_off": pointwise_off,
}


# slow group: generated mutants (scripts/mutate.py) cover these kinds of corruption, and a sample of
# them runs by default (test_generated_mutants.py); these eleven are kept as a deliberate check
@pytest.mark.slow
@pytest.mark.parametrize("name", list(MUTANTS))
def test_mutant_is_killed_by_calibration(name, evidence, intact, monkeypatch, record_property):
    MUTANTS[name](monkeypatch)
    mutated = calibration.calibrate(evidence)
    caught = sorted(v.claim for v in mutated if intact.get(v.claim) and not v.numbers["correct"])
    record_property("caught_by", ",".join(caught))
    print(f"mutant {name} caught by: {', '.join(caught) or 'nothing'}")
    assert caught, f"mutant {name} survived: no planted claim that the intact engine gets right changed"


def test_the_intact_engine_gets_most_planted_claims_right(intact):
    """Mutants are judged against the claims the intact engine gets right: there must be plenty."""
    assert sum(intact.values()) >= 20, sorted(k for k, ok in intact.items() if not ok)
