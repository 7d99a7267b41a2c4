"""What an experiment is: a config type with named presets, a `run` that drives simulate/ through
the results store, and the typed `Runs` it returns. The registry of experiments lives here too;
`get_experiment(name)` is the public way in (it also loads user plugins: modules named in the
LRKD_PLUGINS environment variable, comma-separated, each calling `register_experiment`).

An experiment produces tables and the typed inputs a check needs (a teacher, a problem); it
computes no evidence: validate/ derives that from the runs (validate.registry.evidence).
"""

from __future__ import annotations

import copy
import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pandas as pd

from lrkd.config import from_dict, to_dict
from lrkd.errors import InputError

RunFn = Callable[..., Mapping[str, Any]]


class Runs(dict):
    """{table name: DataFrame} from one experiment run, tagged with the experiment's name and a label
    (a variant such as "bounded data"). Subclasses beside each experiment add the typed inputs
    its checks read (a Quadratic, a teacher, a spectrum); validate/ adds the evidence tables it
    derives, so the report's data folder carries both."""

    def __init__(self, experiment: str, label: str, tables: Mapping[str, pd.DataFrame]):
        super().__init__(tables)
        self.experiment, self.label = experiment, label

    @property
    def name(self) -> str:
        """What verdicts call this evidence: the experiment, with its label when it has one."""
        return f"{self.experiment} ({self.label})" if self.label else self.experiment

    def replace(self, *, label: str | None = None, tables: Mapping[str, pd.DataFrame] | None = None) -> "Runs":
        """The same runs (same type and typed inputs) with another label or other tables: a seed
        subset, or a grid cut to its large-N end.

        Args:
            label: the new label (None: keep it).
            tables: the new tables (None: keep them).

        Returns:
            A shallow copy of the same type.
        """
        new = copy.copy(self)
        dict.clear(new)
        new.update(self if tables is None else tables)
        new.label = self.label if label is None else label
        return new


@dataclass(frozen=True)
class Experiment:
    """A named grid. `run(config, *, store, executor, progress)` returns its Runs (or, for a user
    plugin, any {table: DataFrame} mapping)."""

    name: str
    config_type: type
    run: RunFn
    description: str
    presets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def config(self, preset: str = "quick", **overrides: Any) -> Any:
        """The config of a preset, with keyword overrides (type-checked).

        Args:
            preset: a name of `presets`; an unknown one is an InputError naming `preset`.
            overrides: config fields to set.

        Returns:
            An instance of config_type.
        """
        if preset not in self.presets:
            raise InputError("preset", f"must be one of {', '.join(self.presets) or '(none)'}, got {preset!r}")
        data = {**to_dict(from_dict(self.config_type, self.presets[preset])), **overrides}
        return from_dict(self.config_type, data)


REGISTRY: dict[str, Experiment] = {}


def register_experiment(experiment: Experiment, *, replace: bool = False) -> Experiment:
    """Add an experiment to the registry (by its name); returns it, so a module can keep it.

    Args:
        experiment: the experiment.
        replace: allow replacing one of the same name (else a ValueError).

    Returns:
        experiment.
    """
    if experiment.name in REGISTRY and not replace:
        raise ValueError(f"experiment {experiment.name!r} is already registered")
    REGISTRY[experiment.name] = experiment
    return experiment


def load_builtins() -> None:
    """Import every module of lrkd.simulate.experiments: each registers its experiments (base and
    common define, they register nothing). Idempotent; modules already imported are not reloaded."""
    package = importlib.import_module(__name__.rpartition(".")[0])
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")


def get_experiment(name: str) -> Experiment:
    """The registered experiment called `name` (built-in or from a plugin), or a one-line InputError.

    Args:
        name: the experiment's name.

    Returns:
        The Experiment.
    """
    load_builtins()
    load_plugins()
    if name not in REGISTRY:
        raise InputError("experiment", f"unknown experiment {name!r}; known: {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def all_experiments() -> list[Experiment]:
    """Every registered experiment, by name."""
    load_builtins()
    load_plugins()
    return [REGISTRY[name] for name in sorted(REGISTRY)]


def load_plugins() -> None:
    """Import the user modules LRKD_PLUGINS names (each registers its experiments)."""
    for module in filter(None, (m.strip() for m in os.environ.get("LRKD_PLUGINS", "").split(","))):
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise InputError("LRKD_PLUGINS", f"cannot import plugin module {module!r} ({exc})") from None
