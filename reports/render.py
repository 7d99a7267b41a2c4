"""Write the validation report: report.md, a self-contained report.html, figures, JSON records.

`write_report(out_dir, ctx)` takes a `ReportContext` (verdicts computed by validate/ from runs,
the theory claims, calibration verdicts of planted claims, config and provenance) and writes

  report.md          the report in Markdown (figures linked from figures/, formulas as $$ LaTeX $$)
  report.html        the same report as one file: inline CSS, figures as base64 PNG data URIs,
                     formulas typeset to PNG by matplotlib's mathtext beside their LaTeX source,
                     no network access; a small script records on <body> how many images loaded
                     and how many verdict rows the table has (scripts/check_report_html.py reads it)
  figures/<slug>.png every evidence figure (of the claims' verdicts and of the calibration
                     verdicts), and figures/<slug>.csv its data
  verdicts.json      [Verdict.to_json()], calibration.json likewise for the planted claims
  config.json        {"config": ..., "provenance": ..., "report": ...}

Nothing here decides or writes a verdict or a number: every one comes from the context.
Sections: header and "Up front" caveats (abstract only; n versus N), summary table
(id="verdict-table", one <tr data-verdict="code"> per verdict), calibration (planted claims, hit
rate), one section per claim (paper claims first: convergence, generalization, mutual_information,
optimal_rank; a claim without verdicts says "Not evaluated in this run"), data and rerunning.
Prose may hold inline $...$ LaTeX: kept for Markdown, shown as unicode text in HTML.

Key numbers in the summary table are read from `Verdict.numbers` by name: the first of
EXPONENT_KEYS (with "<key>_ci" = [lo, hi]) against "claimed_exponent", and the first of
RATIO_KEYS (measured / bound at the worst point). A verdict with none of these shows its first
few scalar numbers instead. In the per-verdict numbers table, "<key>_ci" = [lo, hi] or
"<key>_low"/"<key>_high" are shown next to "<key>" as "value [lo, hi]".
"""
from __future__ import annotations

import base64
import html
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from reports import figures as figs
from validate.verdict import CODES, LABELS, NOT_TESTED, jsonable

PAPER = ("Demystifying Low-Rank Knowledge Distillation in Large Language Models: Convergence, "
         "Generalization, and Information-Theoretic Guarantees")
ARXIV = "arXiv 2603.22355"
#: Paper claims are shown in this order (matched against claim ids); variants follow.
PAPER_ORDER = ("convergence", "generalization", "mutual_information", "optimal_rank")
FAMILY_ALIASES = {"information": 2, "rank": 3}
EXPONENT_KEYS = ("exponent", "fitted_exponent", "measured_exponent")
RATIO_KEYS = ("worst_ratio", "max_ratio", "ratio")
MARKDOWN_DOTS = {"holds": "🟢", "not_tight": "🔵", "violated": "🔴", "vacuous": "⚪",
                 "assumptions_not_met": "🟠", "inconclusive": "🟡", NOT_TESTED: "⚫"}
KIND_TEXT = {"upper_bound": "upper bound: measured <= expression",
             "lower_bound": "lower bound: measured >= expression",
             "exponent": "growth exponent: measured grows like the expression"}
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
DEFAULT_SAMPLE_SIZE = ("In synthetic runs N counts i.i.d. input-output pairs; in language-model runs "
                       "each experiment's notes say whether N counts tokens or sequences.")
TEMPLATES = Path(__file__).resolve().parent / "templates"
INLINE_MATH = re.compile(r"\$([^$\n]+?)\$")
TEX_WORDS = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "Delta": "Δ", "epsilon": "ε", "eta": "η",
    "theta": "θ", "lambda": "λ", "mu": "μ", "pi": "π", "rho": "ρ", "sigma": "σ", "Sigma": "Σ",
    "nabla": "∇", "leq": "≤", "le": "≤", "geq": "≥", "ge": "≥", "cdot": "·", "times": "×",
    "infty": "∞", "approx": "≈", "asymp": "≍", "sim": "∼", "|": "‖", "log": "log", "exp": "exp",
    "min": "min", "max": "max", "sum": "Σ", "to": "→", "in": "∈",
}


