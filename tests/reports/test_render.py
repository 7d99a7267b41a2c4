"""reports/render.py and reports/document.py: the files written, self-containment, the verdict
matrix, escaping, and numbers traced to verdicts.

The verdicts here are fixtures (tests/reports/conftest.py), never report content.
"""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from lrkd.reports import document as doc
from lrkd.reports import render
from lrkd.reports.render import ReportContext, write_report
from lrkd.theory.render import tex_to_text
from lrkd.validate.engine.verdict import CODES, LABELS, NOT_TESTED, Verdict


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


def parse(html_text: str, table_id: str = "calibration-table") -> TableRows:
    parser = TableRows(table_id)
    parser.feed(html_text)
    return parser


class Matrix(HTMLParser):
    """The verdict matrix: column heads, and per body row its claim and (column, code, href) badges."""

    def __init__(self):
        super().__init__()
        self.inside = self.in_head = False
        self.columns: list[str] = []
        self.rows: list[dict] = []
        self.column = -1
        self.in_col = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id") == "verdict-matrix":
            self.inside = True
        if not self.inside:
            return
        if tag == "thead":
            self.in_head = True
        elif tag == "th" and self.in_head and "col" in a.get("class", "").split():
            self.in_col = True
        elif tag == "tr" and not self.in_head:
            self.rows.append({"claim": None, "badges": []})
            self.column = -1
        elif tag == "td":
            self.column += 1
        elif tag == "a" and self.rows and not self.in_head:
            if self.rows[-1]["claim"] is None:
                self.rows[-1]["claim"] = a["href"].removeprefix("#claim-")
            else:
                self.rows[-1]["badges"].append((self.column, a["data-verdict"], a["href"], a.get("title", "")))

    def handle_endtag(self, tag):
        if tag == "thead":
            self.in_head = False
        elif tag == "th":
            self.in_col = False
        elif tag == "table" and self.inside:
            self.inside = False

    def handle_data(self, data):
        if self.in_col and data.strip():
            self.columns.append(data.strip())


def matrix(html_text: str) -> Matrix:
    parser = Matrix()
    parser.feed(html_text)
    return parser


def codes(html_text: str) -> list[str]:
    return [code for row in matrix(html_text).rows for _, code, _, _ in row["badges"]]


def context(fx, **changes) -> ReportContext:
    fields = dict(
        title="lrkd validation report <fixture & test>",
        size="quick",
        verdicts=fx.verdicts(),
        claims=fx.claims(),
        calibration=fx.calibration(),
        config={"seeds": 3, "out": Path("/tmp/x")},
        provenance={"environment": {"git_commit": "0123abc"}, "device": "cpu"},
        data_files=["results/c1.csv", "results/c1.parquet"],
        notes=["fixture <note>"],
        wall_time_s=75.0,
        created_at="2026-01-02T03:04:05Z",
    )
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


def test_verdict_matrix_has_a_row_per_claim_and_a_badge_per_verdict(report):
    ctx, _, out = report
    page = read(out, "report.html")
    grid = matrix(page)
    # paper claims in the order convergence, generalization, ..., whatever order they arrive in
    assert [r["claim"] for r in grid.rows] == ["convergence", "generalization", "optimal-rank"]
    assert grid.columns == ["sgd_quadratic", "lrc_adam", "rrr_synthetic", "rank_sweep"]
    assert codes(page) == [v.code for v in ctx.verdicts]
    by_claim = {r["claim"]: [(grid.columns[c], code) for c, code, _, _ in r["badges"]] for r in grid.rows}
    assert by_claim == {
        "convergence": [("sgd_quadratic", "not_tight"), ("lrc_adam", "assumptions_not_met")],
        "generalization": [("rrr_synthetic", "violated")],
        "optimal-rank": [("rank_sweep", "holds")],
    }
    # a claim with no verdict has no row of dots: it is named under the matrix, linked to its section
    idle = page[page.index('<p class="idle">') :]
    assert idle.startswith(
        '<p class="idle"><strong>Not evaluated in this run:</strong> '
        '<a href="#claim-rrr-fast-rate"><code>rrr_fast_rate</code></a>.</p>'
    )
    # every badge links to its verdict's card, which carries the same code, and names it on hover
    for row in grid.rows:
        for _, code, href, title in row["badges"]:
            assert re.search(f'<div class="verdict" id="{href[1:]}" data-verdict="{code}">', page)
            assert title.startswith(LABELS[code] + " · ")
    assert page.index('id="verdict-matrix"') < page.index('id="up-front"') < page.index('id="calibration"')


