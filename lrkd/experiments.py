"""The experiment registry: named, configurable experiment grids that `lrkd sweep` and
`lrkd report` can run.

An `Experiment` couples a config dataclass (with named presets such as "quick" and "full") to a
function that runs the grid through the results store and returns its tables as DataFrames.
validate/ registers one experiment per claim (validate/experiments.py); a user can register more
from a module named in the LRKD_PLUGINS environment variable (comma-separated module names).
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from lrkd.config import from_dict, to_dict
from lrkd.errors import InputError

RunFn = Callable[..., Mapping[str, Any]]


@dataclass(frozen=True)
class Experiment:
    """A named grid. `run(config, *, store, executor, progress)` returns {table: DataFrame}."""

    name: str
    config_type: type
    run: RunFn
    description: str
    claims: tuple[str, ...] = ()
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def config(self, preset: str = "quick", **overrides: Any) -> Any:
        """The config of a preset, with keyword overrides (type-checked)."""
        if preset not in self.presets:
            raise InputError("preset", f"must be one of {', '.join(self.presets) or '(none)'}, got {preset!r}")
        data = {**to_dict(from_dict(self.config_type, self.presets[preset])), **overrides}
        return from_dict(self.config_type, data)


_REGISTRY: dict[str, Experiment] = {}


def register_experiment(experiment: Experiment, *, replace: bool = False) -> Experiment:
    if experiment.name in _REGISTRY and not replace:
        raise ValueError(f"experiment {experiment.name!r} is already registered")
    _REGISTRY[experiment.name] = experiment
    return experiment


def get_experiment(name: str) -> Experiment:
    load_builtin_experiments()
    if name not in _REGISTRY:
        raise InputError("experiment", f"unknown experiment {name!r}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def all_experiments() -> list[Experiment]:
    load_builtin_experiments()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def load_builtin_experiments() -> None:
    """Import the modules that register experiments: validate's, then any user plugins."""
    importlib.import_module("validate.experiments")
    for module in filter(None, (m.strip() for m in os.environ.get("LRKD_PLUGINS", "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise InputError("LRKD_PLUGINS", f"cannot import plugin module {module!r} ({exc})") from None
