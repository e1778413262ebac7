"""Shared fixtures: tiny deterministic scenarios built in code."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]
CONFIGS = REPO / "configs"


def tiny_raw(**sections: Any) -> dict[str, Any]:
    """A tiny scenario: Hub (1435 mm) -> Border (1520 mm, gauge change) -> Term (1520 mm).

    Everything is constant: 1 gate lane (0 h), 1 crane (0.1 h per move), yard 100 TEU,
    no customs, 1 loading track, no formation time; trains of 2 boxes (4 TEU), policy full.
    Edges 100 km at 50 km/h (2 h each). Border: 1 track, customs 1 h, gauge change with
    1 crane, 0.25 h per lift, no setup. Terminal dwell 0.
    """
    raw: dict[str, Any] = {
        "name": "tiny",
        "simulation": {"days": 2, "warmup_days": 0, "seed": 1},
        "demand": {
            "tonnes_per_day": 100,
            "classes": {
                "containers": {
                    "teu": 2,
                    "payload_t": 10,
                    "destinations": {"Term": 1.0},
                }
            },
        },
        "hub": {
            "node": "Hub",
            "gate": {"lanes": 1, "service_time": 0},
            "cranes": {"count": 1, "move_time": "6 min"},
            "yard": {"capacity_teu": 100},
            "loading": {"tracks": 1, "cranes_per_train": 1, "formation_time": 0},
        },
        "services": {
            "term": {
                "stops": ["Term"],
                "capacity_teu": 4,
                "max_tonnes": 1000,
                "policy": {"kind": "full"},
            }
        },
        "corridor": {
            "nodes": {
                "Hub": {"kind": "hub", "gauge_mm": 1435, "lat": 43.9, "lon": 87.4},
                "Border": {
                    "kind": "border",
                    "gauge_mm": 1520,
                    "lat": 45.0,
                    "lon": 82.0,
                    "processing": {
                        "tracks": 1,
                        "customs": "1 h",
                        "gauge_change": {"cranes": 1, "lift_time": "15 min"},
                    },
                },
                "Term": {"kind": "terminal", "gauge_mm": 1520, "lat": 46.0, "lon": 78.0},
            },
            "edges": [
                {"from": "Hub", "to": "Border", "km": 100, "speed": 50},
                {"from": "Border", "to": "Term", "km": 100, "speed": "1200 km/day"},
            ],
        },
        "outputs": {"plots": False},
    }
    for key, value in sections.items():
        raw[key] = value
    # eastbound trains would change gauge at Hub: give the hub node a gauge-change too
    raw["corridor"]["nodes"]["Hub"].setdefault(
        "processing", {"tracks": 1, "gauge_change": {"cranes": 1, "lift_time": "15 min"}}
    )
    return copy.deepcopy(raw)


@pytest.fixture
def tiny() -> dict[str, Any]:
    return tiny_raw()


@pytest.fixture(scope="session")
def baseline_path() -> Path:
    return CONFIGS / "baseline.yaml"


def silkroute(
    *args: str, cwd: Path | None = None, timeout: float = 600, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the CLI (``python -m silkroute_sim ARGS``) in a subprocess, as a user would
    (``pythonpath``: the folder to import silkroute_sim from, instead of the installed one)."""
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("SILKROUTE_DEBUG", None)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-m", "silkroute_sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


#: the test layers, fastest first: each folder under tests/ is one, and its tests carry
#: its marker (``pytest -m unit``, ``pytest -m "not slow"``)
LAYERS = ("unit", "model", "stats", "experiments", "cli", "build", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        layer = Path(str(item.fspath)).parent.name
        if layer in LAYERS:
            item.add_marker(getattr(pytest.mark, layer))


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that fills while a result is written: ``os.fsync`` fails with ENOSPC from
    its third call on."""
    import errno

    real_fsync = os.fsync
    calls = {"n": 0}

    def fsync(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] >= 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
