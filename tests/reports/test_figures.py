"""reports/figures.py: every figure kind draws from a small frame; bad data fails clearly."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure as MplFigure

from lrkd.reports import figures
from lrkd.validate.engine.verdict import FIGURE_KINDS, Figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def with_data(fig: Figure, data, **meta) -> Figure:
    return Figure(fig.kind, fig.title, data, {**fig.meta, **meta})


def line(fig: MplFigure, label_start: str):
    for ax in fig.axes:
        for ln in ax.get_lines():
            if ln.get_label().startswith(label_start):
                return ln
    raise AssertionError(f"no line labelled {label_start!r}")


def test_every_kind_has_a_drawer_and_a_fixture(fx):
    assert set(figures.DRAWERS) == set(FIGURE_KINDS)
    assert {make().kind for make in fx.all_figures} == set(FIGURE_KINDS)


def test_each_kind_draws_to_png(each_figure):
    fig = figures.draw(each_figure)
    assert isinstance(fig, MplFigure)
    assert fig.axes[0].get_title() == each_figure.title
    png = figures.png_bytes(fig)
    assert png.startswith(PNG_SIGNATURE) and len(png) > 5000


def test_missing_column_is_named(figure_and_required_column):
    fig, column = figure_and_required_column
    with pytest.raises(ValueError, match=f"missing data column '{column}'"):
        figures.draw(with_data(fig, fig.data.drop(columns=[column])))


def test_mi_figure_needs_an_mi_column(fx):
    fig = fx.mi_figure()
    data = fig.data[["step", "clone_loss", "series"]]
    with pytest.raises(ValueError, match="mi_gaussian"):
        figures.draw(with_data(fig, data))


def test_unknown_kind_and_empty_data_are_errors(fx):
    with pytest.raises(ValueError, match="figure kind"):
        figures.draw(SimpleNamespace(kind="pie", title="t", data=fx.bound_figure().data, meta={}))
    fig = fx.bound_figure()
    with pytest.raises(ValueError, match="no rows"):
        figures.draw(with_data(fig, fig.data.iloc[:0]))


def test_minimal_bound_figure_draws_without_optional_columns_or_meta(fx):
    data = fx.bound_figure(series=False).data[["x", "measured", "bound"]]
    fig = figures.draw(Figure("bound_vs_measured", "minimal", data))
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    np.testing.assert_allclose(line(fig, "bound").get_ydata(), data["bound"])


def test_linear_axes_on_request(fx):
    fig = figures.draw(with_data(fx.bound_figure(), fx.bound_figure().data, logx=False, logy=False))
    assert fig.axes[0].get_xscale() == "linear" and fig.axes[0].get_yscale() == "linear"


def test_fitted_line_follows_the_fit_parameters(fx):
    src = fx.bound_figure()
    fit = src.meta["fit"]
    ln = line(figures.draw(src), "fitted power law")
    x = np.asarray(ln.get_xdata())
    np.testing.assert_allclose(ln.get_ydata(), np.exp(fit["intercept"]) * x ** fit["exponent"], rtol=1e-12)
    assert x.min() == pytest.approx(src.data["x"].min()) and x.max() == pytest.approx(src.data["x"].max())


def test_rstar_reference_lines_pass_through_the_first_point(fx):
    src = fx.rstar_figure()
    fig = figures.draw(src)
    first = src.data.sort_values("n_samples").iloc[0]
    for label in ("c sqrt(N)", "c N^"):
        ln = line(fig, label)
        assert ln.get_xdata()[0] == pytest.approx(first["n_samples"])
        assert ln.get_ydata()[0] == pytest.approx(first["rstar"])
    sqrt_line = line(fig, "c sqrt(N)")
    x, y = np.asarray(sqrt_line.get_xdata()), np.asarray(sqrt_line.get_ydata())
    assert np.log(y[-1] / y[0]) / np.log(x[-1] / x[0]) == pytest.approx(0.5)


def test_negative_mi_estimates_are_clipped_for_display_only(fx):
    src = fx.mi_figure()
    data = src.data.copy()
    data.loc[0, "mi_ksg"] = -0.4
    fig = figures.draw(with_data(src, data))
    assert min(np.min(ln.get_ydata()) for ln in fig.axes[0].get_lines()) >= 0
    assert data.loc[0, "mi_ksg"] == -0.4  # the caller's data is untouched
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "negative estimates shown as 0" in texts and "Spearman" in texts


@pytest.mark.parametrize("family,xscale", [("power_law", "log"), ("exponential", "linear")])
def test_spectrum_axes_follow_the_family(fx, family, xscale):
    src = fx.spectrum_figure()
    fig = figures.draw(with_data(src, src.data, family=family))
    assert fig.axes[0].get_xscale() == xscale and fig.axes[0].get_yscale() == "log"


def test_formula_png_typesets_latex_or_returns_none():
    assert figures.formula_png(r"y \leq \frac{C r \left(m + n\right)}{\sqrt{N}}").startswith(PNG_SIGNATURE)
    assert figures.formula_png(r"\frac{") is None
