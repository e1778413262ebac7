"""``run_replications`` from Python: 2 worker processes against 1, repeated calls included.

Usage::

    python benchmarks/replications_bench.py               # 8 reps of a 60-day baseline, 4 rounds
    python benchmarks/replications_bench.py --reps 8 --days 60 --rounds 6 --workers 2

What a notebook user does: call ``run_replications(cfg, reps=8, workers=...)`` again and
again in one Python session. The Python API keeps its worker processes between calls
(``executor.shared_pool``), so only the first call with ``workers > 1`` starts them;
the table shows that first call apart. Each round times ``workers=1`` then
``workers=N`` back to back (interleaved, so a busy minute slows both) and the speed-up is
the median of the per-round ratios. Every call's summary must be byte-identical to the
serial one, and the script checks it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from machine import print_header

from silkroute_sim.config.loader import load_config
from silkroute_sim.experiments.executor import close_shared_pool
from silkroute_sim.experiments.replications import run_replications


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=8)
    parser.add_argument("--days", type=float, default=60)
    parser.add_argument("--warmup-days", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4, help="rounds after the first call")
    args = parser.parse_args()
    print_header()
    cfg = load_config("baseline", days=args.days, warmup_days=args.warmup_days)

    sims: dict[int, list[float]] = {1: [], args.workers: []}

    def timed(workers: int) -> tuple[float, str]:
        started = time.perf_counter()
        rr = run_replications(cfg, args.reps, workers=workers)
        sims[workers].append(sum(rep.wall_s for rep in rr.reps))
        return time.perf_counter() - started, rr.summary.to_csv()

    serial_s, reference = timed(1)
    first_s, first = timed(args.workers)  # starts the worker processes
    if first != reference:
        print("the parallel summary differs from the serial one", file=sys.stderr)
        return 1
    rounds: list[tuple[float, float, float]] = []
    for i in range(args.rounds):
        one, a = timed(1)
        many, b = timed(args.workers)
        if a != reference or b != reference:
            print(f"round {i + 1}: a summary differs from the first", file=sys.stderr)
            return 1
        rounds.append((one, many, os.getloadavg()[0]))
        print(
            f"  ... round {i + 1}: workers=1 {one:.2f} s, workers={args.workers} {many:.2f} s",
            file=sys.stderr,
            flush=True,
        )
    close_shared_pool()
    one = statistics.median(r[0] for r in rounds)
    many = statistics.median(r[1] for r in rounds)
    speedup = statistics.median(r[0] / r[1] for r in rounds)
    print(
        f"run_replications(cfg, reps={args.reps}, workers=...) of the baseline, "
        f"{args.days:g} days ({args.warmup_days:g} warm-up), from Python"
    )
    print(f"  {'call':<40} {'wall s':>7} {'speed-up':>9}")
    print(f"  {'workers=1, first call':<40} {serial_s:>7.2f}")
    label = f"workers={args.workers}, first call (starts processes)"
    print(f"  {label:<40} {first_s:>7.2f} {serial_s / first_s:>8.2f}×")
    print(f"  {'workers=1, later calls (median)':<40} {one:>7.2f}")
    label = f"workers={args.workers}, later calls (median)"
    print(f"  {label:<40} {many:>7.2f} {speedup:>8.2f}×")
    total_1 = serial_s + sum(r[0] for r in rounds)
    total_n = first_s + sum(r[1] for r in rounds)
    label = f"all {args.rounds + 1} calls, first included"
    print(f"  {label:<40} {total_n:>7.2f} {total_1 / total_n:>8.2f}×")
    print(f"  load average (1 min) over the rounds: {statistics.median(r[2] for r in rounds):.1f}")
    print(
        f"  simulate() seconds summed over the {args.reps} runs of a call, median: "
        f"workers=1 {statistics.median(sims[1]):.2f}, workers={args.workers} "
        f"{statistics.median(sims[args.workers]):.2f} (more with workers: the processes "
        "shared fewer cores than they were, i.e. the machine was busy)"
    )
    print("every summary byte-identical to the serial one: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
