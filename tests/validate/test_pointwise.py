"""The pointwise rule of an explicit bound (validate/engine/checks.py, rule 2) is symmetric: a mean
inside its interval around the bound is undecided on either side of it (issue 19: a bound false by
4% came out `holds` in one of five seed sets, because its means happened to fall under it)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from lrkd import theory
from lrkd.validate.engine.bounds import BoundSpec, bound_verdict
from lrkd.validate.engine.checks import RTOL, compare_to_bound, decide


def _point(measured, low, high):
    return pd.DataFrame({"x": [1], "measured": [measured], "measured_low": [low], "measured_high": [high]})


@pytest.mark.parametrize("direction", ["upper", "lower"])
def test_a_mean_inside_its_interval_straddles_on_either_side(direction):
    """Bound 1.0; intervals of half-width 0.1 around means 0.95 and 1.05: both straddle, whichever side
    is the claim's; the whole interval on one side decides."""
    bound = np.array([1.0])
    under, over = (
        compare_to_bound(_point(0.95, 0.85, 1.05), bound, direction),
        compare_to_bound(_point(1.05, 0.95, 1.15), bound, direction),
    )
    assert under.n_straddling == over.n_straddling == 1 and under.n_beyond == over.n_beyond == 0
    assert decide(bound=under).code == decide(bound=over).code == "inconclusive"
    low_side, high_side = (
        compare_to_bound(_point(0.8, 0.7, 0.9), bound, direction),
        compare_to_bound(_point(1.2, 1.1, 1.3), bound, direction),
    )
    inside, outside = (low_side, high_side) if direction == "upper" else (high_side, low_side)
    assert inside.all_within and decide(bound=inside).code == "holds"
    assert outside.n_beyond == 1 and decide(bound=outside).code == "violated"
    assert bool(over.points["exceeds"].iloc[0]) == (direction == "upper")  # the figure's marker: the mean's side


def test_roundoff_is_on_the_bound_a_real_difference_is_not():
    """A zero-width interval (a deterministic quantity) one ulp over the bound is on it (RTOL); a part in a
    million over is beyond."""
    bound = np.array([0.25])
    ulp = 0.25 * (1 + 2e-16)
    assert compare_to_bound(_point(ulp, ulp, ulp), bound, "upper").all_within
    under = 0.25 * (1 - 2e-16)
    assert compare_to_bound(_point(under, under, under), bound, "lower").all_within
    real = 0.25 * (1 + 1e-6)
    assert real - 0.25 > RTOL * 0.25 and compare_to_bound(_point(real, real, real), bound, "upper").n_beyond == 1


CONSTANT = theory.Claim.from_formula("b_const", "B", kind="upper_bound")
SPEC = BoundSpec(columns={}, measured="y", grid=("x",))


def _verdict(values: np.ndarray, bound: float) -> str:
    """The bound B = `bound` on y at 4 grid points, y the given (points, seeds) sample."""
    rows = [{"x": x, "seed": s, "y": values[i, s]} for i, x in enumerate((1, 2, 3, 4)) for s in range(values.shape[1])]
    return bound_verdict(CONSTANT, pd.DataFrame(rows), replace(SPEC, constants={"B": bound}), experiment="unit").code


def test_a_bound_false_by_4_percent_is_never_held_and_more_seeds_reject_it():
    """True mean 1 at every point, relative spread 0.3 per seed (shared across the grid, as a seed's data
    are). A bound at 0.96 is false: on five disjoint
    sets of 6 seeds it is never `holds` (the means of some sets all fall under it, which the old rule took
    as holding), and 3000 seeds reject it. A bound at 1.04 is true: never `violated`, and 3000 seeds hold it."""
    rng = np.random.default_rng(19)

    def sample(seeds):  # a seed's runs share its data across the grid: one common draw, a small own one
        return 1.0 + 0.3 * rng.standard_normal(seeds) + 0.05 * rng.standard_normal((4, seeds))

    sets = [sample(6) for _ in range(5)]
    assert any(bool(np.all(s.mean(axis=1) < 0.96)) for s in sets)  # the old rule's `holds` is in these data
    false_codes = {_verdict(s, 0.96) for s in sets}
    true_codes = {_verdict(s, 1.04) for s in sets}
    assert "holds" not in false_codes and false_codes <= {"inconclusive", "violated"}
    assert "violated" not in true_codes and true_codes <= {"inconclusive", "holds"}
    many = sample(3000)
    assert _verdict(many, 0.96) == "violated" and _verdict(many, 1.04) == "holds"
