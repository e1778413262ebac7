"""Trains on the corridor: running over edges, processing at nodes, gauge changes,
background trains from other origins, and routing.

* Running an edge takes ``km / speed``; an edge with a line capacity admits trains at a
  minimum headway of ``24 / capacity`` hours.
* A node with processing has ``tracks`` parallel processing tracks; an optional daily
  capacity spaces the starts of processing by ``24 / trains_per_day`` hours. A train
  holds a track for its border formalities (``customs``) and, where the gauge of the
  node differs from the node it came from, for the transshipment: ``setup`` plus one
  lift per box shared among the node's cranes.
* Background trains enter at the first node of their route and use the same tracks
  and headways as Urumqi's trains; they are flagged ``background`` in the records.
* Routing: ``fixed`` node list, ``shortest`` (least expected time, computed once) or
  ``adaptive`` (least expected time including the current queues, recomputed at
  dispatch and at every branching node).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

import networkx as nx
import simpy

from silkroute_sim.config.distributions import Exponential, Gamma
from silkroute_sim.config.schema import BackgroundStreamConfig, ScenarioConfig
from silkroute_sim.engine.monitors import LevelMonitor
from silkroute_sim.engine.pools import FastPool, UnitPool, make_pool
from silkroute_sim.engine.resources import Call, Engine
from silkroute_sim.engine.rng import Sampler, Streams
from silkroute_sim.engine.tasks import TaskGen, run_now
from silkroute_sim.model.disrupted import DisruptedResources
from silkroute_sim.model.entities import Train
from silkroute_sim.model.ferry import ferry_lines
from silkroute_sim.model.hub import Hub, WorkFn
from silkroute_sim.model.network import QueuePlanner, expected_processing_h, shortest_path
from silkroute_sim.model.records import RunRecords

if TYPE_CHECKING:
    from silkroute_sim.model.routing import RouteGuard

Proc = Generator[simpy.Event, Any, None]


#: the populations of trains that draw node times from streams of their own
POPULATIONS = ("corridor", "background", "eastbound")


def population(train: Train) -> str:
    """Which population's random streams ``train`` draws its node times from."""
    if train.background:
        return "background"
    return "eastbound" if train.direction == "east" else "corridor"


class _Stage:
    """Samplers for one population of trains (Urumqi or background) at one node."""

    __slots__ = ("customs", "lift", "setup")

    def __init__(self, customs: Sampler, lift: Sampler | None, setup: Sampler | None) -> None:
        self.customs = customs
        self.lift = lift
        self.setup = setup


