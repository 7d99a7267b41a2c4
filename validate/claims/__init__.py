"""The claim families: what validate reads from each experiment, and the planted claims that test it.

    c1.py ... c4.py      a family's checks, evidence and predictions (validate.registry's @check,
                         @evidence, @prediction)
    c1_planted.py ...    its planted claims and the evidence they read, for calibration
                         (@planted_cases, @planted_sources)
    real.py              the real-model run (lrc_real), read by the same claims

Importing the package registers all of them, so check_claim (validate.judge) and calibration
(validate.calibration) find every family without naming one.
"""

from lrkd.validate.claims import c1, c2, c3, c4, real  # noqa: F401 (each registers its checks and evidence)
from lrkd.validate.claims import c1_planted, c2_planted, c3_planted, c4_planted  # noqa: F401 (each registers its planted claims)