@dataclass
class ReportContext:
    """Everything the report shows. Verdicts come from validate/, claims from theory/."""

    title: str
    size: str
    verdicts: list = field(default_factory=list)
    claims: list = field(default_factory=list)
    calibration: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    data_files: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    wall_time_s: float = 0.0
    created_at: str = ""
    sample_size_meaning: str = DEFAULT_SAMPLE_SIZE


# -- the plan: what goes where, computed once for both formats ---------------------------------
@dataclass
class FigureFile:
    slug: str
    title: str
    caption: str
    png: bytes | None
    error: str = ""

    @property
    def png_path(self) -> str:
        return f"figures/{self.slug}.png"

    @property
    def csv_path(self) -> str:
        return f"figures/{self.slug}.csv"


@dataclass
class ClaimSection:
    anchor: str
    claim_id: str
    claim: Any  # a theory Claim (duck-typed) or None when only verdicts name it
    verdicts: list = field(default_factory=list)


@dataclass
class Plan:
    sections: list[ClaimSection]
    figures: dict[int, list[FigureFile]]  # id(verdict) -> its figures (claims' and calibration's)
    owners: dict[int, Any]  # id(verdict) -> verdict

    def rows(self) -> list[tuple[ClaimSection, Any]]:
        return [(s, v) for s in self.sections for v in s.verdicts]


def write_report(out_dir: Path, ctx: ReportContext) -> dict[str, Path]:
    """Write every report file into out_dir; return {relative name: path}."""
    out_dir = Path(out_dir)
    (out_dir / "figures").mkdir(parents=True, exist_ok=True)
    plan = make_plan(ctx)
    written = write_figures(out_dir, ctx, plan)
    texts = {
        "report.md": markdown(ctx, plan),
        "report.html": html_page(ctx, plan),
        "verdicts.json": dump_json([v.to_json() for v in ctx.verdicts]),
        "calibration.json": dump_json([v.to_json() for v in ctx.calibration]),
        "config.json": dump_json(config_record(ctx)),
    }
    for name, text in texts.items():
        (out_dir / name).write_text(text, encoding="utf-8")
        written[name] = out_dir / name
    return written


def make_plan(ctx: ReportContext) -> Plan:
    sections = claim_sections(ctx.claims, ctx.verdicts)
    owners = {id(v): v for v in [*(v for s in sections for v in s.verdicts), *ctx.calibration]}
    slugs: set[str] = set()
    drawn = {key: [draw_one(v, i, f, slugs) for i, f in enumerate(v.figures)] for key, v in owners.items()}
    return Plan(sections, drawn, owners)


def claim_sections(claims: Sequence, verdicts: Sequence) -> list[ClaimSection]:
    """One section per claim (paper claims first, in PAPER_ORDER), then claims only verdicts name."""
    ordered = sorted(enumerate(claims), key=lambda ic: (not getattr(ic[1], "paper", False),
                                                        family_rank(ic[1].id), ic[0]))
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


def family_rank(claim_id: str) -> int:
    """Position of the claim's family in PAPER_ORDER (exact id first, then a substring)."""
    low = claim_id.lower()
    if low in PAPER_ORDER:
        return PAPER_ORDER.index(low)
    for i, name in enumerate(PAPER_ORDER):
        if name in low:
            return i
    for alias, i in FAMILY_ALIASES.items():
        if alias in low:
            return i
    return len(PAPER_ORDER)


def draw_one(verdict, index: int, figure, slugs: set[str]) -> FigureFile:
    """Draw a figure to PNG bytes; a figure that cannot be drawn is reported, not hidden."""
    slug = unique_slug(f"{verdict.claim}-{verdict.experiment}-{index + 1}-{figure.kind}", slugs)
    caption = str(figure.meta.get("caption") or CAPTIONS.get(figure.kind, ""))
    try:
        png = figs.png_bytes(figs.draw(figure))
    except (ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"report figure {slug} not drawn: {exc}", stacklevel=2)
        return FigureFile(slug, figure.title, caption, None, error=str(exc))
    return FigureFile(slug, figure.title, caption, png)


