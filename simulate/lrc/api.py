"""The public entry points: one distillation run, a shared-teacher sweep, and lrkd-store cells.

    distill(config)                               -> RunRecord       one student
    train_sweep(config, d_S_values, token_budgets, alphas)  -> list[RunRecord]  students sharing the teacher
    lrc_rank_sweep(config, d_S_values, token_budgets, alphas, store=...) -> StoredCell  the same, stored
    run_cell(cell)                                -> CellResult      module-level, for lrkd.sweep.run_grid

A sweep's students are the grid d_S x token budget x alpha; all of them train in one loop over one
stream of batches, so each batch's teacher forward (logits and cloned activations) is computed
once and used by every student still within its budget. A token budget N is the number of tokens
the student trains on (`N // (batch_size x seq_len)` steps, each token seen once while N does not
exceed the training split, which is recorded as `epochs` and `n_distinct_tokens_seen`).
"""

from __future__ import annotations

from typing import Any, Sequence

from lrkd.config import from_dict, to_dict
from lrkd.errors import InputError, require_float_in
from lrkd.simulate.lrc.config import LRCConfig, check_token_budget
from lrkd.simulate.lrc.record import RunRecord, to_cell_result
from lrkd.simulate.lrc.sgd import sgd_runs
from lrkd.simulate.lrc.teacher import Teacher, load_teacher
from lrkd.simulate.lrc.train import StudentSpec, prepare_teacher, resolve_precision, store_outputs, train_students
from lrkd.sweep import CellResult, SerialExecutor, StoredCell, run_grid

SWEEP_KEYS = ("d_S_values", "token_budgets", "alphas")


def distill(
    config: LRCConfig,
    *,
    teacher: Teacher | None = None,
    stop_after_step: int | None = None,
    progress: bool | None = None,
) -> RunRecord:
    """Distill the teacher into one student as `config` says; resumes a killed run of the same config.

    Args:
        config: the run (student width, data, optimizer, loss, device, files).
        teacher: an already loaded teacher to use (None: load config.teacher).
        stop_after_step: stop after that many steps without a final checkpoint, as a kill would (tests).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        The student's RunRecord.
    """
    spec = StudentSpec(config.d_S, config.alpha, config.total_steps, config.tokens_per_step)
    return train_students(config, [spec], teacher=teacher, stop_after_step=stop_after_step, progress_bar=progress)[0]


def sweep_specs(
    config: LRCConfig,
    d_S_values: Sequence[int] | None = None,
    token_budgets: Sequence[int] | None = None,
    alphas: Sequence[float] | None = None,
) -> list[StudentSpec]:
    """The students of a sweep (d_S outer, then token budget, then alpha); None keeps the config's.

    Args:
        config: the sweep's shared settings.
        d_S_values: student widths (distinct integers >= 1; None: the config's d_S).
        token_budgets: tokens each student trains on (distinct, >= batch_size x seq_len; None: the config's steps).
        alphas: clone-loss weights (distinct, >= 0; None: the config's alpha).

    Returns:
        One StudentSpec per grid point; a bad list is an InputError naming it.
    """
    d_values = list(d_S_values) if d_S_values is not None else [config.d_S]
    budgets = list(token_budgets) if token_budgets is not None else [config.total_steps * config.tokens_per_step]
    alpha_values = list(alphas) if alphas is not None else [config.alpha]
    for name, values in (("d_S_values", d_values), ("token_budgets", budgets), ("alphas", alpha_values)):
        if not values or len(set(values)) != len(values):
            raise InputError(name, f"must be a non-empty list of distinct values, got {values!r}")
    for d in d_values:
        if not isinstance(d, int) or isinstance(d, bool) or d < 1:
            raise InputError("d_S_values", f"each must be an integer >= 1, got {d!r}")
    steps = [check_token_budget(config, n) for n in budgets]
    for a in alpha_values:
        require_float_in(a, "alphas", 0.0)
    return [StudentSpec(d, float(a), s, config.tokens_per_step) for d in d_values for s in steps for a in alpha_values]


def train_sweep(
    config: LRCConfig,
    d_S_values: Sequence[int] | None = None,
    token_budgets: Sequence[int] | None = None,
    alphas: Sequence[float] | None = None,
    *,
    teacher: Teacher | None = None,
    stop_after_step: int | None = None,
    progress: bool | None = None,
) -> list[RunRecord]:
    """Train every student of the sweep in one shared-teacher loop; one RunRecord per student.

    Args:
        config: the sweep's shared settings.
        d_S_values: student widths (distinct integers >= 1; None: the config's d_S).
        token_budgets: tokens each student trains on (distinct, >= batch_size x seq_len; None: the config's steps).
        alphas: clone-loss weights (distinct, >= 0; None: the config's alpha).
        teacher: an already loaded teacher to use (None: load config.teacher).
        stop_after_step: stop after that many steps without a final checkpoint, as a kill would (tests).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        The RunRecords in sweep_specs' order.
    """
    specs = sweep_specs(config, d_S_values, token_budgets, alphas)
    return train_students(config, specs, teacher=teacher, stop_after_step=stop_after_step, progress_bar=progress)


def store_teacher_outputs(
    config: LRCConfig,
    d_S_values: Sequence[int] | None = None,
    token_budgets: Sequence[int] | None = None,
    alphas: Sequence[float] | None = None,
    *,
    teacher: Teacher | None = None,
) -> list:
    """Compute and store the teacher outputs that `distill` / `train_sweep` of this config read
    (see simulate/lrc/outputs.py). `lrkd teacher-outputs CONFIG` calls it.

    Args:
        config: the run or sweep whose teacher outputs are wanted.
        d_S_values: student widths (distinct integers >= 1; None: the config's d_S).
        token_budgets: tokens each student trains on (distinct, >= batch_size x seq_len; None: the config's steps).
        alphas: clone-loss weights (distinct, >= 0; None: the config's alpha).
        teacher: an already loaded teacher to use (None: load config.teacher).

    Returns:
        The store files: the training sequences' outputs and the evaluation set's.
    """
    return store_outputs(config, sweep_specs(config, d_S_values, token_budgets, alphas), teacher=teacher)


