"""Write the validation report: report.md, a self-contained report.html, figures, JSON records.

`write_report(out_dir, ctx)` takes a `ReportContext` (verdicts computed by validate/ from runs,
the theory claims, calibration verdicts of planted claims, config and provenance), builds one
`reports.document.Document` from it (`build_document`) and writes

  report.md          the document in Markdown (figures linked from figures/, formulas as $$ LaTeX $$)
  report.html        the same document as one file: inline CSS, figures as base64 PNG data URIs,
                     formulas typeset to PNG by matplotlib's mathtext beside their LaTeX source,
                     no network access; a small script records on <body> how many images loaded,
                     how many verdicts the matrix shows and whether the page or the matrix
                     overflows its width (scripts/check_report_html.py reads these)
  figures/<slug>.png every evidence figure (of the claims' verdicts and of the calibration
                     verdicts), and figures/<slug>.csv its data
  verdicts.json      [Verdict.to_json()], calibration.json likewise for the planted claims
  config.json        {"config": ..., "provenance": ..., "report": ...}

Nothing here decides or writes a verdict or a number: every one comes from the context.
Sections: header; the verdict matrix
(id="verdict-matrix": one row per claim with verdicts, one column per experiment group, i.e. the experiment's
name without its parenthesised variant; each cell holds one compact coloured badge
<a data-verdict="code"> per verdict, linking to its card, with a one-line tooltip; claims not run
are listed under it); "Up front"
caveats (abstract only; n versus N); contents; calibration
(planted claims, hit rate, confusion matrix); one section per claim (paper claims first:
convergence, generalization, mutual_information, optimal_rank; a claim without verdicts says
"Not evaluated in this run"), each verdict a card with its figures beside it; data and rerunning.
Prose may hold inline $...$ LaTeX: kept for Markdown, shown as unicode text in HTML.

Key numbers (each verdict card, the matrix tooltips, scripts/findings_table.py) are read from
`Verdict.numbers` by name: the first of EXPONENT_KEYS (with "<key>_ci" = [lo, hi]) against
"claimed_exponent", and the first of RATIO_KEYS (measured / bound at the worst point). A verdict
with none of these shows its first few scalar numbers instead. In the per-verdict numbers table,
"<key>_ci" = [lo, hi] or "<key>_low"/"<key>_high" are shown next to "<key>" as "value [lo, hi]".
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import sympy as sp

from lrkd.reports import figures as figs
from lrkd.reports.advice import CALIBRATION_HEADER, calibration_rows
from lrkd.reports.document import (
    Badge,
    BulletList,
    Code,
    CodeBlock,
    Columns,
    Contents,
    Details,
    Document,
    Emph,
    FigureRef,
    Formula,
    Group,
    Link,
    MatrixRow,
    Paragraph,
    Prose,
    Quote,
    Row,
    Section,
    Strong,
    Table,
    VerdictMatrix,
    fmt,
    to_html,
    to_markdown,
)
from lrkd.theory.render import KIND_WORDS, plain_math
from lrkd.validate.advice import CALIBRATION_GOAL
from lrkd.validate.calibration import confusion_matrix, hit_rate
from lrkd.validate.registry import claim_order
from lrkd.validate.engine.verdict import CODES, LABELS, NOT_TESTED, jsonable

PAPER = (
    "Demystifying Low-Rank Knowledge Distillation in Large Language Models: Convergence, "
    "Generalization, and Information-Theoretic Guarantees"
)
ARXIV = "arXiv 2603.22355"
EXPONENT_KEYS = ("exponent", "fitted_exponent", "measured_exponent")
RATIO_KEYS = ("worst_ratio", "max_ratio", "ratio")
#: The verdict matrix's compact code per verdict (the legend under the matrix spells each out).
SHORT = {
    "holds": "H",
    "not_tight": "L",
    "violated": "V",
    "vacuous": "Va",
    "assumptions_not_met": "A",
    "inconclusive": "?",
    NOT_TESTED: "–",
}
SHORT_LABELS = {"not_tight": "holds, not tight (loose)"}
CAPTIONS = {
    "bound_vs_measured": "Measured quantity (solid, shaded: interval over seeds) against the bound "
    "(dashed); dash-dot: fitted power law with its exponent interval.",
    "rstar_vs_n": "Empirical optimal rank r* (bars: interval) against the sample size N, with the "
    "sqrt(N) line and the exponent derived for the spectrum, both through the first point.",
    "mi_vs_clone": "Mutual-information estimates (top) and clone loss (bottom) over training.",
    "spectrum": "Singular values of the teacher matrix with the fitted spectral family.",
    "estimate_vs_truth": "Estimates against the exact value; dashed: y = x.",
    "rstar_growth": "Empirical r* (bars: seed band) and theory's finite-size r* against N (log axis), with "
    "the fitted power law, logarithm and constant; the legend gives each law's AICc.",
    "spectrum_null": "Singular values against a Gaussian matrix of the same shape and scale (dotted: its "
    "expected values; dashed: spike threshold); filled markers: spikes above the bulk.",
}
DEFAULT_SAMPLE_SIZE = (
    "In synthetic runs N counts i.i.d. input-output pairs; in language-model runs "
    "each experiment's notes say whether N counts tokens or sequences."
)
TEMPLATES = Path(__file__).resolve().parent / "templates"


@dataclass
class ReportContext:
    """Everything the report shows. Verdicts come from validate/, claims from theory/."""

    title: str
    size: str
    verdicts: list = field(default_factory=list)
    claims: list = field(default_factory=list)
    calibration: list = field(default_factory=list)
    advice_calibration: Any = None  # validate.advice.calibrate_advice's table (a DataFrame), or None
    # (experiment name, validate.advice.HeldOutBudget): advice from a real run's smaller budgets for its largest
    real_advice: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    data_files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_time_s: float = 0.0
    created_at: str = ""
    sample_size_meaning: str = DEFAULT_SAMPLE_SIZE


# -- the outline: what goes where, computed once ----------------------------------------------
@dataclass
class ClaimSection:
    """One claim's section of the report: its anchor, id, theory Claim and verdicts."""

    anchor: str
    claim_id: str
    claim: Any  # a theory Claim (duck-typed) or None when only verdicts name it
    verdicts: list = field(default_factory=list)


