"""Throughput of real LRC distillation on the quick config: LRC vs vanilla KD, shared vs separate teachers.

    python benchmarks/bench_lrc.py [--config configs/lrc_quick.toml] [--set key=value ...]
                                   [--sweep 24,48,96,192] [--steps 3] [--repeats 2] [--threads N]

Measured side by side in one process, interleaved repeat by repeat, with the suite's own training
step (teacher forward + one optimizer step per student; evaluation excluded):
  (a) LRC: one d_S student per teacher forward;
  (b) vanilla logit KD of a dense student of the same width, same teacher, same forward code;
  (c) a rank sweep of 4 students sharing each teacher forward, against 4 separate runs that each
      run the teacher themselves.
Prints tokens/s (training tokens per second; for sweeps, student-tokens: 4 students x batch
tokens per step) and the ratios the README quotes: LRC / KD time per token (target <= 1.3) and
separate / shared time for the sweep (target >= 1.5), plus the teacher forward alone and the
bound (4t + S) / (t + S) that sharing it can reach (t: teacher, S: the students' own steps).
Model FLOPs per token are counted
analytically (matmuls only: 2 per multiply-add, backward = 2 x forward, plus forming W_T @ P
once per step for LRC); with --peak-tflops the model FLOP utilization is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "configs" / "lrc_quick.toml"))
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--sweep", default="24,48,96,192", help="d_S of the 4-student rank sweep")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per variant and repeat")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="device peak, for MFU")
    parser.add_argument("--json", default=None, help="also write the results here")
    return parser.parse_args(argv)


# -- analytic model FLOPs ----------------------------------------------------------------------


def layer_macs_per_token(arch, width: int) -> int:
    """Multiply-adds per token of one decoder layer's matrices at residual width `width`."""
    d_attn, d_kv = arch.n_heads * arch.head_dim, arch.n_kv_heads * arch.head_dim
    return width * d_attn + 2 * width * d_kv + d_attn * width + 3 * width * arch.d_ff


def attention_macs_per_token(arch, seq_len: int) -> int:
    return arch.n_heads * arch.head_dim * seq_len  # QK^T and AV, causal: 2 x (T/2) per token


def teacher_flops_per_token(arch, seq_len: int) -> float:
    macs = arch.n_layers * (layer_macs_per_token(arch, arch.d_model) + attention_macs_per_token(arch, seq_len))
    return 2.0 * (macs + arch.vocab * arch.d_model)


def student_flops_per_token(arch, d_S: int, seq_len: int, tokens_per_step: int, method: str) -> float:
    """Forward + backward of the student, plus (LRC) forming and back-propagating W_T @ P per step."""
    macs = arch.n_layers * (layer_macs_per_token(arch, d_S) + attention_macs_per_token(arch, seq_len))
    macs += arch.vocab * d_S
    flops = 6.0 * macs
    if method == "lrc":
        d_attn = arch.n_heads * arch.head_dim
        # teacher-width attention output: frozen W_o (input gradient only) in d_T, then P_o
        flops += arch.n_layers * (4.0 * d_attn * arch.d_model + 6.0 * arch.d_model * d_S - 6.0 * d_attn * d_S)
        formed_per_layer = (layer_macs_per_token(arch, d_S) - d_attn * d_S) * arch.d_model
        formed = arch.n_layers * formed_per_layer + arch.vocab * arch.d_model * d_S
        flops += 4.0 * formed / tokens_per_step
    return flops


# -- timing ------------------------------------------------------------------------------------


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    from lrkd.config import load
    from lrkd.simulate.lrc import LRCConfig, load_teacher
    from lrkd.simulate.lrc.data import BatchStream, build_corpus
    from lrkd.simulate.lrc.teacher import cache_root
    from lrkd.simulate.lrc.train import StudentSpec, Trainee, resolve_precision, teacher_step, train_step

    cfg = load(LRCConfig, args.config, args.overrides)
    prec = resolve_precision(cfg.device, cfg.dtype)
    teacher = load_teacher(cfg.teacher, cache_dir=cfg.cache_dir, device=prec.device)
    teacher.set_compute_dtype(prec.autocast_dtype)
    corpus = build_corpus(teacher.tokenizer, cfg.text, cfg.seq_len, cache_dir=cache_root(cfg.cache_dir))
    stream = BatchStream(corpus.train, cfg.batch_size, cfg.seed)
    tokens = cfg.tokens_per_step
    sweep = [int(d) for d in args.sweep.split(",")]

    def trainee(d_S, method="lrc"):
        import dataclasses

        c = dataclasses.replace(cfg, method=method, steps=10_000, warmup_steps=0)
        return Trainee(StudentSpec(d_S, cfg.alpha if method == "lrc" else 0.0, 10_000, tokens), c, teacher)

    lrc, kd = trainee(cfg.d_S), trainee(cfg.d_S, "kd")
    shared = [trainee(d) for d in sweep]
    separate = [trainee(d) for d in sweep]
    step_counter = [0]

    def run(students, share_teacher: bool) -> float:
        """Seconds for one training step of `students` (teacher once, or once per student)."""
        ids = torch.from_numpy(stream.batch(step_counter[0])).to(prec.device)
        step_counter[0] += 1
        start = prec.clock()
        outputs = None
        for tr in students:
            if outputs is None or not share_teacher:
                outputs = teacher_step(teacher, ids, bool(tr.clone_kinds), cfg, prec)
            train_step(tr, len(tr.step_rows), ids, *outputs, prec)
        return prec.clock() - start

    def teacher_only(_students, _share) -> float:
        ids = torch.from_numpy(stream.batch(0)).to(prec.device)
        start = prec.clock()
        teacher_step(teacher, ids, True, cfg, prec)
        return prec.clock() - start

    variants = {
        "lrc": ([lrc], True),
        "kd": ([kd], True),
        "sweep_shared": (shared, True),
        "sweep_separate": (separate, False),
        "teacher": ([], True),
    }
    timers = {name: (teacher_only if name == "teacher" else run) for name in variants}
    for name, (students, share) in variants.items():  # warm-up step (allocations, caches)
        timers[name](students, share)
    times = {name: [] for name in variants}
    for _ in range(args.repeats):
        for name, (students, share) in variants.items():
            times[name] += [timers[name](students, share) for _ in range(args.steps)]
    per_step = {name: statistics.median(values) for name, values in times.items()}
    teacher_seconds = per_step.pop("teacher")
    results = summarize(per_step, teacher.arch, cfg, sweep, prec, args)
    results["teacher_forward_seconds"] = teacher_seconds
    results["sweep_speedup_bound"] = _speedup_bound(per_step, teacher_seconds, len(sweep))
    print_report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return results


