"""Named experiments (config -> grid -> tables), one module per claim family, each beside the sweeps
it runs. Importing this package registers them all; `get_experiment(name)` finds
one (and loads user plugins named in LRKD_PLUGINS). validate/ reads their Runs; the report plan (reports/plan.py) names
which presets a report runs.

  c1_quadratic      SGD on a quadratic with known L, sigma, Delta (the C1 bound is known true)
  c1_lowrank        SGD on the linear LRC-style student f(P) = g(W_T P), exact L and Delta
  c2_generalization closed-form reduced-rank regression over ranks x N x seeds
  c3_information    two-layer teachers, a hidden activation cloned; noisy-label and clean-KD controls
  c4_rank           rank sweeps at several N for one planted spectrum
  lrc_real          real LRC distillation of SmolLM2-135M on KJV text (simulate.lrc)
  teacher_spectra   the real teacher's weight spectra

A new experiment is one module here (config dataclass, run function, register_experiment): it is
found with no other edit. The modules load on first use: `get_experiment` and `all_experiments`
import every module of this package (base.load_builtins), so importing one experiment (say c4) does
not load the real-model runs and transformers with it.
"""

from lrkd.simulate.experiments.base import (
    REGISTRY,
    Experiment,
    Runs,
    all_experiments,
    get_experiment,
    load_builtins,
    load_plugins,
    register_experiment,
)

__all__ = [
    "Experiment",
    "Runs",
    "register_experiment",
    "REGISTRY",
    "get_experiment",
    "all_experiments",
    "load_builtins",
    "load_plugins",
]
