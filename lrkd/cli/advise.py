"""`lrkd advise TEACHER --budget N`: the student rank to distill into at budget N, with its interval.

TEACHER is a synthetic linear teacher written as a spec (``linear:m=64,n=64,spectrum=power_law:1.0,
noise=1.0``; the truth is known there, so the answer is checked against it) or a real teacher as
LRC configs take it (a known name, a model folder or a .gguf file, reduced with --teacher-layers,
--vocab corpus and --text; without them the whole teacher). The method is lrkd.validate.advice's: a
pilot sweep of widths x small budgets x seeds (through the results store, so a rerun resumes), r*(N)
with its bands, the growth law, an extrapolation to N with a prediction interval, and beside it the
paper's rule and (linear teachers) the spectrum's prediction.

A real teacher's pilot is the `lrc_real` experiment's rank sweep at its quick settings (by default
its budgets, widths and seeds; --pilot-budgets, --widths and --seeds change them): LRC students
trained from stored teacher outputs, scored by held-out KL. Its cells are the report's own, so a
pilot pointed at a quick report's store (`--store OUT/results.db`, with `--teacher-layers 2 --vocab
corpus`, the quick report's reduced teacher) reads them back instead of training, and vice versa.

Output: one line first (`rank 24 [16, 40] for N = 1,000,000 samples (power law, ...)`), then the
comparisons; `--json FILE` (rank, rank_interval, budget, law, pilot, spectrum_prediction,
paper_rule, ...); `--out DIR` for the figure (advice.png) and the tables (CSV). Progress goes to
stderr. Every input is checked before any work: a bad one is one line naming the field, exit 2.

Wiring (lrkd/cli/__init__.py): `from lrkd.cli import advise as advise_cli` and, in build_parser,
`advise_cli.add_parser(sub)`; `main` then dispatches through `args.handler`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from lrkd import progress
from lrkd.errors import InputError, require
from lrkd.paths import require_writable_folder

EXIT_INPUT = 2
DEFAULT_SEEDS = 8  # a linear teacher's pilot (a real teacher's default is the quick preset's seeds)
DEFAULT_PILOT_BUDGETS = 6
MAX_TRUTH_WIDTH = 128  # the Monte Carlo truth costs O(min(m, n)^3) per draw: skip it above this
TRUTH_DRAWS = 1000
MAX_BUDGET = 10**15  # far past any training run; keeps every count an exact 64-bit integer
_BUDGET = re.compile(r"^\d{1,3}(,\d{3})+$|^\d+(_\d+)*$")


def _lib():
    """lrkd.validate.advice, imported on first use: it loads torch and the science (seconds), which
    building the `lrkd` parser for another subcommand should not pay for."""
    from lrkd.validate import advice

    return advice


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `advise` subcommand to the `lrkd` parser's subparsers.

    Args: subparsers (the object argparse's add_subparsers returned).
    Returns: the subcommand's parser (its handler is `run`).
    """
    p = subparsers.add_parser(
        "advise",
        help="recommend a student rank for a budget N, from a pilot sweep (with its interval)",
        description="Recommend a student rank for budget N: a pilot sweep of widths x small budgets x "
        "seeds, r*(N) and its growth law, extrapolated to N with a prediction interval.",
    )
    p.add_argument(
        "teacher",
        metavar="TEACHER",
        help="a linear spec (linear:m=64,n=64,spectrum=power_law:1.0,noise=1.0[,seed=0]; spectrum also "
        "exponential:BETA or exact:RANK), a known teacher name, a model folder or a .gguf file",
    )
    p.add_argument("--budget", required=True, metavar="N", help="the target budget: samples (linear) or tokens")
    p.add_argument("--json", dest="json_path", type=Path, default=None, metavar="FILE", help="write the advice as JSON")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="write the figure and the tables here")
    p.add_argument(
        "--seeds",
        default=None,
        metavar="K",
        help=f"pilot seeds 0..K-1 (at least 3; default {DEFAULT_SEEDS} for a linear teacher, the quick "
        "report's seeds for a real one)",
    )
    p.add_argument(
        "--pilot-budgets",
        default=None,
        metavar="N1,N2,...",
        help=f"the pilot's budgets (linear: at least 4, default {DEFAULT_PILOT_BUDGETS} doublings from the power of "
        "two >= 4 n; real: tokens, at least 3, default the quick report's)",
    )
    p.add_argument(
        "--widths",
        default=None,
        metavar="W1,W2,...",
        help="real teacher: the pilot's student widths d_S (default the quick report's)",
    )
    p.add_argument(
        "--store",
        type=Path,
        default=Path("runs/results.db"),
        help="SQLite results store (default: runs/results.db); finished pilot cells are read back",
    )
    p.add_argument(
        "--teacher-layers", default=None, metavar="K", help="real teacher: keep its first K layers (default all)"
    )
    p.add_argument(
        "--vocab",
        default=None,
        choices=("full", "corpus"),
        help="real teacher: 'corpus' cuts the vocabulary to the text's (default full)",
    )
    p.add_argument(
        "--text", default=None, metavar="TEXT", help="real teacher: 'kjv' (default) or a local text file or folder"
    )
    p.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars or status messages"
    )
    p.set_defaults(handler=run)
    return p


