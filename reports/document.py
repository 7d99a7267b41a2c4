"""A small document model for the report, and its two writers (Markdown and self-contained HTML).

reports/render.py builds one `Document` from what validate/ decided; `to_markdown` and `to_html`
write it. Each node type is rendered once per format, so a report part (summary, calibration, a
claim) is described once and cannot drift between the two files.

Inline content (`Inline`) is a plain `str` (literal text, escaped by the writer), `Prose` (text whose
$...$ spans are inline LaTeX: kept for Markdown, shown as unicode in HTML, source on hover),
`Code`, `Strong`, `Emph`, `Link` or `Badge`. Blocks are `Paragraph`, `BulletList`, `Quote`,
`CodeBlock`, `Table`, `Formula`, `FigureRef`, `VerdictMatrix` (rows x columns of badges), `Group`
(a box: a verdict card), `Details` (blocks folded under a summary line in HTML), `Columns` (main
text beside an aside: a verdict beside its figure),
`Contents` (links to sections) and `Section` (a heading with an anchor and blocks). A `Document`
is a title, header facts and blocks.

Nothing here knows what a claim or a verdict is: badge codes are CSS classes and Markdown dots.
"""

from __future__ import annotations

import base64
import html
import math
import re
from dataclasses import dataclass, field
from functools import singledispatch
from typing import Any, Mapping, Sequence, Union

import numpy as np

from lrkd.theory.render import tex_to_text

INLINE_MATH = re.compile(r"\$([^$\n]+?)\$")


def fmt(value: Any, digits: int = 4) -> str:
    """A number or small structure as short text: `digits` significant digits, n/a for missing.

    Args:
        value: a number (numpy scalars included), bool, None, list/tuple/array, mapping or text.
        digits: significant digits of floats.

    Returns:
        "n/a" for None and non-finite floats, "yes"/"no" for bools, "[a, b]" for sequences,
        "k = v, ..." for mappings, str(value) otherwise.
    """
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "n/a"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}" if math.isfinite(value) else "n/a"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(fmt(v, digits) for v in value) + "]"
    if isinstance(value, Mapping):
        return ", ".join(f"{k} = {fmt(v, digits)}" for k, v in value.items())
    return str(value)


# -- inline nodes ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prose:
    """Text whose $...$ spans are inline LaTeX."""

    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Strong:
    content: Inlines


@dataclass(frozen=True)
class Emph:
    content: Inlines


@dataclass(frozen=True)
class Link:
    content: Inlines
    href: str
    title: str = ""


@dataclass(frozen=True)
class Badge:
    """A coloured label: `code` is its colour class (HTML) and picks its dot (Markdown).

    `short` replaces the label where space is tight (the verdict matrix); `title` is a one-line
    tooltip; `href` makes the badge a link.
    """

    code: str
    label: str
    title: str = ""
    short: str = ""
    href: str = ""


Inline = Union[str, Prose, Code, Strong, Emph, Link, Badge]
Inlines = Union[Inline, Sequence[Inline]]


# -- block nodes -------------------------------------------------------------------------------
@dataclass
class Paragraph:
    content: Inlines
    cls: str = ""


@dataclass
class BulletList:
    items: list[Inlines]
    cls: str = ""


@dataclass
class Quote:
    content: Inlines


@dataclass
class CodeBlock:
    text: str
    lang: str = "text"


@dataclass
class Row:
    cells: list[Inlines]
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Table:
    """A table; `numeric` names the columns set in tabular figures."""

    header: list[str]
    rows: list[Row]
    id: str = ""
    cls: str = ""
    numeric: tuple[int, ...] = ()


@dataclass
class Formula:
    """A display formula: its LaTeX, a typeset PNG (or None) and a plain-text form (or "")."""

    latex: str
    png: bytes | None = None
    plain: str = ""
    label: str = "Statement:"


@dataclass
class FigureRef:
    """A figure file of the report: the PNG (None when it could not be drawn) and its data CSV."""

    slug: str
    title: str
    caption: str
    png: bytes | None
    error: str = ""

    @property
    def png_path(self) -> str:
        """The PNG's path relative to the report folder.

        Returns:
            "figures/<slug>.png".
        """
        return f"figures/{self.slug}.png"

    @property
    def csv_path(self) -> str:
        """The data CSV's path relative to the report folder.

        Returns:
            "figures/<slug>.csv".
        """
        return f"figures/{self.slug}.csv"


@dataclass
class MatrixRow:
    label: str
    href: str
    title: str = ""
    cells: list[list[Badge]] = field(default_factory=list)  # one list of badges per column


