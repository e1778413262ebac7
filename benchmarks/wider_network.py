"""What the wider corridor of issue 21 costs: a simulated year of today's baseline beside a
year of the corridor before it was widened, in the same process.

Usage::

    python benchmarks/wider_network.py                # 5 interleaved rounds
    python benchmarks/wider_network.py --rounds 9 --days 365

The narrow network is ``benchmarks/narrow_corridor_2025.yaml``: the shipped baseline of
2026-12-06 resolved into one file (westbound only, the Brest–Małaszewicze crossing alone
into the EU, no Middle Corridor, ferries, Baltic routes, eastbound trains or finite
holding). The wide network is today's ``baseline``. Each round runs ``simulate()`` of one
and then the other (the order alternates between rounds), so that a slow spell of a shared
machine moves both sides of a ratio; the table gives the median of the ratios within
rounds. Target (issue 21): the wide year at most 2 times the narrow year. The events
column is the engine's count of processed events, a machine-independent measure of work.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from silkroute_sim.buildinfo import build_kind
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.simulate import RunResult, simulate

HERE = Path(__file__).resolve().parent
NARROW = HERE / "narrow_corridor_2025.yaml"
TARGET = 2.0


def timed(cfg: object) -> tuple[float, RunResult]:
    started = time.perf_counter()
    result = simulate(cfg)  # type: ignore[arg-type]
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds of timings (default 5)")
    parser.add_argument("--days", type=int, default=365, help="simulated days (default 365)")
    args = parser.parse_args()
    narrow = load_config(NARROW, days=args.days)
    wide = load_config("baseline", days=args.days)
    times: dict[str, list[float]] = {"narrow": [], "wide": []}
    events: dict[str, int] = {}
    trains: dict[str, int] = {}
    ratios = []
    for round_no in range(args.rounds):
        order = ("narrow", "wide") if round_no % 2 == 0 else ("wide", "narrow")
        got = {}
        for name in order:
            seconds, result = timed(narrow if name == "narrow" else wide)
            got[name] = seconds
            times[name].append(seconds)
            events[name] = result.events
            records = result.records
            trains[name] = len(records.trains) + len(records.background_trains)
        ratios.append(got["wide"] / got["narrow"])
    print(f"# wider network vs the 2025 corridor: {args.days} days, {args.rounds} rounds")
    print(f"build: {build_kind()}; Python {platform.python_version()}; {platform.machine()}")
    print()
    print("| network | median s | best s | events | trains |")
    print("|---|---:|---:|---:|---:|")
    for name in ("narrow", "wide"):
        print(
            f"| {name} | {statistics.median(times[name]):.2f} | {min(times[name]):.2f} "
            f"| {events[name]:,} | {trains[name]:,} |"
        )
    ratio = statistics.median(ratios)
    verdict = "met" if ratio <= TARGET else "NOT met"
    print()
    print(
        f"wide / narrow (median of same-round ratios): {ratio:.2f}x "
        f"(target <= {TARGET}x: {verdict})"
    )


if __name__ == "__main__":
    main()
