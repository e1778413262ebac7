"""The shipped corridor graph (configs/corridor.yaml) with its alternative routes (issue 21):
every node has a country, the split Moscow – Brest line keeps its km per country, the
baseline's services keep their routes, the alternatives are slower by expected time, and
Europe stays reachable with any border closed and with every Belarus – Poland crossing
closed. Tests on the built graph only (no simulation): milliseconds."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import networkx as nx
import pytest

from silkroute_sim.analysis.costs import edge_countries
from silkroute_sim.config.corridor import ISO_COUNTRIES
from silkroute_sim.config.loader import load_config
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.model.network import build_graph, shortest_path

from ..conftest import CONFIGS

EUROPE = ("Duisburg", "Hamburg", "Łódź")
#: the baseline's routes (least expected time, no queues) before the alternatives existed,
#: with the junctions that now split Moscow – Brest (they add no time)
BASELINE_ROUTES = {
    "duisburg": "Urumqi Jinghe Alashankou Dostyk Aktogay Astana Petropavlovsk Samara Moscow "
    "Osinovka Minsk Baranovichi Brest Małaszewicze Warsaw Łódź Duisburg",
    "lodz-hamburg": "Urumqi Jinghe Alashankou Dostyk Aktogay Astana Petropavlovsk Samara "
    "Moscow Osinovka Minsk Baranovichi Brest Małaszewicze Warsaw Łódź Hamburg",
    "moscow": "Urumqi Jinghe Alashankou Dostyk Aktogay Astana Petropavlovsk Samara Moscow",
    "almaty-bishkek": "Urumqi Jinghe Khorgos Altynkol Zhetigen Almaty Lugovaya Kainda Bishkek",
    "tashkent": "Urumqi Jinghe Khorgos Altynkol Zhetigen Almaty Lugovaya Saryagash Keles Tashkent",
}
#: the Polish (and Kaliningrad – Poland) side of every crossing from Belarus and Russia
BELARUS_POLAND = ("Małaszewicze", "Kuźnica", "Siemianówka")
KALININGRAD_POLAND = ("Braniewo",)
#: hours the best way into the EU around Małaszewicze must lose at least, so that the
#: adaptive trains keep to it unless its queue passes about 16 trains (1.5 h each)
MIN_DETOUR_H = 24.0


@pytest.fixture(scope="module")
def cfg() -> ScenarioConfig:
    return load_config(CONFIGS / "baseline.yaml")


@pytest.fixture(scope="module")
def graph(cfg: ScenarioConfig) -> nx.DiGraph:
    return build_graph(cfg.corridor)


def _cost(graph: nx.DiGraph, path: list[str]) -> float:
    return float(sum(graph.edges[a, b]["expected_h"] for a, b in itertools.pairwise(path)))


def _without(graph: nx.DiGraph, closed: Iterable[str]) -> nx.DiGraph:
    """The graph with ``closed`` nodes removed (as a closure hides them from routing)."""
    view = graph.copy()
    view.remove_nodes_from(list(closed))
    return view


def test_every_node_has_a_country_code(cfg: ScenarioConfig) -> None:
    missing = [n for n, node in cfg.corridor.nodes.items() if node.country not in ISO_COUNTRIES]
    assert not missing


def test_edge_km_per_country_sum_to_the_edge_and_keep_moscow_brest(cfg: ScenarioConfig) -> None:
    split = edge_countries(cfg)
    km = {(e.source, e.target): e.km for e in cfg.corridor.edges}
    km |= {(e.target, e.source): e.km for e in cfg.corridor.edges if e.both_ways}
    for (a, b), by_country in split.items():
        assert sum(by_country.values()) == pytest.approx(km[(a, b)]), (a, b)
        # km in a country the edge does not touch only where a line crosses a third one
        ends = {cfg.corridor.nodes[a].country, cfg.corridor.nodes[b].country}
        assert set(by_country) <= ends, (a, b, by_country)
    # Moscow – Brest, 1,100 km (RU 480, BY 620) [3], now split at the Belarusian junctions
    line = ["Moscow", "Osinovka", "Minsk", "Baranovichi", "Brest"]
    total: dict[str, float] = {}
    for a, b in itertools.pairwise(line):
        for country, km in split[(a, b)].items():
            total[country] = total.get(country, 0.0) + km
    assert total == pytest.approx({"RU": 480.0, "BY": 620.0})


def test_no_route_of_the_baseline_changed(cfg: ScenarioConfig, graph: nx.DiGraph) -> None:
    for name, route in BASELINE_ROUTES.items():
        path = shortest_path(graph, cfg.hub.node, list(cfg.services[name].stops))
        assert " ".join(path) == route, name


def test_the_alternatives_are_slower_by_expected_time(cfg: ScenarioConfig, graph) -> None:
    hub = cfg.hub.node
    for dest in EUROPE:
        usual = shortest_path(graph, hub, [dest])
        detour = shortest_path(_without(graph, ["Małaszewicze"]), hub, [dest])
        assert "Małaszewicze" in usual and detour != usual
        assert _cost(graph, detour) - _cost(graph, usual) > MIN_DETOUR_H, (dest, detour)


def test_europe_is_reachable_with_any_one_border_closed(cfg: ScenarioConfig, graph) -> None:
    hub = cfg.hub.node
    borders = [n for n, node in cfg.corridor.nodes.items() if node.kind in ("border", "port")]
    assert len(borders) > 20
    for node in borders:
        view = _without(graph, [node])
        for dest in EUROPE:
            assert nx.has_path(view, hub, dest), (node, dest)


def test_europe_is_reachable_with_every_belarus_poland_crossing_closed(cfg, graph) -> None:
    hub = cfg.hub.node
    closed = _without(graph, BELARUS_POLAND + KALININGRAD_POLAND)
    for dest in EUROPE:
        path = shortest_path(closed, hub, [dest])
        assert "Kena" in path, path  # through Lithuania (or Kaliningrad behind it)
    # Belarus and Russia closed to the west as well: the Middle Corridor
    no_north = _without(graph, BELARUS_POLAND + KALININGRAD_POLAND + ("Kena", "Osinovka"))
    for dest in EUROPE:
        path = shortest_path(no_north, hub, [dest])
        assert "Alat" in path and "Moscow" not in path, path


def test_every_belarus_poland_crossing_is_a_pair_of_border_nodes(cfg: ScenarioConfig) -> None:
    nodes = cfg.corridor.nodes
    pairs = {
        (e.source, e.target)
        for e in cfg.corridor.edges
        if {nodes[e.source].country, nodes[e.target].country} == {"BY", "PL"}
    }
    assert {b for _, b in pairs} == set(BELARUS_POLAND)
    for a, b in pairs:
        assert nodes[a].kind == nodes[b].kind == "border"
        # each side does the transshipment of the trains entering its gauge
        assert nodes[a].processing and nodes[a].processing.gauge_change
        assert nodes[b].processing and nodes[b].processing.gauge_change
