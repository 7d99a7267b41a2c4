"""The Dask executor (lrkd/executors.py): same rows as serial, a killed worker loses only its cell,
the driver alone writes the store, bad --scheduler addresses are one-line errors, no leaked workers.

One 2-worker LocalCluster serves the whole module (starting one costs a few seconds).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import cloudpickle
import pandas as pd
import psutil
import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))  # before the cluster starts: its spawned workers inherit sys.path
import toy_plugin  # noqa: E402

from lrkd.errors import InputError  # noqa: E402
from lrkd.executors import CellsLost, DaskExecutor, SerialExecutor, check_scheduler_address, executor_for  # noqa: E402
from lrkd.store import ResultStore  # noqa: E402
from lrkd.sweep import run_grid, to_frame  # noqa: E402

# The cell functions below live in this test module, which workers cannot import by name:
# ship them by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])

VICTIM = 3  # the seed whose cell gets its worker killed


def _cells(seeds, **extra):
    return [{"seed": s, "size": 8, "ranks": [1, 2, 4], "sleep_s": 0.05, **extra} for s in seeds]


def _rows(stored) -> pd.DataFrame:
    frame = to_frame(stored)  # columns in cell order, which differs between fresh and stored cells
    return frame[sorted(frame.columns)].sort_values(["seed", "rank"]).reset_index(drop=True)


def _store_rows(path) -> pd.DataFrame:
    frame = ResultStore(path).frame("toy")
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("provenance.")])
    return frame.sort_values(["seed", "rank"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def dask_executor():
    executor = DaskExecutor(workers=2).start()
    pids = set(executor.client.run(os.getpid).values())
    yield executor
    pids |= set(executor.client.run(os.getpid).values())  # include workers restarted after a kill
    executor.close()
    deadline = time.time() + 30
    while time.time() < deadline and any(psutil.pid_exists(p) for p in pids):
        time.sleep(0.1)
    assert not any(psutil.pid_exists(p) for p in pids), "closing the executor left worker processes"


@pytest.fixture
def executor(dask_executor):
    dask_executor.client.wait_for_workers(2, timeout=60)  # a killed worker is back before the next test
    return dask_executor


def test_two_worker_cluster_gives_the_serial_rows(executor, tmp_path):
    cells = _cells(range(8))
    serial = run_grid("toy", cells, toy_plugin.run_toy_cell, store=tmp_path / "s.db", executor=SerialExecutor())
    spread = run_grid("toy", cells, toy_plugin.run_toy_cell, store=tmp_path / "d.db", executor=executor)
    pd.testing.assert_frame_equal(_rows(serial), _rows(spread), check_exact=True)
    pd.testing.assert_frame_equal(_store_rows(tmp_path / "s.db"), _store_rows(tmp_path / "d.db"), check_exact=True)
    workers = set(executor.client.run(os.getpid).values())
    assert {c.provenance["pid"] for c in spread} <= workers and os.getpid() not in workers
    assert [c.key for c in spread] == [c.key for c in serial]  # returned in the order of `cells`


def test_finished_cells_are_skipped_on_rerun(executor, tmp_path):
    store = tmp_path / "r.db"
    run_grid("toy", _cells(range(4)), toy_plugin.run_toy_cell, store=store, executor=executor)
    log = tmp_path / "ran.log"
    again = run_grid("toy", _cells(range(6)), _logging_cell(log), store=store, executor=executor)
    assert sorted(log.read_text().split()) == ["4", "5"]
    assert ResultStore(store).count("toy") == 6 and len(again) == 6


def test_workers_are_sent_no_store_path(executor, tmp_path):
    """The driver is the only writer: what goes to the workers names no store, so they need no shared disk."""
    store = tmp_path / "only-driver.db"
    spy = _ShippingSpy(executor)
    run_grid("toy", _cells(range(3)), toy_plugin.run_toy_cell, store=store, executor=spy)
    assert len(spy.shipped) == 3
    assert not any(str(store).encode() in blob or store.name.encode() in blob for blob in spy.shipped)
    assert ResultStore(store).count("toy") == 3


def test_worker_killed_mid_cell_loses_only_that_cell(executor, tmp_path):
    """The scheduler reruns the killed worker's cell elsewhere; every other cell runs once."""
    cells = _cells(range(8), marker_dir=str(tmp_path))
    store = tmp_path / "k.db"
    with _kill_the_victims_worker(tmp_path):
        killed = run_grid("toy", cells, _cell_waiting_to_be_killed, store=store, executor=executor)
    runs = (tmp_path / "ran.log").read_text().split()
    assert runs.count(str(VICTIM)) == 2, runs  # killed once, rerun once
    assert sorted(set(runs)) == sorted(str(s) for s in range(8)) and len(runs) == 9, runs
    victim_pid = int((tmp_path / "victim.pid").read_text())
    assert not psutil.pid_exists(victim_pid)
    rerun = run_grid("toy", cells, _cell_waiting_to_be_killed, store=store, executor=executor)
    assert len((tmp_path / "ran.log").read_text().split()) == 9  # the rerun computed nothing
    uninterrupted = run_grid("toy", cells, toy_plugin.run_toy_cell, executor=SerialExecutor())
    for got in (killed, rerun):
        pd.testing.assert_frame_equal(_rows(got), _rows(uninterrupted), check_exact=True)


