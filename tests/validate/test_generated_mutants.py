"""Generated mutation testing (scripts/mutate.py, `make mutate`): the mutator itself, and a fixed
sample of its mutants, each of which calibration must kill.

The mutator's tests run on a toy module written to a temporary folder: a mutant changes what a
function computes wherever it is referenced (`from toy import f` included), methods, properties
and static methods included, module constants and the defaults computed from them too; leaving the
block restores everything, also after an exception; ids do not move when unrelated code does.

The sample: 15 mutants drawn with a fixed seed from those the last full run (`make mutate`,
tests/mutation/baseline.txt) killed at calibration seed 0, judged again on the seed-0 calibration
runs (conftest's session `small_runs`). Every one must still be killed: a planted claim the intact
engine gets right comes out wrong, or the mutant raises or runs past its time. A mutant that
survives now is a planted claim or rule that lost its power, named with its line and what it
changes (the full run lists every survivor over seeds 0..4, with the score).
"""

from __future__ import annotations

import importlib
import importlib.util
import random
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_SIZE = 15
SAMPLE_SEED = 0


def _load_mutate():
    """scripts/mutate.py as a module (scripts/ is not a package)."""
    name = "lrkd_scripts_mutate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / "mutate.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the file executes
    spec.loader.exec_module(module)
    return module


mutate = _load_mutate()

TOY = """
LIMIT = 3
SCALED = LIMIT * 2


def above(x, limit=LIMIT):
    return x > limit


class Box:
    size = 4

    def fits(self, x):
        return x <= self.size

    @property
    def big(self):
        return self.size >= 10

    @staticmethod
    def small(x):
        return x < 2 and x >= 0


def twice(x):
    if x > 0 and x < 100:
        return 2 * x
    return 0


def masks(a, b, flag):
    kept = [x for x in a if x or not flag]
    return (a & ~b) if flag else kept


def rows(a):
    return a.reshape(-1, 3)
"""

TOY_USER = """
from toy_mutants import LIMIT, above


def use(x):
    return above(x)


def limit():
    return LIMIT
"""


@pytest.fixture
def toy(tmp_path, monkeypatch):
    """(toy module, a module that imported its names) importable as toy_mutants / toy_mutants_user."""
    (tmp_path / "toy_mutants.py").write_text(TOY)
    (tmp_path / "toy_mutants_user.py").write_text(TOY_USER)
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("toy_mutants", "toy_mutants_user"):
        sys.modules.pop(name, None)
    mutate._IMPORTERS.clear()
    mutate._USES.clear()
    toy, user = importlib.import_module("toy_mutants"), importlib.import_module("toy_mutants_user")
    # the importer map lists lrkd modules only; the toy's importer is added by hand
    mutate._IMPORTERS["toy_mutants"] = {"LIMIT": [(user, "LIMIT")], "above": [(user, "above")]}
    yield toy, user
    for name in ("toy_mutants", "toy_mutants_user"):
        sys.modules.pop(name, None)
    mutate._IMPORTERS.clear()
    mutate._USES.clear()


def _mutant(mutant_id: str):
    found = {m.id: m for m in mutate.generate("toy_mutants")}
    assert mutant_id in found, sorted(found)
    return found[mutant_id]


def test_a_comparison_mutant_changes_the_function_everywhere_and_is_restored(toy):
    module, user = toy
    function, code = module.above, module.above.__code__
    assert (module.above(3), user.use(3)) == (False, False)
    with mutate.applied(_mutant("toy_mutants:above:gt->ge#0")) as done:
        assert done.changes == ["code above"]  # nothing else swapped
        assert module.above is function  # the same object, its code swapped
        assert (module.above(3), user.use(3)) == (True, True)
    assert module.above.__code__ is code
    assert (module.above(3), user.use(3)) == (False, False)


def test_methods_properties_and_static_methods_are_mutated(toy):
    module, _ = toy
    box = module.Box()
    with mutate.applied(_mutant("toy_mutants:Box.fits:le->lt#0")):
        assert box.fits(4) is False
    with mutate.applied(_mutant("toy_mutants:Box.big:10-1#0")):
        box.size = 9
        assert box.big is True
    box.size = 9
    assert box.big is False
    with mutate.applied(_mutant("toy_mutants:Box.small:and->or#0")):
        assert module.Box.small(5) is True
    assert (box.fits(4), module.Box.small(5)) == (True, False)


