"""The Claim record, the registry, user claims (the README snippet), and the renderings."""

from pathlib import Path

import numpy as np
import pytest
import sympy as sp

from lrkd import theory
from lrkd.theory import render

PAPER_IDS = ("convergence", "generalization", "mutual_information", "optimal_rank")


@pytest.fixture
def clean_registry():
    """Remove claims a test registers, so the registry stays the built-ins."""
    before = {c.id for c in theory.all_claims()}
    yield
    for claim in theory.all_claims():
        if claim.id not in before:
            theory.unregister_claim(claim.id)


def test_builtins_are_registered_with_the_paper_claims_first():
    ids = [c.id for c in theory.all_claims()]
    assert tuple(ids[:4]) == PAPER_IDS
    assert {"generalization_sqrt", "rrr_excess_risk"} <= set(ids)
    assert [c.id for c in theory.all_claims(paper=True)] == list(PAPER_IDS)


@pytest.mark.parametrize("claim", theory.BUILTIN_CLAIMS, ids=lambda c: c.id)
def test_every_builtin_claim_is_complete(claim):
    assert claim.kind in theory.KINDS and claim.title and claim.reading and claim.source
    assert claim.assumptions and claim.measured
    assert set(claim.rate_variables) <= set(claim.symbol_names)
    assert all(s.meaning and s.domain for s in claim.symbols)
    assert (claim.wording != "") == claim.paper
    assert isinstance(claim.statement, sp.Basic) and claim.latex()


def test_paper_claims_quote_the_abstract_verbatim():
    abstract = " ".join(Path("/work/shared/seeds/000_7a6e56ad319da09f.txt").read_text(encoding="utf-8").split())
    for claim_id in PAPER_IDS:
        assert " ".join(theory.get_claim(claim_id).wording.split()) in abstract


def test_claimed_exponents_of_the_paper_claims():
    half = sp.Rational(1, 2)
    assert theory.get_claim("convergence").claimed_exponents == {"T": -half}
    assert theory.get_claim("generalization").claimed_exponents == {"N": -half, "r": 1}
    assert theory.get_claim("optimal_rank").claimed_exponents == {"N": half}


def test_statement_direction_follows_kind():
    assert isinstance(theory.get_claim("convergence").statement, sp.LessThan)
    assert isinstance(theory.get_claim("mutual_information").statement, sp.GreaterThan)


def test_unknown_claim_is_a_value_error():
    with pytest.raises(ValueError, match="unknown claim 'nope'"):
        theory.get_claim("nope")


def test_bound_errors_name_the_parameter():
    claim = theory.get_claim("convergence")
    with pytest.raises(ValueError, match="missing parameter.*'Delta'"):
        claim.bound(T=10, L=1, sigma=1)
    with pytest.raises(ValueError, match="'T' must be in \\(0, inf\\)"):
        claim.bound(T=-1, L=1, sigma=1, Delta=1)
    with pytest.raises(ValueError, match="unknown parameter"):
        claim.bound(T=1, L=1, sigma=1, Delta=1, tau=3)
    with pytest.raises(ValueError, match="delta"):
        theory.get_claim("generalization_sqrt").bound(r=1, m=2, n=2, N=10, delta=1.5)
    with pytest.raises(ValueError, match="r <= Min"):
        theory.rrr_excess_risk(r=5, m=3, n=4, N=100, sigma=1.0, tail=0.0)


def test_generalization_constant_defaults_to_one():
    claim = theory.get_claim("generalization")
    assert claim.bound(r=2, m=3, n=5, N=16) == claim.bound(r=2, m=3, n=5, N=16, C=1.0)
    assert claim.required_parameters == ("r", "m", "n", "N")


def test_with_constant_scales_the_bound_and_keeps_exponents():
    claim = theory.get_claim("convergence")
    planted = claim.with_constant(0.01)
    params = dict(T=np.array([10.0, 1e4]), L=2.0, sigma=0.5, Delta=3.0)
    np.testing.assert_allclose(planted.bound(**params), 0.01 * claim.bound(**params), rtol=1e-14)
    assert planted.claimed_exponents == claim.claimed_exponents and planted.id != claim.id
    assert not planted.paper