def write_figures(out_dir: Path, ctx: ReportContext, plan: Plan) -> dict[str, Path]:
    written: dict[str, Path] = {}
    for key, files in plan.figures.items():
        for f, figure in zip(files, plan.owners[key].figures):
            figure.data.to_csv(out_dir / f.csv_path, index=False)
            written[f.csv_path] = out_dir / f.csv_path
            if f.png is not None:
                (out_dir / f.png_path).write_bytes(f.png)
                written[f.png_path] = out_dir / f.png_path
    return written


def config_record(ctx: ReportContext) -> dict[str, Any]:
    report = {"title": ctx.title, "size": ctx.size, "created_at": ctx.created_at,
              "wall_time_s": ctx.wall_time_s, "data_files": list(ctx.data_files)}
    return {"config": ctx.config, "provenance": ctx.provenance, "report": report}


def dump_json(value: Any) -> str:
    return json.dumps(jsonable(value), indent=2, allow_nan=False, default=str) + "\n"


# -- text helpers shared by both formats -------------------------------------------------------
def unique_slug(text: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80] or "item"
    slug, i = base, 2
    while slug in taken:
        slug, i = f"{base}-{i}", i + 1
    taken.add(slug)
    return slug


def fmt(value: Any) -> str:
    """A number or small structure as short text (4 significant digits, n/a for missing)."""
    value = jsonable(value)
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return "[" + ", ".join(fmt(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} = {fmt(v)}" for k, v in value.items())
    return str(value)


def number_rows(numbers: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(name, text) rows; "<k>_ci" or "<k>_low"/"<k>_high" join "<k>" as "value [lo, hi]"."""
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
    """(lo, hi, keys used) for key from "<key>_ci" or "<key>_low"/"<key>_high", else None."""
    ci = numbers.get(f"{key}_ci")
    if isinstance(ci, (list, tuple, np.ndarray)) and len(ci) == 2:
        return ci[0], ci[1], {f"{key}_ci"}
    if f"{key}_low" in numbers and f"{key}_high" in numbers:
        return numbers[f"{key}_low"], numbers[f"{key}_high"], {f"{key}_low", f"{key}_high"}
    return None


def key_numbers(numbers: Mapping[str, Any]) -> list[str]:
    """The summary table's numbers: exponent [CI] vs claimed, worst ratio; else the first few."""
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
    return fmt(dict(worst)) if worst else ""


def duration(seconds: float) -> str:
    seconds = float(seconds or 0)
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, sec = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {sec:02d} s"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def find_key(tree: Any, key: str) -> Any:
    """The first value stored under `key` anywhere in nested mappings, else None."""
    if isinstance(tree, Mapping):
        if key in tree:
            return tree[key]
        for value in tree.values():
            found = find_key(value, key)
            if found is not None:
                return found
    return None


def header_facts(ctx: ReportContext) -> list[tuple[str, str]]:
    facts = [("Date", ctx.created_at or "n/a"), ("Size", ctx.size), ("Wall time", duration(ctx.wall_time_s)),
             ("Git commit", str(find_key(ctx.provenance, "git_commit") or "unknown"))]
    device = find_key(ctx.provenance, "device")
    if device is not None:
        facts.append(("Device", fmt(device)))
    return facts


def upfront_items(ctx: ReportContext) -> list[str]:
    """The caveats a reader must see first (plain text; each format adds its own markup)."""
    return [
        f"Only the abstract of {ARXIV} (\"{PAPER}\") was available: no theorem text, constants or "
        "experiment tables. Every formal statement below is our reading of an abstract sentence, "
        "printed beside the paper's wording; a different reading can be swapped in (theory/).",
        "Notation fix: the abstract writes the bound as O(r(m+n)/sqrt(n)) and r* = O(sqrt(n)) with n the "
        "sample size, while m x n is also the shape of the teacher weight. We write N for the sample "
        "size and keep m x n for the weight shape.",
        "What N counts: " + ctx.sample_size_meaning,
        "Every verdict is computed by validate/ from the runs of this report (verdicts.json); "
        "none is written by hand.",
        *ctx.notes,
    ]


def verdict_counts(verdicts: Sequence) -> str:
    counts = {code: sum(v.code == code for v in verdicts) for code in (*CODES, NOT_TESTED)}
    parts = [f"{n} {LABELS[c]}" for c, n in counts.items() if n]
    return f"{len(verdicts)} verdicts: " + "; ".join(parts) + "." if verdicts else "No verdicts in this run."


def hit_rate(calibration: Sequence) -> str:
    hits = sum(v.numbers.get("correct") is True for v in calibration)
    return f"{hits} of {len(calibration)} planted claims classified correctly"


def expected_text(verdict) -> str:
    expected = str(verdict.numbers.get("expected", "?"))
    if expected in CODES:  # the planted truth is a verdict code, possibly with accepted alternatives
        return " or ".join(LABELS[c] for c in verdict.numbers.get("accepted", [expected]) if c in LABELS)
    return {"true": "true (should hold)", "false": "false (should fail)"}.get(expected, expected)


def confusion_rows(calibration: Sequence) -> tuple[list[str], list[list[str]]]:
    """The confusion matrix of planted truth (rows) x verdict (columns), as a header and text rows
    (validate.calibration.confusion_matrix; planted claims without a code as truth are left out)."""
    from validate.calibration import confusion_matrix

    table = confusion_matrix([v for v in calibration if v.numbers.get("expected") in CODES])
    header = ["planted \\ verdict", *(LABELS[c] for c in table.columns)]
    rows = [[LABELS[truth], *(str(int(n)) if n else "." for n in table.loc[truth])] for truth in table.index]
    return header, rows


def correct_mark(verdict) -> str:
    correct = verdict.numbers.get("correct")
    return "yes" if correct is True else "no" if correct is False else "?"


def claim_title(section: ClaimSection) -> str:
    claim = section.claim
    title = getattr(claim, "title", "") if claim is not None else ""
    return f"{title} ({section.claim_id})" if title and title != section.claim_id else section.claim_id


def claim_latex(claim) -> str:
    try:
        return str(claim.latex())
    except Exception as exc:  # a user claim's latex() must not sink the report
        return f"(LaTeX unavailable: {exc})"


def claim_pretty(claim) -> str:
    """A plain-text (unicode) form of the statement, via sympy's pretty printer."""
    import sympy as sp

    target = getattr(claim, "statement", None)
    if target is None:
        target = getattr(claim, "expr", None)
    if target is None:
        return ""
    try:
        return sp.pretty(target, use_unicode=True, wrap_line=False)
    except Exception:
        return ""


def tex_group(text: str, start: int) -> tuple[str, int]:
    """The {...} group opening at text[start] (balanced) and the index after it."""
    if start >= len(text) or text[start] != "{":
        return "", start
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1:i], i + 1
    return text[start + 1:], len(text)


def tex_to_text(tex: str) -> str:
    """Inline LaTeX as readable unicode text: \\sqrt{n} -> √(n), \\frac{a}{b} -> (a)/(b), \\alpha -> α."""
    out, i = [], 0
    while i < len(tex):
        match = re.match(r"\\([A-Za-z]+|\|)", tex[i:])
        if not match:
            out.append("" if tex[i] in "{}" else tex[i])
            i += 1
            continue
        word, i = match.group(1), i + match.end()
        if word == "sqrt":
            body, i = tex_group(tex, i)
            out.append(f"√({tex_to_text(body)})")
        elif word == "frac":
            top, i = tex_group(tex, i)
            bottom, i = tex_group(tex, i)
            out.append(f"({tex_to_text(top)})/({tex_to_text(bottom)})")
        elif word in ("mathbb", "mathrm", "mathcal", "hat", "operatorname", "text"):
            body, i = tex_group(tex, i)
            out.append("𝔼" if word == "mathbb" and body == "E" else tex_to_text(body))
        else:
            out.append(TEX_WORDS.get(word, word))
    return "".join(out)


def paper_wording(claim) -> str:
    wording = getattr(claim, "wording", "") or ""
    if wording:
        return wording
    if getattr(claim, "paper", False):
        return "(no wording recorded)"
    return "(not a sentence of the paper: a standard-theory reference or user claim)"


# -- Markdown ----------------------------------------------------------------------------------
def md_escape(text: Any) -> str:
    """Text safe inside Markdown (and table cells): no emphasis, links, HTML or cell breaks."""
    text = re.sub(r"\s*\n\s*", " ", str(text))
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text)


