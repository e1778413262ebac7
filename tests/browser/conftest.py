"""The browser tests' fixtures: Debian's Chromium driven by Playwright, and one short run,
comparison, sweep, optimisation and animation written by the command line, shared by the
tests.

Without Chromium (``apt-get install chromium``) or Playwright the tests are skipped with
the reason, except in CI (``CI=true``), where they fail: CI must run them, and ``.ci/run``
installs Chromium before the tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

CHROMIUM = ("/usr/bin/chromium", "chromium", "chromium-browser")
#: a short run, a comparison of two scenarios over two seeds and a two-point sweep
SHORT = ["--days", "8", "--warmup-days", "2"]
COMPARE = ["--reps", "2", "--seed", "3", "--out"]
SWEEP_SPEC = (
    "base: baseline\nset:\n  simulation.days: 6\n  simulation.warmup_days: 1\n"
    "parameters:\n  hub.cranes.count: [3, 4]\ndesign: grid\nreps: 1\nseed: 5\n"
)
#: a three-trial optimisation over six days, two variables (the candidates table's
#: columns), both kinds of constraint and a final round (the comparisons table)
OPTIMIZE_SPEC = """
name: tiny
description: The cranes and loading tracks that keep the hub unsaturated, for the browser.
base: baseline
set: {simulation.days: 6, simulation.warmup_days: 1}
variables:
  hub.cranes.count:
    {low: 3, high: 5, monotone: true, cost: {capex_usd_per_unit: 3000000, life_years: 20}}
  hub.loading.tracks:
    {low: 2, high: 4, monotone: true, cost: {capex_usd_per_unit: 2000000, life_years: 40}}
objective: {terms: [{kpi: hub_dwell_h_mean, weight: 10000}]}
constraints: [hub_dwell_h_p95 <= 400, no saturation]
reps: 2
seed: 1
trials: 3
batch: 3
final: {top_k: 2, reps: 1}
"""


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; CI must run the browser tests (.ci/run installs Chromium)")
    pytest.skip(reason)


def chromium_path() -> str | None:
    for name in CHROMIUM:
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium from Debian's package (not Playwright's download)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    executable = chromium_path()
    if executable is None:
        _unavailable("Chromium is not installed (apt-get install chromium)")
    args = ["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=args)
        try:
            yield chromium
        finally:
            chromium.close()


def _silkroute(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "silkroute_sim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str]) -> None:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, f"{proc.args}: {err or out}"


@pytest.fixture(scope="session")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """report.html of a run, a comparison, a sweep and an optimisation, and the run's
    animation.html (the four commands run side by side)."""
    root = tmp_path_factory.mktemp("pages")
    spec = root / "sweep.yaml"
    spec.write_text(SWEEP_SPEC, encoding="utf-8")
    optimize = root / "optimize.yaml"
    optimize.write_text(OPTIMIZE_SPEC, encoding="utf-8")
    procs = [
        _silkroute("run", "baseline", *SHORT, "--seed", "3", "--out", str(root / "run")),
        _silkroute("compare", "baseline", "extra-gantry", *SHORT, *COMPARE, str(root / "compare")),
        _silkroute("sweep", str(spec), "--out", str(root / "sweep"), "--workers", "1"),
        _silkroute("optimize", str(optimize), "--out", str(root / "optimize"), "-j", "1", "-q"),
    ]
    for proc in procs:
        _finish(proc)
    _finish(_silkroute("animate", str(root / "run")))
    return {
        "run": root / "run" / "report.html",
        "compare": root / "compare" / "report.html",
        "sweep": root / "sweep" / "report.html",
        "optimize": root / "optimize" / "report.html",
        "animation": root / "run" / "animation.html",
    }