@dataclass
class VerdictMatrix:
    """Rows x columns of badges (a cell may hold several, or none) and a legend of every code."""

    columns: list[str]
    rows: list[MatrixRow]
    legend: list[Badge]
    corner: str = ""
    id: str = "verdict-matrix"
    empty: str = "·"


@dataclass
class Group:
    """Blocks in a box (HTML <div class=cls data-...>); Markdown writes the blocks only."""

    blocks: list[Block]
    cls: str = ""
    id: str = ""
    attrs: dict[str, str] = field(default_factory=dict)


@dataclass
class Details:
    """Blocks folded under a one-line summary (HTML <details>); Markdown writes them out in full."""

    summary: str
    blocks: list[Block]


@dataclass
class Columns:
    """Main blocks beside an aside (side by side on wide screens, stacked on phones)."""

    main: list[Block]
    aside: list[Block]


@dataclass
class Contents:
    """A table of contents: (entry, anchor) links."""

    entries: list[tuple[str, str]]


@dataclass
class Section:
    title: Inlines
    blocks: list[Block]
    anchor: str = ""
    level: int = 2
    cls: str = ""


Block = Union[
    Paragraph,
    BulletList,
    Quote,
    CodeBlock,
    Table,
    Formula,
    FigureRef,
    VerdictMatrix,
    Group,
    Details,
    Columns,
    Contents,
    Section,
]


@dataclass
class Document:
    title: str
    facts: list[tuple[str, str]]
    blocks: list[Block]


def inlines(content: Inlines) -> list[Inline]:
    """Inline content as a list, whether one node or several were given.

    Args:
        content: one inline node or a sequence of them.

    Returns:
        The nodes as a list.
    """
    return [content] if isinstance(content, (str, Prose, Code, Strong, Emph, Link, Badge)) else list(content)


def walk(blocks: Sequence[Block]):
    """Every block, depth first (sections, groups, details and columns opened).

    Args:
        blocks: top-level blocks.

    Returns:
        A generator of every block, each container before its content.
    """
    for block in blocks:
        yield block
        if isinstance(block, (Section, Group, Details)):
            yield from walk(block.blocks)
        elif isinstance(block, Columns):
            yield from walk([*block.main, *block.aside])


def figure_refs(doc: Document) -> list[FigureRef]:
    """Every figure of the document, in reading order.

    Args:
        doc: the document.

    Returns:
        Its FigureRefs.
    """
    return [b for b in walk(doc.blocks) if isinstance(b, FigureRef)]


# -- Markdown ----------------------------------------------------------------------------------
MARKDOWN_DOTS = {
    "holds": "🟢",
    "not_tight": "🔵",
    "violated": "🔴",
    "vacuous": "⚪",
    "assumptions_not_met": "🟠",
    "inconclusive": "🟡",
    "not_tested": "⚫",
    "ok": "✅",
    "miss": "❌",
}


def md_escape(text: Any) -> str:
    """Text safe inside Markdown (and table cells): no emphasis, links, HTML or cell breaks.

    Args:
        text: any value (str() is taken).

    Returns:
        The text on one line, Markdown's special characters backslash-escaped.
    """
    text = re.sub(r"\s*\n\s*", " ", str(text))
    return re.sub(r"([\\`*_\[\]<>|#])", r"\\\1", text)


def md_inline(content: Inlines) -> str:
    """Inline content as Markdown.

    Args:
        content: one inline node or several.

    Returns:
        The Markdown text.
    """
    return "".join(_md_inline(x) for x in inlines(content))


@singledispatch
def _md_inline(node) -> str:
    raise TypeError(f"not an inline node: {node!r}")


@_md_inline.register
def _(node: str) -> str:
    return md_escape(node)


@_md_inline.register
def _(node: Prose) -> str:
    parts = INLINE_MATH.split(node.text)
    return "".join(f"${p}$" if i % 2 else md_escape(p) for i, p in enumerate(parts))


@_md_inline.register
def _(node: Code) -> str:
    return f"`{node.text.replace('`', '')}`"


@_md_inline.register
def _(node: Strong) -> str:
    return f"**{md_inline(node.content)}**"


@_md_inline.register
def _(node: Emph) -> str:
    return f"*{md_inline(node.content)}*"


@_md_inline.register
def _(node: Link) -> str:
    return md_link(md_inline(node.content), node.href, node.title)


@_md_inline.register
def _(node: Badge) -> str:
    return md_link(f"{MARKDOWN_DOTS.get(node.code, '')} **{md_escape(node.label)}**".strip(), node.href, node.title)


