"""Executors: where the cells of a grid run. Serial, a local process pool, or a Dask cluster.

An executor has one method, `map_unordered(fn, items)`, which applies a picklable function to
each item and yields the results as they finish, and is a context manager (entering starts what
it needs, leaving frees it; serial and local need nothing). The function runs a cell and RETURNS
its rows; the driver (`lrkd.sweep.run_grid`) alone writes them to the store. So workers need no
shared disk, and a store has exactly one writer however the cells are spread.

  serial  this process, one cell after another (debugging, tests, tiny grids)
  local   a forkserver process pool on this machine; workers x torch threads <= cores
  dask    a dask.distributed cluster: a running one (`scheduler="tcp://HOST:PORT"`) or a
          LocalCluster of `workers` processes with one thread each

Failures: a cell that raises re-raises in the driver (its traceback included). On Dask a worker
that dies mid-cell loses only that cell: the scheduler reruns it on another worker (up to
`distributed.scheduler.allowed-failures` times, 3 by default), and the other cells go on; if it
keeps killing workers, the rest of the grid is still stored and `CellsLost` names how many cells
are missing, which a rerun computes.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import socket
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Protocol, Sequence

from lrkd.errors import InputError

EXECUTORS = ("serial", "local", "dask")
# A wrong --scheduler address should fail in seconds, not after dask's default 30 s.
CONNECT_TIMEOUT_S = 5.0
# dask's own INFO/WARNING lines (worker restarts, task reschedules) would bury our progress bars;
# failures reach the user through the exceptions below instead.
DASK_LOG_LEVEL = logging.CRITICAL


class Executor(Protocol):
    """Anything that can apply a picklable function to items, yielding results as they finish."""

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]: ...


class CellsLost(RuntimeError):
    """Cells whose worker died (repeatedly) before they finished; the others were returned."""

    def __init__(self, lost: int, total: int, reason: str):
        super().__init__(
            f"{lost} of {total} cells were lost ({reason}); the others are stored, "
            "rerun the same command to compute the missing ones"
        )
        self.lost = lost


class _NoResources:
    """Context-manager methods for executors that hold nothing between grids."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass


class SerialExecutor(_NoResources):
    """Runs cells one after another in this process (debugging, tests, tiny grids)."""

    def map_unordered(self, fn, items):
        for item in items:
            yield fn(item)


class ProcessExecutor(_NoResources):
    """A local process pool (started per grid). Workers x torch threads per worker never exceed the cores."""

    def __init__(self, max_workers: int | None = None):
        cores = os.cpu_count() or 1
        self.max_workers = max(1, min(max_workers or cores, cores))
        self.threads_per_worker = max(1, cores // self.max_workers)

    def map_unordered(self, fn, items):
        items = list(items)
        if not items:
            return
        workers = min(self.max_workers, len(items))
        context = worker_context()
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_init_worker, initargs=(self.threads_per_worker, os.getpid())
        ) as pool:
            with _main_not_reimported():
                pending = {pool.submit(fn, item) for item in items}
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()


