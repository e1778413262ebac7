"""Config fuzzing: every mutation of the baseline runs or is refused in one line.

Hypothesis mutates the parsed baseline config (``configs/baseline.yaml`` with its
``extends`` resolved) — wrong types, negative, zero, NaN and infinite numbers, empty and
huge lists, unknown keys, typos, missing sections, unknown node names, duplicated items,
absurd durations — and checks that validation either accepts it or raises a
:class:`ConfigError` whose message is one line naming a key path. Nothing else may
escape. A second property scales valid numbers to absurd but legal values and runs the
accepted configs for two simulated days, checking that they finish and conserve cargo.

CI runs a short, derandomized campaign; a long one is one environment variable away::

    SILKROUTE_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import copy
import math
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import silkroute_sim.config.loader as loader
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.schema import ScenarioConfig

from ..conftest import silkroute as _cli

#: long end-to-end or statistical tests: left out of ``pytest -m "not slow"``
pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("SILKROUTE_FUZZ_EXAMPLES", "200"))
LONG = "SILKROUTE_FUZZ_EXAMPLES" in os.environ
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not LONG,  # CI: the same examples every time
    database=None,
    suppress_health_check=list(HealthCheck),
)
RUN_FUZZ = settings(FUZZ, max_examples=max(EXAMPLES // 4, 30))

Path_ = tuple[Any, ...]


def _baseline() -> dict[str, Any]:
    data = loader.load_raw(loader.default_config_path())
    data.setdefault("name", "baseline")
    return data


BASE = _baseline()


def _paths(node: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every key path and list index in ``node`` (containers included)."""
    out: list[Path_] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, value in items:
        path = (*prefix, key)
        out.append(path)
        out.extend(_paths(value, path))
    return out


PATHS = _paths(BASE)
NODE_NAMES = sorted(BASE["corridor"]["nodes"])


def _get(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


# --------------------------------------------------------------------------- hostile values

hostile_numbers = st.one_of(
    st.sampled_from(
        [0, -1, -0.0, 1e-300, 1e300, 10**30, -(10**30), 2**63, 1.5, 0.5, 36_500, 10**9]
    ),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**12), max_value=10**12),
)
hostile_strings = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "NaN",
            "nan h",
            "inf",
            "-inf d",
            "1e400 h",
            "-5 min",
            "0 s",
            "1e9 h",
            "1e-300 s",
            "25:00",
            "24:00",
            "6:61",
            "12:30",
            "99 parsecs",
            "1100 km/day",
            "-3 km/h",
            "0 km/h",
            "true",
            "Urumqui",
            "Duisberg",
            "../../etc/passwd",
            "\x00",
            "é" * 300,
            "line\nbreak",
            "{dist: gamma}",
        ]
    ),
    st.text(max_size=30),
)
hostile_dists = st.sampled_from(
    [
        {"dist": "gamma", "mean": "1 h", "cv": 1e300},
        {"dist": "lognormal", "mean": "1 h", "cv": 1e300},
        {"dist": "lognormal", "mean": 1e300, "cv": 50},
        {"dist": "normal", "mean": -1, "sd": 0},
        {"dist": "normal", "mean": 1e308, "sd": 1e308},
        {"dist": "uniform", "low": 5, "high": 1},
        {"dist": "triangular", "low": 1, "mode": 0, "high": 2},
        {"dist": "empirical", "values": []},
        {"dist": "empirical", "values": [1, 2], "weights": [1e308, 1e308]},
        {"dist": "empirical", "values": [1, 2], "weights": [0, 0]},
        {"dist": "empirical", "values": [1, 2], "weights": [1]},
        {"dist": "exponential"},
        {"dist": "constant", "value": -1},
        {"dist": "weibull", "shape": 2},
        {"dist": None},
        {"mean": 3},
    ]
)
scalars = st.one_of(st.none(), st.booleans(), hostile_numbers, hostile_strings)
containers = st.one_of(
    st.lists(scalars, max_size=4),
    st.dictionaries(st.text(max_size=8), scalars, max_size=3),
    st.just([]),
    st.just({}),
)
hostile_values = st.one_of(scalars, containers, hostile_dists, st.sampled_from(NODE_NAMES))


# --------------------------------------------------------------------------- mutations


def _set(data: dict[str, Any], path: Path_, value: Any) -> None:
    parent = _get(data, path[:-1])
    parent[path[-1]] = value


def _delete(data: dict[str, Any], path: Path_) -> None:
    parent = _get(data, path[:-1])
    del parent[path[-1]]