def md_link(text: str, href: str, title: str = "") -> str:
    """[text](href "title") around already-written Markdown; the text alone without href.

    Args:
        text: the link text, already Markdown.
        href: the target ("" for no link).
        title: the hover text ("" for none).

    Returns:
        The Markdown link, or `text` when there is no href.
    """
    if not href:
        return text
    title = f' "{md_escape(title).replace(chr(34), chr(39))}"' if title else ""
    return f"[{text}]({href}{title})"


def md_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GitHub-flavoured Markdown table, followed by a blank line.

    Args:
        header: the column headings, already Markdown.
        rows: the cells of each row, already Markdown.

    Returns:
        The table's lines.
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows] + [""]


@singledispatch
def _md_block(node) -> list[str]:
    raise TypeError(f"not a block node: {node!r}")


@_md_block.register
def _(node: Paragraph) -> list[str]:
    return [md_inline(node.content), ""]


@_md_block.register
def _(node: BulletList) -> list[str]:
    return [f"- {md_inline(item)}" for item in node.items] + [""]


@_md_block.register
def _(node: Quote) -> list[str]:
    return [f"> {md_inline(node.content)}", ""]


@_md_block.register
def _(node: CodeBlock) -> list[str]:
    return [f"```{node.lang}", node.text, "```", ""]


@_md_block.register
def _(node: Table) -> list[str]:
    return md_table([md_escape(h) for h in node.header], [[md_inline(c) for c in r.cells] for r in node.rows])


@_md_block.register
def _(node: Formula) -> list[str]:
    lines = (
        [f"**{md_escape(node.label)}**", "", "$$", node.latex, "$$", ""] if node.label else ["$$", node.latex, "$$", ""]
    )
    return lines + (_md_block(CodeBlock(node.plain)) if node.plain else [])


@_md_block.register
def _(node: FigureRef) -> list[str]:
    data = f"Data: [{node.csv_path}]({node.csv_path})."
    if node.png is None:
        return [f"**Figure not drawn** ({md_escape(node.title)}): {md_escape(node.error)} ({data})", ""]
    return [
        f"![{md_escape(node.title)}]({node.png_path})",
        "",
        f"*{md_escape(node.title)}.* {md_escape(node.caption)} {data}",
        "",
    ]


@_md_block.register
def _(node: VerdictMatrix) -> list[str]:
    def cell(badges: list[Badge]) -> str:
        return (
            " ".join(
                md_link(f"{MARKDOWN_DOTS.get(b.code, '')} {md_escape(b.short or b.label)}", b.href, b.title)
                for b in badges
            )
            or node.empty
        )

    rows = [[md_inline(Link(r.label, r.href, r.title)), *(cell(c) for c in r.cells)] for r in node.rows]
    legend = " · ".join(
        f"{MARKDOWN_DOTS.get(b.code, '')} {md_escape(b.short)} = {md_escape(b.label)}" for b in node.legend
    )
    return md_table([md_escape(node.corner), *(md_escape(c) for c in node.columns)], rows) + [legend, ""]


@_md_block.register
def _(node: Group) -> list[str]:
    anchor = [f'<a id="{node.id}"></a>', ""] if node.id else []  # links to the box resolve in Markdown too
    return anchor + md_blocks(node.blocks)


@_md_block.register
def _(node: Details) -> list[str]:
    return [f"**{md_escape(node.summary)}**", ""] + md_blocks(node.blocks)


@_md_block.register
def _(node: Columns) -> list[str]:
    return md_blocks([*node.main, *node.aside])


@_md_block.register
def _(node: Contents) -> list[str]:
    return [f"- [{md_escape(text)}](#{anchor})" for text, anchor in node.entries] + [""]


@_md_block.register
def _(node: Section) -> list[str]:
    anchor = [f'<a id="{node.anchor}"></a>', ""] if node.anchor else []
    return anchor + [f"{'#' * node.level} {md_inline(node.title)}", ""] + md_blocks(node.blocks)


def md_blocks(blocks: Sequence[Block]) -> list[str]:
    """Blocks as Markdown lines.

    Args:
        blocks: the blocks.

    Returns:
        Their lines, in order (each block ends with a blank line).
    """
    return [line for b in blocks for line in _md_block(b)]


def to_markdown(doc: Document) -> str:
    """The document as GitHub-flavoured Markdown (figures linked from figures/, math as $...$).

    Args:
        doc: the document.

    Returns:
        The Markdown text.
    """
    lines = [f"# {md_escape(doc.title)}", ""]
    lines += [" · ".join(f"**{md_escape(k)}:** {md_escape(v)}" for k, v in doc.facts), ""]
    return "\n".join(lines + md_blocks(doc.blocks)) + "\n"


