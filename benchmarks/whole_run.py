"""What a user waits for: a whole ``silkroute run`` as a process, beside a bare SimPy
reference run as a process, and the peak memory of a long run.

Usage::

    python benchmarks/whole_run.py                  # 3 interleaved rounds, the year
    python benchmarks/whole_run.py --rounds 5
    python benchmarks/whole_run.py --memory         # also peak RSS of a 10-year run
    python benchmarks/whole_run.py --profile        # also where one default run spends its time
    python benchmarks/whole_run.py --serial         # also each run with no forked child

Each round runs, back to back and in a fresh process each: the reference (a bare SimPy
M/M/4 queue at rho = 0.9 serving 100,000 customers, ``bench.mmc_reference``, imports
included), ``silkroute run`` of the baseline year with default options (CSV tables,
plots, report.html), and the same with ``--no-plots``; with ``--serial`` also both with the
forked child switched off (``outputs.forked.ENABLED = False``: the figures, or with
``--no-plots`` the shipments table, made in the one process, as before the child). Each
ratio is taken within its
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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from subprocess import PIPE

from machine import print_header

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


#: ``silkroute`` in a process that reports its own CPU seconds on its last line of stderr
#: (``cpu-self``: the command's process alone, not the child it forks): on a busy machine
#: the figure that says how long the command would take where a second core is free
RUN = (
    "import resource, sys\n"
    "import silkroute_sim.outputs.forked as f\n"
    "f.ENABLED = {forked}\n"
    "from silkroute_sim.cli.app import main\n"
    "sys.argv[0] = 'silkroute'\n"
    "try:\n"
    "    main()\n"
    "finally:\n"
    "    u = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    print('cpu-self', u.ru_utime + u.ru_stime, file=sys.stderr)\n"
)


def silkroute(*args: str, serial: bool = False) -> list[str]:
    """The command line of ``silkroute run baseline --quiet ARGS``; with ``serial``, the
    forked child switched off (``outputs/forked.py``)."""
    code = RUN.format(forked=not serial)
    return [sys.executable, "-c", code, "run", "baseline", "--quiet", *args]


def timed_run(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds of ``cmd`` and the CPU seconds of its own process."""
    started = time.perf_counter()
    out = subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=PIPE)
    wall = time.perf_counter() - started
    lines = [ln for ln in out.stderr.decode().splitlines() if ln.startswith("cpu-self ")]
    return wall, float(lines[-1].split()[1])


def rounds_table(rounds: int, tmp: Path, serial: bool = False) -> list[dict[str, float]]:
    reference = [sys.executable, "-c", REFERENCE.format(here=str(HERE))]
    rows = []
    for i in range(rounds):
        row = {"reference": timed(reference, tmp)}
        commands = {
            "run": silkroute("--out", f"run-{i}"),
            "no_plots": silkroute("--out", f"np-{i}", "--no-plots"),
        }
        if serial:
            commands["run_serial"] = silkroute("--out", f"rs-{i}", serial=True)
            commands["no_plots_serial"] = silkroute("--out", f"ns-{i}", "--no-plots", serial=True)
        for key, cmd in commands.items():
            row[key], row[f"{key}_cpu"] = timed_run(cmd, tmp)
        row["load"] = os.getloadavg()[0]
        rows.append(row)
        shown = ", ".join(f"{k} {v:.2f}{'' if k == 'load' else ' s'}" for k, v in row.items())
        print(f"  ... round {i + 1}: {shown}", file=sys.stderr, flush=True)
    return rows


def peak_rss_mb(args: list[str], tmp: Path) -> float:
    """Peak resident memory of the command ``args``, in MiB (``ru_maxrss`` is in KiB)."""
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


PROFILED = (sys.executable, "-m", "cProfile", "-o")


def profile_split(tmp: Path) -> dict[str, float]:
    """Seconds of one default run, by part, from cProfile's cumulative times."""
    import pstats

    prof = tmp / "run.prof"
    subprocess.run(
        [
            *PROFILED,
            str(prof),
            "-m",
            "silkroute_sim",
            "run",
            "baseline",
            "--quiet",
            "--out",
            "prof",
        ],
        cwd=tmp,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    stats = pstats.Stats(str(prof)).stats  # type: ignore[attr-defined]
    parts = {
        "simulate": ("model/simulate.py", "simulate"),
        "tables (Tables)": ("analysis/tables.py", "__init__"),
        "tables' files and plots": ("outputs/run_folder.py", "fill"),
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
    parser.add_argument(
        "--serial", action="store_true", help="also each run without the forked child"
    )
    args = parser.parse_args()
    print_header()
    with tempfile.TemporaryDirectory(prefix="whole-run-") as name:
        tmp = Path(name)
        rows = rounds_table(args.rounds, tmp, args.serial)
        sizes = folder_mb(tmp / "run-0"), folder_mb(tmp / "np-0")
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
        ratio = {k: statistics.median(r[k] / r["reference"] for r in rows) for k in rows[0]}
        print(f"whole commands as processes, {args.rounds} interleaved rounds (medians)")
        print(
            f"  {'what':<44} {'wall s':>7} {'× reference':>12} {'own cpu s':>10} {'folder MB':>10}"
        )
        print(f"  {'bare SimPy M/M/4, rho 0.9, 100,000 customers':<44} {med['reference']:>7.2f}")
        shown = [
            ("run", "silkroute run baseline (365 d), defaults", f"{sizes[0]:>10.1f}"),
            ("no_plots", "silkroute run baseline (365 d), --no-plots", f"{sizes[1]:>10.1f}"),
        ]
        if args.serial:
            shown += [
                ("run_serial", "the same, defaults, no forked child", ""),
                ("no_plots_serial", "the same, --no-plots, no forked child", ""),
            ]
        for key, label, size in shown:
            print(
                f"  {label:<44} {med[key]:>7.2f} {ratio[key]:>11.2f}× "
                f"{med[key + '_cpu']:>10.2f} {size}"
            )
        print(
            "  own cpu s: CPU seconds of the command's process, not of the child it forks "
            "(the wall time where a second core is free)"
        )
        print(f"  load average (1 min) over the rounds: {med['load']:.1f} (median)")
        if args.memory:
            print("peak resident memory, baseline 3,650 days, --no-plots")
            for level in ("summary", "full"):
                run = silkroute("--days", "3650", "--no-plots", "--records", level)
                mb = peak_rss_mb([*run, "--out", f"ten-{level}"], tmp)
                written = folder_mb(tmp / f"ten-{level}")
                print(f"  --records {level:<8} {mb:>8.0f} MiB  ({written:.0f} MB written)")
        if args.profile:
            print("one default run under cProfile (seconds, cumulative; profiling slows it)")
            for label, seconds in profile_split(tmp).items():
                print(f"  {label:<24} {seconds:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
