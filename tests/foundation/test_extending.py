"""What README's "Extending lrkd" promises: one home per pairing, everything else derived.

A claim with its own check touches theory/<family>.py, validate/c<k>.py (the @check line) and the
baseline; an experiment touches simulate/experiments/<name>.py and reports/plan.py. These tests
fail if a second table of pairings, a hand-kept claim list or a stray experiment name comes back.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

import lrkd.simulate.experiments
from lrkd import theory
from lrkd.simulate.experiments import all_experiments, get_experiment
from lrkd.reports import plan
from lrkd.simulate.experiments import REGISTRY, Experiment, Runs, register_experiment
from lrkd.validate import check_claim, registry
from lrkd.validate import judge as verdicts
from lrkd.validate.engine.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ("theory", "simulate", "validate", "reports", "lrkd")
BUILTIN = [e.name for e in all_experiments() if e.run.__module__.startswith("lrkd.simulate.experiments.")]


def _string_constants(path: Path) -> set[str]:
    """Every string literal of a module, except the names its __all__ (or lazy _EXPORTS map) exports (functions that
    happen to share an experiment's name, such as simulate.lrc.teacher_spectra)."""
    tree = ast.parse(path.read_text())
    exported = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id in ("__all__", "_EXPORTS") for t in node.targets)
        for n in ast.walk(node.value)
    }
    return {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in exported
    }


@pytest.mark.parametrize("name", BUILTIN)
def test_an_experiment_name_is_spelled_where_it_is_defined_and_in_the_plan_only(name):
    home = Path(importlib.import_module(get_experiment(name).run.__module__).__file__).relative_to(ROOT)
    spelled = sorted(
        str(p.relative_to(ROOT))
        for layer in LIBRARY
        for p in (ROOT / layer).rglob("*.py")
        if name in _string_constants(p)
    )
    assert set(spelled) <= {str(home), "reports/plan.py"}, spelled


def test_every_experiment_module_registers_and_the_plan_runs_every_builtin():
    modules = [
        m.name for m in pkgutil.iter_modules(lrkd.simulate.experiments.__path__) if m.name not in ("base", "common")
    ]
    homes = {get_experiment(n).run.__module__.rsplit(".", 1)[1] for n in BUILTIN}
    assert homes == set(modules)
    planned = {j.experiment for size in ("quick", "full") for j in plan.jobs(size, real=True)}
    assert planned == set(BUILTIN)


def test_every_builtin_check_reads_a_registered_claim_on_a_registered_experiment():
    for experiment, claim_id in registry.CHECKS:
        assert experiment in REGISTRY and theory.get_claim(claim_id)
    assert set(registry.claim_order()) == {c.id for c in theory.BUILTIN_CLAIMS}


def test_the_claim_catalog_lists_every_module_level_claim_of_the_families():
    from lrkd.theory import catalog

    defined = {v.id for m in catalog.FAMILIES for v in vars(m).values() if isinstance(v, theory.Claim)}
    assert {c.id for c in theory.BUILTIN_CLAIMS} == defined
    assert [c.paper for c in theory.BUILTIN_CLAIMS] == sorted((c.paper for c in theory.BUILTIN_CLAIMS), reverse=True)


# -- a new experiment and a claim with its own check, registered the way the README says --------------
@dataclass(frozen=True)
class ConstantConfig:
    value: float = 2.0


def _run_constant(cfg: ConstantConfig, *, store=None, executor=None, progress=None) -> Runs:
    return Runs("t_constant", "", {"points": pd.DataFrame({"x": [1.0, 2.0], "y": [cfg.value] * 2})})


@pytest.fixture
def extended():
    """A new experiment, a new claim and one @check line; removed afterwards."""
    experiment = register_experiment(
        Experiment("t_constant", ConstantConfig, _run_constant, "test only", {"quick": {}})
    )
    claim = theory.Claim.from_formula("t_below_three", "3 + 0*x", kind="upper_bound", title="y <= 3")
    theory.register_claim(claim)

    @registry.check(experiment, claim.id)
    def below_three(claim, runs) -> Verdict:
        worst = float(runs["points"]["y"].max())
        return Verdict(
            claim.id, runs.name, "holds" if worst <= 3 else "violated", f"max y = {worst:g}", {"max_y": worst}, None, ""
        )

    yield experiment, claim
    del REGISTRY[experiment.name], registry.CHECKS[(experiment.name, claim.id)]
    theory.unregister_claim(claim.id)


def test_a_new_claim_and_experiment_reach_every_consumer_from_one_check_line(extended):
    experiment, claim = extended
    runs = get_experiment("t_constant").run(experiment.config("quick"))
    assert [c.id for c in verdicts.claims_checked_by(runs)] == [claim.id]
    assert registry.claims_of(experiment) == [claim.id] and claim.id in registry.claim_order()
    assert check_claim(claim.id, runs).code == "holds"
    assert check_claim(claim.id, experiment.run(experiment.config("quick", value=4.0))).code == "violated"
    from lrkd.reports.render import section_rank

    assert section_rank(claim.id) == registry.claim_order().index(claim.id)
    assert plan.all_verdicts([runs])[0].claim == claim.id
