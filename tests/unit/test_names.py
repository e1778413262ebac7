"""Names at the config boundary.

Names are joined into routes (``Hub>Border>Term``), metric names
(``border_wait_h_mean:Border``), event ids (``gales#001``) and folders
(``results/<name>``). A name that holds one of those separators, or that is a path
of its own (``..``), is refused with one line: file, key path, value and the rule.
Every name the rule lets through comes back unchanged from a run's tables.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.fields import NAME_RULE
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.experiments.sweep.spec import load_spec
from silkroute_sim.model.simulate import simulate

from ..conftest import CONFIGS, tiny_raw


def _renamed(border: str = "Border", term: str = "Term", cls: str = "containers") -> dict[str, Any]:
    """The tiny scenario with its border node, terminal and cargo class renamed."""
    raw = tiny_raw()
    nodes = raw["corridor"]["nodes"]
    raw["corridor"]["nodes"] = {
        {"Border": border, "Term": term}.get(k, k): v for k, v in nodes.items()
    }
    raw["corridor"]["edges"] = [
        {"from": "Hub", "to": border, "km": 100, "speed": 50},
        {"from": border, "to": term, "km": 100, "speed": "1200 km/day"},
    ]
    classes = raw["demand"]["classes"]
    classes[cls] = classes.pop("containers")
    classes[cls]["destinations"] = {term: 1.0}
    raw["services"]["term"]["stops"] = [term]
    return raw


def _refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(raw, "t.yaml")
    return str(info.value)


# --------------------------------------------------------------------------- refused


@pytest.mark.parametrize("bad", ["Bor>der", "Bor:der", "a,b", "a|b", "a/b", "a\\b", "a#1"])
def test_a_node_name_holding_a_separator_is_refused_in_one_line(bad: str) -> None:
    message = _refusal(_renamed(border=bad))
    assert message == (
        f"t.yaml: corridor.nodes.{bad}: invalid value; allowed: {NAME_RULE} (got {bad!r})"
    )


@pytest.mark.parametrize("bad", ["..", ".", ".hidden", " Term", "Term ", "Te\trm", "Te\nrm"])
def test_path_like_or_padded_names_are_refused(bad: str) -> None:
    message = _refusal(_renamed(term=bad))
    assert message.startswith("t.yaml: ")
    assert message.endswith(f": invalid value; allowed: {NAME_RULE} (got {bad!r})")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("section", "value", "where"),
    [
        ({"name": ".."}, "..", "name"),
        ({"name": "."}, ".", "name"),
        ({"name": "a/../b"}, "a/../b", "name"),
        ({"services": {"a>b": {}}}, "a>b", "services.a>b"),
    ],
)
def test_scenario_and_service_names_follow_the_rule(
    section: dict[str, Any], value: str, where: str
) -> None:
    raw = tiny_raw()
    for key, item in section.items():
        if key == "services":
            (name,) = item
            raw["services"] = {name: raw["services"]["term"]}
        else:
            raw[key] = item
    assert _refusal(raw) == f"t.yaml: {where}: invalid value; allowed: {NAME_RULE} (got {value!r})"


def test_names_in_every_section_follow_the_rule() -> None:
    raw = tiny_raw()
    raw["demand"]["classes"]["containers"]["group"] = "box:es"
    assert "demand.classes.containers.group: invalid value" in _refusal(raw)
    raw = tiny_raw()
    raw["wagon_types"] = {"flat/car": {"carries": "units"}}
    assert "wagon_types.flat/car: invalid value" in _refusal(raw)
    raw = tiny_raw()
    raw["corridor"]["background"] = {"bg>1": {"route": ["Border", "Term"], "trains_per_day": 1}}
    assert "corridor.background.bg>1: invalid value" in _refusal(raw)
    raw = tiny_raw()
    raw["disruptions"] = {
        "scheduled": [{"id": "x:1", "node": "Border", "effect": "close", "start": 1, "end": 2}]
    }
    assert "disruptions.scheduled.0.id: invalid value" in _refusal(raw)


def test_a_sweep_named_dot_dot_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "name": "..",
                "base": str(CONFIGS / "baseline.yaml"),
                "parameters": {"hub.cranes.count": [4, 5]},
            }
        )
    )
    with pytest.raises(ConfigError) as info:
        load_spec(spec)
    assert str(info.value) == f"{spec}: name: invalid value; allowed: {NAME_RULE} (got '..')"


@pytest.mark.slow
def test_the_shipped_configs_keep_their_names() -> None:
    for path in [CONFIGS / "baseline.yaml", *sorted((CONFIGS / "scenarios").glob("*.yaml"))]:
        cfg = load_config(path)
        assert cfg.name == path.stem
    assert "Małaszewicze" in load_config(CONFIGS / "baseline.yaml").corridor.nodes


# --------------------------------------------------------------------------- round trip

_ALPHABET = string.ascii_letters + string.digits + " -_.()'&+>:,|/\\#\"*?<=[]\t\n" + "łóźżść東京"
_BASELINE = Tables(simulate(validate_config(_renamed()), 1))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    border=st.text(_ALPHABET, min_size=1, max_size=12),
    term=st.text(_ALPHABET, min_size=1, max_size=12),
)
@example(border="0", term="  ")  # a run of spaces is quoted as it is, not as one space
def test_a_name_is_refused_in_one_line_or_comes_back_unchanged(border: str, term: str) -> None:
    assume(len({"Hub", border, term}) == 3)
    raw = _renamed(border=border, term=term)
    try:
        cfg = validate_config(raw, "t.yaml")
    except ConfigError as exc:
        message = str(exc)
        assert "\n" not in message and message.startswith("t.yaml: ")
        assert message.endswith(f": invalid value; allowed: {NAME_RULE} (got {exc.value!r})")
        assert exc.value in (border, term)
        return
    tables = Tables(simulate(cfg, 1))
    nodes = set(cfg.corridor.nodes)
    for route in tables.trains["route"]:  # so far, for a train still on its way
        parts = str(route).split(">")
        assert parts == ["Hub", border, term][: len(parts)]
    assert set(tables.node_events["node"]) <= nodes
    rename = {"Border": border, "Term": term}
    expected = {}
    for metric, value in zip(_BASELINE.summary["metric"], _BASELINE.summary["value"], strict=True):
        base, *qualifiers = str(metric).split(":")
        expected[":".join([base, *(rename.get(q, q) for q in qualifiers)])] = value
    got = dict(zip(tables.summary["metric"], tables.summary["value"], strict=True))
    assert got.keys() == expected.keys()
    for metric, value in got.items():
        assert value == pytest.approx(expected[metric], nan_ok=True), metric


@pytest.mark.parametrize(("section", "stream"), [("background", "x"), ("inbound", "x")])
def test_a_service_whose_train_ids_clash_with_a_stream_is_refused(
    section: str, stream: str
) -> None:
    raw = tiny_raw()
    prefix = "bg" if section == "background" else "in"
    if section == "background":
        raw["corridor"]["background"] = {stream: {"route": ["Border", "Term"], "trains_per_day": 1}}
    else:
        raw["hub"]["inbound"] = {stream: {"trains_per_day": 1, "boxes": 2, "dwell": "1 d"}}
    where = "corridor.background" if section == "background" else "hub.inbound"
    raw["services"] = {f"{prefix}-{stream}": raw["services"]["term"]}
    assert _refusal(raw) == (
        f"t.yaml: services.{prefix}-{stream}: its trains would share their ids with those of "
        f"{where}.{stream} ({prefix}-{stream}-00001); rename the service"
    )
    raw["services"] = {f"{prefix}-{stream}2": raw["services"][f"{prefix}-{stream}"]}
    assert validate_config(raw, "t.yaml").services


@pytest.mark.parametrize("field", ["class", "group"])
def test_a_class_or_group_named_like_a_node_is_refused(field: str) -> None:
    raw = tiny_raw()
    classes = raw["demand"]["classes"]
    if field == "class":
        classes["Term"] = classes.pop("containers")
        where = "demand.classes.Term"
    else:
        classes["containers"]["group"] = "Border"
        where = "demand.classes.containers.group"
    name = "Term" if field == "class" else "Border"
    assert _refusal(raw) == (
        f"t.yaml: {where}: a cargo class or group cannot be named like a node ({name}): their "
        "metrics would share names (door_to_door_d_median:<name>); rename it"
    )


def test_a_run_of_spaces_in_a_quoted_value_survives_every_one_line_message() -> None:
    """The command's and the sweep's one-line messages join line breaks, not the spaces
    of a quoted value: a name of two spaces is said to be two spaces."""
    from silkroute_sim.cli.common import one_line
    from silkroute_sim.experiments.sweep.run import _one_line

    exc = ConfigError("t.yaml", "corridor.nodes", "invalid value", "  ", has_value=True)
    assert str(exc) == "t.yaml: corridor.nodes: invalid value (got '  ')"
    assert one_line(str(exc)) == str(exc)
    assert _one_line(exc) == str(exc)
    assert one_line(" first\n   second\tthird \r\n") == "first second third"