# -- HTML --------------------------------------------------------------------------------------
def esc(text: Any) -> str:
    """HTML-escape text, quotes included.

    Args:
        text: any value (str() is taken).

    Returns:
        The escaped text.
    """
    return html.escape(str(text), quote=True)


def data_uri(png: bytes) -> str:
    """A PNG as a data URI, so the HTML page holds its figures.

    Args:
        png: the PNG bytes.

    Returns:
        "data:image/png;base64,...".
    """
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def attributes(attrs: Mapping[str, str]) -> str:
    """HTML attributes, each value escaped; empty and None values are left out.

    Args:
        attrs: {name: value}.

    Returns:
        ' name="value" ...' (a leading space per attribute), or "".
    """
    return "".join(f' {k}="{esc(v)}"' for k, v in attrs.items() if v not in ("", None))


def html_inline(content: Inlines) -> str:
    """Inline content as HTML.

    Args:
        content: one inline node or several.

    Returns:
        The HTML text.
    """
    return "".join(_html_inline(x) for x in inlines(content))


@singledispatch
def _html_inline(node) -> str:
    raise TypeError(f"not an inline node: {node!r}")


@_html_inline.register
def _(node: str) -> str:
    return esc(node)


@_html_inline.register
def _(node: Prose) -> str:
    parts = INLINE_MATH.split(node.text)
    return "".join(
        f'<span class="math" title="{esc(p)}">{esc(tex_to_text(p))}</span>' if i % 2 else esc(p)
        for i, p in enumerate(parts)
    )


@_html_inline.register
def _(node: Code) -> str:
    return f"<code>{esc(node.text)}</code>"


@_html_inline.register
def _(node: Strong) -> str:
    return f"<strong>{html_inline(node.content)}</strong>"


@_html_inline.register
def _(node: Emph) -> str:
    return f"<em>{html_inline(node.content)}</em>"


@_html_inline.register
def _(node: Link) -> str:
    return f"<a{attributes({'href': node.href, 'title': node.title})}>{html_inline(node.content)}</a>"


@_html_inline.register
def _(node: Badge) -> str:
    span = f'<span class="badge {esc(node.code)}"{attributes({"title": node.title})}>{esc(node.label)}</span>'
    return f'<a class="badge-link" href="{esc(node.href)}">{span}</a>' if node.href else span


def html_matrix_badge(node: Badge) -> str:
    """A compact badge of the verdict matrix: its short code, the label for screen readers.

    Args:
        node: the badge.

    Returns:
        An <a class="cell badge CODE"> element.
    """
    attrs = attributes({"href": node.href, "title": node.title, "data-verdict": node.code, "aria-label": node.label})
    return f'<a class="cell badge {esc(node.code)}"{attrs}>{esc(node.short or node.label)}</a>'


@singledispatch
def _html_block(node) -> str:
    raise TypeError(f"not a block node: {node!r}")


@_html_block.register
def _(node: Paragraph) -> str:
    return f"<p{attributes({'class': node.cls})}>{html_inline(node.content)}</p>"


@_html_block.register
def _(node: BulletList) -> str:
    items = "".join(f"<li>{html_inline(item)}</li>" for item in node.items)
    return f"<ul{attributes({'class': node.cls})}>{items}</ul>"


@_html_block.register
def _(node: Quote) -> str:
    return f"<blockquote>{html_inline(node.content)}</blockquote>"


@_html_block.register
def _(node: CodeBlock) -> str:
    return f"<pre>{esc(node.text)}</pre>"


@_html_block.register
def _(node: Table) -> str:
    def cells(tag: str, row: Sequence[Any], render) -> str:
        return "".join(
            f"<{tag}{attributes({'class': 'num' if i in node.numeric else ''})}>{render(c)}</{tag}>"
            for i, c in enumerate(row)
        )

    head = f"<tr>{cells('th', node.header, esc)}</tr>"
    body = "".join(f"<tr{attributes(r.attrs)}>{cells('td', r.cells, html_inline)}</tr>" for r in node.rows)
    table = f"<table{attributes({'id': node.id, 'class': node.cls})}><thead>{head}</thead><tbody>{body}</tbody></table>"
    return f'<div class="table-wrap">{table}</div>'


@_html_block.register
def _(node: Formula) -> str:
    label = f"<p><strong>{esc(node.label)}</strong></p>" if node.label else ""
    image = f'<img alt="{esc(node.latex)}" src="{data_uri(node.png)}">' if node.png else ""
    plain = f"<pre>{esc(node.plain)}</pre>" if node.plain else ""
    return f'<div class="formula">{label}{image}<p>LaTeX: <code>{esc(node.latex)}</code></p>{plain}</div>'


