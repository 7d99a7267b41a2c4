"""reports/render.py: the files written, self-containment, escaping, and numbers traced to verdicts.

The verdicts here are fixtures (tests/reports/conftest.py), never report content.
"""
from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from reports import render
from reports.render import ReportContext, write_report
from validate.verdict import CODES, LABELS, Verdict


class TableRows(HTMLParser):
    """data-verdict of each <tr> in the body of the table with the given id; every img src."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.depth, self.in_body = table_id, 0, False
        self.rows: list[str | None] = []
        self.img_srcs: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.urls += [v for k, v in attrs if k in ("src", "href") and v]
        if tag == "img":
            self.img_srcs.append(a.get("src", ""))
        if tag == "table" and (self.depth or a.get("id") == self.table_id):
            self.depth += 1
        elif self.depth and tag == "tbody":
            self.in_body = True
        elif self.depth == 1 and self.in_body and tag == "tr":
            self.rows.append(a.get("data-verdict"))

    def handle_endtag(self, tag):
        if self.depth and tag == "table":
            self.depth -= 1
        elif tag == "tbody" and self.depth == 1:
            self.in_body = False


def parse(html_text: str, table_id: str = "verdict-table") -> TableRows:
    parser = TableRows(table_id)
    parser.feed(html_text)
    return parser


def context(fx, **changes) -> ReportContext:
    fields = dict(title="lrkd validation report <fixture & test>", size="quick", verdicts=fx.verdicts(),
                  claims=fx.claims(), calibration=fx.calibration(),
                  config={"seeds": 3, "out": Path("/tmp/x")},
                  provenance={"environment": {"git_commit": "0123abc"}, "device": "cpu"},
                  data_files=["results/c1.csv", "results/c1.parquet"], notes=["fixture <note>"],
                  wall_time_s=75.0, created_at="2026-01-02T03:04:05Z")
    return ReportContext(**{**fields, **changes})


@pytest.fixture(scope="module")
def report(fx, tmp_path_factory):
    """One report written from the fixture context, shared by the read-only tests."""
    ctx = context(fx)
    out = tmp_path_factory.mktemp("report") / "out"
    return ctx, write_report(out, ctx), out


def read(out: Path, name: str) -> str:
    return (out / name).read_text(encoding="utf-8")


def test_writes_every_file(report):
    ctx, files, out = report
    for name in ("report.md", "report.html", "verdicts.json", "calibration.json", "config.json"):
        assert files[name] == out / name and (out / name).stat().st_size > 0
    n_figures = sum(len(v.figures) for v in [*ctx.verdicts, *ctx.calibration])
    pngs = sorted(out.glob("figures/*.png"))
    assert len(pngs) == n_figures and len(list(out.glob("figures/*.csv"))) == n_figures
    assert all(p.read_bytes().startswith(b"\x89PNG") for p in pngs)
    assert {out / k for k in files if k.startswith("figures/")} == set(out.glob("figures/*"))


def test_html_is_self_contained(report):
    _, _, out = report
    page = read(out, "report.html")
    parsed = parse(page)
    assert parsed.img_srcs and all(s.startswith("data:image/png;base64,") for s in parsed.img_srcs)
    assert not [u for u in parsed.urls if re.match(r"^(https?:)?//", u)]
    assert not re.search(r"<link\b|<script[^>]*\bsrc=|@import|url\(", page)
    assert "mathjax" not in page.lower()


def test_verdict_table_has_one_row_per_verdict_in_claim_order(report):
    ctx, _, out = report
    rows = parse(read(out, "report.html")).rows
    assert len(rows) == len(ctx.verdicts)
    assert sorted(rows) == sorted(v.code for v in ctx.verdicts)
    # paper claims in the order convergence, generalization, ..., whatever order they arrive in
    claims_in_rows = re.findall(r'<tr data-verdict="[^"]+"><td><a href="#claim-([a-z-]+)"', read(out, "report.html"))
    assert claims_in_rows == ["convergence", "convergence", "generalization", "optimal-rank"]


def test_claim_sections_are_ordered_and_unevaluated_claims_say_so(report):
    _, _, out = report
    page = read(out, "report.html")
    positions = [page.index(f'id="claim-{c}"') for c in ("convergence", "generalization", "optimal-rank", "rrr-fast-rate")]
    assert positions == sorted(positions)
    variant = page[positions[-1]:page.index('id="data"')]
    assert "Not evaluated in this run." in variant
    assert "Not evaluated in this run." not in page[positions[0]:positions[-1]]
    assert "Not evaluated in this run." in read(out, "report.md")


def test_verdicts_json_matches_the_verdict_objects(report):
    ctx, _, out = report
    records = json.loads(read(out, "verdicts.json"))
    assert len(records) == len(ctx.verdicts)
    for record, verdict in zip(records, ctx.verdicts):
        assert (record["claim"], record["experiment"], record["verdict"]) == (verdict.claim, verdict.experiment, verdict.code)
        assert record["explanation"] == verdict.explanation
        for key, value in verdict.numbers.items():
            if isinstance(value, float) and math.isnan(value):
                assert record["numbers"][key] is None
            else:
                assert record["numbers"][key] == pytest.approx(value) if not isinstance(value, str) else value
    calibration = json.loads(read(out, "calibration.json"))
    assert [c["numbers"]["correct"] for c in calibration] == [v.numbers["correct"] for v in ctx.calibration]


def test_config_json_holds_config_and_provenance(report):
    ctx, _, out = report
    record = json.loads(read(out, "config.json"))
    assert record["config"] == {"seeds": 3, "out": "/tmp/x"}
    assert record["provenance"] == ctx.provenance
    assert record["report"]["size"] == "quick" and record["report"]["data_files"] == ctx.data_files


def test_markdown_links_existing_pngs_and_data(report):
    ctx, _, out = report
    text = read(out, "report.md")
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    assert len(images) == sum(len(v.figures) for v in [*ctx.verdicts, *ctx.calibration])
    assert all((out / p).is_file() and p.endswith(".png") for p in images)
    links = re.findall(r"(?<!!)\[[^\]]*\]\(([^)#]+)\)", text)
    local = [p for p in links if p not in ctx.data_files]
    assert local and all((out / p).is_file() for p in local)
    assert "lrkd report --quick --out DIR" in text


def test_numbers_and_key_facts_appear_in_both_formats(report):
    ctx, _, out = report
    page, text = read(out, "report.html"), read(out, "report.md")
    for doc in (page, text):
        assert "exponent -0.9 [-0.97, -0.83] vs claimed -0.5" in doc.replace("\\[", "[").replace("\\]", "]")
        assert "3 of 4 planted claims classified correctly" in doc
        assert "0123abc" in doc and "1 min 15 s" in doc
        assert "arXiv 2603.22355" in doc and "sample size" in doc
    assert "T = 3200, measured = 0.0021, bound = 0.71" in page
    assert "A constant C &gt;= 3.2 would make it hold." in page


def test_special_characters_are_escaped(report):
    _, _, out = report
    page, text = read(out, "report.html"), read(out, "report.md")
    assert "<fixture & test>" not in page and "&lt;fixture &amp; test&gt;" in page
    assert "Adam <and>" not in page and "Adam &lt;and&gt; clipping | not plain SGD" in page
    assert "fixture &lt;note&gt;" in page
    row = next(line for line in text.splitlines() if "lrc\\_adam" in line and line.startswith("|"))
    assert "Adam \\<and\\> clipping \\| not plain SGD" in row
    assert row.count(" | ") == 4  # the escaped | does not split the cell


def test_inline_math_in_prose_is_readable_in_html_and_kept_in_markdown(report):
    _, _, out = report
    assert "rates of $O(1/\\sqrt{T})$" in read(out, "report.md")
    assert 'title="O(1/\\sqrt{T})">O(1/√(T))</span>' in read(out, "report.html")
    assert render.tex_to_text(r"\frac{C r}{\sqrt{N}} \leq \alpha") == "(C r)/(√(N)) ≤ α"


def test_badges_follow_the_verdict_code(fx, tmp_path):
    verdicts = [Verdict("convergence", f"exp_{i}", code, f"fixture {code}") for i, code in enumerate(CODES)]
    out = tmp_path / "codes"
    write_report(out, context(fx, verdicts=verdicts, calibration=[]))
    page = read(out, "report.html")
    assert parse(page).rows == list(CODES)
    for code in CODES:
        assert f'<span class="badge {code}">{LABELS[code]}</span>' in page
    assert "No planted claims were run." in page


def test_a_verdict_for_an_unknown_claim_gets_its_own_section(fx, tmp_path):
    verdicts = [Verdict("user_claim", "toy", "inconclusive", "needs 4 more seeds", {"more_seeds": 4})]
    out = tmp_path / "orphan"
    write_report(out, context(fx, verdicts=verdicts))
    page = read(out, "report.html")
    assert 'id="claim-user-claim"' in page and "not in the registry" in page
    assert page.count("Not evaluated in this run.") == len(fx.claims())


def test_a_figure_that_cannot_be_drawn_is_reported_not_hidden(fx, tmp_path):
    bad = fx.bound_figure()
    bad = type(bad)(bad.kind, bad.title, bad.data.drop(columns=["bound"]), bad.meta)
    verdicts = [Verdict("convergence", "broken", "holds", "fixture", figures=(bad, fx.spectrum_figure()))]
    out = tmp_path / "broken"
    with pytest.warns(UserWarning, match="'bound'"):
        files = write_report(out, context(fx, verdicts=verdicts))
    page = read(out, "report.html")
    assert "Figure not drawn" in page and "missing data column &#x27;bound&#x27;" in page
    calibration_figures = sum(len(v.figures) for v in fx.calibration())
    assert len([k for k in files if k.endswith(".png")]) == 1 + calibration_figures
    assert len(parse(page).img_srcs) == 1 + calibration_figures + len(fx.claims())  # + a formula per claim


def test_real_theory_claim_renders_latex_and_plain_text(fx, tmp_path):
    claims_module = pytest.importorskip("theory.claims")
    claim = claims_module.Claim.from_formula(
        "toy_rate", "C * r * (m + n) / sqrt(N)", kind="upper_bound", rate_variables=("N",),
        meanings={"N": "training samples", "r": "rank"}, title="Toy rate", reading="gap <= C r (m+n)/sqrt(N)")
    out = tmp_path / "real"
    write_report(out, context(fx, claims=[claim], verdicts=[Verdict("toy_rate", "e", "holds", "fixture")]))
    page, text = read(out, "report.html"), read(out, "report.md")
    assert "\\frac{C r \\left(m + n\\right)}{\\sqrt{N}}" in text
    assert "\\frac{C r \\left(m + n\\right)}{\\sqrt{N}}" in page
    assert "√N" in page  # sympy's unicode pretty form
    assert "training samples" in page and "N in (0, inf)" in page


def test_number_rows_pair_intervals_with_their_values():
    rows = dict(render.number_rows({"exponent_ci": [-1.1, -0.9], "exponent": -1.0, "gap_low": 1,
                                    "gap": 2, "gap_high": 3, "flag": True, "missing": None}))
    assert rows == {"exponent": "-1 [-1.1, -0.9]", "gap": "2 [1, 3]", "flag": "yes", "missing": "n/a"}


def test_key_numbers_fall_back_to_the_first_numbers():
    assert render.key_numbers({"a": 1, "b": 2.5, "c": "x", "d": 4}) == ["a = 1", "b = 2.5", "c = x"]
    assert render.key_numbers({"max_ratio": 0.5}) == ["worst measured/bound 0.5"]
