"""The grid runner: run every cell of an experiment grid once, in parallel, resumably.

A *cell* is a JSON-able dict holding every parameter of one unit of work (seed, device and dtype
included); its key is a hash of (experiment, cell). `run_grid` skips cells already in the store,
hands the rest to an executor, and writes each finished cell to the store in one transaction as
soon as its worker returns it. Workers never touch the store: this process is its only writer,
so the cells can run anywhere (a process pool, a Dask cluster whose machines share no disk). A
sweep killed at any point therefore loses only the cells in flight; rerunning it computes
exactly those and nothing twice.

Executors are deliberately tiny (`map_unordered(fn, items)`, lrkd/executors.py): serial, a local
process pool and Dask provide that one method, and run the same cells with the same store
semantics without touching experiment code.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from lrkd import progress as progress_bars
from lrkd.config import config_hash, to_dict
from lrkd.executors import DaskExecutor, ProcessExecutor, SerialExecutor  # noqa: F401 (re-exported)
from lrkd.executors import Executor, default_executor
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


def cell_key(experiment: str, cell: Mapping[str, Any]) -> str:
    return config_hash({"experiment": experiment, "cell": to_dict(dict(cell))})


@dataclass(frozen=True)
class _Task:
    key: str
    cell: dict[str, Any]
    run_cell: RunCell


def _execute(task: _Task) -> StoredCell:
    """Worker side: run one cell and return it with its provenance (the driver stores it)."""
    with measure(task.cell) as provenance:
        result = task.run_cell(dict(task.cell))
    return StoredCell(task.key, task.cell, result.tables, result.arrays, provenance)


def run_grid(
    experiment: str,
    cells: Sequence[Mapping[str, Any]],
    run_cell: RunCell,
    *,
    store: ResultStore | str | Path | None = None,
    executor: Executor | None = None,
    progress: bool | None = None,
    desc: str | None = None,
) -> list[StoredCell]:
    """Run (or resume) every cell; return the finished cells in the order of `cells`.

    Args:
        experiment: the name cells are stored under (part of each cell's key).
        cells: one JSON-able dict per unit of work; duplicates run once.
        run_cell: a picklable, importable function cell -> CellResult.
        store: results store (or its path); finished cells are read back instead of rerun.
        executor: where cells run (lrkd/executors.py); default a local pool, serial for one cell.
        progress: show a bar counting finished cells (None: when stderr is a terminal).
        desc: the bar's label (default: the experiment name).

    Returns:
        a StoredCell per entry of `cells`, freshly computed or loaded from the store.
    """
    store = ResultStore(store) if isinstance(store, (str, Path)) else store
    cells = [to_dict(dict(c)) for c in cells]
    keys = [cell_key(experiment, c) for c in cells]
    done = store.finished_keys(keys) if store is not None else set()
    todo = _unique_tasks(cells, keys, done, run_cell)
    fresh: dict[str, StoredCell] = {}
    if executor is None:
        # a cell function defined in a script's __main__ cannot be found by worker processes
        executor = SerialExecutor() if run_cell.__module__ == "__main__" else default_executor(len(todo))
    results = executor.map_unordered(_execute, todo)
    with (
        progress_bars.bar(total=len(set(keys)), initial=len(done), desc=desc or experiment, enabled=progress) as bar,
        _closing(results),
    ):
        for stored in results:
            if store is not None:  # written before the next result is awaited: a kill loses only cells in flight
                store.put(stored.key, experiment, stored.cell, stored.tables, stored.arrays, stored.provenance)
            fresh[stored.key] = stored
            bar.update(1)
    return [fresh[k] if k in fresh else _load(store, k) for k in keys]


@contextmanager
def _closing(results):
    """Close a generator of results on the way out, so that an executor stops its pending work
    now (while its cluster is still open), not whenever the generator is garbage-collected."""
    try:
        yield
    finally:
        close = getattr(results, "close", None)
        if close is not None:
            close()


def _unique_tasks(cells, keys, done, run_cell) -> list[_Task]:
    tasks: dict[str, _Task] = {}
    for key, cell in zip(keys, cells):
        if key not in done and key not in tasks:
            tasks[key] = _Task(key, cell, run_cell)
    return list(tasks.values())


def _load(store: ResultStore, key: str) -> StoredCell:
    record = store.get(key)
    return StoredCell(key, record["cell"], record["tables"], record["arrays"], record["provenance"])


def to_frame(stored: Iterable[StoredCell], table: str = "results"):
    """One DataFrame row per row of `table`, with each cell's scalar parameters as columns."""
    import pandas as pd  # pandas on use: running and storing cells needs none

    records = []
    for cell in stored:
        params = {k: v for k, v in flatten(cell.cell).items() if not isinstance(v, list)}
        for row in cell.tables.get(table, []):
            records.append({**params, "cell_key": cell.key, **row})
    return pd.DataFrame.from_records(records)
