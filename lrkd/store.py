"""The results store: one SQLite file (WAL mode) holding every finished run cell of every sweep.

Schema (three tables, all keyed by the cell's hash):
  cells   (key, experiment, cell_json, provenance_json, finished_at)  one row per finished cell
  rows    (key, tbl, idx, row_json)                                   the cell's named result tables
  arrays  (key, name, data)                                           named numpy arrays (np.save bytes)

A cell is written in ONE transaction by the process that computed it, and `INSERT OR IGNORE` on the
primary key makes a second write of the same cell a no-op. So a sweep killed at any instant keeps
exactly the cells that finished, and a rerun adds the rest: none lost, none duplicated. Several
processes may write at once (WAL + a busy timeout serialize the short write transactions).
"""

from __future__ import annotations

import io
import json
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from lrkd.errors import InputError

SCHEMA = """
CREATE TABLE IF NOT EXISTS cells (
    key TEXT PRIMARY KEY,
    experiment TEXT NOT NULL,
    cell_json TEXT NOT NULL,
    provenance_json TEXT NOT NULL,
    finished_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rows (
    key TEXT NOT NULL REFERENCES cells(key),
    tbl TEXT NOT NULL,
    idx INTEGER NOT NULL,
    row_json TEXT NOT NULL,
    PRIMARY KEY (key, tbl, idx)
);
CREATE TABLE IF NOT EXISTS arrays (
    key TEXT NOT NULL REFERENCES cells(key),
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (key, name)
);
CREATE INDEX IF NOT EXISTS cells_by_experiment ON cells(experiment);
"""

BUSY_TIMEOUT_MS = 120_000