def test_variants_of_an_experiment_share_its_column_and_not_tested_is_shown_as_such(fx, tmp_path):
    verdicts = [
        Verdict("optimal_rank", "c4_rank (power law, alpha=1)", "holds", "fixture"),
        Verdict("optimal_rank", "c4_rank (exponential, beta=0.3)", "inconclusive", "fixture"),
        Verdict("generalization", "c2 (Gaussian)", NOT_TESTED, "Gaussian data are unbounded."),
    ]
    out = tmp_path / "variants"
    write_report(out, context(fx, verdicts=verdicts, calibration=[]))
    page, text = read(out, "report.html"), read(out, "report.md")
    grid = matrix(page)
    assert grid.columns == ["c4_rank", "c2"]  # experiments in the order their verdicts came (the run order)
    cells = {r["claim"]: [(c, code) for c, code, _, _ in r["badges"]] for r in grid.rows}
    assert cells["optimal-rank"] == [(0, "holds"), (0, "inconclusive")]
    assert cells["generalization"] == [(1, NOT_TESTED)]
    assert 'aria-label="not tested"' in page and f'<span class="badge {NOT_TESTED}">not tested</span>' in page
    assert "1 not tested" in page and "⚫ – = not tested" in text


def test_markdown_matrix_links_badges_to_their_verdicts(report):
    ctx, _, out = report
    text = read(out, "report.md")
    head = next(line for line in text.splitlines() if line.startswith("| claim"))
    assert head == "| claim \\\\ experiment | sgd\\_quadratic | lrc\\_adam | rrr\\_synthetic | rank\\_sweep |"
    row = next(line for line in text.splitlines() if line.startswith("| [convergence]"))
    assert "[🔵 L](#verdict-convergence-sgd-quadratic " in row and "[🟠 A](#verdict-convergence-lrc-adam " in row
    anchors = re.findall(r"\]\(#(verdict-[a-z0-9-]+) ", text)
    assert len(anchors) == len(ctx.verdicts) and all(f'<a id="{a}"></a>' in text for a in anchors)
    assert text.index("## Verdicts at a glance") < text.index("## Up front")


def test_claim_sections_are_ordered_and_unevaluated_claims_say_so(report):
    _, _, out = report
    page = read(out, "report.html")
    claims = ("convergence", "generalization", "optimal-rank", "rrr-fast-rate")
    positions = [page.index(f'id="claim-{c}"') for c in claims]
    assert positions == sorted(positions)
    variant = page[positions[-1] : page.index('id="data"')]
    assert "Not evaluated in this run." in variant
    assert "Not evaluated in this run." not in page[positions[0] : positions[-1]]
    assert "Not evaluated in this run." in read(out, "report.md")


def test_verdicts_json_matches_the_verdict_objects(report):
    ctx, _, out = report
    records = json.loads(read(out, "verdicts.json"))
    assert len(records) == len(ctx.verdicts)
    for record, verdict in zip(records, ctx.verdicts):
        assert (record["claim"], record["experiment"], record["verdict"]) == (
            verdict.claim,
            verdict.experiment,
            verdict.code,
        )
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
    for written in (page, text):
        assert "exponent -0.9 [-0.97, -0.83] vs claimed -0.5" in written.replace("\\[", "[").replace("\\]", "]")
        assert "3 of 4 planted claims classified correctly" in written
        assert "0123abc" in written and "1 min 15 s" in written
        assert "arXiv 2603.22355" in written and "sample size" in written
    assert "T = 3200, measured = 0.0021, bound = 0.71" in page
    assert "A constant C &gt;= 3.2 would make it hold." in page


