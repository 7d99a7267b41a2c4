"""scripts/check_report_html.py: the report renders in headless Chromium (slow group).

The browser tests write a report from fixture verdicts, run the documented script on it as a
user would at a desktop (1280 px) and a phone (390 px) width, and also feed it broken pages (a
broken image, no matrix, a page wider than the window) to see each check fail. The parsing checks at the end
need no browser and run in the default group.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lrkd.reports.render import ReportContext, write_report

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "check_report_html.py"
CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)"
)


def load_script():
    spec = importlib.util.spec_from_file_location("check_report_html", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_check(page: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), str(page), *args], capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def fixture_report(fx, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "report"
    ctx = ReportContext(
        title="screenshot fixture",
        size="quick",
        verdicts=fx.verdicts(),
        claims=fx.claims(),
        calibration=fx.calibration(),
        created_at="2026-01-01",
        wall_time_s=1.0,
    )
    return write_report(out, ctx)["report.html"]


@pytest.mark.slow
@needs_chromium
@pytest.mark.parametrize("width", [1280, 390])
def test_report_renders_whole_at_desktop_and_phone_width(fixture_report, tmp_path, width):
    shot = tmp_path / "shot.png"
    done = run_check(fixture_report, "--screenshot", str(shot), "--width", str(width), "--height", "2400")
    assert done.returncode == 0, done.stderr
    assert re.match(rf"report renders at {width} px: 4 verdicts in the matrix, (\d+)/\1 images loaded", done.stdout)
    import matplotlib.image as mpimg

    assert mpimg.imread(str(shot)).shape[:2] == (2400, width)


@pytest.mark.slow
@needs_chromium
def test_a_page_wider_than_the_window_fails_the_check(fixture_report, tmp_path):
    page = fixture_report.read_text(encoding="utf-8")
    wide = page.replace("</main>", '<div style="width: 900px">too wide</div></main>', 1)
    path = tmp_path / "wide.html"
    path.write_text(wide, encoding="utf-8")
    done = run_check(path, "--width", "390")
    assert done.returncode == 1 and "wider than a 390 px window" in done.stderr


@pytest.mark.slow
@needs_chromium
def test_a_broken_image_fails_the_check(fixture_report, tmp_path):
    page = fixture_report.read_text(encoding="utf-8")
    broken = re.sub(r'src="data:image/png;base64,[^"]{40}', 'src="data:image/png;base64,AAAA', page, count=1)
    assert broken != page
    path = tmp_path / "broken.html"
    path.write_text(broken, encoding="utf-8")
    done = run_check(path)
    assert done.returncode == 1 and "images loaded" in done.stderr


@pytest.mark.slow
@needs_chromium
def test_a_page_without_the_verdict_matrix_fails_the_check(tmp_path):
    path = tmp_path / "empty.html"
    path.write_text("<!DOCTYPE html><html><body><p>nothing here</p></body></html>", encoding="utf-8")
    done = run_check(path)
    assert done.returncode == 1 and "verdict matrix" in done.stderr


# -- no browser needed -------------------------------------------------------------------------
def test_missing_chromium_exits_2_with_the_install_hint(monkeypatch, tmp_path, capsys):
    script = load_script()
    monkeypatch.setattr(script, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setattr(script.shutil, "which", lambda name: None)
    monkeypatch.delenv("LRKD_CHROMIUM", raising=False)
    page = tmp_path / "report.html"
    page.write_text("<html></html>", encoding="utf-8")
    assert script.main([str(page)]) == 2
    assert "apt-get install chromium" in capsys.readouterr().err


FITS = 'data-page-overflow="0" data-matrix-overflow="0" data-viewport-width="390"'


@pytest.mark.parametrize(
    "body,message",
    [
        (f'<body data-images-loaded="2" data-images-total="2" data-verdicts="0" {FITS}>', "shows no verdict"),
        (f'<body data-images-loaded="1" data-images-total="2" data-verdicts="3" {FITS}>', "only 1 of 2 images"),
        (f'<body data-images-loaded="0" data-images-total="0" data-verdicts="3" {FITS}>', "no images"),
        (
            '<body data-images-loaded="2" data-images-total="2" data-verdicts="3" data-matrix-overflow="40" '
            'data-viewport-width="390">',
            "40 px wider than its box at a 390 px window",
        ),
        (
            '<body data-images-loaded="2" data-images-total="2" data-verdicts="3" data-page-overflow="12" '
            'data-viewport-width="390">',
            "page is 12 px wider than a 390 px window",
        ),
        ("<body>", "script did not run"),
    ],
)
def test_dom_checks_name_the_failure(body, message):
    script = load_script()
    dom = f'<html>{body}<table id="verdict-matrix"></table></body></html>'
    with pytest.raises(script.CheckFailed, match=message):
        script.check_dom(dom)


def test_dom_check_passes_on_a_rendered_page():
    script = load_script()
    body = f'<body data-images-loaded="5" data-images-total="5" data-verdicts="3" {FITS}>'
    dom = f'<html>{body}<table id="verdict-matrix">'
    assert script.check_dom(dom) == (3, 5)


@pytest.mark.parametrize("width", ["99", "wide", "20001"])
def test_a_bad_width_is_a_one_line_usage_error(width, capsys):
    with pytest.raises(SystemExit) as stop:
        load_script().main(["report.html", "--width", width])
    assert stop.value.code == 2 and "--width" in capsys.readouterr().err


def test_blank_screenshot_is_rejected(tmp_path):
    import matplotlib.image as mpimg
    import numpy as np

    script = load_script()
    blank = tmp_path / "blank.png"
    mpimg.imsave(blank, np.ones((40, 40, 3)))
    with pytest.raises(script.CheckFailed, match="blank"):
        script.check_screenshot(blank)
    busy = tmp_path / "busy.png"
    mpimg.imsave(busy, np.random.default_rng(0).random((40, 40, 3)))
    assert script.check_screenshot(busy) > 0.1
