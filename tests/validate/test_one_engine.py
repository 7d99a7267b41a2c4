"""One engine for built-in and user claims (issue 19): a user claim written with
theory.Claim.from_formula gets the rules a built-in claim of its kind and experiment gets.

Vacuity against the experiment's trivial value (c2: the zero predictor's risk), the experiment's
premises (c1: plain SGD, step <= 1/L), a checked binding to the table with one row per run and grid
point, and the r* growth check in any variable name; bad bindings are InputErrors, never KeyErrors.
"""

import pandas as pd
import pytest

from lrkd import simulate
from lrkd import theory
from lrkd.errors import InputError
from lrkd.sweep import SerialExecutor
from lrkd.validate import check_claim
from lrkd.validate.claims.c1_planted import GHADIMI_LAN, default_quadratic

C1_COLUMNS = {"T": "T", "L": "L", "sigma": "sigma", "Delta": "Delta"}
C2_COLUMNS = {"r": "rank", "m": "m", "n": "n", "N": "n_samples", "sigma": "noise"}
STEPS = [100, 200, 400, 800]


def quadratic(**train):
    return simulate.quadratic_sweep(
        default_quadratic(), STEPS, seeds=range(4), device="cpu", executor=SerialExecutor(), progress=False, **train
    )


@pytest.fixture(scope="module")
def rank_sweep():
    teacher = simulate.LinearTeacher(24, 24, simulate.PowerLaw(1.0), noise=1.0, seed=0)
    return simulate.rank_sweep(
        teacher,
        [1, 2, 4, 8],
        [128, 256, 512, 1024],
        seeds=range(4),
        device="cpu",
        executor=SerialExecutor(),
        progress=False,
    )


def ghadimi_lan(id="mine_gl", **fields):
    fields = {"experiment": "c1_quadratic", "columns": C1_COLUMNS, "measured_column": "avg_grad_norm_sq", **fields}
    return theory.Claim.from_formula(id, GHADIMI_LAN, kind="upper_bound", rate_variables=("T",), **fields)


def test_a_user_bound_above_the_zero_predictors_risk_is_vacuous(rank_sweep):
    claim = theory.Claim.from_formula(
        "mine_vacuous",
        "10000*sigma**2*r*(m+n)/N",
        kind="upper_bound",
        rate_variables=("N",),
        claimed={"N": -1},
        experiment="c2_generalization",
        columns=C2_COLUMNS,
        measured_column="gen_gap",
    )
    verdict = check_claim(claim, rank_sweep)
    assert verdict.code == "vacuous"
    assert verdict.numbers["vacuous_points"] == verdict.numbers["n_points"]


@pytest.mark.parametrize(
    "train",
    [{"optimizer": "adam"}, {"step_rule": "constant", "lr": 1.5 / default_quadratic().L}],
    ids=["adam", "big_step"],
)
def test_a_user_ghadimi_lan_on_broken_premises_is_assumptions_not_met(train):
    assert check_claim(ghadimi_lan(), quadratic(**train)).code == "assumptions_not_met"


def test_a_binding_to_a_table_with_many_rows_per_run_is_refused():
    frame = quadratic()
    trajectory = {"T": "steps", "L": "L_rule", "sigma": "problem.sigma", "Delta": "delta"}
    # the trajectory has a row per step of every run: the one-row-per-run table is named instead
    with pytest.raises(InputError, match=r"candidates: \['evidence'\]; \['trajectory'\] hold them but not one row"):
        check_claim(ghadimi_lan(columns={**C1_COLUMNS, **trajectory}), frame)
    with pytest.raises(InputError, match="evidence"):
        check_claim(ghadimi_lan(table="trajectory"), frame)
    assert check_claim(ghadimi_lan(table="evidence"), frame).code != "violated"


def test_an_unbound_symbol_or_unknown_table_is_an_input_error_naming_it(rank_sweep):
    with pytest.raises(InputError, match="'sigma'"):
        check_claim(ghadimi_lan(columns={"T": "T", "L": "L", "Delta": "Delta"}), quadratic())
    fields = dict(experiment="c2_generalization", columns={"m": "m", "sigma": "noise"}, measured_column="test_risk")
    with pytest.raises(InputError, match="'nope'"):
        check_claim(
            theory.Claim.from_formula("mine_t", "m*sigma**2", kind="lower_bound", table="nope", **fields), rank_sweep
        )


def test_a_bound_binding_no_column_is_an_input_error_not_a_crash():
    # a constant bound (every symbol given a value) has no grid points to be read at: before, pandas'
    # "No group keys passed!" escaped from the grouping
    claim = theory.Claim.from_formula(
        "mine_const",
        "2*L*Delta",
        kind="upper_bound",
        experiment="c1_quadratic",
        measured_column="min_grad_norm_sq",
        defaults={"L": 1.0, "Delta": 0.275},
    )
    with pytest.raises(InputError, match="binds no symbol to a column"):
        check_claim(claim, quadratic())