def md_prose(text: Any) -> str:
    """Escaped prose whose $...$ inline math is kept verbatim (GitHub renders it)."""
    parts = INLINE_MATH.split(str(text))
    return "".join(f"${p}$" if i % 2 else md_escape(p) for i, p in enumerate(parts))


def md_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines + [""]


def md_badge(code: str) -> str:
    return f"{MARKDOWN_DOTS[code]} **{LABELS[code]}**"


def markdown(ctx: ReportContext, plan: Plan) -> str:
    lines = [f"# {md_escape(ctx.title)}", ""]
    lines += [" · ".join(f"**{k}:** {md_escape(v)}" for k, v in header_facts(ctx)), ""]
    lines += ["> **Up front**", ">"] + [f"> - {md_prose(item)}" for item in upfront_items(ctx)] + [""]
    lines += md_summary(ctx, plan) + md_calibration(ctx, plan)
    for section in plan.sections:
        lines += md_claim(section, plan)
    lines += md_data(ctx, plan)
    return "\n".join(lines) + "\n"


def md_summary(ctx: ReportContext, plan: Plan) -> list[str]:
    rows = [(f"[{md_escape(claim_title(s))}](#{s.anchor})", md_escape(v.experiment), md_badge(v.code),
             md_prose(v.explanation), md_escape("; ".join(key_numbers(v.numbers))))
            for s, v in plan.rows()]
    lines = ["## Summary", "", md_escape(verdict_counts(ctx.verdicts)), ""]
    return lines + md_table(("Claim", "Experiment", "Verdict", "Explanation", "Key numbers"), rows)


