"""The claim_regression fixture, run the way users run it: pytest sessions of their own (pytester).

A first run writes the baseline and fails; the second passes; a changed claim fails with a short
diff naming both verdicts; --force-regen rewrites the baseline (failing once, saying so) and the
rerun passes; an exponent moved past its tolerance is named with both values.
"""

from __future__ import annotations

import json

import pytest

# Imported here, not first inside a pytester run: an in-process run drops the modules it imported
# when it ends, and torch cannot be imported twice in one process.
from lrkd.testing import experiment_runs
from lrkd.validate import judge  # noqa: F401

pytest_plugins = ["pytester"]

# Tiny c1_quadratic runs (a second each); a test session runs each config once.
TEST_FILE = """
from lrkd import theory

FIELDS = dict(
    kind="upper_bound", rate_variables=("T",), free_constant="C", defaults={{"C": 1.0}},
    experiment="c1_quadratic", measured_column="avg_grad_norm_sq",
    columns={{"T": "T", "L": "L", "sigma": "sigma", "Delta": "Delta"}},
)
RATE = theory.Claim.from_formula("my_rate", "{formula}", **FIELDS)


def test_my_rate(claim_regression):
    claim_regression.check(RATE, steps=[100, 200, 400, 800], seeds=[0, 1, 2, 3], device="cpu")
"""
SQRT_RATE = "C*sigma*sqrt(L*Delta/T)"  # the true rate of SGD's averaged squared gradient: holds
FAST_RATE = "C*sigma*sqrt(L*Delta)/T"  # T^-1: the data decay slower, so the claim is violated


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-W", "error", *args)


def baseline(pytester: pytest.Pytester) -> dict:
    return json.loads((pytester.path / "test_claims" / "test_my_rate.json").read_text())


def failure_lines(result: pytest.RunResult) -> list[str]:
    """The lines of the one failure's report, between its header and the summary."""
    out = result.outlines
    start = next(i for i, line in enumerate(out) if line.startswith("_") and "test_my_rate" in line) + 1
    end = next(i for i, line in enumerate(out) if "short test summary" in line)
    return [line for line in out[start:end] if line.strip()]


@pytest.fixture
def user_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_claims=TEST_FILE.format(formula=SQRT_RATE))
    return pytester


def test_a_missing_baseline_is_written_and_the_rerun_passes(user_suite):
    first = run(user_suite)
    first.assert_outcomes(failed=1)
    first.stdout.fnmatch_lines(["*baseline written: rerun (test_claims/test_my_rate.json: my_rate @ c1_quadratic*"])
    written = baseline(user_suite)
    assert written["claim"] == "my_rate" and written["verdict"] in ("holds", "not_tight")
    assert set(written["exponents"]) == {"exponent"} and written["exponents"]["exponent"]["tolerance"] >= 0.02
    run(user_suite).assert_outcomes(passed=1)


def test_a_changed_claim_fails_with_a_short_diff_naming_both_verdicts(user_suite):
    run(user_suite)
    before = baseline(user_suite)["verdict"]
    user_suite.makepyfile(test_claims=TEST_FILE.format(formula=FAST_RATE))
    result = run(user_suite)
    result.assert_outcomes(failed=1)
    lines = failure_lines(result)
    assert lines == [
        "claim_regression: my_rate @ c1_quadratic differs from test_claims/test_my_rate.json:",
        f"  verdict {before} -> violated",
        "  (accept the new verdict with --force-regen)",
    ]


def test_force_regen_rewrites_the_baseline_and_the_rerun_passes(user_suite):
    run(user_suite)
    user_suite.makepyfile(test_claims=TEST_FILE.format(formula=FAST_RATE))
    regen = run(user_suite, "--force-regen")
    regen.assert_outcomes(failed=1)
    regen.stdout.fnmatch_lines(["*my_rate @ c1_quadratic: baseline rewritten (--force-regen): rerun", "*-> violated"])
    assert baseline(user_suite)["verdict"] == "violated"
    run(user_suite).assert_outcomes(passed=1)
    run(user_suite, "--force-regen").assert_outcomes(passed=1)  # nothing differs: nothing rewritten


def test_an_exponent_moved_past_its_tolerance_is_named_with_both_values(user_suite):
    run(user_suite)
    path = user_suite.path / "test_claims" / "test_my_rate.json"
    entry = json.loads(path.read_text())
    exponent = entry["exponents"]["exponent"]
    measured, moved = exponent["value"], exponent["value"] - 3 * exponent["tolerance"]
    exponent["value"] = moved
    path.write_text(json.dumps(entry))
    result = run(user_suite)
    result.assert_outcomes(failed=1)
    assert f"  exponent {measured:.4g} outside baseline {moved:.4g} +- {exponent['tolerance']:.3g}" in (
        failure_lines(result)
    )
    # within the tolerance it passes
    exponent["value"] = measured - exponent["tolerance"] / 2
    path.write_text(json.dumps(entry))
    run(user_suite).assert_outcomes(passed=1)


def test_force_regen_is_shared_with_a_plugin_or_conftest_that_registers_it(user_suite):
    # pytest-regressions registers --force-regen too; a second registration would crash pytest
    user_suite.makeconftest(
        "def pytest_addoption(parser):\n"
        "    parser.getgroup('regressions').addoption('--force-regen', action='store_true', default=False)\n"
    )
    run(user_suite)
    user_suite.makepyfile(test_claims=TEST_FILE.format(formula=FAST_RATE))
    run(user_suite, "--force-regen").stdout.fnmatch_lines(["*baseline rewritten (--force-regen)*"])
    assert baseline(user_suite)["verdict"] == "violated"


@pytest.mark.parametrize(
    "call, message",
    [
        ('"convergence", experiment="no_such_experiment"', "experiment: unknown experiment 'no_such_experiment'"),
        ('"no_such_claim", experiment="c1_quadratic"', "claim: unknown claim 'no_such_claim'"),
        ('"convergence"', "experiment: claim 'convergence' names no experiment"),
        ('"convergence", experiment="c1_quadratic", seeds=[]', "seeds: must be a non-empty list"),
    ],
)
def test_bad_input_fails_in_one_line_naming_the_field(pytester, call, message):
    pytester.makepyfile(test_claims=f"def test_my_rate(claim_regression):\n    claim_regression.check({call})\n")
    result = run(pytester)
    result.assert_outcomes(failed=1)
    (line,) = failure_lines(result)
    assert line.startswith(f"claim_regression: {message}")
    assert not (pytester.path / "test_claims").exists()


def test_tests_asking_for_the_same_config_share_one_run():
    tiny = dict(steps=[100, 200], seeds=[0, 1], device="cpu")
    first = experiment_runs("c1_quadratic", **tiny)
    assert experiment_runs("c1_quadratic", "quick", **{**tiny, "steps": (100, 200)}) is first
    assert experiment_runs("c1_quadratic", **{**tiny, "seeds": [0, 1, 2]}) is not first