@pytest.mark.parametrize("rates", [("n_train",), ()], ids=["any_name", "none"])
def test_an_rstar_claim_in_any_variable_name_never_raises_key_error(rank_sweep, rates):
    claim = theory.Claim.from_formula(
        "mine_rstar",
        "C*n_train**(1/2)",
        kind="exponent",
        rate_variables=rates,
        defaults={"C": 1.0},
        experiment="c4_rank",
    )
    if not rates:
        with pytest.raises(InputError, match="rate_variables"):
            check_claim(claim, rank_sweep)
        return
    verdict = check_claim(claim, rank_sweep)
    named_n = theory.Claim.from_formula(
        "mine_rstar_N", "C*N**(1/2)", kind="exponent", rate_variables=("N",), defaults={"C": 1.0}, experiment="c4_rank"
    )
    reference = check_claim(named_n, rank_sweep)
    assert (verdict.code, verdict.numbers["exponent_variable"]) == (reference.code, "n_train")


def test_every_checked_experiment_declares_its_judged_tables():
    """A user claim on any experiment the suite checks is bound to a declared table with one row per
    run and grid point, never to "the first table with the columns" (the fallback for experiments
    that declare none)."""
    from lrkd.validate import registry

    registry.load_families()
    checked = {experiment for experiment, _ in registry.CHECKS}
    missing = sorted(e for e in checked if not registry.JUDGED_TABLES.get(e))
    assert not missing, f"experiments without judged tables: {missing}"
    for experiment, tables in registry.JUDGED_TABLES.items():
        produced = set(registry.EVIDENCE.get(experiment, ((), None))[0])
        raw = {"sweep", "evidence", "spectra"}  # the experiments' own tables (the rest are evidence)
        assert tables and set(tables) <= produced | raw, (experiment, tables, produced)


def test_an_o_claim_needs_no_value_for_its_constant(rank_sweep):
    """An O(.) claim is judged by its exponents: its free constant needs no default (the shape is the
    expression at C = 1, the constant is fitted), and the verdict is the one with C = 1 given."""
    fields = dict(
        kind="upper_bound",
        rate_variables=("N", "r"),
        free_constant="C",
        experiment="c2_generalization",
        columns={k: v for k, v in C2_COLUMNS.items() if k != "sigma"},
        measured_column="gen_gap",
    )
    bare = check_claim(theory.Claim.from_formula("mine_o", "C*r*(m+n)/N", **fields), rank_sweep)
    given = check_claim(theory.Claim.from_formula("mine_o1", "C*r*(m+n)/N", defaults={"C": 1.0}, **fields), rank_sweep)
    assert (bare.code, bare.numbers["best_fit_constant"]) == (given.code, given.numbers["best_fit_constant"])


def test_what_is_not_a_sweep_is_an_input_error_naming_the_runs():
    claim = ghadimi_lan()
    for bad in ([1.0, 2.0], pd.DataFrame(), pd.DataFrame({"x": [1.0]})):  # not a frame, empty, of no known kind
        with pytest.raises(InputError, match="runs"):
            check_claim(claim, bad)


def test_a_claim_on_another_experiment_is_refused_by_name(rank_sweep):
    # a c1 claim handed a rank sweep: no check binds it there, whatever columns the sweep happens to hold
    with pytest.raises(InputError, match="no check binds claim 'mine_gl' to experiment"):
        check_claim(ghadimi_lan(), rank_sweep)


def test_a_user_bound_on_the_rank_experiment_is_read_as_a_bound_not_as_a_growth_law(rank_sweep):
    # the r* growth check takes exponent claims on c4_rank; an upper bound there is the generic bound
    claim = theory.Claim.from_formula(
        "mine_rank_risk",
        "100*sigma**2*(m+n)",
        kind="upper_bound",
        experiment="c4_rank",
        columns={"m": "m", "n": "n", "sigma": "noise"},
        measured_column="test_risk",
    )
    verdict = check_claim(claim, rank_sweep)
    assert verdict.experiment == "c4_rank" and "growth_law" not in verdict.numbers
    # 100 sigma^2 (m + n) = 4800 is above the zero predictor's risk (about 26 here): c4's sweep declares
    # the same vacuity line as c2's
    assert verdict.code == "vacuous"


@pytest.mark.parametrize("formula", ["C*r*(m+n)/N", "100*sigma**2*(m+n)"])
def test_a_bound_on_the_rank_sweep_reads_the_same_on_c2_and_c4(rank_sweep, formula):
    # one reduced-rank sweep, two experiments that run it: the same vacuity line and the same
    # finite-size offsets (theory's expected gap on the grid), so the same verdict and numbers
    fields = {"rate_variables": ("N",), "free_constant": "C"} if "C" in formula else {}
    verdicts = [
        check_claim(
            theory.Claim.from_formula(
                "mine_gap",
                formula,
                kind="upper_bound",
                experiment=experiment,
                columns={k: v for k, v in C2_COLUMNS.items() if k in formula},
                measured_column="gen_gap",
                **fields,
            ),
            rank_sweep,
        )
        for experiment in ("c2_generalization", "c4_rank")
    ]
    assert verdicts[0].code == verdicts[1].code
    assert {k: v for k, v in verdicts[0].numbers.items() if "offset" in k or "trivial" in k} == {
        k: v for k, v in verdicts[1].numbers.items() if "offset" in k or "trivial" in k
    }
    if fields:
        assert verdicts[1].numbers["finite_size_offset_N"] < 0  # theory's local slope is below -1 at small N
