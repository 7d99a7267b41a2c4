"""Draw the evidence plots of the report from `lrkd.validate.engine.verdict.Figure` records.

validate/ computes the data (a DataFrame plus a `meta` mapping); this module only draws it.
`draw(figure)` dispatches on `figure.kind` and returns a matplotlib Figure built without pyplot
(no global state, never shown); `png_bytes(fig)` renders it with the Agg canvas. A missing data
column raises ValueError naming it.

The contract per kind (columns of `figure.data`; keys of `figure.meta`):

bound_vs_measured
    columns  x, measured, bound; optional measured_low, measured_high (a CI band over seeds),
             series (str: one colour per series), exceeds (bool: points above the bound, ringed).
    meta     x_label, y_label; logx, logy (default True); fit = {exponent, ci: [lo, hi],
             intercept} (the line exp(intercept) * x**exponent, with a band spanned by the CI
             exponents pivoting at the geometric mean of x); claimed_exponent (annotated);
             worst = {x, measured} (starred); trivial (horizontal line: the value above which
             the bound is vacuous).
rstar_vs_n
    columns  n_samples, rstar, rstar_low, rstar_high; optional series.
    meta     fit (as above); sqrt_reference (truthy: c * sqrt(N) through the first point);
             theory_exponent (c * N**theory_exponent through the first point); rank_max
             (dashed horizontal line r* <= min(m, n); its legend text rank_max_label when given);
             x_label, y_label. Always log-log.
mi_vs_clone
    columns  step, clone_loss, and at least one of mi_gaussian, mi_ksg, mi_infonce,
             mi_lower_bound, mi_exact; optional series (e.g. "clone (alpha=0.5)").
    meta     spearman (float, annotated); x_label. Two panels sharing the step axis: MI
             estimates (nats) on top, clone loss below. Negative MI estimates are clipped to 0
             for display only, and the panel says so.
spectrum
    columns  k (1-based index), s (singular value); optional fitted, series.
    meta     family ("power_law" -> log-log, "exponential" -> semi-log y); alpha, alpha_ci,
             beta, beta_ci ([lo, hi]), r2 (annotated).
rstar_growth
    columns  as rstar_vs_n. meta laws = {law: {n_samples, rstar, aicc}} (fitted curves), best,
             identified, delta_aicc, evidence, rank_max. Semi-log x: a logarithm is straight.
spectrum_null
    columns  k, s, null (the Gaussian null's expected value), spike (bool); optional series.
    meta     edges = {series: {threshold, mp_edge, n_spikes, family}}.
mi_by_arm
    columns  arm, mi, mi_low, mi_high (interval over seeds); optional label (x tick), lr (annotated).
    meta     y_label.
mi_vs_mse
    columns  clone_mse, mi; optional series (one line each), scale (annotated c = ...).
    meta     x_label, y_label. Log x when every clone MSE is positive.
estimate_vs_truth
    columns  truth, estimate; optional estimator (colour), d (marker).
    meta     x_label, y_label. Scatter with the line y = x.

Every kind also reads an optional meta `caption` (used by reports/render.py, not drawn here).
"""

from __future__ import annotations

import io
import math
from typing import Any, Callable, Iterable, Mapping

import matplotlib

matplotlib.use("Agg")  # harmless if pyplot is never imported; guards against interactive backends

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, NullFormatter

from lrkd.reports.document import fmt as document_fmt

