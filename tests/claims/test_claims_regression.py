"""The CI regression of theory claims: the quick synthetic experiments must reproduce every verdict
and key exponent of reports/baseline.json (the same check as `lrkd verify`).

When a change is intended (a new reading of a claim, a better experiment), regenerate the
baseline with `lrkd verify --update` and say why in the commit.
"""

from __future__ import annotations

import pytest

from lrkd.cli import verify
from lrkd.validate.engine.verdict import CODES, NOT_TESTED

PAPER_CLAIMS = ("convergence", "generalization", "mutual_information", "optimal_rank")

pytestmark = pytest.mark.claims


@pytest.fixture(scope="module")
def current():
    return verify.current_entries(store=None)


def test_verdicts_match_the_committed_baseline(current):
    diffs, new = verify.compare(verify.load_baseline(verify.BASELINE), current)
    assert not diffs, "claims regressed against reports/baseline.json:\n" + "\n".join(map(str, diffs))
    assert not new, f"entries missing from the baseline (run `lrkd verify --update`): {new}"


def test_every_paper_claim_has_a_verdict(current):
    checked = {e["claim"] for e in current}
    assert set(PAPER_CLAIMS) <= checked
    # A code, or "not_tested" where the run cannot test the claim (e.g. the sqrt bound on Gaussian data).
    assert all(e["verdict"] in (*CODES, NOT_TESTED) for e in current)
    assert all(e["verdict"] in CODES for e in current if e["claim"] in PAPER_CLAIMS)
