"""Bad input, tried as a new user would: one line on stderr naming the field, exit code 2, no
traceback, and no long work before the error.

The property tests call `lrkd.cli.main` in-process (a subprocess per example would cost a second
of imports each): generated bad configs, binary files and unwritable paths, fed to every
subcommand that reads a file or writes a folder.
"""

from __future__ import annotations

import string
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lrkd.cli import main

BINARY = b"\xff\xfe\x00\x81binary\x00"
UNWRITABLE = "/proc/lrkd-cannot-write/here"  # /proc refuses new entries, even for root


def run_cli(capsys, *argv: str) -> tuple[int, str]:
    """Exit code and stderr of one in-process `lrkd` call (argparse exits are caught too)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's own errors exit; ours return
        code = exc.code
    err = capsys.readouterr().err
    return code, err


def assert_one_line_error(code: int, err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1, err
    assert "Traceback" not in err and "error" in lines[0]


@pytest.fixture
def binary_file(tmp_path):
    def make(name: str):
        path = tmp_path / name
        path.write_bytes(BINARY)
        return str(path)

    return make


@pytest.mark.parametrize(
    "argv",
    [
        ("sweep", "{file}.toml"),
        ("verify", "--claims-file", "{file}.py"),
        ("verify", "--baseline", "{file}.json"),
    ],
)
def test_binary_files_are_one_line_errors(capsys, binary_file, argv):
    path = binary_file("binary" + argv[-1].split("}")[-1])
    start = time.perf_counter()
    code, err = run_cli(capsys, *argv[:-1], path)
    assert_one_line_error(code, err)
    # The baseline is read before any experiment runs (it took over a minute before the fix).
    assert time.perf_counter() - start < 20


def test_report_into_an_unwritable_folder_fails_before_running(capsys):
    start = time.perf_counter()
    code, err = run_cli(capsys, "report", "--no-real", "--out", UNWRITABLE)
    assert_one_line_error(code, err)
    assert "--out" in err
    assert time.perf_counter() - start < 20


def test_verify_update_into_an_unwritable_baseline_fails_before_running(capsys):
    code, err = run_cli(capsys, "verify", "--update", "--baseline", UNWRITABLE + ".json")
    assert_one_line_error(code, err)
    assert "--baseline" in err


def _words(exclude=()):
    return st.text(alphabet=string.ascii_letters, min_size=1, max_size=8).filter(lambda w: w not in exclude)


# Values each key of the c2_generalization config must reject (simulate/experiments/c2.py checks them).
BAD = {
    "m": st.one_of(st.integers(max_value=1), st.integers(min_value=4097), _words().map(lambda w: f'"{w}"')),
    "noise": st.floats(max_value=-1e-6, allow_infinity=False),
    "seeds": st.sampled_from(["[]", "[-1, 2]", '"zero"']),
    "ranks": st.sampled_from(["[]", "[0]", "[2, 400]", "[1.5]"]),
    "sample_sizes": st.sampled_from(["[]", "[0, 10]", "[-5]", "7"]),
    "spectrum.decay": st.floats(max_value=0.0, allow_infinity=False),
    "spectrum.kind": _words(exclude=("power_law", "exponential")).map(lambda w: f'"{w}"'),
    "no_such_key": st.integers(),
}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), key=st.sampled_from(sorted(BAD)))
def test_generated_bad_config_values_are_one_line_errors(capsys, tmp_path, data, key):
    """A c2_generalization config with one generated bad entry is rejected before any cell runs."""
    value = _toml_value(data.draw(BAD[key], label=key))
    text = 'experiment = "c2_generalization"\npreset = "quick"\n'
    if "." in key:
        table, leaf = key.split(".", 1)
        text += f"[{table}]\n{leaf} = {value}\n"
    else:
        text += f"{key} = {value}\n"
    path = tmp_path / "bad.toml"
    path.write_text(text)
    start = time.perf_counter()
    code, err = run_cli(capsys, "sweep", str(path), "--store", str(tmp_path / "s.db"), "--out", str(tmp_path / "o"))
    assert_one_line_error(code, err)
    assert key.split(".")[-1] in err or key.split(".")[0] in err
    assert time.perf_counter() - start < 20


def _toml_value(value) -> str:
    if isinstance(value, float):
        return {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(value), repr(value))
    return str(value)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(min_size=1, max_size=64), command=st.sampled_from(["sweep", "claims-file", "baseline"]))
def test_generated_garbage_files_are_one_line_errors(capsys, tmp_path, data, command):
    path = tmp_path / "garbage"
    path.write_bytes(data)
    argv = {
        "sweep": ("sweep", str(path), "--store", str(tmp_path / "s.db")),
        "claims-file": ("verify", "--claims-file", str(path)),
        "baseline": ("verify", "--baseline", str(path)),
    }[command]
    if command == "claims-file":
        # Arbitrary bytes can be valid Python (e.g. b"0"); then it runs as a claims file and the
        # baseline check comes next: point that at garbage too so no experiment ever starts.
        argv = (*argv, "--baseline", str(path))
    code, err = run_cli(capsys, *argv)
    assert_one_line_error(code, err)


@pytest.mark.parametrize("store", ["unwritable", "not_a_database"])
def test_a_bad_store_is_one_line_error(capsys, tmp_path, store):
    path = UNWRITABLE + ".db" if store == "unwritable" else tmp_path / "garbage.db"
    if store == "not_a_database":
        path.write_bytes(BINARY * 64)
    config = tmp_path / "ok.toml"
    config.write_text('experiment = "c2_generalization"\npreset = "quick"\n')
    code, err = run_cli(capsys, "sweep", str(config), "--store", str(path), "--out", str(tmp_path / "o"))
    assert_one_line_error(code, err)
    assert "store" in err
