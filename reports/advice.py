"""The figure of `lrkd advise`: the pilot's risk curves, and r*(N) carried out to the budget.

Left: held-out risk against width at each pilot budget (seed mean with a one-standard-error band,
r* ringed). Right: the pilot's r*(N) with its seed-bootstrap band (and, lighter, the flat range),
the growth laws with their bootstrap bands carried to the budget (the advised law solid, the other
candidates dashed), the advice at N with its interval, the paper's rule C sqrt(N) and the spectrum's
prediction. Drawn without pyplot (Agg canvas), from a validate.advice.Advice.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # harmless if pyplot is never imported; guards against interactive backends

import numpy as np
from matplotlib.figure import Figure

from lrkd.validate.advice import LAW_WORDS, Advice

STYLE = {
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "legend.fontsize": 7.5,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
LAW_COLORS = {"power_law": "#1f77b4", "logarithm": "#2ca02c", "constant": "#9467bd"}


def advice_figure(advice: Advice, *, title: str = "Rank advice") -> Figure:
    """The two-panel figure of an Advice.

    Args: advice, title. Returns: a matplotlib Figure (no pyplot state).
    """
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(11.0, 4.3), dpi=110, layout="constrained")
        left, right = fig.subplots(1, 2)
        _risk_panel(left, advice)
        _rstar_panel(right, advice)
        fig.suptitle(title)
    return fig


def write_advice_figure(advice: Advice, path: Path | str, *, title: str = "Rank advice") -> Path:
    """Draw the figure and write it as PNG.

    Args: advice, path (the .png file), title. Returns: the path written.
    """
    path = Path(path)
    advice_figure(advice, title=title).savefig(path, format="png", facecolor="white")
    return path


def _risk_panel(ax, advice: Advice) -> None:
    curves = advice.curves
    sizes = np.sort(curves["n_samples"].unique())
    colors = matplotlib.colormaps["viridis"](np.linspace(0.0, 0.85, sizes.size))
    for size, color in zip(sizes, colors):
        rows = curves[curves["n_samples"] == size].sort_values("width")
        width, mean, se = rows["width"].to_numpy(), rows["mean"].to_numpy(), rows["se"].to_numpy()
        ax.plot(width, mean, color=color, lw=1.2, label=f"N = {int(size):,}")
        ax.fill_between(width, np.clip(mean - se, mean * 0.5, None), mean + se, color=color, alpha=0.2, lw=0)
        best = advice.pilot.loc[advice.pilot["n_samples"] == size, "rstar"]
        if len(best):
            at = rows[rows["width"] == int(best.iloc[0])]
            ax.plot(at["width"], at["mean"], "o", mfc="none", mec=color, ms=7)
    ax.set_yscale("log")
    if curves["width"].max() / max(curves["width"].min(), 1) >= 16:
        ax.set_xscale("log")
    ax.set_xlabel("student width (rank)")
    ax.set_ylabel(f"held-out {advice.risk.replace('_', ' ')} (seed mean)")
    ax.set_title("pilot: risk against width (r* ringed)")
    ax.legend(loc="best", ncol=2)


def _rstar_panel(ax, advice: Advice) -> None:
    pilot = advice.pilot
    n = pilot["n_samples"].to_numpy(dtype=float)
    r = pilot["rstar"].to_numpy(dtype=float)
    ax.vlines(n, pilot["flat_low"], pilot["flat_high"], color="#bbbbbb", lw=6, alpha=0.6, label="flat range (1 SE)")
    err = np.clip(np.vstack([r - pilot["rstar_low"].to_numpy(float), pilot["rstar_high"].to_numpy(float) - r]), 0, None)
    used = pilot["used"].to_numpy(bool) if "used" in pilot else np.ones(n.size, dtype=bool)
    ax.errorbar(
        n[used], r[used], yerr=err[:, used], fmt="o", color="black", ms=4, capsize=2, label="pilot r* (seed band)"
    )
    if (~used).any():  # on an edge of the width grid: a bound on r*, left out of the law fit
        ax.errorbar(
            n[~used],
            r[~used],
            yerr=err[:, ~used],
            fmt="o",
            mfc="white",
            color="black",
            ms=4,
            capsize=2,
            label="pilot r* on the grid's edge (not fitted)",
        )
    band = advice.band
    shown = advice.candidates or ((advice.growth.best,) if advice.growth is not None else ())
    for law in shown:
        if law not in LAW_WORDS or "law" not in band:  # "pilot": no law was fitted, there is no band
            continue
        rows = band[band["law"] == law]
        if not len(rows):
            continue
        solid = law == (advice.growth.best if advice.growth is not None else None)
        color = LAW_COLORS.get(law, "gray")
        ax.plot(rows["n_samples"], rows["rstar"], color=color, ls="-" if solid else "--", label=LAW_WORDS[law])
        ax.fill_between(rows["n_samples"], rows["low"], rows["high"], color=color, alpha=0.15 if solid else 0.08, lw=0)
    low, high = advice.interval
    ax.errorbar(
        [advice.budget],
        [advice.rank],
        yerr=[[advice.rank - low], [high - advice.rank]],
        fmt="*",
        color="#d62728",
        ms=13,
        capsize=4,
        label=f"advice: {advice.rank} [{low}, {high}]",
    )
    paper = advice.paper_rule
    if paper:
        ax.plot(
            [advice.budget * 0.93], [paper["rank"]], "s", color="#ff7f0e", ms=6, label=f"C sqrt(N): {paper['rank']}"
        )
    spectrum = advice.spectrum_prediction
    if spectrum.get("rank") is not None:
        ax.plot(
            [advice.budget * 1.07],
            [spectrum["rank"]],
            "^",
            color="#8c564b",
            ms=7,
            label=f"spectrum: {spectrum['rank']}",
        )
    widest = advice.widest.get("width")
    if widest is not None and high >= widest / 2:  # only where the advice comes near it
        ax.axhline(widest, color="gray", ls=":", lw=1, label=f"widest pilot width {widest}")
    ax.set_xscale("log")
    ax.set_yscale("log")  # a power law is a straight line
    ax.set_xlabel("budget N")
    ax.set_ylabel("r* (rank with the lowest held-out risk)")
    word = LAW_WORDS.get(advice.law, "no law identified")
    ax.set_title(f"r*(N) carried to N = {advice.budget:,} ({word})")
    ax.legend(loc="upper left")


CALIBRATION_HEADER = [
    "teacher",
    "true r* at N0 -> 4 N0 -> 16 N0",
    "cases",
    "advised rank within 5% of the best",
    "interval holds a rank within 1% of the best",
    "median interval width",
]


def calibration_rows(table) -> list[list[str]]:
    """The rows of validate.advice.calibrate_advice's table as text, in CALIBRATION_HEADER's order.

    Args:
        table: the DataFrame calibrate_advice returns.

    Returns:
        One list of cells per row.
    """
    return [
        [
            str(row.teacher),
            str(row.true_rstar),
            str(row.cases),
            f"{row.advised_within_5pct:.0%}",
            f"{row.interval_within_1pct:.0%}",
            f"{row.median_interval_width:g}",
        ]
        for row in table.itertuples()
    ]


def calibration_markdown(table) -> str:
    """The calibration table of validate.advice.calibrate_advice as Markdown (the README prints it;
    the report's section "Rank advice, calibrated" renders the same rows).

    Args:
        table: the DataFrame calibrate_advice returns.

    Returns:
        The Markdown table.
    """
    lines = ["| " + " | ".join(CALIBRATION_HEADER) + " |", "|" + "---|" * len(CALIBRATION_HEADER)]
    lines += ["| " + " | ".join(cells) + " |" for cells in calibration_rows(table)]
    return "\n".join(lines)
