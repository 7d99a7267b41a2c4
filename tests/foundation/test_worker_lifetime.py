"""Worker processes end with the process they work for (lrkd.executors.exit_with): a forkserver's
children hold its "alive" pipe, so after a SIGKILL of the report neither the forkserver nor the
idle pool workers ever ended on their own (seen: six processes, 0.3-0.6 GB each, minutes later)."""

from __future__ import annotations

import subprocess
import sys
import time

from lrkd.executors import exit_with, worker_context


def _serve_forever(owner: int) -> None:
    exit_with(owner, interval=0.05)
    time.sleep(60)


def test_a_worker_ends_soon_after_its_owner_is_killed():
    owner = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    worker = worker_context().Process(target=_serve_forever, args=(owner.pid,), daemon=True)
    worker.start()
    try:
        time.sleep(0.5)
        assert worker.is_alive()  # it lives while the owner does
        owner.kill()
        owner.wait()
        worker.join(timeout=10)
        assert not worker.is_alive() and worker.exitcode == 1
    finally:
        owner.kill()
        if worker.is_alive():
            worker.kill()