class ResultStore:
    """A handle on one results file. Cheap to create; each method opens a short connection."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute("PRAGMA journal_mode=WAL")
                con.executescript(SCHEMA)
        except (OSError, sqlite3.DatabaseError) as exc:  # an unwritable folder, or not a results file
            raise InputError("store", f"cannot open {self.path} as a results store ({exc})") from None

    def __repr__(self) -> str:
        return f"ResultStore({str(self.path)!r})"

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            yield con
        finally:
            con.close()

    # -- writing -------------------------------------------------------------------------------
    def put(
        self,
        key: str,
        experiment: str,
        cell: Mapping[str, Any],
        tables: Mapping[str, list[Mapping[str, Any]]],
        arrays: Mapping[str, np.ndarray],
        provenance: Mapping[str, Any],
    ) -> bool:
        """Write one finished cell atomically. Returns False when the key was already stored."""
        with self._connect() as con:
            con.execute("BEGIN IMMEDIATE")
            try:
                inserted = (
                    con.execute(
                        "INSERT OR IGNORE INTO cells VALUES (?, ?, ?, ?, ?)",
                        (key, experiment, dumps(cell), dumps(provenance), time.time()),
                    ).rowcount
                    == 1
                )
                if inserted:
                    con.executemany("INSERT INTO rows VALUES (?, ?, ?, ?)", _row_records(key, tables))
                    con.executemany(
                        "INSERT INTO arrays VALUES (?, ?, ?)",
                        [(key, name, _array_bytes(a)) for name, a in arrays.items()],
                    )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
        return inserted

    # -- reading -------------------------------------------------------------------------------
    def finished_keys(self, keys: Iterable[str] | None = None) -> set[str]:
        """The keys already stored (restricted to `keys` when given)."""
        with self._connect() as con:
            stored = {k for (k,) in con.execute("SELECT key FROM cells")}
        return stored if keys is None else stored & set(keys)

    def has(self, key: str) -> bool:
        return key in self.finished_keys([key])

    def get(self, key: str) -> dict[str, Any] | None:
        """{'key','experiment','cell','provenance','tables','arrays'} of one cell, or None."""
        with self._connect() as con:
            head = con.execute(
                "SELECT experiment, cell_json, provenance_json FROM cells WHERE key=?", (key,)
            ).fetchone()
            if head is None:
                return None
            tables: dict[str, list] = {}
            for tbl, row in con.execute("SELECT tbl, row_json FROM rows WHERE key=? ORDER BY tbl, idx", (key,)):
                tables.setdefault(tbl, []).append(json.loads(row))
            arrays = {
                name: _array_from(data)
                for name, data in con.execute("SELECT name, data FROM arrays WHERE key=? ORDER BY name", (key,))
            }
        return {
            "key": key,
            "experiment": head[0],
            "cell": json.loads(head[1]),
            "provenance": json.loads(head[2]),
            "tables": tables,
            "arrays": arrays,
        }

    def experiments(self) -> list[str]:
        with self._connect() as con:
            return [e for (e,) in con.execute("SELECT DISTINCT experiment FROM cells ORDER BY experiment")]

    def count(self, experiment: str | None = None) -> int:
        with self._connect() as con:
            if experiment is None:
                return con.execute("SELECT COUNT(*) FROM cells").fetchone()[0]
            return con.execute("SELECT COUNT(*) FROM cells WHERE experiment=?", (experiment,)).fetchone()[0]

    def frame(self, experiment: str | None = None, table: str = "results"):
        """A pandas DataFrame: one row per stored row of `table`, with the cell's parameters
        (flattened with dots), its key, experiment and provenance as columns."""
        import pandas as pd  # pandas on use: writing and resuming cells needs none

        query = (
            "SELECT c.key, c.experiment, c.cell_json, c.provenance_json, r.row_json FROM rows r "
            "JOIN cells c ON c.key = r.key WHERE r.tbl = ?"
        )
        params: list[Any] = [table]
        if experiment is not None:
            query += " AND c.experiment = ?"
            params.append(experiment)
        query += " ORDER BY c.experiment, c.key, r.idx"
        with self._connect() as con:
            records = [_flat_record(*row) for row in con.execute(query, params)]
        return pd.DataFrame.from_records(records)

    def export(self, out_dir: str | Path, experiment: str | None = None) -> list[Path]:
        """Write every table of the store (or of one experiment) as CSV and Parquet files."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for exp in [experiment] if experiment else self.experiments():
            for table in self.tables(exp):
                df = self.frame(exp, table)
                csv, parquet = out_dir / f"{exp}.{table}.csv", out_dir / f"{exp}.{table}.parquet"
                df.to_csv(csv, index=False)
                df.to_parquet(parquet, index=False)
                written += [csv, parquet]
        return written

    def tables(self, experiment: str) -> list[str]:
        with self._connect() as con:
            return [
                t
                for (t,) in con.execute(
                    "SELECT DISTINCT r.tbl FROM rows r JOIN cells c ON c.key = r.key "
                    "WHERE c.experiment = ? ORDER BY r.tbl",
                    (experiment,),
                )
            ]


def dumps(obj: Any) -> str:
    """JSON with sorted keys; numpy scalars and arrays become plain numbers and lists."""
    return json.dumps(obj, sort_keys=True, default=_json_default, allow_nan=True)


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot store {type(obj).__name__} in a result row")


def _row_records(key: str, tables: Mapping[str, list[Mapping[str, Any]]]) -> list[tuple]:
    return [(key, name, i, dumps(dict(row))) for name, rows in tables.items() for i, row in enumerate(rows)]


def _array_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _array_from(data: bytes) -> np.ndarray:
    return np.load(io.BytesIO(data), allow_pickle=False)


def flatten(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'teacher': {'m': 8}} -> {'teacher.m': 8}; lists stay as they are."""
    flat: dict[str, Any] = {}
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _flat_record(key: str, experiment: str, cell_json: str, provenance_json: str, row_json: str) -> dict:
    record = {"cell_key": key, "experiment": experiment}
    record.update({k: v for k, v in flatten(json.loads(cell_json)).items() if not isinstance(v, list)})
    record.update(
        {f"provenance.{k}": v for k, v in flatten(json.loads(provenance_json)).items() if not isinstance(v, list)}
    )
    record.update(json.loads(row_json))
    return record