FIGSIZE = (6.4, 4.2)
DPI = 110
STYLE = {
    "font.size": 9.5,
    "axes.titlesize": 10.5,
    "axes.labelsize": 9.5,
    "legend.fontsize": 8,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
MI_COLUMNS = {
    "mi_exact": "exact MI",
    "mi_gaussian": "Gaussian (CCA) MI",
    "mi_ksg": "KSG",
    "mi_infonce": "InfoNCE",
    "mi_lower_bound": "clone-error lower bound",
}
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
BOX = dict(boxstyle="round,pad=0.3", facecolor="white", edgecolor="#999999", alpha=0.85)


# -- entry points ------------------------------------------------------------------------------
def draw(figure) -> MplFigure:
    """The matplotlib Figure for a validate.engine.verdict.Figure record (dispatch on its kind).

    Args:
        figure: the record (kind, title, data, meta).

    Returns:
        The Figure, drawn without pyplot.

    Raises:
        ValueError: an unknown kind, no data rows, or a missing data column (named).
    """
    drawer = DRAWERS.get(figure.kind)
    if drawer is None:
        raise ValueError(f"figure kind must be one of {sorted(DRAWERS)}, got {figure.kind!r}")
    if len(figure.data) == 0:
        raise ValueError(f"figure {figure.title!r} ({figure.kind}): data has no rows")
    with matplotlib.rc_context(STYLE):
        return drawer(figure.title, figure.data, dict(figure.meta or {}))


def png_bytes(fig: MplFigure, dpi: int = DPI) -> bytes:
    """The figure rendered as PNG bytes by the Agg canvas.

    Args:
        fig: a matplotlib Figure.
        dpi: the resolution.

    Returns:
        The PNG bytes.
    """
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight", facecolor="white")
    return buf.getvalue()


def formula_png(latex: str, fontsize: float = 17) -> bytes | None:
    """A LaTeX formula typeset by matplotlib's mathtext, or None if mathtext cannot parse it.

    Args:
        latex: the formula (without $ delimiters).
        fontsize: its size in points.

    Returns:
        PNG bytes, or None.
    """
    text = latex.replace(r"\textstyle", "").replace(r"\displaystyle", "").strip()
    fig = MplFigure(figsize=(0.01, 0.01))
    fig.text(0, 0, f"${text}$", fontsize=fontsize)
    try:
        return png_bytes(fig, dpi=DPI)
    except ValueError:  # mathtext's ParseFatalException derives from ValueError
        return None


# -- helpers -----------------------------------------------------------------------------------
def require_columns(title: str, kind: str, data: pd.DataFrame, columns: Iterable[str]) -> None:
    """Raise ValueError naming the first required column the data lacks.

    Args:
        title: the figure's title (named in the message).
        kind: the figure's kind (named in the message).
        data: the figure's table.
        columns: the columns it needs.
    """
    for name in columns:
        if name not in data.columns:
            raise ValueError(f"figure {title!r} ({kind}): missing data column {name!r}; has {list(data.columns)}")


def new_figure(height: float = FIGSIZE[1], nrows: int = 1, sharex: bool = False):
    """A figure of the report's width with `nrows` stacked axes (constrained layout, no pyplot).

    Args:
        height: its height in inches.
        nrows: the number of axes.
        sharex: whether the axes share the x axis.

    Returns:
        (figure, array of axes).
    """
    fig = MplFigure(figsize=(FIGSIZE[0], height), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, 1, sharex=sharex, squeeze=False)[:, 0]
    return fig, axes


def groups(data: pd.DataFrame) -> list[tuple[str | None, pd.DataFrame]]:
    """The rows of each series, in order of first appearance.

    Args:
        data: a figure's table; a `series` column splits it.

    Returns:
        [(series name or None, rows)]: one (None, data) pair without a series column.
    """
    if "series" not in data.columns:
        return [(None, data)]
    names = list(dict.fromkeys(data["series"].astype(str)))
    return [(name, data[data["series"].astype(str) == name]) for name in names]


def col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as float64 (non-numbers become NaN).

    Args:
        frame: a table.
        name: the column.

    Returns:
        The values.
    """
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64)


def fit_ci(fit: Mapping[str, Any]) -> tuple[float, float] | None:
    """A fit's exponent interval, if it has a complete one.

    Args:
        fit: {exponent, ci: [lo, hi], intercept} (meta "fit").

    Returns:
        (lo, hi), or None.
    """
    ci = fit.get("ci")
    if ci is None or len(ci) != 2 or ci[0] is None or ci[1] is None:
        return None
    return float(ci[0]), float(ci[1])


def fmt(x: Any, digits: int = 3) -> str:
    """The report's one number format (reports.document.fmt), at 3 digits: figure labels are short.

    Args:
        x: a number or small structure.
        digits: significant digits.

    Returns:
        The text.
    """
    return document_fmt(x, digits)


def exponent_text(fit: Mapping[str, Any], var: str) -> str:
    """The fitted exponent with its interval, for a figure's corner note.

    Args:
        fit: {exponent, ci, ...} (meta "fit").
        var: the variable's name, e.g. "T".

    Returns:
        "fitted exponent in T: -0.49 [-0.5, -0.48]".
    """
    ci = fit_ci(fit)
    band = f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci else ""
    return f"fitted exponent in {var}: {fmt(fit.get('exponent'))}{band}"


def draw_fit(ax: Axes, x: np.ndarray, fit: Mapping[str, Any], color: str = "black") -> None:
    """y = exp(intercept) x^exponent over x's range, banded by the CI exponents at the pivot.

    Args:
        ax: the axes.
        x: the measured x values (non-positive and non-finite ones ignored).
        fit: {exponent, ci, intercept}; nothing is drawn without exponent and intercept.
        color: the line's colour.
    """
    x = x[np.isfinite(x) & (x > 0)]
    if x.size == 0 or fit.get("exponent") is None or fit.get("intercept") is None:
        return
    grid = np.geomspace(x.min(), x.max(), 100)
    slope, intercept = float(fit["exponent"]), float(fit["intercept"])
    ax.plot(grid, np.exp(intercept) * grid**slope, color=color, lw=1.2, ls="-.", label="fitted power law")
    ci = fit_ci(fit)
    if ci:
        pivot = math.exp(np.mean(np.log(x)))
        at_pivot = math.exp(intercept) * pivot**slope
        lines = [at_pivot * (grid / pivot) ** e for e in ci]
        ax.fill_between(
            grid, np.minimum(*lines), np.maximum(*lines), color=color, alpha=0.12, lw=0, label="fit: exponent CI"
        )


def corner_text(ax: Axes, lines: list[str], loc: str = "lower left") -> None:
    """Notes in a box in a corner of the axes (empty lines dropped; nothing when none is left).

    Args:
        ax: the axes.
        lines: the notes.
        loc: "lower left", "upper right", ...
    """
    lines = [s for s in lines if s]
    if not lines:
        return
    x, ha = (0.02, "left") if "left" in loc else (0.98, "right")
    y, va = (0.03, "bottom") if "lower" in loc else (0.97, "top")
    ax.text(x, y, "\n".join(lines), transform=ax.transAxes, ha=ha, va=va, fontsize=8, bbox=BOX)


def scales(ax: Axes, logx: bool, logy: bool) -> None:
    """Set log scales.

    Args:
        ax: the axes.
        logx: log x axis.
        logy: log y axis.
    """
    if logx:
        ax.set_xscale("log")
    if logy:
        ax.set_yscale("log")


def tidy_log_ticks(ax: Axes) -> None:
    """Plain numbers on log axes; label minor ticks (2, 3, 5 x 10^k) only on short ranges.

    Args:
        ax: the axes (linear axes are left alone).
    """
    plain = FuncFormatter(lambda v, _: f"{v:g}")
    for axis, limits in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim())):
        if axis.get_scale() != "log":
            continue
        lo, hi = sorted(limits)
        decades = math.log10(hi / lo) if lo > 0 else math.inf
        axis.set_major_formatter(plain)
        axis.set_minor_formatter(FuncFormatter(minor_label) if decades < 1.5 else NullFormatter())


def minor_label(value: float, _pos) -> str:
    """The label of a minor tick of a log axis: only 2, 3 and 5 x 10^k are labelled.

    Args:
        value: the tick's value.
        _pos: its position (matplotlib's FuncFormatter API; unused).

    Returns:
        The label, or "".
    """
    mantissa = round(value / 10 ** math.floor(math.log10(value)), 6) if value > 0 else 0
    return f"{value:g}" if mantissa in (2, 3, 5) else ""


def legend_below(fig: MplFigure, axes: Iterable[Axes], extra: tuple[list, list] = ([], [])) -> None:
    """One legend under the plot(s), entries from every axis (deduplicated) plus `extra`.

    Args:
        fig: the figure (made taller to hold the legend).
        axes: the axes whose labelled artists are listed.
        extra: (handles, labels) to add.
    """
    handles, labels = [], []
    for ax in axes:
        more_handles, more_labels = ax.get_legend_handles_labels()
        handles += more_handles
        labels += more_labels
    handles += extra[0]
    labels += extra[1]
    unique = dict(zip(labels, handles))
    if not unique:
        return
    ncol = 2 if max(map(len, unique)) > 34 else 3
    rows = math.ceil(len(unique) / ncol)
    width, height = fig.get_size_inches()
    fig.set_size_inches(width, height + 0.2 * rows)
    fig.legend(list(unique.values()), list(unique), loc="outside lower center", ncol=ncol, frameon=False)


# -- bound against measured --------------------------------------------------------------------
def draw_bound_vs_measured(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """Measured quantity against its bound, per series, with the fit, trivial value and worst point.

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "bound_vs_measured", data, ("x", "measured", "bound"))
    fig, (ax,) = new_figure()
    series = groups(data)
    for i, (name, rows) in enumerate(series):
        plot_measured_and_bound(ax, rows.sort_values("x"), COLORS[i % len(COLORS)], name)
    if meta.get("fit"):
        draw_fit(ax, col(data, "x"), meta["fit"])
    if meta.get("trivial") is not None:
        ax.axhline(
            float(meta["trivial"]),
            color="#777777",
            ls=":",
            lw=1.3,
            label=f"trivial value ({fmt(meta['trivial'])}): vacuous above",
        )
    mark_worst(ax, meta.get("worst"))
    scales(ax, meta.get("logx", True), meta.get("logy", True))
    ax.set_xlabel(meta.get("x_label", "x"))
    ax.set_ylabel(meta.get("y_label", "value"))
    ax.set_title(title)
    tidy_log_ticks(ax)
    legend_below(fig, [ax], style_proxies() if series[0][0] is not None else ([], []))
    x_name = meta.get("x_label", "x").split(" ")[0]
    notes = [exponent_text(meta["fit"], x_name) if meta.get("fit") else ""]
    if meta.get("claimed_exponent") is not None:
        notes.append(f"claimed exponent: {meta['claimed_exponent']}")
    corner_text(ax, notes)
    return fig


def plot_measured_and_bound(ax: Axes, rows: pd.DataFrame, color: str, name: str | None) -> None:
    """One series: measured (solid, with its band), bound (dashed), points above the bound ringed.

    Args:
        ax: the axes.
        rows: the series' rows, sorted by x.
        color: its colour.
        name: the series name (None: a single series, labelled measured/bound).
    """
    x = col(rows, "x")
    ax.plot(
        x, col(rows, "measured"), color=color, marker="o", ms=4, lw=1.5, label=name if name is not None else "measured"
    )
    if "measured_low" in rows.columns and "measured_high" in rows.columns:
        ax.fill_between(x, col(rows, "measured_low"), col(rows, "measured_high"), color=color, alpha=0.18, lw=0)
    ax.plot(x, col(rows, "bound"), color=color, ls="--", lw=1.5, label=None if name is not None else "bound")
    if "exceeds" in rows.columns:
        over = np.array([bool(v) and not pd.isna(v) for v in rows["exceeds"]], dtype=bool)
        if over.any():
            ax.scatter(
                x[over],
                col(rows, "measured")[over],
                s=90,
                facecolors="none",
                edgecolors="#c62828",
                linewidths=1.6,
                zorder=5,
                label="exceeds the bound",
            )


def mark_worst(ax: Axes, worst: Mapping[str, Any] | None) -> None:
    """Star the worst point.

    Args:
        ax: the axes.
        worst: {x, measured}, or None (nothing drawn).
    """
    if not worst or worst.get("x") is None or worst.get("measured") is None:
        return
    x, y = float(worst["x"]), float(worst["measured"])
    ax.scatter(
        [x], [y], marker="*", s=160, color="#ffb000", edgecolors="black", linewidths=0.6, zorder=6, label="worst point"
    )


def style_proxies() -> tuple[list, list]:
    """With named series the colours name the series; these say solid = measured, dashed = bound.

    Returns:
        (handles, labels) for legend_below.
    """
    handles = [Line2D([], [], color="black", marker="o", ms=4), Line2D([], [], color="black", ls="--")]
    return handles, ["measured (solid)", "bound (dashed)"]


# -- optimal rank against sample size ----------------------------------------------------------
def draw_rstar_vs_n(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """r* against N (log-log) with bands, the sqrt(N) and derived-exponent lines, the fit and min(m, n).

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "rstar_vs_n", data, ("n_samples", "rstar", "rstar_low", "rstar_high"))
    fig, (ax,) = new_figure()
    series = groups(data)
    for i, (name, rows) in enumerate(series):
        rows = rows.sort_values("n_samples")
        y = col(rows, "rstar")
        err = np.vstack([y - col(rows, "rstar_low"), col(rows, "rstar_high") - y])
        ax.errorbar(
            col(rows, "n_samples"),
            y,
            yerr=np.clip(err, 0, None),
            color=COLORS[i % len(COLORS)],
            marker="o",
            ms=4,
            capsize=3,
            lw=1.4,
            label="r* measured" if name is None else f"r*: {name}",
        )
    first = series[0][1].sort_values("n_samples").iloc[0]
    n_grid = np.geomspace(col(data, "n_samples").min(), col(data, "n_samples").max(), 100)
    reference_lines(ax, n_grid, float(first["n_samples"]), float(first["rstar"]), meta)
    if meta.get("fit"):
        draw_fit(ax, col(data, "n_samples"), meta["fit"], color="#444444")
    if meta.get("rank_max") is not None:
        ax.axhline(
            float(meta["rank_max"]),
            color="#555555",
            ls="--",
            lw=1.2,
            label=meta.get("rank_max_label") or f"r* <= min(m, n) = {fmt(meta['rank_max'])}",
        )
    scales(ax, True, True)
    ax.set_xlabel(meta.get("x_label", "N (training samples)"))
    ax.set_ylabel(meta.get("y_label", "optimal rank r*"))
    ax.set_title(title)
    tidy_log_ticks(ax)
    legend_below(fig, [ax])
    corner_text(
        ax,
        [
            exponent_text(meta["fit"], "N") if meta.get("fit") else "",
            f"derived exponent: {fmt(meta['theory_exponent'])}" if meta.get("theory_exponent") is not None else "",
        ],
        loc="lower right",
    )
    return fig


def reference_lines(ax: Axes, n_grid: np.ndarray, n0: float, r0: float, meta: dict) -> None:
    """c * N^e through the first measured point, for e = 1/2 and the derived exponent.

    Args:
        ax: the axes.
        n_grid: the N values to draw over.
        n0: the first point's N.
        r0: the first point's r* (nothing is drawn unless n0 and r0 are positive).
        meta: sqrt_reference and theory_exponent say which lines.
    """
    if not (n0 > 0 and r0 > 0):
        return
    if meta.get("sqrt_reference"):
        ax.plot(
            n_grid,
            r0 * (n_grid / n0) ** 0.5,
            color="#888888",
            ls=":",
            lw=1.5,
            label="c sqrt(N) (the paper's r* = O(sqrt N))",
        )
    if meta.get("theory_exponent") is not None:
        e = float(meta["theory_exponent"])
        ax.plot(
            n_grid,
            r0 * (n_grid / n0) ** e,
            color="#2ca02c",
            ls="--",
            lw=1.3,
            label=f"c N^{fmt(e)}: derived for the planted/measured spectrum",
        )


def draw_rstar_growth(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """r*(N) with its band and theory's finite-size r*, plus the three fitted growth laws (meta laws:
    {law: {n_samples, rstar, aicc}}; best, identified, delta_aicc, evidence). Semi-log x, so a
    logarithm is a straight line and a power law bends upwards.

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "rstar_growth", data, ("n_samples", "rstar", "rstar_low", "rstar_high"))
    fig, (ax,) = new_figure()
    for i, (name, rows) in enumerate(groups(data)):
        rows = rows.sort_values("n_samples")
        y = col(rows, "rstar")
        err = np.clip(np.vstack([y - col(rows, "rstar_low"), col(rows, "rstar_high") - y]), 0, None)
        ax.errorbar(
            col(rows, "n_samples"),
            y,
            yerr=err,
            color=COLORS[i % len(COLORS)],
            marker="os"[i % 2],
            ms=4,
            capsize=3,
            lw=0 if i else 1.2,
            label="r*" if name is None else f"r*: {name}",
        )
    styles = {"power_law": ("-", "#2ca02c"), "logarithm": ("--", "#9467bd"), "constant": (":", "#7f7f7f")}
    for law, curve in (meta.get("laws") or {}).items():
        ls, color = styles.get(law, ("-.", "black"))
        best = " (best)" if law == meta.get("best") else ""
        ax.plot(
            curve["n_samples"],
            curve["rstar"],
            ls=ls,
            color=color,
            lw=1.6 if best else 1.1,
            label=f"{law.replace('_', ' ')} fit, AICc {fmt(curve.get('aicc'))}{best}",
        )
    rank_max = meta.get("rank_max")
    if rank_max is not None and float(rank_max) <= 2 * np.nanmax(col(data, "rstar_high")):
        ax.axhline(float(rank_max), color="#555555", ls="--", lw=1.0, label=f"r* <= min(m, n) = {fmt(rank_max)}")
    scales(ax, True, False)
    ax.set_xlabel(meta.get("x_label", "N (training samples)"))
    ax.set_ylabel(meta.get("y_label", "optimal rank r*"))
    ax.set_title(title)
    legend_below(fig, [ax])
    lines = [f"min(m, n) = {fmt(rank_max)}" if rank_max is not None else ""]
    if meta.get("best") is not None:
        state = "identified" if meta.get("identified") else "not identified"
        lines = [
            f"best: {str(meta['best']).replace('_', ' ')} ({state})",
            f"AICc gap {fmt(meta.get('delta_aicc'))}: {meta.get('evidence', '')}",
            *lines,
        ]
    corner_text(ax, lines, loc="upper left")
    return fig


