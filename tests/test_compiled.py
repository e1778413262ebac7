"""The compiled build (``hatch_build.py``, mypyc) is the pure-Python build, faster.

The wheel is built here the way a user builds it (``HATCH_BUILD_HOOK_ENABLE_CUSTOM=1``,
pip's isolated build), installed into a folder of its own, and run beside the source
tree on the shipped scenarios, with every dispatch policy and with disruptions: every
CSV must be the same to the byte, and the manifests the same but for the wall time and
the build. Needs a C compiler, Python's headers and the package index for the build's
own dependencies (skipped without them), and takes a minute or two: mypyc type-checks
and compiles nine modules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from silkroute_sim.buildinfo import HOT_MODULES

from .conftest import CONFIGS, REPO, silkroute

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

RUNS = {
    "baseline": ["baseline"],
    "khorgos-closed": [str(CONFIGS / "scenarios" / "khorgos-closed-7d.yaml")],
    "gales": [str(CONFIGS / "scenarios" / "alashankou-gales.yaml")],
    "auto-exports": [str(CONFIGS / "scenarios" / "auto-exports.yaml")],
    "full-policy": ["baseline", "--set", "services.duisburg.policy={kind: full}"],
    "schedule-policy": [
        "baseline",
        "--set",
        "services.moscow.policy={kind: schedule, departures: [10 h], weekdays: [0, 3], "
        "cutoff: 6 h, min_load: 0.3}",
    ],
}


@pytest.mark.skipif(tomllib is None, reason="reading pyproject.toml needs Python 3.11")
def test_the_build_hook_is_opt_in_and_its_modules_exist() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    hook = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["hooks"]["custom"]
    assert hook["enable-by-default"] is False  # the default install stays pure Python
    for name in HOT_MODULES:  # the list hatch_build.py compiles
        assert (REPO / "src" / "silkroute_sim" / f"{name}.py").is_file()
    assert "hatch_build.py" in pyproject["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def _compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


#: what pip prints when it cannot reach the package index for the build's dependencies
OFFLINE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the compiled build of this source tree."""
    if _compiler() is None:
        pytest.skip("no C compiler: the compiled build cannot be made here")
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").is_file():
        pytest.skip("no Python headers (python3-dev): the compiled build cannot be made here")
    wheels = tmp_path_factory.mktemp("wheels")
    target = tmp_path_factory.mktemp("compiled")
    env = {**os.environ, "HATCH_BUILD_HOOK_ENABLE_CUSTOM": "1", "PIP_NO_INPUT": "1"}
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]
    build = subprocess.run(
        [*pip, "wheel", "--no-deps", "--wheel-dir", str(wheels), str(REPO)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = build.stdout[-3000:] + build.stderr[-3000:]
    if build.returncode and any(sign in log for sign in OFFLINE):
        pytest.skip("the build's dependencies (mypy, hatchling) cannot be fetched here")
    assert build.returncode == 0, log
    (wheel,) = wheels.glob("silkroute_sim-*.whl")
    assert "none-any" not in wheel.name  # a platform wheel: it holds extensions
    install = subprocess.run(
        [*pip, "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return target


def _silkroute(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI of the build in ``path``."""
    return silkroute(*args, cwd=REPO, pythonpath=path)


@pytest.mark.slow
def test_the_compiled_build_loads_every_hot_module_compiled(compiled: Path) -> None:
    version = _silkroute(compiled, "--version")
    assert version.returncode == 0, version.stderr
    assert f"compiled (mypyc, {len(HOT_MODULES)} of {len(HOT_MODULES)} hot modules)" in (
        version.stdout
    )
    for name in HOT_MODULES:
        assert list((compiled / "silkroute_sim").glob(f"{name}.*.so")) or list(
            (compiled / "silkroute_sim").glob(f"{name}.*.pyd")
        )
    pure = _silkroute(REPO / "src", "--version")
    assert "(pure Python)" in pure.stdout  # the source tree is never compiled in place


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(RUNS))
def test_the_compiled_build_writes_the_same_outputs(
    case: str, compiled: Path, tmp_path: Path
) -> None:
    args = [*RUNS[case], "--days", "30", "--warmup-days", "5", "--no-plots", "-q"]
    outputs = {}
    for build, path in (("pure", REPO / "src"), ("compiled", compiled)):
        out = tmp_path / build
        done = _silkroute(path, "run", *args, "--out", str(out))
        assert done.returncode == 0, done.stderr[-3000:]
        outputs[build] = out
    pure, fast = outputs["pure"], outputs["compiled"]
    csvs = sorted(p.name for p in pure.glob("*.csv"))
    assert csvs == sorted(p.name for p in fast.glob("*.csv"))
    assert {"shipments.csv", "trains.csv", "node_events.csv", "daily.csv"} <= set(csvs)
    for name in csvs:
        assert (pure / name).read_bytes() == (fast / name).read_bytes(), name
    manifests = [json.loads((o / "manifest.json").read_text()) for o in (pure, fast)]
    assert manifests[0]["build"] == "pure Python"
    assert manifests[1]["build"].startswith("compiled")
    assert manifests[0]["events"] == manifests[1]["events"] > 10_000
    for manifest in manifests:
        del manifest["wall_s"], manifest["build"]
    assert manifests[0] == manifests[1]