def md_calibration(ctx: ReportContext, plan: Plan) -> list[str]:
    lines = ["## Calibration: planted claims", ""]
    if not ctx.calibration:
        return lines + ["No planted claims were run.", ""]
    lines += ["Claims whose truth is known by construction, run through the same machinery: "
              f"**{hit_rate(ctx.calibration)}**.", ""]
    header, matrix = confusion_rows(ctx.calibration)
    lines += ["Confusion matrix (planted truth x verdict; a correct engine fills only the diagonal, "
              "and the alternatives a planted claim accepts):", ""]
    lines += md_table([md_escape(h) for h in header], [[md_escape(c) for c in row] for row in matrix])
    rows = [(md_escape(v.claim), md_escape(v.experiment), md_escape(expected_text(v)), md_badge(v.code),
             correct_mark(v), md_prose(v.explanation)) for v in ctx.calibration]
    lines += md_table(("Planted claim", "Experiment", "Expected", "Obtained", "Correct", "Explanation"), rows)
    return lines + [line for v in ctx.calibration for f in plan.figures[id(v)] for line in md_figure(f)]


def md_claim(section: ClaimSection, plan: Plan) -> list[str]:
    lines = [f'<a id="{section.anchor}"></a>', "", f"## {md_escape(claim_title(section))}", ""]
    claim = section.claim
    if claim is not None:
        lines += md_statement(claim)
    else:
        lines += ["*This claim is not in the registry of this run; only its verdicts are shown.*", ""]
    if not section.verdicts:
        return lines + ["**Not evaluated in this run.**", ""]
    for v in section.verdicts:
        lines += md_verdict(v, plan.figures[id(v)])
    return lines


def md_statement(claim) -> list[str]:
    origin = "the paper's claim" if getattr(claim, "paper", False) else "standard-theory variant"
    kind = getattr(claim, "kind", "")
    lines = [f"*{origin}; {md_escape(KIND_TEXT.get(kind, kind))}*", "",
             f"**Paper's wording:** “{md_prose(paper_wording(claim))}”", "",
             f"**Our formal reading:** {md_prose(getattr(claim, 'reading', '') or 'n/a')}", "",
             "**Statement:**", "", "$$", claim_latex(claim), "$$", ""]
    pretty = claim_pretty(claim)
    if pretty:
        lines += ["```text", pretty, "```", ""]
    symbols = getattr(claim, "symbols", ()) or ()
    if symbols:
        lines += md_table(("Symbol", "Meaning", "Domain"), [
            (f"`{s.name}`", md_prose(s.meaning), md_prose(s.domain)) for s in symbols])
    assumptions = getattr(claim, "assumptions", ()) or ()
    if assumptions:
        lines += ["**Assumptions:**", ""] + [f"- {md_prose(a)}" for a in assumptions] + [""]
    if getattr(claim, "source", ""):
        lines += [f"**Source:** {md_prose(claim.source)}", ""]
    return lines


