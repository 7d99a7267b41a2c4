"""The results store: atomic cells, resume, concurrent writers, exports (lrkd/store.py, lrkd/sweep.py)."""

from __future__ import annotations

import multiprocessing
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
import toy_plugin  # noqa: E402

from lrkd.store import ResultStore  # noqa: E402
from lrkd.sweep import CellResult, SerialExecutor, ProcessExecutor, run_grid, to_frame  # noqa: E402


def _cells(seeds, sleep_s=0.0):
    return [{"seed": s, "size": 5, "ranks": [1, 2], "sleep_s": sleep_s} for s in seeds]


def test_rerun_skips_finished_cells(tmp_path):
    store = ResultStore(tmp_path / "r.db")
    first = run_grid("toy", _cells(range(3)), toy_plugin.run_toy_cell, store=store, executor=SerialExecutor())
    calls = []

    def counting(cell):
        calls.append(cell["seed"])
        return toy_plugin.run_toy_cell(cell)

    second = run_grid("toy", _cells(range(4)), counting, store=store, executor=SerialExecutor())
    assert calls == [3]
    assert [c.tables for c in second[:3]] == [c.tables for c in first]
    np.testing.assert_array_equal(second[0].arrays["spectrum"], first[0].arrays["spectrum"])
    assert store.count("toy") == 4


def test_duplicate_cells_run_once(tmp_path):
    stored = run_grid(
        "toy", _cells([7, 7, 7]), toy_plugin.run_toy_cell, store=tmp_path / "d.db", executor=SerialExecutor()
    )
    assert len({c.key for c in stored}) == 1 and ResultStore(tmp_path / "d.db").count() == 1


def test_put_is_atomic_and_idempotent(tmp_path):
    store = ResultStore(tmp_path / "a.db")
    rows = {"results": [{"x": 1.0}, {"x": float("nan")}]}
    assert store.put("k", "e", {"seed": 0}, rows, {"a": np.arange(3)}, {"git_commit": "abc"})
    assert not store.put("k", "e", {"seed": 0}, {"results": [{"x": 9.0}]}, {}, {})
    got = store.get("k")
    assert got["tables"]["results"][0] == {"x": 1.0} and np.isnan(got["tables"]["results"][1]["x"])
    np.testing.assert_array_equal(got["arrays"]["a"], np.arange(3))


def _write_cells(path: str, worker: int, n: int) -> None:
    store = ResultStore(path)
    for i in range(n):
        key = f"w{worker}-{i}"
        store.put(
            key,
            "conc",
            {"seed": i, "worker": worker},
            {"results": [{"i": i, "w": worker}] * 3},
            {"v": np.full(50, i)},
            {"pid": worker},
        )


def test_two_concurrent_writer_processes_lose_nothing(tmp_path):
    path = str(tmp_path / "c.db")
    ResultStore(path)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_cells, args=(path, w, 60)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = ResultStore(path)
    assert store.count("conc") == 120
    frame = store.frame("conc")
    assert len(frame) == 360
    assert frame.groupby("worker")["i"].nunique().to_dict() == {0: 60, 1: 60}


def test_process_pool_matches_serial_and_exports(tmp_path):
    serial = run_grid("toy", _cells(range(4)), toy_plugin.run_toy_cell, executor=SerialExecutor())
    store = ResultStore(tmp_path / "p.db")
    pooled = run_grid("toy", _cells(range(4)), toy_plugin.run_toy_cell, store=store, executor=ProcessExecutor(2))
    pd.testing.assert_frame_equal(to_frame(serial), to_frame(pooled))
    assert {c.provenance["pid"] for c in pooled} - {c.provenance["pid"] for c in serial}
    prov = pooled[0].provenance
    for key in ("git_commit", "packages", "device", "seed", "wall_time_s", "peak_rss_mb"):
        assert key in prov
    written = store.export(tmp_path / "out")
    assert {p.suffix for p in written} == {".csv", ".parquet"}
    back = pd.read_parquet(tmp_path / "out" / "toy.results.parquet")
    assert len(back) == 8 and {"rank", "tail", "seed", "provenance.git_commit"} <= set(back.columns)


def test_cell_result_rows_keep_their_order(tmp_path):
    def run(cell):
        return CellResult({"results": [{"i": i} for i in range(20)]})

    (cell,) = run_grid("order", [{"seed": 0}], run, store=tmp_path / "o.db", executor=SerialExecutor())
    assert [r["i"] for r in ResultStore(tmp_path / "o.db").get(cell.key)["tables"]["results"]] == list(range(20))


def test_provenance_records_the_device_a_cell_ran_on_not_auto():
    from lrkd.provenance import measure

    with measure({"seed": 3, "device": "auto"}) as record:
        pass
    import torch

    assert record["device_requested"] == "auto"
    assert record["device"] == ("cuda" if torch.cuda.is_available() else "cpu")
    with measure({"seed": 3, "device": "cpu"}) as record:
        pass
    assert record["device"] == record["device_requested"] == "cpu"
