"""Sweep throughput (runs per minute) against the number of local worker processes.

Usage::

    python benchmarks/sweep_bench.py                          # --workers 1,2 --runs 32
    python benchmarks/sweep_bench.py --rounds 3               # interleaved, medians
    python benchmarks/sweep_bench.py --workers 1,4,8,16 --runs 256   # a 16-core machine
    python benchmarks/sweep_bench.py --workers 1,2 --scheduler tcp://127.0.0.1:8786
    python benchmarks/sweep_bench.py --workers 1 --runs 4 --days 90 --warmup-days 30  # MB/run

Each row runs the same sweep into a fresh folder: one point of the baseline scenario
(``--days`` simulated days) with ``--runs`` replications (different seeds), no plots,
each run folder at the sweep's default ``--records summary`` (``--records full`` for
every table). The wall time includes starting the worker processes (and stopping them: each row is a
``silkroute sweep`` command's work), simulating, writing
every run folder and building runs.csv/points.csv: what a user waits for. With
``--rounds N`` the rows are run N times in turn (1, 2, 1, 2, …: interleaved, so a busy
minute slows every row) and the table gives medians; the speed-up is the median over
rounds of the first row's time over the row's (put 1 first); ``efficiency`` is speed-up /
workers; ``MB/run`` is what each run folder holds on disk. Every row's runs.csv must be
byte-identical, and the script checks it.

Each worker process starts a fresh interpreter and imports the package (about 1 s of CPU,
in parallel across workers), so give each worker at least ~16 runs for the figure to
measure the steady state. Run it on an otherwise idle machine: on Linux, processes of other
sessions get their fair share of the CPU whatever the worker count, and the ``load`` column
shows when that happened.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml
from machine import usable_cores

from silkroute_sim.config.loader import default_config_path
from silkroute_sim.experiments.executor import close_shared_pool
from silkroute_sim.experiments.sweep import plan_sweep, run_sweep


def write_spec(folder: Path, runs: int, days: float, warmup: float) -> Path:
    spec = {
        "name": "bench",
        "base": str(default_config_path()),
        "set": {"simulation.days": days, "simulation.warmup_days": warmup},
        "parameters": {"demand.tonnes_per_day": [3600]},
        "reps": runs,
        "seed": 1,
        "outputs": ["dispatched_t_per_day", "hub_dwell_h_mean", "crane_utilisation"],
    }
    path = folder / "bench.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def _cpu_s() -> float:
    """CPU seconds of this process and its reaped children (the pool's workers)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", default="1,2", help="comma-separated counts (default 1,2)")
    parser.add_argument("--runs", type=int, default=32, help="runs per row (default 32)")
    parser.add_argument("--days", type=float, default=60, help="simulated days per run")
    parser.add_argument("--warmup-days", type=float, default=10)
    parser.add_argument("--scheduler", default=None, help="also time a Dask cluster")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
    parser.add_argument("--records", choices=["summary", "full"], default="summary")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",") if w.strip()]
    if not counts or min(counts) < 1 or args.runs < 1:
        parser.error("--workers needs counts >= 1 and --runs at least 1")

    cores = usable_cores()
    print(
        f"sweep throughput: {args.runs} runs of the baseline, {args.days:g} days "
        f"({args.warmup_days:g} warm-up), no plots, records {args.records}, "
        f"{args.rounds} round(s)"
    )
    print(
        f"machine: {platform.machine()}, {cores} usable cores, Python {platform.python_version()}"
    )
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    loads: dict[str, list[float]] = {}
    sizes: dict[str, float] = {}
    setups: list[tuple[str, int, str | None]] = [(f"{w}", w, None) for w in counts]
    if args.scheduler:
        setups.append(("dask", 0, args.scheduler))
    reference: bytes | None = None
    with tempfile.TemporaryDirectory(prefix="sweep-bench-") as tmp:
        root = Path(tmp)
        plan = plan_sweep(write_spec(root, args.runs, args.days, args.warmup_days))
        for round_ in range(args.rounds):
            for label, workers, scheduler in setups:
                out = root / f"out-{round_}-{label}"
                cpu_before = _cpu_s()
                started = time.perf_counter()
                outcome = run_sweep(
                    plan,
                    out,
                    workers=workers or None,
                    scheduler=scheduler,
                    plots=False,
                    records=args.records,
                )
                close_shared_pool()  # as a command does at exit: the next row starts afresh
                wall = time.perf_counter() - started
                cpu = _cpu_s() - cpu_before  # pool workers are reaped by now: counted
                if outcome.failed:
                    print(f"{label}: {outcome.failed} runs failed", file=sys.stderr)
                    return 1
                table = (out / "runs.csv").read_bytes()
                if reference is None:
                    reference = table
                elif table != reference:
                    print(f"{label}: runs.csv differs from the first row's", file=sys.stderr)
                    return 1
                walls.setdefault(label, []).append(wall)
                cpus.setdefault(label, []).append(cpu)
                loads.setdefault(label, []).append(os.getloadavg()[0])
                runs_bytes = sum(p.stat().st_size for p in (out / "runs").rglob("*") if p.is_file())
                sizes[label] = runs_bytes / args.runs / 1e6
                shutil.rmtree(out, ignore_errors=True)  # the next rows need the disk
                print(f"  ... {label}: {wall:.1f} s", file=sys.stderr, flush=True)

    first = setups[0][0]
    print(
        f"{'workers':>10}  {'runs':>5}  {'wall s':>7}  {'runs/min':>9}  {'speed-up':>8}  "
        f"{'efficiency':>10}  {'cpu s/run':>9}  {'MB/run':>6}  {'load':>5}"
    )
    for label, workers, _ in setups:
        wall = statistics.median(walls[label])
        rate = args.runs / wall * 60
        speedup = statistics.median(a / b for a, b in zip(walls[first], walls[label], strict=True))
        eff = f"{speedup / workers:.0%}" if workers else ""
        cpu = statistics.median(cpus[label])
        load = statistics.median(loads[label])
        print(
            f"{label:>10}  {args.runs:>5}  {wall:>7.1f}  {rate:>9.1f}  {speedup:>7.2f}×  "
            f"{eff:>10}  {cpu / args.runs:>9.2f}  {sizes[label]:>6.2f}  {load:>5.1f}"
        )
    print(
        "cpu s/run: this process and its worker processes (not Dask workers); load: the "
        "1-minute load average after the row; a load above the core count means other "
        "programs took CPU and the speed-up is understated"
    )
    print("runs.csv identical in every row: yes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