class DaskExecutor:
    """Cells on a dask.distributed cluster; results come back to the driver as they finish.

    Args:
        scheduler: address of a running scheduler ("tcp://HOST:PORT"); None starts a local
            cluster of `workers` processes (one thread each) for as long as the executor is open.
        workers: local cluster size (default: cores); not allowed together with `scheduler`.
        connect_timeout: seconds to wait for the scheduler before giving up with an InputError.

    Use it as a context manager (`with DaskExecutor(...) as ex:`) so that the cluster is always
    closed: entering connects to `scheduler` at once; a local cluster starts when the first
    cells are mapped. `close()` ends it (and `start()` starts either explicitly).
    """

    def __init__(
        self, scheduler: str | None = None, workers: int | None = None, *, connect_timeout: float = CONNECT_TIMEOUT_S
    ):
        if scheduler is not None and workers is not None:
            raise InputError("--workers", "not used with --scheduler (the cluster's own workers run the cells)")
        self.scheduler = check_scheduler_address(scheduler) if scheduler is not None else None
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.connect_timeout = connect_timeout
        self._client = None
        self._cluster = None

    def __repr__(self) -> str:
        where = self.scheduler or f"a local cluster of {self.workers} workers"
        return f"DaskExecutor({where})"

    @property
    def client(self):
        """The distributed.Client (starting the cluster or connecting on first use)."""
        if self._client is None:
            self.start()
        return self._client

    def start(self) -> "DaskExecutor":
        """Connect to the scheduler, or start the local cluster. Idempotent."""
        if self._client is not None:
            return self
        quiet_dask_logs()
        if self.scheduler is None:
            self._client = self._start_local()
        else:
            self._client = self._connect(self.scheduler)
        return self

    def _start_local(self):
        import dask  # dask is imported by --executor dask only
        from distributed import Client, LocalCluster

        # saturation 1: a worker holds only the cell it runs, so a killed one takes no queued
        # cell down with it (dask's default 1.1 also hands each 1-thread worker a second cell)
        with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}), _main_not_reimported():
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
                # its HTTP server (health, metrics) on a free port, not
                # 8787, which another cluster may hold (dask warns then)
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=DASK_LOG_LEVEL,
            )
        return Client(self._cluster)

    def _connect(self, address: str):
        from distributed import Client  # dask is imported by --executor dask only

        hint = "start one with `dask scheduler` or fix the address"
        _probe(address, self.connect_timeout, hint)
        try:
            return Client(address, timeout=self.connect_timeout)
        except Exception as exc:  # noqa: BLE001 - timeouts, refusals, and a non-Dask server's garbage
            raise InputError(
                "--scheduler",
                f"{address} did not answer as a Dask scheduler within "
                f"{self.connect_timeout:g} s ({type(exc).__name__}); {hint}",
            ) from None

    def close(self) -> None:
        """Disconnect; a local cluster's worker processes are stopped and waited for."""
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def __enter__(self) -> "DaskExecutor":
        # a running cluster is joined now, so that a bad address fails before any work; a local
        # one starts with the first cells, so a rerun with every cell stored starts nothing
        return self.start() if self.scheduler is not None else self

    def __exit__(self, *exc) -> None:
        self.close()

    def map_unordered(self, fn, items):
        from distributed import KilledWorker, as_completed  # dask is imported by --executor dask only

        items = list(items)
        if not items:
            return
        client = self.client
        # pure=False: every submission is new work, even if the same cell ran on this cluster before
        futures = client.map(fn, items, pure=False)
        lost, error = 0, None
        try:
            for future in as_completed(futures):
                if future.status == "finished":
                    yield future.result()
                elif future.status == "error":  # go on collecting the other cells, report after
                    exc = future.exception()
                    if isinstance(exc, KilledWorker):
                        lost += 1
                    elif error is None:
                        error = exc.with_traceback(future.traceback())  # the worker's traceback
                else:  # cancelled: the scheduler went away or restarted
                    lost += 1
                future.release()
        finally:  # a driver that stops early (Ctrl-C, an error) leaves no work queued on the cluster
            if client.status == "running":
                client.cancel([f for f in futures if not f.done()])
        if error is not None:
            raise error
        if lost:
            raise CellsLost(lost, len(items), "their workers died or the scheduler went away")


def _probe(address: str, timeout: float, hint: str) -> None:
    """Fail at once on a refused or unresolvable TCP address (dask itself retries until its timeout)."""
    from distributed.comm.addressing import parse_address, parse_host_port  # dask: --executor dask only

    scheme, location = parse_address(address)
    if scheme != "tcp":
        return
    host, port = parse_host_port(location)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InputError("--scheduler", f"cannot reach {address} ({reason}); {hint}") from None


def check_scheduler_address(address: str) -> str:
    """A Dask scheduler address such as tcp://10.0.0.5:8786 (the scheme defaults to tcp).

    Returns:
        the address with its scheme; raises InputError('--scheduler: ...') when malformed.
    """
    from distributed.comm.addressing import parse_address, parse_host_port  # dask: --scheduler only
    from distributed.comm.registry import backends

    allowed = f"a Dask scheduler address like tcp://HOST:PORT, got {address!r}"
    try:
        scheme, location = parse_address(address.strip())
        if scheme not in backends or not location:
            raise ValueError(scheme)
        if scheme in ("tcp", "tls", "ws", "wss"):
            host, port = parse_host_port(location)
            if not host or port is None or not 0 < int(port) < 65536:
                raise ValueError(location)
    except (ValueError, TypeError):
        raise InputError("--scheduler", f"must be {allowed}") from None
    return f"{scheme}://{location}"


