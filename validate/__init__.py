"""validate/: turns runs into evidence and a verdict per claim.

Bound checks, exponent fits with bootstrap intervals, the empirical optimal rank, spectrum-family
fits, mutual-information estimators, and the verdict logic of claims.md. It uses theory/ and
simulate/ and knows nothing of rendering (reports/ draws the Figure records verdicts carry).
"""

from lrkd.validate.engine import mi
from lrkd.validate.engine import spectrum
from lrkd.validate.engine.fits import ExponentFit, compare_exponent, fit_exponent
from lrkd.validate.engine.rstar import empirical_rstar, fit_rstar_exponent
from lrkd.validate.engine.spectrum import SpectrumFit, fit_spectrum
from lrkd.validate.engine.verdict import CODES, Figure, Verdict
from lrkd.validate.judge import check_claim

__all__ = [
    "mi",
    "spectrum",
    "ExponentFit",
    "fit_exponent",
    "compare_exponent",
    "empirical_rstar",
    "fit_rstar_exponent",
    "SpectrumFit",
    "fit_spectrum",
    "CODES",
    "Figure",
    "Verdict",
    "check_claim",
]
