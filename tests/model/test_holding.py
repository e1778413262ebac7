"""Finite holding, spill-back, the blocked policy, group closures and background route
shares (issue 21): exact timelines on tiny graphs, no deadlock with opposing traffic,
conservation under a closure with holding."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest

from silkroute_sim.analysis.holding import daily_held
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.model.simulate import RunResult, simulate

from ..conftest import tiny_raw


def _run(raw: dict[str, Any], seed: int | None = None) -> RunResult:
    # group targets are checked against the corridor by config.checks (see docs); the
    # schema alone is enough for the model
    return simulate(ScenarioConfig.model_validate(copy.deepcopy(raw)), seed=seed)


def _r(x: float) -> float:
    return round(x, 6)


# --------------------------------------------------------------------------- spill-back


def _chain() -> dict[str, Any]:
    """Hub -> Mid (junction, 1 siding) -> Border (1 track, no siding, customs 10 h) ->
    Term; a train every 4.8 h (tiny_raw's deterministic arrivals), 2 loading tracks."""
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"
    raw["simulation"]["days"] = 1.5
    raw["hub"]["loading"]["tracks"] = 2
    nodes = raw["corridor"]["nodes"]
    nodes["Mid"] = {
        "kind": "junction",
        "gauge_mm": 1435,
        "lat": 44.5,
        "lon": 85.0,
        "holding": {"sidings": 1},
    }
    nodes["Border"]["processing"]["customs"] = "10 h"
    nodes["Border"]["holding"] = {"sidings": 0}
    raw["corridor"]["edges"] = [
        {"from": "Hub", "to": "Mid", "km": 50, "speed": 50},
        {"from": "Mid", "to": "Border", "km": 50, "speed": 50},
        {"from": "Border", "to": "Term", "km": 100, "speed": "1200 km/day"},
    ]
    return raw


def test_a_full_node_holds_the_train_before_it_and_then_the_hub() -> None:
    """Border holds one train (7.1 to 17.6). The second waits at Mid for it to leave
    (10.9 to 17.6); the third, formed at 14.7 with Mid full, waits on its loading track
    until 17.6; the fourth, formed at 19.5, until the second leaves Border (29.1), and
    the fifth takes the second loading track meanwhile (both busy from 24.1)."""
    res = _run(_chain())
    trains = {t.train_id: t for t in res.records.trains}
    departed = {k: _r(t.departed_h) for k, t in trains.items()}
    assert departed == {
        "term-00001": 5.1,
        "term-00002": 9.9,
        "term-00003": 17.6,
        "term-00004": 29.1,
    }
    assert _r(trains["term-00003"].formed_h) == 14.7
    assert _r(trains["term-00004"].formed_h) == 19.5
    events = [
        (e.train_id, e.node, e.kind, _r(e.arrived_h), _r(e.end_h))
        for e in res.records.node_events
        if e.kind in ("held", "customs")
    ]
    assert events == [
        ("term-00001", "Border", "customs", 7.1, 17.1),
        ("term-00002", "Mid", "held", 10.9, 17.6),
        ("term-00002", "Border", "customs", 18.6, 28.6),
        ("term-00003", "Mid", "held", 18.6, 29.1),
    ]
    times, levels = res.records.monitors["held:Hub"].arrays()
    assert [(_r(t), v) for t, v in zip(times, levels, strict=True)] == [
        (0.0, 0),
        (14.7, 1),
        (17.6, 0),
        (19.5, 1),
        (24.3, 2),
        (29.1, 1),
        (29.3, 2),
    ]
    times, levels = res.records.monitors["loading_tracks_busy"].arrays()
    assert levels[list(map(_r, times)).index(24.1)] == 2  # both tracks: the hub feels it
    assert res.ledger.conservation_error_t == 0


def test_without_holding_the_same_chain_never_waits_for_room() -> None:
    raw = _chain()
    for node in raw["corridor"]["nodes"].values():
        node.pop("holding", None)
    res = _run(raw)
    assert [_r(t.departed_h) for t in res.records.trains][:4] == [5.1, 9.9, 14.7, 19.5]
    assert not [e for e in res.records.node_events if e.kind == "held"]


def test_a_node_without_tracks_needs_a_siding() -> None:
    raw = _chain()
    raw["corridor"]["nodes"]["Mid"]["holding"] = {"sidings": 0}
    with pytest.raises(ValueError, match="at least 1 siding"):
        ScenarioConfig.model_validate(raw)


# --------------------------------------------------------------------------- deadlock


def _opposing(days: float, tpd: float) -> dict[str, Any]:
    """Two one-track border nodes A and B with no sidings (room 1 each) and background
    trains both ways (A -> B and B -> A): each node is often full of a train that waits
    for room at the other."""
    raw = tiny_raw()
    raw["simulation"]["days"] = days
    nodes = raw["corridor"]["nodes"]
    for name, lon in (("A", 80.0), ("B", 79.0)):
        nodes[name] = {
            "kind": "border",
            "gauge_mm": 1520,
            "lat": 45.0,
            "lon": lon,
            "processing": {"tracks": 1, "customs": "1 h"},
            "holding": {"sidings": 0},
        }
    raw["corridor"]["edges"] += [
        {"from": "Term", "to": "A", "km": 10, "speed": 50},
        {"from": "A", "to": "B", "km": 10, "speed": 50},
    ]
    raw["corridor"]["background"] = {
        "west": {"route": ["A", "B"], "trains_per_day": tpd},
        "east": {"route": ["B", "A"], "trains_per_day": tpd},
    }
    return raw


def test_opposing_trains_swap_places_instead_of_deadlocking() -> None:
    """Without the swap rule the two full nodes wait for each other for ever (tried: no
    train arrives); with it every train that entered early enough gets through."""
    res = _run(_opposing(days=10, tpd=7), seed=3)
    trains = res.records.background_trains
    early = [t for t in trains if t.departed_h < res.end_h - 48]
    assert len(early) > 100
    assert all(t.arrived_h == t.arrived_h for t in early)  # every one arrived
    assert max(t.arrived_h - t.departed_h for t in early) < 48
    held = [e for e in res.records.node_events if e.kind == "held"]
    assert held  # full nodes did hold trains for room at the other
    assert res.records.monitors["held:A"].max(0, res.end_h) <= 1  # its room: one train


# --------------------------------------------------------------------------- policies


def _diamond(policy: str, route: str = "fixed", group: str = "nodes") -> dict[str, Any]:
    """Hub -> J -> B1 -> Term and J -> B2 -> Term (B2 10 km longer), J a branching
    node; B1 closed from day 1 for 2 days (by a group entry)."""
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"
    raw["simulation"]["days"] = 6
    raw["hub"]["loading"]["tracks"] = 2
    nodes = raw["corridor"]["nodes"]
    nodes["Hub"]["country"] = "CN"
    nodes["J"] = {"kind": "junction", "gauge_mm": 1435, "lat": 44.0, "lon": 85.0, "country": "CN"}
    border = nodes.pop("Border")
    border.update(country="KZ", gauge_mm=1435, holding={"sidings": 1})
    del border["processing"]["gauge_change"]
    nodes["B1"] = copy.deepcopy(border)
    nodes["B2"] = copy.deepcopy(border)
    nodes["Term"].update(country="KZ", gauge_mm=1435)
    nodes["J"]["holding"] = {"sidings": 2}
    raw["corridor"]["edges"] = [
        {"from": "Hub", "to": "J", "km": 50, "speed": 50},
        {"from": "J", "to": "B1", "km": 50, "speed": 50},
        {"from": "J", "to": "B2", "km": 60, "speed": 50},
        {"from": "B1", "to": "Term", "km": 100, "speed": 50},
        {"from": "B2", "to": "Term", "km": 100, "speed": 50},
    ]
    service = raw["services"]["term"]
    service["when_blocked"] = policy
    service["route"] = (
        {"policy": "fixed", "nodes": ["Hub", "J", "B1", "Term"]}
        if route == "fixed"
        else {"policy": route}
    )
    target: dict[str, Any] = (
        {"nodes": ["B1"]} if group == "nodes" else {"country_border": ["KZ", "CN"]}
    )
    raw["disruptions"] = {
        "scheduled": [{"id": "b1", **target, "effect": "close", "start": "1 d", "duration": "2 d"}]
    }
    return raw


def test_reroute_policy_takes_a_fixed_route_around_the_closure() -> None:
    res = _run(_diamond("reroute"))
    frame = Tables(res).disruptions
    assert frame is not None
    row = frame.iloc[0]
    routes = [">".join(t.route) for t in res.records.trains]
    via_b2 = [t for t in res.records.trains if "B2" in t.route and 24 <= t.departed_h < 72]
    assert len(via_b2) == row["rerouted_trains"] > 0
    assert row["rerouted_by_route"] == f"via B2: {len(via_b2)}"
    assert "Hub>J>B2>Term" in routes
    assert row["held_at_hub_trains"] == 0
    assert res.ledger.conservation_error_t == 0


def test_hold_policy_keeps_formed_trains_at_the_hub_and_counts_them() -> None:
    res = _run(_diamond("hold"))
    frame = Tables(res).disruptions
    assert frame is not None
    row = frame.iloc[0]
    assert row["rerouted_trains"] == 0
    assert all("B2" not in t.route for t in res.records.trains)
    held_at_hub = [t for t in res.records.trains if t.departed_h - t.formed_h > 1e-6]
    assert held_at_hub and all(t.formed_h >= 24 and t.departed_h >= 72 for t in held_at_hub[:2])
    assert row["held_at_hub_trains"] >= 2
    assert "Hub: 2" in row["held_max_by_node"]  # both loading tracks hold a formed train
    hub_held = res.records.monitors["held:Hub"]
    assert hub_held.max(24, 72) == 2
    days = daily_held(res, np.arange(7) * 24.0)  # daily.csv's held_trains_mean columns
    assert days["held_trains_mean:hub"][0] == 0 and days["held_trains_mean:hub"][1] > 0
    assert set(days) == {"held_trains_mean:hub", "held_trains_mean:CN", "held_trains_mean:KZ"}


def test_a_country_border_entry_closes_the_same_nodes_as_the_list() -> None:
    """``country_border: [KZ, CN]`` finds every KZ node with an edge to a CN node: B1
    and B2 (both next to J); closing both leaves no route: every train waits."""
    cfg = ScenarioConfig.model_validate(_diamond("reroute", group="country"))
    spec = cfg.disruptions.scheduled[0]
    assert spec.members(cfg.corridor) == ["B1", "B2"]
    assert spec.target_label() == "KZ|CN"
    res = simulate(cfg)
    assert not [t for t in res.records.trains if 24 + 1e-9 < t.departed_h < 72 - 1e-9]
    single = _diamond("reroute")
    single["disruptions"]["scheduled"][0] = {
        "id": "b1",
        "node": "B1",
        "effect": "close",
        "start": "1 d",
        "duration": "2 d",
    }
    grouped = _run(_diamond("reroute"))
    alone = _run(single)
    assert [t.route for t in grouped.records.trains] == [t.route for t in alone.records.trains]


def test_group_entries_are_validated() -> None:
    raw = _diamond("hold")
    raw["disruptions"]["scheduled"][0]["node"] = "B2"
    with pytest.raises(ValueError, match="exactly one target"):
        ScenarioConfig.model_validate(raw)
    raw = _diamond("hold", group="country")
    raw["disruptions"]["scheduled"][0]["country_border"] = ["KZ", "KZ"]
    with pytest.raises(ValueError, match="two different countries"):
        ScenarioConfig.model_validate(raw)


def test_conservation_under_a_closure_with_holding_and_background() -> None:
    raw = _diamond("proceed", route="shortest")
    raw["simulation"]["days"] = 20
    raw["demand"]["arrivals"] = "poisson"
    raw["corridor"]["background"] = {
        "b": {"route": ["J", "B1", "Term"], "trains_per_day": 3, "boxes": 2},
    }
    raw["disruptions"]["scheduled"][0]["duration"] = "5 d"
    res = _run(raw, seed=7)
    ledger = res.ledger
    assert ledger.conservation_error_t == 0
    trains = res.records.trains
    assert ledger.departed_kg == sum(t.kg for t in trains)
    assert ledger.delivered_kg == sum(t.kg for t in trains if t.arrived_h == t.arrived_h)
    assert ledger.delivered_kg > 0.8 * ledger.departed_kg  # the corridor kept moving
    frame = Tables(res).disruptions
    assert frame is not None
    row = frame.iloc[0]
    assert row["held_trains"] + row["rerouted_trains"] > 0
    assert math.isfinite(row["held_trains_max"])


# --------------------------------------------------------------------------- background


def test_background_route_shares_are_drawn_within_their_confidence_interval() -> None:
    raw = tiny_raw()
    raw["simulation"]["days"] = 40
    nodes = raw["corridor"]["nodes"]
    nodes["Alt"] = {"kind": "junction", "gauge_mm": 1520, "lat": 45.5, "lon": 80.0}
    raw["corridor"]["edges"] += [
        {"from": "Border", "to": "Alt", "km": 50, "speed": 50},
        {"from": "Alt", "to": "Term", "km": 50, "speed": 50},
    ]
    raw["corridor"]["background"] = {
        "bg": {
            "route": ["Border", "Term"],
            "trains_per_day": 20,
            "alternatives": [{"route": ["Border", "Alt", "Term"], "share": 0.3}],
        }
    }
    res = _run(raw, seed=11)
    trains = [t for t in res.records.background_trains if t.arrived_h == t.arrived_h]
    n = len(trains)
    share = sum(1 for t in trains if "Alt" in t.route) / n
    half = 3 * math.sqrt(0.3 * 0.7 / n)  # three standard errors
    assert n > 600 and abs(share - 0.3) < half, (share, n)


def test_replanning_background_trains_take_another_route_when_theirs_is_closed() -> None:
    raw = _diamond("reroute")
    raw["corridor"]["background"] = {
        "b": {
            "route": ["J", "B1", "Term"],
            "trains_per_day": 6,
            "boxes": 2,
            "alternatives": [{"route": ["J", "B2", "Term"], "share": 0.1}],
            "replan": True,
        }
    }
    res = _run(raw, seed=5)
    during = [t for t in res.records.background_trains if 24 <= t.departed_h < 72]
    assert during and all("B1" not in t.route for t in during)
    raw["corridor"]["background"]["b"]["replan"] = False
    res = _run(raw, seed=5)
    during = [t for t in res.records.background_trains if 24 <= t.departed_h < 70]
    assert any("B1" in t.route for t in during)  # they waited for B1 instead


def test_reroute_policy_plans_around_a_full_node() -> None:
    """B1 full (10 h of formalities a train, room 2): ``reroute`` trains take B2 from
    the hub or from J; ``proceed`` trains keep their fixed route and wait for B1."""
    raw = _diamond("reroute")
    del raw["disruptions"]
    raw["corridor"]["nodes"]["B1"]["processing"]["customs"] = "10 h"
    res = _run(raw)
    via_b2 = [t for t in res.records.trains if "B2" in t.route]
    assert via_b2 and all(t.route == ["Hub", "J", "B2", "Term"] for t in via_b2)
    assert res.ledger.conservation_error_t == 0
    raw["services"]["term"]["when_blocked"] = "proceed"
    res = _run(raw)
    assert all("B2" not in t.route for t in res.records.trains)
    assert res.records.monitors["held:Hub"].max(0, res.end_h) > 0  # they wait instead


def test_reroute_around_a_closure_and_a_full_node_at_once() -> None:
    """B1 closed, B2 full: the route around the closure (B2) and the route around full
    nodes (B3) must agree, or a train would switch between them for ever at one instant."""
    raw = _diamond("reroute")
    nodes = raw["corridor"]["nodes"]
    nodes["B3"] = copy.deepcopy(nodes["B2"])
    nodes["B2"]["processing"]["customs"] = "10 h"
    raw["corridor"]["edges"] += [
        {"from": "J", "to": "B3", "km": 700, "speed": 50},  # 14 h: B2 is the way round
        {"from": "B3", "to": "Term", "km": 100, "speed": 50},
    ]
    res = _run(raw)
    during = [t for t in res.records.trains if 24 <= t.departed_h < 72]
    assert "B3" in {t.route[2] for t in during} <= {"B2", "B3"}
    assert res.ledger.conservation_error_t == 0