@dataclass
class ReportOutline:
    """What goes where in one report, computed once before any text is written: the claim sections
    in order, every verdict's drawn figures and its card's anchor (keyed by id(verdict)). Not
    reports/plan.py's plan, which says which experiments run."""

    sections: list[ClaimSection]
    figures: dict[int, list[FigureRef]]  # id(verdict) -> its figures (claims' and calibration's)
    owners: dict[int, Any]  # id(verdict) -> verdict
    anchors: dict[int, str] = field(default_factory=dict)  # id(verdict) -> its card's anchor


def write_report(out_dir: Path, ctx: ReportContext, executor=None) -> dict[str, Path]:
    """Write every report file into out_dir.

    Args:
        out_dir: the report folder (created with figures/ inside).
        ctx: what the report shows.
        executor: where the figures are drawn (make_outline; None: here).

    Returns:
        {name relative to out_dir: path} of every file written.
    """
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    outline = make_outline(ctx, executor)
    written = write_figures(out_dir, outline)
    doc = build_document(ctx, outline)
    texts = {
        "report.md": to_markdown(doc),
        "report.html": to_html(doc, css=template("report.css"), script=template("report.js")),
        "verdicts.json": dump_json([v.to_json() for v in ctx.verdicts]),
        "calibration.json": dump_json([v.to_json() for v in ctx.calibration]),
        "config.json": dump_json(config_record(ctx)),
    }
    for name, text in texts.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written[name] = out_dir / name
    return written


def make_outline(ctx: ReportContext, executor=None) -> ReportOutline:
    """Lay the report out: claim sections, every verdict's figures drawn once, every card's anchor.

    Args:
        ctx: what the report shows.
        executor: where the figures are drawn, an lrkd.executors executor (a quick report's hundred
            figures take about 35 s of CPU, the last thing a report computes: a pool draws them on
            every core); None: here, one after another.

    Returns:
        The ReportOutline that build_document and write_figures read.
    """
    sections = claim_sections(ctx.claims, ctx.verdicts)
    owners = {id(v): v for v in [*(v for s in sections for v in s.verdicts), *figured_calibration(ctx.calibration)]}
    todo = [(key, i, f) for key, v in owners.items() for i, f in enumerate(v.figures)]
    pngs = draw_pngs([f for _, _, f in todo], executor)
    slugs: set[str] = set()
    drawn: dict[int, list[FigureRef]] = {key: [] for key in owners}
    for (key, i, f), png in zip(todo, pngs):
        drawn[key].append(figure_ref(owners[key], i, f, png, slugs))
    taken = {s.anchor for s in sections}
    anchors = {id(v): unique_slug(f"verdict-{s.claim_id}-{v.experiment}", taken) for s in sections for v in s.verdicts}
    return ReportOutline(sections, drawn, owners, anchors)


def claim_sections(claims: Sequence, verdicts: Sequence) -> list[ClaimSection]:
    """One section per claim (paper claims first, each group in the registry's order), then claims
    only verdicts name.

    Args:
        claims: theory Claims (or stand-ins with id, paper, title, ...).
        verdicts: the verdicts to file under their claims.

    Returns:
        The sections in report order, each with a unique anchor and its verdicts.
    """
    ordered = sorted(
        enumerate(claims), key=lambda ic: (not getattr(ic[1], "paper", False), section_rank(ic[1].id), ic[0])
    )
    sections = [ClaimSection("", c.id, c) for _, c in ordered]
    known = {c.id for c in claims}
    for v in verdicts:
        if v.claim not in known:
            sections.append(ClaimSection("", v.claim, None))
            known.add(v.claim)
    by_id = {s.claim_id: s for s in sections}
    for v in verdicts:
        by_id[v.claim].verdicts.append(v)
    anchors: set[str] = set()
    for s in sections:
        s.anchor = unique_slug("claim-" + s.claim_id, anchors)
    return sections


def section_rank(claim_id: str) -> int:
    """Where a claim's section goes: the order its checks were registered in (validate.registry:
    C1's first, then C2's, ...); claims without a check of their own (a user's) go last.

    Args:
        claim_id: the claim's id.

    Returns:
        Its index in validate.registry.claim_order(), or that list's length when it is not there.
    """
    order = claim_order()
    return order.index(claim_id) if claim_id in order else len(order)


