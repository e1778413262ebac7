"""How far a machine's cores scale for CPU-bound Python, with no simulator involved.

Usage::

    python benchmarks/cpu_ceiling.py --workers 1,2,4,8,16

Each row starts N processes that each run the same pure-Python loop (a SimPy M/M/1
queue of 20,000 customers, repeated ``--tasks`` / N times) and reports the aggregate
throughput against one process. This is the ceiling a sweep's speed-up can reach on
that machine: shared caches, memory bandwidth, SMT siblings and clock boost limits all
show here. Compare ``sweep_bench.py``'s speed-up with this row by row.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context


def task(seed: int) -> float:
    import random

    import simpy

    rng = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, 1)
    waits: list[float] = []

    def customer():  # type: ignore[no-untyped-def]
        arrived = env.now
        with desk.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(rng.expovariate(1.0))

    def source():  # type: ignore[no-untyped-def]
        for _ in range(20_000):
            yield env.timeout(rng.expovariate(0.8))
            env.process(customer())

    env.process(source())
    env.run()
    return sum(waits) / len(waits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--tasks", type=int, default=64, help="tasks per row")
    args = parser.parse_args()
    counts = [int(x) for x in args.workers.split(",")]
    print(f"cpu ceiling: {args.tasks} SimPy M/M/1 tasks per row, {os.cpu_count()} CPUs")
    print(f"{'workers':>8} {'wall s':>8} {'tasks/s':>9} {'speed-up':>9}")
    base = None
    for n in counts:
        with ProcessPoolExecutor(n, mp_context=get_context("spawn")) as pool:
            list(pool.map(task, range(n)))  # start every worker before timing
            started = time.perf_counter()
            list(pool.map(task, range(args.tasks)))
            wall = time.perf_counter() - started
        rate = args.tasks / wall
        base = base or rate
        print(f"{n:>8} {wall:>8.1f} {rate:>9.2f} {rate / base:>8.2f}×", flush=True)


if __name__ == "__main__":
    main()
