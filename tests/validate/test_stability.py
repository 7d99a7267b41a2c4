"""The seed-bootstrap stability of a verdict code (validate.engine.stability): a clearly decided case
is stable, an edge case is not and turns inconclusive, and the threshold rule flips with its constant."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lrkd.validate.engine import stability as st
from lrkd.validate.engine.checks import mean_interval


def _effects(mean: float, sd: float, seeds: int = 5, rows_per_seed: int = 3) -> pd.DataFrame:
    """Per seed one effect (mean + sd z), repeated over a few rows (as evidence tables are)."""
    z = np.random.default_rng(3).standard_normal(seeds)
    return pd.DataFrame(
        [{"seed": s, "effect": mean + sd * z[s], "row": r} for s in range(seeds) for r in range(rows_per_seed)]
    )


def _sign_code(tables) -> str:
    """holds when the seed means' t-interval is above zero, violated below, inconclusive otherwise."""
    per_seed = tables["evidence"].groupby("seed")["effect"].mean().to_numpy()
    low, high = mean_interval(per_seed)
    return "holds" if low > 0 else "violated" if high < 0 else "inconclusive"


def _mean_code(tables) -> str:
    """holds when the mean effect over seeds is positive: the full sample decides, the bootstrap
    moves it only as far as the seeds disagree."""
    return "holds" if tables["evidence"].groupby("seed")["effect"].mean().mean() > 0 else "violated"


def test_a_clearly_decided_code_is_stable():
    found = st.seed_bootstrap_stability(_sign_code, {"evidence": _effects(5.0, 0.1)})
    assert found.code == "holds" and found.share == 1.0 and found.tally == {"holds": st.DEFAULT_RESAMPLES}
    assert st.require_stable(found.code, found) == st.StableCode("holds", False, "", "")


def test_an_edge_code_is_unstable_and_turns_inconclusive():
    evidence = _effects(0.0, 1.0)
    mean = evidence.groupby("seed")["effect"].mean().mean()
    evidence["effect"] += 0.05 - mean  # the mean just above zero: the code rests on one or two seeds
    found = st.seed_bootstrap_stability(_mean_code, {"evidence": evidence})
    assert found.code == "holds" and 0.3 < found.share < 0.8, found
    assert set(found.tally) == {"holds", "violated"}
    ruled = st.require_stable(found.code, found)
    assert ruled.code == "inconclusive" and ruled.demoted and "seeds" in ruled.would_change


def test_duplicated_seeds_stay_distinct_groups_and_unseeded_tables_pass_unchanged():
    seen = []

    def record(tables):
        seen.append((tables["evidence"]["seed"].nunique(), len(tables["evidence"]), tables["fixed"] is fixed))
        return "holds"

    fixed = pd.DataFrame({"x": [1.0]})
    st.seed_bootstrap_stability(record, {"evidence": _effects(1.0, 1.0), "fixed": fixed}, n_resamples=20)
    # every resample (after the full-data call) has 5 groups of 3 rows, whatever seeds were drawn twice
    assert seen[1:] and all(s == (5, 15, True) for s in seen[1:])


def test_the_stability_is_deterministic():
    a = st.seed_bootstrap_stability(_mean_code, {"evidence": _effects(0.2, 1.0)}, seed=4)
    b = st.seed_bootstrap_stability(_mean_code, {"evidence": _effects(0.2, 1.0)}, seed=4)
    assert a == b


@pytest.mark.parametrize("share", [0.85, 0.95])
def test_the_threshold_rule_flips_with_its_constant(share):
    found = st.Stability("holds", share, {"holds": int(100 * share), "inconclusive": 100 - int(100 * share)}, 100, 4)
    below, above = share - 0.05, share + 0.05  # thresholds on either side of the planted share
    assert st.require_stable("holds", found, threshold=below).code == "holds"
    ruled = st.require_stable("holds", found, threshold=above)
    assert ruled.code == "inconclusive" and f"{share:.0%}" in ruled.sentence
    # the named constant sits between the two planted shares
    assert st.require_stable("holds", found).code == ("holds" if share >= st.MIN_STABILITY else "inconclusive")


