#!/usr/bin/env python3
"""Open report.html in headless Chromium and check that it renders.

    python scripts/check_report_html.py lrkd-report/report.html [--screenshot shot.png]

Chromium (Debian's `chromium` package, /usr/bin/chromium; `apt-get install chromium`) runs twice
with no network, sandbox, GPU or profile state: once to take a screenshot of a tall window, once to
dump the DOM after the page's load script has run. The checks:

  1. the verdict table (#verdict-table) exists and its body has at least one row;
  2. every <img> loaded: body[data-images-loaded] == body[data-images-total] > 0 (the report's
     inline script writes these on window load from each image's naturalWidth);
  3. the screenshot is not blank (its pixels vary).

Exit 0 with a one-line summary when all pass; 1 naming the failed check; 2 if Chromium is not
installed or does not run. Set LRKD_CHROMIUM to use another Chromium binary.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio")
WINDOW = "1280,4000"
TIMEOUT_S = 120
BUDGET_MS = 10000  # virtual time for the page to load and run its load script


class CheckFailed(Exception):
    """A rendering check failed (exit 1)."""


class NoBrowser(Exception):
    """Chromium is missing or cannot run (exit 2)."""


def find_chromium() -> str:
    candidates = [os.environ.get("LRKD_CHROMIUM"), CHROMIUM, shutil.which("chromium")]
    for path in candidates:
        if path and Path(path).is_file() and os.access(path, os.X_OK):
            return path
    raise NoBrowser("chromium not found at /usr/bin/chromium: install it with `apt-get install chromium` "
                    "(Debian) or set LRKD_CHROMIUM to a Chromium binary")


def run_chromium(chromium: str, page: Path, extra: list[str], profile: Path) -> str:
    cmd = [chromium, *FLAGS, f"--user-data-dir={profile}", f"--window-size={WINDOW}",
           f"--virtual-time-budget={BUDGET_MS}", *extra, page.resolve().as_uri()]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise NoBrowser(f"chromium did not finish within {TIMEOUT_S} s") from None
    except OSError as exc:
        raise NoBrowser(f"chromium could not start: {exc}") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise NoBrowser(f"chromium exited with {done.returncode}: {tail}")
    return done.stdout


def body_attributes(dom: str) -> dict[str, str]:
    """data-* attributes of the <body> tag in the dumped DOM."""
    match = re.search(r"<body\b([^>]*)>", dom, flags=re.IGNORECASE)
    if not match:
        raise CheckFailed("the dumped DOM has no <body>")
    return dict(re.findall(r'data-([a-z0-9-]+)="([^"]*)"', match.group(1)))


def check_dom(dom: str) -> tuple[int, int]:
    """(verdict rows, images loaded); raise CheckFailed naming the failing check."""
    if 'id="verdict-table"' not in dom:
        raise CheckFailed("verdict table: no element with id=\"verdict-table\" in the page")
    attrs = body_attributes(dom)
    if "verdict-rows" not in attrs:
        raise CheckFailed("load script: <body> has no data-verdict-rows (the page's script did not run)")
    rows = int(attrs["verdict-rows"])
    if rows < 1:
        raise CheckFailed("verdict table: #verdict-table has no rows")
    loaded, total = int(attrs.get("images-loaded", -1)), int(attrs.get("images-total", -1))
    if total <= 0:
        raise CheckFailed(f"figures: the page has no images (images-total = {total})")
    if loaded != total:
        raise CheckFailed(f"figures: only {loaded} of {total} images loaded")
    return rows, loaded


def check_screenshot(path: Path) -> float:
    """Standard deviation of the screenshot's pixel values; raise CheckFailed if it is blank."""
    if not path.is_file() or path.stat().st_size == 0:
        raise CheckFailed(f"screenshot: {path} was not written")
    import matplotlib.image as mpimg
    import numpy as np

    pixels = np.asarray(mpimg.imread(str(path)), dtype=np.float64)[..., :3]
    spread = float(pixels.std())
    if spread < 0.01:
        raise CheckFailed(f"screenshot: the page looks blank (pixel std {spread:.4f})")
    return spread


def check(page: Path, screenshot: Path | None) -> str:
    """Run both Chromium passes and every check; return the one-line summary."""
    chromium = find_chromium()
    if not page.is_file():
        raise CheckFailed(f"report: {page} does not exist")
    with tempfile.TemporaryDirectory(prefix="lrkd-chromium-") as tmp:
        shot = screenshot or Path(tmp) / "screenshot.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        run_chromium(chromium, page, [f"--screenshot={shot.resolve()}"], Path(tmp) / "profile-shot")
        dom = run_chromium(chromium, page, ["--dump-dom"], Path(tmp) / "profile-dom")
        rows, images = check_dom(dom)
        spread = check_screenshot(shot)
    where = f"; screenshot {screenshot}" if screenshot else ""
    return (f"report renders: {rows} verdict rows, {images}/{images} images loaded, "
            f"screenshot pixel std {spread:.3f}{where}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check that report.html renders in headless Chromium.")
    parser.add_argument("report_html", type=Path, help="path to report.html")
    parser.add_argument("--screenshot", type=Path, default=None, help="where to keep the screenshot (PNG)")
    args = parser.parse_args(argv)
    try:
        print(check(args.report_html, args.screenshot))
    except NoBrowser as exc:
        print(f"check_report_html: {exc}", file=sys.stderr)
        return 2
    except CheckFailed as exc:
        print(f"check_report_html: FAILED {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