def md_verdict(v, files: list[FigureFile]) -> list[str]:
    lines = [f"### Experiment `{v.experiment}`: {md_badge(v.code)}", "", md_prose(v.explanation), ""]
    rows = number_rows(v.numbers)
    if rows:
        lines += md_table(("Number", "Value"), [(f"`{k}`", md_escape(t)) for k, t in rows])
    if v.worst_point:
        lines += [f"**Worst point:** {md_escape(worst_text(v.worst_point))}", ""]
    if v.would_change:
        lines += [f"**What would change this verdict:** {md_prose(v.would_change)}", ""]
    if v.notes:
        lines += ["**Notes:**", ""] + [f"- {md_prose(n)}" for n in v.notes] + [""]
    for f in files:
        lines += md_figure(f)
    return lines


def md_figure(f: FigureFile) -> list[str]:
    if f.png is None:
        return [f"**Figure not drawn** ({md_escape(f.title)}): {md_escape(f.error)} "
                f"(data: [{f.csv_path}]({f.csv_path}))", ""]
    return [f"![{md_escape(f.title)}]({f.png_path})", "",
            f"*{md_escape(f.title)}.* {md_escape(f.caption)} Data: [{f.csv_path}]({f.csv_path}).", ""]


def md_data(ctx: ReportContext, plan: Plan) -> list[str]:
    lines = ["## Data and rerunning", ""]
    for name, target in data_links(ctx, plan):
        lines.append(f"- [{md_escape(name)}]({target})")
    lines += ["", "Rerun (results are resumed from the store, so only missing cells run):", "",
              "```sh", f"lrkd report --{ctx.size} --out DIR", "```", ""]
    return lines


def data_links(ctx: ReportContext, plan: Plan) -> list[tuple[str, str]]:
    links = [(p, p) for p in ctx.data_files]
    links += [("verdicts.json (every verdict with its numbers)", "verdicts.json"),
              ("calibration.json (planted claims)", "calibration.json"),
              ("config.json (resolved config and provenance)", "config.json")]
    links += [(f.csv_path, f.csv_path) for files in plan.figures.values() for f in files]
    return links


# -- HTML --------------------------------------------------------------------------------------
def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def prose(text: Any) -> str:
    """Escaped prose whose $...$ inline math is shown as unicode text (LaTeX source on hover)."""
    parts = INLINE_MATH.split(str(text))
    return "".join(f'<span class="math" title="{esc(p)}">{esc(tex_to_text(p))}</span>' if i % 2 else esc(p)
                   for i, p in enumerate(parts))


def badge(code: str) -> str:
    return f'<span class="badge {esc(code)}">{esc(LABELS[code])}</span>'


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def html_page(ctx: ReportContext, plan: Plan) -> str:
    body = [f"<h1>{esc(ctx.title)}</h1>", html_header(ctx), html_upfront(ctx), html_toc(plan),
            html_summary(ctx, plan), html_calibration(ctx, plan)]
    body += [html_claim(s, plan) for s in plan.sections]
    body.append(html_data(ctx, plan))
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(ctx.title)}</title>", f"<style>\n{template('report.css')}</style>", "</head>",
        "<body>", "<main>", *body, "</main>", f"<script>\n{template('report.js')}</script>",
        "</body>", "</html>", ""])


def html_header(ctx: ReportContext) -> str:
    spans = "".join(f"<span><b>{esc(k)}:</b> {esc(v)}</span>" for k, v in header_facts(ctx))
    return f'<p class="meta">{spans}</p>'