def _speedup_bound(per_step: dict, teacher_seconds: float, n: int) -> float:
    """(n t + S) / (t + S) with S the students' own time in the shared step: what sharing can give."""
    students = max(per_step["sweep_shared"] - teacher_seconds, 1e-9)
    return (n * teacher_seconds + students) / (teacher_seconds + students)


def summarize(per_step, arch, cfg, sweep, prec, args) -> dict:
    tokens = cfg.tokens_per_step
    t_flops = teacher_flops_per_token(arch, cfg.seq_len)

    def student(d_S, method="lrc"):
        return student_flops_per_token(arch, d_S, cfg.seq_len, tokens, method)

    sweep_students = sum(student(d) for d in sweep)
    flops = {  # per student-token
        "lrc": t_flops + student(cfg.d_S),
        "kd": t_flops + student(cfg.d_S, "kd"),
        "sweep_shared": (t_flops + sweep_students) / len(sweep),
        "sweep_separate": t_flops + sweep_students / len(sweep),
    }
    student_tokens = {
        "lrc": tokens,
        "kd": tokens,
        "sweep_shared": tokens * len(sweep),
        "sweep_separate": tokens * len(sweep),
    }
    rows = {}
    for name, seconds in per_step.items():
        tps = student_tokens[name] / seconds
        row = {
            "seconds_per_step": seconds,
            "tokens_per_s": tps,
            "model_flops_per_token": flops[name],
            "achieved_tflops": tps * flops[name] / 1e12,
        }
        if args.peak_tflops:
            row["mfu"] = row["achieved_tflops"] / args.peak_tflops
        rows[name] = row
    load1 = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {
        "device": str(prec.device),
        "dtype": prec.name,
        "threads": torch.get_num_threads(),
        "load_average_1min": load1,
        "config": args.config,
        "overrides": args.overrides,
        "d_S": cfg.d_S,
        "batch_size": cfg.batch_size,
        "seq_len": cfg.seq_len,
        "sweep_d_S": sweep,
        "steps_timed": args.steps * args.repeats,
        "variants": rows,
        "lrc_over_kd_time_per_token": rows["kd"]["tokens_per_s"] / rows["lrc"]["tokens_per_s"],
        "sweep_speedup_shared_vs_separate": per_step["sweep_separate"] / per_step["sweep_shared"],
    }


def print_report(r: dict) -> None:
    print(
        f"device {r['device']} ({r['dtype']}, {r['threads']} threads, load {r['load_average_1min']}), "
        f"d_S {r['d_S']}, batch {r['batch_size']} x {r['seq_len']} tokens, sweep d_S {r['sweep_d_S']}, "
        f"median of {r['steps_timed']} steps"
    )
    print(
        f"{'variant':16s} {'s/step':>8s} {'tokens/s':>10s} {'GFLOP/token':>12s} {'TFLOP/s':>8s}"
        + ("   MFU" if "mfu" in r["variants"]["lrc"] else "")
    )
    for name, row in r["variants"].items():
        mfu = f" {row['mfu']:6.1%}" if "mfu" in row else ""
        print(
            f"{name:16s} {row['seconds_per_step']:8.2f} {row['tokens_per_s']:10.1f} "
            f"{row['model_flops_per_token'] / 1e9:12.3f} {row['achieved_tflops']:8.3f}{mfu}"
        )
    print(f"LRC / vanilla KD time per token: {r['lrc_over_kd_time_per_token']:.2f}x  (target <= 1.3)")
    speedup = r["sweep_speedup_shared_vs_separate"]
    print(f"4-student sweep, separate / shared teacher time: {speedup:.2f}x  (target >= 1.5)")
    print(
        f"teacher forward alone: {r['teacher_forward_seconds']:.2f} s/step, so sharing it can give at most "
        f"{r['sweep_speedup_bound']:.2f}x here (the students' own steps dominate)"
    )


if __name__ == "__main__":
    main()
