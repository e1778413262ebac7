"""The corridor graph: building it from the config and looking up routes.

Nodes carry kind, gauge, coordinates and processing; edges carry distance, speed
and running time. Route costs are expected hours: running time of the edge plus the
expected processing at the node it enters (gauge change counted only where the
gauge actually changes on that edge). On a sea leg (``mode: ferry``) the running time
is replaced by the ferry line's expected time: the mean wait for a sailing, loading,
crossing and unloading (:meth:`silkroute_sim.config.ferry.FerryConfig.expected_h`).
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Any, Final

import networkx as nx

from silkroute_sim.config.schema import CorridorConfig, NodeConfig

heappush: Final = heapq.heappush
heappop: Final = heapq.heappop
Costs = tuple[float, ...]


def build_graph(corridor: CorridorConfig) -> nx.DiGraph:
    """A directed graph with both directions of every ``both_ways`` edge."""
    graph = nx.DiGraph()
    for name, node in corridor.nodes.items():
        graph.add_node(name, kind=node.kind, gauge_mm=node.gauge_mm, lat=node.lat, lon=node.lon)
    ferry_h: dict[tuple[str, str], float] = {}
    for edge in corridor.edges:
        pairs = [(edge.source, edge.target)]
        if edge.both_ways:
            pairs.append((edge.target, edge.source))
        for source, target in pairs:
            graph.add_edge(
                source,
                target,
                km=edge.km,
                speed_kmh=edge.speed,
                run_h=edge.km / edge.speed,
                line_capacity=edge.line_capacity_trains_per_day,
            )
            if edge.ferry is not None:  # a sea leg: the wait for a sailing, port and sea
                ferry_h[source, target] = edge.ferry.expected_h(edge.km / edge.speed)
    for source, target, data in graph.edges(data=True):
        data["expected_h"] = ferry_h.get((source, target), data["run_h"]) + expected_processing_h(
            corridor.nodes[target], changes_gauge(corridor, source, target)
        )
    return graph


def changes_gauge(corridor: CorridorConfig, source: str, target: str) -> bool:
    return corridor.nodes[source].gauge_mm != corridor.nodes[target].gauge_mm


def expected_processing_h(node: NodeConfig, gauge_change: bool, boxes: int = 45) -> float:
    """Mean time a typical train spends being processed at ``node`` (no queueing)."""
    proc = node.processing
    if proc is None:
        return 0.0
    hours = proc.customs.mean
    if gauge_change and proc.gauge_change is not None:
        gc = proc.gauge_change
        hours += gc.setup_time.mean + boxes * gc.lift_time.mean / gc.cranes
    return hours


def dijkstra_path(
    graph: nx.DiGraph,
    source: str,
    target: str,
    weight: str | Callable[[str, str, dict[str, float]], float | None],
    node_cost: dict[str, float] | None = None,
) -> list[str]:
    """``networkx.dijkstra_path(graph, source, target, weight)`` — the same search with the
    same tie-breaking (first-pushed wins among equal distances, neighbours in insertion
    order) and the same exceptions, without networkx's dispatch layers, which cost more
    than the search itself on a corridor-sized graph (adaptive trains re-plan at every
    junction). A weight function may return ``None`` to hide an edge. With an attribute
    name for ``weight``, ``node_cost`` adds a cost for entering a node (absent: 0) — the
    same sums as the function ``data[weight] + node_cost[v]``, without a call per edge."""
    if source not in graph:
        raise nx.NodeNotFound(f"Node {source} not found in graph")
    if source == target:
        return [source]
    cost_of: Callable[[str, str, dict[str, float]], float | None] | None = None
    key = ""
    if isinstance(weight, str):
        key = weight
    else:
        cost_of = weight
    entry: dict[str, float] = node_cost or {}
    # networkx's own adjacency dicts: node -> neighbour -> edge data
    succ: dict[str, dict[str, dict[str, Any]]] = graph._adj
    dist: dict[str, float] = {}
    seen: dict[str, float] = {source: 0}
    pred: dict[str, str] = {}
    tie = 0  # networkx's tie-breaker: the order of pushes
    fringe: list[tuple[float, int, str]] = [(0, tie, source)]
    while fringe:
        dist_v, _, v = heappop(fringe)
        if v in dist:
            continue
        dist[v] = dist_v
        if v == target:
            break
        for u, data in succ[v].items():
            if cost_of is None:
                cost = data.get(key, 1) + entry.get(u, 0.0)
            else:
                cost = cost_of(v, u, data)
                if cost is None:
                    continue
            vu_dist = dist_v + cost
            if u in dist:
                continue
            if u not in seen or vu_dist < seen[u]:
                seen[u] = vu_dist
                tie += 1
                heappush(fringe, (vu_dist, tie, u))
                pred[u] = v
    if target not in dist:
        raise nx.NetworkXNoPath(f"No path to {target}.")
    path = [target]
    while path[-1] != source:
        path.append(pred[path[-1]])
    path.reverse()
    return path


def shortest_path(
    graph: nx.DiGraph,
    source: str,
    stops: list[str],
    weight: str | Callable[[str, str, dict[str, float]], float] = "expected_h",
    node_cost: dict[str, float] | None = None,
) -> list[str]:
    """Least-cost node list from ``source`` through ``stops`` in order (``node_cost``:
    see :func:`dijkstra_path`)."""
    path = [source]
    current = source
    for stop in stops:
        if stop == current:
            continue
        leg = dijkstra_path(graph, current, stop, weight, node_cost)
        path.extend(leg[1:])
        current = stop
    return path


class QueuePlanner:
    """Least-expected-time routes on one corridor graph with a cost for entering each
    node (its queue, for adaptive routing): the node lists :func:`shortest_path` gives
    with ``weight="expected_h"`` and these costs, tie-breaks included, found with less
    searching. Queues only add time, so a node's expected time to the stop with no
    queues anywhere (computed once per stop) is a lower bound of its time with them;
    and the route a train would take with no queues, timed with today's queues, is an
    upper bound of the best route's time. A node reached in more time than that bound
    minus its lower bound lies on no best route: the search leaves it out. It leaves
    out only such nodes, so the nodes on best routes are reached in the same order as
    by the full search, and each takes the same predecessor.

    A search reads the queue costs of a few nodes only (those next to the nodes it
    settles, and those on the usual route); with the same costs there, it takes the
    same steps to the same route. The planner keeps each leg's routes by those costs,
    and answers a leg asked again with equal costs where they were read without
    searching (trains at a junction see the same queues many times)."""

    def __init__(self, graph: nx.DiGraph) -> None:
        self.graph = graph
        #: node -> (neighbour, expected hours), in the graph's order of neighbours
        self._out: dict[str, tuple[tuple[str, float], ...]] = {
            v: tuple((u, data.get("expected_h", 1)) for u, data in graph._adj[v].items())
            for v in graph
        }
        self._to_stop: dict[str, dict[str, float]] = {}  # stop -> node -> hours, no queues
        self._usual: dict[tuple[str, str], list[tuple[str, float]] | None] = {}
        #: (source, target) -> nodes whose costs a search read -> their costs -> route
        self._known: dict[tuple[str, str], dict[tuple[str, ...], dict[Costs, list[str]]]] = {}

    def route(self, source: str, stops: list[str], node_cost: dict[str, float]) -> list[str]:
        """``shortest_path(graph, source, stops, "expected_h", node_cost)``; the costs
        must not be negative."""
        path = [source]
        current = source
        for stop in stops:
            if stop == current:
                continue
            path.extend(self.leg(current, stop, node_cost)[1:])
            current = stop
        return path

    def leg(self, source: str, target: str, node_cost: dict[str, float]) -> list[str]:
        """``dijkstra_path(graph, source, target, "expected_h", node_cost)``."""
        known = self._known.get((source, target))
        if known is not None:
            cost = node_cost.get
            for nodes, routes in known.items():
                route = routes.get(tuple([cost(node, 0.0) for node in nodes]))
                if route is not None:
                    return list(route)
        usual = self._usual_leg(source, target)
        if usual is None or source == target:  # the full search: its answer or error
            return dijkstra_path(self.graph, source, target, "expected_h", node_cost)
        hours = 0.0  # the usual route with today's queues, summed as the search sums
        for node, edge_h in usual:
            hours = hours + (edge_h + node_cost.get(node, 0.0))
        # a margin far above the rounding of sums taken in another order
        bound = hours * (1.0 + 1e-9) + 1e-9
        found = self._search(source, target, node_cost, self._lower_bounds(target), bound)
        if found is None:  # not reached within the bound (cannot happen): search it all
            return dijkstra_path(self.graph, source, target, "expected_h", node_cost)
        path, settled = found
        # the nodes whose costs the search read: on the usual route, and next to the
        # nodes it settled before the target (where it stopped)
        read = dict.fromkeys(node for node, _ in usual)
        out = self._out
        for v in settled:
            if v != target:
                for u, _ in out[v]:
                    read[u] = None
        nodes = tuple(read)
        costs = tuple([node_cost.get(node, 0.0) for node in nodes])
        self._known.setdefault((source, target), {}).setdefault(nodes, {})[costs] = path
        return list(path)

    def _usual_leg(self, source: str, target: str) -> list[tuple[str, float]] | None:
        """The leg with no queues, as (node entered, expected hours of the edge into it);
        None where there is none."""
        key = (source, target)
        if key not in self._usual:
            try:
                nodes = dijkstra_path(self.graph, source, target, "expected_h")
            except (nx.NetworkXNoPath, nx.NodeNotFound):
                self._usual[key] = None
            else:
                adj = self.graph._adj
                self._usual[key] = [
                    (b, adj[a][b].get("expected_h", 1)) for a, b in itertools.pairwise(nodes)
                ]
        return self._usual[key]

    def _lower_bounds(self, target: str) -> dict[str, float]:
        """Expected hours from each node to ``target`` with no queues (absent: none)."""
        bounds = self._to_stop.get(target)
        if bounds is None:
            into: dict[str, list[tuple[str, float]]] = {v: [] for v in self._out}
            for v, out in self._out.items():
                for u, edge_h in out:
                    into[u].append((v, edge_h))
            bounds = {}
            fringe: list[tuple[float, str]] = [(0.0, target)]
            while fringe:
                hours, v = heappop(fringe)
                if v in bounds:
                    continue
                bounds[v] = hours
                for u, edge_h in into[v]:
                    if u not in bounds:
                        heappush(fringe, (hours + edge_h, u))
            self._to_stop[target] = bounds
        return bounds

    def _search(
        self,
        source: str,
        target: str,
        node_cost: dict[str, float],
        to_target: dict[str, float],
        bound: float,
    ) -> tuple[list[str], dict[str, float]] | None:
        """:func:`dijkstra_path`'s search (the same sums, order and tie-breaks) over the
        nodes that may lie on a best route: the route and the nodes settled (with their
        hours); None if ``target`` is not reached."""
        out = self._out
        far = float("inf")
        dist: dict[str, float] = {}
        seen: dict[str, float] = {source: 0}
        pred: dict[str, str] = {}
        tie = 0
        fringe: list[tuple[float, int, str]] = [(0, tie, source)]
        while fringe:
            dist_v, _, v = heappop(fringe)
            if v in dist:
                continue
            dist[v] = dist_v
            if v == target:
                break
            for u, edge_h in out[v]:
                if u in dist:
                    continue
                vu_dist = dist_v + (edge_h + node_cost.get(u, 0.0))
                if vu_dist + to_target.get(u, far) > bound:
                    continue  # on no best route
                if u not in seen or vu_dist < seen[u]:
                    seen[u] = vu_dist
                    tie += 1
                    heappush(fringe, (vu_dist, tie, u))
                    pred[u] = v
        if target not in dist:
            return None
        path = [target]
        while path[-1] != source:
            path.append(pred[path[-1]])
        path.reverse()
        return path, dist


def route_km(graph: nx.DiGraph, path: list[str]) -> float:
    return float(sum(graph.edges[a, b]["km"] for a, b in itertools.pairwise(path)))
