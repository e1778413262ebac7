"""The compiled build writes the same seeded outputs as the pure-Python build, to the byte.

Run by ``.ci/run`` with the compiled build installed (``SILKROUTE_BUILD=compiled pip
install .``): each case runs twice as a user runs it, ``python -m silkroute_sim run ...``,
once with the installed compiled build and once with the source tree's pure Python
(``PYTHONPATH=src``). Every CSV must be the same to the byte, and the manifests the same
but for the build. Exits 1 on the first difference; about a minute.

Usage: ``python .ci/compare_builds.py [--days N] [--keep DIR]``
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCENARIOS = REPO / "configs" / "scenarios"

#: the shipped scenarios, with every dispatch policy and with disruptions
CASES = {
    "baseline": ["baseline"],
    "khorgos-closed": [str(SCENARIOS / "khorgos-closed-7d.yaml")],
    "gales": [str(SCENARIOS / "alashankou-gales.yaml")],
    "auto-exports": [str(SCENARIOS / "auto-exports.yaml")],
    "full-policy": ["baseline", "--set", "services.duisburg.policy={kind: full}"],
    "schedule-policy": [
        "baseline",
        "--set",
        "services.moscow.policy={kind: schedule, departures: [10 h], weekdays: [0, 3], "
        "cutoff: 6 h, min_load: 0.3}",
    ],
}

#: where each build is imported from: the installed package, or the source tree
BUILDS = {"compiled": None, "pure": REPO / "src"}


def _env(pythonpath: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "SILKROUTE_DEBUG"}}
    env["MPLBACKEND"] = "Agg"
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return env


def build_of(pythonpath: Path | None, cwd: Path) -> str:
    code = "from silkroute_sim.buildinfo import build_kind; print(build_kind())"
    done = subprocess.run(
        [sys.executable, "-c", code], env=_env(pythonpath), cwd=cwd, capture_output=True, text=True
    )
    if done.returncode:
        sys.exit(f"cannot import silkroute_sim ({pythonpath or 'installed'}):\n{done.stderr}")
    return done.stdout.strip()


def run_case(args: list[str], out: Path, pythonpath: Path | None, days: int) -> None:
    cmd = [sys.executable, "-m", "silkroute_sim", "run", *args, "--days", str(days)]
    cmd += ["--warmup-days", "5", "--no-plots", "-q", "--out", str(out)]
    done = subprocess.run(cmd, env=_env(pythonpath), cwd=out.parent, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stderr[-3000:]}")


def differences(pure: Path, compiled: Path) -> list[str]:
    """What differs between two run folders: CSV files by bytes, manifests by content."""
    csvs = sorted(p.name for p in pure.glob("*.csv"))
    found = []
    if csvs != sorted(p.name for p in compiled.glob("*.csv")):
        found.append(f"different CSV files: {csvs}")
    found += [f"{n} differs" for n in csvs if not filecmp.cmp(pure / n, compiled / n, False)]
    manifests = [json.loads((o / "manifest.json").read_text("utf-8")) for o in (pure, compiled)]
    builds = [m.pop("build") for m in manifests]  # (manifests hold no wall time)
    if manifests[0] != manifests[1]:
        found.append("manifest.json differs beyond build")
    if builds[0] != "pure Python" or not builds[1].startswith("compiled"):
        found.append(f"the manifests name the builds {builds}")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30, help="simulated days per run")
    parser.add_argument("--keep", type=Path, help="write the run folders here (kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="silkroute-builds-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        kinds = {name: build_of(path, root) for name, path in BUILDS.items()}
        if kinds["pure"] != "pure Python" or not kinds["compiled"].startswith("compiled"):
            sys.exit(f"need the compiled build installed and the pure source tree: {kinds}")
        print(f"compiled: {kinds['compiled']}; pure: the source tree ({REPO / 'src'})")
        failed = False
        for case, case_args in CASES.items():
            for name, path in BUILDS.items():
                (root / case).mkdir(exist_ok=True)
                run_case(case_args, root / case / name, path, args.days)
            found = differences(root / case / "pure", root / case / "compiled")
            print(f"{case:<16} {'; '.join(found) if found else 'the same to the byte'}")
            failed = failed or bool(found)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