def draw_spectrum_null(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """Singular values per matrix (log-log) with the matching Gaussian matrix's expected values
    (column null, dotted), its spike threshold (meta edges[series].threshold, dashed) and the
    spikes (column spike, filled markers).

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "spectrum_null", data, ("k", "s", "null", "spike"))
    fig, (ax,) = new_figure()
    edges = meta.get("edges") or {}
    for i, (name, rows) in enumerate(groups(data)):
        rows = rows.sort_values("k")
        color = COLORS[i % len(COLORS)]
        spike = rows["spike"].to_numpy(dtype=bool)
        info = edges.get(name, {})
        label = "singular values" if name is None else f"{name}: {info.get('n_spikes', int(spike.sum()))} spikes"
        ax.plot(
            col(rows, "k")[~spike], col(rows, "s")[~spike], color=color, marker="o", ms=2, lw=0, alpha=0.6, label=label
        )
        ax.plot(
            col(rows, "k")[spike], col(rows, "s")[spike], color=color, marker="o", ms=5, lw=0, markeredgecolor="black"
        )
        ax.plot(col(rows, "k"), col(rows, "null"), color=color, ls=":", lw=1.1)
        if info.get("threshold") is not None:
            ax.axhline(float(info["threshold"]), color=color, ls="--", lw=0.9)
    scales(ax, True, True)
    ax.set_xlabel(meta.get("x_label", "index k"))
    ax.set_ylabel(meta.get("y_label", "singular value s_k"))
    ax.set_title(title)
    tidy_log_ticks(ax)
    handles = [
        Line2D([], [], color="black", ls=":"),
        Line2D([], [], color="black", ls="--"),
        Line2D([], [], color="black", marker="o", ms=5, lw=0, markeredgecolor="black"),
    ]
    legend_below(fig, [ax], (handles, ["Gaussian null (same shape, scale)", "spike threshold (MP edge + TW)", "spike"]))
    return fig


# -- mutual information against clone loss -----------------------------------------------------
def draw_mi_vs_clone(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """MI estimates (top) and clone loss (bottom) over training steps, per series.

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "mi_vs_clone", data, ("step", "clone_loss"))
    estimates = [c for c in MI_COLUMNS if c in data.columns]
    if not estimates:
        raise ValueError(
            f"figure {title!r} (mi_vs_clone): missing data column: need at least one "
            f"of {list(MI_COLUMNS)}; has {list(data.columns)}"
        )
    fig, (top, bottom) = new_figure(height=5.2, nrows=2, sharex=True)
    series = groups(data)
    clipped = False
    for j, (name, rows) in enumerate(series):
        rows = rows.sort_values("step")
        style = ("-", "--", ":", "-.")[j % 4]
        suffix = "" if name is None else f" - {name}"
        for i, column in enumerate(estimates):
            values = col(rows, column)
            clipped |= bool(np.any(values < 0))
            top.plot(
                col(rows, "step"),
                np.clip(values, 0, None),
                color=COLORS[i % len(COLORS)],
                ls=style,
                marker=MARKERS[i % len(MARKERS)],
                ms=3,
                lw=1.3,
                label=MI_COLUMNS[column] + suffix,
            )
        bottom.plot(
            col(rows, "step"), col(rows, "clone_loss"), color="black", ls=style, lw=1.4, label="clone loss" + suffix
        )
    top.set_ylabel("MI estimate (nats)")
    top.set_title(title)
    notes = [
        f"Spearman(MI, clone loss) = {fmt(meta['spearman'], 2)}" if meta.get("spearman") is not None else "",
        "negative estimates shown as 0" if clipped else "",
    ]
    corner_text(top, notes, loc="lower right")
    bottom.set_ylabel("clone loss (MSE)")
    losses = col(data, "clone_loss")
    if meta.get("clone_logy", False) or (np.all(losses > 0) and losses.max() > 100 * losses.min()):
        bottom.set_yscale("log")  # losses spanning orders of magnitude (a student without cloning)
    bottom.set_xlabel(meta.get("x_label", "training step"))
    legend_below(fig, [top, bottom])
    return fig