def draw_pngs(figures: Sequence, executor=None) -> list[bytes | str]:
    """Every figure drawn to PNG bytes, in order; a figure that cannot be drawn gives its error's text.

    Args:
        figures: validate Figure records.
        executor: an lrkd.executors executor (None: here, one after another).

    Returns:
        Per figure, the PNG bytes or the error (str).
    """
    if executor is None:
        return [png_or_error((0, f))[1] for f in figures]
    found = dict(executor.map_unordered(png_or_error, list(enumerate(figures))))
    return [found[i] for i in range(len(figures))]


def png_or_error(item: tuple[int, Any]) -> tuple[int, bytes | str]:
    """Draw one (position, figure) to (position, PNG bytes), or (position, the error's text) when the
    figure's data cannot be drawn (picklable: pool workers draw it).

    Args:
        item: (the figure's position, a validate Figure record).

    Returns:
        (position, PNG bytes or the error's text).
    """
    index, figure = item
    try:
        return index, figs.png_bytes(figs.draw(figure))
    except (ValueError, KeyError, TypeError) as exc:
        return index, str(exc)


def figure_ref(verdict, index: int, figure, png: bytes | str, slugs: set[str]) -> FigureRef:
    """A drawn figure's reference; a figure that could not be drawn is reported, not hidden.

    Args:
        verdict: the verdict the figure belongs to (names the slug).
        index: the figure's position among the verdict's figures.
        figure: a validate Figure record.
        png: its PNG bytes, or the error that stopped its drawing (draw_pngs).
        slugs: slugs taken so far (the new one is added).

    Returns:
        A FigureRef with the PNG, or with png None and the error when drawing failed (also warned).
    """
    slug = unique_slug(f"{verdict.claim}-{verdict.experiment}-{index + 1}-{figure.kind}", slugs)
    caption = str(figure.meta.get("caption") or CAPTIONS.get(figure.kind, ""))
    if isinstance(png, str):
        warnings.warn(f"report figure {slug} not drawn: {png}", stacklevel=2)
        return FigureRef(slug, figure.title, caption, None, error=png)
    return FigureRef(slug, figure.title, caption, png)


def write_figures(out_dir: Path, outline: ReportOutline) -> dict[str, Path]:
    """Write every drawn figure's PNG and its data CSV under out_dir/figures/.

    Args:
        out_dir: the report folder (figures/ must exist).
        outline: the drawn figures and the verdicts that own them.

    Returns:
        {name relative to out_dir: path} of every file written.
    """
    written: dict[str, Path] = {}
    for key, files in outline.figures.items():
        for f, figure in zip(files, outline.owners[key].figures):
            figure.data.to_csv(out_dir / f.csv_path, index=False)
            written[f.csv_path] = out_dir / f.csv_path
            if f.png is not None:
                (out_dir / f.png_path).write_bytes(f.png)
                written[f.png_path] = out_dir / f.png_path
    return written


def config_record(ctx: ReportContext) -> dict[str, Any]:
    """The content of config.json.

    Args:
        ctx: what the report shows.

    Returns:
        {"config": resolved config, "provenance": ..., "report": title, size, date, wall time, data files}.
    """
    report = {
        "title": ctx.title,
        "size": ctx.size,
        "created_at": ctx.created_at,
        "wall_time_s": ctx.wall_time_s,
        "data_files": list(ctx.data_files),
    }
    return {"config": ctx.config, "provenance": ctx.provenance, "report": report}


def dump_json(value: Any) -> str:
    """JSON text of a record (numpy values made plain, NaN refused, anything else as str).

    Args:
        value: a JSON-like structure.

    Returns:
        Indented JSON with a final newline.
    """
    return json.dumps(jsonable(value), indent=2, allow_nan=False, default=str) + "\n"


def template(name: str) -> str:
    """The text of a file under reports/templates/ (the report's CSS and script).

    Args:
        name: the file name, e.g. "report.css".

    Returns:
        Its UTF-8 text.
    """
    return (TEMPLATES / name).read_text(encoding="utf-8")


# -- the document ------------------------------------------------------------------------------
def build_document(ctx: ReportContext, outline: ReportOutline) -> Document:
    """The whole report as one document, written to Markdown and HTML alike.

    Args:
        ctx: what the report shows.
        outline: its claim sections and drawn figures (make_outline).

    Returns:
        The Document: verdict matrix, up front, contents, calibration, one section per claim, data.
    """
    contents = [
        ("Verdicts", "summary"),
        ("Calibration", "calibration"),
        *((("Rank advice, calibrated", "advice-calibration"),) if ctx.advice_calibration is not None else ()),
        *((("Rank advice on the real teacher", "real-advice"),) if ctx.real_advice else ()),
        *((claim_title(s), s.anchor) for s in outline.sections),
        ("Data and rerunning", "data"),
    ]
    blocks = [
        summary_section(ctx, outline),
        upfront_section(ctx),
        Contents(contents),
        calibration_section(ctx, outline),
        *((advice_calibration_section(ctx.advice_calibration),) if ctx.advice_calibration is not None else ()),
        *((real_advice_section(ctx.real_advice),) if ctx.real_advice else ()),
        *(claim_section(s, outline) for s in outline.sections),
        data_section(ctx, outline),
    ]
    return Document(ctx.title, header_facts(ctx), blocks)


def upfront_section(ctx: ReportContext) -> Section:
    """The "Up front" section: the caveats a reader must see first (upfront_items).

    Args:
        ctx: what the report shows.

    Returns:
        The section.
    """
    return Section(
        "Up front", [BulletList([Prose(item) for item in upfront_items(ctx)])], anchor="up-front", cls="upfront"
    )


