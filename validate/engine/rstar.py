"""The empirical optimal rank r*(N) from rank sweeps, and its growth exponent (claim C4).

For each sample size N, r* is the rank minimizing the mean over seeds of the chosen risk
(claims.md C4: risk(r) = A(r) + V(r, N)). Its uncertainty band comes from a bootstrap over
seeds (Efron 1979): seeds are resampled with replacement, the mean risk curve recomputed and
its argmin taken; the band is the central percentile interval of those argmins (grid values).
Seeds are resampled jointly across N (one draw of seed labels serves every N), so a seed's
teacher, shared by its runs at different N, stays together.

`fit_rstar_exponent` fits r* ~ c N^q (`fits.fit_exponent`'s log-log least squares) and, given
the sweep, takes its interval from the same joint seed bootstrap: each resample of seeds gives
one r*(N) curve and one refitted slope. An r* at the top of the rank grid only bounds the true
r* from below (and one at the bottom from above); such points are flagged in the notes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from lrkd.errors import require, require_float_in, require_int_in
from lrkd.validate.engine.fits import (
    ExponentFit,
    bootstrap_replicates,
    empty_slices_expected,
    expanded_level,
    fit_exponent,
    percentile_interval,
    slope_from_sums,
)

__all__ = ["empirical_rstar", "fit_rstar_exponent", "rstar_replicates", "rstar_variance"]

REQUIRED_COLUMNS = ("rank", "n_samples", "seed")


@dataclass(frozen=True)
class _RiskCube:
    """Risk on a full grid: values[i, j, s] for n_values[i], ranks[j], seeds[s] (NaN = no run)."""

    n_values: np.ndarray
    ranks: np.ndarray
    seeds: np.ndarray
    values: np.ndarray


def empirical_rstar(
    df: pd.DataFrame,
    risk: str = "test_risk",
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """One row per n_samples: the rank minimizing the seed-mean `risk`, with a seed-bootstrap band.

    `df` is a `simulate.rank_sweep` frame (one row per (rank, n_samples, seed)). Rows with
    `diverged` True or a non-finite risk are excluded; counts are in `frame.attrs["excluded"]`
    and sentences in `frame.attrs["notes"]`. Columns: n_samples, rstar, rstar_low, rstar_high
    (central `confidence` percentile band of the bootstrap argmins over seeds), n_seeds,
    min_risk (seed-mean risk at rstar), max_rank and min_rank (the grid at that N), at_edge
    ("upper", "lower" or ""): r* on the grid's edge only bounds the true r*; flat_low, flat_high:
    the contiguous ranks around r* whose seed-mean risk lies within one paired standard error of
    the minimum's (`_indistinguishable`).

    Args:
        df: the rank-sweep frame.
        risk: the risk column minimized.
        confidence: the band's level; n_resamples, seed: the bootstrap's.

    Returns:
        The r* frame described above.
    """
    clean, excluded = _clean_sweep(df, risk)
    confidence = require_float_in(confidence, "confidence", 0.0, 1.0, open_low=True)
    cube = _risk_cube(clean, risk)
    best = _argmin_ranks(cube.values[..., None, :], cube.ranks)[..., 0]
    boot = _bootstrap_argmins(cube, n_resamples, seed)
    frame = _rstar_frame(cube, best, boot, confidence)
    frame["flat_low"], frame["flat_high"] = _indistinguishable(cube, best)
    frame.attrs["excluded"] = excluded
    frame.attrs["notes"] = _sweep_notes(excluded, frame, risk)
    return frame


def rstar_replicates(
    sweep: pd.DataFrame, n_samples, *, risk: str = "test_risk", n_resamples: int = 2000, seed: int = 0
) -> np.ndarray:
    """Seed-bootstrap r*(N) curves: (len(n_samples), n_resamples), one joint resample of seeds per
    column (the same resampling as `empirical_rstar`'s band; NaN where a resample lacks a run).

    Args: sweep (a rank_sweep frame), n_samples (the sizes to return, each in the sweep), risk,
    n_resamples (>= 100), seed. Returns: the replicate curves, rows in the order of n_samples.
    """
    clean, _ = _clean_sweep(sweep, risk)
    wanted = np.asarray(n_samples, dtype=np.float64)
    cube = _risk_cube(clean[clean["n_samples"].isin(wanted)], risk)
    require(cube.n_values.size == wanted.size, "n_samples", "sizes present in the sweep", wanted.tolist())
    boot = _bootstrap_argmins(cube, n_resamples, seed)
    order = np.searchsorted(cube.n_values, wanted)
    return boot[order]


def rstar_variance(kept: pd.DataFrame, replicates: np.ndarray) -> np.ndarray:
    """Seed variance of r* at each size: the larger of the bootstrap argmins' variance and that of
    a uniform choice among the ranks within one standard error of the minimum (flat_low..flat_high);
    a few seeds give few distinct resamples, so the bootstrap alone understates a flat minimum. The
    variance the growth laws are fitted with (validate.engine.growth), for the synthetic and the real C4.

    Args:
        kept: empirical_rstar's rows at the sizes fitted (flat_low, flat_high).
        replicates: rstar_replicates at those sizes (sizes x resamples).

    Returns:
        The variance of r* at each size.
    """
    width = (kept["flat_high"] - kept["flat_low"] + 1).to_numpy(dtype=float)
    return np.maximum(np.nanvar(replicates, axis=1), (width**2 - 1) / 12.0)


def fit_rstar_exponent(
    rstar_frame: pd.DataFrame,
    sweep: pd.DataFrame | None = None,
    *,
    risk: str = "test_risk",
    drop_edge: bool = False,
    confidence: float = 0.95,
    n_resamples: int = 4000,
    seed: int = 0,
) -> ExponentFit:
    """Exponent q of r* ~ c N^q, from an `empirical_rstar` frame.

    With `sweep` (the rank-sweep frame the r* came from) the interval is a joint bootstrap over
    seeds: every resample recomputes r*(N) for all N and refits the slope (expanded percentile
    interval, as in `fits.fit_exponent`, with the seeds as units). Without it, the interval
    resamples the (N, r*) points themselves, which ignores the seed noise inside each r*; the
    notes say so. Points with r* on an edge of the rank grid are flagged; `drop_edge` removes them.

    Args:
        rstar_frame: an `empirical_rstar` frame.
        sweep: the rank-sweep frame it came from (None: resample the points).
        risk: the risk column the r* minimized.
        drop_edge: leave out points with r* on an edge of the grid.
        confidence: the interval's level; n_resamples, seed: the bootstrap's.

    Returns:
        The ExponentFit of q.
    """
    _require_columns(rstar_frame, ("n_samples", "rstar", "at_edge"), "rstar_frame")
    rows = rstar_frame[rstar_frame["at_edge"] == ""] if drop_edge else rstar_frame
    edge_notes = _edge_notes(rstar_frame, drop_edge)
    if sweep is None:
        fit = fit_exponent(rows["n_samples"], rows["rstar"], confidence=confidence, n_resamples=n_resamples, seed=seed)
        extra = ("Interval resamples the (N, r*) points, not seeds: pass the sweep for a seed bootstrap.",)
        return _with_notes(fit, edge_notes + extra, n_dropped=len(rstar_frame) - len(rows))
    return _seed_bootstrap_fit(
        rows, sweep, risk, confidence, n_resamples, seed, edge_notes, len(rstar_frame) - len(rows)
    )


# ---------------------------------------------------------------- sweep -> cube


def _require_columns(df: pd.DataFrame, columns: tuple[str, ...], name: str) -> None:
    require(isinstance(df, pd.DataFrame), name, "a pandas DataFrame", type(df).__name__)
    missing = [c for c in columns if c not in df.columns]
    require(not missing, name, f"a frame with columns {list(columns)}", f"missing {missing}")


def _clean_sweep(df: pd.DataFrame, risk: str) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop diverged and non-finite rows; return the rest and the counts dropped."""
    _require_columns(df, REQUIRED_COLUMNS + (risk,), "df")
    diverged = np.zeros(len(df), dtype=bool)
    if "diverged" in df.columns:
        diverged = df["diverged"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    values = pd.to_numeric(df[risk], errors="coerce").to_numpy(dtype=np.float64)
    nonfinite = ~diverged & ~np.isfinite(values)
    clean = df.loc[~diverged & ~nonfinite]
    require(len(clean) > 0, "df", f"at least one finite, non-diverged {risk!r} row", "none")
    require(bool(np.all(clean["rank"].to_numpy() >= 1)), "df.rank", "integers >= 1", clean["rank"].min())
    counts = {"diverged": int(diverged.sum()), "nonfinite": int(nonfinite.sum())}
    return clean, {reason: n for reason, n in counts.items() if n}


def _risk_cube(clean: pd.DataFrame, risk: str) -> _RiskCube:
    """Pivot to (n_samples, rank, seed), averaging duplicate rows, NaN where a run is missing."""
    table = clean.pivot_table(index=["n_samples", "rank"], columns="seed", values=risk, aggfunc="mean")
    n_values = np.sort(clean["n_samples"].unique())
    ranks = np.sort(clean["rank"].unique())
    full = pd.MultiIndex.from_product([n_values, ranks], names=["n_samples", "rank"])
    values = table.reindex(full).to_numpy(dtype=np.float64)
    seeds = table.columns.to_numpy()
    return _RiskCube(n_values, ranks, seeds, values.reshape(n_values.size, ranks.size, seeds.size))


def _bootstrap_argmins(cube: _RiskCube, n_resamples: int, seed: int) -> np.ndarray:
    """The argmin rank of each seed resample at each size: (n_N, n_resamples). With one seed every
    resample is that seed (scipy's bootstrap refuses a single unit), so each column is the point r*."""
    n_resamples = require_int_in(n_resamples, "n_resamples", 100)
    if cube.seeds.size < 2:
        point = _argmin_ranks(cube.values, cube.ranks)
        return np.repeat(point[:, None], n_resamples, axis=1)
    return bootstrap_replicates(
        lambda idx: _argmin_ranks(cube.values[:, :, idx], cube.ranks), cube.seeds.size, n_resamples, seed=seed
    )


def _argmin_ranks(values: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """Rank minimizing the mean over the last axis; values (n_N, n_rank, ..., n_seed).

    Returns (n_N, ...); NaN where no rank has data. Ties go to the smaller rank.
    """
    with empty_slices_expected():  # a resample may lack every run of a rank
        mean = np.nanmean(values, axis=-1)
    has_data = np.isfinite(mean).any(axis=1)
    best = np.argmin(np.where(np.isfinite(mean), mean, np.inf), axis=1)
    return np.where(has_data, ranks[best].astype(np.float64), np.nan)


def _rstar_frame(cube: _RiskCube, best: np.ndarray, boot: np.ndarray, confidence: float) -> pd.DataFrame:
    """Assemble the per-N table from the point argmins (n_N,) and bootstrap argmins (n_N, B)."""
    tails = (50.0 * (1 - confidence), 50.0 * (1 + confidence))
    with empty_slices_expected():
        mean = np.nanmean(cube.values, axis=-1)  # (n_N, n_rank)
        low = np.nanpercentile(boot, tails[0], axis=-1, method="lower")
        high = np.nanpercentile(boot, tails[1], axis=-1, method="higher")
    observed = np.isfinite(mean)
    grid_min = np.array([cube.ranks[o].min() for o in observed])
    grid_max = np.array([cube.ranks[o].max() for o in observed])
    at_rank = np.searchsorted(cube.ranks, best)
    frame = pd.DataFrame(
        {
            "n_samples": cube.n_values,
            "rstar": best.astype(np.int64),
            "rstar_low": low.astype(np.int64),
            "rstar_high": high.astype(np.int64),
            "n_seeds": np.isfinite(cube.values).any(axis=1).sum(axis=-1),
            "min_risk": mean[np.arange(best.size), at_rank],
            "min_rank": grid_min,
            "max_rank": grid_max,
        }
    )
    frame["at_edge"] = np.where(best == grid_max, "upper", np.where(best == grid_min, "lower", ""))
    return frame


def _indistinguishable(cube: _RiskCube, best: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ranks next to r* that the seeds cannot tell from it: the paired differences
    risk_s(r) - risk_s(r*) over seeds have a mean within one standard error of 0 (the
    one-standard-error rule of model selection: Breiman et al. 1984, CART sec. 3.4; Hastie,
    Tibshirani & Friedman, ESL sec. 7.10). A flat risk curve near its minimum (dense spectra near
    the noise threshold) leaves r* uncertain by more than a few-seed bootstrap of the argmin shows
    (5 seeds have only 126 distinct resamples); this range says by how much."""
    at = np.searchsorted(cube.ranks, np.nan_to_num(best, nan=cube.ranks[0]))
    diff = cube.values - cube.values[np.arange(cube.n_values.size), at][:, None, :]
    with empty_slices_expected():
        mean = np.nanmean(diff, axis=-1)
        se = np.nanstd(diff, axis=-1, ddof=1) / np.sqrt(np.sum(np.isfinite(diff), axis=-1))
    close = np.isfinite(mean) & (mean <= np.nan_to_num(se, nan=0.0))
    low, high = at.copy(), at.copy()
    for i in range(cube.n_values.size):
        while low[i] > 0 and close[i, low[i] - 1]:
            low[i] -= 1
        while high[i] < cube.ranks.size - 1 and close[i, high[i] + 1]:
            high[i] += 1
    return cube.ranks[low].astype(np.int64), cube.ranks[high].astype(np.int64)


def _sweep_notes(excluded: dict[str, int], frame: pd.DataFrame, risk: str) -> list[str]:
    notes = [f"r* minimizes the seed-mean {risk}; band: bootstrap over seeds of the argmin."]
    words = {"diverged": "diverged runs", "nonfinite": f"rows with a non-finite {risk}"}
    notes += [f"Excluded {count} {words[reason]}." for reason, count in excluded.items()]
    if (frame["n_seeds"] < 2).any():
        notes.append("Where only 1 seed ran, the band is a single point (no seed spread).")
    notes += _edge_notes(frame, drop_edge=False)
    return notes


def _edge_notes(frame: pd.DataFrame, drop_edge: bool) -> tuple[str, ...]:
    notes = []
    for edge, bound in (("upper", "from below"), ("lower", "from above")):
        n = frame.loc[frame["at_edge"] == edge, "n_samples"].tolist()
        if n:
            action = "dropped from the fit" if drop_edge else "kept"
            notes.append(
                f"r* sits at the {edge} edge of the rank grid for N = {n}: it bounds the "
                f"true r* only {bound} ({action})."
            )
    return tuple(notes)


# ---------------------------------------------------------------- exponent of r*(N)


def _with_notes(fit: ExponentFit, notes: tuple[str, ...], n_dropped: int) -> ExponentFit:
    excluded = dict(fit.excluded, **({"edge": n_dropped} if n_dropped else {}))
    return replace(fit, notes=fit.notes + notes, excluded=excluded)


def _seed_bootstrap_fit(rows, sweep, risk, confidence, n_resamples, seed, edge_notes, n_dropped):
    """Point fit through the frame's r*; interval from a joint bootstrap over the sweep's seeds."""
    clean, _ = _clean_sweep(sweep, risk)
    cube = _risk_cube(clean[clean["n_samples"].isin(rows["n_samples"])], risk)
    require(cube.n_values.size >= 2, "rstar_frame", "at least 2 sample sizes to fit", cube.n_values.size)
    log_n = np.log(cube.n_values)
    slope, intercept = np.polyfit(np.log(rows["n_samples"].to_numpy(float)), np.log(rows["rstar"].to_numpy(float)), 1)

    def slopes(idx: np.ndarray) -> np.ndarray:
        log_r = np.log(_argmin_ranks(cube.values[:, :, idx], cube.ranks))  # (n_N, ...)
        return _masked_slope(log_n, np.moveaxis(log_r, 0, -1))

    ci, ci_note = _seed_interval(slopes, cube.seeds.size, confidence, n_resamples, seed)
    notes = ("Least squares of log r* on log N.", ci_note) + edge_notes
    return ExponentFit(
        float(slope),
        ci,
        float(intercept),
        len(rows),
        cube.seeds.size,
        {"edge": n_dropped} if n_dropped else {},
        notes,
        confidence,
    )


def _seed_interval(slopes, n_seeds: int, confidence: float, n_resamples: int, seed: int):
    if n_seeds < 3:
        return (-np.inf, np.inf), f"No confidence interval: {n_seeds} seeds are too few (need 3)."
    n_resamples = require_int_in(n_resamples, "n_resamples", 100)
    replicates = bootstrap_replicates(slopes, n_seeds, n_resamples, seed=seed)
    level = expanded_level(confidence, n_seeds, n_seeds - 1)
    note = (
        f"{confidence:.0%} interval: expanded percentile bootstrap over {n_seeds} seeds, "
        f"r*(N) recomputed and refitted per resample ({n_resamples} resamples)."
    )
    return percentile_interval(replicates, level), note


def _masked_slope(log_x: np.ndarray, log_y: np.ndarray) -> np.ndarray:
    """OLS slope of log_y (..., n) on log_x (n,) per leading index, ignoring NaN entries."""
    mask = np.isfinite(log_y)
    lx = np.where(mask, log_x, 0.0)
    ly = np.where(mask, log_y, 0.0)
    columns = (mask.astype(np.float64), lx, ly, lx * lx, lx * ly)
    return slope_from_sums(np.stack([c.sum(-1) for c in columns], axis=-1))
