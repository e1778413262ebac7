"""Speed and memory of silkroute-sim, with a bare SimPy reference measured in the same run.

Usage::

    python benchmarks/bench.py            # full table (a few minutes)
    python benchmarks/bench.py --quick    # fewer repeats, no 10-year memory run
    python benchmarks/bench.py --markdown benchmarks/results.md   # the installed build
    PYTHONPATH=src python benchmarks/bench.py --markdown benchmarks/results-pure.md
    python benchmarks/bench.py --instructions   # also count instructions (valgrind)

It measures the build it imports (the table's first line says which): ``pip install .``
installs the pure-Python build, ``SILKROUTE_BUILD=compiled pip install .`` the compiled
one; ``PYTHONPATH=src`` or an editable install runs the source tree's pure Python.
``benchmarks/simulate_vs_simpy.py`` times only the year against the reference.

Timings come in ``--repeats`` rounds (default 5); each round times the reference, one
simulated year and the scaled runs back to back, each ratio is taken within its round,
and the table gives medians over rounds, with the best (least) times beside them.
Ratios are what to compare across machines: the reference is a bare SimPy M/M/4 queue
at rho = 0.9 serving 100,000 customers, timed in the same process as the model.

On a shared machine the same run can take 1.6 s one minute and 2.7 s the next.
``--instructions`` adds a measure that does not move: the CPU instructions of the
reference and of one simulated year, counted by valgrind (``cachegrind``, no cache
simulation; about 8 minutes on 2 cores). Each count is that of a child process doing the
work minus that of the same child stopping just before it (imports, configs and a warm
run cost the same in both), with hash seeds and address-space layout fixed. The
instruction ratio is steady to about 1 % from run to run: it is the figure to decide
small changes with. Wall time also pays for cache misses, so the time ratio is higher.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from silkroute_sim.buildinfo import build_kind

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


def baseline_config(
    days: float, overrides: list[str] | None = None, config: str | None = None
) -> Any:
    """The baseline (or ``config``: a scenario name or YAML file) for ``days`` (warm-up
    30 days, at most half the run)."""
    from silkroute_sim.config.loader import load_config

    return load_config(
        config or "baseline", overrides or [], days=days, warmup_days=min(30, days / 2)
    )


def run_model(
    days: float, overrides: list[str] | None = None, config: str | None = None
) -> tuple[float, int]:
    from silkroute_sim.model.simulate import simulate

    result = simulate(baseline_config(days, overrides, config))
    return result.wall_s, result.events


def peak_rss_mb(days: float) -> float:
    """Peak RSS of a fresh process simulating ``days`` (and building its tables)."""
    code = (
        "import resource, sys\n"
        "from silkroute_sim.config.loader import load_config\n"
        "from silkroute_sim.model.simulate import simulate\n"
        "from silkroute_sim.analysis.tables import Tables\n"
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


def demand_overrides(factor: int) -> list[str]:
    """Demand ``factor`` times the baseline's, with the hub scaled with it so that it stays
    below saturation (the scaling runs)."""
    return [
        f"demand.tonnes_per_day={3600 * factor}",
        f"hub.cranes.count={3 * factor}",
        f"hub.gate.lanes={4 * factor}",
        f"hub.loading.tracks={4 * factor}",
        f"hub.yard.capacity_teu={2000 * factor}",
    ]


#: what the instruction counts measure: the reference, and model runs as (days, overrides)
COUNTED: dict[str, tuple[float, list[str]]] = {
    "y1": (365, []),
    "y4": (365 * 4, []),
    "d4": (365, demand_overrides(4)),
}

#: a child for instruction counts: ``python -c PROBE <ref|y1|y4|d4> <0|1>`` sets everything
#: up, then does the work only when the last argument is 1
PROBE = """
import sys
sys.path.insert(0, {bench_dir!r})
from bench import COUNTED, baseline_config, mmc_reference
from silkroute_sim.model.simulate import simulate

