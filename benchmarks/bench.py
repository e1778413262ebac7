"""Speed and memory of silkroute-sim, with a bare SimPy reference measured in the same run.

Usage::

    python benchmarks/bench.py            # full table (a few minutes)
    python benchmarks/bench.py --quick    # fewer repeats, no 10-year memory run
    python benchmarks/bench.py --markdown benchmarks/results.md

Timings come in ``--repeats`` rounds (default 5); each round times the reference, one
simulated year and the scaled runs back to back, each ratio is taken within its round,
and the table gives medians over rounds, with the best (least) times beside them.
Ratios are what to compare across machines: the reference is a bare SimPy M/M/4 queue
at rho = 0.9 serving 100,000 customers, timed in the same process as the model.
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
    parser.add_argument("--repeats", type=int, default=5, help="rounds of timings")
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

    # Timings come in rounds: each round times the reference, one year, and every
    # scaled run back to back, and each ratio is taken within its round; the table
    # gives the median over rounds. A slow spell of a shared machine then moves both
    # sides of a ratio, instead of one.
    def demand_run(factor: int) -> float:
        # scale demand and the hub with it, so the hub stays below saturation
        return run_model(
            365,
            [
                f"demand.tonnes_per_day={3600 * factor}",
                f"hub.cranes.count={3 * factor}",
                f"hub.gate.lanes={4 * factor}",
                f"hub.loading.tracks={4 * factor}",
                f"hub.yard.capacity_teu={2000 * factor}",
            ],
        )[0]

    times: dict[str, list[float]] = {k: [] for k in ("ref", "y1", "y2", "y4", "d2", "d4")}
    events = 0
    for _ in range(repeats):
        times["ref"].append(mmc_reference()[0])
        year, events = run_model(365)
        times["y1"].append(year)
        times["y2"].append(run_model(365 * 2)[0])
        times["y4"].append(run_model(365 * 4)[0])
        times["d2"].append(demand_run(2))
        times["d4"].append(demand_run(4))

    def ratio(num: str, den: str) -> str:
        """Median of the ratios within rounds, and best time / best time: on a quiet
        machine the two agree; when they do not, a slow spell hit some rounds."""
        in_rounds = statistics.median(a / b for a, b in zip(times[num], times[den], strict=True))
        if repeats == 1:
            return f"{in_rounds:.2f}"
        return f"{in_rounds:.2f} (best/best {min(times[num]) / min(times[den]):.2f})"

    def seconds(key: str) -> str:
        median = statistics.median(times[key])
        return f"{median:.3f} s" if repeats == 1 else f"{median:.3f} s (best {min(times[key]):.3f})"

    row("reference: SimPy M/M/4, rho=0.9, 100k customers", seconds("ref"))
    row("baseline, 1 simulated year (no plots)", seconds("y1"))
    row("  engine events processed", f"{events:,}")
    row("  events per second", f"{events / statistics.median(times['y1']):,.0f}")
    row("ratio baseline-year / reference", ratio("y1", "ref"))
    if repeats > 1:
        rounds = sorted(a / b for a, b in zip(times["y1"], times["ref"], strict=True))
        row("  the ratio in each round (sorted)", " · ".join(f"{x:.2f}" for x in rounds))
    row("scaling: 2 years / 1 year", ratio("y2", "y1"))
    row("scaling: 4 years / 1 year", ratio("y4", "y1"))
    row("scaling: demand x2 / demand x1 (1 year)", ratio("d2", "y1"))
    row("scaling: demand x4 / demand x1 (1 year)", ratio("d4", "y1"))
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
            f"Command: `python benchmarks/bench.py` (medians over {repeats} rounds)  ",
            f"Date: {time.strftime('%Y-%m-%d')}",
            "",
            "| measure | value |",
            "|---|---|",
        ]
        lines += [f"| {name.strip()} | {value} |" for name, value in rows]
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