def test_a_module_constant_is_set_in_its_importers_and_in_what_is_computed_from_it(toy):
    module, user = toy
    assert (module.above(4), user.limit(), module.SCALED) == (True, 3, 6)
    with mutate.applied(_mutant("toy_mutants:<module>:3+1#0")) as done:
        assert {"name LIMIT", "name SCALED", "defaults above"} <= set(done.changes)
        assert (module.LIMIT, user.LIMIT, module.SCALED, module.above.__defaults__) == (4, 4, 8, (4,))
        assert module.above(4) is False
    assert (module.LIMIT, user.LIMIT, module.SCALED, module.above.__defaults__) == (3, 3, 6, (3,))


def test_an_if_negation_and_a_constant_inside_a_function(toy):
    module, _ = toy
    assert module.twice(5) == 10
    with mutate.applied(_mutant("toy_mutants:twice:if-negated#0")):
        assert module.twice(5) == 0
    with mutate.applied(_mutant("toy_mutants:twice:2+1#0")):
        assert module.twice(5) == 15
    assert module.twice(5) == 10


def test_restored_after_an_exception(toy):
    module, _ = toy
    code = module.above.__code__
    with pytest.raises(RuntimeError, match="inside"):
        with mutate.applied(_mutant("toy_mutants:<module>:3+1#0")):
            with mutate.applied(_mutant("toy_mutants:above:gt->ge#0")):
                raise RuntimeError("inside")
    assert (module.above.__code__, module.LIMIT, module.above.__defaults__) == (code, 3, (3,))


def test_ids_are_stable_under_unrelated_edits(toy):
    before = {m.id: m for m in mutate.generate("toy_mutants")}
    edited = textwrap.dedent(
        '''
        """A docstring and an unrelated function, added above everything."""


        def unrelated(x):
            return x > 7 and x != 2 or not x
        '''
    ) + TOY.replace("return 0\n", "return 0  # unchanged\n")
    after = {m.id: m for m in mutate.generate("toy_mutants", edited)}
    kept = {i for i in after if not i.startswith("toy_mutants:unrelated:")}
    assert kept == set(before)
    assert all(after[i].line == before[i].line + 6 for i in before)  # the lines moved, the ids did not
    assert len(after) > len(before)


def test_a_trace_records_the_lines_run(toy):
    module, _ = toy
    _, trace = mutate.traced(lambda: module.twice(-1), {module.__file__})
    lines = trace.lines[module.__file__]
    source = Path(module.__file__).read_text().splitlines()
    ran = {source[n - 1].strip() for n in lines}
    assert "return 0" in ran and "return 2 * x" not in ran


def test_every_operator_is_generated(toy):
    operators = {m.operator for m in mutate.generate("toy_mutants")}
    expected = {"gt->ge", "gt->le", "le->lt", "le->gt", "ge->gt", "ge->lt", "lt->le", "lt->ge", "and->or"}
    expected |= {"or->and", "&->|", "~-removed", "not-removed", "if-negated", "ifexp-negated", "compif-negated"}
    expected |= {"3+1", "3-1", "2+1", "2-1", "10+1", "10-1"}
    assert expected <= operators, sorted(expected - operators)
    # a single comparison's negation is the comparison mutant already: no duplicate `if` negation
    assert not any(m.operator == "if-negated" and m.qualname == "Box.fits" for m in mutate.generate("toy_mutants"))


def test_reshape_minus_one_is_not_mutated(toy):
    """numpy reads any negative size in reshape as "the rest": -1 -> -2 or 0 would be noise, not a
    mutant; the other sizes are mutated."""
    operators = {m.operator for m in mutate.generate("toy_mutants") if m.qualname == "rows"}
    assert operators == {"3+1", "3-1"}


def test_a_run_judges_the_listed_mutants_every_one_or_a_sample(toy):
    """The selection after tracing (a count once shadowed the `--ids` list there, and every whole-pool
    run then died after minutes of tracing): the listed ones, all, or a sample of reached,
    non-equivalent ones, reproducible by its seed."""
    mutants = mutate.generate("toy_mutants")
    reach = {m.id: i % 2 == 0 for i, m in enumerate(mutants)}
    equivalents = {mutants[0].id: "why"}
    assert mutate.chosen_mutants(mutants, None, reach, equivalents, None, 0) == mutants
    assert mutate.chosen_mutants(mutants, mutants[:2], reach, equivalents, None, 0) == mutants[:2]
    sample = mutate.chosen_mutants(mutants, None, reach, equivalents, 2, 7)
    assert len(sample) == 2 and all(reach[m.id] and m.id not in equivalents for m in sample)
    assert sample == mutate.chosen_mutants(mutants, None, reach, equivalents, 2, 7)


