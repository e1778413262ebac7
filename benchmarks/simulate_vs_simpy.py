"""One simulated baseline year against a bare SimPy M/M/4, in the same process.

Usage::

    python benchmarks/simulate_vs_simpy.py                # the installed build, 7 rounds
    PYTHONPATH=src python benchmarks/simulate_vs_simpy.py # the source tree (pure Python)
    python benchmarks/simulate_vs_simpy.py --rounds 15 --markdown out.md
    python benchmarks/simulate_vs_simpy.py --config benchmarks/narrow_corridor_2025.yaml

The reference is ``bench.mmc_reference``: SimPy's own ``Environment`` and ``Resource``,
an M/M/4 queue at rho = 0.9 serving 100,000 customers, draws from numpy in blocks. The
model is ``simulate()`` of the built-in baseline for 365 days (30 warm-up), no tables,
no plots, no files (``--config``: another scenario instead, e.g. the corridor of 2025
that issue 19's targets were set on, ``benchmarks/narrow_corridor_2025.yaml``). Each
round times the reference and then the year, back to back, so that a slow spell of a
shared machine moves both sides of a ratio; the table gives the median of the ratios
within rounds and the best time over the best time. Targets
(issue 19): the default pure-Python build at most 1.5 times the reference, the compiled
build (``SILKROUTE_BUILD=compiled``) at most 0.8 times.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np
import simpy
from bench import mmc_reference, run_model  # benchmarks/ is the script's folder

from silkroute_sim.buildinfo import build_kind

#: the most the year may take against the reference, per build
TARGETS = {"pure": 1.5, "compiled": 0.8}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="rounds of timings (default 7)")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument(
        "--config",
        help="the scenario to simulate (a name or a YAML file; default: the built-in baseline)",
    )
    args = parser.parse_args()

    build = build_kind()
    mmc_reference(2_000)  # warm: the same code paths, imports done
    run_model(5, config=args.config)
    ref: list[float] = []
    year: list[float] = []
    events = 0
    for _ in range(args.rounds):
        ref.append(mmc_reference()[0])
        seconds, events = run_model(365, config=args.config)
        year.append(seconds)
    ratios = sorted(y / r for y, r in zip(year, ref, strict=True))
    median = statistics.median(ratios)
    target = TARGETS["compiled" if build.startswith("compiled") else "pure"]
    machine = (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SimPy {simpy.__version__}, numpy {np.__version__}"
    )
    rows = [
        ("build", build),
        ("machine", machine),
        ("date", time.strftime("%Y-%m-%d")),
        ("rounds", str(args.rounds)),
        (
            "reference: SimPy M/M/4, rho 0.9, 100,000 customers: median (best)",
            f"{statistics.median(ref):.3f} s ({min(ref):.3f})",
        ),
        (
            f"simulate(): {args.config or 'baseline'}, 365 days: median (best)",
            f"{statistics.median(year):.3f} s ({min(year):.3f}), {events:,} engine events",
        ),
        (
            "ratio year / reference: median within rounds (best/best)",
            f"**{median:.2f}** ({min(year) / min(ref):.2f})",
        ),
        ("the ratio in each round (sorted)", " · ".join(f"{x:.2f}" for x in ratios)),
        (f"target ≤ {target}", "met" if median <= target else "not met"),
    ]
    lines = ["| measure | value |", "|---|---|", *(f"| {k} | {v} |" for k, v in rows)]
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