# -- C3: MI per training arm, and MI against clone MSE ----------------------------------------------
def draw_mi_by_arm(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """One point per arm (label or arm on the x axis) with its interval bar; lr annotated.

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "mi_by_arm", data, ("arm", "mi", "mi_low", "mi_high"))
    fig, (ax,) = new_figure()
    y = col(data, "mi")
    err = np.clip(np.vstack([y - col(data, "mi_low"), col(data, "mi_high") - y]), 0, None)
    xs = np.arange(len(data))
    ax.errorbar(xs, y, yerr=err, fmt="o", color=COLORS[0], capsize=4, ms=5)
    names = data["label"] if "label" in data.columns else data["arm"]
    ax.set_xticks(xs, [str(n) for n in names], rotation=12, ha="right")
    if "lr" in data.columns:
        for x, value, lr in zip(xs, y, col(data, "lr")):
            ax.annotate(f"lr {fmt(lr, 2)}", (x, value), textcoords="offset points", xytext=(8, -3), fontsize=7.5)
    ax.set_ylabel(meta.get("y_label", "mutual information (nats)"))
    ax.set_title(title)
    return fig


def draw_mi_vs_mse(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """MI against clone MSE, one line per series, points labelled by `scale` when present (symlog x).

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "mi_vs_mse", data, ("clone_mse", "mi"))
    fig, (ax,) = new_figure()
    for i, (name, rows) in enumerate(groups(data)):
        rows = rows.sort_values("scale") if "scale" in rows.columns else rows
        x, y = col(rows, "clone_mse"), col(rows, "mi")
        ax.plot(
            x,
            y,
            color=COLORS[i % len(COLORS)],
            marker=MARKERS[i % len(MARKERS)],
            ms=4,
            lw=1.2,
            label="MI" if name is None else str(name),
        )
        if "scale" in rows.columns:
            for xi, yi, c in zip(x, y, col(rows, "scale")):
                ax.annotate(f"c={fmt(c, 2)}", (xi, yi), textcoords="offset points", xytext=(4, 4), fontsize=7)
    mse = col(data, "clone_mse")
    if np.any(mse > 0):  # symlog: an exact copy has clone MSE 0
        ax.set_xscale("symlog", linthresh=float(np.min(mse[mse > 0])))
    ax.set_xlabel(meta.get("x_label", "clone MSE E||h_S - h_T||^2"))
    ax.set_ylabel(meta.get("y_label", "mutual information (nats)"))
    ax.set_title(title)
    ax.legend(loc="best", framealpha=0.85)
    return fig