class NodeState:
    """Live state of one node: tracks, headway, queue, samplers."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        cfg: ScenarioConfig,
        streams: Streams,
        records: RunRecords,
        touched: DisruptedResources,
    ) -> None:
        node = cfg.corridor.nodes[name]
        self.name = name
        self.kind = node.kind
        self.gauge_mm = node.gauge_mm
        proc = node.processing
        self.has_processing = proc is not None
        # a lean pool, or an adjustable one where disruptions touch the node
        self.tracks: FastPool | UnitPool | None = None
        self.headway_h = 0.0
        self.next_slot_h = 0.0  # the earliest start of processing (daily capacity)
        self.waiting = 0
        self.queue: LevelMonitor | None = None
        self.cranes = 1
        self.mean_service_h = 0.0
        self.has_customs = False
        #: samplers by population: Urumqi's westbound trains, background trains, and
        #: Urumqi's eastbound trains (a stream each, so adding one population never moves
        #: another's draws)
        self.stages: dict[str, _Stage] = {}
        # disruption hooks (silkroute_sim.model.disruptions): a processing-time factor, and
        # track work that breakdowns can interrupt
        self.time_factor = 1.0
        self.work: WorkFn | None = None
        if proc is not None:
            pool = make_pool(
                env,
                proc.tracks,
                adjustable=name in touched.nodes,
                resume=touched.resume.get(name, True),
            )
            self.tracks = pool
            if name in touched.broken_nodes and isinstance(pool, UnitPool):
                self.work = pool.work
            self.track_count = proc.tracks
            self.headway_h = 24.0 / proc.trains_per_day if proc.trains_per_day else 0.0
            self.queue = records.monitor(f"queue:{name}", "trains")
            self.has_customs = proc.customs.mean > 0
            self.mean_service_h = expected_processing_h(node, proc.gauge_change is not None)
            gc = proc.gauge_change
            if gc is not None:
                self.cranes = gc.cranes
            for prefix in POPULATIONS:
                self.stages[prefix] = _Stage(
                    streams.sampler(f"{prefix}.{name}.customs", proc.customs),
                    None if gc is None else streams.sampler(f"{prefix}.{name}.lift", gc.lift_time),
                    None
                    if gc is None
                    else streams.sampler(f"{prefix}.{name}.setup", gc.setup_time),
                )

    def expected_wait_h(self) -> float:
        """Rough wait a train arriving now would see (for adaptive routing)."""
        if self.tracks is None:
            return 0.0
        per_train = max(self.mean_service_h / self.track_count, self.headway_h)
        return self.waiting * per_train


class EdgeState:
    __slots__ = ("headway_h", "km", "next_slot_h", "run_h")

    def __init__(self, km: float, run_h: float, line_capacity: float | None) -> None:
        self.km = km
        self.run_h = run_h
        self.headway_h = 24.0 / line_capacity if line_capacity else 0.0
        self.next_slot_h = 0.0  # the earliest entry (line headway)


class Corridor:
    """All corridor processes of one run."""

    def __init__(
        self,
        env: Engine,
        cfg: ScenarioConfig,
        graph: nx.DiGraph,
        streams: Streams,
        records: RunRecords,
        hub: Hub,
    ) -> None:
        self.env = env
        self.clock = env.clock
        self.cfg = cfg
        self.graph = graph
        self.records = records
        self.hub = hub
        self.streams = streams
        touched = DisruptedResources.of(cfg)
        records.window_h = (cfg.simulation.warmup_days * 24.0, cfg.simulation.days * 24.0)
        self.nodes = {
            name: NodeState(env, name, cfg, streams, records, touched) for name in graph.nodes
        }
        self.edges = {
            (u, v): EdgeState(d["km"], d["run_h"], d["line_capacity"])
            for u, v, d in graph.edges(data=True)
        }
        self.branching = {n for n in graph.nodes if graph.out_degree(n) >= 3}
        self.planner = QueuePlanner(graph)
        self._static_routes: dict[str, list[str]] = {}
        for name, service in cfg.services.items():
            if service.route.policy == "fixed" and service.route.nodes:
                self._static_routes[name] = list(service.route.nodes)
            else:
                self._static_routes[name] = shortest_path(graph, hub.node, service.stops)
        self.route_policy = {name: s.route.policy for name, s in cfg.services.items()}
        self.guard: RouteGuard | None = None  # closures and rerouting, when disruptions exist
        # the ferry line of each direction of each sea leg (none without mode: ferry edges)
        self.ferries = ferry_lines(env, cfg, streams, records, self.edges)
        for (u, v), line in self.ferries.items():
            line.closed = self._closed_check(u, v)

    def _closed_check(self, u: str, v: str) -> Callable[[], bool]:
        """Whether the sea leg ``u`` → ``v`` or one of its ports is closed now."""

        def closed() -> bool:
            guard = self.guard
            if guard is None:
                return False
            return (
                (u, v) in guard.closed_edges or u in guard.closed_nodes or v in guard.closed_nodes
            )

        return closed

    # -------------------------------------------------------------- routing

    def _adaptive_weight(self, u: str, v: str, data: dict[str, float]) -> float:
        return data["expected_h"] + self.nodes[v].expected_wait_h()

    def plan(self, train: Train, start: str, stops: list[str]) -> list[str]:
        """The node list from ``start`` through the remaining ``stops``."""
        if self.guard is not None:
            return self.guard.plan(train, start, stops)
        return self.plan_plain(train, start, stops)

    def plan_plain(self, train: Train, start: str, stops: list[str]) -> list[str]:
        """The least-expected-time node list (with today's queues for adaptive routes), with
        nothing closed, no edge slowed and no node to avoid."""
        if self.route_policy.get(train.service) == "adaptive":
            # _adaptive_weight, as a cost per node entered (only queues cost anything)
            waits = {name: n.expected_wait_h() for name, n in self.nodes.items() if n.waiting}
            return self.planner.route(start, stops, waits)
        return self.planner.route(start, stops, {})

    # -------------------------------------------------------------- movement
    #
    # A train's way is a task (:mod:`silkroute_sim.engine.tasks`): it yields the hours it
    # waits or runs, and the events it waits for (a track, the end of a closure).

    def _slot_wait(self, spaced: EdgeState | NodeState) -> float:
        """Hours to wait for the next slot of an edge (its line headway: entries) or a
        node (its daily capacity: starts of processing); books the slot."""
        if spaced.headway_h <= 0:
            return 0.0
        now = self.clock.now
        start = max(now, spaced.next_slot_h)
        spaced.next_slot_h = start + spaced.headway_h
        return start - now

    def _queue_in(self, node: NodeState, train: Train, prev: str | None) -> tuple[float, int]:
        """A train joins ``node``'s queue for a track; returns the arrival time and the
        key of its open visit (written as censored if the run ends before it leaves)."""
        assert node.queue is not None
        arrived = self.clock.now
        node.waiting += 1
        node.queue.add(arrived, 1)
        gauge_change = prev is not None and self.nodes[prev].gauge_mm != node.gauge_mm
        kind = "customs" if node.has_customs else "gauge_change" if gauge_change else node.kind
        key = self.records.open_visit(train, node.name, kind, arrived)
        return arrived, key

    def _begin(self, node: NodeState, train: Train, prev: str | None) -> tuple[float, float, bool]:
        """Processing starts: the train leaves the queue. Returns the hours of formalities
        and of gauge change, and whether the gauge changes here."""
        assert node.queue is not None
        node.waiting -= 1
        node.queue.add(self.clock.now, -1)
        stage = node.stages[population(train)]
        customs_h = stage.customs() * node.time_factor
        gauge_h = 0.0
        gauge_change = prev is not None and self.nodes[prev].gauge_mm != node.gauge_mm
        if gauge_change and stage.lift is not None and stage.setup is not None:
            gauge_h = stage.setup() + stage.lift.many(train.box_count) / node.cranes
            gauge_h *= node.time_factor
        return customs_h, gauge_h, gauge_change

    def _record(
        self,
        train: Train,
        node: NodeState,
        arrived: float,
        start: float,
        customs_h: float,
        gauge_h: float,
        gauge_change: bool,
    ) -> None:
        """The train left ``node``: its wait and its node events."""
        train.wait_h += start - arrived
        events = self.records.node_events
        first_written = node.has_customs or not gauge_change
        if first_written:
            kind = "customs" if node.has_customs else node.kind
            events.add(
                train.train_id,
                node.name,
                kind,
                arrived,
                start,
                start + customs_h,
                train.background,
                train.box_count,
            )
        if gauge_change:
            gc_start = start + customs_h
            events.add(
                train.train_id,
                node.name,
                "gauge_change",
                gc_start if first_written else arrived,
                gc_start,
                gc_start + gauge_h,
                train.background,
                train.box_count,
            )

    def traverse(self, train: Train, u: str, v: str) -> TaskGen:
        """Run along edge u → v (respecting its line headway); on a sea leg, wait for
        sailings and cross (:mod:`silkroute_sim.model.ferry`)."""
        edge = self.edges[(u, v)]
        wait = self._slot_wait(edge)
        if wait > 0:
            yield wait
        if self.ferries and (u, v) in self.ferries:
            yield from self.ferries[u, v].cross(train)
            return
        yield edge.run_h

    def visit(self, train: Train, prev: str | None, name: str) -> TaskGen:
        """Processing at node ``name`` (queue for a track, formalities, gauge change)."""
        node = self.nodes[name]
        if node.tracks is None or node.queue is None:
            return
        arrived, key = self._queue_in(node, train, prev)
        with node.tracks.request() as track:
            yield track
            wait = self._slot_wait(node)
            if wait > 0:
                yield wait
            start = self.clock.now
            self.records.open_visits[key][4] = start
            customs_h, gauge_h, gauge_change = self._begin(node, train, prev)
            if node.work is None:
                yield customs_h + gauge_h
            else:  # a track breakdown stops the work: the lost hours extend the last stage
                lost_h = yield from node.work(track, customs_h + gauge_h)
                if gauge_change:
                    gauge_h += lost_h
                else:
                    customs_h += lost_h
        del self.records.open_visits[key]
        self._record(train, node, arrived, start, customs_h, gauge_h, gauge_change)

    def depart(self, train: Train) -> None:
        """A service train leaves the hub: its way to its stops goes on by itself."""
        run_now(self.env, self.run(train))

    def run(self, train: Train) -> TaskGen:
        """A service train from the hub through its stops."""
        remaining = list(train.stops)
        adaptive = self.route_policy.get(train.service) == "adaptive"
        path = self.initial_path(train)
        guard = self.guard
        i = 0
        while remaining:
            if guard is not None:  # closures ahead (wait or re-plan), room at the next node
                path, i = yield from guard.advance(train, path, i, remaining)
            u, v = path[i], path[i + 1]
            yield from self.traverse(train, u, v)
            yield from self.visit(train, u, v)
            train.route.append(v)
            i += 1
            if v == remaining[0]:
                remaining.pop(0)
                self.deliver(train, v)
                if not remaining:
                    break
            if adaptive and v in self.branching:
                path = self.plan(train, v, remaining)
                i = 0
        if guard is not None:
            guard.finish(train)  # its room at the last stop is free
        train.arrived_h = self.clock.now

    def deliver(self, train: Train, stop: str) -> float:
        """A service train at one of its stops: its boxes for ``stop`` leave the rail,
        and the stop is logged as a terminal event. Returns the time. An eastbound train
        at the hub goes to the hub's inbound handling (track, unloading, yard)."""
        if train.direction == "east":
            assert self.hub.inbound is not None
            self.hub.inbound.arrive(train)
            return self.clock.now
        self.hub.deliver(train, stop)
        now = self.clock.now
        self.records.node_events.add(
            train.train_id, stop, "terminal", now, now, now, False, train.box_count
        )
        return now

    def initial_path(self, train: Train) -> list[str]:
        """The route a service train takes from its origin, the hub or an eastbound
        stream's origin (before any re-planning)."""
        if self.route_policy.get(train.service) == "adaptive":
            return self.plan(train, train.origin, list(train.stops))
        route = self._static_routes.get(train.service)
        if route is None:  # an eastbound stream: its shortest route, computed once
            route = shortest_path(self.graph, train.origin, list(train.stops))
            self._static_routes[train.service] = route
        return route

    # -------------------------------------------------------------- background

    def start_background(self, name: str, stream: BackgroundStreamConfig) -> None:
        """Start the stream of background trains ``name`` (as a process would start)."""
        mean_gap = 24.0 / stream.trains_per_day
        if stream.interarrival_cv == 0:
            gap: Sampler | float = mean_gap
        elif abs(stream.interarrival_cv - 1.0) < 1e-12:
            gap = self.streams.sampler(
                f"background.{name}.arrivals",
                Exponential[float].model_validate({"dist": "exponential", "mean": mean_gap}),
            )
        else:
            gap = self.streams.sampler(
                f"background.{name}.arrivals",
                Gamma[float].model_validate(
                    {"dist": "gamma", "mean": mean_gap, "cv": stream.interarrival_cv}
                ),
            )
        segments = stream.rate_segments() if stream.profile else None
        routes = None
        if stream.alternatives:  # which route each train takes: a stream of its own
            shares = stream.routes_and_shares()
            chooser = self.streams.chooser(f"background.{name}.route", [s for _, s in shares])
            routes = ([route for route, _ in shares], chooser)
        self.clock.start(_BackgroundSource, (self, name, stream, gap, segments, routes))

    def run_background(self, train: Train, route: list[str]) -> TaskGen:
        """A background train from the first node of its route to the last (with
        ``replan``, the route may change at entry and at branching nodes)."""
        guard = self.guard
        if guard is None:
            yield from self.visit(train, None, route[0])
            for u, v in itertools.pairwise(route):
                yield from self.traverse(train, u, v)
                yield from self.visit(train, u, v)
                train.route.append(v)
            train.arrived_h = self.clock.now
            self.records.background_trains.done(train)
            return
        route = yield from guard.enter_background(train, route)
        if train.origin != route[0]:  # another of its stream's routes, from another node
            train.origin = train.route[0] = route[0]
        yield from self.visit(train, None, route[0])
        exit_node = [route[-1]]
        i = 0
        while i < len(route) - 1:
            route, i = yield from guard.advance(train, route, i, exit_node)
            u, v = route[i], route[i + 1]
            yield from self.traverse(train, u, v)
            yield from self.visit(train, u, v)
            train.route.append(v)
            i += 1
        guard.finish(train)
        train.arrived_h = self.clock.now
        self.records.background_trains.done(train)


def profile_time(segments: list[tuple[float, float, float]], t: float, work: float) -> float:
    """When ``work`` hours of the stream's own clock have passed from ``t``: its clock runs
    at the period's multiplier of the base rate inside each ``(from_h, to_h, multiplier)``
    segment and at 1 outside them. Gaps drawn at the base rate and stretched this way make
    a Poisson stream a non-homogeneous Poisson process with a piecewise-constant rate
    (time rescaling: exact, one draw per train), and a renewal stream one whose rate
    follows the profile."""
    for start, stop, rate in segments:
        if stop <= t:
            continue
        if t < start:  # the base rate until the period begins
            if t + work <= start:
                return t + work
            work -= start - t
            t = start
        if rate > 0:
            if t + work / rate <= stop:
                return t + work / rate
            work -= (stop - t) * rate
        t = stop  # a paused stream's clock stands still
    return t + work


class _BackgroundSource:
    """One stream of background trains: each arrival schedules the next."""

    __slots__ = ("corridor", "count", "gap", "name", "routes", "segments", "stops", "stream")

    def __init__(self, call: Call) -> None:
        self.corridor, self.name, self.stream, self.gap, self.segments, self.routes = call.arg
        self.stops = [self.stream.route[-1]]
        self.count = 0
        self._next()

    def _next(self) -> None:
        gap = self.gap
        delay = gap if isinstance(gap, float) else gap()
        if self.segments is not None:  # the stream's clock runs at its profile's rate
            now = self.corridor.clock.now
            delay = profile_time(self.segments, now, delay) - now
        self.corridor.clock.at(delay, self._arrive)

    def _arrive(self, _call: Call) -> None:
        corridor, stream = self.corridor, self.stream
        clock = corridor.clock
        self.count += 1
        route, stops = stream.route, self.stops
        if self.routes is not None:  # one of the stream's routes, by its share
            route = self.routes[0][self.routes[1]()]
            stops = [route[-1]]
        train = Train(
            f"bg-{self.name}-{self.count:05d}",
            self.name,
            route[0],
            stops,  # one list for the stream: a train's stops are only read
            float(stream.boxes) * 2,
            background=True,
        )
        train.box_count = stream.boxes
        train.departed_h = clock.now
        corridor.records.background_trains.depart(train)
        self._next()
        # started at once: where a new process would start, as this arrival is an event
        # of normal priority and the last thing it does, nothing else could come between
        run_now(corridor.env, corridor.run_background(train, route))
