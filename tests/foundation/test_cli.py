"""The `lrkd` command line: help, one-line errors with exit code 2, and a sweep that survives SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from lrkd.store import ResultStore

HERE = Path(__file__).parent


def lrkd(*args: str, cwd: Path | None = None, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lrkd", *args], capture_output=True, text=True, cwd=cwd, env=_env(), timeout=300, **popen
    )


def _env() -> dict[str, str]:
    env = dict(os.environ, LRKD_PLUGINS="toy_plugin", LRKD_QUIET="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    return env


def _toml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sweep.toml"
    path.write_text('experiment = "toy"\n' + body)
    return path


@pytest.mark.parametrize("command", ["report", "claims", "sweep", "verify", "experiments"])
def test_every_subcommand_has_help(command):
    out = lrkd(command, "--help")
    assert out.returncode == 0 and "usage: lrkd " + command in out.stdout


@pytest.mark.parametrize(
    "args, needle",
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["sweep", "x.toml", "--bogus"], "unrecognized arguments: --bogus"),
        (["sweep", "missing.toml"], "file not found"),
        (["report", "--claims", "nope"], "unknown claim id 'nope'"),
        (["report", "--claims", ","], "--claims: names no claim id"),
        (["report", "--workers", "0"], "--workers: must be an integer >= 1"),
        (["sweep", "x.toml", "--executor", "dask", "--scheduler", "nonsense"], "--scheduler: must be a Dask scheduler"),
        (["sweep", "x.toml", "--scheduler", "tcp://h:8786"], "--scheduler: only with --executor dask"),
        (["report", "--executor", "dask", "--scheduler", "tcp://h:8786", "--workers", "2"], "--workers: not used with"),
        (["sweep", "x.toml", "--executor", "ray"], "argument --executor: invalid choice: 'ray'"),
        (["report", "--full", "--quick"], "not allowed with argument"),
        (["claims", "no_such_claim"], "unknown claim id 'no_such_claim'"),
        (["verify", "--baseline", "missing.json", "--claims-file", "missing.py"], "file not found: missing.py"),
    ],
)
def test_bad_command_lines_give_one_line_and_exit_2(tmp_path, args, needle):
    out = lrkd(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_one_line_error(tmp_path):
    out = lrkd("report", "--device", "cuda", "--out", str(tmp_path / "r"))
    assert out.returncode == 2 and "no CUDA GPU is available" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "body, override, field",
    [
        ("colour = 3\n", None, "colour"),  # unknown key in the file
        ("", "size=big", "size"),  # wrong type on the command line
        ("size = -4\n", None, "size"),  # negative size
        ("", "seeds=[1, 2.5]", "seeds[1]"),  # wrong element type
    ],
)
def test_bad_config_gives_one_line_naming_the_key(tmp_path, body, override, field):
    extra = ["--set", override] if override else []
    out = lrkd("sweep", str(_toml(tmp_path, body)), "--store", str(tmp_path / "r.db"), *extra, cwd=tmp_path)
    assert out.returncode == 2, out.stderr
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith("lrkd sweep: error: " + field), line


def _rows(db: Path) -> pd.DataFrame:
    frame = ResultStore(db).frame("toy")
    return frame[["seed", "rank", "tail"]].sort_values(["seed", "rank"]).reset_index(drop=True)


def test_sweep_killed_halfway_resumes_to_identical_rows(tmp_path):
    config = _toml(tmp_path, "seeds = [0,1,2,3,4,5,6,7,8,9,10,11]\nsize = 24\nsleep_s = 0.4\n")
    killed, clean = tmp_path / "killed.db", tmp_path / "clean.db"
    args = [sys.executable, "-m", "lrkd", "sweep", str(config), "--workers", "2"]
    proc = subprocess.Popen(
        [*args, "--store", str(killed)],
        env=_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_cells(killed, at_least=3, proc=proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = ResultStore(killed).count("toy")
    assert 3 <= partial < 12, f"kill landed after {partial} of 12 cells"

    resumed = lrkd("sweep", str(config), "--store", str(killed), "--workers", "2")
    assert resumed.returncode == 0, resumed.stderr
    assert f"{12 - partial} new cells" in resumed.stdout
    assert lrkd("sweep", str(config), "--store", str(clean), "--workers", "2").returncode == 0
    assert ResultStore(killed).count("toy") == 12
    pd.testing.assert_frame_equal(_rows(killed), _rows(clean))


def _wait_for_cells(
    db: Path, at_least: int, proc: subprocess.Popen, timeout: float = 120, experiment: str = "toy"
) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if db.exists() and ResultStore(db).count(experiment) >= at_least:
            return
        assert proc.poll() is None, "sweep ended before it could be killed"
        time.sleep(0.05)
    raise AssertionError("sweep made no progress")


def test_sweep_writes_tables_and_lists_experiments(tmp_path):
    out = lrkd(
        "sweep",
        str(_toml(tmp_path, "seeds = [0, 1]\n")),
        "--store",
        str(tmp_path / "r.db"),
        "--out",
        str(tmp_path / "tables"),
        "--workers",
        "1",
    )
    assert out.returncode == 0, out.stderr
    assert "2 new cells" in out.stdout
    assert len(pd.read_csv(tmp_path / "tables" / "toy.results.csv")) == 6
    listing = lrkd("experiments", "toy")
    assert "sleep_s" in listing.stdout and "presets: quick" in listing.stdout


def test_real_experiment_sweep_killed_halfway_matches_an_uninterrupted_run(tmp_path):
    """The same, on a real experiment grid (reduced-rank regression cells of c2_generalization)."""
    config = tmp_path / "c2.toml"
    config.write_text(
        'experiment = "c2_generalization"\nranks = [2, 4]\nsample_sizes = [256, 512, 1024]\n'
        f"seeds = {list(range(40))}\n"
    )
    killed, clean = tmp_path / "killed.db", tmp_path / "clean.db"
    cmd = [sys.executable, "-m", "lrkd", "sweep", str(config), "--workers", "2"]
    proc = subprocess.Popen(
        [*cmd, "--store", str(killed)],
        env=_env(),
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _wait_for_cells(killed, at_least=10, proc=proc, experiment="c2_generalization")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = ResultStore(killed).count("c2_generalization")
    assert 10 <= partial < 120, f"kill landed after {partial} of 120 cells"
    for db in (killed, clean):
        out = subprocess.run([*cmd, "--store", str(db)], env=_env(), capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, out.stderr
    columns = ["rank", "n_samples", "seed", "train_risk", "test_risk", "excess_risk", "gen_gap"]
    rows = [
        ResultStore(db).frame("c2_generalization")[columns].sort_values(columns[:3]).reset_index(drop=True)
        for db in (killed, clean)
    ]
    assert len(rows[0]) == 2 * 3 * 40
    pd.testing.assert_frame_equal(rows[0], rows[1], check_exact=True)