def html_upfront(ctx: ReportContext) -> str:
    items = "".join(f"<li>{prose(item)}</li>" for item in upfront_items(ctx))
    return f'<section class="upfront" id="up-front"><h2>Up front</h2><ul>{items}</ul></section>'


def html_toc(plan: Plan) -> str:
    links = "".join(f'<li><a href="#{s.anchor}">{esc(claim_title(s))}</a></li>' for s in plan.sections)
    return ('<nav class="toc"><ul><li><a href="#summary">Summary</a></li>'
            '<li><a href="#calibration">Calibration</a></li>'
            f'{links}<li><a href="#data">Data and rerunning</a></li></ul></nav>')


def html_summary(ctx: ReportContext, plan: Plan) -> str:
    rows = "".join(
        f'<tr data-verdict="{esc(v.code)}"><td><a href="#{s.anchor}">{esc(claim_title(s))}</a></td>'
        f"<td><code>{esc(v.experiment)}</code></td><td>{badge(v.code)}</td><td>{prose(v.explanation)}</td>"
        f'<td class="num">{"<br>".join(esc(t) for t in key_numbers(v.numbers))}</td></tr>'
        for s, v in plan.rows())
    head = "<tr><th>Claim</th><th>Experiment</th><th>Verdict</th><th>Explanation</th><th>Key numbers</th></tr>"
    return (f'<h2 id="summary">Summary</h2><p>{esc(verdict_counts(ctx.verdicts))}</p>'
            f'<table id="verdict-table"><thead>{head}</thead><tbody>{rows}</tbody></table>')


def html_calibration(ctx: ReportContext, plan: Plan) -> str:
    out = '<h2 id="calibration">Calibration: planted claims</h2>'
    if not ctx.calibration:
        return out + "<p>No planted claims were run.</p>"
    rows = "".join(
        f'<tr data-expected="{esc(v.numbers.get("expected", ""))}"><td><code>{esc(v.claim)}</code></td>'
        f"<td><code>{esc(v.experiment)}</code></td><td>{esc(expected_text(v))}</td><td>{badge(v.code)}</td>"
        f"<td>{correct_badge(v)}</td><td>{prose(v.explanation)}</td></tr>" for v in ctx.calibration)
    head = ("<tr><th>Planted claim</th><th>Experiment</th><th>Expected</th><th>Obtained</th>"
            "<th>Correct</th><th>Explanation</th></tr>")
    shown = "".join(html_figure(f) for v in ctx.calibration for f in plan.figures[id(v)])
    header, matrix = confusion_rows(ctx.calibration)
    confusion = ('<table id="confusion-matrix"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in header)
                 + "</tr></thead><tbody>" + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>"
                                                    for row in matrix) + "</tbody></table>")
    return (out + "<p>Claims whose truth is known by construction, run through the same machinery: "
            f'<span class="hit">{esc(hit_rate(ctx.calibration))}</span>.</p>'
            "<p>Confusion matrix (planted truth x verdict; a correct engine fills only the diagonal, and the "
            f"alternatives a planted claim accepts):</p>{confusion}"
            f'<table id="calibration-table"><thead>{head}</thead><tbody>{rows}</tbody></table>{shown}')


def correct_badge(v) -> str:
    mark = correct_mark(v)
    cls = {"yes": "ok", "no": "miss"}.get(mark, "vacuous")
    return f'<span class="badge {cls}">{esc(mark)}</span>'


def html_claim(section: ClaimSection, plan: Plan) -> str:
    parts = [f'<section class="claim" id="{section.anchor}"><h2>{esc(claim_title(section))}</h2>']
    if section.claim is not None:
        parts.append(html_statement(section.claim))
    else:
        parts.append("<p><em>This claim is not in the registry of this run; only its verdicts are shown.</em></p>")
    if not section.verdicts:
        parts.append('<p class="muted"><strong>Not evaluated in this run.</strong></p>')
    parts += [html_verdict(v, plan.figures[id(v)]) for v in section.verdicts]
    return "\n".join(parts) + "</section>"