def test_special_characters_are_escaped(report):
    _, _, out = report
    page, text = read(out, "report.html"), read(out, "report.md")
    assert "<fixture & test>" not in page and "&lt;fixture &amp; test&gt;" in page
    assert "Adam <and>" not in page and "Adam &lt;and&gt; clipping | not plain SGD" in page
    assert "fixture &lt;note&gt;" in page
    assert "LRC trains with Adam \\<and\\> clipping \\| not plain SGD" in text
    row = next(line for line in text.splitlines() if line.startswith("| [convergence]"))
    assert row.count(" | ") == 4  # the escaped | in a tooltip does not split the cell
    title = next(t for r in matrix(page).rows for _, _, _, t in r["badges"] if "Adam" in t)
    assert "Adam <and> clipping | not plain SGD" in title  # the parser unescapes &lt;and&gt;


def test_inline_math_in_prose_is_readable_in_html_and_kept_in_markdown(report):
    _, _, out = report
    assert "rates of $O(1/\\sqrt{T})$" in read(out, "report.md")
    assert 'title="O(1/\\sqrt{T})">O(1/√(T))</span>' in read(out, "report.html")
    assert tex_to_text(r"\frac{C r}{\sqrt{N}} \leq \alpha") == "(C r)/(√(N)) ≤ α"


def test_badges_follow_the_verdict_code(fx, tmp_path):
    all_codes = (*CODES, NOT_TESTED)
    verdicts = [Verdict("convergence", f"exp_{i}", code, f"fixture {code}") for i, code in enumerate(all_codes)]
    out = tmp_path / "codes"
    write_report(out, context(fx, verdicts=verdicts, calibration=[]))
    page = read(out, "report.html")
    assert codes(page) == list(all_codes)
    for code in all_codes:
        assert f'<span class="badge {code}">{LABELS[code]}</span>' in page  # the card's heading
        assert f'class="cell badge {code}"' in page and f'data-verdict="{code}" aria-label="{LABELS[code]}"' in page
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
    claims_module = pytest.importorskip("lrkd.theory.claims")
    claim = claims_module.Claim.from_formula(
        "toy_rate",
        "C * r * (m + n) / sqrt(N)",
        kind="upper_bound",
        rate_variables=("N",),
        meanings={"N": "training samples", "r": "rank"},
        title="Toy rate",
        reading="gap <= C r (m+n)/sqrt(N)",
    )
    out = tmp_path / "real"
    write_report(out, context(fx, claims=[claim], verdicts=[Verdict("toy_rate", "e", "holds", "fixture")]))
    page, text = read(out, "report.html"), read(out, "report.md")
    assert "\\frac{C r \\left(m + n\\right)}{\\sqrt{N}}" in text
    assert "\\frac{C r \\left(m + n\\right)}{\\sqrt{N}}" in page
    assert "√N" in page  # sympy's unicode pretty form
    assert "training samples" in page and "N in (0, inf)" in page


def test_number_rows_pair_intervals_with_their_values():
    rows = dict(
        render.number_rows(
            {
                "exponent_ci": [-1.1, -0.9],
                "exponent": -1.0,
                "gap_low": 1,
                "gap": 2,
                "gap_high": 3,
                "flag": True,
                "missing": None,
            }
        )
    )
    assert rows == {"exponent": "-1 [-1.1, -0.9]", "gap": "2 [1, 3]", "flag": "yes", "missing": "n/a"}


def test_key_numbers_fall_back_to_the_first_numbers():
    assert render.key_numbers({"a": 1, "b": 2.5, "c": "x", "d": 4}) == ["a = 1", "b = 2.5", "c = x"]
    assert render.key_numbers({"max_ratio": 0.5}) == ["worst measured/bound 0.5"]


