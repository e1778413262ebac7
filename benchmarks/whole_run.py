"""What a user waits for: a whole ``silkroute run`` as a process, beside a bare SimPy
reference run as a process, and the peak memory of a long run.

Usage::

    python benchmarks/whole_run.py                  # 3 interleaved rounds, the year
    python benchmarks/whole_run.py --rounds 5
    python benchmarks/whole_run.py --memory         # also peak RSS of a 10-year run
    python benchmarks/whole_run.py --profile        # also where one default run spends its time

Each round runs, back to back and in a fresh process each: the reference (a bare SimPy
M/M/4 queue at rho = 0.9 serving 100,000 customers, ``bench.mmc_reference``, imports
included), ``silkroute run`` of the baseline year with default options (CSV tables,
plots, report.html), and the same with ``--no-plots``. Each ratio is taken within its
round (so a busy minute slows both sides) and the table gives the median over rounds.
The command runs the installed build (the first line says which); every run writes into
a fresh temporary folder.

``--memory`` runs the baseline for 10 years (3,650 days) with ``--records summary`` and
``--records full``, ``--no-plots``, and reports each process's peak resident memory
(``ru_maxrss`` of a wrapper process's only child). ``--profile`` runs one default
``silkroute run`` under cProfile and splits its time into imports, simulation, tables,
table files, plots and the report page.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from silkroute_sim.buildinfo import build_kind

HERE = Path(__file__).resolve().parent
REFERENCE = (
    "import sys; sys.path.insert(0, {here!r}); from bench import mmc_reference; mmc_reference()"
)
#: peak RSS (KiB on Linux) of the one command this wrapper runs
RSS_WRAPPER = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def timed(cmd: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def silkroute(*args: str) -> list[str]:
    return [sys.executable, "-m", "silkroute_sim", "run", "baseline", "--quiet", *args]


def rounds_table(rounds: int, tmp: Path) -> list[dict[str, float]]:
    reference = [sys.executable, "-c", REFERENCE.format(here=str(HERE))]
    rows = []
    for i in range(rounds):
        row = {
            "reference": timed(reference, tmp),
            "run": timed(silkroute("--out", f"run-{i}"), tmp),
            "no_plots": timed(silkroute("--out", f"np-{i}", "--no-plots"), tmp),
            "load": os.getloadavg()[0],
        }
        rows.append(row)
        print(
            f"  ... round {i + 1}: reference {row['reference']:.2f} s, run {row['run']:.2f} s, "
            f"--no-plots {row['no_plots']:.2f} s, load {row['load']:.1f}",
            file=sys.stderr,
            flush=True,
        )
    return rows


def peak_rss_mb(args: list[str], tmp: Path) -> float:
    out = subprocess.run(
        [sys.executable, "-c", RSS_WRAPPER, *args],
        cwd=tmp,
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.split()[-1]) / 1024


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def profile_split(tmp: Path) -> dict[str, float]:
    """Seconds of one default run, by part, from cProfile's cumulative times."""
    import pstats

    prof = tmp / "run.prof"
    subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", str(prof), *silkroute("--out", "prof")[1:]],
        cwd=tmp,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stats = pstats.Stats(str(prof)).stats  # type: ignore[attr-defined]
    parts = {
        "simulate": ("model/simulate.py", "simulate"),
        "tables (Tables)": ("analysis/tables.py", "__init__"),
        "plots": ("outputs/plots/run.py", "all_run_plots"),
        "report.html": ("outputs/folder_report.py", "folder_report"),
        "write_run (all files)": ("outputs/run_folder.py", "write_run"),
    }
    found: dict[str, float] = {}
    total = 0.0
    for (file, _line, name), (_cc, _nc, _tt, cum, _callers) in stats.items():
        total = max(total, cum)
        for label, (suffix, func) in parts.items():
            if file.endswith(suffix) and name == func:
                found[label] = max(found.get(label, 0.0), cum)
    found["whole command"] = total
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--memory", action="store_true", help="peak RSS of a 10-year run")
    parser.add_argument("--profile", action="store_true", help="split one run by part")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"silkroute-sim {build_kind()}")
    print(
        f"machine: {platform.machine()}, {cores} usable cores, Python "
        f"{platform.python_version()}, load at start {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="whole-run-") as name:
        tmp = Path(name)
        rows = rounds_table(args.rounds, tmp)
        sizes = folder_mb(tmp / "run-0"), folder_mb(tmp / "np-0")
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        ratio = {
            k: statistics.median(r[k] / r["reference"] for r in rows) for k in ("run", "no_plots")
        }
        print(f"whole commands as processes, {args.rounds} interleaved rounds (medians)")
        print(f"  {'what':<44} {'wall s':>7} {'× reference':>12} {'folder MB':>10}")
        print(f"  {'bare SimPy M/M/4, rho 0.9, 100,000 customers':<44} {med['reference']:>7.2f}")
        print(
            f"  {'silkroute run baseline (365 d), defaults':<44} {med['run']:>7.2f} "
            f"{ratio['run']:>11.2f}× {sizes[0]:>10.1f}"
        )
        print(
            f"  {'silkroute run baseline (365 d), --no-plots':<44} {med['no_plots']:>7.2f} "
            f"{ratio['no_plots']:>11.2f}× {sizes[1]:>10.1f}"
        )
        print(f"  load average (1 min) over the rounds: {med['load']:.1f} (median)")
        if args.memory:
            print("peak resident memory, baseline 3,650 days, --no-plots")
            for level in ("summary", "full"):
                run = silkroute("--days", "3650", "--no-plots", "--records", level)
                mb = peak_rss_mb([*run, "--out", f"ten-{level}"], tmp)
                written = folder_mb(tmp / f"ten-{level}")
                print(f"  --records {level:<8} {mb:>8.0f} MB  ({written:.0f} MB written)")
        if args.profile:
            print("one default run under cProfile (seconds, cumulative; profiling slows it)")
            for label, seconds in profile_split(tmp).items():
                print(f"  {label:<24} {seconds:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
