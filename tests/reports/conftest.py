"""Fixtures for the report tests: hand-made Figure and Verdict records.

These are test fixtures only: made-up numbers shaped like validate/'s output, used to check
that reports/ draws and renders what it is given. No report ever reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from lrkd.validate.engine.verdict import Figure, Verdict


@dataclass(frozen=True)
class FakeSymbol:
    name: str
    meaning: str
    domain: str


@dataclass(frozen=True)
class FakeClaim:
    """Stand-in with the attributes reports/render.py reads from a theory Claim."""

    id: str
    title: str
    wording: str
    reading: str
    latex_text: str
    paper: bool = True
    kind: str = "upper_bound"
    source: str = "abstract of arXiv 2603.22355"
    assumptions: tuple[str, ...] = ("f is L-smooth",)
    symbols: tuple[FakeSymbol, ...] = field(default_factory=tuple)

    def latex(self) -> str:
        return self.latex_text


def bound_figure(series: bool = True) -> Figure:
    T = np.array([100, 200, 400, 800, 1600, 3200], dtype=float)
    frames = []
    for name, scale in (("rank 4", 1.0), ("rank 16", 0.6)) if series else ((None, 1.0),):
        measured = scale * 3.0 / T**0.9
        frame = pd.DataFrame(
            {
                "x": T,
                "measured": measured,
                "measured_low": measured * 0.8,
                "measured_high": measured * 1.25,
                "bound": scale * 40 / np.sqrt(T),
                "exceeds": [False] * 5 + [name == "rank 16"],
            }
        )
        if name is not None:
            frame["series"] = name
        frames.append(frame)
    return Figure(
        "bound_vs_measured",
        "min_t ||grad f||^2 against the Ghadimi-Lan bound",
        pd.concat(frames, ignore_index=True),
        {
            "x_label": "T (optimizer steps)",
            "y_label": "min_t ||grad f(P_t)||^2",
            "fit": {"exponent": -0.9, "ci": [-0.97, -0.83], "intercept": float(np.log(3.0))},
            "claimed_exponent": "-1/2",
            "worst": {"x": 3200.0, "measured": 3.0 / 3200**0.9},
            "trivial": 2.0,
        },
    )


def rstar_figure() -> Figure:
    N = np.array([250, 500, 1000, 2000, 4000, 8000], dtype=float)
    r = np.round(1.3 * N**0.5)
    return Figure(
        "rstar_vs_n",
        "optimal rank r* against N (power-law teacher, alpha = 1)",
        pd.DataFrame({"n_samples": N, "rstar": r, "rstar_low": r - 2, "rstar_high": r + 3}),
        {
            "fit": {"exponent": 0.49, "ci": [0.42, 0.56], "intercept": float(np.log(1.3))},
            "sqrt_reference": True,
            "theory_exponent": 0.5,
            "rank_max": 128,
        },
    )


def mi_figure() -> Figure:
    step = np.arange(0, 500, 50, dtype=float)
    frames = []
    for name, rate in (("clone (alpha=0.5)", 1.0), ("no clone (alpha=0)", 0.3)):
        loss = 1.0 * np.exp(-rate * step / 150) + 0.05
        frames.append(
            pd.DataFrame(
                {
                    "step": step,
                    "clone_loss": loss,
                    "mi_gaussian": 2.5 - 2 * loss,
                    "mi_ksg": 2.0 - 2 * loss - 0.05,
                    "mi_lower_bound": 1.8 - 2.2 * loss,
                    "series": name,
                }
            )
        )
    return Figure(
        "mi_vs_clone",
        "MI estimates and clone loss during training",
        pd.concat(frames, ignore_index=True),
        {"spearman": -0.97},
    )


def spectrum_figure() -> Figure:
    k = np.arange(1, 65, dtype=float)
    s = 5.0 * k**-1.0 * np.exp(np.random.default_rng(0).normal(0, 0.05, k.size))
    return Figure(
        "spectrum",
        "teacher singular spectrum",
        pd.DataFrame({"k": k, "s": s, "fitted": 5.0 / k}),
        {"family": "power_law", "alpha": 1.01, "alpha_ci": [0.98, 1.04], "r2": 0.993},
    )


def estimate_figure() -> Figure:
    truth = np.array([0.1, 0.5, 1.0, 2.0, 3.0] * 2)
    rows = []
    for est, bias in (("gaussian", 1.0), ("ksg", 0.7)):
        for i, t in enumerate(truth):
            rows.append({"truth": t, "estimate": t * bias, "estimator": est, "d": 2 if i < 5 else 16})
    return Figure(
        "estimate_vs_truth",
        "MI estimators against the exact Gaussian MI",
        pd.DataFrame(rows),
        {"x_label": "exact MI (nats)", "y_label": "estimated MI (nats)"},
    )


def mi_arm_figure() -> Figure:
    data = pd.DataFrame(
        {
            "arm": ["noisy", "kd", "kd_clone"],
            "label": ["(a) noisy", "(b) KD", "(c) KD + clone"],
            "mi": [2.5, 2.7, 3.3],
            "mi_low": [2.45, 2.65, 3.25],
            "mi_high": [2.55, 2.75, 3.35],
            "lr": [0.003, 0.01, 0.003],
        }
    )
    return Figure("mi_by_arm", "C3: MI per arm", data, {"y_label": "MI (nats)"})


def mi_mse_figure() -> Figure:
    scale = np.array([0.5, 1.0, 2.0, 4.0])
    data = pd.DataFrame(
        {
            "series": ["clone student"] * 4,
            "scale": scale,
            "clone_mse": (scale - 1) ** 2 * 4 + 0.5,
            "mi": np.log1p(4 * scale),
        }
    )
    return Figure("mi_vs_mse", "C3: MI is not monotone in clone MSE", data)


def rstar_growth_figure() -> Figure:
    N = np.geomspace(256, 16384, 7)
    r = np.floor(1 + np.log(N / 256) / 0.6)
    laws = {
        law: {"n_samples": N.tolist(), "rstar": curve.tolist(), "aicc": aicc}
        for law, curve, aicc in (
            ("power_law", 0.9 * (N / 256) ** 0.35, 14.0),
            ("logarithm", 1 + np.log(N / 256) / 0.6, 4.0),
            ("constant", np.full(7, 4.0), 90.0),
        )
    }
    return Figure(
        "rstar_growth",
        "r* against N with three growth laws",
        pd.DataFrame({"n_samples": N, "rstar": r, "rstar_low": r - 1, "rstar_high": r + 1}),
        {
            "laws": laws,
            "best": "logarithm",
            "identified": True,
            "delta_aicc": 10.0,
            "evidence": "decisive",
            "rank_max": 64,
        },
    )


def spectrum_null_figure() -> Figure:
    k = np.arange(1, 65, dtype=float)
    null = 0.32 * np.sqrt(np.clip(1 - (k - 0.5) / 64, 0, 1)) + 0.01
    s = np.where(k <= 4, 2.0 / k, null)
    return Figure(
        "spectrum_null",
        "singular values against the Gaussian null",
        pd.DataFrame({"k": k, "s": s, "null": null, "spike": k <= 4, "series": "W"}),
        {"edges": {"W": {"threshold": 0.4, "mp_edge": 0.33, "n_spikes": 4, "family": "too_few_spikes"}}},
    )


ALL_FIGURES = (
    bound_figure,
    rstar_figure,
    mi_figure,
    spectrum_figure,
    estimate_figure,
    mi_arm_figure,
    mi_mse_figure,
    rstar_growth_figure,
    spectrum_null_figure,
)


def fake_claims() -> list[FakeClaim]:
    syms = (FakeSymbol("T", "optimizer steps", "T in (0, inf)"), FakeSymbol("L", "smoothness", "L in (0, inf)"))
    return [
        FakeClaim(
            "generalization",
            "C2 generalization",
            "error scales as O(r(m+n)/sqrt(n))",
            "Gap <= C r (m+n) / sqrt(N)",
            r"y \leq \frac{C r \left(m + n\right)}{\sqrt{N}}",
        ),
        FakeClaim(
            "convergence",
            "C1 convergence",
            "preserves the optimization dynamics, yielding rates of $O(1/\\sqrt{T})$",
            "min_t E||grad f||^2 <= 4 L Delta/T + 2 sigma sqrt(2 L Delta / T)",
            r"G \leq \frac{4 \Delta L}{T} + \frac{2 \sqrt{2} \sqrt{\Delta} \sqrt{L} \sigma}{\sqrt{T}}",
            symbols=syms,
        ),
        FakeClaim(
            "optimal_rank",
            "C4 optimal rank",
            "r* = O(sqrt(n))",
            "r* grows as sqrt(N)",
            r"r^{*} \asymp C \sqrt{N}",
            kind="exponent",
        ),
        FakeClaim(
            "rrr_fast_rate",
            "Reduced-rank regression fast rate",
            "",
            "excess risk ~ sigma^2 r(m+n-r)/N",
            r"y \leq \frac{\sigma^{2} r \left(m + n - r\right)}{N}",
            paper=False,
        ),
    ]


def fake_verdicts() -> list[Verdict]:
    return [
        Verdict(
            "convergence",
            "sgd_quadratic",
            "not_tight",
            "Every point is under the bound; the measured decay T^-0.90 is faster than T^-1/2.",
            {
                "exponent": -0.9,
                "exponent_ci": [-0.97, -0.83],
                "claimed_exponent": -0.5,
                "worst_ratio": 0.31,
                "n_points": 6,
                "seeds": 5,
            },
            worst_point={"T": 3200, "measured": 0.0021, "bound": 0.71},
            would_change="A point above the bound, or an exponent CI above -1/2.",
            notes=("Plain SGD with eta = min(1/L, eta*).",),
            figures=(bound_figure(), spectrum_figure()),
        ),
        Verdict(
            "convergence",
            "lrc_adam",
            "assumptions_not_met",
            "LRC trains with Adam <and> clipping | not plain SGD, so the bound's hypotheses fail.",
            {"optimizer": "adam", "clip": 1.0},
        ),
        Verdict(
            "generalization",
            "rrr_synthetic",
            "violated",
            "Point N=8000 exceeds the bound with C=1 by 3.2x (beyond its CI).",
            {
                "exponent": -1.02,
                "exponent_ci": [-1.1, -0.95],
                "claimed_exponent": -0.5,
                "worst_ratio": 3.2,
                "constant": np.float64(1.0),
                "nan_value": float("nan"),
            },
            worst_point={"N": 8000, "r": 16, "ratio": 3.2},
            would_change="A constant C >= 3.2 would make it hold.",
            figures=(estimate_figure(),),
        ),
        Verdict(
            "optimal_rank",
            "rank_sweep",
            "holds",
            "The fitted r* exponent 0.49 [0.42, 0.56] contains the claimed 1/2.",
            {"exponent": 0.49, "exponent_ci": [0.42, 0.56], "claimed_exponent": 0.5},
            figures=(rstar_figure(), mi_figure()),
        ),
    ]


def fake_calibration() -> list[Verdict]:
    return [
        Verdict(
            "planted_true_gl",
            "sgd_quadratic",
            "holds",
            "Ghadimi-Lan on a quadratic holds.",
            {"expected": "true", "correct": True},
        ),
        Verdict(
            "planted_false_t2",
            "sgd_quadratic",
            "violated",
            "Rate 1/T^2 is violated.",
            {"expected": "false", "correct": True},
        ),
        Verdict(
            "planted_false_c",
            "rrr_synthetic",
            "inconclusive",
            "Constant /100: too few sizes.",
            {"expected": "false", "correct": False},
        ),
        Verdict(
            "planted_mi_estimators",
            "gaussian_mi",
            "holds",
            "Gaussian MI estimate within 0.05 nats.",
            {"expected": "true", "correct": True},
            figures=(estimate_figure(),),
        ),
    ]


REQUIRED_COLUMNS = {
    bound_figure: ("x", "measured", "bound"),
    rstar_figure: ("n_samples", "rstar", "rstar_low", "rstar_high"),
    mi_figure: ("step", "clone_loss"),
    spectrum_figure: ("k", "s"),
    estimate_figure: ("truth", "estimate"),
    mi_arm_figure: ("arm", "mi", "mi_low", "mi_high"),
    mi_mse_figure: ("clone_mse", "mi"),
    rstar_growth_figure: ("n_samples", "rstar", "rstar_low", "rstar_high"),
    spectrum_null_figure: ("k", "s", "null", "spike"),
}


class Fixtures:
    """Factories of fixture records, handed to tests by the `fx` fixture."""

    bound_figure = staticmethod(bound_figure)
    rstar_figure = staticmethod(rstar_figure)
    mi_figure = staticmethod(mi_figure)
    spectrum_figure = staticmethod(spectrum_figure)
    estimate_figure = staticmethod(estimate_figure)
    all_figures = ALL_FIGURES
    claims = staticmethod(fake_claims)
    verdicts = staticmethod(fake_verdicts)
    calibration = staticmethod(fake_calibration)
    FakeClaim = FakeClaim
    FakeSymbol = FakeSymbol


@pytest.fixture(scope="session")
def fx():
    return Fixtures


@pytest.fixture(params=ALL_FIGURES, ids=lambda f: f.__name__)
def each_figure(request) -> Figure:
    """One Figure record of every kind."""
    return request.param()


@pytest.fixture(
    params=[(m, c) for m, cols in REQUIRED_COLUMNS.items() for c in cols], ids=lambda mc: f"{mc[0]().kind}-{mc[1]}"
)
def figure_and_required_column(request) -> tuple[Figure, str]:
    make, column = request.param
    return make(), column


@pytest.fixture
def verdicts():
    return fake_verdicts()


@pytest.fixture
def claims():
    return fake_claims()


@pytest.fixture
def calibration():
    return fake_calibration()
