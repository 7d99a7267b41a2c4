"""What `lrkd sweep`, `lrkd experiments` and `lrkd teacher-outputs` do, apart from parsing their
arguments (lrkd/cli/__init__.py). The other commands have modules of their own: claims.py (theory
only, so it needs no torch), report.py and verify.py.
"""

from __future__ import annotations

from pathlib import Path

from lrkd import config as configs
from lrkd import progress
from lrkd.device import resolve
from lrkd.errors import InputError
from lrkd.executors import executor_for
from lrkd.simulate.experiments import Runs, all_experiments, get_experiment
from lrkd.simulate.lrc import LRCConfig, store_teacher_outputs
from lrkd.store import ResultStore, flatten
from lrkd.validate.registry import claims_of, with_evidence

RESERVED_KEYS = ("experiment", "preset")


def load_sweep_config(path: Path, overrides: list[str]):
    """Read `experiment` (and optional `preset`) from the file, then type-check the rest.

    Args:
        path: the TOML config.
        overrides: `--set KEY=VALUE` items, applied after the file.

    Returns:
        (experiment, its typed config).

    Raises:
        InputError: a missing file, no `experiment`, an unknown key or a bad value (named).
    """
    data = configs.read_toml(path)
    name = data.get("experiment")
    if not isinstance(name, str):
        raise InputError("experiment", f'{path} must set `experiment = "NAME"` (see `lrkd experiments`)')
    experiment = get_experiment(name)
    preset = data.get("preset", "quick")
    base = configs.to_dict(experiment.config(preset)) if experiment.presets else {}
    merged = {**base, **{k: v for k, v in data.items() if k not in RESERVED_KEYS}}
    for item in overrides:
        key, value = configs.parse_override(item)
        configs.set_dotted(merged, key, value)
    return experiment, configs.from_dict(experiment.config_type, merged)


def sweep(
    path: Path,
    overrides: list[str],
    *,
    store: Path,
    out: Path | None,
    workers: int | None,
    executor: str = "local",
    scheduler: str | None = None,
) -> int:
    """`lrkd sweep`: run (or resume) one experiment grid into `store`, optionally export to `out`.

    Args:
        path, overrides: the TOML config and its `--set KEY=VALUE` overrides.
        store, out: results store; folder for CSV/Parquet tables (None: no export).
        workers, executor, scheduler: where cells run (see lrkd.executors.executor_for).

    Returns:
        the exit code (0); bad input raises InputError before any cell runs.
    """
    pool = executor_for(workers, executor, scheduler)
    experiment, cfg = load_sweep_config(path, overrides)
    check_devices(cfg)
    with pool:  # connects to the scheduler (or starts a local cluster) before anything is written
        results = ResultStore(store)
        before = results.count(experiment.name)
        progress.note(f"lrkd sweep: {experiment.name} -> {store} ({before} cells already stored)")
        tables = experiment.run(cfg, store=results, executor=pool, progress=None)
    if isinstance(tables, Runs):  # a built-in experiment: its raw tables and the evidence validate/ derives
        tables = with_evidence(tables)
    after = results.count(experiment.name)
    rows = ", ".join(f"{name}: {len(df)} rows" for name, df in tables.items())
    print(f"{experiment.name}: {after - before} new cells, {after} stored in {store} ({rows})")
    if out is not None:
        for name, df in tables.items():
            out.mkdir(parents=True, exist_ok=True)
            df.to_csv(out / f"{experiment.name}.{name}.csv", index=False)
            df.to_parquet(out / f"{experiment.name}.{name}.parquet", index=False)
        print(f"tables written to {out}/")
    return 0


def check_devices(cfg) -> None:
    """Every `device` key of a config (nested ones too) names a device this machine has.

    Done before a cluster starts or a store is written, so `--set device=cuda` on a machine
    without a GPU is a one-line error at once. (`auto` always passes: each worker then takes
    its own GPU if it has one.)

    Args:
        cfg: a typed config (dataclass).

    Raises:
        InputError: a device this machine does not have.
    """
    for key, value in flatten(configs.to_dict(cfg)).items():
        if key.split(".")[-1] == "device" and isinstance(value, str):
            resolve(value)


def experiments(name: str | None) -> int:
    """`lrkd experiments`: list the experiments with the claims they check, or one experiment's
    presets and config keys.

    Args:
        name: the experiment to describe (None: list them all).

    Returns:
        The exit code (0).

    Raises:
        InputError: an unknown experiment name.
    """
    if name is None:
        for exp in all_experiments():
            checked = f" [{', '.join(claims_of(exp))}]" if claims_of(exp) else ""
            print(f"{exp.name}{checked}: {exp.description}")
        return 0
    exp = get_experiment(name)
    print(f"{exp.name}: {exp.description}\npresets: {', '.join(exp.presets) or '(none)'}\nkeys:")
    for key, tp, default in configs.config_keys(exp.config_type):
        print(f"  {key} ({tp}) = {default!r}")
    return 0


def teacher_outputs(path: Path, overrides: list[str]) -> int:
    """`lrkd teacher-outputs`: compute a distillation config's teacher outputs once and store them.

    Args:
        path: a TOML file of simulate.lrc.LRCConfig keys.
        overrides: `--set KEY=VALUE` items.

    Returns:
        The exit code (0); the stored files are printed one per line.
    """
    for stored in store_teacher_outputs(configs.load(LRCConfig, path, overrides)):
        print(stored)
    return 0
