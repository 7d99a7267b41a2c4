"""Replace a folder whole: write the new content beside it, then swap it into place.

`lrkd report` writes its files into `<out>.partial-<pid>` beside `--out` (`staged`). Only when
every file is written does it swap that folder in (`publish`):

1. every entry of the old folder that the new content does not replace (a report's results store
   and LRC checkpoints, a file of the user's) is hard-linked into the staging folder: nothing is
   moved or copied, so the old folder stays whole and a killed run loses nothing;
2. the staging folder is renamed `<out>.ready-<pid>` (complete from here on);
3. the old folder is renamed aside to `<out>.old-<pid>`, the ready one renamed to `<out>`, and the
   old one deleted.

A run that fails before step 3 deletes its staging folder; a run killed (SIGKILL) leaves it behind,
beside an untouched `<out>`. The next run on the same target calls `recover` first: when `<out>` is
missing (a kill between the two renames of step 3) it renames the ready folder, else the old one,
back into place; then it deletes every leftover of a process that no longer runs. Hard links only
add names for the same files, so deleting a leftover never deletes the store its target holds.
"""

from __future__ import annotations

import os
import re
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from lrkd.errors import InputError

#: The leftover kinds, in the order `recover` prefers them when the target is missing.
KINDS = ("ready", "old", "partial")


def leftover_path(target: Path, kind: str, pid: int | None = None) -> Path:
    """The name of a staging (`partial`), complete (`ready`) or replaced (`old`) folder of `target`.

    Args:
        target: the folder being replaced.
        kind: one of KINDS.
        pid: the process that owns it (default: this one).

    Returns:
        `<target>.<kind>-<pid>`, beside `target`.
    """
    return target.with_name(f"{target.name}.{kind}-{os.getpid() if pid is None else pid}")


def leftovers(target: Path) -> list[tuple[Path, str, int]]:
    """The staging, ready and replaced folders of `target` that are lying beside it.

    Args:
        target: the folder being replaced.

    Returns:
        (path, kind, pid) of each, newest first.
    """
    pattern = re.compile(re.escape(target.name) + r"\.(" + "|".join(KINDS) + r")-(\d+)")
    parent = target.parent
    if not parent.is_dir():
        return []
    found = [
        (entry, match[1], int(match[2]))
        for entry in parent.iterdir()
        if (match := pattern.fullmatch(entry.name)) and entry.is_dir() and not entry.is_symlink()
    ]
    return sorted(found, key=lambda f: f[0].stat().st_mtime, reverse=True)


def process_ended(pid: int) -> bool:
    """Whether the process that named a leftover no longer runs (this process counts as ended:
    it has not started a staging folder yet when it recovers).

    Args:
        pid: a process id.

    Returns:
        True when no process with that id runs here, or it is this one.
    """
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)  # signal 0: an existence check, nothing is sent
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return False


def recover(target: Path) -> list[Path]:
    """Finish or undo what a killed run left beside `target`, then delete its leftovers.

    When `target` is missing and a ready folder of an ended process exists, that one is renamed to
    `target` (the run was killed between the two renames of its swap, after its report was
    complete); else the replaced (old) one is. Leftovers of running processes are not touched.

    Args:
        target: the folder being replaced.

    Returns:
        The leftover folders deleted.
    """
    ended = [(path, kind) for path, kind, pid in leftovers(target) if process_ended(pid)]
    if not target.exists():
        for kind in ("ready", "old"):
            candidate = next((path for path, k in ended if k == kind), None)
            if candidate is not None:
                os.rename(candidate, target)
                ended.remove((candidate, kind))
                break
    for path, _ in ended:
        shutil.rmtree(path)
    return [path for path, _ in ended]


def link_tree(source: Path, destination: Path) -> None:
    """Recreate `source` at `destination` with hard links to its files (copies where the
    filesystem has no hard links); folders are new, symbolic links are copied as links.

    Args:
        source: a file or folder.
        destination: where it appears (must not exist).
    """
    if source.is_symlink():
        os.symlink(os.readlink(source), destination)
    elif source.is_dir():
        destination.mkdir()
        shutil.copymode(source, destination)
        for child in source.iterdir():
            link_tree(child, destination / child.name)
    else:
        try:
            os.link(source, destination)
        except OSError:  # no hard links here (some network and FAT filesystems): copy instead
            shutil.copy2(source, destination)


def publish(staging: Path, target: Path) -> Path:
    """Swap a complete staging folder into place of `target` (steps 1-3 of the module docstring).

    Args:
        staging: the folder holding the new content (renamed away by this call).
        target: the folder it replaces (need not exist).

    Returns:
        `target`.
    """
    if target.exists():
        shutil.copymode(target, staging)
        for entry in target.iterdir():
            if not (staging / entry.name).exists() and not (staging / entry.name).is_symlink():
                link_tree(entry, staging / entry.name)
    ready = leftover_path(target, "ready")
    os.rename(staging, ready)
    if target.exists():
        aside = leftover_path(target, "old")
        os.rename(target, aside)
        os.rename(ready, target)
        shutil.rmtree(aside)
    else:
        os.rename(ready, target)
    return target


@contextmanager
def staged(target: Path, field: str) -> Iterator[Path]:
    """A staging folder for new content of `target`, swapped into place when the block succeeds.

    Recovers what a killed run left first (`recover`), then creates the staging folder, so an
    unwritable place is a one-line error before any work. When the block raises
    (KeyboardInterrupt included), the staging folder is deleted and `target` is left as it was.

    Args:
        target: the folder to replace.
        field: the option that named `target` (e.g. "--out"), for the error.

    Returns:
        A context manager yielding the empty staging folder `<target>.partial-<pid>`.

    Raises:
        InputError: the staging folder cannot be created beside `target`, or `target` is the
            current folder or one above it (it would be renamed away under the process).
    """
    target = Path(target).resolve()  # "out/", "./out" and a symlink name the folder itself
    cwd = Path.cwd().resolve()
    if target == target.parent or cwd == target or target in cwd.parents:
        raise InputError(field, f"must not be the current folder or one above it, got {target}: it is replaced whole")
    staging = leftover_path(target, "partial")
    try:
        recover(target)
        staging.mkdir(parents=True)
    except OSError as exc:
        raise InputError(
            field, f"cannot write beside {target} ({exc.strerror or exc}); give a folder you can create and write"
        ) from None
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    publish(staging, target)