@dataclasses.dataclass(frozen=True)
class _Request:
    """Everything the command needs, checked."""

    teacher: Any  # a LinearTeacher, or the real teacher's name/path
    budget: int
    plan: Any  # a validate.advice.PilotPlan
    real_options: dict[str, Any]  # the real teacher's reduction ({} for a linear teacher)
    real: bool


def run(args: argparse.Namespace) -> int:
    """Run `lrkd advise`: check every input, run (or resume) the pilot, advise, write the outputs.

    Args: args (the parsed subcommand: teacher, budget, json_path, out, seeds, pilot_budgets,
        widths, store, teacher_layers, vocab, text, quiet).
    Returns: the exit code (0; 2 for bad input, printed as one line).
    """
    was_quiet = progress.is_quiet()
    if getattr(args, "quiet", False):
        progress.set_quiet(True)
    try:
        request = check_request(args)
        return _advise_real(args, request) if request.real else _advise_linear(args, request)
    except InputError as exc:  # also caught by lrkd.cli.main; here so that run() alone keeps the contract
        print(f"lrkd advise: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    finally:
        progress.set_quiet(was_quiet)  # called in-process (tests), --quiet must not outlive the command


# ---------------------------------------------------------------- checking the input


def check_request(args: argparse.Namespace) -> _Request:
    """Every input, checked before any work (InputError naming the field otherwise).

    Args: args (as for `run`). Returns: the checked request.
    """
    budget = parse_budget(args.budget)
    seeds = None if args.seeds is None else _positive_int(args.seeds, "--seeds", 3, 64)
    linear = _lib().is_linear_spec(args.teacher)
    least = _lib().MIN_LAW_SIZES if linear else _lib().REAL_MIN_BUDGETS
    pilot_budgets = None if args.pilot_budgets is None else _budget_list(args.pilot_budgets, least)
    real_flags = {
        "--teacher-layers": args.teacher_layers,
        "--vocab": args.vocab,
        "--text": args.text,
        "--widths": args.widths,
    }
    if linear:
        for flag, value in real_flags.items():
            require(
                value is None, flag, "given only with a real teacher (a known name, model folder or .gguf file)", value
            )
        teacher = _lib().parse_linear_spec(args.teacher)
        seeds = DEFAULT_SEEDS if seeds is None else seeds
        if pilot_budgets is None:
            plan = _lib().default_linear_plan(teacher, n_seeds=seeds, n_budgets=DEFAULT_PILOT_BUDGETS)
        else:
            plan = _lib().PilotPlan(tuple(pilot_budgets), tuple(range(seeds)), tuple(range(1, teacher.max_rank + 1)))
        require(
            plan.budgets[0] > teacher.n + 1,
            "--pilot-budgets",
            f"budgets above n + 1 = {teacher.n + 1} (least squares needs more samples than inputs)",
            plan.budgets[0],
        )
        _check_budget_above(budget, plan.budgets)
        _check_outputs(args)
        return _Request(teacher, budget, plan, {}, real=False)
    _check_real_teacher(args.teacher)
    options = _real_options(args)
    widths = None if args.widths is None else _width_list(args.widths)
    plan = _lib().default_real_plan(budgets=pilot_budgets, n_seeds=seeds, widths=widths)
    _check_budget_above(budget, plan.budgets)
    _check_outputs(args)
    return _Request(args.teacher, budget, plan, options, real=True)


def _check_outputs(args: argparse.Namespace) -> None:
    _check_output(args.json_path, "--json", folder=False)
    _check_output(args.out, "--out", folder=True)
    _check_output(args.store, "--store", folder=False)


def parse_budget(text: Any) -> int:
    """The budget N from the command line: 1000000, 1,000,000, 1_000_000 or 1e6 (a whole number >= 1).

    Args: text. Returns: int. Raises: InputError("--budget", ...).
    """
    allowed = f"a whole number of samples or tokens in [1, {MAX_BUDGET:.0e}], such as 1000000, 1,000,000 or 1e6"
    raw = str(text).strip()
    if _BUDGET.fullmatch(raw):
        value = int(raw.replace(",", "").replace("_", ""))
    else:
        try:
            number = float(raw)
        except ValueError:
            raise InputError("--budget", f"must be {allowed}, got {raw!r}") from None
        if not (math.isfinite(number) and number == int(number) and abs(number) <= MAX_BUDGET):
            raise InputError("--budget", f"must be {allowed}, got {raw!r}")
        value = int(number)
    require(1 <= value <= MAX_BUDGET, "--budget", allowed, raw)
    return value


def _check_budget_above(budget: int, pilot: Any) -> None:
    top = max(pilot)
    require(
        budget > top,
        "--budget",
        f"above the pilot's largest budget {top:,} (advice extrapolates; pass smaller --pilot-budgets)",
        budget,
    )


def _positive_int(text: Any, field: str, low: int, high: int) -> int:
    raw = str(text).strip()
    ok = re.fullmatch(r"\d+", raw) is not None and low <= int(raw) <= high
    require(ok, field, f"an integer in [{low}, {high}]", raw)
    return int(raw)


def _budget_list(text: str, least: int) -> list[int]:
    return _int_list(text, "--pilot-budgets", least)


def _width_list(text: str) -> list[int]:
    return _int_list(text, "--widths", 2)


def _int_list(text: str, field: str, least: int) -> list[int]:
    parts = [p.strip() for p in str(text).split(",")]
    ok = len(parts) >= least and all(re.fullmatch(r"\d+", p) for p in parts)
    ok = ok and all(int(p) >= 1 for p in parts) and len({int(p) for p in parts if p.isdigit()}) == len(parts)
    require(ok, field, f"at least {least} distinct whole numbers >= 1, comma-separated", text)
    return sorted(int(p) for p in parts)


def _check_output(path: Path | None, flag: str, *, folder: bool) -> None:
    """A path we will write: a folder (--out) or a file (--json) whose folder can be created and
    written (it is created here, so these checks run last)."""
    if path is None:
        return
    target = Path(path)
    if folder:
        require(not target.exists() or target.is_dir(), flag, "a folder (this is a file)", str(target))
    else:
        require(not target.is_dir(), flag, "a file path (this is a folder)", str(target))
    require_writable_folder(target if folder else target.parent, flag)


def _real_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.teacher_layers is not None:
        options["teacher_layers"] = _positive_int(args.teacher_layers, "--teacher-layers", 1, 10_000)
    if args.vocab is not None:
        options["vocab"] = args.vocab
    if args.text is not None:
        text = str(args.text)
        require(
            text == "kjv" or Path(text).expanduser().exists(), "--text", "'kjv' or an existing file or folder", text
        )
        options["text"] = text
    return options


def _check_real_teacher(spec: str) -> None:
    """A real teacher must be a known name (its package installed), a readable .gguf file or a
    readable model folder (config.json that is JSON, with weights beside it, or one .gguf file):
    simulate.lrc.teacher.locate_teacher's rules, plus readability and weights; nothing is loaded."""
    from lrkd.simulate.lrc.teacher import KNOWN_TEACHERS, locate_teacher

    path = Path(spec).expanduser()
    if spec.lower() not in KNOWN_TEACHERS and not path.exists():  # say that a linear spec is allowed too
        known = ", ".join(KNOWN_TEACHERS)
        allowed = f"a linear spec ({_lib().SPEC_FORM}), a known name ({known}), a model folder or a .gguf file"
        require(False, "teacher", allowed, spec)
    if path.is_dir():
        require(os.access(path, os.R_OK | os.X_OK), "teacher", "a readable model folder", spec)
    folder, gguf_file, _ = locate_teacher(spec)
    if gguf_file is not None:
        require(os.access(folder / gguf_file, os.R_OK), "teacher", "a readable .gguf file", spec)
    elif spec.lower() not in KNOWN_TEACHERS:
        weights = [*folder.glob("*.safetensors"), *folder.glob("*.bin")]
        require(bool(weights), "teacher", "a model folder with its weights (*.safetensors or *.bin)", spec)


# ---------------------------------------------------------------- the linear teacher


def _advise_linear(args: argparse.Namespace, request: _Request) -> int:
    teacher, plan, budget = request.teacher, request.plan, request.budget
    label = _lib().teacher_label(teacher)
    progress.note(
        f"lrkd advise: pilot of {label}: {len(plan.budgets)} budgets ({plan.budgets[0]:,}..{plan.budgets[-1]:,}) "
        f"x {len(plan.seeds)} seeds x {len(plan.widths)} widths, closed-form RRR (store {args.store})"
    )
    from lrkd.executors import SerialExecutor

    # closed-form cells take milliseconds: a process pool would cost more than it saves
    sweep = _lib().linear_pilot(teacher, plan, store=args.store, executor=SerialExecutor(), progress=None)
    progress.note("lrkd advise: r*(N), growth laws and the extrapolation")
    advice = _lib().advise(sweep, budget, risk="excess_risk", max_rank=teacher.max_rank)
    progress.note("lrkd advise: the spectrum's prediction")
    spectrum = _lib().linear_spectrum_prediction(teacher, plan.budgets[-1], budget, advice.interval, seeds=plan.seeds)
    advice = dataclasses.replace(advice, spectrum_prediction=spectrum)
    truth = _truth(teacher, budget, advice)
    record = {"teacher": {"spec": args.teacher, "label": label, **teacher.to_dict()}, **advice.to_json()}
    record["truth"] = truth
    return _report(args, advice, record, label, unit="samples", truth=truth)


def _truth(teacher, budget: int, advice) -> dict[str, Any] | None:
    """The true excess-risk curve at the budget (Monte Carlo of the exact estimator), where it is cheap."""
    if teacher.max_rank > MAX_TRUTH_WIDTH:
        return None
    progress.note(f"lrkd advise: the truth at N = {budget:,} ({TRUTH_DRAWS} exact draws)")
    true = _lib().true_excess_risk(
        teacher.singular_values, m=teacher.m, n=teacher.n, noise=teacher.noise, n_samples=budget, draws=TRUTH_DRAWS
    )
    low, high = advice.interval
    within_1, within_5 = true.within(_lib().INTERVAL_TOLERANCE), true.within(_lib().ADVISED_TOLERANCE)
    return {
        "method": f"Monte Carlo of the exact RRR estimator from its sufficient statistics ({true.draws} draws)",
        "best_rank": true.best,
        "within_1pct": [int(within_1.min()), int(within_1.max())],
        "within_5pct": [int(within_5.min()), int(within_5.max())],
        "advised_gap": float(true.gap[advice.rank - 1]),
        "advised_gap_se": float(true.gap_se[advice.rank - 1]),
        "advised_within_5pct": bool(true.gap[advice.rank - 1] <= _lib().ADVISED_TOLERANCE),
        "interval_within_1pct": bool(np.min(true.gap[low - 1 : high]) <= _lib().INTERVAL_TOLERANCE),
    }


def _comparisons(advice, truth: dict[str, Any] | None) -> list[str]:
    lines = [advice.paper_rule["sentence"], advice.spectrum_prediction.get("sentence", "")]
    if advice.flat.get("flat"):
        lines.append(advice.flat["sentence"])
    if advice.widest.get("sentence") in advice.notes:  # the widest width moved the advice or its interval
        lines.append(advice.widest["sentence"])
    if truth is not None:
        lines.append(
            f"Truth (known for a linear teacher): best rank {truth['best_rank']}, ranks "
            f"{truth['within_5pct'][0]}..{truth['within_5pct'][1]} within 5% of its excess risk; the advised rank is "
            f"{100 * truth['advised_gap']:.1f}% above the best"
            + ("" if truth["interval_within_1pct"] else "; no rank of the interval is within 1% of the best")
            + "."
        )
    return [line for line in lines if line]


# ---------------------------------------------------------------- a real teacher


def _advise_real(args: argparse.Namespace, request: _Request) -> int:
    plan, budget, options = request.plan, request.budget, request.real_options
    reduction = ", ".join(f"{k} {v}" for k, v in options.items()) or "whole teacher"
    progress.note(
        f"lrkd advise: pilot of {request.teacher} ({reduction}): {len(plan.budgets)} budgets "
        f"({plan.budgets[0]:,}..{plan.budgets[-1]:,} tokens) x {len(plan.seeds)} seeds x widths "
        f"{', '.join(map(str, plan.widths))}, LRC from stored teacher outputs (store {args.store}; finished "
        "cells are read back)"
    )
    sweep = _lib().real_pilot(request.teacher, plan, options=options, store=args.store, progress=None)
    label, facts = sweep.attrs["teacher"], dict(sweep.attrs)
    progress.note("lrkd advise: r*(N), growth laws and the extrapolation")
    advice = _lib().advise(sweep, budget, risk=_lib().REAL_RISK, max_rank=facts["max_rank"])
    tokens = (
        f"N counts the tokens of each student's fixed training set ({facts['epochs']} epochs over it), not i.i.d. "
        f"samples; the advice can reach d_T - 1 = {facts['max_rank']} (the widest LRC student)."
    )
    spectrum = {
        "rank": None,
        "method": "not available for a real teacher (the spectrum's r* is a linear teacher's)",
    }
    advice = dataclasses.replace(advice, spectrum_prediction=spectrum, notes=(*advice.notes, tokens))
    record = {
        "teacher": {"name": args.teacher, "label": label, "d_T": facts["d_T"], **options},
        **advice.to_json(),
        "pilot_cells": {
            "experiment": facts["experiment"],
            "budgets": list(plan.budgets),
            "seeds": list(plan.seeds),
            "widths": list(plan.widths),
            "epochs": facts["epochs"],
            "lrc": facts["lrc"],
            "store": str(args.store),
        },
        "truth": None,
    }
    return _report(args, advice, record, label, unit="tokens", truth=None)


def _report(args: argparse.Namespace, advice, record: dict, label: str, *, unit: str, truth) -> int:
    """Print the advice (first line, then its comparisons) and write --json and --out.

    Args:
        args: the parsed command line.
        advice: the advice (validate.advice).
        record: the JSON record of it.
        label: the teacher's label, for the figure.
        unit: what N counts ("samples" or "tokens").
        truth: the known truth for a linear teacher, or None.

    Returns:
        The exit code, 0.
    """
    print(advice.line(unit))
    for sentence in _comparisons(advice, truth):
        print(sentence)
    if args.json_path is not None:
        _write_json(args.json_path, record)
        progress.note(f"lrkd advise: wrote {args.json_path}")
    if args.out is not None:
        _write_out(args.out, advice, record, label)
        progress.note(f"lrkd advise: wrote the figure and tables to {args.out}")
    return 0


# ---------------------------------------------------------------- the outputs


def _write_json(path: Path, record: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2, default=_json_default) + "\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-able: {type(value).__name__}")


def _write_out(out: Path, advice, record: dict[str, Any], label: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    from lrkd.reports.advice import write_advice_figure

    write_advice_figure(advice, out / "advice.png", title=f"Rank advice: {label}")
    advice.pilot.to_csv(out / "pilot.csv", index=False)
    advice.curves.to_csv(out / "risk_curves.csv", index=False)
    if len(advice.band):
        advice.band.to_csv(out / "law_band.csv", index=False)
    _write_json(out / "advice.json", record)
