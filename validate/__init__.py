"""validate/: turns runs into evidence and a verdict per claim.

Bound checks, exponent fits with bootstrap intervals, the empirical optimal rank, spectrum-family
fits, mutual-information estimators, and the verdict logic of claims.md. It uses theory/ and
simulate/ and knows nothing of rendering (reports/ draws the Figure records verdicts carry).

The names below load on first use (PEP 562): importing one module of validate (a claim family, an
engine module) does not import every family and experiment with it.
"""

import importlib

#: public name -> the module that defines it
_EXPORTS = {
    "mi": "lrkd.validate.engine.mi",
    "spectrum": "lrkd.validate.engine.spectrum",
    "ExponentFit": "lrkd.validate.engine.fits",
    "fit_exponent": "lrkd.validate.engine.fits",
    "compare_exponent": "lrkd.validate.engine.fits",
    "empirical_rstar": "lrkd.validate.engine.rstar",
    "fit_rstar_exponent": "lrkd.validate.engine.rstar",
    "SpectrumFit": "lrkd.validate.engine.spectrum",
    "fit_spectrum": "lrkd.validate.engine.spectrum",
    "CODES": "lrkd.validate.engine.verdict",
    "Figure": "lrkd.validate.engine.verdict",
    "Verdict": "lrkd.validate.engine.verdict",
    "check_claim": "lrkd.validate.judge",
}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'lrkd.validate' has no attribute {name!r}")
    module = importlib.import_module(_EXPORTS[name])
    return module if module.__name__.endswith("." + name) else getattr(module, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
