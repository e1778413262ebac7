"""What the benchmarks print first: the build and the machine they ran on."""

from __future__ import annotations

import os
import platform

from silkroute_sim.buildinfo import build_kind


def usable_cores() -> int:
    """The cores this process may run on (its affinity where the system tells it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def print_header() -> None:
    """The build, the machine, its cores and Python, and the load when the run began."""
    print(f"silkroute-sim {build_kind()}")
    print(
        f"machine: {platform.machine()}, {usable_cores()} usable cores, Python "
        f"{platform.python_version()}, load at start {os.getloadavg()[0]:.1f}"
    )
