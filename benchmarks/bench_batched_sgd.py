"""Benchmark: 64 SGD runs trained as one batched program vs. the same runs one at a time.

The runs: factorized students A B of 8 ranks (8, 16, ..., 64) x 8 seeds on one linear teacher
with m = n = 64 (--width changes it), N = 4096 training pairs, T = 2000 minibatch-SGD steps (batch
64, with replacement), float32. Every way calls the same trainer (`simulate.train`) on the same
data, inits and minibatches, in this one process, so the ratios are like for like; the final
weights are compared to show that the ways compute the same thing.

The ways (each a full `train` call: init, the step-size constants incl. the exact f_min, the
--record-points log-spaced records of exact risks and full-batch gradient norm, and the T steps;
no C1 statistics, no every-step full gradient unless --grad-every-step):
  batched, auto buckets        one call for all 64 runs, the default: rank buckets planned by
                               simulate.packed.plan_buckets, seed-grouped products, fused SGD
  batched, one bucket          the same packed program with every run padded to rank 64
  batched, padded step         buckets="none": the students' own step, every run padded to 64
                               and gathering its own minibatch (the program before packing)
  one run at a time            64 calls of one run each, default path (what batching is against)
  one at a time, padded step   64 calls with buckets="none" (the earlier baseline)

Reported: wall time (and process CPU time: on a busy machine wall time also counts the time the
process waited for a core), GFLOP/s and % of this machine's float32 matmul rate, counting only
useful FLOPs (the five products of each step at each run's own rank, 2 per multiply-add; padding
is not useful work), the FLOPs each way executes including padding, and the speed-ups over the
faster of the two one-at-a-time ways. The matmul rate is torch.matmul on square float32
matrices (best of sizes and repeats), measured in every round. Ways run in --repeats interleaved
rounds; the best round of each counts, since other work on a small shared machine inflates
single timings.
Targets (issue 4): speed-up >= 10x, achieved >= 30% of matmul.

    python benchmarks/bench_batched_sgd.py [--steps 2000] [--width 64] [--threads N] [--device auto]
"""

from __future__ import annotations

import argparse
import math
import time

import torch

from lrkd import simulate
from lrkd.device import resolve
from lrkd.simulate.data import Run, load_data
from lrkd.simulate.packed import bucket_overhead, plan_buckets
from lrkd.simulate.students_linear import FactorizedStudents
from lrkd.simulate.training import TrainSpec, train

N_SAMPLES = 4096
SEEDS = tuple(range(8))
BATCH = 64


