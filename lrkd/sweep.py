"""The grid runner: run every cell of an experiment grid once, in parallel, resumably.

A *cell* is a JSON-able dict holding every parameter of one unit of work (seed, device and dtype
included); its key is a hash of (experiment, cell). `run_grid` skips cells already in the store,
hands the rest to an executor, and each worker writes its finished cell to the store in one
transaction. A sweep killed at any point therefore loses only the cells in flight; rerunning it
computes exactly those and nothing twice.

Executors are deliberately tiny (`map_unordered(fn, items)`): a Ray or Dask adapter only has to
provide that one method to run the same cells on a cluster, with the same store semantics,
without touching experiment code.
"""
from __future__ import annotations

import multiprocessing
import os
import sys
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Protocol, Sequence

import numpy as np

from lrkd import progress as progress_bars
from lrkd.config import config_hash, to_dict
from lrkd.provenance import measure
from lrkd.store import ResultStore, flatten


@dataclass
class CellResult:
    """What one cell produces: named tables of scalar rows, and optional named arrays."""

    tables: dict[str, list[dict[str, Any]]]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class StoredCell:
    """A finished cell as read back: its key, parameters, tables, arrays and provenance."""

    key: str
    cell: dict[str, Any]
    tables: dict[str, list[dict[str, Any]]]
    arrays: dict[str, np.ndarray]
    provenance: dict[str, Any]


RunCell = Callable[[dict], CellResult]


class Executor(Protocol):
    """Anything that can apply a picklable function to items, yielding results as they finish."""

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]: ...


class SerialExecutor:
    """Runs cells one after another in this process (debugging, tests, tiny grids)."""

    def map_unordered(self, fn, items):
        for item in items:
            yield fn(item)


class ProcessExecutor:
    """A local process pool. Workers x torch threads per worker never exceed the cores."""

    def __init__(self, max_workers: int | None = None):
        cores = os.cpu_count() or 1
        self.max_workers = max(1, min(max_workers or cores, cores))
        self.threads_per_worker = max(1, cores // self.max_workers)

    def map_unordered(self, fn, items):
        items = list(items)
        if not items:
            return
        workers = min(self.max_workers, len(items))
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_worker,
                                 initargs=(self.threads_per_worker,)) as pool:
            with _main_not_reimported():
                pending = {pool.submit(fn, item) for item in items}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()


@contextmanager
def _main_not_reimported():
    """Start workers without re-running the caller's __main__ script in them.

    Cell functions live in importable modules, so workers never need __main__; without this, a
    plain script calling a sweep outside `if __name__ == "__main__":` would start its own sweep in
    every worker (multiprocessing's spawn/forkserver rule).
    """
    main = sys.modules.get("__main__")
    if main is None or "__file__" not in main.__dict__:
        yield
        return
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__}
    del main.__dict__["__file__"]
    main.__spec__ = None
    try:
        yield
    finally:
        main.__dict__.update(saved)


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def default_executor(n_cells: int) -> Executor:
    """A process pool when there is more than one cell and more than one core, else serial."""
    if n_cells > 1 and (os.cpu_count() or 1) > 1:
        return ProcessExecutor()
    return SerialExecutor()


def cell_key(experiment: str, cell: Mapping[str, Any]) -> str:
    return config_hash({"experiment": experiment, "cell": to_dict(dict(cell))})


@dataclass(frozen=True)
class _Task:
    experiment: str
    key: str
    cell: dict[str, Any]
    run_cell: RunCell
    store_path: str | None


def _execute(task: _Task) -> StoredCell:
    """Worker side: run one cell, record provenance, and store it before returning."""
    with measure(task.cell) as provenance:
        result = task.run_cell(dict(task.cell))
    stored = StoredCell(task.key, task.cell, result.tables, result.arrays, provenance)
    if task.store_path is not None:
        ResultStore(task.store_path).put(task.key, task.experiment, task.cell, result.tables,
                                         result.arrays, provenance)
    return stored


def run_grid(experiment: str, cells: Sequence[Mapping[str, Any]], run_cell: RunCell, *,
             store: ResultStore | str | Path | None = None, executor: Executor | None = None,
             progress: bool | None = None, desc: str | None = None) -> list[StoredCell]:
    """Run (or resume) every cell; return the finished cells in the order of `cells`."""
    store = ResultStore(store) if isinstance(store, (str, Path)) else store
    cells = [to_dict(dict(c)) for c in cells]
    keys = [cell_key(experiment, c) for c in cells]
    done = store.finished_keys(keys) if store is not None else set()
    todo = _unique_tasks(experiment, cells, keys, done, run_cell, store)
    fresh: dict[str, StoredCell] = {}
    if executor is None:
        # a cell function defined in a script's __main__ cannot be found by worker processes
        executor = SerialExecutor() if run_cell.__module__ == "__main__" else default_executor(len(todo))
    with progress_bars.bar(total=len(set(keys)), initial=len(done), desc=desc or experiment,
                           enabled=progress) as bar:
        for stored in executor.map_unordered(_execute, todo):
            fresh[stored.key] = stored
            bar.update(1)
    return [fresh[k] if k in fresh else _load(store, k) for k in keys]


def _unique_tasks(experiment, cells, keys, done, run_cell, store) -> list[_Task]:
    path = str(store.path) if store is not None else None
    tasks: dict[str, _Task] = {}
    for key, cell in zip(keys, cells):
        if key not in done and key not in tasks:
            tasks[key] = _Task(experiment, key, cell, run_cell, path)
    return list(tasks.values())


def _load(store: ResultStore, key: str) -> StoredCell:
    record = store.get(key)
    return StoredCell(key, record["cell"], record["tables"], record["arrays"], record["provenance"])


def to_frame(stored: Iterable[StoredCell], table: str = "results"):
    """One DataFrame row per row of `table`, with each cell's scalar parameters as columns."""
    import pandas as pd

    records = []
    for cell in stored:
        params = {k: v for k, v in flatten(cell.cell).items() if not isinstance(v, list)}
        for row in cell.tables.get(table, []):
            records.append({**params, "cell_key": cell.key, **row})
    return pd.DataFrame.from_records(records)
