"""Throughput of a real rank sweep: teacher outputs stored once vs the teacher recomputed per student.

    python benchmarks/bench_rank_sweep.py [--widths 8,16,32] [--tokens 2048] [--epochs 2]
                                          [--set key=value ...] [--json FILE] [--threads N]

Side by side in one process, same students, same data, same evaluation:
  (a) stored: one teacher pass over the N-token training set writes its outputs (top-k log-probs,
      tail mass, every layer's clone targets) to a fresh store, then every width trains for
      `epochs` passes reading them (`teacher_outputs = "cached"`, one shared sweep);
  (b) recomputed: every width is its own run with the live teacher, one forward per batch, per
      student and per epoch (`teacher_outputs = "live"`).
The time of (a) includes writing the store. Prints student-tokens per second (widths x epochs x
N / wall seconds) for both and their ratio (target >= 5). Default: the whole SmolLM2-135M teacher
(30 layers, 49,152-token vocabulary) on KJV text, dtype auto.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def parse(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--widths", default="8,16,32", help="student widths d_S (comma-separated)")
    p.add_argument("--tokens", type=int, default=2048, help="training-set size N in tokens")
    p.add_argument("--epochs", type=int, default=2, help="passes over the training set")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="LRCConfig overrides")
    p.add_argument("--json", type=Path, default=None, help="write the numbers to this file")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    return p.parse_args(argv)


def base_config(args, cache: Path):
    from lrkd.config import from_dict, parse_override
    from lrkd.simulate.lrc import LRCConfig

    values = {
        "seq_len": 64,
        "batch_size": 4,
        "top_k": 64,
        "eval_points": 2,
        "hidden_snapshots": 1,
        "eval_batches": 1,
        "mi_tokens": 64,
        "checkpoint_every": 10_000,
        "lr": 3e-3,
        "train_tokens": args.tokens,
        "token_budget": args.epochs * args.tokens,
    }
    values.update(parse_override(item) for item in args.set)
    values.update(cache_dir=str(cache), output_dir=str(cache / "runs"))
    return from_dict(LRCConfig, values)


def main(argv=None) -> int:
    args = parse(argv)
    import torch

    from lrkd.simulate.lrc import distill, load_teacher, train_sweep
    from lrkd.simulate.lrc.teacher import cache_root
    from lrkd.simulate.lrc.train import prepare_teacher

    if args.threads:
        torch.set_num_threads(args.threads)
    widths = [int(w) for w in args.widths.split(",")]
    with tempfile.TemporaryDirectory(prefix="lrkd-bench-") as tmp:
        cache = Path(tmp)
        if (cache_root() / "corpora").is_dir():  # reuse tokenized text: not what is being timed
            shutil.copytree(cache_root() / "corpora", cache / "corpora")
        config = base_config(args, cache)
        teacher = prepare_teacher(load_teacher(config.teacher), config)
        distill(
            replace(config, token_budget=None, steps=1, output_dir=str(cache / "warmup")),
            teacher=teacher,
            progress=False,
        )  # tokenize once, warm up kernels
        start = time.perf_counter()
        train_sweep(
            replace(config, teacher_outputs="cached", output_dir=str(cache / "a")),
            widths,
            teacher=teacher,
            progress=False,
        )
        stored_s = time.perf_counter() - start
        start = time.perf_counter()
        for width in widths:
            distill(
                replace(config, teacher_outputs="live", d_S=width, output_dir=str(cache / f"b{width}")),
                teacher=teacher,
                progress=False,
            )
        live_s = time.perf_counter() - start
        store_mb = sum(f.stat().st_size for f in (cache / "teacher_outputs").glob("*.safetensors")) / 2**20
    student_tokens = len(widths) * config.token_budget
    result = {
        "teacher": teacher.name,
        "reduction": teacher.reduction or "none",
        "widths": widths,
        "train_tokens": config.train_tokens,
        "epochs": args.epochs,
        "student_tokens": student_tokens,
        "stored_seconds": stored_s,
        "recomputed_seconds": live_s,
        "stored_student_tokens_per_s": student_tokens / stored_s,
        "recomputed_student_tokens_per_s": student_tokens / live_s,
        "ratio": live_s / stored_s,
        "target_ratio": 5.0,
        "store_mb": store_mb,
        "top_k": config.top_k,
        "dtype": config.dtype,
        "threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    print(
        f"rank sweep {widths} on {config.train_tokens} tokens x {args.epochs} epochs ({teacher.name}"
        f"{', ' + teacher.reduction if teacher.reduction else ''})"
    )
    print(
        f"  stored teacher outputs : {result['stored_student_tokens_per_s']:8.0f} student-tokens/s "
        f"({stored_s:.1f} s, store {store_mb:.0f} MB)"
    )
    print(
        f"  teacher per student    : {result['recomputed_student_tokens_per_s']:8.0f} student-tokens/s ({live_s:.1f} s)"
    )
    print(f"  ratio {result['ratio']:.2f}x (target >= 5)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
