"""A ferry block belongs on a ``mode: ferry`` edge and nowhere else (config/corridor.py's
EdgeConfig), and a port is a node kind: one-line errors naming file and key path."""

from __future__ import annotations

import pytest

from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import validate_config

from ..conftest import tiny_raw

FERRY = {"capacity_wagons": 50, "sailing": {"every": "24 h"}}


def _error(raw: dict) -> str:
    with pytest.raises(ConfigError) as info:
        validate_config(raw, "x.yaml")
    text = str(info.value)
    assert "\n" not in text
    return text


def test_a_ferry_block_on_a_rail_edge_is_refused() -> None:
    raw = tiny_raw()
    raw["corridor"]["edges"][1]["ferry"] = FERRY
    assert _error(raw) == (
        "x.yaml: corridor.edges.1: Border–Term is a rail edge with a ferry block; give it "
        "mode: ferry, or remove 'ferry'"
    )


def test_a_ferry_edge_without_its_block_is_refused() -> None:
    raw = tiny_raw()
    raw["corridor"]["edges"][1]["mode"] = "ferry"
    text = _error(raw)
    assert text.startswith("x.yaml: corridor.edges.1: Border–Term has mode: ferry but no ferry")
    assert "capacity_wagons or capacity_teu" in text


def test_vessels_need_a_line_both_ways() -> None:
    raw = tiny_raw()
    edge = raw["corridor"]["edges"][1]
    edge.update(mode="ferry", both_ways=False, ferry={**FERRY, "vessels": 2})
    assert "ferry.vessels needs both_ways: true" in _error(raw)


def test_a_bad_key_inside_the_block_names_its_path() -> None:
    raw = tiny_raw()
    raw["corridor"]["edges"][1].update(mode="ferry", ferry={**FERRY, "sailing": {"evry": 6}})
    text = _error(raw)
    assert text.startswith("x.yaml: corridor.edges.1.ferry.sailing.evry: unknown key 'evry'")


def test_a_port_is_a_node_kind_and_a_ferry_edge_dumps_its_block() -> None:
    raw = tiny_raw()
    raw["corridor"]["nodes"]["Border"]["kind"] = "port"
    raw["corridor"]["edges"][1].update(mode="ferry", ferry=FERRY)
    cfg = validate_config(raw)
    assert cfg.corridor.nodes["Border"].kind == "port"
    edge = cfg.resolved()["corridor"]["edges"][1]  # type: ignore[index]
    assert edge["mode"] == "ferry" and edge["ferry"]["capacity_wagons"] == 50
    # a rail edge's dump has no ferry key: configs before it keep their hash
    assert "ferry" not in cfg.resolved()["corridor"]["edges"][0]  # type: ignore[index]