def executor_for(workers: int | None = None, kind: str = "local", scheduler: str | None = None):
    """The executor the command-line flags name: --executor KIND, --workers N, --scheduler ADDR.

    local with --workers 1 runs serially in this process (no pool to start); dask without
    --scheduler starts a local cluster of N workers (default: cores). Checks every flag now, but
    starts nothing: enter the returned executor (`with ...:`) to start a cluster or connect.
    """
    if kind not in EXECUTORS:
        raise InputError("--executor", f"must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    if workers is not None and workers < 1:
        raise InputError("--workers", f"must be an integer >= 1, got {workers}")
    if scheduler is not None and kind != "dask":
        raise InputError("--scheduler", f"only with --executor dask, got --executor {kind}")
    if kind == "dask":
        return DaskExecutor(scheduler, workers)
    if kind == "serial" or workers == 1:
        if workers not in (None, 1):
            raise InputError("--workers", f"must be 1 with --executor serial, got {workers}")
        return SerialExecutor()
    return ProcessExecutor(workers)


def default_executor(n_cells: int) -> Executor:
    """A process pool when there is more than one cell and more than one core, else serial."""
    if n_cells > 1 and (os.cpu_count() or 1) > 1:
        return ProcessExecutor()
    return SerialExecutor()


def quiet_dask_logs() -> None:
    """Keep distributed's log lines (worker restarts, reschedules, closing) off stderr."""
    for name in (
        "distributed",
        "distributed.scheduler",
        "distributed.nanny",
        "distributed.worker",
        "distributed.client",
        "distributed.core",
        "distributed.batched",
    ):
        logging.getLogger(name).setLevel(DASK_LOG_LEVEL)


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


def _init_worker(threads: int, owner: int) -> None:
    limit_threads(threads)
    exit_with(owner)


def on_this_machine(executor) -> bool:
    """Whether `executor` runs its cells on this machine in processes of their own: the local pool,
    or a local Dask cluster (not a remote one, whose machines share no disk with this one).

    Args:
        executor: an executor, or None.

    Returns:
        True for a ProcessExecutor or a DaskExecutor without a scheduler address.
    """
    return isinstance(executor, ProcessExecutor) or (isinstance(executor, DaskExecutor) and executor.scheduler is None)


#: Seconds between a worker's checks that the process it works for is alive.
OWNER_CHECK_S = 1.0


def exit_with(owner: int, interval: float = OWNER_CHECK_S) -> None:
    """End this process soon after `owner` ends (a watcher thread; os._exit, status 1).

    Why: a forkserver's children hold the write end of its "alive" pipe, so when the process that
    started them is killed (SIGKILL, out of memory) neither the forkserver nor its idle pool workers
    ever see the end: they stayed, 0.3-0.6 GB each, long after a killed report. What a killed
    worker loses is its cell in flight, which the store never had (a rerun computes it).

    Args:
        owner: the pid of the process this one works for.
        interval: seconds between checks.
    """

    def watch() -> None:
        while _alive(owner):
            time.sleep(interval)
        os._exit(1)

    threading.Thread(target=watch, name="lrkd-exit-with-owner", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie, dead but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process under that pid: ours is gone
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:  # no /proc (macOS): kill() said it exists
        return True


#: Imported once by the forkserver before it forks any worker, so a worker starts with them loaded:
#: importing them costs about 2.5 s of CPU per worker otherwise, and a quick report starts some 20
#: workers (a pool per grid) on 2 cores. Only modules whose import starts no thread (a fork copies
#: one thread); a name that fails to import is skipped by the forkserver.
FORKSERVER_PRELOAD = ["numpy", "scipy.stats", "pandas", "torch", "lrkd.sweep", "lrkd.simulate.experiments"]


def worker_context():
    """The multiprocessing context of every worker process of the suite: forkserver (a fork of a
    process that never ran torch, so no forked thread pools), with FORKSERVER_PRELOAD loaded.

    Returns:
        The context (its forkserver starts with the first process; the preload applies from then).
    """
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(FORKSERVER_PRELOAD)
    return context


def limit_threads(threads: int) -> None:
    """Give this process `threads` compute threads: torch's and the BLAS's under numpy and scipy.

    OpenBLAS starts a thread per core and its idle threads spin: on 2 cores a process that sets
    only torch's threads still burns about twice the CPU of its numpy work (the advice calibration:
    93 s of CPU with the default BLAS threads, 47 s with one, in the same wall time): CPU that a
    second process needs.

    Args:
        threads: at least 1.
    """
    import torch  # in the worker processes only: infrastructure loads no torch at import
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    threadpool_limits(threads, user_api="blas")