def test_only_decisive_codes_are_demoted_and_one_seed_is_not_measurable():
    found = st.Stability("inconclusive", 0.2, {"inconclusive": 2, "holds": 8}, 10, 4)
    assert st.require_stable("inconclusive", found).code == "inconclusive"
    assert st.require_stable("assumptions_not_met", found).code == "assumptions_not_met"
    one = st.seed_bootstrap_stability(_mean_code, {"evidence": _effects(1.0, 1.0, seeds=1)})
    assert np.isnan(one.share) and one.n_seeds == 1
    assert st.require_stable(one.code, one).code == "inconclusive"


def test_seeds_for_stability_grows_as_the_share_falls():
    near, far = st.seeds_for_stability(0.85, n_seeds=4), st.seeds_for_stability(0.6, n_seeds=4)
    assert 4 < near < far
    assert st.seeds_for_stability(0.5, n_seeds=4) is None


def test_a_resample_counts_only_with_three_distinct_seeds():
    """A draw that holds one or two distinct seeds hands the code copies it takes for independent
    seeds (a zero-width interval from one seed); such draws are not counted, and more are drawn."""
    seen = []

    def distinct(tables):  # each seed has its own effect value: distinct values = distinct seeds drawn
        seen.append(tables["evidence"]["effect"].nunique())
        return "holds"

    found = st.seed_bootstrap_stability(distinct, {"evidence": _effects(1.0, 1.0, seeds=4)}, n_resamples=300)
    assert seen[1:] and min(seen[1:]) >= st.MIN_DISTINCT_SEEDS and len(seen) == 301
    # 4 seeds: 168 of the 256 equally likely draws hold at least 3 distinct seeds
    assert found.n_resamples == 300 and 300 / found.n_drawn == pytest.approx(168 / 256, abs=0.06)
    # without the rule (min_distinct=1) the degenerate draws are counted too
    seen.clear()
    st.seed_bootstrap_stability(distinct, {"evidence": _effects(1.0, 1.0, seeds=4)}, n_resamples=300, min_distinct=1)
    assert min(seen[1:]) <= 2


def test_no_counted_resample_is_decided_by_a_zero_width_interval():
    """A draw of one seed n times gives a t-interval of zero width: its code is the sign of one
    seed, whatever the noise between seeds. With the rule no counted draw has it; without, 4 seeds
    give such a draw 4 times in 256."""
    widths = []

    def width(tables):
        low, high = mean_interval(tables["evidence"].groupby("seed")["effect"].mean().to_numpy())
        widths.append(high - low)
        return "holds"

    tables = {"evidence": _effects(1.0, 1.0, seeds=4)}
    st.seed_bootstrap_stability(width, tables, n_resamples=400)
    assert min(widths[1:]) > 0.1
    widths.clear()
    st.seed_bootstrap_stability(width, tables, n_resamples=400, min_distinct=1)
    assert min(widths[1:]) == 0.0


def test_three_seeds_are_too_few_to_measure_the_stability():
    """With 3 seeds the only draws that count are the 6 orders of the data (a share of 1 by
    construction): not measured, and a decisive code is inconclusive, asking for 4 seeds."""
    found = st.seed_bootstrap_stability(_sign_code, {"evidence": _effects(5.0, 0.1, seeds=3)})
    assert found.code == "holds" and np.isnan(found.share) and found.n_seeds == 3 and found.tally == {}
    ruled = st.require_stable(found.code, found)
    assert ruled.code == "inconclusive" and f"{st.MIN_STABILITY_SEEDS} seeds" in ruled.would_change
    four = st.seed_bootstrap_stability(_sign_code, {"evidence": _effects(5.0, 0.1, seeds=4)})
    assert four.share == 1.0 and st.require_stable(four.code, four).code == "holds"
