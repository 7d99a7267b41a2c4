"""`lrkd advise` (issue 21): bad input is one line naming the field (exit 2, before any work); a
synthetic run and a real one (a tiny random Llama) print their one-line answer, write --json with
the issue's keys and the figure, and resume from the store."""

from __future__ import annotations

import argparse
import json
import time

import pytest
import torch

from lrkd.cli import advise as advise_cli
from lrkd.cli import build_parser
from lrkd.simulate.experiments.real import LRC_REAL
from lrkd.simulate.lrc.tiny import make_tiny_workspace

SPEC = "linear:m=24,n=24,spectrum=power_law:1.5,noise=0.3"


def advise_parser() -> argparse.ArgumentParser:
    """The `lrkd` parser with `advise` (added here until lrkd/cli/__init__.py wires it in)."""
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    if "advise" not in sub.choices:
        advise_cli.add_parser(sub)
    return parser


def run_advise(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of one in-process `lrkd advise` call."""
    try:
        args = advise_parser().parse_args(["advise", *argv])
        code = args.handler(args)
    except SystemExit as exc:  # argparse's own errors (a missing --budget) exit
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code: int, err: str, field: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "error" in lines[0] and field in lines[0], err


@pytest.mark.parametrize(
    "argv, field",
    [
        ((SPEC, "--budget", "2048"), "--budget"),  # not above the pilot's largest budget (2048 for n = 24)
        ((SPEC, "--budget", "a lot"), "--budget"),
        ((SPEC, "--budget", "1.5e6x"), "--budget"),
        ((SPEC, "--budget", "0"), "--budget"),
        ((SPEC, "--budget", "1e30"), "--budget"),
        ((SPEC,), "--budget"),  # argparse: the flag is required
        (("linear:m=24,n=24,spectrum=zipf:1", "--budget", "1e6"), "teacher.spectrum"),
        (("linear:m=24,spectrum=power_law:1", "--budget", "1e6"), "teacher.n"),
        (("no-such-teacher-anywhere", "--budget", "1e6"), "teacher"),
        ((SPEC, "--budget", "1e6", "--seeds", "2"), "--seeds"),
        ((SPEC, "--budget", "1e6", "--pilot-budgets", "64,128"), "--pilot-budgets"),
        ((SPEC, "--budget", "1e6", "--pilot-budgets", "16,32,64,128"), "--pilot-budgets"),  # not above n + 1
        ((SPEC, "--budget", "1e6", "--teacher-layers", "2"), "--teacher-layers"),
        ((SPEC, "--budget", "1e6", "--out", "/proc/lrkd-cannot-write/here"), "--out"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, field):
    store = tmp_path / "results.db"
    start = time.perf_counter()
    code, out, err = run_advise(capsys, *argv, "--store", str(store))
    assert_one_line_error(code, err, field)
    assert out == "" and not store.exists()  # nothing ran, nothing was written
    assert time.perf_counter() - start < 20.0  # imports (torch) at most: the pilot never starts


def test_unreadable_model_folder_is_one_line(capsys, tmp_path):
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{not json")
    code, _, err = run_advise(capsys, str(folder), "--budget", "1e6", "--store", str(tmp_path / "s.db"))
    assert_one_line_error(code, err, "teacher")
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run_advise(capsys, str(empty), "--budget", "1e6", "--store", str(tmp_path / "s.db"))
    assert_one_line_error(code, err, "teacher")


def test_budget_accepts_the_usual_spellings():
    assert advise_cli.parse_budget("1,000,000") == advise_cli.parse_budget("1e6") == 1_000_000
    assert advise_cli.parse_budget("1_000_000") == advise_cli.parse_budget(" 1000000 ") == 1_000_000


def test_synthetic_run_writes_json_figure_and_tables(capsys, tmp_path):
    store, out, record = tmp_path / "results.db", tmp_path / "out", tmp_path / "advice.json"
    start = time.perf_counter()
    argv = (SPEC, "--budget", "32,768", "--store", str(store), "--json", str(record), "--out", str(out))
    code, stdout, err = run_advise(capsys, *argv)
    elapsed = time.perf_counter() - start
    assert code == 0, err
    first = stdout.splitlines()[0]
    assert first.startswith("rank ") and "for N = 32,768 samples" in first
    data = json.loads(record.read_text())
    for key in ("rank", "rank_interval", "budget", "law", "pilot", "spectrum_prediction", "paper_rule"):
        assert key in data
    low, high = data["rank_interval"]
    assert low <= data["rank"] <= high and data["budget"] == 32768
    assert f"rank {data['rank']} [{low}, {high}]" in first
    assert len(data["pilot"]) == 6 and {"n_samples", "rstar", "rstar_low", "rstar_high"} <= set(data["pilot"][0])
    assert data["truth"]["best_rank"] >= 1  # a linear teacher's answer is checked against the truth
    assert (out / "advice.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "pilot.csv").is_file() and (out / "risk_curves.csv").is_file()
    assert "pilot of linear 24 x 24" in err  # progress on stderr
    assert elapsed < 30.0

    # resumable: the pilot's cells are read back from the store, and the answer is the same
    code, again, _ = run_advise(capsys, SPEC, "--budget", "32768", "--store", str(store), "--quiet")
    assert code == 0 and again.splitlines()[0] == first


REAL = "smollm2-135m-instruct"


@pytest.mark.parametrize(
    "argv, field",
    [
        ((REAL, "--budget", "1000"), "--budget"),  # not above the quick pilot's largest budget (1,024)
        ((REAL, "--budget", "1e6", "--pilot-budgets", "256,512"), "--pilot-budgets"),  # fewer than 3
        ((REAL, "--budget", "1e6", "--widths", "8"), "--widths"),
        ((REAL, "--budget", "1e6", "--widths", "8,8,16"), "--widths"),
        ((REAL, "--budget", "1e6", "--seeds", "2"), "--seeds"),
        ((REAL, "--budget", "1e6", "--teacher-layers", "0"), "--teacher-layers"),
        ((REAL, "--budget", "1e6", "--text", "/no/such/text.txt"), "--text"),
        ((SPEC, "--budget", "1e6", "--widths", "2,4"), "--widths"),  # a real teacher's option
        (("SmolLM2-360M", "--budget", "1e6"), "teacher"),  # an unknown name
    ],
)
def test_real_teacher_bad_input_is_one_line_and_exit_2(capsys, tmp_path, argv, field):
    store = tmp_path / "results.db"
    code, out, err = run_advise(capsys, *argv, "--store", str(store))
    assert_one_line_error(code, err, field)
    assert out == "" and not store.exists()


def test_real_teacher_that_is_not_a_model_is_one_line(capsys, tmp_path):
    """A folder whose config.json has no weights beside it, or a file that is not a .gguf model."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "llama"}')
    text = tmp_path / "model.txt"
    text.write_text("not a model")
    for teacher in (folder, text):
        code, out, err = run_advise(capsys, str(teacher), "--budget", "1e6", "--store", str(tmp_path / "s.db"))
        assert_one_line_error(code, err, "teacher")
        assert "model" in err and out == ""


def test_unwritable_store_is_one_line(capsys, tmp_path):
    code, _, err = run_advise(capsys, SPEC, "--budget", "1e6", "--store", "/proc/lrkd-cannot-write/results.db")
    assert_one_line_error(code, err, "--store")


@pytest.fixture
def one_thread():
    """Small tensors: one thread avoids OpenMP spin-waits on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_real_teacher_run_writes_json_figure_and_resumes(capsys, tmp_path, monkeypatch, one_thread):
    """The real path end to end on a tiny random Llama (2 layers, d_T = 64), the quick preset's LRC
    settings on its own text: one line, the JSON, the figure; a rerun reads every cell back."""
    ws = make_tiny_workspace(tmp_path / "ws", gguf=False)
    monkeypatch.setenv("LRKD_CACHE", str(tmp_path / "cache"))
    store, out, record = tmp_path / "results.db", tmp_path / "out", tmp_path / "advice.json"
    argv = (
        str(ws["safetensors"]),
        "--budget",
        "4096",
        "--teacher-layers",
        "2",
        "--vocab",
        "corpus",
        "--text",
        str(ws["text"]),
        "--widths",
        "2,4,8",
        "--pilot-budgets",
        "128,256,384",
        "--store",
        str(store),
    )
    code, stdout, err = run_advise(capsys, *argv, "--json", str(record), "--out", str(out))
    assert code == 0, err
    first = stdout.splitlines()[0]
    assert first.startswith("rank ") and "for N = 4,096 tokens" in first
    data = json.loads(record.read_text())
    for key in ("rank", "rank_interval", "budget", "law", "pilot", "paper_rule", "pilot_cells", "teacher"):
        assert key in data
    low, high = data["rank_interval"]
    assert f"rank {data['rank']} [{low}, {high}]" in first and 2 <= low <= data["rank"] <= high <= 63
    assert data["risk"] == "heldout_kl" and data["teacher"]["d_T"] == 64
    assert data["pilot_cells"]["experiment"] == "lrc_real_rank" and data["pilot_cells"]["widths"] == [2, 4, 8]
    # the quick preset's seeds by default
    assert data["pilot_cells"]["seeds"] == list(LRC_REAL.config("quick").seeds)
    assert [row["n_samples"] for row in data["pilot"]] == [128, 256, 384]
    assert (out / "advice.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "pilot of" in err  # progress on stderr

    import lrkd.simulate.lrc.api as api

    def no_training(*args, **kwargs):
        raise AssertionError("a stored cell was trained again")

    monkeypatch.setattr(api, "train_sweep", no_training)
    code, again, err = run_advise(capsys, *argv, "--quiet")
    assert code == 0, err
    assert again.splitlines()[0] == first and err == ""
