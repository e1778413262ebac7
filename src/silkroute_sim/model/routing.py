"""Closures and rerouting (corridor-facts §8: gales in the Alashankou pass, border
restrictions): before leaving a node a train looks along its path to the next node where
trains can be held (a node with processing tracks, a terminal or the hub). If a closed
node or edge lies on that stretch the train waits where it is (at the hub: on its loading
track, not dispatched) and is counted as *stranded*. Trains with route policy
``adaptive`` or ``shortest`` re-plan around closed elements at their origin and at
branching nodes, never turning back the way they came; a ``fixed`` route only waits.
Background trains obey the same closures on their fixed routes (or, with ``replan``,
take another of their stream's routes at entry and re-plan at branching nodes).

With finite holding (:mod:`silkroute_sim.model.holding`) a train also needs room at the
next node before it leaves (it waits, keeping its room where it is: spill-back), and a
service's ``when_blocked`` policy says what its formed trains do at the hub: ``proceed``
(leave, and wait before the closure), ``hold`` (wait on the loading track while every
route it may take is closed somewhere ahead) or ``reroute`` (hold, and plan around closed
and full nodes at the hub and at every branching node, whatever the route policy).
Trains held at each node (the hub: formed trains waiting to leave) are counted in the
monitors ``held:<node>``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator, Mapping, Set
from typing import Any, Protocol, cast

import networkx as nx
import simpy

from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.model.entities import Train
from silkroute_sim.model.holding import SWAPPED, Rooms
from silkroute_sim.model.network import shortest_path
from silkroute_sim.model.records import DisruptionLog, RunRecords

Proc = Generator[simpy.Event, Any, None]
WeightFn = Callable[[str, str, dict[str, float]], float]


class CorridorView(Protocol):
    """What the guard reads of the corridor: its graph, nodes and edges, how each service
    is routed, where trains may re-plan, and how a departing train's route is planned."""

    @property
    def graph(self) -> nx.DiGraph: ...

    @property
    def nodes(self) -> Mapping[str, Any]: ...

    @property
    def edges(self) -> Mapping[tuple[str, str], Any]: ...

    @property
    def route_policy(self) -> Mapping[str, str]: ...

    @property
    def branching(self) -> Set[str]: ...

    def _adaptive_weight(self, u: str, v: str, data: dict[str, float]) -> float: ...

    def initial_path(self, train: Train) -> list[str]: ...

    def plan_plain(self, train: Train, start: str, stops: list[str]) -> list[str]: ...