def test_cell_that_keeps_killing_workers_is_reported_and_a_rerun_completes(executor, tmp_path):
    """With no retries allowed the lost cell is reported (CellsLost); the other cells are stored."""
    cells = _cells(range(6), marker_dir=str(tmp_path))
    store = tmp_path / "lost.db"
    client = executor.client
    before = client.run_on_scheduler(_set_allowed_failures, 0)
    try:
        with _kill_the_victims_worker(tmp_path), pytest.raises(CellsLost, match="1 of 6 cells were lost"):
            run_grid("toy", cells, _cell_waiting_to_be_killed, store=store, executor=executor)
    finally:
        client.run_on_scheduler(_set_allowed_failures, before)
    assert ResultStore(store).count("toy") == 5
    executor.client.wait_for_workers(2, timeout=60)
    resumed = run_grid("toy", cells, _cell_waiting_to_be_killed, store=store, executor=executor)
    runs = (tmp_path / "ran.log").read_text().split()
    assert runs.count(str(VICTIM)) == 2 and len(runs) == 7, runs  # the rerun ran just the lost cell
    uninterrupted = run_grid("toy", cells, toy_plugin.run_toy_cell, executor=SerialExecutor())
    pd.testing.assert_frame_equal(_rows(resumed), _rows(uninterrupted), check_exact=True)


def test_a_failing_cell_reraises_after_the_others_are_stored(executor, tmp_path):
    store = tmp_path / "f.db"
    with pytest.raises(ZeroDivisionError):
        run_grid("toy", _cells(range(5)), _cell_failing_on_seed_2, store=store, executor=executor)
    assert ResultStore(store).count("toy") == 4


def test_cli_sweep_on_a_local_dask_cluster(tmp_path):
    """`lrkd sweep --executor dask --workers 2` gives the serial rows, says nothing on stderr
    and leaves no process behind."""
    config = tmp_path / "toy.toml"
    config.write_text('experiment = "toy"\nseeds = [0, 1, 2, 3, 4, 5]\nsize = 12\n')
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lrkd",
            "--quiet",
            "sweep",
            str(config),
            "--executor",
            "dask",
            "--workers",
            "2",
            "--store",
            str(tmp_path / "d.db"),
            "--out",
            str(tmp_path / "tables"),
        ],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    stdout, stderr = run.communicate(timeout=300)
    assert run.returncode == 0, stderr
    assert stderr == "" and "6 new cells" in stdout
    # multiprocessing's resource tracker may take a moment to notice its parent is gone; a leaked
    # worker would stay
    deadline = time.time() + 15
    while _processes_in_session(run.pid) and time.time() < deadline:
        time.sleep(0.2)
    assert not _processes_in_session(run.pid), f"outlived lrkd: {_processes_in_session(run.pid, cmdline=True)}"
    serial = toy_plugin.run_toy(toy_plugin.ToyConfig(size=12, seeds=tuple(range(6))), executor=SerialExecutor())
    expected = serial["results"].sort_values(["seed", "rank"]).reset_index(drop=True)[["seed", "rank", "tail"]]
    for table in (ResultStore(tmp_path / "d.db").frame("toy"), pd.read_csv(tmp_path / "tables" / "toy.results.csv")):
        got = table.sort_values(["seed", "rank"]).reset_index(drop=True)[["seed", "rank", "tail"]]
        pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_unreachable_scheduler_is_one_line_with_exit_2(tmp_path):
    config = tmp_path / "toy.toml"
    config.write_text('experiment = "toy"\nseeds = [0, 1]\n')
    out = _lrkd(
        "sweep",
        str(config),
        "--executor",
        "dask",
        "--scheduler",
        "tcp://127.0.0.1:1",
        "--store",
        str(tmp_path / "r.db"),
    )
    assert out.returncode == 2, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("lrkd sweep: error: --scheduler: cannot reach tcp://127.0.0.1:1"), line
    assert not (tmp_path / "r.db").exists()  # failed before writing anything


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_fails_before_a_cluster_starts(tmp_path):
    config = tmp_path / "c2.toml"
    config.write_text('experiment = "c2_generalization"\nranks = [2]\nsample_sizes = [128]\nseeds = [0]\n')
    out = _lrkd(
        "sweep",
        str(config),
        "--executor",
        "dask",
        "--workers",
        "2",
        "--set",
        "device=cuda",
        "--store",
        str(tmp_path / "r.db"),
    )
    assert out.returncode == 2, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line == "lrkd sweep: error: device: cuda was requested but no CUDA GPU is available; use auto or cpu"
    assert not (tmp_path / "r.db").exists()


