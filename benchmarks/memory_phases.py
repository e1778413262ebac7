"""Where a long run's memory goes: resident memory after each phase of one run, and the
size of each kind of record the simulation keeps.

    python benchmarks/memory_phases.py                      # 10 years, --records summary
    python benchmarks/memory_phases.py --days 1095 --records full

The run happens in a fresh Python process set up as ``silkroute run`` sets itself up
(large blocks mapped on their own), so the figures are those of the command without its
CSV writing and plots: imports, the simulation, the tables (built as the command builds
them, freeing the per-unit logs once read; with the peak while they are built, sampled
every 2 ms). ``python benchmarks/whole_run.py --memory`` gives the peak of
the whole command; this script says which part of it is which.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from machine import print_header

PROBE = r"""
import json, sys, threading, time
days, records = float(sys.argv[1]), sys.argv[2]

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20

out = {"start": rss()}
from silkroute_sim.cli.common import map_large_blocks
map_large_blocks()
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.simulate import simulate
out["imports"] = rss()
result = simulate(load_config("baseline", days=days))
out["simulation"] = rss()
rec = result.records
ships = rec.shipments._final()
bg = rec.background_trains._final()
ne = rec.node_events
sizes = {
    "shipments": sum(v.nbytes for v in ships.values()),
    "monitors": sum(sum(a.nbytes for a in m._kept()) for m in rec.monitors.values()),
    "node events": sum(
        len(a) * a.itemsize for a in (ne.arrived_h, ne.start_h, ne.end_h, ne.background, ne.boxes)
    ) + 3 * 8 * len(ne),
    "background trains": sum(v.nbytes for v in bg.values()),
}
out["sizes"] = {k: v / 2**20 for k, v in sizes.items()}
out["rows"] = {
    "shipments": len(rec.shipments),
    "background trains": len(rec.background_trains),
    "node events": len(ne),
    "monitors": sum(len(m.times) for m in rec.monitors.values()),  # points
}
del rec, ships, bg, ne  # the tables free the logs: no reference of ours may keep them
peak = [0.0]
stop = []
def poll():
    while not stop:
        peak[0] = max(peak[0], rss())
        time.sleep(0.002)
watcher = threading.Thread(target=poll, daemon=True)
watcher.start()
tables = Tables(result, records, release=True)  # as the command builds them
stop.append(True)
watcher.join()
out["tables"] = rss()
out["tables peak"] = peak[0]
print(json.dumps(out))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=3650.0, help="simulated days")
    parser.add_argument("--records", choices=("full", "summary"), default="summary")
    args = parser.parse_args()
    print_header()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(args.days), args.records],
        check=True,
        capture_output=True,
        text=True,
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    print(f"baseline, {args.days:g} days, Tables(records={args.records!r}); resident MiB")
    print(f"  {'after':28s} {'MiB':>8s}")
    for phase in ("start", "imports", "simulation", "tables peak", "tables"):
        print(f"  {phase:28s} {out[phase]:8.0f}")
    print("  records the simulation keeps (their arrays; MiB, rows or monitor points)")
    for name, mib in out["sizes"].items():
        print(f"  {name:28s} {mib:8.1f} {out['rows'][name]:>12,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
