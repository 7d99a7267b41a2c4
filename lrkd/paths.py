"""Paths a command will write, checked before any long work starts (infrastructure: no science).

`require_writable_folder(folder, field)` creates the folder and proves a file can be written in it;
otherwise it raises InputError naming the option, which the command line prints as one line (exit 2).
"""

from __future__ import annotations

from pathlib import Path

from lrkd.errors import InputError

PROBE_NAME = ".lrkd-write-check"


def require_writable_folder(folder: Path | str, field: str) -> None:
    """Create `folder` and prove a file can be written in it, before any long work starts.

    Args:
        folder: the folder (created with its parents when missing).
        field: the option that named it, for the error (e.g. "--out").

    Raises:
        InputError: it cannot be created or written.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / PROBE_NAME
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            field, f"cannot write to {folder} ({exc.strerror or exc}); give a folder you can create and write"
        ) from None
