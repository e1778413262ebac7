"""Speed and memory of silkroute-sim, with a bare SimPy reference measured in the same run.

Usage::

    python benchmarks/bench.py            # full table (a few minutes)
    python benchmarks/bench.py --quick    # fewer repeats, no 10-year memory run
    python benchmarks/bench.py --markdown benchmarks/results.md

Every time is the median of ``--repeats`` runs. Ratios are what to compare across
machines: the reference is a bare SimPy M/M/4 queue at rho = 0.9 serving 100,000
customers, timed in the same process right before the model.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import simpy

REPO = Path(__file__).resolve().parents[1]


def mmc_reference(
    customers: int = 100_000, servers: int = 4, rho: float = 0.9, seed: int = 1
) -> tuple[float, float]:
    """Bare SimPy M/M/c: (wall seconds, mean wait). Draws come from numpy in blocks, as a
    careful SimPy user would write it."""
    rng = np.random.default_rng(seed)
    mu = 1.0
    lam = rho * servers * mu
    gaps = rng.exponential(1 / lam, customers).tolist()
    services = rng.exponential(1 / mu, customers).tolist()
    env = simpy.Environment()
    desk = simpy.Resource(env, servers)
    waits: list[float] = []

    def customer(i: int):  # type: ignore[no-untyped-def]
        arrived = env.now
        with desk.request() as req:
            yield req
            waits.append(env.now - arrived)
            yield env.timeout(services[i])

    def source():  # type: ignore[no-untyped-def]
        for i in range(customers):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    started = time.perf_counter()
    env.process(source())
    env.run()
    return time.perf_counter() - started, float(np.mean(waits))


def run_model(days: float, overrides: list[str] | None = None) -> tuple[float, int]:
    from silkroute_sim.loader import load_config
    from silkroute_sim.model import simulate

    cfg = load_config("baseline", overrides or [], days=days, warmup_days=min(30, days / 2))
    result = simulate(cfg)
    return result.wall_s, result.events


def median_time(fn: Callable[[], float], repeats: int) -> float:
    return statistics.median(fn() for _ in range(repeats))


def peak_rss_mb(days: float) -> float:
    """Peak RSS of a fresh process simulating ``days`` (and building its tables)."""
    code = (
        "import resource, sys\n"
        "from silkroute_sim.loader import load_config\n"
        "from silkroute_sim.model import simulate\n"
        "from silkroute_sim.metrics import Tables\n"
        f"cfg = load_config('baseline', days={days}, warmup_days=30)\n"
        "r = simulate(cfg); t = Tables(r)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def import_probe() -> tuple[float, list[str], float]:
    code = (
        "import sys, time\n"
        "t = time.perf_counter()\n"
        "import silkroute_sim\n"
        "dt = time.perf_counter() - t\n"
        "heavy = [m for m in ('pandas', 'matplotlib', 'dask', 'scipy') if m in sys.modules]\n"
        "import json; print(json.dumps([dt, heavy]))\n"
    )
    imports = []
    heavy: list[str] = []
    for _ in range(5):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        dt, heavy = json.loads(out.stdout)
        imports.append(dt)
    helps = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "silkroute_sim", "--help"], capture_output=True, check=True
        )
        helps.append(time.perf_counter() - started)
    return statistics.median(imports), heavy, statistics.median(helps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 repeat, no 10-year run")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    repeats = 1 if args.quick else args.repeats

    rows: list[tuple[str, str]] = []

    def row(name: str, value: str) -> None:
        rows.append((name, value))
        print(f"{name:<48} {value}", flush=True)

    # memory first, in fresh child processes while this one is still small: on Linux a
    # child's peak RSS starts from its parent's size at fork time
    rss_1y = peak_rss_mb(365)
    rss_10y = None if args.quick else peak_rss_mb(3650)
    ref = median_time(lambda: mmc_reference()[0], repeats)
    row("reference: SimPy M/M/4, rho=0.9, 100k customers", f"{ref:.3f} s")
    year = median_time(lambda: run_model(365)[0], repeats)
    _, events = run_model(365)
    row("baseline, 1 simulated year (no plots)", f"{year:.3f} s")
    row("  engine events processed", f"{events:,}")
    row("  events per second", f"{events / year:,.0f}")
    row("ratio baseline-year / reference", f"{year / ref:.2f}")
    for years in (2, 4):
        t = median_time(lambda y=years: run_model(365 * y)[0], repeats)
        row(f"scaling: {years} years / 1 year", f"{t / year:.2f}")
    for factor in (2, 4):

        def demand_run(f: int = factor) -> float:
            # scale demand and the hub with it, so the hub stays below saturation
            return run_model(
                365,
                [
                    f"demand.tonnes_per_day={3600 * f}",
                    f"hub.cranes.count={3 * f}",
                    f"hub.gate.lanes={4 * f}",
                    f"hub.loading.tracks={4 * f}",
                    f"hub.yard.capacity_teu={2000 * f}",
                ],
            )[0]

        t = median_time(demand_run, repeats)
        row(f"scaling: demand x{factor} / demand x1 (1 year)", f"{t / year:.2f}")
    row("peak RSS, 1 year (incl. tables)", f"{rss_1y:.0f} MB")
    if rss_10y is not None:
        row("peak RSS, 10 years (incl. tables)", f"{rss_10y:.0f} MB")
    imp, heavy, helps = import_probe()
    row("import silkroute_sim", f"{imp * 1000:.0f} ms")
    row("  heavy modules pulled in by the import", ", ".join(heavy) or "none")
    row("silkroute --help (whole process)", f"{helps:.2f} s")

    if args.markdown:
        machine = (
            f"{platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, SimPy {simpy.__version__}, numpy "
            f"{np.__version__}"
        )
        lines = [
            "# Benchmark results",
            "",
            f"Machine: {machine}  ",
            f"Command: `python benchmarks/bench.py` (median of {repeats})  ",
            f"Date: {time.strftime('%Y-%m-%d')}",
            "",
            "| measure | value |",
            "|---|---|",
        ]
        lines += [f"| {name.strip()} | {value} |" for name, value in rows]
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
