"""The public way to find and run an experiment: `get_experiment(name)`, `all_experiments()`.

Experiments live beside what they run (simulate/experiments/, one module per claim family); a user
can register more from modules named in the LRKD_PLUGINS environment variable (comma-separated
module names), with `register_experiment(Experiment(...))`. This module sits at the top of lrkd/,
beside the command line: it imports simulate's experiments, which infrastructure may not.
"""

from __future__ import annotations

import importlib
import os

from lrkd.errors import InputError
from lrkd.simulate.experiments import REGISTRY, Experiment, Runs, register_experiment  # registers the built-ins

__all__ = ["Experiment", "Runs", "register_experiment", "get_experiment", "all_experiments", "load_plugins"]


def get_experiment(name: str) -> Experiment:
    """The registered experiment called `name` (built-in or from a plugin), or a one-line InputError."""
    load_plugins()
    if name not in REGISTRY:
        raise InputError("experiment", f"unknown experiment {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def all_experiments() -> list[Experiment]:
    """Every registered experiment, by name."""
    load_plugins()
    return [REGISTRY[name] for name in sorted(REGISTRY)]


def load_plugins() -> None:
    """Import the user modules LRKD_PLUGINS names (each registers its experiments)."""
    for module in filter(None, (m.strip() for m in os.environ.get("LRKD_PLUGINS", "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise InputError("LRKD_PLUGINS", f"cannot import plugin module {module!r} ({exc})") from None
