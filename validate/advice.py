"""Rank advice: from a pilot sweep at small budgets to a student rank for a budget N (issue 21).

The paper promises "principled guidelines for rank selection" (r* = O(sqrt(N))). `advise` turns the
evidence lrkd already measures into a recommendation and says how sure it is:

1. Pilot. A sweep of widths x small budgets x seeds: held-out risk of every (width, N, seed).
   For a linear teacher (`parse_linear_spec`) that is closed-form reduced-rank regression through
   `simulate.rank_sweep` and the results store (`linear_pilot`, resumable); for a real teacher it
   is the real experiment's rank sweep (`real_pilot`: simulate.experiments.real.run_rank_grid, LRC
   from stored teacher outputs, held-out KL; the same cells as `lrc_real`, so a pilot and a report
   pointed at one store share them), read as the C4 verdict reads it (validate.claims.real).
2. r*(N) at each pilot budget with its seed-bootstrap band and its flat range (the ranks the
   seeds cannot tell from r*: validate.engine.rstar), and the growth law it follows (power law,
   logarithm or constant, by AICc: validate.engine.growth, whose criterion decides "identified").
   Only budgets whose r* lies strictly inside the width grid are fitted: on an edge r* is a bound.
   With fewer than four such budgets no law can be identified; with two or three the interval
   spans a power law through them and no further growth.
3. Extrapolation to N. Every seed resample of the pilot gives an r*(N) curve; each law is refitted
   to it and carried to N. The prediction interval is the central percentile interval of those
   extrapolations (the fit's uncertainty). With a law identified the interval is that law's; with
   none, it spans every candidate law (the choice of law): a law is a candidate unless its AICc
   is worse than the best's by IDENTIFY_DELTA and it wins fewer than CANDIDATE_WINS of the
   resamples (growth.py's identification gap read from the other side, or a law the resamples keep). r* does not
   fall as N grows, though a law fitted through noisy pilot r* may: the advice and its interval are
   held at or above the lower end of r*'s seed band at the largest pilot budget.
4. Flat risk. When the seeds cannot tell several ranks at the largest pilot budget from r*, every
   one of them is a good answer there; carried to N in proportion to the advised rank, that range
   joins the interval and the advice says so.
5. The widest width. Growth laws cannot see a change of branch: for a linear teacher with a heavy
   spectral tail the full-rank (least-squares) fit overtakes every truncation once the truncated r*
   nears min(m, n)/4 (theory.rank.spiked_rstar). So the seed-mean risk of the widest pilot width
   and the best risk over the other widths are each extrapolated to N (least squares of log risk on
   log N over the largest BRANCH_SIZES budgets, seed bootstrap), and when the widest width is
   predicted to win in at least the interval's level of the resamples, the advice moves there
   (near the crossing both branches are about equally good, and the narrower student is kept);
   when it wins in more resamples than the interval's upper tail, the interval reaches to it.
6. Beside it: the paper's rule r* = C sqrt(N) with C fitted on the pilot, and the spectrum's
   prediction (for a linear teacher: the pilot's least-squares fit at its largest budget set
   against the Marchenko-Pastur null, its spikes deconvolved through the spiked model and carried
   to N with theory.rank.spiked_rstar). The advice says where either falls outside its interval.

Calibration (`calibrate_advice`): synthetic teachers whose true excess-risk curve at N is known
to Monte Carlo precision (`true_excess_risk`: draws of the exact reduced-rank regression estimator
from its sufficient statistics, so the cost does not grow with N), pilots up to N0, targets
4 N0 and 16 N0. It reports how often the advised rank's excess risk is within 5% of the best
rank's and how often the interval holds a rank within 1% of the best.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd

from lrkd import theory
import lrkd.theory.rank  # noqa: F401 (theory.rank.spiked_rstar below)
from lrkd.config import to_dict
from lrkd.errors import InputError, require, require_int_in
from lrkd.simulate.experiments.real import LRC_QUICK, LRC_REAL, run_rank_grid
from lrkd.simulate.experiments.real import teacher_label as real_teacher_label
from lrkd.simulate.lrc.api import shared_teacher
from lrkd.simulate.lrc.teacher import KNOWN_TEACHERS
from lrkd.simulate.spectra import Exponential, LowRankPlusFloor, PowerLaw
from lrkd.simulate.sweeps import rank_sweep
from lrkd.simulate.teachers import LinearTeacher
from lrkd.validate.engine.fits import bootstrap_replicates, empty_slices_expected, expanded_level
from lrkd.validate.engine.growth import (
    IDENTIFY_DELTA,
    LAWS,
    ROUNDING_VARIANCE,
    GrowthFit,
    _fit_law,
    fit_growth_laws,
)
from lrkd.validate.engine.rstar import empirical_rstar, rstar_replicates
from lrkd.validate.engine.spectrum import compare_with_null, fit_spectrum
from lrkd.validate.claims.real import plateau_table, rank_evidence

__all__ = [
    "Advice",
    "PilotPlan",
    "TrueRisk",
    "HeldOutBudget",
    "advise",
    "advise_largest_budget",
    "real_run_advice",
    "calibrate_advice",
    "calibration_teachers",
    "check_budget",
    "default_linear_plan",
    "default_real_plan",
    "is_linear_spec",
    "linear_pilot",
    "linear_spectrum_prediction",
    "parse_linear_spec",
    "real_pilot",
    "sampled_rrr_pilot",
    "true_excess_risk",
]

CONFIDENCE = 0.95
N_RESAMPLES = 1000
MIN_LAW_SIZES = 4  # three laws with up to two parameters need four sizes (growth.py)
CANDIDATE_WINS = 0.2  # a law that wins this share of the pilot's seed resamples stays a candidate
BRANCH_SIZES = 4  # the largest pilot budgets the two risk envelopes are extrapolated from
PILOT_EXPERIMENT = "advise.linear_pilot"
# A real pilot is the lrc_real experiment's rank sweep at its quick settings: its cells cost minutes,
# so it may have fewer budgets than a law needs (advise then spans a power law and no growth), but
# no fewer than that experiment takes (RealConfig: at least 3 budgets).
REAL_PRESET = "quick"
REAL_MIN_BUDGETS = 3
REAL_RISK = "heldout_kl"  # the C4 verdict's risk on the real run (validate.claims.real)
REAL_OPTIONS = ("teacher_layers", "vocab", "text")
LAW_WORDS = {"power_law": "power law", "logarithm": "logarithm", "constant": "constant"}


# ---------------------------------------------------------------- the linear teacher spec

SPEC_PREFIX = "linear:"
SPEC_FORM = "linear:m=INT,n=INT,spectrum=KIND:VALUE[,noise=SIGMA][,seed=INT]"
SPECTRUM_FORMS = "power_law:ALPHA (ALPHA > 0), exponential:BETA (BETA > 0) or exact:RANK (1 <= RANK <= min(m, n))"
MAX_SPEC_WIDTH = 512  # the pilot sweeps every rank up to min(m, n): keep it seconds
SPEC_DEFAULTS = {"noise": 1.0, "seed": 0}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def is_linear_spec(teacher: str) -> bool:
    """True when TEACHER is a synthetic linear teacher written as a spec (starts with "linear:").

    Args: teacher (the command line's TEACHER). Returns: bool.
    """
    return isinstance(teacher, str) and teacher.strip().lower().startswith(SPEC_PREFIX)


def parse_linear_spec(spec: str) -> LinearTeacher:
    """The linear teacher a spec names, e.g. ``linear:m=64,n=64,spectrum=power_law:1.0,noise=1.0``.

    Keys: m, n (integers in [2, MAX_SPEC_WIDTH]); spectrum = power_law:ALPHA, exponential:BETA or
    exact:RANK (RANK singular values 1, the rest 0); noise (label noise sigma > 0, default 1);
    seed (the teacher's singular vectors, default 0). Inputs are isotropic Gaussian.

    Args:
        spec: the text.
    Returns:
        A simulate.LinearTeacher.
    Raises:
        InputError naming the field (teacher, teacher.m, teacher.spectrum, ...) and what is allowed.
    """
    require(is_linear_spec(spec), "teacher", f"a linear spec {SPEC_FORM}", spec)
    body = spec.strip()[len(SPEC_PREFIX) :]
    values: dict[str, str] = {}
    for part in body.split(","):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or not key or not value.strip():
            raise InputError("teacher", f"each entry must be KEY=VALUE ({SPEC_FORM}), got {part.strip()!r}")
        if key not in ("m", "n", "spectrum", "noise", "seed"):
            raise InputError("teacher", f"unknown key {key!r}; allowed: m, n, spectrum, noise, seed ({SPEC_FORM})")
        if key in values:
            raise InputError(f"teacher.{key}", "given twice")
        values[key] = value.strip()
    for key in ("m", "n"):  # a value given is checked before a missing key is named
        if key in values:
            _spec_int(values[key], f"teacher.{key}", 2, MAX_SPEC_WIDTH)
    for key in ("m", "n", "spectrum"):
        if key not in values:
            raise InputError(f"teacher.{key}", f"missing; a linear spec is {SPEC_FORM}")
    m = _spec_int(values["m"], "teacher.m", 2, MAX_SPEC_WIDTH)
    n = _spec_int(values["n"], "teacher.n", 2, MAX_SPEC_WIDTH)
    noise = _spec_float(values.get("noise", str(SPEC_DEFAULTS["noise"])), "teacher.noise", "a number > 0")
    seed = _spec_int(values.get("seed", str(SPEC_DEFAULTS["seed"])), "teacher.seed", 0, 2**31 - 1)
    spectrum = _spec_spectrum(values["spectrum"], min(m, n))
    return LinearTeacher(m, n, spectrum, noise=noise, seed=seed)


def _spec_int(text: str, field: str, low: int, high: int) -> int:
    ok = re.fullmatch(r"[+-]?\d+", text) is not None and low <= int(text) <= high
    require(ok, field, f"an integer in [{low}, {high}]", text)
    return int(text)


def _spec_float(text: str, field: str, allowed: str, low: float = 0.0, high: float = math.inf) -> float:
    ok = _NUMBER.fullmatch(text) is not None and low < float(text) <= high and math.isfinite(float(text))
    require(ok, field, allowed, text)
    return float(text)


def _spec_spectrum(text: str, max_rank: int):
    kind, sep, value = text.partition(":")
    kind = kind.strip().lower()
    require(bool(sep) and kind in ("power_law", "exponential", "exact"), "teacher.spectrum", SPECTRUM_FORMS, text)
    if kind == "power_law":
        return PowerLaw(_spec_float(value.strip(), "teacher.spectrum", SPECTRUM_FORMS, 0.0, 50.0))
    if kind == "exponential":
        return Exponential(_spec_float(value.strip(), "teacher.spectrum", SPECTRUM_FORMS, 0.0, 50.0))
    ok = re.fullmatch(r"\d+", value.strip()) is not None and 1 <= int(value) <= max_rank
    require(ok, "teacher.spectrum", f"exact:RANK with 1 <= RANK <= min(m, n) = {max_rank}", text)
    return LowRankPlusFloor(int(value), 1.0, 0.0)


def teacher_label(teacher: LinearTeacher) -> str:
    """A short description: "linear 64 x 64, power law alpha = 1, noise 1".

    Args: teacher. Returns: str.
    """
    s = teacher.spectrum
    spectrum = {
        "power_law": lambda: f"power law alpha = {getattr(s, 'alpha', 0):g}",
        "exponential": lambda: f"exponential beta = {getattr(s, 'beta', 0):g}",
        "low_rank_plus_floor": lambda: f"exact rank {getattr(s, 'rank', 0)}",
    }.get(s.kind, lambda: s.kind)()
    return f"linear {teacher.m} x {teacher.n}, {spectrum}, noise {teacher.noise:g}"


# ---------------------------------------------------------------- the pilot


@dataclass(frozen=True)
class PilotPlan:
    """The pilot grid: budgets N (at least `min_budgets`, increasing), seeds and student widths.
    `min_budgets` is MIN_LAW_SIZES (what a growth law needs) unless the pilot is costly (a real one:
    REAL_MIN_BUDGETS)."""

    budgets: tuple[int, ...]
    seeds: tuple[int, ...]
    widths: tuple[int, ...]
    min_budgets: int = MIN_LAW_SIZES

    def __post_init__(self):
        budgets = tuple(int(b) for b in self.budgets)
        least = self.min_budgets
        require(
            len(budgets) >= least and all(b > 0 for b in budgets) and len(set(budgets)) == len(budgets),
            "pilot budgets",
            f"at least {least} distinct positive integers"
            + (f" (a growth law needs {MIN_LAW_SIZES})" if least >= MIN_LAW_SIZES else ""),
            list(budgets),
        )
        require(len(self.seeds) >= 3, "seeds", "at least 3 (the bands bootstrap over seeds)", len(self.seeds))
        require(
            len(self.widths) >= 2 and len(set(self.widths)) == len(self.widths) and min(self.widths) >= 1,
            "widths",
            "at least 2 distinct student widths >= 1",
            list(self.widths),
        )
        object.__setattr__(self, "budgets", tuple(sorted(budgets)))
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        object.__setattr__(self, "widths", tuple(sorted(int(w) for w in self.widths)))


def default_linear_plan(teacher: LinearTeacher, *, n_seeds: int = 8, n_budgets: int = 6) -> PilotPlan:
    """The default pilot of a linear teacher: every rank 1..min(m, n); `n_budgets` doublings from the
    smallest power of two >= 4 n (least squares needs N > n + 1, and well above it the estimation
    noise is near its large-N form sigma^2 / N); seeds 0..n_seeds-1.

    Args: teacher, n_seeds (>= 3), n_budgets (>= 4). Returns: PilotPlan.
    """
    n_seeds = require_int_in(n_seeds, "seeds", 3, 64)
    n_budgets = require_int_in(n_budgets, "pilot budgets", MIN_LAW_SIZES, 12)
    start = 1 << max(6, math.ceil(math.log2(4 * teacher.n)))
    return PilotPlan(
        tuple(start << k for k in range(n_budgets)), tuple(range(n_seeds)), tuple(range(1, teacher.max_rank + 1))
    )


def check_budget(budget: Any, plan: PilotPlan) -> int:
    """The target budget N, which must lie above the pilot's largest budget (advice extrapolates).

    Args: budget, plan. Returns: int. Raises: InputError("budget", ...).
    """
    ok = isinstance(budget, (int, np.integer)) and not isinstance(budget, bool) and budget > max(plan.budgets)
    require(ok, "budget", f"an integer above the pilot's largest budget {max(plan.budgets)}", budget)
    return int(budget)


def linear_pilot(teacher: LinearTeacher, plan: PilotPlan, *, store=None, executor=None, progress=None) -> pd.DataFrame:
    """The pilot of a linear teacher: closed-form RRR at every (width, budget, seed), through the
    results store (a rerun reads finished cells back: resumable).

    Args: teacher, plan, store (ResultStore or path), executor, progress (bar on stderr).
    Returns: a simulate.rank_sweep frame (risk columns test_risk, excess_risk).
    """
    require(plan.budgets[0] > teacher.n + 1, "pilot budgets", f"all above n + 1 = {teacher.n + 1}", plan.budgets[0])
    require(plan.widths[-1] <= teacher.max_rank, "widths", f"at most min(m, n) = {teacher.max_rank}", plan.widths[-1])
    return rank_sweep(
        teacher,
        plan.widths,
        plan.budgets,
        seeds=plan.seeds,
        student="rrr",
        device="cpu",  # closed form, float64, small: the key should not depend on the machine
        store=store,
        executor=executor,
        progress=progress,
        experiment=PILOT_EXPERIMENT,
    )


def default_real_plan(
    *, budgets: Sequence[int] | None = None, n_seeds: int | None = None, widths: Sequence[int] | None = None
) -> PilotPlan:
    """The default pilot of a real teacher: the `lrc_real` experiment's quick preset (its budgets,
    seeds and widths), so that a pilot and a quick report pointed at one store share their cells.

    Args:
        budgets: pilot budgets in tokens (None: the preset's; at least REAL_MIN_BUDGETS).
        n_seeds: seeds 0..n_seeds-1 (None: the preset's seeds; at least 3).
        widths: student widths d_S (None: the preset's).
    Returns:
        PilotPlan (min_budgets = REAL_MIN_BUDGETS).
    """
    preset = LRC_REAL.config(REAL_PRESET)
    seeds = preset.seeds if n_seeds is None else tuple(range(require_int_in(n_seeds, "seeds", 3, 64)))
    return PilotPlan(
        tuple(preset.budgets if budgets is None else budgets),
        tuple(seeds),
        tuple(preset.widths if widths is None else widths),
        min_budgets=REAL_MIN_BUDGETS,
    )


def real_pilot(
    teacher: str, plan: PilotPlan, *, options: dict | None = None, store=None, progress=None
) -> pd.DataFrame:
    """The pilot of a real teacher: the `lrc_real` experiment's rank sweep
    (simulate.experiments.real.run_rank_grid) at the plan's budgets, seeds and widths, with the
    quick preset's LRC settings (LRC_QUICK: stored teacher outputs, its sequence length, batches,
    learning rate and epochs) and the user's teacher. Each (budget, seed) is one stored cell whose
    students of every width train `epochs` passes over one N-token set and are scored by held-out
    KL to the teacher; a rerun reads finished cells back (resumable), and cells a quick report
    stored in the same store are the same cells. The frame is validate.claims.real.rank_evidence's,
    so advice and the C4 verdict read r* from one table.

    Args:
        teacher: a known name (any case), a model folder or a .gguf file.
        plan: the pilot grid (default_real_plan).
        options: the teacher's reduction, keys of REAL_OPTIONS: teacher_layers (None: all layers),
            vocab ("full" unless "corpus") and text ("kjv" or a local file or folder); a key not
            given is the whole teacher (as in an LRC config), not the quick preset's reduction.
        store: results store or its path; its folder also holds the runs' checkpoints.
        progress: a progress bar over cells on stderr (None: when stderr is a terminal).
    Returns:
        The rank evidence (columns rank = d_S, n_samples = training-set tokens, seed, heldout_kl,
        heldout_lm_loss, epochs, diverged, plateau_change, ...); attrs: teacher (the label, with its
        reduction), d_T, max_rank (d_T - 1, the widest LRC student), lrc (the cells' base settings),
        experiment (the cells' store name) and epochs.
    """
    options = dict(options or {})
    unknown = sorted(set(options) - set(REAL_OPTIONS))
    require(not unknown, "options", f"keys among {', '.join(REAL_OPTIONS)}", unknown)
    name = teacher.lower() if teacher.lower() in KNOWN_TEACHERS else teacher  # one name, one cell key
    lrc = {**LRC_QUICK, "teacher": name, "teacher_layers": None, "vocab": "full", **options}
    config = LRC_REAL.config(REAL_PRESET, lrc=lrc)
    grid = run_rank_grid(
        config, budgets=plan.budgets, seeds=plan.seeds, widths=plan.widths, store=store, progress=progress
    )
    evidence = rank_evidence(grid.final, plateau_table(grid.steps, grid.final))
    loaded = shared_teacher(grid.lrc)  # in memory when the cells ran here; loaded when all were read back
    d_t = int(loaded.arch.d_model)
    evidence.attrs.update(
        teacher=real_teacher_label(loaded),
        d_T=d_t,
        max_rank=d_t - 1,
        lrc=to_dict(grid.lrc),
        experiment=grid.experiment,
        epochs=int(config.epochs),
    )
    return evidence


def sampled_rrr_pilot(
    singular_values: Any, *, m: int, n: int, noise: float, budgets: Sequence[int], seeds: Sequence[int], stream: int = 0
) -> pd.DataFrame:
    """A linear teacher's pilot drawn from the exact distribution of closed-form RRR (what
    `linear_pilot` runs), without forming the data: per seed the sufficient statistics X^T X and
    X^T E are accumulated over the budgets (nested, as rank_sweep's samples are). Used by the
    calibration, where hundreds of pilots are needed; equality in distribution with rank_sweep is
    tested.

    Args: singular_values of W_T, m, n, noise sigma, budgets (increasing, each > n + 1), seeds,
        stream (separates calibration replicates).
    Returns: a frame with columns rank, n_samples, seed, excess_risk (= ||W_r - W_T||_F^2).
    """
    budgets = sorted(int(b) for b in budgets)
    require(budgets[0] > n + 1, "budgets", f"all above n + 1 = {n + 1}", budgets[0])
    w_t = _diagonal_teacher(singular_values, m, n)
    rows = []
    for seed in seeds:
        gen = np.random.default_rng(np.random.SeedSequence([zlib.crc32(b"advice-pilot"), int(stream), int(seed)]))
        gram, cross, done = np.zeros((n, n)), np.zeros((n, m)), 0
        for budget in budgets:
            g_inc, c_inc = _draw_statistics(gen, budget - done, n, m, noise)
            gram, cross, done = gram + g_inc, cross + c_inc, budget
            risk = _rrr_risks(w_t, gram[None], cross[None])[0]
            rows += [
                {"rank": r + 1, "n_samples": budget, "seed": int(seed), "excess_risk": float(v)}
                for r, v in enumerate(risk)
            ]
    return pd.DataFrame.from_records(rows)


# ---------------------------------------------------------------- exact RRR risks by Monte Carlo


@dataclass(frozen=True)
class TrueRisk:
    """The expected excess risk E||W_r - W_T||_F^2 of rank-r RRR at one N, for every rank r, by
    Monte Carlo over `draws` exact draws; `gap` and `gap_se`: (risk_r - risk_best) / risk_best and
    its standard error from the paired draws."""

    n_samples: int
    mean: np.ndarray
    se: np.ndarray
    gap: np.ndarray
    gap_se: np.ndarray
    draws: int

    @property
    def best(self) -> int:
        """The rank with the lowest expected excess risk."""
        return int(np.argmin(self.mean)) + 1

    def within(self, tolerance: float) -> np.ndarray:
        """Ranks whose excess risk is within `tolerance` (relative) of the best's.

        Args: tolerance (e.g. 0.05). Returns: the ranks (1-based), increasing.
        """
        return np.flatnonzero(self.gap <= tolerance) + 1


def true_excess_risk(
    singular_values: Any, *, m: int, n: int, noise: float, n_samples: int, draws: int = 2000, seed: int = 0
) -> TrueRisk:
    """The true excess-risk curve of closed-form RRR at N for a linear teacher with isotropic
    Gaussian inputs, every rank at once.

    Exact in distribution, estimated by Monte Carlo: with G = X^T X ~ Wishart_n(N, I) drawn by
    Bartlett's decomposition G = A A^T and X^T E | G = sigma A Z (Z standard normal, n x m), RRR's
    fit depends on the data only through (G, X^T Y = G W_T^T + X^T E), so a draw costs O(n^3)
    whatever N. The risk depends on W_T only through its singular values (rotating x and y leaves
    the Gaussian data's law unchanged), so W_T is taken diagonal. Standard errors are reported.

    Args: singular_values (of W_T), m, n, noise sigma > 0, n_samples N > n + 1, draws, seed.
    Returns: TrueRisk.
    """
    require(n_samples > n + 1, "n_samples", f"above n + 1 = {n + 1}", n_samples)
    w_t = _diagonal_teacher(singular_values, m, n)
    gen = np.random.default_rng(np.random.SeedSequence([zlib.crc32(b"advice-truth"), int(seed), int(n_samples)]))
    chunks = []
    for start in range(0, draws, 250):  # bounded memory: (250, n, n) arrays at a time
        size = min(250, draws - start)
        gram, cross = _draw_statistics(gen, n_samples, n, m, noise, size)
        chunks.append(_rrr_risks(w_t, gram, cross))
    risks = np.concatenate(chunks)  # (draws, p)
    mean = risks.mean(0)
    best = int(np.argmin(mean))
    diff = risks - risks[:, [best]]
    gap = diff.mean(0) / mean[best]
    return TrueRisk(
        int(n_samples),
        mean,
        risks.std(0, ddof=1) / np.sqrt(draws),
        gap,
        diff.std(0, ddof=1) / np.sqrt(draws) / mean[best],
        int(draws),
    )


def _diagonal_teacher(singular_values: Any, m: int, n: int) -> np.ndarray:
    s = np.asarray(singular_values, dtype=np.float64)
    p = min(m, n)
    require(s.ndim == 1 and s.size >= p, "singular_values", f"at least min(m, n) = {p} values", s.shape)
    w_t = np.zeros((m, n))
    w_t[np.arange(p), np.arange(p)] = s[:p]
    return w_t


def _draw_statistics(gen: np.random.Generator, rows: int, n: int, m: int, noise: float, batch: int | None = None):
    """(X^T X, X^T E) of `rows` fresh Gaussian rows: Bartlett when rows >= n, else from the rows."""
    shape = () if batch is None else (batch,)
    if rows < n:
        x = gen.standard_normal((*shape, rows, n))
        e = noise * gen.standard_normal((*shape, rows, m))
        xt = np.swapaxes(x, -1, -2)
        return xt @ x, xt @ e
    a = np.zeros((*shape, n, n))
    low = np.tril_indices(n, -1)
    a[..., low[0], low[1]] = gen.standard_normal((*shape, low[0].size))
    a[..., np.arange(n), np.arange(n)] = np.sqrt(gen.chisquare(rows - np.arange(n), size=(*shape, n)))
    z = gen.standard_normal((*shape, n, m))
    return a @ np.swapaxes(a, -1, -2), noise * (a @ z)


def _rrr_risks(w_t: np.ndarray, gram: np.ndarray, noise_cross: np.ndarray) -> np.ndarray:
    """||W_r - W_T||_F^2 for r = 1..min(m, n) of RRR from (X^T X, X^T E), batched on axis 0.

    With L = chol(X^T X) and B = L^-1 X^T Y, the fitted values' Gram matrix is B^T B, so the
    right singular vectors V of B are RRR's output directions, W_ols^T = L^-T B, W_r = V_r V_r^T W_ols.
    """
    cross = gram @ w_t.T[None] + noise_cross  # X^T Y (batch, n, m)
    chol = np.linalg.cholesky(gram)
    b = np.linalg.solve(chol, cross)
    w_ols = np.swapaxes(np.linalg.solve(np.swapaxes(chol, -1, -2), b), -1, -2)  # (batch, m, n)
    _, _, vh = np.linalg.svd(b, full_matrices=False)  # (batch, k, m)
    p = min(w_t.shape)
    vh = vh[:, :p]
    coords = vh @ w_ols  # (batch, p, n): V_j^T W_ols
    kept = np.cumsum(np.sum(coords**2, axis=-1), axis=-1)
    overlap = np.cumsum(np.sum((vh @ w_t[None]) * coords, axis=-1), axis=-1)
    return np.sum(w_t**2) - 2.0 * overlap + kept


# ---------------------------------------------------------------- the advice


@dataclass(frozen=True)
class Advice:
    """A recommended rank at a budget, its interval, and the evidence behind it (module docstring).

    rank, interval: the advised rank and its prediction interval (integers, ends included).
    law: the identified growth law, or "unidentified"; candidates: the laws the interval spans.
    predictions: law -> {rank, low, high} at the budget (clipped to the width range).
    pilot: the empirical_rstar frame of the pilot (one row per budget), with `used` (in the law fit).
    curves: seed-mean risk (and its standard error) per (budget, width), for the figure.
    band: the advised law's r*(N) with its bootstrap band on a grid of N up to the budget.
    """

    rank: int
    interval: tuple[int, int]
    budget: int
    law: str
    candidates: tuple[str, ...]
    growth: GrowthFit | None
    predictions: dict[str, dict[str, float]]
    pilot: pd.DataFrame
    curves: pd.DataFrame
    band: pd.DataFrame
    flat: dict[str, Any]
    widest: dict[str, Any]
    paper_rule: dict[str, Any]
    risk: str
    width_range: tuple[int, int]
    confidence: float
    spectrum_prediction: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def identified(self) -> bool:
        """True when a growth law is identified (growth.py's criterion)."""
        return self.law != "unidentified"

    def law_text(self) -> str:
        """The law part of the one-line answer, e.g. "power law, exponent 0.41 [0.30, 0.52]"."""
        words = [LAW_WORDS.get(c, c) for c in self.candidates]
        spans = ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else "".join(words)
        if self.growth is None:
            if "pilot" in self.candidates:
                return "no growth law: r* inside the width grid at fewer than 2 pilot budgets"
            return f"no law identified: too few pilot budgets inside the width grid; spans {spans}"
        g = self.growth
        if self.law == "power_law":
            return f"power law, exponent {g.exponent:.2f} [{g.exponent_ci[0]:.2f}, {g.exponent_ci[1]:.2f}]"
        if self.law == "logarithm":
            return f"logarithm, r* = {g.laws['logarithm'].params['b']:.2f} log N + const"
        if self.law == "constant":
            return f"constant, r* = {g.laws['constant'].params['c']:.2f}"
        return f"no law identified: spans {spans}"

    def line(self, unit: str = "samples") -> str:
        """The one-line answer, e.g. `rank 24 [16, 40] for N = 1,000,000 tokens (power law, ...)`.

        Args: unit ("samples" for a linear teacher, "tokens" for a real one). Returns: str.
        """
        total = len(self.pilot)
        used = int(self.pilot["used"].sum()) if "used" in self.pilot else total
        budgets = f"{total} pilot budgets" + (f", {used} in the fit" if used < total else "")
        extra = "; the widest width predicted best" if self.widest.get("advised") else ""
        return (
            f"rank {self.rank} [{self.interval[0]}, {self.interval[1]}] for N = {self.budget:,} {unit} "
            f"({self.law_text()}, {budgets}{extra})"
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON record (`--json`): rank, rank_interval, budget, law, pilot, spectrum_prediction,
        paper_rule, and the rest of the evidence.

        Returns: a JSON-able dict.
        """
        g = self.growth
        pilot = [{k: _plain(v) for k, v in row.items()} for row in self.pilot.to_dict("records")]
        return {
            "rank": int(self.rank),
            "rank_interval": [int(self.interval[0]), int(self.interval[1])],
            "budget": int(self.budget),
            "law": self.law,
            "candidates": list(self.candidates),
            "confidence": self.confidence,
            "risk": self.risk,
            "width_range": list(self.width_range),
            "exponent": None if g is None else g.exponent,
            "exponent_ci": None if g is None else list(g.exponent_ci),
            "growth": None
            if g is None
            else {
                "best": g.best,
                "runner_up": g.runner_up,
                "delta_aicc": g.delta_aicc,
                "evidence": g.strength,
                "akaike_weights": g.weights,
                "bootstrap_wins": g.bootstrap_wins,
                "params": {law: fit.params for law, fit in g.laws.items()},
            },
            "predictions": self.predictions,
            "pilot": pilot,
            "flat": self.flat,
            "widest": self.widest,
            "paper_rule": self.paper_rule,
            "spectrum_prediction": self.spectrum_prediction,
            "notes": list(self.notes),
        }


def advise(
    sweep: pd.DataFrame,
    budget: int,
    *,
    risk: str = "excess_risk",
    max_rank: int | None = None,
    confidence: float = CONFIDENCE,
    n_resamples: int = N_RESAMPLES,
    seed: int = 0,
) -> Advice:
    """Advise a student rank for budget N from a pilot sweep (method: module docstring).

    Args:
        sweep: one row per (rank, n_samples, seed) with the `risk` column (a rank_sweep frame, or
            a real pilot's frame with widths as ranks).
        budget: the target N, above the pilot's largest budget.
        risk: the column to minimize (held-out).
        max_rank: the largest rank that can be advised (default: the widest pilot width).
        confidence: the interval's level (expanded for the number of seeds, as in fits.py).
        n_resamples: seed-bootstrap resamples.
        seed: the bootstrap's seed.
    Returns:
        Advice.
    """
    rstar = empirical_rstar(sweep, risk, confidence=confidence, n_resamples=n_resamples, seed=seed)
    sizes = rstar["n_samples"].to_numpy(dtype=np.float64)
    require(budget > sizes.max(), "budget", f"an integer above the pilot's largest budget {int(sizes.max())}", budget)
    widths = np.sort(sweep["rank"].unique())
    low_w, wide = int(widths[0]), int(widths[-1])
    max_rank = wide if max_rank is None else int(max_rank)
    n_seeds = int(rstar["n_seeds"].min())
    level = expanded_level(confidence, n_seeds, n_seeds - 1) if n_seeds > 2 else confidence
    reps = rstar_replicates(sweep, sizes, risk=risk, n_resamples=n_resamples, seed=seed)
    used = _law_sizes(rstar)
    rstar["used"] = used
    notes: list[str] = list(rstar.attrs.get("notes", []))
    limits = (low_w, max_rank)
    if used.sum() >= MIN_LAW_SIZES:
        growth, predictions, band = _extrapolate(rstar, reps, used, budget, level, limits, LAWS)
        law = growth.best if growth.identified else "unidentified"
        candidates = (growth.best,) if growth.identified else _candidates(growth)
        point = predictions[growth.best]["rank"]
        notes += list(growth.notes)
    elif used.sum() >= 2:
        # too few budgets to tell the laws apart: span continued growth (a power law) and none
        growth, law, candidates = None, "unidentified", ("power_law", "constant")
        _, predictions, band = _extrapolate(rstar, reps, used, budget, level, limits, candidates)
        point = predictions["power_law"]["rank"]
        notes.append(
            f"Only {int(used.sum())} pilot budgets have r* strictly inside the width grid ({MIN_LAW_SIZES} are needed "
            "to tell the growth laws apart; an r* on an edge only bounds r*): the interval spans a power law "
            "through them and no further growth."
        )
    else:
        growth, law, candidates, predictions, band = None, "unidentified", (), {}, pd.DataFrame()
        point = float(rstar["rstar"].iloc[-1])
        predictions["pilot"] = {"rank": point, "low": point, "high": float(max_rank)}
        candidates = ("pilot",)
        notes.append(
            f"{int(used.sum())} pilot budget(s) have r* strictly inside the width grid: no growth can be read; "
            "the advice is r* at the largest pilot budget and the interval runs to the widest rank."
        )
    low = min(predictions[c]["low"] for c in candidates)
    high = max(predictions[c]["high"] for c in candidates)
    # ranks are integers: the advice and the ends of its interval are the extrapolations, rounded
    rank = int(np.clip(round(point), low_w, max_rank))
    interval = [
        int(np.clip(min(round(low), rank), low_w, max_rank)),
        int(np.clip(max(round(high), rank), low_w, max_rank)),
    ]
    rank, interval, floor_note = _monotone_floor(rstar, rank, interval)
    notes.append(floor_note)
    # the flat range, scaled to the advice, joins the interval above the same floor
    flat = _flat_range(rstar, rank, (max(low_w, int(rstar["rstar_low"].iloc[-1])), max_rank))
    if flat["flat"]:
        interval = [min(interval[0], flat["at_budget"][0]), max(interval[1], flat["at_budget"][1])]
        notes.append(flat["sentence"])
    widest = _widest_check(sweep, risk, sizes, budget, wide, level, n_resamples, seed)
    if widest["advised"]:
        rank = wide
    # the interval is central at `level`: it leaves out an upper tail of (1 - level) / 2, and the widest
    # width belongs in it when it is the best rank in more resamples than that
    if widest["share"] > (1.0 - level) / 2 or widest["advised"]:
        # the widest pilot width winning says r* is there or beyond: up to max_rank when that is wider
        interval[1] = max(interval[1], wide if max_rank == wide else max_rank)
        notes.append(widest["sentence"])
    paper = _paper_rule(rstar, reps, used, budget, level, (low_w, max_rank), interval)
    return Advice(
        rank=rank,
        interval=(interval[0], interval[1]),
        budget=int(budget),
        law=law,
        candidates=tuple(candidates),
        growth=growth,
        predictions=predictions,
        pilot=rstar,
        curves=_risk_curves(sweep, risk),
        band=band,
        flat=flat,
        widest=widest,
        paper_rule=paper,
        risk=risk,
        width_range=(low_w, max_rank),
        confidence=confidence,
        notes=tuple(dict.fromkeys(n for n in notes if n)),
    )


def _monotone_floor(rstar: pd.DataFrame, rank: int, interval: list[int]) -> tuple[int, list[int], str]:
    """r* does not fall as N grows (more data never favours a narrower student: the estimation
    error a rank pays for shrinks with N), but a law fitted through noisy pilot r* can extrapolate
    downwards (a power law through r* = 32 then 16). The advice at N, above every pilot budget, is
    kept at or above the lower end of r*'s seed band at the largest pilot budget; the note says so
    when that moved it."""
    last = rstar.iloc[-1]
    floor = int(last["rstar_low"])
    if rank >= floor and interval[0] >= floor:
        return rank, interval, ""
    moved = max(rank, floor), [max(interval[0], floor), max(interval[1], floor)]
    note = (
        f"The extrapolation fell below r* at the largest pilot budget (N = {int(last['n_samples']):,}: r* = "
        f"{int(last['rstar'])}, band {int(last['rstar_low'])}..{int(last['rstar_high'])}); r* does not fall as N "
        f"grows, so the advice is held at or above {floor} (it was {rank} [{interval[0]}, {interval[1]}])."
    )
    return moved[0], moved[1], note


def _law_sizes(rstar: pd.DataFrame) -> np.ndarray:
    """Budgets whose r* lies strictly inside the width grid. On an edge r* only bounds the optimum
    (at the narrowest width, no wider student pays yet: r* may be smaller still), and a growth law
    fitted through such censored points misreads a jump (an exact-rank teacher's spikes rising above
    the noise) as growth."""
    return (rstar["at_edge"] == "").to_numpy()


def _candidates(growth: GrowthFit) -> tuple[str, ...]:
    """Laws the data do not rule out: within IDENTIFY_DELTA of the best AICc (growth.py's
    identification gap, from the other side), or winning at least CANDIDATE_WINS of the seed resamples."""
    best = growth.laws[growth.best].aicc
    keep = [
        law
        for law in LAWS
        if growth.laws[law].aicc - best < IDENTIFY_DELTA or growth.bootstrap_wins.get(law, 0.0) >= CANDIDATE_WINS
    ]
    return tuple(keep)


def _law_values(law: str, theta: np.ndarray, log_n: np.ndarray) -> np.ndarray:
    """r* of `law` with parameters theta (n_params, B) at log N (G,): (G, B)."""
    if law == "constant":
        return np.broadcast_to(theta[0], (log_n.size, theta.shape[1]))
    if law == "logarithm":
        return theta[0] + log_n[:, None] * theta[1]
    with np.errstate(over="ignore"):
        return np.exp(theta[0] + log_n[:, None] * theta[1])


def _extrapolate(rstar, reps, used, budget, level, limits, laws):
    """Fit `laws` on the used budgets and carry each to the budget with seed-bootstrap intervals,
    and each law's band over a grid of N up to the budget (for the figure). With MIN_LAW_SIZES
    budgets or more the growth laws are also compared (fit_growth_laws); with fewer, growth is None.
    Every fit is growth.py's weighted least squares (variance: seed bootstrap + rounding)."""
    sizes = rstar["n_samples"].to_numpy(dtype=np.float64)[used]
    observed = rstar["rstar"].to_numpy(dtype=np.float64)[used]
    reps_used = reps[used]
    with empty_slices_expected():
        variance = np.nan_to_num(np.nanvar(reps_used, axis=1), nan=0.0)
    growth = fit_growth_laws(sizes, observed, variance, reps_used) if sizes.size >= MIN_LAW_SIZES else None
    good = reps_used[:, np.all(np.isfinite(reps_used) & (reps_used > 0), axis=0)]
    x = np.log(sizes)
    w = 1.0 / (variance + ROUNDING_VARIANCE)
    grid = np.geomspace(sizes.min(), budget, 60)
    log_at = np.log(np.append(grid, float(budget)))
    tails = (50.0 * (1 - level), 50.0 * (1 + level))
    predictions, bands = {}, []
    for law in laws:
        center = np.clip(_law_values(law, _fit_law(law, x, observed[:, None], w), log_at)[:, 0], *limits)
        curves = np.clip(_law_values(law, _fit_law(law, x, good, w), log_at), *limits)  # (G + 1, B)
        if curves.shape[1]:
            low, high = np.percentile(curves, tails, axis=1)
        else:
            low, high = center, center
        point = float(center[-1])
        predictions[law] = {"rank": point, "low": float(min(low[-1], point)), "high": float(max(high[-1], point))}
        bands.append(
            pd.DataFrame({"law": law, "n_samples": grid, "rstar": center[:-1], "low": low[:-1], "high": high[:-1]})
        )
    return growth, predictions, pd.concat(bands, ignore_index=True)


def _flat_range(rstar: pd.DataFrame, rank: int, limits: tuple[int, int]) -> dict[str, Any]:
    """The ranks the seeds cannot tell from r* at the largest pilot budget (the one-standard-error
    rule of empirical_rstar), carried to the budget in proportion to the advised rank."""
    last = rstar.iloc[-1]
    r0, low, high = int(last["rstar"]), int(last["flat_low"]), int(last["flat_high"])
    scale = rank / max(r0, 1)
    target = (int(np.clip(round(low * scale), *limits)), int(np.clip(round(high * scale), *limits)))
    flat = high > low and target[1] > target[0]  # more than one rank, here and carried to the budget
    sentence = (
        f"The risk is flat near its minimum: at the largest pilot budget (N = {int(last['n_samples']):,}) ranks "
        f"{low}..{high} are within one standard error of the best (r* = {r0}); scaled to the advised rank that is "
        f"{target[0]}..{target[1]}, every one a good answer, and the interval includes them."
        if flat
        else ""
    )
    return {
        "flat": bool(flat),
        "at_pilot": [low, high],
        "pilot_budget": int(last["n_samples"]),
        "at_budget": list(target),
        "sentence": sentence,
    }


def _risk_cube(sweep: pd.DataFrame, risk: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(budgets, widths, values[budget, width, seed]) of the risk; NaN where a run is missing."""
    table = sweep.pivot_table(index=["n_samples", "rank"], columns="seed", values=risk, aggfunc="mean")
    sizes = np.sort(sweep["n_samples"].unique())
    widths = np.sort(sweep["rank"].unique())
    full = pd.MultiIndex.from_product([sizes, widths], names=["n_samples", "rank"])
    values = table.reindex(full).to_numpy(dtype=np.float64).reshape(sizes.size, widths.size, -1)
    return sizes.astype(np.float64), widths, values


def _risk_curves(sweep: pd.DataFrame, risk: str) -> pd.DataFrame:
    sizes, widths, values = _risk_cube(sweep, risk)
    with empty_slices_expected():
        mean = np.nanmean(values, axis=-1)
        se = np.nanstd(values, axis=-1, ddof=1) / np.sqrt(np.sum(np.isfinite(values), axis=-1))
    n_grid, w_grid = np.meshgrid(sizes, widths, indexing="ij")
    return pd.DataFrame({"n_samples": n_grid.ravel(), "width": w_grid.ravel(), "mean": mean.ravel(), "se": se.ravel()})


def _widest_check(sweep, risk, sizes, budget, wide, level, n_resamples, seed) -> dict[str, Any]:
    """Is the widest width predicted to beat every narrower one at the budget? Least squares of
    log(seed-mean risk) on log N over the largest BRANCH_SIZES budgets, for the widest width and for
    the best of the others; the share of seed resamples where the widest wins."""
    cube_sizes, widths, values = _risk_cube(sweep, risk)
    top = slice(max(0, cube_sizes.size - BRANCH_SIZES), None)
    x = np.log(cube_sizes[top])
    values = values[top]

    def log_gap(idx: np.ndarray) -> np.ndarray:
        with empty_slices_expected():
            mean = np.nanmean(values[:, :, idx], axis=-1)  # (n_N, n_w, ...)
        best_other = np.nanmin(mean[:, :-1], axis=1)
        widest = mean[:, -1]
        with np.errstate(divide="ignore", invalid="ignore"):
            diff = np.log(widest) - np.log(best_other)  # (n_N, ...)
        slope, intercept = _line(x, diff)
        return intercept + slope * math.log(budget)

    point = float(log_gap(np.arange(values.shape[-1])))
    boot = bootstrap_replicates(log_gap, values.shape[-1], n_resamples, seed=seed + 1)
    boot = boot[np.isfinite(boot)]
    share = float(np.mean(boot < 0)) if boot.size else 0.0
    # Near the crossing both branches are about equally good: move to the widest width only when
    # it wins in at least `level` of the resamples, and otherwise let the interval reach to it.
    advised = bool(point < 0 and share >= level and wide > widths[0])
    sentence = (
        f"The widest pilot width ({wide}) is predicted to beat every narrower one at N = {budget:,} "
        f"(its risk extrapolated to {math.exp(point):.2f} x the best other's; widest wins in {share:.0%} of seed "
        "resamples): a change of branch the growth laws cannot see (for a linear teacher, the full-rank fit)."
        if advised
        else f"The widest pilot width ({wide}) beats the narrower ones in {share:.1%} of the seed resamples carried "
        f"to N = {budget:,}, more than the interval's upper tail ({(1 - level) / 2:.1%}): the interval reaches to it."
    )
    return {"width": int(wide), "log_ratio": point, "share": share, "advised": advised, "sentence": sentence}


def _line(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """OLS slope and intercept of y (n, ...) on x (n,), per trailing index."""
    xc = x - x.mean()
    y_mean = y.mean(axis=0)
    slope = np.tensordot(xc, y - y_mean, axes=(0, 0)) / np.sum(xc**2)
    return slope, y_mean - slope * x.mean()


def _paper_rule(rstar, reps, used, budget, level, limits, interval) -> dict[str, Any]:
    """The paper's r* = C sqrt(N): C by least squares through the origin on the pilot's r*(N)
    (weights 1 / (seed variance + rounding)), its interval from the seed resamples."""
    sizes = rstar["n_samples"].to_numpy(dtype=np.float64)
    use = used if used.sum() else np.ones(sizes.size, dtype=bool)
    root = np.sqrt(sizes[use])
    with empty_slices_expected():
        w = 1.0 / (np.nan_to_num(np.nanvar(reps[use], axis=1), nan=0.0) + ROUNDING_VARIANCE)
    constant = float(np.sum(w * root * rstar["rstar"].to_numpy(dtype=np.float64)[use]) / np.sum(w * root**2))
    boot = np.nansum((w * root)[:, None] * reps[use], axis=0) / np.sum(w * root**2)
    tails = (50.0 * (1 - level), 50.0 * (1 + level))
    c_low, c_high = np.percentile(boot, tails)
    rank = int(np.clip(round(constant * math.sqrt(budget)), *limits))
    band = [
        int(np.clip(round(c_low * math.sqrt(budget)), *limits)),
        int(np.clip(round(c_high * math.sqrt(budget)), *limits)),
    ]
    inside = interval[0] <= rank <= interval[1]
    return {
        "C": constant,
        "C_interval": [float(c_low), float(c_high)],
        "rank": rank,
        "rank_interval": band,
        "inside_advice": bool(inside),
        "sentence": (
            f"The paper's rule r* = C sqrt(N) with C = {constant:.3g} fitted on the pilot gives {rank} "
            + (
                "(inside the advice interval)."
                if inside
                else f"(outside the advice interval {interval[0]}..{interval[1]})."
            )
        ),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


# ---------------------------------------------------------------- the spectrum's prediction


def linear_spectrum_prediction(
    teacher: LinearTeacher, pilot_budget: int, budget: int, interval: Sequence[int], *, seeds: Sequence[int]
) -> dict[str, Any]:
    """Theory's r* at the budget from the spectrum seen at the largest pilot budget.

    Per seed: the least-squares fit W_ols on the pilot's data (the same samples rank_sweep drew) is
    W_T plus a noise matrix of entry variance sigma^2 / (N - n - 1); compare_with_null finds its
    spikes above the Marchenko-Pastur bulk and the noise scale. Each spike y is deconvolved through
    the spiked model (y^2 = (x + 1/x)(x + b/x) in noise units, theory.rank.spiked_observed_sq). A
    decay family fitted to the deconvolved spikes (fit_spectrum) is carried past them only when it
    is consistent with what was not seen: its next value lies nearer (on the log scale) to the
    deconvolved spike threshold than to the last spike seen (an exact-rank teacher's flat spikes are
    not extended; a decaying tail is). Otherwise the spikes alone are used, a lower bound.
    theory.rank.spiked_rstar then gives r* at the budget with the estimated noise; the median over
    seeds is the prediction.

    Args: teacher, pilot_budget (the pilot's largest N), budget, interval (the advice's), seeds.
    Returns: a JSON-able dict: rank, per-seed ranks, spikes, family, inside_advice, sentence.
    """
    m, n, p = teacher.m, teacher.n, teacher.max_rank
    q, b = max(m, n), min(m, n) / max(m, n)
    ranks, spikes, families = [], [], []
    for seed in seeds:
        data = teacher.sample(pilot_budget, seed=int(seed))
        w_ols = np.linalg.lstsq(data.x, data.y, rcond=None)[0].T  # (m, n)
        observed = np.linalg.svd(w_ols, compute_uv=False)
        null = compare_with_null(observed, shape=(m, n))
        unit = null.scale * math.sqrt(q)
        signal = _deconvolve(observed[: null.n_spikes] / unit, b) * unit
        values, family = np.zeros(p), "spikes only"
        values[: signal.size] = signal
        if 3 <= signal.size < p:
            fit = fit_spectrum(signal)
            threshold = float(_deconvolve(null.threshold / unit, b)[()]) * unit
            unseen = float(fit.curve([signal.size + 1])[0]) <= math.sqrt(threshold * signal[-1])
            if unseen:
                values[signal.size :] = fit.curve(np.arange(signal.size + 1, p + 1))
                family = fit.family
        sigma = null.scale * math.sqrt(pilot_budget - n - 1)
        ranks.append(int(theory.rank.spiked_rstar(values, m=m, n=n, noise=sigma, sample_sizes=[budget])[0]))
        spikes.append(int(null.n_spikes))
        families.append(family)
    rank = int(np.median(ranks))
    inside = interval[0] <= rank <= interval[1]
    family = max(set(families), key=families.count)
    return {
        "method": "spikes of the pilot's least-squares fit above the Marchenko-Pastur bulk, deconvolved "
        "(spiked model) and carried to N by theory.rank.spiked_rstar",
        "rank": rank,
        "rank_range": [int(min(ranks)), int(max(ranks))],
        "per_seed": ranks,
        "spikes": int(np.median(spikes)),
        "family": family,
        "pilot_budget": int(pilot_budget),
        "inside_advice": bool(inside),
        "sentence": (
            f"The spectrum predicts r* = {rank} (median over {len(ranks)} seeds, range {min(ranks)}..{max(ranks)}; "
            f"{int(np.median(spikes))} spikes above the bulk at N = {pilot_budget:,}, extended as {family}) "
            + (
                "inside the advice interval."
                if inside
                else f"outside the advice interval {interval[0]}..{interval[1]}."
            )
        ),
    }


def _deconvolve(observed: Any, b: float) -> np.ndarray:
    """Signal x of observed spikes y (noise units) in the spiked model: the root of
    x^4 + (1 + b - y^2) x^2 + b = 0 above the detection point (theory.rank.spiked_observed_sq)."""
    y2 = np.asarray(observed, dtype=np.float64) ** 2
    lead = y2 - 1.0 - b
    x2 = 0.5 * (lead + np.sqrt(np.clip(lead**2 - 4.0 * b, 0.0, None)))
    return np.sqrt(np.clip(x2, 0.0, None))


# ---------------------------------------------------------------- calibration


@dataclass(frozen=True)
class CalibrationTeacher:
    """One calibration case: a planted spectrum on an m x n teacher, its noise, the pilot's largest
    budget N0 and how many pilot budgets (doublings up to N0)."""

    name: str
    spectrum: Any
    m: int
    n: int
    noise: float
    n0: int
    n_budgets: int = 6

    def singular_values(self) -> np.ndarray:
        """Returns: the planted singular values of W_T (min(m, n) of them)."""
        return self.spectrum.first(min(self.m, self.n))

    def budgets(self) -> list[int]:
        """Returns: the pilot budgets, n_budgets doublings ending at N0."""
        return [self.n0 >> k for k in range(self.n_budgets - 1, -1, -1)]


def calibration_teachers() -> tuple[CalibrationTeacher, ...]:
    """The issue's teachers: power laws alpha = 0.75, 1, 1.5, 2; exponential beta = 0.2, 0.3; an
    exact-rank teacher (5 singular values 1). m = n = 64 (the issue's example), pilot budgets
    256..8192 (N0 = 8192). The noise of each puts the true r* at N0 between 5 and 8, inside the
    truncation regime; the targets then cover both regimes: with a heavy tail (alpha = 0.75, 1) the
    full-rank fit overtakes the truncations by 4 N0 or 16 N0, elsewhere r* keeps growing (the true
    r* at N0 and at each target are columns of the calibration table).

    Returns: the CalibrationTeacher tuple.
    """
    return (
        CalibrationTeacher("power law alpha=0.75", PowerLaw(0.75), 64, 64, 1.4, 8192),
        CalibrationTeacher("power law alpha=1", PowerLaw(1.0), 64, 64, 1.0, 8192),
        CalibrationTeacher("power law alpha=1.5", PowerLaw(1.5), 64, 64, 0.5, 8192),
        CalibrationTeacher("power law alpha=2", PowerLaw(2.0), 64, 64, 0.25, 8192),
        CalibrationTeacher("exponential beta=0.2", Exponential(0.2), 64, 64, 0.7, 8192),
        CalibrationTeacher("exponential beta=0.3", Exponential(0.3), 64, 64, 0.5, 8192),
        CalibrationTeacher("exact rank 5", LowRankPlusFloor(5, 1.0, 0.0), 64, 64, 1.0, 8192),
    )


ADVISED_TOLERANCE = 0.05  # the advised rank's excess risk within 5% of the best rank's
INTERVAL_TOLERANCE = 0.01  # the interval holds a rank within 1% of the best
CALIBRATION_GOAL = 0.9


# -- advice checked on a run: the pilot is the run's smaller budgets, the truth its largest -------------
RISK_WORDS = {"heldout_kl": "held-out KL", "heldout_lm_loss": "held-out LM loss", "excess_risk": "excess risk"}


@dataclass(frozen=True)
class HeldOutBudget:
    """Advice from a rank sweep's smaller budgets for its largest one, against the r* measured there.

    advice: the Advice from the budgets below the largest (its pilot), for the largest budget.
    measured: empirical_rstar's row at the largest budget, from every seed (rstar, rstar_low,
        rstar_high, flat_low, flat_high).
    covered: the measured r* lies inside the advice's interval.
    excess: the advised width's seed-mean risk at the largest budget over the best width's, minus 1
        (interpolated on log width when the advised rank falls between two widths of the sweep).
    """

    advice: Advice
    measured: dict[str, float]
    covered: bool
    excess: float

    def sentence(self, unit: str = "tokens") -> str:
        """The comparison in one plain sentence (the report prints it).

        Args: unit of N. Returns: str.
        """
        a, m = self.advice, self.measured
        pilot = ", ".join(f"{int(n):,}" for n in a.pilot["n_samples"])
        low, high = a.interval
        return (
            f"From pilot budgets {pilot} {unit}, the advice for N = {a.budget:,} {unit} is rank {a.rank} "
            f"[{low}, {high}] ({a.law_text()}); the run measured r* = {int(m['rstar'])} "
            f"[{int(m['rstar_low'])}, {int(m['rstar_high'])}] there (widths within the noise of the best: "
            f"{int(m['flat_low'])} to {int(m['flat_high'])}): "
            + ("covered" if self.covered else "NOT covered")
            + f". The advised width's {RISK_WORDS.get(a.risk, a.risk)} is {self.excess:.1%} above the best width's."
        )

    def to_json(self) -> dict[str, Any]:
        """JSON record: the advice's, with measured, covered and excess. Returns: dict."""
        return {
            **self.advice.to_json(),
            "measured": {k: _plain(v) for k, v in self.measured.items()},
            "covered": bool(self.covered),
            "excess": float(self.excess),
        }


def advise_largest_budget(
    sweep: pd.DataFrame, *, risk: str = "heldout_kl", min_pilot: int = REAL_MIN_BUDGETS, seed: int = 0
) -> HeldOutBudget | None:
    """Advise from a rank sweep's budgets below its largest, for the largest, and compare with the r*
    the sweep measured there (issue 21's check on the real teacher: a standard run's budgets up to
    1,024 tokens as the pilot, its 2,048 as the target). The pilot sees none of the target's rows.

    Args:
        sweep: one row per (rank, n_samples, seed) with the `risk` column (validate.claims.real's
            rank evidence).
        risk: the held-out risk r* minimizes.
        min_pilot: the fewest pilot budgets (budgets below the largest) to advise from.
        seed: the bootstraps' seed.

    Returns:
        The HeldOutBudget, or None when the sweep has fewer than `min_pilot` budgets below its largest.
    """
    sizes = np.sort(sweep["n_samples"].unique())
    if len(sizes) < min_pilot + 1:
        return None
    target = int(sizes[-1])
    advice = advise(sweep[sweep["n_samples"] < target], target, risk=risk, seed=seed)
    row = empirical_rstar(sweep, risk, seed=seed).set_index("n_samples").loc[target]
    measured = {k: float(row[k]) for k in ("rstar", "rstar_low", "rstar_high", "flat_low", "flat_high")}
    at_target = sweep[sweep["n_samples"] == target].groupby("rank")[risk].mean()
    # an advised rank between two pilot widths: the risk interpolated on log width (widths are doublings)
    advised_risk = np.interp(np.log(advice.rank), np.log(at_target.index.to_numpy(float)), at_target.to_numpy(float))
    excess = float(advised_risk / at_target.min() - 1.0)
    low, high = advice.interval
    return HeldOutBudget(advice, measured, bool(low <= measured["rstar"] <= high), excess)


def real_run_advice(runs: Sequence) -> list[tuple[str, HeldOutBudget]]:
    """advise_largest_budget on every real run (lrc_real) among `runs` that has enough budgets.

    Args:
        runs: simulate Runs of any experiments (a report's).

    Returns:
        (the run's name, HeldOutBudget) for each lrc_real run with at least REAL_MIN_BUDGETS budgets
        below its largest (the standard preset; the quick one has two).
    """
    checks = []
    for r in runs:
        if getattr(r, "experiment", None) != LRC_REAL.name:
            continue
        check = advise_largest_budget(rank_evidence(r["final"], plateau_table(r.steps, r["final"])))
        if check is not None:
            checks.append((r.name, check))
    return checks


def calibrate_advice(
    teachers: Sequence[CalibrationTeacher] | None = None,
    *,
    replicates: int = 10,
    seeds: int = 8,
    multiples: Sequence[int] = (4, 16),
    truth_draws: int = 2000,
    n_resamples: int = 500,
    progress=None,
) -> pd.DataFrame:
    """How often the advice is right, on teachers whose true risk curve is known.

    For each teacher and replicate: a pilot (`sampled_rrr_pilot`, `seeds` seeds, budgets up to N0)
    and the advice at each multiple x N0; the truth at each target is `true_excess_risk`
    (`truth_draws` draws, one per teacher and target: the risk does not depend on the teacher's
    singular vectors). A case is (teacher, replicate, target).

    Args: teachers (default calibration_teachers()), replicates, seeds, multiples, truth_draws,
        n_resamples (advice bootstrap), progress (a callable taking a message, or None).
    Returns:
        One row per teacher, per target over all teachers and overall: true_rstar (the true r* at
        N0 and at each target, e.g. "6 -> 15 -> 64"), cases, advised_within_5pct and
        interval_within_1pct (shares), median_interval_width, max_truth_se (the largest Monte
        Carlo standard error of a relative gap that decided a case), and goal_met. The cases are
        in frame.attrs["cases"] (a list of dicts).
    """
    teachers = calibration_teachers() if teachers is None else tuple(teachers)
    require_int_in(replicates, "replicates", 1)
    cases, path = [], {}
    for teacher in teachers:
        s = teacher.singular_values()
        truths = {
            k: true_excess_risk(
                s, m=teacher.m, n=teacher.n, noise=teacher.noise, n_samples=k * teacher.n0, draws=truth_draws
            )
            for k in (1, *multiples)
        }
        path[teacher.name] = " -> ".join(str(truths[k].best) for k in (1, *multiples))
        for rep in range(replicates):
            pilot = sampled_rrr_pilot(
                s,
                m=teacher.m,
                n=teacher.n,
                noise=teacher.noise,
                budgets=teacher.budgets(),
                seeds=range(seeds),
                stream=rep,
            )
            for k in multiples:
                cases.append(
                    _case(teacher, rep, k, truths[k], advise(pilot, k * teacher.n0, n_resamples=n_resamples, seed=rep))
                )
        if progress is not None:
            progress(f"calibration: {teacher.name} done")
    return _calibration_table(pd.DataFrame.from_records(cases), multiples, path)


def _case(teacher: CalibrationTeacher, rep: int, multiple: int, truth: TrueRisk, advice: Advice) -> dict[str, Any]:
    """One calibration case: the advice against the true curve. The decisions read the Monte Carlo
    means; the standard error of the deciding gaps is kept (it should be far below the tolerances)."""
    low, high = advice.interval
    inside = truth.gap[low - 1 : high]
    closest = low - 1 + int(np.argmin(inside))  # the interval's rank nearest the best
    gap = float(truth.gap[advice.rank - 1])
    return {
        "teacher": teacher.name,
        "replicate": rep,
        "multiple": multiple,
        "budget": multiple * teacher.n0,
        "true_best": truth.best,
        "rank": advice.rank,
        "low": low,
        "high": high,
        "law": advice.law,
        "gap": gap,
        "interval_gap": float(inside.min()),
        "truth_se": float(max(truth.gap_se[advice.rank - 1], truth.gap_se[closest])),
        "advised_ok": gap <= ADVISED_TOLERANCE,
        "interval_ok": bool(inside.min() <= INTERVAL_TOLERANCE),
        "width": high - low,
    }


def _calibration_table(cases: pd.DataFrame, multiples: Sequence[int], path: dict[str, str]) -> pd.DataFrame:
    def row(label: str, part: pd.DataFrame) -> dict[str, Any]:
        advised, covered = float(part["advised_ok"].mean()), float(part["interval_ok"].mean())
        return {
            "teacher": label,
            "true_rstar": path.get(label, ""),
            "cases": len(part),
            "advised_within_5pct": advised,
            "interval_within_1pct": covered,
            "median_interval_width": float(part["width"].median()),
            "max_truth_se": float(part["truth_se"].max()),
            "goal_met": bool(advised >= CALIBRATION_GOAL and covered >= CALIBRATION_GOAL),
        }

    rows = [row(name, part) for name, part in cases.groupby("teacher", sort=False)]
    rows += [row(f"all, {k} x N0", cases[cases["multiple"] == k]) for k in multiples]
    rows.append(row("all", cases))
    table = pd.DataFrame.from_records(rows)
    table.attrs["cases"] = cases.to_dict("records")
    return table