def summary_section(ctx: ReportContext, outline: ReportOutline) -> Section:
    """Verdict counts and the verdict matrix (claims x experiment groups); claims not run listed under it.

    Args:
        ctx: what the report shows.
        outline: the claim sections and card anchors.

    Returns:
        The "Verdicts at a glance" section.
    """
    intro = Paragraph(verdict_counts(ctx.verdicts))
    if not ctx.verdicts:
        return Section("Verdicts at a glance", [intro], anchor="summary")
    how = Paragraph(
        Emph(
            "One row per claim, one column per experiment; each badge links to its verdict and "
            "names it on hover. A dot: the experiment does not test the claim."
        ),
        cls="muted",
    )
    blocks = [intro, verdict_matrix(outline, ctx.verdicts), how]
    idle = [s for s in outline.sections if not s.verdicts]
    if idle:
        links = [Link(Code(s.claim_id), f"#{s.anchor}") for s in idle]
        listed = [x for i, link in enumerate(links) for x in ([", "] if i else []) + [link]]
        blocks.append(Paragraph([Strong("Not evaluated in this run:"), " ", *listed, "."], cls="idle"))
    return Section("Verdicts at a glance", blocks, anchor="summary")


def experiment_group(experiment: str) -> str:
    """An experiment's column in the verdict matrix: its name without a parenthesised variant.

    Args:
        experiment: a verdict's experiment label, e.g. "c4_rank (exponential, beta=0.3)".

    Returns:
        The group name, e.g. "c4_rank".
    """
    return str(experiment).split(" (", 1)[0].strip() or str(experiment)


def verdict_matrix(outline: ReportOutline, verdicts: Sequence) -> VerdictMatrix:
    """Claims (rows, in section order) x experiments (columns, in the order they ran).

    Args:
        outline: the claim sections and card anchors.
        verdicts: every verdict of the report.

    Returns:
        The VerdictMatrix, with a legend of every code.
    """
    columns = list(dict.fromkeys(experiment_group(v.experiment) for v in verdicts))
    rows = []
    for s in (s for s in outline.sections if s.verdicts):  # claims not run are listed under the matrix
        cells: list[list[Badge]] = [[] for _ in columns]
        for v in s.verdicts:
            cells[columns.index(experiment_group(v.experiment))].append(matrix_badge(v, outline))
        rows.append(MatrixRow(s.claim_id, f"#{s.anchor}", claim_title(s), cells))
    legend = [Badge(code, SHORT_LABELS.get(code, LABELS[code]), short=SHORT[code]) for code in (*CODES, NOT_TESTED)]
    return VerdictMatrix(columns, rows, legend, corner="claim \\ experiment")


def matrix_badge(v, outline: ReportOutline) -> Badge:
    """A verdict's compact badge; its tooltip is one line: code, experiment, key numbers, explanation.

    Args:
        v: the verdict.
        outline: where its card is (the badge links to it).

    Returns:
        The Badge.
    """
    numbers = "; ".join(key_numbers(v.numbers))
    parts = [LABELS[v.code], str(v.experiment), numbers, one_line(plain_math(str(v.explanation)))]
    return Badge(
        v.code,
        LABELS[v.code],
        title=" · ".join(p for p in parts if p),
        short=SHORT[v.code],
        href=f"#{outline.anchors[id(v)]}",
    )


def one_line(text: str, limit: int = 240) -> str:
    """Text on one line (whitespace runs collapsed), cut to `limit` characters with an ellipsis.

    Args:
        text: any text.
        limit: the longest result.

    Returns:
        The one-line text.
    """
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def badge(code: str) -> Badge:
    """The badge of a verdict code, labelled in words.

    Args:
        code: a verdict code (validate.engine.verdict.CODES or NOT_TESTED).

    Returns:
        The Badge.
    """
    return Badge(code, LABELS[code])


def calibration_section(ctx: ReportContext, outline: ReportOutline) -> Section:
    """The planted claims: hit rate, confusion matrix, one row per planted claim, their figures.

    Args:
        ctx: what the report shows (its calibration verdicts, scored by validate.calibration).
        outline: the drawn figures.

    Returns:
        The "Calibration: planted claims" section.
    """
    title = "Calibration: planted claims"
    if not ctx.calibration:
        return Section(title, [Paragraph("No planted claims were run.")], anchor="calibration")
    header, matrix = confusion_rows(ctx.calibration)
    rows = []
    for group in by_planted_claim(ctx.calibration):
        v = group[0]
        rows.append(
            Row(
                [
                    Code(v.claim),
                    Code(v.experiment),
                    expected_text(v),
                    badge(v.code),
                    correct_badge(v) if len(group) == 1 else seeds_badge(group),
                    Prose(v.explanation),
                ],
                {"data-expected": str(v.numbers.get("expected", ""))},
            )
        )
    blocks = [
        Paragraph(
            [
                "Claims whose truth is known by construction, run through the same machinery: ",
                Strong(hit_rate_text(ctx.calibration)),
                ".",
            ]
        ),
        Paragraph(
            "Confusion matrix (planted truth x verdict, every planted claim at every calibration seed; a "
            "correct engine fills only the diagonal):"
        ),
        Table(
            header,
            [Row(list(r)) for r in matrix],
            id="confusion-matrix",
            cls="confusion",
            numeric=tuple(range(1, len(header))),
        ),
        Table(
            ["Planted claim", "Experiment", "Expected", "Obtained", "Correct", "Explanation"],
            rows,
            id="calibration-table",
        ),
        *(f for v in ctx.calibration if id(v) in outline.figures for f in outline.figures[id(v)]),
    ]
    return Section(title, blocks, anchor="calibration")


