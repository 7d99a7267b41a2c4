"""validate/: turns runs into evidence and a verdict per claim.

Bound checks, exponent fits with bootstrap intervals, the empirical optimal rank, spectrum-family
fits, mutual-information estimators, and the verdict logic of claims.md. It uses theory/ and
simulate/ and knows nothing of rendering (reports/ draws the Figure records verdicts carry).
"""

from lrkd.validate import mi, spectrum
from lrkd.validate.fits import ExponentFit, compare_exponent, fit_exponent
from lrkd.validate.rstar import empirical_rstar, fit_rstar_exponent
from lrkd.validate.spectrum import SpectrumFit, fit_spectrum
from lrkd.validate.verdict import CODES, Figure, Verdict
from lrkd.validate.verdicts import check_claim

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
