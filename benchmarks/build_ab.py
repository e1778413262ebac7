"""Pure-Python build against the compiled build, interleaved, with the SimPy reference.

Usage, with the compiled build installed (``SILKROUTE_BUILD=compiled pip install .``)::

    python benchmarks/build_ab.py                      # 8 rounds

or with a compiled build in a folder of its own (an editable install is pure Python)::

    SILKROUTE_BUILD=compiled pip wheel --no-deps -w /tmp/wheel .
    pip install --no-deps --target /tmp/compiled /tmp/wheel/silkroute_sim-*.whl
    python benchmarks/build_ab.py --compiled /tmp/compiled

Each round times, each in a fresh process and back to back: the reference (bare SimPy
M/M/4, as in ``bench.py``), one simulated baseline year with the source tree's pure
Python, and the same year with the compiled build in ``--compiled``. A slow spell of a
shared machine then hits all three of a round; the table gives the best times, their
ratios, and the median of the ratios within rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent

#: one timed piece of work per child process (after a warm-up of the same code)
CHILD = {
    "ref": "import bench; bench.mmc_reference(2000); print(bench.mmc_reference()[0])",
    "year": "import bench; bench.run_model(5); print(bench.run_model(365)[0])",
}


def timed(what: str, package_root: Path) -> float:
    """Seconds of ``what`` in a fresh process importing silkroute_sim from ``package_root``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(package_root), str(BENCH)])}
    done = subprocess.run(
        [sys.executable, "-c", CHILD[what]], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode:
        raise SystemExit(f"{what} with {package_root} failed:\n{done.stderr[-2000:]}")
    return float(done.stdout.split()[-1])


def build_of(package_root: Path) -> str:
    code = "from silkroute_sim.buildinfo import build_kind; print(build_kind())"
    env = {**os.environ, "PYTHONPATH": str(package_root)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    return done.stdout.strip() or done.stderr.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--compiled",
        type=Path,
        help="a folder holding the compiled build (pip install --target FOLDER <wheel>); "
        "default: the installed package, if it is the compiled build",
    )
    parser.add_argument("--rounds", type=int, default=8, help="rounds of timings (default 8)")
    args = parser.parse_args()
    if args.compiled is None:
        import silkroute_sim

        args.compiled = Path(silkroute_sim.__file__).resolve().parent.parent
    pure_root = REPO / "src"
    builds = {"pure": build_of(pure_root), "compiled": build_of(args.compiled)}
    if not builds["compiled"].startswith("compiled") or builds["pure"] != "pure Python":
        raise SystemExit(
            f"expected a pure and a compiled build, found {builds}: install the compiled "
            "build (pip install .) or give --compiled FOLDER"
        )
    times: dict[str, list[float]] = {"ref": [], "pure": [], "compiled": []}
    for n in range(1, args.rounds + 1):
        times["ref"].append(timed("ref", pure_root))
        times["pure"].append(timed("year", pure_root))
        times["compiled"].append(timed("year", args.compiled))
        print(
            f"round {n}: reference {times['ref'][-1]:.3f} s, pure year {times['pure'][-1]:.3f}"
            f" s, compiled year {times['compiled'][-1]:.3f} s",
            flush=True,
        )

    def within(num: str, den: str) -> float:
        return statistics.median(a / b for a, b in zip(times[num], times[den], strict=True))

    print()
    print("| measure | best | ratio best/best | median of ratios within rounds |")
    print("|---|---|---|---|")
    print(f"| reference (SimPy M/M/4, 100k customers) | {min(times['ref']):.3f} s | | |")
    for build in ("pure", "compiled"):
        best = min(times[build])
        print(
            f"| baseline year, {builds[build]} / reference | {best:.3f} s | "
            f"{best / min(times['ref']):.2f} | {within(build, 'ref'):.2f} |"
        )
    print(
        f"| compiled / pure | | {min(times['compiled']) / min(times['pure']):.2f} | "
        f"{within('compiled', 'pure'):.2f} |"
    )


if __name__ == "__main__":
    main()