def advice_calibration_section(table) -> Section:
    """How often `lrkd advise` is right where the truth is known (validate.advice.calibrate_advice).

    Args:
        table: calibrate_advice's table (one row per teacher, per target and overall).

    Returns:
        The "Rank advice, calibrated" section.
    """
    overall = table.set_index("teacher").loc["all"]
    met = "met" if bool(overall["goal_met"]) else "NOT met"
    text = (
        " on synthetic teachers whose true excess-risk curve is known: pilots up to N0, advice "
        f"at 4 N0 and 16 N0, {int(overall['cases'])} cases. The advised rank's excess risk was within 5% of "
        f"the best rank's in {overall['advised_within_5pct']:.0%} of them and the interval held a rank within "
        f"1% of the best in {overall['interval_within_1pct']:.0%} (goal: {CALIBRATION_GOAL:.0%} for both: {met}; "
        f"largest Monte Carlo standard error of a deciding gap {overall['max_truth_se']:.2%})."
    )
    rows = [Row(cells) for cells in calibration_rows(table)]
    return Section(
        "Rank advice, calibrated",
        [
            Paragraph([Code("lrkd advise"), text]),
            Table(CALIBRATION_HEADER, rows, id="advice-calibration", numeric=(2, 3, 4, 5)),
        ],
        anchor="advice-calibration",
    )


def real_advice_section(checks: Sequence) -> Section:
    """`lrkd advise` checked on the real teacher: advice from a real run's budgets below its largest,
    for the largest, against the r* the run measured there (validate.advice.advise_largest_budget).

    Args:
        checks: (experiment name, HeldOutBudget) pairs.

    Returns:
        The "Rank advice on the real teacher" section: one sentence and one table per real run.
    """
    blocks: list = [
        Paragraph(
            [
                "The advice a user would get from the smaller budgets alone (the pilot), checked at the run's "
                "largest budget, which the advice did not see. Covered: the r* measured there lies in the "
                "advice's interval."
            ]
        )
    ]
    taken: set[str] = set()
    for name, check in checks:
        advice, pilot = check.advice, check.advice.pilot
        rows = [
            Row(
                [
                    f"{int(r.n_samples):,}",
                    f"{int(r.rstar)} [{int(r.rstar_low)}, {int(r.rstar_high)}]",
                    "pilot" + (", in the law fit" if bool(getattr(r, "used", False)) else ""),
                ]
            )
            for r in pilot.itertuples()
        ]
        m = check.measured
        rows.append(
            Row(
                [
                    f"{advice.budget:,}",
                    f"{int(m['rstar'])} [{int(m['rstar_low'])}, {int(m['rstar_high'])}]",
                    f"target: advice {advice.rank} [{advice.interval[0]}, {advice.interval[1]}], "
                    + ("covered" if check.covered else "NOT covered"),
                ]
            )
        )
        blocks += [
            Paragraph([Strong(name), ": ", check.sentence()]),
            Table(
                ["N (tokens)", "measured r* [band]", "role"],
                rows,
                id=unique_slug(f"real-advice-{name}", taken),
                numeric=(0,),
            ),
        ]
    return Section("Rank advice on the real teacher", blocks, anchor="real-advice")


def by_planted_claim(calibration: Sequence) -> list[list]:
    """The scored planted verdicts grouped by planted claim (one group per claim, its calibration
    seeds in order; a verdict without a seed is a group of its own).

    Args:
        calibration: scored planted verdicts (validate.calibration.calibrate_seeds or calibrate).

    Returns:
        The groups, in the order each claim first appears.
    """
    groups: dict = {}
    for i, v in enumerate(calibration):
        key = (v.claim, v.experiment) if "calibration_seed" in v.numbers else i
        groups.setdefault(key, []).append(v)
    return list(groups.values())


def seeds_badge(group: Sequence) -> Badge:
    """The "Correct" badge of a planted claim checked at several calibration seeds: ok when right at
    every seed, else a miss naming the seeds it missed and what it got there.

    Args:
        group: one planted claim's scored verdicts, one per calibration seed.

    Returns:
        A Badge, e.g. "5 of 5 seeds" or "4 of 5 seeds (seed 3: inconclusive)".
    """
    missed = [v for v in group if not v.numbers.get("correct")]
    text = f"{len(group) - len(missed)} of {len(group)} seeds"
    if missed:
        text += " (" + "; ".join(f"seed {v.numbers['calibration_seed']}: {v.code}" for v in missed) + ")"
    return Badge("miss" if missed else "ok", text)


def figured_calibration(calibration: Sequence) -> list:
    """The planted verdicts whose figures the report draws: the first calibration seed's (the
    other seeds repeat the same figures with fresh noise), or every one when none has a seed.

    Args:
        calibration: scored planted verdicts.

    Returns:
        The verdicts to draw.
    """
    seeds = [v.numbers["calibration_seed"] for v in calibration if "calibration_seed" in v.numbers]
    first = min(seeds, default=None)
    return [v for v in calibration if v.numbers.get("calibration_seed", first) == first]


