"""Layer 1: the queue-aware planner gives the full search's node lists, ties included."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkroute_sim.config.loader import load_config
from silkroute_sim.model.network import QueuePlanner, build_graph, shortest_path

from .test_network import _outcome, graphs


@pytest.mark.slow
@settings(max_examples=400, derandomize=True, deadline=None)
@given(graphs(), st.data())
def test_same_route_as_the_full_search(
    case: tuple[nx.DiGraph, str, str], data: st.DataObject
) -> None:
    """Small integer weights and queue costs make equal-cost routes common."""
    graph, source, target = case
    nodes = sorted(graph.nodes)
    costs = data.draw(
        st.dictionaries(st.sampled_from(nodes), st.sampled_from([0.0, 0.5, 1.0, 2.0, 7.0]))
    )
    stops = data.draw(st.lists(st.sampled_from(nodes), min_size=1, max_size=3))
    planner = QueuePlanner(graph)
    for _ in range(2):  # the second time with what the planner kept from the first
        assert _outcome(planner.route, source, stops, costs) == _outcome(
            shortest_path, graph, source, stops, "expected_h", costs
        )
        assert _outcome(planner.leg, source, target, costs) == _outcome(
            shortest_path, graph, source, [target], "expected_h", costs
        )


def test_same_route_on_many_random_graphs_with_ties() -> None:
    """Seeded random graphs with whole-hour edges and queues: many equal-cost routes,
    where only the search's order of pushes decides."""
    rng = random.Random(24)
    for _ in range(3000):
        nodes = [f"n{i}" for i in range(rng.randint(2, 10))]
        graph = nx.DiGraph()
        graph.add_nodes_from(nodes)
        for _ in range(rng.randint(0, 35)):
            u, v = rng.choice(nodes), rng.choice(nodes)
            if u != v:
                graph.add_edge(u, v, expected_h=float(rng.randint(0, 3)))
        costs = {
            n: float(rng.randint(0, 2))
            for n in rng.sample(nodes, rng.randint(0, min(3, len(nodes))))
        }
        source = rng.choice(nodes)
        stops = [rng.choice(nodes) for _ in range(rng.randint(1, 2))]
        planner = QueuePlanner(graph)
        assert _outcome(planner.route, source, stops, costs) == _outcome(
            shortest_path, graph, source, stops, "expected_h", costs
        )


def test_same_route_on_the_shipped_corridor_under_random_queues() -> None:
    cfg = load_config("baseline")
    graph = build_graph(cfg.corridor)
    planner = QueuePlanner(graph)
    nodes = sorted(graph.nodes)
    queued = [n for n in nodes if cfg.corridor.nodes[n].processing is not None]
    rng = random.Random(19)
    stops_of = [list(service.stops) for service in cfg.services.values()]
    for trial in range(1500):
        busy = rng.sample(queued, rng.randint(0, len(queued)))
        scale = rng.choice([0.5, 3.0, 20.0, 200.0])
        # whole hours sometimes, so that queues can tie routes exactly
        waits = {
            n: float(rng.randint(1, 6)) if trial % 3 == 0 else rng.expovariate(1 / scale)
            for n in busy
        }
        start = rng.choice(nodes)
        stops = rng.choice(stops_of)
        assert planner.route(start, stops, waits) == shortest_path(
            graph, start, stops, "expected_h", waits
        ), (start, stops, waits)


def test_routes_it_keeps_are_the_full_searchs_routes() -> None:
    """Queue states drawn from a few values, so that legs come back with equal costs
    where a search read them (and different costs elsewhere): the kept routes must be
    the full search's, and most questions must be answered from them."""
    cfg = load_config("baseline")
    graph = build_graph(cfg.corridor)
    planner = QueuePlanner(graph)
    queued = sorted(n for n in graph if cfg.corridor.nodes[n].processing is not None)
    starts = ["Urumqi", "Jinghe", "Aktogay", "Samara", "Minsk"]
    rng = random.Random(7)
    questions = 3000
    for _ in range(questions):
        busy = rng.sample(queued, rng.randint(0, 6))
        waits = {n: rng.choice([0.0, 2.0, 9.0, 40.0]) for n in busy}
        start = rng.choice(starts)
        stops = rng.choice([["Duisburg"], ["Łódź", "Hamburg"], ["Moscow"]])
        assert planner.route(start, stops, waits) == shortest_path(
            graph, start, stops, "expected_h", waits
        ), (start, stops, waits)
    # every search keeps its route (read, not patched: the compiled build's planner is
    # a native class whose methods cannot be replaced)
    searches = sum(len(routes) for kept in planner._known.values() for routes in kept.values())
    assert 0 < searches < questions / 2