# -- the document model on its own -------------------------------------------------------------
def test_each_node_is_written_to_both_formats():
    figure = doc.FigureRef("f-1", "A <title>", "caption", b"\x89PNG fake")
    page = doc.Document(
        "T & t",
        [("Size", "quick")],
        [
            doc.Section(
                ["Head ", doc.Code("x_y"), " ", doc.Badge("holds", "holds")],
                [
                    doc.Paragraph(
                        [
                            "plain <b> ",
                            doc.Prose("math $\\alpha$"),
                            " ",
                            doc.Strong("bold"),
                            " ",
                            doc.Link("link", "#a", title="tip"),
                        ]
                    ),
                    doc.Table(["k", "v"], [doc.Row([doc.Code("n"), "1 | 2"], {"data-x": "y"})], id="t", numeric=(1,)),
                    doc.Columns([doc.Quote("quoted")], [figure]),
                ],
                anchor="sec",
            ),
        ],
    )
    md, html_text = doc.to_markdown(page), doc.to_html(page, css="p{}", script="var x;")
    assert md.startswith("# T & t\n") and '<a id="sec"></a>' in md and "## Head `x_y` 🟢 **holds**" in md
    assert 'plain \\<b\\> math $\\alpha$ **bold** [link](#a "tip")' in md
    assert "| `n` | 1 \\| 2 |" in md and "> quoted" in md and "![A \\<title\\>](figures/f-1.png)" in md
    assert '<section id="sec"><h2>Head <code>x_y</code> <span class="badge holds">holds</span></h2>' in html_text
    assert 'plain &lt;b&gt; math <span class="math" title="\\alpha">α</span>' in html_text
    assert '<tr data-x="y"><td><code>n</code></td><td class="num">1 | 2</td></tr>' in html_text
    assert (
        '<div class="columns"><div class="main"><blockquote>quoted</blockquote></div><div class="aside">'
    ) in html_text
    assert 'src="data:image/png;base64,' in html_text and "<style>\np{}</style>" in html_text
    assert doc.figure_refs(page) == [figure]


def test_a_verdict_card_puts_its_figures_beside_its_text(report):
    _, _, out = report
    page = read(out, "report.html")
    card = page[page.index('<div class="verdict" id="verdict-convergence-sgd-quadratic"') :]
    card = card[: card.index('<div class="verdict"', 10)]
    main, aside = card.split('<div class="aside">', 1)
    assert '<div class="columns"><div class="main">' in main and "Every point is under the bound" in main
    assert aside.count("<figure ") == 2 and "<figure " not in main
    # the key numbers stay in view; the full table is folded in HTML and written out in Markdown
    assert "<strong>Key numbers:</strong> exponent -0.9" in main
    assert '<details><summary>All numbers (5)</summary>\n<div class="table-wrap"><table class="numbers">' in main
    assert "**All numbers (5)**\n\n| Number | Value |" in read(out, "report.md")


def test_fmt_is_one_function_for_numbers_and_structures():
    assert render.fmt is doc.fmt
    assert [doc.fmt(v) for v in (None, True, 3, 0.123456, float("nan"), np.float64(2.5), [1, 0.5], {"a": 1})] == [
        "n/a",
        "yes",
        "3",
        "0.1235",
        "n/a",
        "2.5",
        "[1, 0.5]",
        "a = 1",
    ]
    assert doc.fmt(0.123456, digits=2) == "0.12" and doc.fmt(np.int64(7)) == "7"


def _seeded(claim: str, code: str, expected: str, seed: int):
    from lrkd.validate.engine.verdict import Verdict

    numbers = {"expected": expected, "correct": code == expected, "calibration_seed": seed}
    return Verdict(claim, "c2_generalization", code, "planted", numbers)