what, work = sys.argv[1], sys.argv[2] == "1"
if what == "ref":
    mmc_reference(1000)  # warm: the same code paths, a hundredth of the work
    if work:
        mmc_reference()
else:
    days, overrides = COUNTED[what]
    simulate(baseline_config(1, overrides))  # warm: lazy imports
    cfg = baseline_config(days, overrides)
    if work:
        simulate(cfg)
"""


def count_instructions(what: str, work: bool) -> int:
    """CPU instructions of the probe child (valgrind's cachegrind, no cache simulation)."""
    cmd = [
        "valgrind",
        "--tool=cachegrind",
        "--cache-sim=no",
        "--cachegrind-out-file=/dev/null",
        sys.executable,
        "-c",
        PROBE.format(bench_dir=str(Path(__file__).resolve().parent)),
        what,
        "1" if work else "0",
    ]
    if shutil.which("setarch"):  # same address-space layout in every child
        cmd = ["setarch", platform.machine(), "-R", *cmd]
    # one BLAS thread: numpy's BLAS threads busy-wait a varying while after a call, and
    # valgrind counts their instructions too
    threads = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    env = dict(os.environ, PYTHONHASHSEED="0", **threads)
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    match = re.search(r"I\s+refs:\s+([\d,]+)", out.stderr)
    if out.returncode != 0 or match is None:
        tail = "\n".join(out.stderr.strip().splitlines()[-5:])
        raise SystemExit(f"instruction count of {what!r} failed (exit {out.returncode}):\n{tail}")
    return int(match.group(1).replace(",", ""))


def instruction_counts() -> dict[str, int]:
    """Instructions of the reference and of the counted model runs (work minus set-up);
    the children run two at a time, longest first."""
    jobs = [(what, work) for what in ("y4", "d4", "y1", "ref") for work in (True, False)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: count_instructions(*job), jobs), strict=True))
    return {what: counts[(what, True)] - counts[(what, False)] for what, _ in jobs[::2]}


#: how each build is installed (README: "Set-up")
INSTALL = {
    "compiled": "`SILKROUTE_BUILD=compiled pip install .`",
    "pure": "`pip install .` (or an editable install)",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="rounds of timings")
    parser.add_argument("--quick", action="store_true", help="1 repeat, no 10-year run")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count CPU instructions with valgrind (a ratio that machine noise "
        "does not move; about 8 minutes)",
    )
    args = parser.parse_args()
    if args.instructions and shutil.which("valgrind") is None:
        parser.error("--instructions needs valgrind (Debian/Ubuntu: apt install valgrind)")
    repeats = 1 if args.quick else args.repeats

    rows: list[tuple[str, str]] = []

    def row(name: str, value: str) -> None:
        rows.append((name, value))
        print(f"{name:<48} {value}", flush=True)

    build = build_kind()
    print(f"{'build of silkroute_sim':<48} {build}", flush=True)

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
        return run_model(365, demand_overrides(factor))[0]

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
    if args.instructions:
        counts = instruction_counts()
        row("instructions: reference (100k customers)", f"{counts['ref'] / 1e9:.2f} G")
        row(
            "instructions: baseline year",
            f"{counts['y1'] / 1e9:.2f} G ({counts['y1'] / max(events, 1):,.0f} per event)",
        )
        row("instruction ratio baseline-year / reference", f"{counts['y1'] / counts['ref']:.2f}")
        row("instruction ratio 4 years / 1 year", f"{counts['y4'] / counts['y1']:.2f}")
        row("instruction ratio demand x4 / demand x1", f"{counts['d4'] / counts['y1']:.2f}")
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
            f"Build: {build}  ",
            f"Install: {INSTALL['compiled' if build.startswith('compiled') else 'pure']}  ",
            f"Command: `python benchmarks/bench.py{' --instructions' if args.instructions else ''}`"
            f" (medians over {repeats} rounds)  ",
            f"Date: {time.strftime('%Y-%m-%d')}",
            "",
            "| measure | value |",
            "|---|---|",
        ]
        lines += [f"| {name.strip()} | {value} |" for name, value in rows]
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
