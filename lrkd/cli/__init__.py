"""The `lrkd` command line: report, claims, sweep, verify, experiments, teacher-outputs.

This module is the parser and the dispatch only: each handler below passes the parsed arguments to
the command's own module (claims.py; commands.py for sweep, experiments and teacher-outputs;
report.py; verify.py), imported when that command runs, so `--help` and argument errors load no
torch and no validate engine.

Every subcommand has --help. Bad input (an unknown subcommand, option or config key, a wrong type,
a value out of range, a missing file) prints ONE line on stderr and exits with code 2; the
traceback is kept for real bugs only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from lrkd import progress
from lrkd.cli import advise  # cheap: its science loads when the command runs
from lrkd.errors import InputError
from lrkd.executors import CellsLost

EXIT_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line (no usage block) with exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The `lrkd` parser: global --quiet and one subparser per command, each with its handler.

    Returns:
        The parser; `parse_args(...).handler(args)` runs the command.
    """
    parser = _Parser(prog="lrkd", description="Verify low-rank distillation theory claims against runs.")
    parser.add_argument("--quiet", action="store_true", help="no progress bars or status messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    _add_report(sub)
    _add_claims(sub)
    _add_sweep(sub)
    _add_verify(sub)
    _add_teacher_outputs(sub)
    _add_experiments(sub)
    advise.add_parser(sub)
    return parser


def _placement(p: argparse.ArgumentParser) -> None:
    """--executor / --workers / --scheduler: where the cells of the grids run."""
    p.add_argument(
        "--executor",
        default="local",
        choices=("serial", "local", "dask"),
        help="serial (this process), local (process pool, default) or dask (a Dask cluster)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes of the local pool or local Dask cluster (default: cores)",
    )
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="with --executor dask: join this running Dask scheduler instead of starting a local cluster",
    )


def _overrides(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (type-checked); repeatable",
    )


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress bars or status messages"
    )


def _add_report(sub) -> None:
    p = sub.add_parser("report", help="run every claim's experiments and write the validation report")
    size = p.add_mutually_exclusive_group()
    size.add_argument(
        "--quick",
        dest="size",
        action="store_const",
        const="quick",
        help="small sizes, under 10 minutes on a 2-core CPU (default)",
    )
    size.add_argument(
        "--standard",
        dest="size",
        action="store_const",
        const="standard",
        help="the quick synthetic part and a real run that identifies r*(N) (about 40 minutes on a 2-core CPU)",
    )
    size.add_argument(
        "--full", dest="size", action="store_const", const="full", help="publication sizes (hours on a CPU; see README)"
    )
    p.set_defaults(size="quick")
    p.add_argument("--out", type=Path, default=Path("lrkd-report"), help="output folder (default: lrkd-report)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where runs execute")
    p.add_argument(
        "--claims", default=None, help="comma-separated claim ids to include (default: all; `lrkd claims` lists them)"
    )
    p.add_argument("--no-real", action="store_true", help="skip the real language-model run")
    _placement(p)
    _common(p)
    p.set_defaults(handler=_cmd_report)


def _add_claims(sub) -> None:
    p = sub.add_parser("claims", help="list the claims with their formulas and assumptions")
    p.add_argument("--latex", action="store_true", help="emit LaTeX instead of text")
    p.add_argument("ids", nargs="*", help="claim ids to show (default: all)")
    _common(p)
    p.set_defaults(handler=_cmd_claims)


def _add_sweep(sub) -> None:
    p = sub.add_parser("sweep", help="run one experiment grid from a TOML config file (resumable)")
    p.add_argument("config", type=Path, help="TOML file: `experiment = NAME`, optional `preset`, then its keys")
    _overrides(p)
    p.add_argument(
        "--store",
        type=Path,
        default=Path("runs/results.db"),
        help="SQLite results store (default: runs/results.db); finished cells are skipped",
    )
    p.add_argument("--out", type=Path, default=None, help="also export the tables as CSV and Parquet here")
    _placement(p)
    _common(p)
    p.set_defaults(handler=_cmd_sweep)


def _add_teacher_outputs(sub) -> None:
    p = sub.add_parser(
        "teacher-outputs",
        help="compute a distillation config's teacher outputs once and store them "
        '(then run it with teacher_outputs = "stored")',
    )
    p.add_argument("config", type=Path, help="TOML file of simulate.lrc.LRCConfig keys (e.g. configs/lrc_quick.toml)")
    _overrides(p)
    _common(p)
    p.set_defaults(handler=_cmd_teacher_outputs)


def _add_verify(sub) -> None:
    p = sub.add_parser("verify", help="rerun the quick claim checks against the committed baseline")
    p.add_argument("--baseline", type=Path, default=None, help="baseline JSON (default: reports/baseline.json)")
    p.add_argument(
        "--claims-file",
        type=Path,
        default=None,
        help="a Python file registering claims/experiments of your own to check as well",
    )
    p.add_argument("--store", type=Path, default=None, help="results store to reuse (default: a temporary one)")
    p.add_argument("--update", action="store_true", help="write the current verdicts as the new baseline")
    _placement(p)
    _common(p)
    p.set_defaults(handler=_cmd_verify)


def _add_experiments(sub) -> None:
    p = sub.add_parser("experiments", help="list the registered experiments and their config keys")
    p.add_argument("name", nargs="?", help="show one experiment's keys and presets")
    _common(p)
    p.set_defaults(handler=_cmd_experiments)


# -- dispatch: each command's module is imported by its handler, when that command runs ----------
def _cmd_claims(args) -> int:
    from lrkd.cli import claims  # on use: parsing needs no theory (sympy)

    return claims.run(args.ids, latex=args.latex)


def _cmd_sweep(args) -> int:
    from lrkd.cli import commands  # on use: torch and the validate engine

    return commands.sweep(
        args.config,
        args.overrides,
        store=args.store,
        out=args.out,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
    )


def _cmd_teacher_outputs(args) -> int:
    from lrkd.cli import commands  # on use: torch and transformers

    return commands.teacher_outputs(args.config, args.overrides)


def _cmd_experiments(args) -> int:
    from lrkd.cli import commands  # on use: torch and the validate engine

    return commands.experiments(args.name)


def _cmd_report(args) -> int:
    from lrkd.cli import report  # on use: torch, the validate engine and matplotlib

    return report.run(
        size=args.size,
        out=args.out,
        device=args.device,
        claims=args.claims,
        real=not args.no_real,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
    )


def _cmd_verify(args) -> int:
    from lrkd.cli import verify  # on use: torch and the validate engine

    return verify.run(
        baseline=args.baseline,
        claims_file=args.claims_file,
        store=args.store,
        update=args.update,
        workers=args.workers,
        executor=args.executor,
        scheduler=args.scheduler,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run one `lrkd` command line.

    Args:
        argv: the arguments after `lrkd` (default: sys.argv[1:]).

    Returns:
        The exit code: 0, 1 (a regression, or cells lost on dead workers), 2 (bad input, one line
        on stderr), 130 (interrupted). argparse's own errors exit with 2 (SystemExit).
    """
    args = build_parser().parse_args(argv)
    if getattr(args, "quiet", False):  # else LRKD_QUIET (read by lrkd.progress) decides
        progress.set_quiet(True)
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"lrkd {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except CellsLost as exc:  # workers died under some cells; the rest is stored
        print(f"lrkd {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"lrkd {args.command}: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`lrkd claims | head`): not an error; point stdout at /dev/null so
        # that the interpreter's own flush at exit does not raise again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
