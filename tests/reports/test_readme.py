"""The README's own-claim example runs as written and flows through validate/ to a verdict."""

from __future__ import annotations

import re
from pathlib import Path

from lrkd import theory
from lrkd.simulate.experiments import get_experiment
from lrkd.sweep import SerialExecutor
from lrkd.validate import check_claim

README = Path(__file__).resolve().parents[2] / "README.md"


def _snippet(after_heading: str) -> str:
    text = README.read_text()
    section = text[text.index(after_heading) :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_readme_user_claim_registers_and_gets_a_verdict():
    code = _snippet("## Your own claim")
    try:
        exec(compile(code, "README.md", "exec"), {})
        claim = theory.get_claim("sgd_fast_rate")
        experiment = get_experiment(claim.experiment)
        config = experiment.config("quick", steps=[100, 200, 400, 800], seeds=[0, 1, 2, 3], device="cpu")
        verdict = check_claim(claim.id, experiment.run(config, executor=SerialExecutor(), progress=False))
    finally:
        if "sgd_fast_rate" in {c.id for c in theory.all_claims()}:
            theory.unregister_claim("sgd_fast_rate")
    assert verdict.code == "violated", verdict.explanation  # as the README says


def test_readme_python_api_snippet_runs():
    namespace: dict = {}
    exec(compile(_snippet("From Python the pieces are public"), "README.md", "exec"), namespace)
    assert len(namespace["rstar"]) == 3 and namespace["fit"].ci[0] <= namespace["fit"].exponent
    assert str(namespace["theory"].rstar_exponent("power_law", "fast")) == "1/(2*alpha)"
