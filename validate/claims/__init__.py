"""The claim families: what validate reads from each experiment, and the planted claims that test it.

    c1.py ... c4.py      a family's checks, evidence and predictions (validate.registry's @check,
                         @evidence, @prediction)
    c1_planted.py ...    its planted claims and the evidence they read, for calibration
                         (@planted_cases, @planted_sources)
    real.py              the real-model run (lrc_real), read by the same claims

`register_all()` imports every module of the package (validate.registry's readers call it), so
check_claim (validate.judge) and calibration (validate.calibration) find every family without
naming one, and importing one family (say c4) does not import the others.
"""

import importlib
import pkgutil


def register_all() -> None:
    """Import every family module (each registers its checks, evidence and planted claims); idempotent."""
    for module in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{module.name}")