# -- singular spectrum -------------------------------------------------------------------------
def draw_spectrum(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """Singular values with the fitted family (log-log for a power law, semi-log y for an exponential).

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "spectrum", data, ("k", "s"))
    family = str(meta.get("family", "power_law")).lower().replace("-", "_").replace(" ", "_")
    exponential = family.startswith("exp")
    fig, (ax,) = new_figure()
    for i, (name, rows) in enumerate(groups(data)):
        rows = rows.sort_values("k")
        color = COLORS[i % len(COLORS)]
        label = "singular values" if name is None else str(name)
        ax.plot(col(rows, "k"), col(rows, "s"), color=color, marker="o", ms=2.5, lw=0, label=label)
        if "fitted" in rows.columns:
            ax.plot(
                col(rows, "k"),
                col(rows, "fitted"),
                color=color,
                lw=1.4,
                ls="--",
                label=f"fitted {family.replace('_', ' ')}" + ("" if name is None else f" ({name})"),
            )
    scales(ax, not exponential, True)
    ax.set_xlabel(meta.get("x_label", "index k"))
    ax.set_ylabel(meta.get("y_label", "singular value s_k"))
    ax.set_title(title)
    tidy_log_ticks(ax)
    ax.legend(loc="best", framealpha=0.85)
    corner_text(ax, spectrum_notes(family, meta))
    return fig


def spectrum_notes(family: str, meta: Mapping[str, Any]) -> list[str]:
    """The corner notes of a spectrum figure: family, alpha/beta with intervals, R^2.

    Args:
        family: the fitted family's name.
        meta: the figure's options (alpha, alpha_ci, beta, beta_ci, r2).

    Returns:
        The notes.
    """
    notes = [f"family: {family.replace('_', ' ')}"]
    for name in ("alpha", "beta"):
        if meta.get(name) is not None:
            ci = meta.get(f"{name}_ci")
            band = f" [{fmt(ci[0])}, {fmt(ci[1])}]" if ci is not None and len(ci) == 2 else ""
            notes.append(f"{name} = {fmt(meta[name])}{band}")
    if meta.get("r2") is not None:
        notes.append(f"R^2 = {fmt(meta['r2'])}")
    return notes


# -- estimator calibration ---------------------------------------------------------------------
def draw_estimate_vs_truth(title: str, data: pd.DataFrame, meta: dict) -> MplFigure:
    """Estimates against the exact value (colour: estimator, marker: dimension) with y = x.

    Args:
        title: the figure's title.
        data: the plotted table (columns as in this module's docstring).
        meta: the figure's options (keys as in this module's docstring).

    Returns:
        The matplotlib Figure (ValueError naming a missing column).
    """
    require_columns(title, "estimate_vs_truth", data, ("truth", "estimate"))
    fig, (ax,) = new_figure()
    frame = data.assign(estimator=data["estimator"].astype(str) if "estimator" in data.columns else "estimate")
    dims = list(dict.fromkeys(frame["d"])) if "d" in frame.columns else [None]
    for i, (name, rows) in enumerate(frame.groupby("estimator", sort=False)):
        for j, d in enumerate(dims):
            part = rows if d is None else rows[rows["d"] == d]
            ax.scatter(
                col(part, "truth"),
                col(part, "estimate"),
                color=COLORS[i % len(COLORS)],
                marker=MARKERS[j % len(MARKERS)],
                s=28,
                alpha=0.85,
                label=name if j == 0 else None,
            )
    values = np.concatenate([col(frame, "truth"), col(frame, "estimate")])
    values = values[np.isfinite(values)]
    lo, hi = min(0.0, values.min()), values.max()
    ax.plot([lo, hi], [lo, hi], color="black", lw=1, ls="--", label="y = x")
    handles, labels = ax.get_legend_handles_labels()
    if dims != [None]:
        handles += [Line2D([], [], color="#555555", marker=MARKERS[j % len(MARKERS)], lw=0) for j in range(len(dims))]
        labels += [f"d = {d}" for d in dims]
    ax.legend(handles, labels, loc="best", framealpha=0.85)
    ax.set_xlabel(meta.get("x_label", "true value"))
    ax.set_ylabel(meta.get("y_label", "estimate"))
    ax.set_title(title)
    return fig


DRAWERS: dict[str, Callable[[str, pd.DataFrame, dict], MplFigure]] = {
    "bound_vs_measured": draw_bound_vs_measured,
    "rstar_vs_n": draw_rstar_vs_n,
    "mi_vs_clone": draw_mi_vs_clone,
    "mi_by_arm": draw_mi_by_arm,
    "mi_vs_mse": draw_mi_vs_mse,
    "spectrum": draw_spectrum,
    "estimate_vs_truth": draw_estimate_vs_truth,
    "rstar_growth": draw_rstar_growth,
    "spectrum_null": draw_spectrum_null,
}