class RouteGuard:
    """Closed nodes and edges, and what trains do about them (wait or re-plan)."""

    def __init__(
        self,
        env: simpy.Environment,
        corridor: CorridorView,
        records: RunRecords,
        cfg: ScenarioConfig,
    ) -> None:
        self.env = env
        self.corridor = corridor
        self.graph: nx.DiGraph = corridor.graph
        self.closed_nodes: dict[str, list[str]] = {}
        self.closed_edges: dict[tuple[str, str], list[str]] = {}
        self.changed = env.event()
        #: whether a disruption acts on an edge (its speed may change): plans then weigh
        #: each edge's running time now
        self.edges_disrupted = False
        self.stranded = records.monitor("stranded_trains", "trains")
        self.stranded_background = records.monitor("stranded_background_trains", "trains")
        self.log = DisruptionLog()
        self.records = records
        self.holding = {
            name
            for name, state in corridor.nodes.items()
            if state.tracks is not None or state.kind in ("hub", "terminal")
        }
        self.rooms = Rooms(env, cfg)
        #: trains held at each node (at the hub: formed trains waiting to leave)
        self.held_at = {name: records.monitor(f"held:{name}", "trains") for name in self.graph}
        self.when_blocked = {name: s.when_blocked for name, s in cfg.services.items()}
        self.background_replan = {
            name for name, stream in cfg.corridor.background.items() if stream.replan
        }
        self.background_routes = {
            name: [route for route, _ in stream.routes_and_shares()]
            for name, stream in cfg.corridor.background.items()
        }

    # -------------------------------------------------------------- state

    def set_closed_node(self, name: str, event_ids: list[str]) -> None:
        self._set(self.closed_nodes, name, event_ids)

    def set_closed_edge(self, pair: tuple[str, str], event_ids: list[str]) -> None:
        self._set(self.closed_edges, pair, event_ids)

    def _set(self, table: dict[Any, list[str]], key: Any, event_ids: list[str]) -> None:
        before = table.get(key, [])
        if event_ids:
            table[key] = list(event_ids)
        else:
            table.pop(key, None)
        if bool(before) != bool(event_ids):
            changed, self.changed = self.changed, self.env.event()
            changed.succeed()

    def any_closed(self) -> bool:
        return bool(self.closed_nodes or self.closed_edges)

    # -------------------------------------------------------------- planning

    def _weight(
        self, adaptive: bool, avoid: tuple[str, str] | None, avoid_full: bool = False
    ) -> Callable[[str, str, dict[str, float]], float | None]:
        corridor = self.corridor
        closed_nodes, closed_edges, edges = self.closed_nodes, self.closed_edges, corridor.edges
        full = self.rooms.full

        def weight(u: str, v: str, data: dict[str, float]) -> float | None:
            if v in closed_nodes or (u, v) in closed_edges or (u, v) == avoid:
                return None
            if avoid_full and full(v):
                return None
            base = corridor._adaptive_weight(u, v, data) if adaptive else data["expected_h"]
            return base + (edges[(u, v)].run_h - data["run_h"])  # a slowed edge costs more

        return weight

    def plan(self, train: Train, start: str, stops: list[str]) -> list[str]:
        """The route from ``start`` avoiding closed elements; the usual route when there is
        no open one (the train then waits before the closure)."""
        if not (self.closed_nodes or self.closed_edges or self.edges_disrupted) and (
            not self._avoids_full(train)
        ):  # nothing to avoid and no edge slowed: the plain plan (the same sums, faster)
            return self.corridor.plan_plain(train, start, stops)
        path = self._plan_open(train, start, stops, None)
        if path is not None and not self.any_closed():
            return path
        corridor = self.corridor
        adaptive = corridor.route_policy.get(train.service) == "adaptive"
        weight = corridor._adaptive_weight if adaptive else "expected_h"
        usual = shortest_path(self.graph, start, stops, weight)
        if path is None:
            return usual
        if path != usual:  # rerouted around a closure
            for event_id in self._closures_on(usual):
                self.log.hits.add((train.train_id, event_id))
        return path

    def _plan_open(
        self,
        train: Train,
        start: str,
        stops: list[str],
        came_from: str | None,
        avoid_full: bool = False,
    ) -> list[str] | None:
        adaptive = self.corridor.route_policy.get(train.service) == "adaptive"
        avoid = (start, came_from) if came_from is not None else None
        try:
            # None hides an edge
            weight = cast(WeightFn, self._weight(adaptive, avoid, avoid_full))
            return shortest_path(self.graph, start, stops, weight)
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return None

    def _replan(
        self, train: Train, start: str, stops: list[str], came_from: str | None
    ) -> list[str] | None:
        """An open route from ``start`` (None: none): for trains that avoid full nodes, one
        around them where there is one, so that closures and room agree on the route."""
        if self._avoids_full(train):
            new = self._plan_open(train, start, stops, came_from, avoid_full=True)
            if new is not None:
                return new
        return self._plan_open(train, start, stops, came_from)

    def _may_replan(self, train: Train, node: str) -> bool:
        if train.background:
            return train.service in self.background_replan and node in self.corridor.branching
        if self.when_blocked.get(train.service) != "reroute" and self.corridor.route_policy.get(
            train.service
        ) not in ("adaptive", "shortest"):
            return False
        return node == train.origin or node in self.corridor.branching

    def _avoids_full(self, train: Train) -> bool:
        """Whether ``train`` plans around full nodes (policy ``reroute``, or a background
        stream that re-plans)."""
        if train.background:
            return train.service in self.background_replan
        return self.when_blocked.get(train.service) == "reroute"

    def _blocked(self, path: list[str], i: int, origin: bool) -> list[str] | None:
        """Ids of the closures on the stretch from ``path[i]`` to the next holding node."""
        if origin and path[i] in self.closed_nodes:
            return self.closed_nodes[path[i]]
        for j in range(i + 1, len(path)):
            ids = self.closed_edges.get((path[j - 1], path[j])) or self.closed_nodes.get(path[j])
            if ids:
                return ids
            if path[j] in self.holding:
                return None
        return None

    def _closures_on(self, path: list[str]) -> list[str]:
        ids = [i for name in path[1:] for i in self.closed_nodes.get(name, [])]
        for pair in itertools.pairwise(path):
            ids += self.closed_edges.get(pair, [])
        return ids

    # -------------------------------------------------------------- waiting

    def clear_ahead(
        self,
        train: Train,
        path: list[str],
        i: int,
        stops: list[str],
        *,
        origin: bool = False,
    ) -> Generator[simpy.Event, Any, tuple[list[str], int]]:
        """Before leaving ``path[i]``: re-plan around closures where allowed, and wait
        while the stretch ahead is closed. Returns the (possibly new) path and index."""
        if not self.closed_nodes and not self.closed_edges:
            return path, i
        monitor = self.stranded_background if train.background else self.stranded
        waiting = False
        held: int | None = None
        while True:
            node = path[i]
            if self.any_closed() and self._may_replan(train, node):
                came_from = path[i - 1] if i > 0 else None
                new = self._replan(train, node, stops, came_from)
                if new is not None and new != path[i:]:
                    for event_id in self._closures_on(path[i:]):
                        self.log.hits.add((train.train_id, event_id))
                    path, i = new, 0
            blocking = self._blocked(path, i, origin)
            if blocking is None:
                break
            for event_id in blocking:
                self.log.hits.add((train.train_id, event_id))
            if not waiting:
                waiting = True
                monitor.add(self.env.now, 1)
                self.held_at[node].add(self.env.now, 1)
                # held at path[i] (a re-plan keeps path[i]); at the hub, before departure,
                # the wait is hub dwell, on the loading track, not a corridor hold
                held = None if origin else self._hold_begins(train, node)
            yield self.changed
        if waiting:
            monitor.add(self.env.now, -1)
            self.held_at[path[i]].add(self.env.now, -1)
            if held is not None:
                self._hold_ends(train, held)
        return path, i

    def advance(
        self,
        train: Train,
        path: list[str],
        i: int,
        stops: list[str],
        *,
        origin: bool = False,
    ) -> Generator[simpy.Event, Any, tuple[list[str], int]]:
        """Before leaving ``path[i]`` for ``path[i + 1]``: closures ahead (wait or re-plan,
        :meth:`clear_ahead`), then room at the next node: where allowed, a route around
        full nodes; else wait, keeping the room here (spill-back). Returns the (possibly
        new) path and index; the train then holds room at ``path[i + 1]``."""
        rooms = self.rooms
        if not rooms:
            return (yield from self.clear_ahead(train, path, i, stops, origin=origin))
        if self._avoids_full(train) and self._may_replan(train, path[i]):
            path, i = self._around_full(train, path, i, stops, ahead=True)
        key: int | None = None
        waiting_at: str | None = None
        while True:
            path, i = yield from self.clear_ahead(train, path, i, stops, origin=origin)
            here, there = path[i], path[i + 1]
            if rooms.try_enter(train, there):
                break
            if self._avoids_full(train) and self._may_replan(train, here):
                new, j = self._around_full(train, path, i, stops, ahead=False)
                if new is not path:
                    path, i = new, j
                    continue
            if waiting_at is None:
                waiting_at = here
                self.held_at[here].add(self.env.now, 1)
                key = None if origin else self._hold_begins(train, here)
            previous = rooms.held_by.get(train)
            grant = rooms.wait_for(train, here, there)
            if not grant.triggered:
                yield self.env.any_of([grant, self.changed])
            if grant.triggered and (grant.value == SWAPPED or not self._blocked(path, i, origin)):
                rooms.took(train, grant.value, previous)
                break
            if grant.triggered:  # a closure came first: pass the room on, wait it out
                rooms.give_back(train, there, previous)
            else:  # closures changed: look again
                rooms.withdraw(grant, there)
            self._room_hold_ends(train, waiting_at, key)  # a closure hold may follow
            waiting_at = key = None
        self._room_hold_ends(train, waiting_at, key)
        return path, i

    def _room_hold_ends(self, train: Train, node: str | None, key: int | None) -> None:
        """A wait for room at the next node ends (at ``node``; none: no wait)."""
        if node is not None:
            self.held_at[node].add(self.env.now, -1)
            if key is not None:
                self._hold_ends(train, key)

    def _around_full(
        self, train: Train, path: list[str], i: int, stops: list[str], *, ahead: bool
    ) -> tuple[list[str], int]:
        """A route from ``path[i]`` around full nodes (``ahead``: only when a node on the
        path ahead is full), or ``path`` itself when there is none or nothing to avoid."""
        full = self.rooms.full
        if ahead and not any(full(name) for name in path[i + 1 :]):
            return path, i
        came_from = path[i - 1] if i > 0 else None
        new = self._plan_open(train, path[i], stops, came_from, avoid_full=True)
        if new is None or new == path[i:]:
            return path, i
        return new, 0

    def finish(self, train: Train) -> None:
        """``train`` leaves the model at the end of its route: its room is free."""
        self.rooms.leave(train)

    def _hold_begins(self, train: Train, node: str) -> int:
        """``train`` starts waiting at ``node`` for a closure: an open visit (censored
        if the run ends first)."""
        return self.records.open_visit(train, node, "held", self.env.now)

    def _hold_ends(self, train: Train, key: int) -> None:
        """The hold ends: a node event of kind ``held`` (its wait from arrival to start,
        no processing), and the hours are the train's corridor wait, not rail running."""
        _, node, _, arrived, *_ = self.records.open_visits.pop(key)
        assert isinstance(node, str) and isinstance(arrived, float)
        now = self.env.now
        train.wait_h += now - arrived
        self.records.node_events.add(
            train.train_id, node, "held", arrived, now, now, train.background, train.box_count
        )

    def hold_departure(self, train: Train) -> Proc:
        """At the hub, before departure: wait on the loading track while blocked (by the
        service's ``when_blocked`` policy), then for room at the first node."""
        path = self.corridor.initial_path(train)
        stops = list(train.stops)
        if self.when_blocked.get(train.service, "proceed") != "proceed":
            yield from self._hold_at_hub(train, path, stops)
        yield from self.advance(train, path, 0, stops, origin=True)

    def _hold_at_hub(self, train: Train, path: list[str], stops: list[str]) -> Proc:
        """Policy ``hold`` (and ``reroute``): wait while every route the train may take
        (its own when it may not re-plan) is closed somewhere ahead."""
        hub = path[0]
        waiting = False
        while self.any_closed():
            if self._may_replan(train, hub):
                if self._plan_open(train, hub, stops, None) is not None:
                    break
            elif not self._closures_on(path):
                break
            for event_id in self._closures_on(path):
                self.log.hits.add((train.train_id, event_id))
            if not waiting:
                waiting = True
                self.stranded.add(self.env.now, 1)
                self.held_at[hub].add(self.env.now, 1)
            yield self.changed
        if waiting:
            self.stranded.add(self.env.now, -1)
            self.held_at[hub].add(self.env.now, -1)

    def enter_background(
        self, train: Train, route: list[str]
    ) -> Generator[simpy.Event, Any, list[str]]:
        """A background train entering the model at ``route[0]``: with ``replan``, the
        first other route of its stream that is open and has room when its own is closed
        ahead or its entry full; then it waits (outside the model, as stranded) while its
        entry node is closed or full (a closure: a ``held`` node event there, as before;
        no room: none). Returns the route it takes."""
        rooms = self.rooms
        if train.service in self.background_replan and (
            self._entry_blocked(route) or rooms.full(route[0])
        ):
            for alt in self.background_routes[train.service]:
                if not self._entry_blocked(alt) and not rooms.full(alt[0]):
                    route = alt
                    break
        yield from self.hold_entry(train, route[0])
        if rooms and not rooms.try_enter(train, route[0]):
            # outside the model, before the node: stranded, but no node event there (its
            # first event at the node stays its arrival for processing)
            since = self.env.now
            self.stranded_background.add(since, 1)
            grant = rooms.wait_for(train, None, route[0])
            yield grant
            rooms.took(train, grant.value, None)
            self.stranded_background.add(self.env.now, -1)
            train.wait_h += self.env.now - since
        return route

    def _entry_blocked(self, route: list[str]) -> bool:
        return route[0] in self.closed_nodes or bool(self._closures_on(route))

    def hold_entry(self, train: Train, node: str) -> Proc:
        """A background train entering the model at ``node`` waits while it is closed."""
        if node not in self.closed_nodes:
            return
        self.stranded_background.add(self.env.now, 1)
        held = self._hold_begins(train, node)
        while node in self.closed_nodes:
            for event_id in self.closed_nodes[node]:
                self.log.hits.add((train.train_id, event_id))
            yield self.changed
        self.stranded_background.add(self.env.now, -1)
        self._hold_ends(train, held)