def test_planted_claims_over_calibration_seeds_are_one_row_each_naming_the_missed_seeds():
    from lrkd.reports import render

    scored = [
        _seeded("p_a", "holds", "holds", 0),
        _seeded("p_b", "vacuous", "vacuous", 0),
        _seeded("p_a", "inconclusive", "holds", 1),
        _seeded("p_b", "vacuous", "vacuous", 1),
    ]
    groups = render.by_planted_claim(scored)
    assert [[v.numbers["calibration_seed"] for v in g] for g in groups] == [[0, 1], [0, 1]]
    assert render.seeds_badge(groups[0]).label == "1 of 2 seeds (seed 1: inconclusive)"
    assert render.seeds_badge(groups[1]).label == "2 of 2 seeds"
    assert render.hit_rate_text(scored) == "3 of 4 planted verdicts right (2 planted claims x 2 calibration seeds)"
    assert render.figured_calibration(scored) == [scored[0], scored[1]]  # figures of the first seed only
    header, rows = render.confusion_rows(scored)
    holds_row = next(r for r in rows if r[0] == render.LABELS["holds"])
    assert holds_row[header.index(render.LABELS["holds"])] == "1"
    assert holds_row[header.index(render.LABELS["inconclusive"])] == "1"


def test_the_advice_calibration_table_is_a_section_of_the_report(fx, tmp_path):
    """calibrate_advice's table (here a hand-made one in its shape) goes into both formats, with the
    overall shares and whether the goal was met in words."""
    import dataclasses

    import pandas as pd

    table = pd.DataFrame.from_records(
        [
            {"teacher": "exact rank 5", "true_rstar": "5 -> 5 -> 5", "cases": 4, "advised_within_5pct": 1.0,
             "interval_within_1pct": 1.0, "median_interval_width": 0.0, "max_truth_se": 0.001, "goal_met": True},
            {"teacher": "all", "true_rstar": "", "cases": 4, "advised_within_5pct": 0.75,
             "interval_within_1pct": 1.0, "median_interval_width": 0.0, "max_truth_se": 0.001, "goal_met": False},
        ]
    )  # fmt: skip
    ctx = dataclasses.replace(context(fx), advice_calibration=table)
    write_report(tmp_path / "out", ctx)
    for name in ("report.md", "report.html"):
        text = read(tmp_path / "out", name)
        assert "Rank advice, calibrated" in text and "exact rank 5" in text
        assert "within 5% of the best rank&#x27;s in 75%" in text or "within 5% of the best rank's in 75%" in text
        assert "NOT met" in text


def test_the_real_advice_check_is_a_section_of_the_report(fx, tmp_path):
    """advise_largest_budget's comparison (on a planted sweep whose r* jumps at the target) goes into
    both formats, saying plainly that the measured r* was not covered."""
    import dataclasses

    import numpy as np
    import pandas as pd

    from lrkd.validate.advice import advise_largest_budget

    rstar = {64: 16, 128: 16, 256: 16, 512: 16, 1024: 16, 2048: 128}
    sweep = pd.DataFrame(
        [
            {
                "rank": w,
                "n_samples": n,
                "seed": s,
                "heldout_kl": (np.log(w / best)) ** 2 + 1 + 0.01 * s,
                "diverged": False,
            }
            for n, best in rstar.items()
            for w in (4, 8, 16, 32, 64, 128)
            for s in range(4)
        ]
    )
    ctx = dataclasses.replace(context(fx), real_advice=[("lrc_real (reduced)", advise_largest_budget(sweep))])
    write_report(tmp_path / "out", ctx)
    for name in ("report.md", "report.html"):
        text = read(tmp_path / "out", name)
        assert "Rank advice on the real teacher" in text and "NOT covered" in text
        assert "2,048" in text and "real (reduced)" in text


def test_figures_drawn_in_a_pool_are_the_figures_drawn_here(report, tmp_path):
    """`lrkd report` draws its figures in the pool (render.draw_pngs): the same files, byte for byte,
    in the same places (and so the same self-contained report.html), as drawn one after another here."""
    from lrkd.executors import ProcessExecutor

    ctx, written, out = report
    pooled = write_report(tmp_path / "pooled", ctx, executor=ProcessExecutor(2))
    figures = sorted(name for name in written if name.startswith("figures/"))
    assert figures and figures == sorted(name for name in pooled if name.startswith("figures/"))
    for name in figures:
        assert (out / name).read_bytes() == (tmp_path / "pooled" / name).read_bytes(), name
    assert (out / "report.html").read_bytes() == (tmp_path / "pooled" / "report.html").read_bytes()