@pytest.mark.parametrize("address", ["not an address", "tcp://only-a-host", "tcp://host:99999", "bogus://h:1", ""])
def test_malformed_scheduler_addresses_name_the_field(address):
    with pytest.raises(InputError, match=r"^--scheduler: must be a Dask scheduler address like tcp://HOST:PORT"):
        executor_for(None, "dask", address)


def test_scheduler_address_gets_a_scheme():
    assert check_scheduler_address("10.0.0.5:8786") == "tcp://10.0.0.5:8786"
    assert check_scheduler_address("tls://head:8786") == "tls://head:8786"


# -- cell functions (shipped to the workers by value) ------------------------------------------
def _logging_cell(log: Path):
    def run(cell):
        with open(log, "a") as f:
            f.write(f"{cell['seed']}\n")
        return toy_plugin.run_toy_cell(cell)

    return run


def _cell_waiting_to_be_killed(cell):
    """Toy cell that logs each start; the victim's first run announces its pid and waits to be killed."""
    folder = Path(cell["marker_dir"])
    with open(folder / "ran.log", "a") as f:
        f.write(f"{cell['seed']}\n")
    marker = folder / "victim.pid"
    if cell["seed"] == VICTIM and not marker.exists():
        marker.write_text(str(os.getpid()))
        time.sleep(120)  # the test kills this worker long before
    return toy_plugin.run_toy_cell(cell)


def _cell_failing_on_seed_2(cell):
    if cell["seed"] == 2:
        return 1 / 0
    return toy_plugin.run_toy_cell(cell)


def _set_allowed_failures(n, dask_scheduler=None):
    before, dask_scheduler.allowed_failures = dask_scheduler.allowed_failures, n
    return before


# -- helpers ---------------------------------------------------------------------------------
class _ShippingSpy:
    """An executor that records, pickled as the workers receive it, everything it sends them."""

    def __init__(self, inner):
        self.inner, self.shipped = inner, []

    def map_unordered(self, fn, items):
        items = list(items)
        self.shipped += [cloudpickle.dumps((fn, item)) for item in items]
        return self.inner.map_unordered(fn, items)


class _kill_the_victims_worker:
    """While active, SIGKILL the worker process that announces itself in victim.pid."""

    def __init__(self, folder: Path):
        self.marker, self.stop = folder / "victim.pid", threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self):
        while not self.stop.is_set():
            if self.marker.exists() and self.marker.read_text():
                time.sleep(0.2)  # the worker's earlier results have reached the driver by now
                os.kill(int(self.marker.read_text()), signal.SIGKILL)
                return
            time.sleep(0.02)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(5)
        assert self.marker.exists(), "the victim cell never started"


def _lrkd(*args: str) -> subprocess.CompletedProcess:
    """`python -m lrkd ARGS` with the toy plugin importable, output captured."""
    return subprocess.run(
        [sys.executable, "-m", "lrkd", *args], env=_env(), capture_output=True, text=True, timeout=120
    )


def _env() -> dict[str, str]:
    env = dict(os.environ, LRKD_PLUGINS="toy_plugin", LRKD_QUIET="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    return env


def _processes_in_session(sid: int, cmdline: bool = False) -> list:
    alive = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(proc.cmdline())[:200] if cmdline else proc.pid)
        except (ProcessLookupError, psutil.Error):
            pass
    return alive