@_html_block.register
def _(node: FigureRef) -> str:
    data = f'Data: <a href="{esc(node.csv_path)}">{esc(node.csv_path)}</a>.'
    if node.png is None:
        return f'<p class="error"><strong>Figure not drawn</strong> ({esc(node.title)}): {esc(node.error)}. {data}</p>'
    return (
        f'<figure id="fig-{esc(node.slug)}"><img alt="{esc(node.title)}" src="{data_uri(node.png)}">'
        f"<figcaption><strong>{esc(node.title)}.</strong> {esc(node.caption)} {data}</figcaption></figure>"
    )


def html_matrix_row(row: MatrixRow, empty: str) -> str:
    """One row of the verdict matrix: the row's label (a link) and a cell of badges per column.

    Args:
        row: the matrix row.
        empty: the text of a cell without badges.

    Returns:
        The <tr> element.
    """
    breakable = esc(row.label).replace("_", "_<wbr>")  # long ids wrap at underscores on phones, never mid-word
    label = f'<a href="{esc(row.href)}" title="{esc(row.title or row.label)}">{breakable}</a>'
    cells = "".join(
        f"<td>{''.join(html_matrix_badge(b) for b in c)}</td>" if c else f'<td class="empty">{esc(empty)}</td>'
        for c in row.cells
    )
    return f'<tr><th scope="row" class="row">{label}</th>{cells}</tr>'


@_html_block.register
def _(node: VerdictMatrix) -> str:
    head = f'<th class="corner">{esc(node.corner)}</th>' + "".join(
        f'<th class="col" title="{esc(c)}"><span>{esc(c)}</span></th>' for c in node.columns
    )
    body = "".join(html_matrix_row(r, node.empty) for r in node.rows)
    legend = "".join(
        f'<li><span class="cell badge {esc(b.code)}">{esc(b.short)}</span> {esc(b.label)}</li>' for b in node.legend
    )
    return (
        f'<div class="matrix-wrap"><table id="{esc(node.id)}" class="matrix"><thead><tr>{head}</tr></thead>'
        f'<tbody>{body}</tbody></table></div><ul class="legend">{legend}</ul>'
    )


@_html_block.register
def _(node: Group) -> str:
    attrs = attributes({"class": node.cls, "id": node.id, **node.attrs})
    return f"<div{attrs}>\n" + html_blocks(node.blocks) + "\n</div>"


@_html_block.register
def _(node: Details) -> str:
    return f"<details><summary>{esc(node.summary)}</summary>\n{html_blocks(node.blocks)}\n</details>"


@_html_block.register
def _(node: Columns) -> str:
    if not node.aside:
        return html_blocks(node.main)
    return (
        f'<div class="columns"><div class="main">{html_blocks(node.main)}</div>'
        f'<div class="aside">{html_blocks(node.aside)}</div></div>'
    )


@_html_block.register
def _(node: Contents) -> str:
    links = "".join(f'<li><a href="#{esc(anchor)}">{esc(text)}</a></li>' for text, anchor in node.entries)
    return f'<nav class="toc"><ul>{links}</ul></nav>'


@_html_block.register
def _(node: Section) -> str:
    level = min(max(node.level, 1), 6)
    attrs = attributes({"id": node.anchor, "class": node.cls})
    return (
        f"<section{attrs}><h{level}>{html_inline(node.title)}</h{level}>\n" + html_blocks(node.blocks) + "\n</section>"
    )


def html_blocks(blocks: Sequence[Block]) -> str:
    """Blocks as HTML.

    Args:
        blocks: the blocks.

    Returns:
        Their HTML, one block per line.
    """
    return "\n".join(_html_block(b) for b in blocks)


def to_html(doc: Document, css: str = "", script: str = "") -> str:
    """The document as one self-contained HTML page (inline CSS and script, figures as data URIs).

    Args:
        doc: the document.
        css: the style sheet to inline.
        script: the script to inline at the end of the body.

    Returns:
        The HTML page.
    """
    facts = "".join(f"<span><b>{esc(k)}:</b> {esc(v)}</span>" for k, v in doc.facts)
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(doc.title)}</title>",
            f"<style>\n{css}</style>",
            "</head>",
            "<body>",
            "<main>",
            f"<h1>{esc(doc.title)}</h1>",
            f'<p class="meta">{facts}</p>',
            html_blocks(doc.blocks),
            "</main>",
            f"<script>\n{script}</script>",
            "</body>",
            "</html>",
            "",
        ]
    )