def correct_badge(v) -> Badge:
    """The badge of the "Correct" column of the calibration table.

    Args:
        v: a scored planted verdict.

    Returns:
        A Badge: ok (yes), miss (no), or a neutral "?" when the verdict is not scored.
    """
    mark = correct_mark(v)
    return Badge({"yes": "ok", "no": "miss"}.get(mark, "vacuous"), mark)


def claim_section(section: ClaimSection, outline: ReportOutline) -> Section:
    """One claim's section: its statement, then a card per verdict (or "Not evaluated in this run").

    Args:
        section: the claim's section of the outline.
        outline: the drawn figures and card anchors.

    Returns:
        The Section.
    """
    claim = section.claim
    if claim is not None:
        blocks = [Group(statement_blocks(claim), cls="statement")]
    else:
        blocks = [Paragraph(Emph("This claim is not in the registry of this run; only its verdicts are shown."))]
    if not section.verdicts:
        blocks.append(Paragraph(Strong("Not evaluated in this run."), cls="muted"))
    blocks += [verdict_card(v, outline) for v in section.verdicts]
    return Section(claim_title(section), blocks, anchor=section.anchor, cls="claim")


def statement_blocks(claim) -> list:
    """A claim's statement: origin and kind, the paper's wording, our formal reading, the formula,
    and (folded) its symbols, assumptions and source.

    Args:
        claim: a theory Claim (duck-typed: every attribute but id is optional).

    Returns:
        The blocks, in reading order.
    """
    origin = "the paper's claim" if getattr(claim, "paper", False) else "standard-theory variant"
    kind = getattr(claim, "kind", "")
    latex = claim_latex(claim)
    blocks = [
        Paragraph(Emph(f"{origin}; {KIND_WORDS.get(kind, kind)}"), cls="tags"),
        Paragraph(Strong("Paper's wording:")),
        Quote(Prose(paper_wording(claim))),
        Paragraph([Strong("Our formal reading:"), " ", Prose(getattr(claim, "reading", "") or "n/a")]),
        Formula(latex, figs.formula_png(latex), claim_pretty(claim)),
    ]
    details = []
    symbols = getattr(claim, "symbols", ()) or ()
    if symbols:
        details.append(
            Table(
                ["Symbol", "Meaning", "Domain"],
                [Row([Code(s.name), Prose(s.meaning), Prose(s.domain)]) for s in symbols],
            )
        )
    assumptions = getattr(claim, "assumptions", ()) or ()
    if assumptions:
        details += [Paragraph(Strong("Assumptions:")), BulletList([Prose(a) for a in assumptions])]
    if getattr(claim, "source", ""):
        details.append(Paragraph([Strong("Source:"), " ", Prose(claim.source)]))
    if details:  # folded in HTML: the verdicts and their figures come right after the statement
        blocks.append(Details(f"Symbols ({len(symbols)}), assumptions ({len(assumptions)}) and source", details))
    return blocks


def verdict_card(v, outline: ReportOutline) -> Group:
    """One verdict: code, explanation, key numbers, numbers, worst point, notes; its figures beside.

    Args:
        v: the verdict.
        outline: its figures and its card's anchor.

    Returns:
        The card (a Group with the verdict's anchor and data-verdict code).
    """
    main = [Paragraph(Prose(v.explanation), cls="explanation")]
    keys = key_numbers(v.numbers)
    if keys:
        main.append(Paragraph([Strong("Key numbers:"), " ", "; ".join(keys)], cls="keys"))
    rows = number_rows(v.numbers)
    if rows:
        table = Table(["Number", "Value"], [Row([Code(k), t]) for k, t in rows], cls="numbers", numeric=(1,))
        main.append(Details(f"All numbers ({len(rows)})", [table]))
    if v.worst_point:
        main.append(Paragraph([Strong("Worst point:"), " ", worst_text(v.worst_point)]))
    if v.would_change:
        main.append(Paragraph([Strong("What would change this verdict:"), " ", Prose(v.would_change)]))
    if v.notes:
        main += [Paragraph(Strong("Notes:")), BulletList([Prose(n) for n in v.notes])]
    title = ["Experiment ", Code(v.experiment), " ", badge(v.code)]
    body = Columns(main, list(outline.figures[id(v)]))
    return Group(
        [Section(title, [body], level=3)], cls="verdict", id=outline.anchors[id(v)], attrs={"data-verdict": v.code}
    )


def data_section(ctx: ReportContext, outline: ReportOutline) -> Section:
    """The "Data and rerunning" section: links to every data file and the command that reruns the report.

    Args:
        ctx: what the report shows (size, data files).
        outline: the figures, whose data CSVs are listed.

    Returns:
        The Section.
    """
    links = BulletList([Link(name, target) for name, target in data_links(ctx, outline)])
    return Section(
        "Data and rerunning",
        [
            links,
            Paragraph("Rerun (results are resumed from the store, so only missing cells run):"),
            CodeBlock(f"lrkd report --{ctx.size} --out DIR", "sh"),
        ],
        anchor="data",
    )


def data_links(ctx: ReportContext, outline: ReportOutline) -> list[tuple[str, str]]:
    """(text, target) of every data file of the report: tables, JSON records, figure data.

    Args:
        ctx: what the report shows.
        outline: the drawn figures.

    Returns:
        The links, tables first.
    """
    links = [(p, p) for p in ctx.data_files]
    links += [
        ("verdicts.json (every verdict with its numbers)", "verdicts.json"),
        ("calibration.json (planted claims)", "calibration.json"),
        ("config.json (resolved config and provenance)", "config.json"),
    ]
    links += [(f.csv_path, f.csv_path) for files in outline.figures.values() for f in files]
    return links