def test_every_decision_module_has_mutants():
    mutants, _ = mutate.all_mutants()
    assert {m.module for m in mutants} == set(mutate.MODULES)
    assert len({m.id for m in mutants}) == len(mutants)


def test_every_engine_test_file_exists_and_names_a_decision_module():
    assert set(mutate.ENGINE_TESTS) == set(mutate.MODULES)
    files = {f for group in mutate.ENGINE_TESTS.values() for f in group}
    assert sorted(f for f in files if not (ROOT / f).is_file()) == []


def test_the_engine_tests_pass_intact_and_fail_on_a_mutant_calibration_misses():
    # the lane mutate.judge runs after calibration: pytest in this process, on the live (mutated) code
    module = "lrkd.validate.engine.rstar"
    assert mutate.engine_test_failures(module) == []
    mutants, sources = mutate.all_mutants([module])
    mutant = next(m for m in mutants if m.id == "engine.rstar:rstar_variance:12.0*2#0")  # (w^2 - 1) / 24
    with mutate.applied(mutant, sources[module]):
        failed = mutate.engine_test_failures(module)
    assert failed and all("test_rstar.py::" in f for f in failed)


def test_every_listed_equivalent_mutant_exists_and_has_a_reason():
    equivalents = mutate.read_equivalents()
    ids = {m.id for m in mutate.all_mutants()[0]}
    assert sorted(set(equivalents) - ids) == []
    assert all(len(why.split()) >= 3 for why in equivalents.values())


# -- the sample: calibration kills generated mutants ------------------------------------------------
@pytest.fixture(scope="module")
def seed0(small_runs):
    """Seed-0 calibration evidence (validate's evidence tables derived again, traced; the planted
    claims traced per source: a quicker trace than per claim, and the same verdicts)."""
    runs = mutate.strip_evidence(small_runs(seed=0))
    return mutate.seed_evidence(0, runs=runs, per="source", log=lambda message: None)


def test_a_sample_of_the_mutants_calibration_killed_still_dies(seed0, record_property):
    """Calibration has not lost power: 15 mutants the last full run (tests/mutation/baseline.txt)
    killed at seed 0, drawn with a fixed seed among those still generated, are killed again."""
    assert sum(seed0.intact.values()) >= 20, "the intact engine must get most planted claims right"
    baseline = mutate.read_baseline()
    mutants, sources = mutate.all_mutants()
    current = {m.id: m for m in mutants}
    recorded = [i for i, (status, seed) in baseline.items() if status == "killed" and seed == 0]
    still = [i for i in recorded if i in current]
    # ids move only when the code they are in changes (test_ids_are_stable_under_unrelated_edits)
    assert len(still) >= 0.8 * len(recorded) > 0, "regenerate tests/mutation/baseline.txt (make mutate)"
    sample = random.Random(SAMPLE_SEED).sample(sorted(still), min(SAMPLE_SIZE, len(still)))
    outcomes = [mutate.judge(current[i], [seed0], source=sources[current[i].module]) for i in sample]
    record_property("killed", sum(o.status == "killed" for o in outcomes))
    alive = [mutate.survivor_line(o) for o in outcomes if o.status != "killed"]
    assert not alive, f"{len(alive)} of {len(sample)} mutants killed before now survive calibration:\n" + "\n".join(
        alive
    )


def test_every_function_left_out_as_deciding_nothing_exists():
    """NOT_DECISIONS names functions of the decision modules: a renamed one must be renamed there."""
    for key in mutate.NOT_DECISIONS:
        short, qualname = key.split(":")
        owner = importlib.import_module(mutate.PREFIX + short)
        for part in qualname.split("."):
            assert hasattr(owner, part), key
            owner = getattr(owner, part)
    ids = {m.qualname for m in mutate.generate("lrkd.validate.engine.checks")}
    assert "_fit_text" not in ids and "decide" in ids


def test_a_mutant_of_another_text_than_the_live_module_is_refused(toy):
    module, _ = toy
    edited = TOY.replace("return 2 * x", "return 3 * x")  # the file edited after the import
    mutant = {m.id: m for m in mutate.generate("toy_mutants", edited)}["toy_mutants:above:gt->ge#0"]
    with pytest.raises(mutate.StaleSource):
        with mutate.applied(mutant, edited):
            pass
    assert (module.twice(5), module.above(3)) == (10, False)
