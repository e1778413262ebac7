"""The disruption analysis of a run with many events: ``Tables`` against the simulation.

Usage::

    python benchmarks/disruption_bench.py                      # a year, crane breakdowns daily
    python benchmarks/disruption_bench.py --days 1095 --mtbf 24 --rounds 2
    PYTHONPATH=/path/to/other/src python benchmarks/disruption_bench.py   # another tree

Random crane breakdowns (every crane fails as a Poisson process with mean up time
``--mtbf`` hours and is repaired in ``--mttr`` hours) make about 8,760 x cranes / mtbf
events a year. Each event's row in ``disruptions.csv`` needs its recovery (levels read
day by day after it), the boxes it touched and their extra door-to-door time and cost
against the untouched boxes: work that grows with events x shipments where it reads the
whole run per event. The table gives the simulation once and the building of every
table (``Tables``, the disruption table included) in each round, the median over
rounds, and the split of the last round inside ``disruptions_frame``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

from machine import print_header

import silkroute_sim.analysis.disruptions as disruptions
import silkroute_sim.analysis.tables as tables
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.simulate import simulate


def _timed(module: Any, name: str, spent: dict[str, float]) -> None:
    """Wrap ``module.name`` so that its calls add their wall time to ``spent[name]``."""
    inner: Callable[..., Any] = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

    setattr(module, name, wrapper)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--mtbf", type=float, default=24.0, help="crane mean up time, hours")
    parser.add_argument("--mttr", type=float, default=2.0, help="crane mean repair, hours")
    parser.add_argument(
        "--warmup-days", type=float, default=None, help="default: 30, or a quarter of a short run"
    )
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print_header()
    breakdowns = (
        "disruptions={random: {breakdowns: "
        f"[{{hub: cranes, mtbf: {args.mtbf:g} h, mttr: {args.mttr:g} h}}]}}}}"
    )
    warmup = min(30.0, args.days / 4) if args.warmup_days is None else args.warmup_days
    cfg = load_config("baseline", [breakdowns], days=args.days, warmup_days=warmup)
    started = time.perf_counter()
    result = simulate(cfg)
    simulate_s = time.perf_counter() - started
    assert result.disruptions is not None
    events = sum(1 for w in result.disruptions.windows if w.start_h < result.end_h)
    spent: dict[str, float] = {}
    for name in ("_recovery", "_event_row", "_untouched"):
        _timed(disruptions, name, spent)
    _timed(tables, "disruptions_frame", spent)
    rounds = []
    for _ in range(args.rounds):
        spent.clear()
        started = time.perf_counter()
        tables.Tables(result)
        rounds.append(time.perf_counter() - started)
    table_s = statistics.median(rounds)
    other = spent["disruptions_frame"] - spent["_recovery"] - spent["_event_row"]
    print(
        f"baseline, {args.days:g} days, crane breakdowns mtbf {args.mtbf:g} h, mttr {args.mttr:g} h"
    )
    print(f"  {'what':48} {'s':>8}")
    print(f"  {'simulate()':48} {simulate_s:8.2f}")
    print(f"  {f'Tables (median of {args.rounds}; {events:,} events)':48} {table_s:8.2f}")
    print(f"  {'  of which disruptions_frame (last round)':48} {spent['disruptions_frame']:8.2f}")
    print(f"  {'    recovery of each event':48} {spent['_recovery']:8.2f}")
    print(f"  {'    affected boxes: extra time and cost':48} {spent['_event_row']:8.2f}")
    print(f"  {'    the rest (boxes touched, levels, holds)':48} {other:8.2f}")
    print(f"  Tables / simulate(): {table_s / simulate_s:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
