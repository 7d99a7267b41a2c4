"""Progress bars for long work: shown on a terminal, silent with --quiet or when piped.

`set_quiet(True)` (the CLI's --quiet) silences every bar of the process; `bar(enabled=None)` shows
one only when stderr is a terminal. Messages (`note`) follow the same rule.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

_QUIET = os.environ.get("LRKD_QUIET", "") not in ("", "0")


def set_quiet(quiet: bool) -> None:
    global _QUIET
    _QUIET = quiet


def is_quiet() -> bool:
    return _QUIET


def _enabled(enabled: bool | None) -> bool:
    if _QUIET:
        return False
    return sys.stderr.isatty() if enabled is None else enabled


@contextmanager
def bar(
    total: int, *, desc: str = "", initial: int = 0, unit: str = "cell", enabled: bool | None = None
) -> Iterator["object"]:
    """A tqdm bar on stderr (a do-nothing stand-in when disabled)."""
    if not _enabled(enabled):
        yield _NullBar()
        return
    from tqdm import tqdm  # only when a bar is shown (a terminal, not --quiet)

    with tqdm(
        total=total, initial=initial, desc=desc, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False
    ) as handle:
        yield handle


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, text: str) -> None:
        pass


def note(message: str) -> None:
    """A one-line status message on stderr, unless quiet."""
    if not _QUIET:  # one write: lines from two threads (the report's lanes) never interleave
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