def test_readme_user_claim_snippet(clean_registry):
    # --- README: "How to add your own claim" (keep in sync) ---
    from lrkd import theory

    claim = theory.Claim.from_formula(
        "sgd_fast_rate",  # id
        "K * L * Delta / T",  # the bound (any sympy formula; names become symbols > 0)
        kind="upper_bound",  # measured <= formula
        rate_variables=("T",),  # its claimed exponent of T (-1) is computed by sympy
        title="SGD reaches O(1/T) stationarity",
        meanings={"T": "SGD steps", "L": "smoothness", "Delta": "f(P0) - inf f", "K": "constant"},
        defaults={"K": 1.0},
        experiment="c1_quadratic",  # binds the claim to run data for validate/
        columns={"T": "T", "L": "L", "Delta": "Delta"},
        measured_column="avg_grad_norm_sq",
    )
    theory.register_claim(claim)
    theory.get_claim("sgd_fast_rate").bound(T=[10, 100], L=1.0, Delta=1.0)  # array([0.1, 0.01])
    # --- end of README snippet ---
    got = theory.get_claim("sgd_fast_rate")
    assert got in theory.all_claims()
    np.testing.assert_allclose(got.bound(T=[10, 100], L=1.0, Delta=1.0), [0.1, 0.01], rtol=1e-15)
    assert got.claimed_exponents == {"T": -1}
    assert "sgd_fast_rate" in render.claim_text(got)


def test_duplicate_id_is_rejected_unless_replace(clean_registry):
    claim = theory.Claim.from_formula("dup_claim", "a / N", kind="upper_bound")
    theory.register_claim(claim)
    with pytest.raises(ValueError, match="already registered"):
        theory.register_claim(claim)
    replacement = theory.Claim.from_formula("dup_claim", "2 * a / N", kind="upper_bound")
    theory.register_claim(replacement, replace=True)
    assert theory.get_claim("dup_claim") is replacement


def test_claim_with_explicit_symbols(clean_registry):
    T, L = sp.symbols("T L", positive=True)
    claim = theory.Claim(
        id="explicit_symbols",
        expr=L / sp.sqrt(T),
        kind="upper_bound",
        rate_variables=("T",),
        symbols=(theory.SymbolInfo("T", T, "steps"), theory.SymbolInfo("L", L, "smoothness")),
    )
    assert theory.register_claim(claim).exponent("T") == sp.Rational(-1, 2)


@pytest.mark.parametrize(
    "bad, match",
    [
        (dict(kind="sideways"), "kind"),
        (dict(id="9lives"), "claim id"),
        (dict(rate_variables=("Q",)), "unknown symbols"),
        (dict(expr=sp.Symbol("x") / sp.Symbol("T", positive=True)), "not described"),
    ],
)
def test_malformed_claims_are_value_errors(bad, match):
    T = sp.Symbol("T", positive=True)
    fields = dict(id="ok", expr=1 / T, kind="upper_bound", symbols=(theory.SymbolInfo("T", T),))
    with pytest.raises(ValueError, match=match):
        theory.Claim(**(fields | bad))


def test_text_and_latex_renderings_cover_every_claim():
    text = render.claims_text()
    latex = render.claims_latex()
    for claim in theory.all_claims():
        assert claim.id in text and render.tex_text(claim.id) in latex
    block = render.claim_text(theory.get_claim("convergence"))
    for part in ("convergence", "paper wording", "statement", "symbols", "assumptions", "source"):
        assert part in block
    assert latex.count("\\begin{") == latex.count("\\end{")


def test_tex_text_keeps_math_and_escapes_prose():
    assert render.tex_text("rate $O(1/\\sqrt{T})$ & 5% of W_T") == "rate $O(1/\\sqrt{T})$ \\& 5\\% of W\\_T"


def test_rstar_table_renderings():
    assert "log(N)/(2*beta)" in render.rstar_table_markdown()
    assert "\\frac{1}{2 \\alpha}" in render.rstar_table_latex()