# -- text helpers ------------------------------------------------------------------------------
def unique_slug(text: str, taken: set[str]) -> str:
    """A lowercase slug of `text` (at most 80 characters) not yet in `taken`; a counter is added when needed.

    Args:
        text: any text.
        taken: slugs already used (the new one is added).

    Returns:
        The slug.
    """
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "item"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def number_rows(numbers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, text) rows; "<k>_ci" or "<k>_low"/"<k>_high" join "<k>" as "value [lo, hi]".

    Args:
        numbers: a verdict's numbers.

    Returns:
        One row per number, intervals folded into their value's row.
    """
    numbers = dict(numbers)
    used: set[str] = set()
    rows = []
    for key, value in numbers.items():
        if key in used:
            continue
        interval = interval_of(numbers, key)
        if interval is not None:
            used.update(interval[2])
            rows.append((key, f"{fmt(value)} [{fmt(interval[0])}, {fmt(interval[1])}]"))
        else:
            rows.append((key, fmt(value)))
    return [(k, t) for k, t in rows if k not in used]


def interval_of(numbers: Mapping[str, Any], key: str):
    """The interval stored with a number, if any.

    Args:
        numbers: a verdict's numbers.
        key: the number's name.

    Returns:
        (lo, hi, keys used) from "<key>_ci" or "<key>_low"/"<key>_high", else None.
    """
    ci = numbers.get(f"{key}_ci")
    if isinstance(ci, (list, tuple, np.ndarray)) and len(ci) == 2:
        return ci[0], ci[1], {f"{key}_ci"}
    if f"{key}_low" in numbers and f"{key}_high" in numbers:
        return numbers[f"{key}_low"], numbers[f"{key}_high"], {f"{key}_low", f"{key}_high"}
    return None


def key_numbers(numbers: Mapping[str, Any]) -> list[str]:
    """A verdict's key numbers: exponent [CI] vs claimed, worst ratio; else the first few.

    Args:
        numbers: a verdict's numbers (read by name: EXPONENT_KEYS, RATIO_KEYS).

    Returns:
        Short texts, e.g. ["exponent -0.49 [-0.5, -0.48] vs claimed -0.5", "worst measured/bound 0.39"].
    """
    out = []
    key = next((k for k in EXPONENT_KEYS if k in numbers), None)
    if key is not None:
        interval = interval_of(numbers, key)
        text = f"exponent {fmt(numbers[key])}"
        if interval is not None:
            text += f" [{fmt(interval[0])}, {fmt(interval[1])}]"
        if "claimed_exponent" in numbers:
            text += f" vs claimed {fmt(numbers['claimed_exponent'])}"
        out.append(text)
    ratio = next((k for k in RATIO_KEYS if k in numbers), None)
    if ratio is not None:
        out.append(f"worst measured/bound {fmt(numbers[ratio])}")
    if not out:
        out = [f"{k} = {t}" for k, t in number_rows(numbers)[:3]]
    return out


def worst_text(worst: Mapping[str, Any] | None) -> str:
    """A verdict's worst point as text.

    Args:
        worst: the worst point's coordinates and values, or None.

    Returns:
        "k = v, ..." (fmt), or "" when there is none.
    """
    return fmt(dict(worst)) if worst else ""


def duration(seconds: float) -> str:
    """A wall time in words: "42.0 s", "5 min 42 s" or "3 h 05 min".

    Args:
        seconds: the time (None counts as 0).

    Returns:
        The text.
    """
    seconds = float(seconds or 0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def find_key(tree: Any, key: str) -> Any:
    """The first value stored under `key` anywhere in nested mappings.

    Args:
        tree: nested mappings (other values are leaves).
        key: the key to look for.

    Returns:
        Its value (depth first, in mapping order), or None.
    """
    if isinstance(tree, Mapping):
        if key in tree:
            return tree[key]
        for value in tree.values():
            found = find_key(value, key)
            if found is not None:
                return found
    return None


def header_facts(ctx: ReportContext) -> list[tuple[str, str]]:
    """The facts under the report's title: date, size, wall time, git commit, device, and the real
    LRC runs' precision when they ran.

    Args:
        ctx: what the report shows.

    Returns:
        (label, text) pairs.
    """
    facts = [
        ("Date", ctx.created_at or "n/a"),
        ("Size", ctx.size),
        ("Wall time", duration(ctx.wall_time_s)),
        ("Git commit", str(find_key(ctx.provenance, "git_commit") or "unknown")),
    ]
    device = find_key(ctx.provenance, "device")
    if device is not None:
        facts.append(("Device", fmt(device)))
    precision = find_key(ctx.provenance, "lrc_precision")
    if precision:  # {table: [precision, ...]} of the real LRC runs
        facts.append(("LRC precision", ", ".join(sorted({p for found in precision.values() for p in found}))))
    return facts


def upfront_items(ctx: ReportContext) -> list[str]:
    """The caveats a reader must see first (plain text; each format adds its own markup).

    Args:
        ctx: what the report shows (what N counts, notes of the run).

    Returns:
        The caveats, in order.
    """
    return [
        f'Only the abstract of {ARXIV} ("{PAPER}") was available: no theorem text, constants or '
        "experiment tables. Every formal statement below is our reading of an abstract sentence, "
        "printed beside the paper's wording; a different reading can be swapped in (theory/).",
        "Notation fix: the abstract writes the bound as O(r(m+n)/sqrt(n)) and r* = O(sqrt(n)) with n the "
        "sample size, while m x n is also the shape of the teacher weight. We write N for the sample "
        "size and keep m x n for the weight shape.",
        "What N counts: " + ctx.sample_size_meaning,
        "Every verdict is computed by validate/ from the runs of this report (verdicts.json); none is written by hand.",
        *ctx.notes,
    ]


def verdict_counts(verdicts: Sequence) -> str:
    """How many verdicts of each code, in one sentence.

    Args:
        verdicts: the report's verdicts.

    Returns:
        E.g. "13 verdicts: 7 holds; 2 holds, not tight; 4 inconclusive." or "No verdicts in this run."
    """
    counts = {code: sum(v.code == code for v in verdicts) for code in (*CODES, NOT_TESTED)}
    parts = [f"{n} {LABELS[c]}" for c, n in counts.items() if n]
    return f"{len(verdicts)} verdicts: " + "; ".join(parts) + "." if verdicts else "No verdicts in this run."


def hit_rate_text(calibration: Sequence) -> str:
    """validate.calibration.hit_rate in words.

    Args:
        calibration: scored planted verdicts.

    Returns:
        "<correct> of <total> planted claims classified correctly", or with several calibration
        seeds "<correct> of <total> planted verdicts right (<k> planted claims x <s> calibration seeds)".
    """
    correct, total = hit_rate(calibration)
    seeds = {v.numbers["calibration_seed"] for v in calibration if "calibration_seed" in v.numbers}
    if len(seeds) > 1:
        claims = len({(v.claim, v.experiment) for v in calibration})
        return f"{correct} of {total} planted verdicts right ({claims} planted claims x {len(seeds)} calibration seeds)"
    return f"{correct} of {total} planted claims classified correctly"


def expected_text(verdict) -> str:
    """What a planted claim should come out as, in words.

    Args:
        verdict: a scored planted verdict (numbers "expected").

    Returns:
        The expected code's label, or the true/false wording of a non-code truth.
    """
    expected = str(verdict.numbers.get("expected", "?"))
    if expected in CODES:  # the planted truth is a verdict code
        return LABELS[expected]
    return {"true": "true (should hold)", "false": "false (should fail)"}.get(expected, expected)


def confusion_rows(calibration: Sequence) -> tuple[list[str], list[list[str]]]:
    """The confusion matrix of planted truth (rows) x verdict (columns), as text
    (validate.calibration.confusion_matrix; planted claims without a code as truth are left out).

    Args:
        calibration: scored planted verdicts.

    Returns:
        (header, rows): the header labels and one row of counts per planted code ("." for 0).
    """
    table = confusion_matrix([v for v in calibration if v.numbers.get("expected") in CODES])
    header = ["planted \\ verdict", *(LABELS[c] for c in table.columns)]
    rows = [[LABELS[truth], *(str(int(n)) if n else "." for n in table.loc[truth])] for truth in table.index]
    return header, rows


def correct_mark(verdict) -> str:
    """Whether a planted verdict came out right, as a mark.

    Args:
        verdict: a scored planted verdict.

    Returns:
        "yes", "no", or "?" when it is not scored.
    """
    correct = verdict.numbers.get("correct")
    return "yes" if correct is True else "no" if correct is False else "?"


def claim_title(section: ClaimSection) -> str:
    """A section's heading: the claim's title with its id, or the id alone.

    Args:
        section: a claim section.

    Returns:
        E.g. "SGD reaches O(1/sqrt(T)) stationarity (convergence)".
    """
    claim = section.claim
    title = getattr(claim, "title", "") if claim is not None else ""
    return f"{title} ({section.claim_id})" if title and title != section.claim_id else section.claim_id


def claim_latex(claim) -> str:
    """A claim's statement in LaTeX; a claim whose latex() fails says so instead of sinking the report.

    Args:
        claim: a theory Claim (or stand-in with latex()).

    Returns:
        The LaTeX, or "(LaTeX unavailable: <error>)".
    """
    try:
        return str(claim.latex())
    except Exception as exc:  # a user claim's latex() must not sink the report
        return f"(LaTeX unavailable: {exc})"


def claim_pretty(claim) -> str:
    """A plain-text (unicode) form of the statement, via sympy's pretty printer.

    Args:
        claim: a theory Claim (its `statement`, else its `expr`).

    Returns:
        The pretty-printed statement, or "" when there is none or it cannot be printed.
    """
    target = getattr(claim, "statement", None)
    if target is None:
        target = getattr(claim, "expr", None)
    if target is None:
        return ""
    try:
        return sp.pretty(target, use_unicode=True, wrap_line=False)
    except Exception:
        return ""


def paper_wording(claim) -> str:
    """The paper's sentence a claim reads, or why there is none.

    Args:
        claim: a theory Claim.

    Returns:
        Its wording, "(no wording recorded)" for a paper claim without one, or a note that it is not the paper's.
    """
    wording = getattr(claim, "wording", "") or ""
    if wording:
        return wording
    if getattr(claim, "paper", False):
        return "(no wording recorded)"
    return "(not a sentence of the paper: a standard-theory reference or user claim)"