def sweep_cell(
    config: LRCConfig,
    d_S_values: Sequence[int] | None = None,
    token_budgets: Sequence[int] | None = None,
    alphas: Sequence[float] | None = None,
) -> dict[str, Any]:
    """The lrkd cell of a sweep: the config's fields plus the three sweep lists (None = config's).

    Args:
        config: the sweep's shared settings.
        d_S_values: student widths (distinct integers >= 1; None: the config's d_S).
        token_budgets: tokens each student trains on (distinct, >= batch_size x seq_len; None: the config's steps).
        alphas: clone-loss weights (distinct, >= 0; None: the config's alpha).

    Returns:
        A JSON-able dict that run_cell takes; the lists are checked here, not in a worker.
    """
    sweep_specs(config, d_S_values, token_budgets, alphas)  # validate now, not in a worker
    lists = {"d_S_values": d_S_values, "token_budgets": token_budgets, "alphas": alphas}
    return {**to_dict(config), **{k: (list(v) if v is not None else None) for k, v in lists.items()}}


_TEACHERS: dict[tuple, Teacher] = {}


def shared_teacher(config: LRCConfig) -> Teacher:
    """The config's teacher (reduced as it asks), loaded once per process and reused by every cell.

    A sweep of many stored cells would otherwise load (and reduce) the teacher once per cell; only the
    last teacher asked for is kept.

    Args:
        config: the run whose teacher, cache, device, precision and reduction are wanted.

    Returns:
        The prepared Teacher (see train.prepare_teacher).
    """
    prec = resolve_precision(config.device, config.dtype)
    key = (
        config.teacher,
        config.cache_dir,
        str(prec.device),
        str(prec.param_dtype),
        config.teacher_layers,
        config.vocab,
        config.text if config.vocab == "corpus" else None,
    )
    if key not in _TEACHERS:
        _TEACHERS.clear()  # one at a time: a teacher is the largest object a run holds
        teacher = load_teacher(config.teacher, cache_dir=config.cache_dir, device=prec.device)
        teacher.to_dtype(prec.param_dtype)
        _TEACHERS[key] = prepare_teacher(teacher, config)
    return _TEACHERS[key]


def run_cell(cell: dict) -> CellResult:
    """lrkd.sweep run_cell: train the cell's students and return their tables and hidden states.

    Args:
        cell: a sweep_cell dict (LRCConfig fields plus d_S_values, token_budgets, alphas).

    Returns:
        The CellResult of the students' records (record.to_cell_result).
    """
    cell = dict(cell)
    lists = {key: cell.pop(key, None) for key in SWEEP_KEYS}
    config = from_dict(LRCConfig, cell)
    return to_cell_result(train_sweep(config, **lists, teacher=shared_teacher(config), progress=False))


def run_sgd_cell(cell: dict) -> CellResult:
    """lrkd.sweep run_cell for claim C1: plain-SGD paths for every budget in cell["sgd_budgets"]
    (simulate.lrc.sgd.sgd_runs).

    Args:
        cell: LRCConfig fields plus sgd_budgets (step counts T), sgd_batches (the finite sum's size)
            and sgd_power_iters (Hessian power iterations per probe point).

    Returns:
        A CellResult with the tables steps, constants and runs, each row tagged with d_S and alpha.
    """
    cell = dict(cell)
    budgets = cell.pop("sgd_budgets")
    n_batches, power_iters = cell.pop("sgd_batches"), cell.pop("sgd_power_iters")
    config = from_dict(LRCConfig, cell)
    tables = sgd_runs(config, budgets, n_batches=n_batches, power_iters=power_iters, teacher=shared_teacher(config))
    ident = {"d_S": config.d_S, "alpha": config.alpha}
    return CellResult({name: [{**ident, **row} for row in rows] for name, rows in tables.items()}, {})


def lrc_rank_sweep(
    config: LRCConfig,
    d_S_values: Sequence[int],
    token_budgets: Sequence[int] | None = None,
    alphas: Sequence[float] | None = None,
    *,
    store=None,
    experiment: str = "lrc_rank_sweep",
    progress: bool | None = None,
) -> StoredCell:
    """Run (or fetch from `store`) a shared-teacher LRC sweep as one lrkd cell.

    Read it with `lrkd.sweep.to_frame([stored], "final")` (or "trajectory", "steps", ...). Named apart
    from simulate.rank_sweep (the synthetic students' sweep).

    Args:
        config: the sweep's shared settings.
        d_S_values: student widths (distinct integers >= 1).
        token_budgets: tokens each student trains on (distinct, >= batch_size x seq_len; None: the config's steps).
        alphas: clone-loss weights (distinct, >= 0; None: the config's alpha).
        store: results store or its path (None: nothing stored); a finished cell is read back.
        experiment: the name the cell is stored under (keep "lrc_rank_sweep" to resume existing stores).
        progress: show a progress bar (None: when stderr is a terminal).

    Returns:
        The cell's lrkd.sweep.StoredCell.
    """
    cell = sweep_cell(config, d_S_values, token_budgets, alphas)
    return run_grid(experiment, [cell], run_cell, store=store, executor=SerialExecutor(), progress=progress)[0]
