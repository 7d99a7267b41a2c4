"""lrkd.staging: a folder is replaced whole, what the new content does not replace is carried over
by hard links, a failed block leaves the old folder as it was, and a killed run's leftovers are
recovered or deleted by the next run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lrkd import staging
from lrkd.errors import InputError


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _old_report(folder: Path) -> Path:
    (folder / "figures").mkdir(parents=True)
    (folder / "figures" / "stale.png").write_bytes(b"old figure")
    (folder / "verdicts.json").write_text("[old]")
    (folder / "results.db").write_bytes(b"the store")
    (folder / "lrc").mkdir()
    (folder / "lrc" / "checkpoint.pt").write_bytes(b"weights")
    return folder


@pytest.fixture
def dead_pid() -> int:
    """The id of a process that has exited (ids are not reused that fast)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _siblings(target: Path) -> list[str]:
    return sorted(p.name for p in target.parent.iterdir() if p != target)


def test_publish_replaces_the_content_and_carries_the_rest_by_hard_links(tmp_path):
    target = _old_report(tmp_path / "out")
    store_inode = (target / "results.db").stat().st_ino
    with staging.staged(target, "--out") as stage:
        assert stage.parent == target.parent and stage.name == f"out.partial-{os.getpid()}"
        (stage / "figures").mkdir()
        (stage / "figures" / "new.png").write_bytes(b"new figure")
        (stage / "verdicts.json").write_text("[new]")
        assert _tree(target)["verdicts.json"] == b"[old]"  # nothing touched before the block ends
    assert _tree(target) == {
        "figures/new.png": b"new figure",  # the old figures/ is replaced whole: no stale figure
        "verdicts.json": b"[new]",
        "results.db": b"the store",
        "lrc/checkpoint.pt": b"weights",
    }
    assert (target / "results.db").stat().st_ino == store_inode  # linked, not copied
    assert _siblings(target) == []


def test_a_block_that_raises_leaves_the_old_folder_as_it_was(tmp_path):
    target = _old_report(tmp_path / "out")
    before = _tree(target)
    with pytest.raises(KeyboardInterrupt):
        with staging.staged(target, "--out") as stage:
            (stage / "verdicts.json").write_text("[half]")
            raise KeyboardInterrupt
    assert _tree(target) == before and _siblings(target) == []


def test_a_first_report_is_renamed_into_place(tmp_path):
    target = tmp_path / "new" / "out"
    with staging.staged(target, "--out") as stage:
        (stage / "report.html").write_text("<p>")
    assert _tree(target) == {"report.html": b"<p>"} and _siblings(target) == []


def test_a_kill_between_the_two_renames_is_finished_by_the_next_run(tmp_path, dead_pid):
    """The target is missing: the complete (ready) folder goes into place, the old one is deleted."""
    target = tmp_path / "out"
    old = _old_report(staging.leftover_path(target, "old", dead_pid))
    ready = staging.leftover_path(target, "ready", dead_pid)
    ready.mkdir()
    (ready / "verdicts.json").write_text("[new]")
    os.link(old / "results.db", ready / "results.db")
    assert sorted(p.name for p in staging.recover(target)) == [old.name]
    assert _tree(target) == {"verdicts.json": b"[new]", "results.db": b"the store"}
    assert _siblings(target) == []


def test_without_a_ready_folder_the_old_one_goes_back(tmp_path, dead_pid):
    target = tmp_path / "out"
    old = _old_report(staging.leftover_path(target, "old", dead_pid))
    before = _tree(old)
    staging.leftover_path(target, "partial", dead_pid).mkdir()
    staging.recover(target)
    assert _tree(target) == before and _siblings(target) == []


def test_leftovers_of_ended_runs_are_deleted_and_of_running_ones_kept(tmp_path, dead_pid):
    target = _old_report(tmp_path / "out")
    before = _tree(target)
    dead = staging.leftover_path(target, "partial", dead_pid)
    dead.mkdir()
    os.link(target / "results.db", dead / "results.db")  # a link: deleting it keeps the store
    alive = staging.leftover_path(target, "partial", 1)  # init runs as long as the machine does
    alive.mkdir()
    assert staging.recover(target) == [dead]
    assert _tree(target) == before and _siblings(target) == [alive.name]


def test_a_place_where_no_staging_folder_can_be_made_is_an_input_error():
    with pytest.raises(InputError, match="^--out: cannot write beside"):
        with staging.staged(Path("/proc/lrkd-cannot-write/here"), "--out"):
            pass  # pragma: no cover - never entered


@pytest.mark.parametrize("target", [".", "..", "/"])
def test_the_current_folder_or_one_above_is_refused(monkeypatch, tmp_path, target):
    (tmp_path / "out").mkdir()
    monkeypatch.chdir(tmp_path / "out")
    with pytest.raises(InputError, match="^--out: must not be the current folder or one above it"):
        with staging.staged(Path(target), "--out"):
            pass  # pragma: no cover - never entered
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_symlink_to_the_folder_is_followed(tmp_path):
    real = _old_report(tmp_path / "real")
    (tmp_path / "link").symlink_to(real)
    with staging.staged(tmp_path / "link", "--out") as stage:
        (stage / "verdicts.json").write_text("[new]")
    assert (tmp_path / "link").is_symlink() and _tree(tmp_path / "link")["verdicts.json"] == b"[new]"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real"]