def matmul_gflops(device: torch.device, sizes=(512, 1024, 2048), repeats: int = 3) -> float:
    """Best float32 torch.matmul rate over a few square sizes, GFLOP/s."""
    best = 0.0
    for size in sizes:
        a = torch.randn(size, size, device=device)
        b = torch.randn(size, size, device=device)
        inner = max(1, int(1e10 // (2 * size**3)))  # ~10 GFLOP per timing
        for _ in range(repeats):
            _sync(device)
            start = time.perf_counter()
            for _ in range(inner):
                a @ b
            _sync(device)
            best = max(best, inner * 2 * size**3 / (time.perf_counter() - start) / 1e9)
    return best


def timed(programs, spec, device, buckets):
    """Train each students object in turn: (wall s, CPU s, last trajectory)."""
    _sync(device)
    wall, cpu = time.perf_counter(), time.process_time()
    for students in programs:
        traj = train(students, spec, buckets=buckets)
    _sync(device)
    return time.perf_counter() - wall, time.process_time() - cpu, traj


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3, help="timed rounds; the best of each way counts")
    parser.add_argument("--width", type=int, default=64, help="m = n (ranks are width/8, 2 width/8, ..., width)")
    parser.add_argument("--record-points", type=int, default=16, help="log-spaced record steps incl. 0 and T")
    parser.add_argument("--grad-every-step", action="store_true", help="also take the full gradient every step")
    parser.add_argument("--skip-padded-alone", action="store_true", help="leave out 'one at a time, padded step'")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve(args.device)
    width = args.width
    ranks = [width * k // 8 for k in range(1, 9)]
    teacher = simulate.LinearTeacher(width, width, simulate.PowerLaw(1.0), noise=0.1, seed=0)
    spec = TrainSpec(
        steps=args.steps,
        lr=0.02,
        batch_size=BATCH,
        record_points=args.record_points,
        c1_stats=False,
        grad_every_step=args.grad_every_step,
    )
    runs = [Run(seed, rank) for rank in ranks for seed in SEEDS]
    data = load_data(teacher, N_SAMPLES, seeds=list(SEEDS), dtype=torch.float32, device=device)
    batched = [FactorizedStudents(teacher, data, runs)]
    alone = [FactorizedStudents(teacher, data, [run]) for run in runs]
    auto = plan_buckets([run.rank for run in runs], batched[0].flops_per_rank(BATCH), bucket_overhead(device))
    ways = {
        "batched, auto buckets": (batched, "auto"),
        "batched, one bucket": (batched, [max(ranks)]),
        "batched, padded step": (batched, "none"),
        "one run at a time": (alone, "auto"),
    }
    if not args.skip_padded_alone:
        ways["one at a time, padded step"] = (alone, "none")
    train(FactorizedStudents(teacher, data, runs[:2]), TrainSpec(steps=20, record_points=2, c1_stats=False))
    best = {name: (math.inf, math.inf) for name in ways}
    finals, peak = {}, 0.0
    for _ in range(args.repeats):  # interleaved rounds, best of each: robust to a busy machine
        peak = max(peak, matmul_gflops(device))
        for name, (programs, buckets) in ways.items():
            wall, cpu, traj = timed(programs, spec, device, buckets)
            best[name] = min(best[name], (wall, cpu))
            finals[name] = traj.final("excess_risk")
    # one at a time: `finals` holds the last run only; the batched runs' last column is that run
    diff = max(
        abs(float(finals[name][-1]) - float(finals["one run at a time"][0]))
        / abs(float(finals["one run at a time"][0]))
        for name in ways
        if name.startswith("batched")
    )

    per_rank = batched[0].flops_per_rank(BATCH) * args.steps
    useful = batched[0].flops_per_step(BATCH) * args.steps
    executed = {
        "batched, auto buckets": _padded(ranks, auto, per_rank, len(SEEDS)),
        "batched, one bucket": _padded(ranks, [max(ranks)], per_rank, len(SEEDS)),
        "batched, padded step": _padded(ranks, [max(ranks)], per_rank, len(SEEDS)),
        "one run at a time": useful,
        "one at a time, padded step": useful,
    }
    # the baseline is the faster of the one-at-a-time ways, so a slow path cannot flatter batching
    t_alone = min(best[name][0] for name in best if not name.startswith("batched"))
    print(f"device: {device}, torch threads: {torch.get_num_threads()}, dtype float32")
    print(
        f"64 runs = {len(ranks)} ranks {ranks} x {len(SEEDS)} seeds, m = n = {width}, N = {N_SAMPLES}, "
        f"T = {args.steps}, batch {BATCH}, {args.record_points} record points, "
        f"full gradient every step: {'yes' if args.grad_every_step else 'no'}"
    )
    print(f"auto buckets: widths {auto}")
    print(f"useful FLOPs {useful / 1e9:.1f} G; float32 matmul rate (torch.matmul, best): {peak:.1f} GFLOP/s")
    print()
    print(f"{'way':<28}{'wall s':>8}{'cpu s':>8}{'GFLOP/s':>9}{'% matmul':>10}{'executed G':>12}{'speed-up':>10}")
    for name, (wall, cpu) in best.items():
        rate = useful / wall / 1e9
        print(
            f"{name:<28}{wall:>8.2f}{cpu:>8.2f}{rate:>9.1f}{100 * rate / peak:>9.1f}%"
            f"{executed[name] / 1e9:>12.1f}{t_alone / wall:>9.2f}x"
        )
    print()
    t_batched = best["batched, auto buckets"][0]
    print(f"speed-up (fastest one-at-a-time way / batched, auto buckets): {t_alone / t_batched:.2f}x   (target >= 10x)")
    if "one at a time, padded step" in best:
        t_old = best["one at a time, padded step"][0]
        print(
            f"  the padded step alone (the program before packing), one at a time / batched: "
            f"{t_old / best['batched, padded step'][0]:.2f}x"
        )
    padded_rate = executed["batched, auto buckets"] / t_batched / 1e9
    print(
        f"batched achieved / matmul rate: {100 * useful / t_batched / 1e9 / peak:.1f}% useful (target >= 30%); "
        f"counting executed FLOPs incl. padding: {100 * padded_rate / peak:.1f}%"
    )
    print(f"max relative difference of the last run's final excess risk, batched ways vs alone: {diff:.2e}")


def _padded(ranks, widths, per_rank, copies) -> float:
    """FLOPs executed when each rank runs at the narrowest bucket width that holds it."""
    return copies * per_rank * sum(min(w for w in widths if w >= r) for r in ranks)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


if __name__ == "__main__":
    main()
