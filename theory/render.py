"""Plain text and LaTeX renderings of claims (for ``lrkd claims`` and the report).

``claim_text`` is the block the command line prints; ``claims_latex`` a LaTeX fragment (no
preamble; needs amsmath/amssymb) with each claim's wording, our reading, the statement, its symbols,
assumptions and source. ``rstar_table_markdown`` / ``rstar_table_latex`` render the C4 table that
theory.rank derives.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable

import sympy as sp

from lrkd.theory.claims import Claim, all_claims

#: How each claim kind reads in words (the command line and the report both print this).
KIND_WORDS = {
    "upper_bound": "upper bound (measured <= bound)",
    "lower_bound": "lower bound (measured >= bound)",
    "exponent": "growth exponent (measured grows like the expression)",
}
#: LaTeX control words shown as unicode by tex_to_text (anything else prints as its name).
TEX_WORDS = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "Delta": "Δ",
    "epsilon": "ε",
    "eta": "η",
    "theta": "θ",
    "lambda": "λ",
    "mu": "μ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "Sigma": "Σ",
    "nabla": "∇",
    "leq": "≤",
    "le": "≤",
    "geq": "≥",
    "ge": "≥",
    "cdot": "·",
    "times": "×",
    "infty": "∞",
    "approx": "≈",
    "asymp": "≍",
    "sim": "∼",
    "|": "‖",
    "log": "log",
    "exp": "exp",
    "min": "min",
    "max": "max",
    "sum": "Σ",
    "to": "→",
    "in": "∈",
}
_INLINE_MATH = re.compile(r"\$([^$\n]+?)\$")
_WIDTH = 100


def claim_text(claim: Claim) -> str:
    """A plain-text block: id, title, wording, reading, statement, symbols, assumptions, source."""
    lines = [
        f"{claim.id}: {claim.title}" if claim.title else claim.id,
        f"  kind: {KIND_WORDS[claim.kind]}{'   [paper claim]' if claim.paper else ''}",
    ]
    if claim.wording:
        lines += _wrapped("paper wording: ", f'"{plain_math(claim.wording)}"')
    if claim.reading:
        lines += _wrapped("reading: ", claim.reading)
    lines += _wrapped("statement: ", statement_text(claim))
    if claim.claimed_exponents:
        exps = ", ".join(f"{v}: {sp.sstr(e)}" for v, e in claim.claimed_exponents.items())
        lines.append(f"  claimed exponents: {exps}")
    lines += _wrapped(f"measured ({claim.measured_symbol}): ", claim.measured or "-")
    lines.append("  symbols:")
    width = max(len(s.name) for s in claim.symbols)
    for s in claim.symbols:
        default = f"; default {claim.defaults[s.name]:g}" if s.name in claim.defaults else ""
        lines += _wrapped(f"  {s.name:<{width}}  ", f"{s.meaning} ({s.domain}{default})")
    if claim.assumptions:
        lines.append("  assumptions:")
        for a in claim.assumptions:
            lines += _wrapped("  - ", a)
    if claim.source:
        lines += _wrapped("source: ", claim.source)
    if claim.experiment:
        lines.append(
            f"  experiment: {claim.experiment}; columns {dict(claim.columns)}; measured column {claim.measured_column}"
        )
    return "\n".join(lines)


def statement_text(claim: Claim) -> str:
    """'G_T <= 4*Delta*L/T + ...' ('~' for exponent claims; Euler's number printed as e)."""
    relation = {"upper_bound": "<=", "lower_bound": ">=", "exponent": "~"}[claim.kind]
    expr = sp.sstr(claim.expr)
    if "E" not in {str(s) for s in claim.expr.free_symbols}:
        expr = re.sub(r"\bE\b", "e", expr)
    return f"{claim.measured_symbol} {relation} {expr}"


def claims_text(claims: Iterable[Claim] | None = None) -> str:
    """claim_text for every claim (default: the registry), separated by blank lines."""
    return "\n\n".join(claim_text(c) for c in (all_claims() if claims is None else claims))


def claims_latex(claims: Iterable[Claim] | None = None) -> str:
    """A LaTeX fragment with one subsection per claim (default: every registered claim)."""
    return "\n\n".join(_claim_latex(c) for c in (all_claims() if claims is None else claims))


def _claim_latex(claim: Claim) -> str:
    parts = [f"\\subsection*{{{tex_text(claim.title or claim.id)} (\\texttt{{{tex_text(claim.id)}}})}}"]
    if claim.wording:
        parts.append(f"\\begin{{quote}}``{tex_text(claim.wording)}''\\end{{quote}}")
    if claim.reading:
        parts.append(f"\\emph{{Reading.}} {tex_text(claim.reading)}")
    parts.append(f"\\[ {claim.latex()} \\]")
    items = [
        f"  \\item[${s.latex or sp.latex(s.symbol)}$] {tex_text(s.meaning)} ({tex_text(s.domain)})"
        for s in claim.symbols
    ]
    parts.append("\\begin{description}\n" + "\n".join(items) + "\n\\end{description}")
    if claim.assumptions:
        items = [f"  \\item {tex_text(a)}" for a in claim.assumptions]
        parts.append("\\paragraph{Assumptions}\n\\begin{itemize}\n" + "\n".join(items) + "\n\\end{itemize}")
    if claim.source:
        parts.append(f"\\paragraph{{Source}} {tex_text(claim.source)}")
    return "\n".join(parts)


def rstar_table_markdown() -> str:
    """The C4 table (leading order of r*(N)) as Markdown, rows spectrum, columns variance."""
    from lrkd.theory.rank import rstar_exponent, rstar_table

    table = rstar_table()
    rows = ["| spectrum | V = c r(m+n)/N (fast) | V = c r(m+n)/sqrt(N) (paper) |", "|---|---|---|"]
    for spectrum, cells in table.items():
        text = [f"r* ~ {sp.sstr(e)} (exponent {sp.sstr(rstar_exponent(spectrum, v))})" for v, e in cells.items()]
        rows.append(f"| {spectrum.replace('_', ' ')} | " + " | ".join(text) + " |")
    return "\n".join(rows)


def rstar_table_latex() -> str:
    """The C4 table as a LaTeX tabular."""
    from lrkd.theory.rank import rstar_table

    rows = [
        f"{spectrum.replace('_', ' ')} & " + " & ".join(f"${sp.latex(e)}$" for e in cells.values()) + r" \\"
        for spectrum, cells in rstar_table().items()
    ]
    head = r"spectrum & $V = c\,r(m+n)/N$ & $V = c\,r(m+n)/\sqrt{N}$ \\ \hline"
    return "\\begin{tabular}{lll}\n" + head + "\n" + "\n".join(rows) + "\n\\end{tabular}"


def tex_text(text: str) -> str:
    """Escape LaTeX specials in prose, keeping $...$ math segments as they are."""
    pieces = text.split("$")
    if len(pieces) % 2 == 0:  # unbalanced $: treat everything as prose
        pieces = [text.replace("$", "")]
    return "$".join(p if i % 2 else _escape(p) for i, p in enumerate(pieces))


def _escape(prose: str) -> str:
    table = {
        "\\": r"\textbackslash{}",
        "&": r"\&",
        "%": r"\%",
        "#": r"\#",
        "_": r"\_",
        "{": r"\{",
        "}": r"\}",
        "~": r"\textasciitilde{}",
        "^": r"\textasciicircum{}",
    }
    return "".join(table.get(ch, ch) for ch in prose)


def plain_math(text: str) -> str:
    """Prose whose $...$ inline math is shown as unicode text: '$O(1/\\sqrt{T})$' -> 'O(1/√(T))'."""
    return _INLINE_MATH.sub(lambda m: tex_to_text(m.group(1)), text)


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
            body, i = _tex_group(tex, i)
            out.append(f"√({tex_to_text(body)})")
        elif word == "frac":
            top, i = _tex_group(tex, i)
            bottom, i = _tex_group(tex, i)
            out.append(f"({tex_to_text(top)})/({tex_to_text(bottom)})")
        elif word in ("mathbb", "mathrm", "mathcal", "hat", "operatorname", "text"):
            body, i = _tex_group(tex, i)
            out.append("𝔼" if word == "mathbb" and body == "E" else tex_to_text(body))
        else:
            out.append(TEX_WORDS.get(word, word))
    return "".join(out)


def _tex_group(text: str, start: int) -> tuple[str, int]:
    """The {...} group opening at text[start] (balanced) and the index after it."""
    if start >= len(text) or text[start] != "{":
        return "", start
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1 : i], i + 1
    return text[start + 1 :], len(text)


def _wrapped(label: str, body: str) -> list[str]:
    indent = "  " + " " * len(label)
    return textwrap.wrap(
        body,
        _WIDTH,
        initial_indent="  " + label,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    ) or ["  " + label]