def html_statement(claim) -> str:
    paper = getattr(claim, "paper", False)
    kind = getattr(claim, "kind", "")
    parts = [f'<p><span class="tag">{"the paper&#x27;s claim" if paper else "standard-theory variant"}</span>'
             f'<span class="tag">{esc(KIND_TEXT.get(kind, kind))}</span></p>',
             f"<p><strong>Paper's wording:</strong></p><blockquote>{prose(paper_wording(claim))}</blockquote>",
             f"<p><strong>Our formal reading:</strong> {prose(getattr(claim, 'reading', '') or 'n/a')}</p>",
             html_formula(claim)]
    symbols = getattr(claim, "symbols", ()) or ()
    if symbols:
        rows = "".join(f"<tr><td><code>{esc(s.name)}</code></td><td>{prose(s.meaning)}</td><td>{prose(s.domain)}</td></tr>"
                       for s in symbols)
        parts.append(f"<table><thead><tr><th>Symbol</th><th>Meaning</th><th>Domain</th></tr></thead>"
                     f"<tbody>{rows}</tbody></table>")
    assumptions = getattr(claim, "assumptions", ()) or ()
    if assumptions:
        parts.append("<p><strong>Assumptions:</strong></p><ul>"
                     + "".join(f"<li>{prose(a)}</li>" for a in assumptions) + "</ul>")
    if getattr(claim, "source", ""):
        parts.append(f"<p><strong>Source:</strong> {prose(claim.source)}</p>")
    return "\n".join(parts)


def html_formula(claim) -> str:
    """The statement typeset (mathtext PNG when it parses), its LaTeX source, and plain text."""
    latex = claim_latex(claim)
    png = figs.formula_png(latex)
    image = f'<img alt="{esc(latex)}" src="{data_uri(png)}">' if png else ""
    pretty = claim_pretty(claim)
    plain = f"<pre>{esc(pretty)}</pre>" if pretty else ""
    return (f'<div class="formula"><p><strong>Statement:</strong></p>{image}'
            f"<p>LaTeX: <code>{esc(latex)}</code></p>{plain}</div>")


def html_verdict(v, files: list[FigureFile]) -> str:
    parts = [f'<div class="verdict" data-verdict="{esc(v.code)}">',
             f"<h3>Experiment <code>{esc(v.experiment)}</code> {badge(v.code)}</h3>",
             f'<p class="explanation">{prose(v.explanation)}</p>']
    rows = number_rows(v.numbers)
    if rows:
        body = "".join(f'<tr><td>{esc(k)}</td><td class="num">{esc(t)}</td></tr>' for k, t in rows)
        parts.append(f'<table class="numbers"><thead><tr><th>Number</th><th>Value</th></tr></thead><tbody>{body}</tbody></table>')
    if v.worst_point:
        parts.append(f"<p><strong>Worst point:</strong> {esc(worst_text(v.worst_point))}</p>")
    if v.would_change:
        parts.append(f"<p><strong>What would change this verdict:</strong> {prose(v.would_change)}</p>")
    if v.notes:
        parts.append("<p><strong>Notes:</strong></p><ul>" + "".join(f"<li>{prose(n)}</li>" for n in v.notes) + "</ul>")
    parts += [html_figure(f) for f in files]
    return "\n".join(parts) + "</div>"


def html_figure(f: FigureFile) -> str:
    data = f'Data: <a href="{esc(f.csv_path)}">{esc(f.csv_path)}</a>.'
    if f.png is None:
        return f'<p class="error"><strong>Figure not drawn</strong> ({esc(f.title)}): {esc(f.error)}. {data}</p>'
    return (f'<figure id="fig-{esc(f.slug)}"><img alt="{esc(f.title)}" src="{data_uri(f.png)}">'
            f"<figcaption><strong>{esc(f.title)}.</strong> {esc(f.caption)} {data}</figcaption></figure>")


def html_data(ctx: ReportContext, plan: Plan) -> str:
    links = "".join(f'<li><a href="{esc(target)}">{esc(name)}</a></li>' for name, target in data_links(ctx, plan))
    return (f'<h2 id="data">Data and rerunning</h2><ul>{links}</ul>'
            "<p>Rerun (results are resumed from the store, so only missing cells run):</p>"
            f"<pre>lrkd report --{esc(ctx.size)} --out DIR</pre>")