@st.composite
def mutated_configs(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """The baseline with 1–3 hostile mutations (and a log of what was done)."""
    data = copy.deepcopy(BASE)
    log: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _get(data, path[:-1])
        kind = draw(
            st.sampled_from(
                [
                    "value",
                    "value",
                    "value",
                    "delete",
                    "unknown-key",
                    "typo",
                    "duplicate",
                    "empty",
                    "huge",
                    "scale",
                    "node-name",
                ]
            )
        )
        target = _get(data, path)
        if kind == "value":
            _set(data, path, copy.deepcopy(draw(hostile_values)))
        elif kind == "delete":
            _delete(data, path)
        elif kind == "unknown-key" and isinstance(target, dict):
            target[draw(st.text(min_size=1, max_size=12))] = copy.deepcopy(draw(scalars))
        elif kind == "typo" and isinstance(parent, dict) and isinstance(path[-1], str):
            key = path[-1]
            i = draw(st.integers(0, max(len(key) - 1, 0)))
            typo = key[:i] + draw(st.sampled_from("aeiouxz_")) + key[i + 1 :]
            if typo != key and typo not in parent:
                parent[typo] = parent.pop(key)
        elif kind == "duplicate" and isinstance(target, list) and target:
            target.append(copy.deepcopy(target[draw(st.integers(0, len(target) - 1))]))
        elif kind == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(target))
        elif kind == "empty" and isinstance(target, list | dict):
            target.clear()
        elif kind == "huge" and isinstance(target, list) and target:
            target.extend(copy.deepcopy(target[:1]) * draw(st.integers(100, 2000)))
        elif kind == "scale" and _is_number(target):
            factor = draw(st.sampled_from([0, -1, 1e-300, 1e-9, 1e9, 1e300, math.inf]))
            _set(data, path, target * factor)
        elif kind == "node-name" and isinstance(target, str):
            _set(data, path, draw(st.sampled_from([*NODE_NAMES, "Atlantis", "urumqi", ""])))
        else:
            _set(data, path, copy.deepcopy(draw(hostile_values)))
            kind = "value"
        log.append(f"{kind} at {'.'.join(map(str, path))}")
    return data, log


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_outcome(data: dict[str, Any]) -> ScenarioConfig | None:
    """Validate; a refusal must be a one-line ConfigError naming a key path."""
    try:
        return loader.validate_config(data, "fuzz.yaml")
    except ConfigError as exc:
        text = str(exc)
        assert "\n" not in text and "\r" not in text, text
        assert text.startswith("fuzz.yaml: "), text
        assert exc.path or exc.message.startswith("config expands"), text
        assert len(text) < 600, text
        assert "Traceback" not in text and "pydantic" not in text.lower(), text
        return None


@FUZZ
@given(mutated_configs())
def test_every_mutation_is_accepted_or_refused_in_one_line(
    case: tuple[dict[str, Any], list[str]],
) -> None:
    data, _log = case
    cfg = check_outcome(data)
    if cfg is not None:
        # what was accepted is a consistent config: its resolved form validates again
        again = loader.validate_config(copy.deepcopy(cfg.resolved()), "resolved")
        assert again.config_hash() == cfg.config_hash()


# --------------------------------------------------------------------------- absurd but legal

NUMERIC_PATHS = [
    p for p in PATHS if _is_number(_get(BASE, p)) and p[-1] not in ("lat", "lon", "gauge_mm")
]
DURATION_PATHS = [
    p for p in PATHS if isinstance(_get(BASE, p), str) and p[-1] in ("max_wait", "move_time")
]


@st.composite
def absurd_configs(draw: st.DrawFn) -> dict[str, Any]:
    """The baseline with numbers pushed to extremes that may still be legal."""
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(NUMERIC_PATHS))
        value = _get(data, path)
        if not _is_number(value):
            continue
        if isinstance(value, int):  # counts: one, or as many as allowed
            _set(data, path, draw(st.sampled_from([1, 2, value * 10, 1000])))
            continue
        factor = draw(st.sampled_from([1e-12, 1e-3, 0.01, 0.5, 2, 10, 100, 1e4, 1e9]))
        _set(data, path, value * factor)
    for path in draw(st.lists(st.sampled_from(DURATION_PATHS), max_size=2)):
        _set(data, path, draw(st.sampled_from(["1e-9 s", "1 s", "1e4 h", "1e9 h"])))
    data["simulation"].update(days=2, warmup_days=0, max_entities=50_000)
    data["outputs"] = {"plots": False}
    return data


@RUN_FUZZ
@given(absurd_configs())
def test_absurd_but_legal_configs_run_and_conserve_cargo(data: dict[str, Any]) -> None:
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.model.simulate import simulate

    cfg = check_outcome(data)
    if cfg is None:
        return
    result = simulate(cfg)
    assert result.ledger.conservation_error_t == 0
    tables = Tables(result)
    values = dict(zip(tables.summary["metric"], tables.summary["value"], strict=True))
    for metric, value in values.items():
        assert not (isinstance(value, float) and math.isinf(value)), metric


# --------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["hub"]["cranes"].update(count="three"), "hub.cranes.count"),
        (lambda d: d["demand"].update(tonnes_per_day=float("nan")), "demand.tonnes_per_day"),
        (lambda d: d["corridor"]["edges"].append({"from": "Urumqi", "to": "Atlantis"}), "km"),
        (lambda d: d.pop("hub"), "hub: required key is missing"),
        (lambda d: d["services"]["duisburg"].update(stops=["Atlantis"]), "unknown node"),
        (lambda d: d["simulation"].update(days=1e9), "simulation.days"),
    ],
)
def test_cli_refuses_a_fuzzed_config_in_one_line_without_a_folder(
    tmp_path: Path, mutate: Any, expected: str
) -> None:
    data = copy.deepcopy(BASE)
    mutate(data)
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    proc = _cli("run", str(cfg), "--out", "res", "-q", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert expected in lines[0]
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]
