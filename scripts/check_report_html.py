#!/usr/bin/env python3
"""Open report.html in headless Chromium and check that it renders.

    python scripts/check_report_html.py lrkd-report/report.html [--screenshot shot.png] [--width 390]

Chromium (Debian's `chromium` package, /usr/bin/chromium; `apt-get install chromium`) runs twice
with no network, sandbox, GPU or profile state, in a window --width pixels wide (default 1280; 390
is a phone) and --height tall: once to take a screenshot, once to dump the DOM after the page's
load script has run. The checks:

  1. the verdict matrix (#verdict-matrix) exists and shows at least one verdict badge
     (body[data-matrix] and body[data-verdicts], written by the report's inline script on load);
  2. the matrix is seen whole and the page fits the window: body[data-matrix-overflow] and
     body[data-page-overflow] (pixels wider than the window) are 0;
  3. every <img> loaded: body[data-images-loaded] == body[data-images-total] > 0 (from each
     image's naturalWidth);
  4. the screenshot is not blank (its pixels vary).

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
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
)
WIDTH, HEIGHT = 1280, 4000
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
    raise NoBrowser(
        "chromium not found at /usr/bin/chromium: install it with `apt-get install chromium` "
        "(Debian) or set LRKD_CHROMIUM to a Chromium binary"
    )


def run_chromium(chromium: str, page: Path, extra: list[str], profile: Path, window: tuple[int, int]) -> str:
    cmd = [
        chromium,
        *FLAGS,
        f"--user-data-dir={profile}",
        f"--window-size={window[0]},{window[1]}",
        f"--virtual-time-budget={BUDGET_MS}",
        *extra,
        page.resolve().as_uri(),
    ]
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


def framed(page: Path, width: int, height: int, wrapper: Path) -> Path:
    """A page that shows `page` in a width x height iframe and copies the report's <body> data-* onto its own.

    Headless Chromium lays pages out at least 500 px wide whatever --window-size says (the
    screenshot pass is cropped to the window, the DOM pass is not), so the DOM checks measure the
    report inside an iframe of exactly the width asked for.
    """
    wrapper.write_text(
        f"""<!DOCTYPE html><html><body style="margin:0">
<iframe id="report" src="{page.resolve().as_uri()}" style="width:{width}px;height:{height}px;border:0"></iframe>
<script>
document.getElementById("report").addEventListener("load", function () {{
  var inner = this.contentDocument.body.dataset, outer = document.body.dataset;
  for (var key in inner) {{ outer[key] = inner[key]; }}
}});
</script></body></html>""",
        encoding="utf-8",
    )
    return wrapper


def body_attributes(dom: str) -> dict[str, str]:
    """data-* attributes of the <body> tag in the dumped DOM."""
    match = re.search(r"<body\b([^>]*)>", dom, flags=re.IGNORECASE)
    if not match:
        raise CheckFailed("the dumped DOM has no <body>")
    return dict(re.findall(r'data-([a-z0-9-]+)="([^"]*)"', match.group(1)))


def check_dom(dom: str) -> tuple[int, int]:
    """(verdicts in the matrix, images loaded); raise CheckFailed naming the failing check."""
    attrs = body_attributes(dom)
    if 'id="verdict-matrix"' not in dom and attrs.get("matrix") != "found":
        raise CheckFailed('verdict matrix: no element with id="verdict-matrix" in the page')
    if "verdicts" not in attrs:
        raise CheckFailed("load script: <body> has no data-verdicts (the page's script did not run)")
    rows = int(attrs["verdicts"])
    if rows < 1:
        raise CheckFailed("verdict matrix: #verdict-matrix shows no verdict")
    width = attrs.get("viewport-width", "?")
    if int(attrs.get("matrix-overflow", 0)) > 0:
        raise CheckFailed(
            f"verdict matrix: {attrs['matrix-overflow']} px wider than its box at a {width} px window (not seen whole)"
        )
    if int(attrs.get("page-overflow", 0)) > 0:
        raise CheckFailed(f"layout: the page is {attrs['page-overflow']} px wider than a {width} px window")
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


def check(page: Path, screenshot: Path | None, width: int = WIDTH, height: int = HEIGHT) -> str:
    """Run both Chromium passes and every check.

    Args:
        page: the report.html to open.
        screenshot: where to keep the screenshot (PNG); None keeps none.
        width, height: the browser window in CSS pixels.

    Returns:
        The one-line summary.
    """
    chromium = find_chromium()
    if not page.is_file():
        raise CheckFailed(f"report: {page} does not exist")
    with tempfile.TemporaryDirectory(prefix="lrkd-chromium-") as tmp:
        shot = screenshot or Path(tmp) / "screenshot.png"
        shot.parent.mkdir(parents=True, exist_ok=True)
        window = (width, height)
        run_chromium(chromium, page, [f"--screenshot={shot.resolve()}"], Path(tmp) / "profile-shot", window)
        frame = framed(page, width, height, Path(tmp) / "frame.html")
        dom = run_chromium(
            chromium,
            frame,
            ["--dump-dom", "--allow-file-access-from-files"],
            Path(tmp) / "profile-dom",
            (max(width, 500), height),
        )
        rows, images = check_dom(dom)
        spread = check_screenshot(shot)
    where = f"; screenshot {screenshot}" if screenshot else ""
    return (
        f"report renders at {width} px: {rows} verdicts in the matrix, {images}/{images} images loaded, "
        f"screenshot pixel std {spread:.3f}{where}"
    )


def positive(text: str) -> int:
    """A window size in pixels, 100 to 20000 (argparse type)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of pixels, got {text!r}") from None
    if not 100 <= value <= 20000:
        raise argparse.ArgumentTypeError(f"expected 100 to 20000 pixels, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check that report.html renders in headless Chromium.")
    parser.add_argument("report_html", type=Path, help="path to report.html")
    parser.add_argument("--screenshot", type=Path, default=None, help="where to keep the screenshot (PNG)")
    parser.add_argument(
        "--width", type=positive, default=WIDTH, help=f"window width in CSS pixels (default {WIDTH}; 390 for a phone)"
    )
    parser.add_argument("--height", type=positive, default=HEIGHT, help=f"window height (default {HEIGHT})")
    args = parser.parse_args(argv)
    try:
        print(check(args.report_html, args.screenshot, args.width, args.height))
    except NoBrowser as exc:
        print(f"check_report_html: {exc}", file=sys.stderr)
        return 2
    except CheckFailed as exc:
        print(f"check_report_html: FAILED {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
